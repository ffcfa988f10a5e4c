"""Runs of outcomes only (issue 27): the same bits as the runs they replace.

``goal``, ``portfolio``, the lever scan and ``sensitivity`` read per-path
outcomes only (first passages, insolvency months, a few columns); their runs
keep neither trajectories nor monthly statistics and the engine writes only the
columns' metrics. Each is checked against the run it replaced, at fixed seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.config import load_config
from simulator.engine import run_chunk
from simulator.model.metrics import METRICS
from simulator.model.sampling import draw_parameters, path_seeds, prepare
from simulator.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[1]
PATHS = 300


@pytest.fixture(scope="module")
def baseline():
    return load_config(ROOT / "configs" / "baseline.toml")


@pytest.fixture(scope="module")
def kept(baseline):
    """The run with every trajectory kept: what the others must equal."""
    return run(baseline, PATHS, 5, RunOptions(progress=False, keep_paths=True))[0]


def test_engine_writes_only_the_kept_metrics_in_their_order(baseline):
    params, seeds = draw_parameters(baseline, 3, 0, 40), path_seeds(3, 0, 40)
    inputs = prepare(baseline)
    full, fp, im = run_chunk(params, seeds, inputs)
    keep = np.array([METRICS.index("cash"), METRICS.index("mrr")])
    part, fp2, im2 = run_chunk(params, seeds, inputs, keep=keep)
    assert part.shape == (40, 2, baseline.simulation.months + 1)
    assert np.array_equal(part, full[:, keep]) and np.array_equal(fp, fp2)
    assert np.array_equal(im, im2)
    none, fp3, _ = run_chunk(params, seeds, inputs, keep=np.array([], dtype=np.int64))
    assert none.shape[1] == 0 and np.array_equal(fp, fp3)
    with pytest.raises(ValueError, match="metric indices"):
        run_chunk(params, seeds, inputs, keep=np.array([len(METRICS)]))


def test_outcomes_only_run_equals_the_kept_run(baseline, kept):
    columns = [("pretax_profit", None), ("mrr", -1), ("cash", 6)]
    result, values = run(baseline, PATHS, 5, RunOptions(progress=False, outcomes_only=True,
                                                        chunk_size=70), columns=columns)
    assert not result.paths_kept and result.stats is None
    assert np.array_equal(result.first_passage, kept.first_passage)
    assert np.array_equal(result.insolvency_month, kept.insolvency_month)
    assert np.array_equal(values[("pretax_profit", None)], kept["pretax_profit"])
    assert np.array_equal(values[("mrr", -1)], kept["mrr"][:, -1])
    assert np.array_equal(values[("cash", 6)], kept["cash"][:, 6])
    assert result.p_break_by(36) == kept.p_break_by(36)
    with pytest.raises(ValueError, match="outcomes only"):
        result.mean("mrr")


def test_a_statistics_run_has_the_exact_horizon_block(baseline, kept):
    streamed = run(baseline, PATHS, 5, RunOptions(progress=False, keep_paths=False))[0]
    a, b = kept.at_horizon(), streamed.at_horizon()
    for key in ("mrr_p50", "p_above_threshold", "cash_p10", "cash_p50", "cash_p90"):
        assert a[key] == b[key], key


def test_lever_scan_outcomes_equal_those_of_kept_trajectories(baseline, kept):
    from simulator.analysis.scan import _Outcomes, _scan_outcomes

    fast = _scan_outcomes(baseline, PATHS, 5, None, False)
    slow = _Outcomes.of(kept)
    assert fast.summary == slow.summary
    for name in ("broke", "broke_by_month", "insolvent", "cumulative_profit", "mrr_final"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_goal_and_portfolio_read_the_same_numbers(baseline, kept):
    from simulator.analysis.compare import simulate_columns
    from simulator.analysis.portfolio import _entry
    from simulator.analysis.targets import parse_target

    months = baseline.simulation.months
    for text in ("p_break_by_36 >= 0.5", "mrr_p50_24 >= 80000", "cash_mean_horizon >= 0"):
        target = parse_target(text, months)
        columns = [] if target.column is None else [target.column]
        streamed, old = simulate_columns(baseline, PATHS, 5, columns, keep_paths=False,
                                         progress=False)
        fast, new = simulate_columns(baseline, PATHS, 5, columns, keep_paths=False,
                                     progress=False, outcomes_only=True)
        values = None if target.column is None else (old[target.column], new[target.column])
        assert target.estimate(streamed, values and values[0]) == target.estimate(
            fast, values and values[1]), text

    class Msp:
        name, row = "a", 2

    outcomes = run(baseline, PATHS, 5, RunOptions(progress=False, outcomes_only=True))[0]
    assert _entry(Msp, outcomes) == _entry(Msp, kept)
