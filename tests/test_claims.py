"""The seeds' quantitative claims, reproduced by the shipped configs (issue 4).

Every claim of ``docs/calibration.md`` is a test here: the plateau emerges
from the reactive spiral (seed 004), the standardization program breaks it,
tickets per endpoint and resolution hours (seed 004), Service Leadership's
stage mix and margins with one shared finance block (seed 002), the Acme
commission arithmetic (seed 000) and 8-15% realised churn (seed 003). Every
config input must stay inside its sourced range (``SOURCED_RANGES``, the same
table as docs/calibration.md), and no simulator code may mention the
plateau band: it has to come out of the mechanisms.

Statistics. Runs use ``N_PATHS = 4000`` paths and one fixed seed; scenarios
compared with the same seed share their per-path parameter draws and
month-level streams (common random numbers), so differences are judged by
the paired standard error ``sd(d) / sqrt(n)``. Each assertion's margin is
stated in standard errors (SE) measured on these runs (numbers in
docs/calibration.md). A claim with a one-sided bound is asserted with at
least 3 SE to spare (false-alarm probability 1e-3 per check for a config that
sits exactly on the bound), usually far more.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.config.schema import param_specs

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
N_PATHS = 4000
SEED = 2024
Z = 3.0

# Configs of an MSP business whose inputs must stay inside their sourced
# ranges and whose realised churn must average 8-15% (seed 003). The Acme
# example (seed 000) is a pure resale arithmetic example: no managed service,
# no tickets; it is checked by its own tests below.
MSP_CONFIGS = (
    "baseline", "startup", "reactive_plateau", "standardized", "sales_engine",
    "full_solution", "hybrid_stage1", "hybrid_stage2", "hybrid_stage3",
)
ALL_CONFIGS = MSP_CONFIGS + ("acme_commission",)
# Reactive configs: no alignment program, a misaligned book.
REACTIVE_CONFIGS = tuple(c for c in MSP_CONFIGS if c != "standardized")
STAGES = {  # seed 002: (products, projects and T&M, managed services) %, average pretax %
    1: ((50.0, 40.0, 10.0), 4.5),
    2: ((30.0, 40.0, 30.0), 7.8),
    3: ((23.5, 23.5, 53.0), 11.0),
}
INF = math.inf

# Every numeric key of an MSP config: (low, high, source). A number must lie in
# [low, high]; a distribution's whole support must. docs/calibration.md has
# the same table with the reasoning behind each assumption's range.
SOURCED_RANGES: dict[str, tuple[float, float, str]] = {
    "start.customers": (0, INF, "the user's business"),
    "start.techs": (0, INF, "the user's business"),
    "start.cash": (0, INF, "the user's business"),
    "start.legacy_product_revenue": (0, INF, "the user's business"),
    "start.legacy_project_revenue": (0, INF, "the user's business"),
    "start.alignment_score": (0, 0, "seed 004: an MSP below $100k is reactive"),
    "sales.meetings_per_month": (3, 7, "MODEL.md probe: about 5 a month"),
    "sales.reps": (0, 2, "seed 003: none, or a sales engine"),
    "sales.rep_meetings_per_month": (4, 12, "assumption"),
    "sales.rep_cost_per_month": (5000, 10000, "salary surveys, assumption"),
    "sales.proposal_rate": (0.3, 0.7, "assumption"),
    "sales.close_rate": (0.2, 0.5, "assumption"),
    "sales.cycle_months": (1, 4, "assumption"),
    "customers.seats": (1, 250, "TruMethods: 25-seat examples; SMB clients"),
    "customers.endpoints_per_seat": (1.0, 1.5, "assumption"),
    "customers.price_per_seat": (100, 150, "MODEL.md: average MSPs $100-150"),
    "customers.price_escalator": (0, 0.05, "assumption: CPI-like"),
    "customers.contract_months": (12, 36, "seed 001: typically three years"),
    "customers.account_hours_per_month": (0.5, 3, "seed 000, size assumed"),
    "cloud.adoption": (0.5, 1.0, "assumption"),
    "cloud.seat_price": (12.5, 12.5, "seed 000: Office 365 $12.50"),
    "cloud.commission_rate": (0.05, 0.05, "seed 000: 5%"),
    "cloud.attach_uplift": (0.25, 0.75, "seed 000: 25-75%"),
    "churn.annual_rate": (0.08, 0.15, "seed 003: 8-15%"),
    "churn.visibility_reduction": (0, 0.5, "seed 000, size assumed"),
    "churn.overload_sensitivity": (0, 3, "assumption"),
    "tickets.per_endpoint_reactive": (0.75, 1.0, "seed 004"),
    "tickets.per_endpoint_aligned": (0.2, 0.5, "seed 004"),
    "tickets.hours_reactive": (1.0, 1.0, "seed 004: a full hour"),
    "tickets.hours_aligned": (0.25, 0.49, "seed 004: under 30 minutes"),
    "staff.tech_hours_per_month": (120, 160, "140 usable of 160"),
    "staff.tech_cost_per_month": (5400, 7500, "public benchmark"),
    "staff.hire_above": (0.8, 1.3, "assumption"),
    "staff.hire_lag_months": (1, 4, "assumption"),
    "staff.hire_cash_months": (0, 6, "assumption"),
    "staff.backlog_carry": (0, 1, "assumption"),
    "staff.owner_hours_per_month": (160, 240, "MODEL.md: about 200"),
    "staff.owner_sales_hours_per_month": (20, 60, "assumption"),
    "staff.escalation_share": (0.1, 0.3, "seed 004, size assumed"),
    "staff.management_hours_per_employee": (2, 8, "assumption"),
    "alignment.start_month": (0, 60, "the user's plan"),
    "alignment.clients_per_staff": (15, 25, "TruMethods: about 20"),
    "alignment.staff_cost_per_month": (5400, 7500, "as a technician"),
    "alignment.rate": (0.05, 0.2, "assumption: 5-20 months to align"),
    "alignment.drift": (0, 0.05, "assumption"),
    "projects.onboarding_fee_per_seat": (0, 300, "seed 000, size assumed"),
    "projects.per_customer_year": (0, 3, "seed 002, size assumed"),
    "projects.size": (500, 100000, "assumption"),
    "projects.product_spend_per_seat_year": (0, 600, "assumption"),
    "legacy.decline_annual": (0, 0.3, "seed 001, size assumed"),
    "finance.tools_share": (0.05, 0.15, "assumption"),
    "finance.project_margin": (0.25, 0.45, "fit (seed 002), assumption range"),
    "finance.product_margin_ms": (0.10, 0.12, "seed 002: 10-12%"),
    "finance.product_margin_legacy": (0.04, 0.05, "seed 002: 4-5%"),
    "finance.overhead_per_month": (5000, 40000, "fit (seed 002); seed 000: $25k"),
}


def load(name: str, overrides: dict | None = None) -> simulator.Config:
    return simulator.load_config(CONFIGS / f"{name}.toml", overrides=overrides or {})


@cache
def _run(name: str, overrides_json: str, n_paths: int):
    return simulator.simulate(load(name, json.loads(overrides_json)), n_paths=n_paths, seed=SEED)


def run(name: str, overrides: dict | None = None, n_paths: int = N_PATHS):
    """Simulate a shipped config (cached), ``N_PATHS`` paths, seed ``SEED``."""
    return _run(name, json.dumps(overrides or {}, sort_keys=True), n_paths)


def raw(name: str) -> dict:
    with (CONFIGS / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def flat(data: dict) -> dict:
    return {f"{s}.{k}": v for s, keys in data.items() for k, v in keys.items()}


def broke(result, month: int = 60) -> np.ndarray:
    fp = result.first_passage
    return (fp >= 0) & (fp <= month)


def mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def value_mean(value) -> float:
    return float(value) if isinstance(value, int | float) else float(value.frozen().mean())


def ticket_stats(result, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Per path, over months ``first..last``: tickets per endpoint per month and
    mean resolution hours per ticket."""
    sl = slice(first, last + 1)
    endpoints = result["seats"][:, sl] * result.config.customers.endpoints_per_seat
    tickets = result["tickets"][:, sl].sum(axis=1)
    per_endpoint = tickets / endpoints.sum(axis=1)
    hours = result["ticket_hours"][:, sl].sum(axis=1) / np.maximum(tickets, 1)
    return per_endpoint, hours


