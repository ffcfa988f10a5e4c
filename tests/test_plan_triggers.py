"""The plan's trigger rules (sales.rep_hire_margin_multiple, alignment.start_clients,
staff.first_manager_at_techs): engine and reference bit for bit where nothing is random,
and each rule fires when (and only when) its condition holds."""

from __future__ import annotations

import numpy as np
from test_engine_vs_reference import DETERMINISTIC
from test_reference import merged, run_paths

from simulator.engine import run_chunk
from simulator.model.metrics import METRICS
from simulator.model.reference import simulate_reference

# DETERMINISTIC has no meetings: a rep only costs (rep_meetings 0), so the month the rep
# starts shows in the profit; 30 clients and no sales, so the client count stays 30.
BASE = merged(DETERMINISTIC, sales={"rep_meetings_per_month": 0.0, "rep_cost_per_month":
                                    5_000.0},
              staff={"techs_per_manager": 100.0})


def _both(data: dict) -> dict[str, np.ndarray]:
    me, fe, ie = run_paths(run_chunk, data, n_paths=2, seed=3)
    mr, fr, ir = run_paths(simulate_reference, data, n_paths=2, seed=3)
    for name in METRICS:
        assert np.array_equal(me[name], mr[name]), name
    assert np.array_equal(fe, fr) and np.array_equal(ie, ir)
    return mr


def _rep_month(data: dict) -> int | None:
    """The first month whose profit differs from the same business without a rep."""
    with_rep = _both(merged(data, sales={"reps": 1}))["pretax_profit"][0]
    without = _both(data)["pretax_profit"][0]
    months = np.flatnonzero(with_rep != without)
    return int(months[0]) if months.size else None


def test_rep_trigger_waits_for_gross_margin():
    assert _rep_month(merged(BASE, sales={"rep_start_month": 4})) == 4
    # gross profit of a month covers ~2-3x a $5k rep here: k = 1 fires at once (month 2),
    # no earlier than the start month; k = 100 never
    assert _rep_month(merged(BASE, sales={"rep_hire_margin_multiple": 1.0})) == 2
    assert _rep_month(merged(BASE, sales={"rep_hire_margin_multiple": 1.0,
                                          "rep_start_month": 7})) == 7
    assert _rep_month(merged(BASE, sales={"rep_hire_margin_multiple": 100.0})) is None


def test_alignment_trigger_on_client_count():
    on = merged(BASE, alignment={"enabled": True, "start_month": 1})
    reached = _both(merged(on, alignment={"start_clients": 30}))["alignment_staff"][0]
    never = _both(merged(on, alignment={"start_clients": 31}))["alignment_staff"][0]
    assert never.max() == 0 and reached.max() > 0
    assert np.array_equal(reached, _both(merged(on, alignment={"start_month": 2}))
                          ["alignment_staff"][0])


def test_first_manager_at_techs():
    none = _both(BASE)["managers"][0]
    first = _both(merged(BASE, staff={"first_manager_at_techs": 2}))["managers"][0]
    assert none.max() == 0 and first.max() == 1
    never = _both(merged(BASE, staff={"first_manager_at_techs": 500}))["managers"][0]
    assert never.max() == 0
