"""The lever scan: which standard move gets this business out, and what it costs.

``msp-sim run`` simulates the business as it is and, with the same seed and
paths (common random numbers, as :func:`~simulator.analysis.compare`), the
same business with each standard lever pulled (:data:`STANDARD_LEVERS`,
documented in ``docs/levers.md``): one more technician now, a salesperson,
the standardization program, a higher price, less churn, a service manager,
fewer escalations, more of the owner's time for selling. A config's
``[levers]`` section leaves standard levers out (``skip``) or adds its own
(``add``). Each lever is a set of dotted-key overrides (``Lever.set``), so
anyone can re-run it with ``msp-sim compare``; the paired differences are
computed exactly as ``compare`` computes them, on the same per-path values.

Per lever: what it costs and risks before any simulation (:class:`LeverCost`:
spend, owner hours, risk, source); P(break by month 36 and by the horizon)
with Wilson 95% intervals, the median months to the threshold, the mean
cumulative pretax profit over the horizon, P(out of cash and credit) and the
owner's value (:mod:`simulator.results.value`), each with its paired
difference from the business as it is; P(it pays off) (the share of paired
paths on which the owner's value rises), the payback month and a break-even in
words; sorted by the paired change in the owner's value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..config import Config, ConfigError, config_from_dict, param_specs
from ..formatting import finite_or_none as _f
from ..formatting import money, pct_short, signed_dollars
from ..model.sampling import draw_parameters
from ..results import SimulationResult, config_sha256, package_version, require_pandas
from ..results.value import VALUE_METRICS, cvar, path_values_of
from ..runner import RunOptions, as_seed, map_ordered, run
from .common import CONFIDENCE, mean_ci
from .paired import paired_difference

__all__ = [
    "DEFAULT_SCAN_PATHS",
    "STANDARD_LEVERS",
    "Lever",
    "LeverCost",
    "LeverScanResult",
    "lever_scan",
    "resolve_levers",
]

DEFAULT_SCAN_PATHS = 10_000
"""Paths per lever unless told otherwise (fewer when the run has fewer)."""
SCAN_MONTH = 36
"""The lever scan reports P(break) by this month as well as by the horizon."""


@dataclass(frozen=True)
class LeverCost:
    """What a lever costs and risks, stated before any simulation.

    Attributes
    ----------
    dollars_per_month : float
        Nominal spend while the lever runs [$/month] (0 with a reason in ``cost``).
    owner_hours_per_month : float
        The owner's hours it takes [hours/month].
    cost, risk : str
        In words, with the numbers of the config.
    source : str
        Where the figures come from, or "assumption" with its range.
    """

    dollars_per_month: float
    owner_hours_per_month: float
    cost: str
    risk: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {"dollars_per_month": _f(self.dollars_per_month),
                "owner_hours_per_month": _f(self.owner_hours_per_month),
                "cost": self.cost, "risk": self.risk, "source": self.source}


@dataclass(frozen=True)
class Lever:
    """A move the owner can make: a name, the dotted-key overrides that model it and
    (standard levers) its cost and risk."""

    name: str
    description: str
    set: dict[str, Any]
    cost: LeverCost | None = None


# -- the standard levers -------------------------------------------------------

_LOCATION = ("low", "mode", "high", "median", "mean")


def _dumped(value: Any) -> Any:
    """A number as is, a distribution as its TOML table (``{"dist": ..., ...}``)."""
    if hasattr(value, "model_dump"):
        return {k: v for k, v in value.model_dump(by_alias=True).items() if v is not None}
    return value


def shifted(value: Any, delta: float, floor: float | None = None) -> Any:
    """``value + delta``: a number, or a distribution moved by ``delta`` (its location
    parameters and bounds), each result at least ``floor``."""
    def move(x: float) -> float:
        y = x + delta
        return y if floor is None else max(floor, y)

    table = _dumped(value)
    if not isinstance(table, dict):
        return type(value)(move(value)) if isinstance(value, int) else move(float(value))
    return {k: (move(v) if k in _LOCATION else v) for k, v in table.items()}


def scaled(value: Any, factor: float) -> Any:
    """``value * factor``: a number, or a distribution stretched by ``factor`` (location
    parameters and bounds; a normal's ``sd`` too)."""
    table = _dumped(value)
    if not isinstance(table, dict):
        return float(value) * factor
    spread = ("sd",) if table.get("dist") == "normal" else ()
    return {k: (v * factor if k in _LOCATION + spread else v) for k, v in table.items()}


def _typical(value: Any) -> float:
    """A number, or a distribution's median."""
    return float(value.frozen().median()) if hasattr(value, "frozen") else float(value)


def _one_more_tech(c: Config) -> dict[str, Any] | None:
    return {"start.techs": shifted(c.start.techs, 1)}


def _rep_from(month: int) -> Callable[[Config], dict[str, Any] | None]:
    def lever(c: Config) -> dict[str, Any] | None:
        if c.sales.reps != 0:
            return None
        return {"sales.reps": 1, "sales.rep_start_month": month}
    return lever


def _another_rep(c: Config) -> dict[str, Any] | None:
    if c.sales.reps == 0:
        return None
    return {"sales.reps": shifted(c.sales.reps, 1)}


def _standardize(c: Config) -> dict[str, Any] | None:
    if c.alignment.enabled:
        return None
    return {"alignment.enabled": True, "alignment.start_month": 1}


def _price(c: Config) -> dict[str, Any] | None:
    # (1 + rise) x 1.1 - 1: a further 10% on top of any rise the config decides
    return {"customers.price_rise": shifted(scaled(c.customers.price_rise, 1.10), 0.10)}


REVIEW_HOURS_PER_CLIENT_MONTH = 1.0
"""Owner hours per client and month that buy 2 points less churn: a quarterly business
review of about 3 hours (preparation, the meeting, follow-up) per client (assumption;
0.5-2 hours a month)."""
SENIOR_PREMIUM_PER_MONTH = 2_000.0
"""What a senior technician costs over a technician [$/month] (assumption: a senior
technician at about $8-9k fully loaded against $5.4-7.5k; 1,500-3,000)."""


def _churn(c: Config) -> dict[str, Any] | None:
    if _typical(c.churn.annual_rate) <= 0.02:
        return None
    return {"churn.annual_rate": shifted(c.churn.annual_rate, -0.02, floor=0.0),
            "customers.account_hours_per_month": shifted(c.customers.account_hours_per_month,
                                                         REVIEW_HOURS_PER_CLIENT_MONTH)}


def _manager(c: Config) -> dict[str, Any] | None:
    if _typical(c.start.managers) >= 1:
        return None  # the business already has a service manager
    # one hire now; the manager runs a tiered desk and takes the escalations (the owner
    # keeps staff.owner_escalation_share_led of them)
    return {"start.managers": 1, "staff.escalation_lead_techs": 1}


def _escalations(c: Config) -> dict[str, Any] | None:
    if _typical(c.staff.escalation_share) <= 0:
        return None
    # paid for: a senior technician (one more technician, plus the senior premium as a
    # fixed cost) takes half of what reaches the owner; both ticket types escalate (model
    # v3): halving only the reactive share left the owner 0.58-0.65 of his escalation hours
    return {"staff.escalation_share": scaled(c.staff.escalation_share, 0.5),
            "staff.escalation_share_aligned": scaled(c.staff.escalation_share_aligned, 0.5),
            "start.techs": shifted(c.start.techs, 1),
            "finance.overhead_per_month": shifted(c.finance.overhead_per_month,
                                                  SENIOR_PREMIUM_PER_MONTH)}


def _selling_hours(c: Config) -> dict[str, Any] | None:
    return {"staff.owner_sales_hours_per_month": shifted(c.staff.owner_sales_hours_per_month,
                                                         10)}


STANDARD_LEVERS: tuple[tuple[str, str, Callable[[Config], dict[str, Any] | None]], ...] = (
    ("one more technician now", "start.techs + 1: a technician hired today, paid from month 1",
     _one_more_tech),
    ("a salesperson from month 1", "sales.reps = 1 from month 1 (ramp, cost and meetings "
     "from [sales]); only when the business has no salesperson", _rep_from(1)),
    ("a salesperson from month 6", "sales.reps = 1 from month 6; only when the business has "
     "no salesperson", _rep_from(6)),
    ("one more salesperson", "sales.reps + 1; only when the business already has one",
     _another_rep),
    ("the standardization program", "alignment.enabled from month 1: alignment staff raise "
     "the book's standardization, tickets fall ([alignment]); only when it is off",
     _standardize),
    ("+10% price per seat", "customers.price_rise +10%: new clients from month 1, today's "
     "book at each client's renewal (some leave over it; fewer prospects close)", _price),
    ("-2 pp annual churn", "churn.annual_rate - 0.02 bought with quarterly business reviews: "
     "customers.account_hours_per_month + 1 (the owner's time); only when churn is above 2%",
     _churn),
    ("a service manager", "start.managers = 1: one service manager hired now, who manages the "
     "technicians and takes the escalations (staff.escalation_lead_techs = 1: a tiered desk); "
     "only when there is none", _manager),
    ("half the escalations", "staff.escalation_share and staff.escalation_share_aligned x 0.5 "
     "(both ticket types), paid for by a senior technician: "
     "start.techs + 1 and finance.overhead_per_month + the senior premium", _escalations),
    ("10 more selling hours a month", "staff.owner_sales_hours_per_month + 10: the owner "
     "protects ten more hours a month for sales", _selling_hours),
)
"""``(name, what it means in the model, overrides of a config or None)``, in order."""


def _money(x: float) -> str:
    return f"${x:,.0f}"


def lever_cost(name: str, c: Config) -> LeverCost | None:
    """The cost and risk of standard lever ``name`` on business ``c`` (``None`` for a lever
    of the user's)."""
    tech = _typical(c.staff.tech_cost_per_month)
    per_employee = _typical(c.finance.overhead_per_employee_month)
    mgmt = _typical(c.staff.management_hours_per_employee)
    clients = max(1.0, _typical(c.start.customers))
    if name == "one more technician now":
        return LeverCost(tech + per_employee, mgmt,
                         f"{_money(tech)}/month pay and {_money(per_employee)}/month overhead; "
                         f"{mgmt:g} owner hours/month of management",
                         "idle hours while the work does not grow (the layoff rule lets one "
                         "go after staff.layoff_after_months idle months); quits like any "
                         "technician", "public salary surveys (staff.tech_cost_per_month)")
    if name in ("a salesperson from month 1", "a salesperson from month 6",
                "one more salesperson"):
        rep = _typical(c.sales.rep_cost_per_month)
        wash = _typical(c.sales.rep_washout_share)
        fire = _typical(c.sales.rep_fire_below)
        review = int(_typical(c.sales.rep_review_months))
        return LeverCost(rep + per_employee, mgmt,
                         f"{_money(rep)}/month pay and {_money(per_employee)}/month overhead "
                         f"while employed; {mgmt:g} owner hours/month of management",
                         f"washes out with probability {wash:.0%} (books under {fire:.0%} of "
                         f"plan and is let go {review} months after a ramp of "
                         f"{_typical(c.sales.rep_ramp_months):.0f} months, typically); those "
                         "who stay book a drawn share of plan (sales.rep_productivity)",
                         "50-70% of first sales hires fail; 30-40% of sales hires miss quota "
                         "(D. Skok); ramp: Sales Benchmark Index; productivity: assumption "
                         "(0.4-1.2 of plan)")
    if name == "the standardization program":
        staff = _typical(c.alignment.staff_cost_per_month)
        per = _typical(c.alignment.clients_per_staff)
        need = max(1, int(np.ceil(clients / per)))
        licences = (clients * _typical(c.customers.seats) * _typical(c.customers.endpoints_per_seat)
                    * _typical(c.finance.standard_stack_cost_per_endpoint))
        return LeverCost(need * (staff + per_employee) + licences, need * mgmt,
                         f"{need} alignment staff for {clients:.0f} clients (one per "
                         f"{per:g}) at {_money(staff)}/month each, more as the book grows; "
                         f"{mgmt:g} owner hours/month each; the standard stack's licences, "
                         f"{_money(licences)}/month once today's book is aligned "
                         "(finance.standard_stack_cost_per_endpoint)",
                         "the speed is the staff's: each adds "
                         f"{_typical(c.alignment.staff_points_per_month):g} score points a "
                         f"month, a client takes {_typical(c.alignment.rate):g} a month; a hire "
                         "the cash cannot pay for waits and the clients it would reach drift "
                         "back; tickets fall months later",
                         "TruMethods: one alignment manager per ~20 clients; BLS pay of "
                         "network administrators; rate: assumption (0.08-0.25 a month)")
    if name == "+10% price per seat":
        leave = _typical(c.churn.price_rise_response) * 0.10
        close = 1.0 - 1.1 ** -_typical(c.sales.price_close_response)
        return LeverCost(0.0, 0.0,
                         "no spend: the rise is a letter at each client's renewal",
                         f"about {leave:.0%} of today's book leaves at the renewal that "
                         f"brings the rise (churn.price_rise_response) and {close:.0%} fewer "
                         "prospects close (sales.price_close_response)",
                         "assumption: responses 0.2-1.0 (churn) and 0.5-2.0 (close rate)")
    if name == "-2 pp annual churn":
        hours = REVIEW_HOURS_PER_CLIENT_MONTH * clients
        return LeverCost(0.0, hours,
                         f"no spend: {REVIEW_HOURS_PER_CLIENT_MONTH:g} owner hour per client "
                         f"and month of reviews ({hours:.0f} hours/month today, more as the "
                         "book grows), taken from selling first",
                         "the reviews crowd out selling and escalations when the owner is "
                         "full; the 2 points are an assumption",
                         "assumption: quarterly business reviews of ~3 hours (0.5-2 hours a "
                         "client-month) buy 1-3 points of churn")
    if name == "a service manager":
        cost = _typical(c.staff.manager_cost_per_month)
        return LeverCost(cost + per_employee, mgmt,
                         f"{_money(cost)}/month pay and {_money(per_employee)}/month overhead; "
                         f"{mgmt:g} owner hours/month of management (the technicians' "
                         "management moves to the manager)",
                         "a fixed cost a small book may not carry (cash risk); the owner "
                         "keeps staff.owner_escalation_share_led of the escalations",
                         "assumption: a senior technician's pay plus 30% "
                         "(staff.manager_cost_per_month)")
    if name == "half the escalations":
        return LeverCost(tech + SENIOR_PREMIUM_PER_MONTH + per_employee, mgmt,
                         f"a senior technician: {_money(tech)}/month plus a "
                         f"{_money(SENIOR_PREMIUM_PER_MONTH)}/month premium and "
                         f"{_money(per_employee)}/month overhead; {mgmt:g} owner hours/month",
                         "the escalations still need doing (by the technicians now); a senior "
                         "hire can quit like any technician",
                         "assumption: senior premium $1,500-3,000/month; halving: seed 004 "
                         "(a tiered desk)")
    if name == "10 more selling hours a month":
        return LeverCost(0.0, 10.0, "no spend: 10 owner hours/month, taken only from what "
                         "is left after escalations, management and account care",
                         "the hours exist only in months the owner has them to spare",
                         "the user's plan")
    return None


def resolve_levers(config: Config, source: str = "[levers]") -> list[Lever]:
    """The levers of ``config``: the standard ones that apply, less ``levers.skip``, plus
    ``levers.add``; each checked by building its config.

    Raises
    ------
    ConfigError
        An unknown name in ``levers.skip``, a duplicate name, or a lever whose
        overrides make an invalid config (named with its key and value).
    """
    names = [name for name, _, _ in STANDARD_LEVERS]
    problems: list[tuple[str, Any, str]] = []
    for name in config.levers.skip:
        if name not in names:
            problems.append(("levers.skip", name, "unknown lever; allowed: "
                             + ", ".join(f'"{n}"' for n in names)))
    levers = []
    for name, description, make in STANDARD_LEVERS:
        if name in config.levers.skip:
            continue
        overrides = make(config)
        if overrides is not None:
            levers.append(Lever(name, description,
                                {k: _within(k, v) for k, v in overrides.items()},
                                lever_cost(name, config)))
    for k, table in enumerate(config.levers.add, start=1):
        if table.name in {lever.name for lever in levers}:
            problems.append((f"levers.add[{k}].name", table.name, "a lever of that name "
                             "exists; allowed: a new name"))
            continue
        levers.append(Lever(table.name, table.description or "your lever", dict(table.set)))
    for lever in levers:
        try:
            apply_lever(config, lever, source)
        except ConfigError as exc:
            problems += [(f'lever "{lever.name}": {key}', value, message)
                         for key, value, message in exc.problems]
    if problems:
        raise ConfigError(source, problems)
    return levers


def apply_lever(config: Config, lever: Lever, source: str = "[levers]") -> Config:
    """``config`` with ``lever``'s overrides (validated as any config)."""
    data = config.model_dump(mode="python", by_alias=True, exclude_none=True)
    return config_from_dict(data, source=source, overrides=lever.set)


def _within(key: str, value: Any) -> Any:
    """A moved distribution's ``low``/``high`` bounds kept inside the key's allowed range
    (a stretched ``high = 10000`` would otherwise leave it)."""
    spec = param_specs().get(key)
    if not isinstance(value, dict) or spec is None:
        return value
    out = dict(value)
    lower = spec.ge if spec.ge is not None else spec.gt
    upper = spec.le if spec.le is not None else spec.lt
    if "low" in out and lower is not None:
        out["low"] = max(out["low"], lower)
    if "high" in out and upper is not None:
        out["high"] = min(out["high"], upper)
    return out


# -- the scan --------------------------------------------------------------------


SCAN_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("mrr", -1), ("gross_profit_managed", None),
    *((name, None) for name in VALUE_METRICS if name != "pretax_profit"),
    ("pretax_profit", None))
