"""``--paths auto``: adding paths until P(break by the horizon) is precise enough.

The promise: the run stops once the Wilson 95% interval of P(break by the
horizon) has a half-width below the tolerance, and the estimate is then
within that precision of the truth. Checked by re-running with independent
seeds: if each estimate p_i has standard error s_i = half_width_i / 1.96,
then sum((p_i - p_pooled)^2 / s_i^2) is chi-square with K - 1 degrees of
freedom; estimates less precise than promised would inflate it. The test
fails above the 0.999 quantile (false alarm 1 in 1000 for these fixed seeds).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator import simulate
from simulator.analysis import AdaptiveResult, simulate_to_precision
from simulator.config import ConfigError, config_from_dict
from simulator.report import write_outputs

ROOT = Path(__file__).resolve().parents[1]
TOL = 0.01


def config(months: int = 36, **overrides):
    with (ROOT / "configs" / "baseline.toml").open("rb") as fh:
        data = tomllib.load(fh)
    data.setdefault("simulation", {})["months"] = months
    return config_from_dict(data, overrides=overrides)


@pytest.fixture(scope="module")
def run() -> AdaptiveResult:
    return simulate_to_precision(config(), tolerance=TOL, seed=5)


def test_stops_at_the_promised_precision(run):
    trace = run.convergence
    assert run.converged
    assert trace[-1]["half_width"] < TOL <= trace[-2]["half_width"]
    assert [e["paths"] for e in trace] == sorted({e["paths"] for e in trace})
    assert run.n_paths == trace[-1]["paths"]
    est = run.p_break_by(run.months)
    assert trace[-1]["estimate"] == est.value
    assert trace[-1]["ci95"] == [est.low, est.high]
    # it stops near the size the precision needs (p(1-p) z^2 / tol^2), not far beyond
    p = est.value
    needed = 1.96**2 * p * (1 - p) / TOL**2
    assert run.n_paths < 1.3 * needed, (run.n_paths, needed)


def test_identical_to_a_fixed_run_of_the_same_size(run):
    fixed = simulate(config(), n_paths=run.n_paths, seed=5)
    np.testing.assert_array_equal(run.first_passage, fixed.first_passage)
    np.testing.assert_array_equal(run["mrr"], fixed["mrr"])
    np.testing.assert_array_equal(run.params, fixed.params)


def test_reruns_with_other_seeds_agree_within_the_promise():
    runs = [simulate_to_precision(config(), tolerance=TOL, seed=s) for s in (101, 102, 103,
                                                                               104, 105, 106)]
    p = np.array([r.convergence[-1]["estimate"] for r in runs])
    se = np.array([r.convergence[-1]["half_width"] for r in runs]) / 1.96
    assert np.all(se * 1.96 < TOL)
    w = 1 / se**2
    pooled = np.sum(w * p) / np.sum(w)
    chi2 = float(np.sum((p - pooled) ** 2 / se**2))
    limit = stats.chi2.ppf(0.999, len(runs) - 1)
    assert chi2 < limit, (p, se, chi2, limit)


def test_cap_stops_an_unconverged_run():
    res = simulate_to_precision(config(24), tolerance=0.001, max_paths=1500, seed=1)
    assert res.n_paths == 1500 and not res.converged
    assert res.convergence[-1]["half_width"] >= 0.001
    assert res.summary()["convergence"]["converged"] is False


def test_summary_and_outputs_carry_the_trace(run, tmp_path):
    summary = run.summary()
    conv = summary["convergence"]
    assert conv["target"] == "p_break_by_horizon"
    assert conv["tolerance"] == TOL and conv["converged"] is True
    assert conv["trace"] == run.convergence
    # on disk, from a smaller auto run (writing the outputs of the ~7,600 paths above,
    # their uncertainty split and report, took ~15 s for the same check)
    small = simulate_to_precision(config(), tolerance=0.03, seed=5, initial_paths=200)
    assert len(small.convergence) > 1 and small.converged
    out = write_outputs(small, tmp_path / "out", save_paths=False)
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["convergence"] == small.summary()["convergence"]
    assert on_disk["convergence"]["trace"][-1]["paths"] == small.n_paths
    assert on_disk["n_paths"] == small.n_paths


def test_sobol_is_prefix_stable_and_lhs_is_refused():
    sob = config(24, **{"simulation.sampling": "sobol"})
    res = simulate_to_precision(sob, tolerance=0.03, seed=2, initial_paths=200)
    assert len(res.convergence) > 1
    fixed = simulate(sob, n_paths=res.n_paths, seed=2)
    np.testing.assert_array_equal(res.params, fixed.params)
    with pytest.raises(ConfigError, match=r'simulation.sampling = "lhs".*"random" or "sobol"'):
        simulate_to_precision(config(24, **{"simulation.sampling": "lhs"}), tolerance=0.05)


@pytest.mark.parametrize(("tolerance", "max_paths", "words"), [
    (0.0, 100, "tolerance = 0.0: out of range"),
    (0.5, 100, "0 < value < 0.5"),
    (0.01, 0, "max_paths = 0: out of range"),
])
def test_bad_arguments(tolerance, max_paths, words):
    with pytest.raises(ConfigError, match=words):
        simulate_to_precision(config(12), tolerance=tolerance, max_paths=max_paths)
