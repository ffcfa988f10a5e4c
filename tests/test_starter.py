"""``msp-sim init``'s starter config and the all-assumptions scan (issue 9)."""

from __future__ import annotations

import tomllib

from test_claims import CONFIGS

import simulator
from simulator.config.loader import config_from_dict
from simulator.config.schema import param_specs
from simulator.config.starter import (
    FIRST_KEYS,
    assumption_keys,
    assumptions_uncertain,
    starter_book,
    starter_toml,
)


def test_the_starter_is_the_baseline_business_with_its_book_written_out():
    data = tomllib.loads(starter_toml())
    starter = config_from_dict(data, source="starter")
    # an exact book to fill: the baseline's 16 clients, which give start.customers
    book = data["start"]["book"]
    assert book == starter_book() and "customers" not in data["start"]
    assert len(book) == 16 and starter.start.customers == 16
    assert all(set(c) == {"client", "seats", "monthly_fee", "contract_month"} for c in book)
    baseline = simulator.load_config(CONFIGS / "baseline.toml")
    assert starter.start.model_copy(update={"book": ()}) == baseline.start
    assert starter.model_copy(update={"start": baseline.start}) == baseline
    # the book's MRR is the baseline's expected MRR (16 x ~26 seats x $125), not a draw
    mrr = sum(c["monthly_fee"] for c in book)
    assert 48_000 < mrr < 56_000 and f"${mrr:,} MRR" in starter_toml()


def test_the_starter_sets_the_keys_a_coach_needs_first():
    data = tomllib.loads(starter_toml())
    for key in FIRST_KEYS:
        section, name = key.split(".", 1)
        assert name in data[section], key
    # price per seat, seats, churn, tickets per endpoint and hours per ticket, technician
    # cost, credit line and hiring
    assert {"customers.price_per_seat", "customers.seats", "churn.annual_rate",
            "tickets.per_endpoint_reactive", "tickets.hours_reactive",
            "staff.tech_cost_per_month", "finance.credit_limit",
            "staff.hire_cash_months"} <= set(FIRST_KEYS)
    # every other section's keys are commented out
    assert all(set(data[s]) <= {k.split(".", 1)[1] for k in FIRST_KEYS if k.startswith(s)}
               for s in data if s not in ("simulation", "start"))


def test_the_starter_says_what_the_legacy_lines_exclude():
    text = starter_toml()
    assert "outside the managed book" in text
    # the managed book's own purchases and projects, in dollars for the book written
    assert "projects.product_spend_per_seat_year" in text
    seats = sum(c["seats"] for c in starter_book())
    assert f"${250 * seats / 12:,.0f}/month for the book below" in text


def test_the_starter_lists_every_assumption_with_its_range():
    text = starter_toml()
    for key in assumption_keys():
        name = key.split(".", 1)[1]
        # commented out, or (the keys a coach asks first) written at the default
        assert (f"\n{name} = " if key in FIRST_KEYS else f"# {name} = ") in text, key
        lo, hi = param_specs()[key].plausible
        assert f"plausible {lo:g}-{hi:g}" in text
    # each commented line, uncommented, is a valid value of its key
    section = None
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif line.startswith("# ") and " = " in line and section not in (
                None, "start", "start.book"):
            body = line[2:].split("  # ", 1)[0]
            config_from_dict(tomllib.loads(f"[{section}]\n{body}\n"), source="starter")


def test_assumptions_uncertain_leaves_no_hidden_constant():
    base = simulator.load_config(CONFIGS / "baseline.toml")
    scanned, changed = assumptions_uncertain(base)
    for key in assumption_keys():
        value = scanned.get(key)
        assert not isinstance(value, int | float), key
        lo, hi = value.support()
        assert param_specs()[key].plausible[0] <= lo and hi <= param_specs()[key].plausible[1]
    # the baseline sets no assumption: every one is widened (issue 24: what a config sets
    # is never widened, tests/test_uncertainty.py)
    assert set(changed) == set(assumption_keys())
    assert scanned.start == base.start


# -- the command line ------------------------------------------------------------------


def test_init_writes_the_starter_and_never_overwrites(tmp_path, capsys):
    from simulator.cli import main

    path = tmp_path / "new" / "mine.toml"
    assert main(["init", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == starter_toml()
    assert [p.name for p in path.parent.iterdir()] == ["mine.toml"]  # no temporary left
    assert "msp-sim run" in capsys.readouterr().out
    path.write_text("mine\n", encoding="utf-8")
    assert main(["init", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "--force" in err[0]
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert main(["init", str(path), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == starter_toml()
    assert main(["init", str(tmp_path / "mine.txt")]) == 2
    assert "ending in .toml" in capsys.readouterr().err
    assert not (tmp_path / "mine.txt").exists()


def test_sensitivity_all_assumptions_scans_the_fixed_ones(tmp_path, capsys):
    import json

    from simulator.cli import main

    out = tmp_path / "sens"
    # one outcome: the report's two charts draw a panel of ~100 bars per outcome (six
    # panels took most of this test's time); the scan's inputs are the same for each
    code = main(["sensitivity", str(CONFIGS / "baseline.toml"), "--all-assumptions",
                 "--months", "12", "--n-base", "8", "--paths-per-point", "1",
                 "--tornado-paths", "10", "--outcome", "p_break_by_horizon",
                 "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    scanned = {row["parameter"] for row in json.loads(
        (out / "sensitivity.json").read_text(encoding="utf-8"))["outcomes"][0]["indices"]}
    # every assumption is among the inputs, those the baseline fixes included
    assert set(assumption_keys()) <= scanned
    assert "--all-assumptions:" in captured.err