"""What the scan reads of a run beside first passages and insolvency months: the horizon's
MRR, every month of what the owner's value reads (:data:`simulator.results.value.
VALUE_METRICS`) and of managed gross profit."""


@dataclass
class _Outcomes:
    """What the scan keeps of a run: its summary and the per-path values it pairs."""

    summary: dict[str, Any]
    broke: np.ndarray           # 1.0 where the path broke the threshold by the horizon
    broke_by_month: np.ndarray  # ... by SCAN_MONTH (or the horizon, if shorter)
    insolvent: np.ndarray       # 1.0 where the path ran out of cash and credit
    cumulative_profit: np.ndarray
    mrr_final: np.ndarray
    values: dict[str, np.ndarray]      # results.value.path_values_of: owner value, cash
    profit_path: np.ndarray            # mean cumulative pretax profit by month (0..H)
    rep_meetings: np.ndarray           # a rep's meetings a month at full ramp, per path
    rep_kept: np.ndarray               # the rep stays past the review (not let go)
    rep_pay: np.ndarray                # a kept rep's pay and overhead to the horizon [$]
    managed_margin: float | None       # managed gross margin of the last 12 months

    @classmethod
    def of(cls, r: SimulationResult, columns: dict[Any, np.ndarray] | None = None
           ) -> _Outcomes:
        """Reduce a run: its kept trajectories (which are then let go) or, from a run
        of outcomes only, its :data:`SCAN_COLUMNS` (the same bits)."""
        fp = np.asarray(r.first_passage)
        insolvency = np.asarray(r.insolvency_month)
        month = min(SCAN_MONTH, r.months)
        if columns is None:
            columns = {("mrr", -1): r["mrr"][:, -1],
                       **{(name, None): r[name] for name, month in SCAN_COLUMNS
                          if month is None}}
        metrics = {name: np.asarray(columns[(name, None)], dtype=np.float64)
                   for name, month in SCAN_COLUMNS if month is None}
        profit = metrics["pretax_profit"][:, 1:].sum(axis=1)
        mrr_final = np.array(columns[("mrr", -1)], dtype=np.float64)
        median = r.time_quantile(0.5)
        # a run of outcomes only keeps no parameters: they are drawn again (the same bits)
        params = (r.params if r.params is not None
                  else draw_parameters(r.config, int(r.seed or 0), 0, r.n_paths, r.n_paths))
        values = path_values_of(metrics, params, insolvency, r.config.customers.seats)
        productivity = np.asarray(params["sales_rep_productivity"], dtype=np.float64)
        window = slice(max(1, r.months - 11), r.months + 1)
        managed = metrics["revenue_managed"][:, window].sum()
        owner, cash = values["owner_value"], values["cash"]
        q_owner = np.quantile(owner, (0.1, 0.5, 0.9))
        q_cash = np.quantile(cash, (0.1, 0.5))
        summary = {
            "p_break_by": {str(m): _estimate(r.p_break_by(m))
                           for m in sorted({month, r.months})},
            "median_months": {"value": median.value, "ci95": [median.low, median.high]},
            "cumulative_profit_mean": {"value": _f(profit.mean()), "ci95": mean_ci(profit)},
            "p_insolvent": _estimate(r.p_insolvent_by(r.months)),
            "mrr_final_mean": {"value": _f(mrr_final.mean()), "ci95": mean_ci(mrr_final)},
            "owner_value_mean": {"value": _f(values["owner_value"].mean()),
                                 "ci95": mean_ci(values["owner_value"])},
            "owner_value_p10": _f(q_owner[0]), "owner_value_p50": _f(q_owner[1]),
            "owner_value_p90": _f(q_owner[2]), "owner_value_cvar10": _f(cvar(owner)),
            "enterprise_value_p50": _f(np.median(values["enterprise_value"])),
            "cash_p10": _f(q_cash[0]), "cash_p50": _f(q_cash[1]), "cash_cvar10": _f(cvar(cash)),
        }
        return cls(summary=summary,
                   broke=(fp >= 0).astype(np.float64),
                   broke_by_month=((fp >= 0) & (fp <= month)).astype(np.float64),
                   insolvent=(insolvency >= 0).astype(np.float64),
                   cumulative_profit=profit, mrr_final=mrr_final, values=values,
                   profit_path=np.cumsum(metrics["pretax_profit"].mean(axis=0)),
                   rep_meetings=(np.asarray(params["sales_rep_meetings_per_month"])
                                 * productivity),
                   rep_kept=productivity >= np.asarray(params["sales_rep_fire_below"]),
                   rep_pay=((params["sales_rep_cost_per_month"]
                             + params["finance_overhead_per_employee_month"])
                            * np.maximum(r.months - params["sales_rep_start_month"] + 1, 0.0)),
                   managed_margin=(_f(metrics["gross_profit_managed"][:, window].sum()
                                      / managed) if managed > 0 else None))