def year1_mix_margin(result) -> tuple[np.ndarray, np.ndarray]:
    """Per path, months 1-12: revenue mix in % (products, projects and T&M,
    managed services incl. cloud commissions) and pretax margin in %."""
    sl = slice(1, 13)
    products = result["revenue_products"][:, sl].sum(axis=1)
    projects = result["revenue_projects"][:, sl].sum(axis=1)
    managed = (result["revenue_managed"] + result["revenue_cloud"])[:, sl].sum(axis=1)
    revenue = products + projects + managed
    mix = 100 * np.stack([products, projects, managed], axis=1) / revenue[:, None]
    margin = 100 * result["pretax_profit"][:, sl].sum(axis=1) / revenue
    return mix, margin


# -- the configs ------------------------------------------------------------------------


def test_the_issue_configs_exist():
    names = {p.stem for p in CONFIGS.glob("*.toml")}
    assert set(ALL_CONFIGS) <= names


@pytest.mark.parametrize("name", MSP_CONFIGS)
def test_every_input_inside_its_sourced_range(name):
    cfg = load(name)
    specs = param_specs()
    assert set(specs) == set(SOURCED_RANGES), "a key without a sourced range"
    bad = []
    for key, (low, high, source) in SOURCED_RANGES.items():
        value = cfg.get(key)
        lo, hi = (value, value) if isinstance(value, int | float) else value.support()
        if not (low <= lo and hi <= high):
            bad.append(f"{key} = [{lo:g}, {hi:g}] outside [{low:g}, {high:g}] ({source})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_every_value_is_commented(name):
    """Each key line carries a comment (unit and source)."""
    for line in (CONFIGS / f"{name}.toml").read_text().splitlines():
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith("#") and not stripped.startswith("["):
            assert "#" in stripped, f"{name}.toml: uncommented value: {stripped}"


@pytest.mark.parametrize(
    ("name", "base", "keys"),
    [
        ("reactive_plateau", "baseline", {"start.techs", "staff.hire_above"}),
        ("standardized", "reactive_plateau", {"alignment.enabled"}),
        ("sales_engine", "reactive_plateau", {"sales.reps"}),
        ("full_solution", "reactive_plateau",
         {"cloud.adoption", "projects.onboarding_fee_per_seat", "projects.per_customer_year"}),
    ],
)
def test_scenarios_are_the_same_business(name, base, keys):
    a, b = flat(raw(name)), flat(raw(base))
    assert set(a) == set(b)
    assert {k for k in a if a[k] != b[k]} == keys


def test_one_shared_finance_block():
    """Seed 002's fit: one set of margins and overhead for the three stages, and
    the same block in every established-MSP config."""
    finance = raw("hybrid_stage1")["finance"]
    for name in ("hybrid_stage2", "hybrid_stage3", "baseline", "reactive_plateau",
                 "standardized", "sales_engine", "full_solution"):
        assert raw(name)["finance"] == finance, name
    # the stages differ only in the firm: its book, technicians and legacy revenue
    s1, s3 = flat(raw("hybrid_stage1")), flat(raw("hybrid_stage3"))
    assert {k for k in s1 if s1[k] != s3[k]} <= {
        "start.customers", "start.techs", "start.legacy_product_revenue",
        "start.legacy_project_revenue"}


def test_no_simulator_code_mentions_the_band():
    """The $75k-$100k band must emerge; no source file under simulator/ names it."""
    pattern = re.compile(r"75[_,]?000|75k", re.IGNORECASE)
    files = sorted((ROOT / "simulator").rglob("*.py"))
    assert files
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in files
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits


@pytest.mark.parametrize("name", ("baseline", "reactive_plateau", "standardized",
                                  "sales_engine", "full_solution", "hybrid_stage3"))
def test_established_hybrid_msp_at_40_to_60k_mrr(name):
    """The issue's baseline business: $40-60k MRR today (measured median $51.4k)."""
    res = run(name)
    assert 40_000 <= np.median(res["mrr"][:, 0]) <= 60_000
    assert res["revenue_products"][:, 1].mean() > 0  # hybrid: a VAR business beside MRR


# -- seed 004: the plateau emerges --------------------------------------------------------


def test_reactive_plateau_levels_off_in_the_band():
    """Median MRR path: $51.4k at month 0, $69.0k at 12, $83.9k at 60 (bootstrap SE of
    the month-60 median $300: the band edges are > 40 SE away). Mean monthly growth of
    the median path: $1,472 over months 1-12 (SE $26), $75 over 49-60 (SE $19):
    a ratio of 0.05 against the bound 1/3 (the bound is > 20 SE away)."""
    med = np.median(run("reactive_plateau")["mrr"], axis=0)
    assert 70_000 <= med[60] <= 110_000
    early = (med[12] - med[0]) / 12
    late = (med[60] - med[48]) / 12
    assert early > 0
    assert late < early / 3
    # and it levels off inside seed 004's $75k-$100k band
    assert np.all((med[48:] >= 75_000) & (med[48:] <= 100_000))


def test_plateau_mechanism_is_visible():
    """Months 49-60 of reactive_plateau: technicians run at utilization 0.93 (SE 0.002;
    bound 0.9), the owner keeps 9.5 of 40 selling hours (SE 0.1) and holds 1.17 meetings
    a month (SE 0.015) against a free-time level of 5.0: 23%. The standardized business
    keeps 99% of its free-time meetings."""
    res = run("reactive_plateau")
    util, se = mean_se(res["utilization"][:, 49:].mean(axis=1))
    assert util - Z * se >= 0.9  # near or above 1
    free = res.params["sales_meetings_per_month"]  # meetings with an owner free to sell
    late = res["meetings"][:, 49:].mean(axis=1)
    m, se = mean_se(late)
    assert m + Z * se < 0.5 * free.mean()
    hours, se = mean_se(res["owner_sales_hours"][:, 49:].mean(axis=1))
    assert hours + Z * se < 0.5 * res.config.staff.owner_sales_hours_per_month
    std = run("standardized")
    m_std, se = mean_se(std["meetings"][:, 49:].mean(axis=1))
    assert m_std - Z * se > 0.9 * std.params["sales_meetings_per_month"].mean()


def test_standardized_breaks_the_plateau():
    """P(break by 60): reactive 0.25, standardized 0.99, paired difference 0.74 with
    SE 0.007 (common random numbers): the 0.3 bound is > 60 SE away."""
    base, std = run("reactive_plateau"), run("standardized")
    d = broke(std).astype(float) - broke(base)
    diff, se = mean_se(d)
    assert diff - Z * se >= 0.3
    assert std.p_break_by(60).value - base.p_break_by(60).value == pytest.approx(diff)


# -- seed 004: tickets --------------------------------------------------------------------


@pytest.mark.parametrize("name", REACTIVE_CONFIGS)
def test_reactive_tickets(name):
    """0.75-1.0 tickets per endpoint per month at about an hour (measured 0.85-0.87 with
    SE ~0.001; exactly 1.00 hour: a misaligned book raises reactive tickets only)."""
    res = run(name)
    assert not res.config.alignment.enabled
    per_endpoint, hours = ticket_stats(res, 1, res.months)
    m, se = mean_se(per_endpoint)
    assert 0.75 + Z * se <= m <= 1.0 - Z * se
    assert abs(hours.mean() - 1.0) < 0.05


def test_standardized_tickets_converge():
    """Months 49-60: 0.375 tickets per endpoint (SE 0.001) at 0.478 hours (SE 0.0005:
    the 0.5 bound is 40 SE away); the book keeps ~5% of misaligned newcomers, so the
    blended hours sit above the aligned 0.4."""
    res = run("standardized")
    per_endpoint, hours = ticket_stats(res, 49, 60)
    m, se = mean_se(per_endpoint)
    assert 0.2 + Z * se <= m <= 0.5 - Z * se
    h, se = mean_se(hours)
    assert h + Z * se < 0.5
    start, _ = ticket_stats(res, 1, 1)
    assert start.mean() > 0.75  # it starts reactive and converges


# -- seed 002: Service Leadership stages -----------------------------------------------


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_service_leadership_stage(stage):
    """Year-1 revenue mix within 5 points and mean pretax margin within 1.5 points of
    seed 002 with the shared finance block. Measured: stage 1 49.9/40.0/10.0, 4.50%
    (SE 0.04); stage 2 29.9/40.2/30.0, 7.94% (SE 0.08); stage 3 23.5/23.7/52.8, 10.99%
    (SE 0.11). Each bound is > 10 SE away."""
    target_mix, target_margin = STAGES[stage]
    mix, margin = year1_mix_margin(run(f"hybrid_stage{stage}"))
    for i, target in enumerate(target_mix):
        m, se = mean_se(mix[:, i])
        assert abs(m - target) + Z * se <= 5.0, (i, m)
    m, se = mean_se(margin)
    assert abs(m - target_margin) + Z * se <= 1.5, m


TOP_QUARTILE = {  # docs/calibration.md: top-quartile inputs, each from its source
    "customers.price_per_seat": {"dist": "uniform", "low": 150, "high": 250},  # MODEL.md
    "start.alignment_score": 1.0, "alignment.enabled": True,  # seed 004: aligned book
    "churn.annual_rate": 0.08,  # seed 003: the low end
    "finance.product_margin_ms": 0.12, "finance.product_margin_legacy": 0.05,  # seed 002
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_top_quartile_inputs_raise_the_margin(stage):
    """Seed 002: best in class earns more than the average at every stage. Paired
    year-1 margin gains: +3.2 (SE 0.06), +11.4 (SE 0.08), +18.5 points (SE 0.08);
    against best in class 13 / 16.5 / 21.5% they give 7.8 / 19.3 / 29.5%
    (docs/calibration.md)."""
    _, base = year1_mix_margin(run(f"hybrid_stage{stage}"))
    _, top = year1_mix_margin(run(f"hybrid_stage{stage}", TOP_QUARTILE))
    d, se = mean_se(top - base)
    assert d - Z * se > 0


# -- seed 000: Acme ------------------------------------------------------------------------

ISOLATED = {"churn.annual_rate": 0.0, "sales.meetings_per_month": 0.0}


def test_acme_commission_per_customer():
    """100 users x $12.50 x 5% = $62.50 a month, for every path."""
    res = run("acme_commission", {"start.customers": 1}, n_paths=50)
    assert np.all(res["mrr"][:, 0] == 62.5)
    assert np.all(res["mrr_managed"][:, 0] == 0)  # commissions are the whole MRR


def test_acme_needs_400_customers_to_break_even():
    """$25,000 of commissions covers the $25,000 break-even at 400 customers, not 399."""
    at = run("acme_commission", {**ISOLATED, "start.customers": 400}, n_paths=50)
    assert np.all(at["mrr"][:, :2] == 25_000)
    assert np.all(at["pretax_profit"][:, 1] == 0)
    assert np.all(at.first_passage == 0)
    below = run("acme_commission", {**ISOLATED, "start.customers": 399}, n_paths=50)
    assert np.all(below["pretax_profit"][:, 1] < 0)
    assert np.all(below.first_passage == -1)
    # from zero, with seed 003's churn and the owner's meetings, 400 Acmes are out of
    # reach: "you'll remain in the red" (measured: at most 73 customers in any path)
    res = run("acme_commission")
    assert res.p_break_by(60).value == 0
    assert np.all(res["pretax_profit"][:, 1:] < 0)


def test_acme_with_attach_uplift_is_about_100():
    """Other cloud services add 25-75%: $78-$109 a month, measured mean $93.60 (SE $0.20
    over 2000 paths; expected $93.75): "still around $100"."""
    uplift = {"dist": "uniform", "low": 0.25, "high": 0.75}
    res = run("acme_commission", {"start.customers": 1, "cloud.attach_uplift": uplift},
              n_paths=2000)
    x = res["mrr"][:, 0]
    assert x.min() >= 62.5 * 1.25 and x.max() <= 62.5 * 1.75
    m, se = mean_se(x)
    assert abs(m - 62.5 * 1.5) < 4 * se + 1e-9
    assert 90 <= m <= 110


# -- seed 003: churn ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_realised_churn_is_8_to_15_percent(name):
    """Realised annual logo churn (customers lost per customer-year of exposure) averages
    inside 8-15%. Measured 9.2-9.5% (SE 0.0005) for the reactive and standardized configs
    (account care removes part of the hazard), 13.2% for sales_engine (overloaded
    technicians raise it), 9.2% for acme_commission."""
    res = run(name)
    churned = res["churned"][:, 1:].sum(axis=1)
    exposure = res["customers"][:, :-1].sum(axis=1) / 12  # customer-years
    ok = exposure > 0
    m, se = mean_se(churned[ok] / exposure[ok])
    assert 0.08 + Z * se <= m <= 0.15 - Z * se
    assert 0.08 <= value_mean(res.config.churn.annual_rate) <= 0.15