def _estimate(est: Any) -> dict[str, Any]:
    return {"value": _f(est.value), "ci95": [_f(est.low), _f(est.high)]}


def _pays_off(ref: _Outcomes, o: _Outcomes) -> dict[str, Any]:
    """P(the lever raises the owner's value) over paired paths, with a Wilson interval."""
    gain = int(np.count_nonzero(o.values["owner_value"] > ref.values["owner_value"]))
    n = int(ref.values["owner_value"].size)
    ci = stats.binomtest(gain, n).proportion_ci(CONFIDENCE, method="wilson")
    return {"value": gain / n, "ci95": [_f(ci.low), _f(ci.high)]}


def _payback_month(ref: _Outcomes, o: _Outcomes) -> int | None:
    """The first month from which the lever's mean cumulative profit stays at or above the
    business as it is (``None``: not by the horizon)."""
    behind = np.flatnonzero(o.profit_path - ref.profit_path < 0.0)
    if behind.size == 0:
        return 0
    last = int(behind[-1])
    return None if last >= ref.profit_path.size - 1 else last + 1


def _rep_break_even(ref: _Outcomes, o: _Outcomes) -> float | None:
    """Meetings a month (at full ramp) a rep who stays must book to pay for themselves:
    their pay and overhead to the horizon over what one more meeting a month adds to
    cumulative pretax profit (the slope of a straight line through the paired gains of
    the paths that kept their rep against the rep's meetings, measured within the
    meetings those reps book; ``None`` where it does not rise)."""
    kept = o.rep_kept
    x = o.rep_meetings[kept]
    if x.size < 10 or np.ptp(x) == 0:
        return None
    pay = o.rep_pay[kept]
    # the gain before the rep's pay, so the slope is what meetings bring
    fit = stats.linregress(x, (o.cumulative_profit - ref.cumulative_profit)[kept] + pay)
    if not fit.slope > 0:
        return None
    return float(pay.mean() / fit.slope)


def break_even(lever: Lever, ref: _Outcomes, o: _Outcomes, months: int) -> str:
    """The lever's break-even in words (the rep's meetings, the price rise's lost clients,
    the reviews' owner hour, else the month the lever's profit catches up)."""
    gain = float((o.values["owner_value"] - ref.values["owner_value"]).mean())
    if lever.name in ("a salesperson from month 1", "a salesperson from month 6",
                      "one more salesperson"):
        need = _rep_break_even(ref, o)
        plan = float(np.median(o.rep_meetings[o.rep_kept])) if o.rep_kept.any() else 0.0
        if need is not None:
            return (f"the rep must book at least {max(need, 0.0):.1f} meetings a month to "
                    f"pay for themselves (cumulative profit by month {months}); a rep who "
                    f"stays books {plan:.1f} (median), a washout is let go after the review")
    if lever.name == "+10% price per seat" and ref.managed_margin is not None:
        g, r = ref.managed_margin, 0.10
        if g + r > 0:
            return (f"pays for itself while fewer than {r / (g + r):.0%} of the clients it "
                    f"reaches leave over it (a client's gross profit rises from {g:.0%} to "
                    f"{g + r:.0%} of today's fee)")
    if lever.cost is not None and lever.cost.owner_hours_per_month > 0 \
            and lever.cost.dollars_per_month == 0:
        hours = lever.cost.owner_hours_per_month * months
        return (f"each owner hour it takes returns {signed_dollars(gain / hours)} of owner "
                f"value (about {hours:,.0f} hours over {months} months); worth it while "
                "the owner's hour earns less elsewhere")
    month = _payback_month(ref, o)
    if month is None:
        return f"its cost is not paid back in profit by month {months}"
    return f"pays back its cost in profit by month {month} (mean cumulative profit)"


@dataclass(repr=False)
class LeverScanResult:
    """The business as it is against each lever, with common random numbers.

    Attributes
    ----------
    config : Config
        The business as it is.
    levers : list of Lever
        In scan order (:meth:`to_dict` sorts them by effect).
    n_paths, seed : int
        Paths per scenario and the common seed.
    """

    config: Config
    levers: list[Lever]
    n_paths: int
    seed: int
    _as_is: _Outcomes = field(repr=False)
    _pulled: list[_Outcomes] = field(repr=False)
    _dict: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __repr__(self) -> str:
        return (f"LeverScanResult(levers={[lv.name for lv in self.levers]}, "
                f"n_paths={self.n_paths}, seed={self.seed})")

    @property
    def months(self) -> int:
        """The horizon."""
        return int(self.config.simulation.months)

    @property
    def scan_month(self) -> int:
        """The month of the second P(break) (36, or the horizon when shorter)."""
        return min(SCAN_MONTH, self.months)

    def to_dict(self) -> dict[str, Any]:
        """The ``levers`` block of ``summary.json`` (plain JSON types)."""
        if self._dict is not None:
            return self._dict
        ref = self._as_is
        month = str(self.scan_month)
        entries = []
        for lever, o in zip(self.levers, self._pulled, strict=True):
            entry: dict[str, Any] = {"name": lever.name, "description": lever.description,
                                     "set": lever.set,
                                     "cost": (lever.cost.to_dict() if lever.cost is not None
                                              else {"cost": "your lever: what its "
                                                    "overrides set", "risk": None,
                                                    "source": "your config"})}
            entry.update(o.summary)
            entry["p_pays_off"] = _pays_off(ref, o)
            entry["payback_month"] = _payback_month(ref, o)
            entry["break_even"] = break_even(lever, ref, o, self.months)
            entry["difference"] = {
                "p_break_by_horizon": paired_difference(ref.broke, o.broke, binary=True),
                f"p_break_by_{month}": paired_difference(ref.broke_by_month, o.broke_by_month,
                                                         binary=True),
                "cumulative_profit_mean": paired_difference(ref.cumulative_profit,
                                                            o.cumulative_profit, binary=False),
                "p_insolvent": paired_difference(ref.insolvent, o.insolvent, binary=True),
                "mrr_final_mean": paired_difference(ref.mrr_final, o.mrr_final, binary=False),
                **{f"{k}_mean": paired_difference(ref.values[k], o.values[k], binary=False)
                   for k in ("owner_value", "enterprise_value", "cash")},
            }
            entries.append(entry)
        entries.sort(key=lambda e: (-(e["difference"]["owner_value_mean"]["value"] or 0.0),
                                    -(e["difference"]["p_break_by_horizon"]["value"] or 0.0),
                                    e["name"]))
        self._dict = {
            "n_paths": self.n_paths,
            "seed": int(self.seed),
            "months": self.months,
            "scan_month": self.scan_month,
            "threshold_mrr": float(self.config.simulation.threshold_mrr),
            "method": (
                "every lever simulated with the seed and paths of the business as it is "
                "(common random numbers); differences are paired over paths (lever minus as "
                "is): mean difference with a paired t 95% interval; p-value of a probability "
                "by the exact McNemar test, of a mean by the paired t-test (as msp-sim "
                "compare); cumulative profit is the pretax profit summed over months 1 to "
                "the horizon; levers are ranked by the paired change in the owner's value "
                "(pay plus the sale at the horizon, discounted: docs/model.md); P(pays off) "
                "is the share of paths on which the lever raises it"),
            "as_is": ref.summary,
            "levers": entries,
            "config_sha256": config_sha256(self.config),
            "version": package_version(),
        }
        from .voi import scan_value_of_information  # issue 25: what to measure first

        self._dict["value_of_information"] = scan_value_of_information(self)
        return self._dict

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> Any:
        """One row per lever, by effect (pandas DataFrame, index = lever name).

        Columns: ``p_break_by_horizon`` and ``p_break_by_<36>`` with ``_low`` /
        ``_high``, their differences ``diff_p_break_by_horizon`` (and ``_low``,
        ``_high``), ``median_months``, ``cumulative_profit_mean``,
        ``diff_cumulative_profit``, ``p_insolvent``, ``diff_p_insolvent``,
        ``diff_owner_value`` (and ``_low``, ``_high``), ``p_pays_off``,
        ``cost_dollars_per_month``, ``cost_owner_hours_per_month``, ``break_even``, ``set``.
        """
        pd = require_pandas()
        data = self.to_dict()
        h, m = str(self.months), str(self.scan_month)
        rows = []
        for e in data["levers"]:
            d = e["difference"]
            rows.append({
                "lever": e["name"],
                "p_break_by_horizon": e["p_break_by"][h]["value"],
                "p_break_by_horizon_low": e["p_break_by"][h]["ci95"][0],
                "p_break_by_horizon_high": e["p_break_by"][h]["ci95"][1],
                f"p_break_by_{m}": e["p_break_by"][m]["value"],
                "diff_p_break_by_horizon": d["p_break_by_horizon"]["value"],
                "diff_p_break_by_horizon_low": d["p_break_by_horizon"]["ci95"][0],
                "diff_p_break_by_horizon_high": d["p_break_by_horizon"]["ci95"][1],
                f"diff_p_break_by_{m}": d[f"p_break_by_{m}"]["value"],
                "median_months": e["median_months"]["value"],
                "cumulative_profit_mean": e["cumulative_profit_mean"]["value"],
                "diff_cumulative_profit": d["cumulative_profit_mean"]["value"],
                "p_insolvent": e["p_insolvent"]["value"],
                "diff_p_insolvent": d["p_insolvent"]["value"],
                "diff_owner_value": d["owner_value_mean"]["value"],
                "diff_owner_value_low": d["owner_value_mean"]["ci95"][0],
                "diff_owner_value_high": d["owner_value_mean"]["ci95"][1],
                "p_pays_off": e["p_pays_off"]["value"],
                "cost_dollars_per_month": e["cost"].get("dollars_per_month"),
                "cost_owner_hours_per_month": e["cost"].get("owner_hours_per_month"),
                "break_even": e["break_even"],
                "set": json.dumps(e["set"]),
            })
        return pd.DataFrame(rows).set_index("lever")

    def plot(self, ax: Any = None) -> Any:
        """Each lever's change in P(break by the horizon) with its 95% interval
        (:func:`simulator.report.levers.lever_chart`)."""
        from ..report.levers import lever_chart

        return lever_chart(self, ax)

    def lines(self, top: int | None = 3) -> list[str]:
        """The top levers (by the owner's value) in words, e.g. ``"a salesperson from month
        1: 25% -> 75% by month 60 (+50 pp [47, 53]); owner value +$120,000 [90,000,
        150,000], pays off on 55% of paths; out of cash 3% (+1 pp); cost $7,600/month,
        4 owner hours/month; cumulative profit -$40,000; ..."``."""
        data = self.to_dict()
        h = str(self.months)
        before = data["as_is"]["p_break_by"][h]["value"]
        out = []
        for e in data["levers"][:top]:
            d = e["difference"]["p_break_by_horizon"]
            profit = e["difference"]["cumulative_profit_mean"]["value"]
            low, high = d["ci95"]
            value = e["difference"]["owner_value_mean"]
            cost = e["cost"]
            spend = cost.get("dollars_per_month")
            hours = cost.get("owner_hours_per_month")
            price = ("cost: see its overrides" if spend is None else
                     f"cost {money(spend)}/month, "
                     f"{hours:g} owner hours/month")
            out.append(
                f"{e['name']}: {pct_short(before)} -> {pct_short(e['p_break_by'][h]['value'])} "
                f"by month {self.months} ({_pp(d['value'])} pp [{_pp(low)}, {_pp(high)}]); "
                f"owner value {signed_dollars(value['value'])} "
                f"[{_dollars(value['ci95'][0])}, {_dollars(value['ci95'][1])}], pays off on "
                f"{pct_short(e['p_pays_off']['value'])} of paths; out of cash "
                f"{pct_short(e['p_insolvent']['value'])} "
                f"({_pp(e['difference']['p_insolvent']['value'])} pp); {price}; cumulative "
                f"profit {signed_dollars(profit)}; {e['break_even']}")
        return out


def _dollars(x: float | None) -> str:
    return "n/a" if x is None else signed_dollars(x)


def _pp(x: float | None) -> str:
    if x is None:
        return "n/a"
    return "0" if abs(100 * x) < 0.5 else f"{100 * x:+.0f}"


def _scan_outcomes(config: Config, n_paths: int, seed: int, chunk_size: int | None,
                   progress: bool | None) -> _Outcomes:
    """One scenario of the scan: every path's values for the paired differences, from a
    run of outcomes only (first passages, insolvency months, :data:`SCAN_COLUMNS`)."""
    options = RunOptions(chunk_size, progress, outcomes_only=True)
    return _Outcomes.of(*run(config, n_paths, seed, options, columns=SCAN_COLUMNS))


def lever_scan(
    config: Config,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    levers: Sequence[Lever] | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client: Any = None,
) -> LeverScanResult:
    """Simulate the business as it is and with each lever pulled, with common random numbers.

    Parameters
    ----------
    config : Config
        The business as it is.
    n_paths : int, optional
        Paths per scenario (default: ``simulation.paths``, at most
        :data:`DEFAULT_SCAN_PATHS`).
    seed : int or numpy.random.Generator, optional
        The common seed (default ``simulation.seed``).
    levers : sequence of Lever, optional
        Default :func:`resolve_levers` of ``config``.
    chunk_size, progress
        Passed to :func:`simulator.api.simulate`.
    client : distributed.Client or str, optional
        Run the business as it is and each lever as a Dask task (a client, or
        ``"local:N"`` / ``"tcp://HOST:PORT"``); the same bits.

    Returns
    -------
    LeverScanResult
    """
    levers = resolve_levers(config) if levers is None else list(levers)
    sim = config.simulation
    n_paths = min(sim.paths, DEFAULT_SCAN_PATHS) if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = sim.seed if seed is None else as_seed(seed)

    configs = [config, *(apply_lever(config, lever) for lever in levers)]
    outcomes = map_ordered(_scan_outcomes, [(cfg, n_paths, seed, chunk_size,
                                             progress if client is None else False)
                                            for cfg in configs], client=client)
    as_is, pulled = outcomes[0], outcomes[1:]
    return LeverScanResult(config=config, levers=list(levers), n_paths=n_paths, seed=seed,
                           _as_is=as_is, _pulled=pulled)
