"""Same config and seed give bit-identical results on any threads and chunking."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import simulator
from simulator.api import simulate
from simulator.model.metrics import METRICS

SCRIPT = """
import sys, numpy as np, simulator
from simulator.api import simulate
cfg = simulator.load_config(sys.argv[1])
res = simulate(cfg, n_paths=300, seed=7, chunk_size=int(sys.argv[3]))
np.savez(sys.argv[2], first_passage=res.first_passage, **res.metrics)
"""


def _run_in_subprocess(tmp_path, config, threads: int, chunk: int) -> dict[str, np.ndarray]:
    out = tmp_path / f"t{threads}_c{chunk}.npz"
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    subprocess.run([sys.executable, "-c", SCRIPT, str(config), str(out), str(chunk)],
                   check=True, env=env)
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def test_threads_and_chunks_give_identical_arrays(tmp_path, baseline_path):
    one = _run_in_subprocess(tmp_path, baseline_path, threads=1, chunk=300)
    two = _run_in_subprocess(tmp_path, baseline_path, threads=2, chunk=37)
    assert set(one) == set(METRICS) | {"first_passage"}
    for name in one:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)


@pytest.mark.parametrize("sampling", ["random", "sobol"])
def test_prefix_stability(baseline_path, sampling):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.sampling": sampling,
                                                          "simulation.months": 24})
    small = simulate(cfg, n_paths=100, seed=11, chunk_size=64)
    large = simulate(cfg, n_paths=1000, seed=11, chunk_size=256)
    for name in METRICS:
        np.testing.assert_array_equal(small.metrics[name], large.metrics[name][:100],
                                      err_msg=name)
    np.testing.assert_array_equal(small.first_passage, large.first_passage[:100])
    np.testing.assert_array_equal(small.params, large.params[:100])


def test_lhs_is_reproducible_for_a_given_size(baseline_path):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.sampling": "lhs",
                                                          "simulation.months": 12})
    a = simulate(cfg, n_paths=200, seed=3, chunk_size=50)
    b = simulate(cfg, n_paths=200, seed=3, chunk_size=200)
    np.testing.assert_array_equal(a.metrics["mrr"], b.metrics["mrr"])
    # Stratification: each of 200 equal-probability strata of the churn rate holds one path.
    rate = np.sort(a.params["churn_annual_rate"])
    u = (rate - 0.08) / 0.07
    np.testing.assert_array_equal(np.floor(u * 200).astype(int), np.arange(200))


def test_different_seeds_differ(baseline_path):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.months": 12})
    a = simulate(cfg, n_paths=50, seed=1)
    b = simulate(cfg, n_paths=50, seed=2)
    assert not np.array_equal(a.metrics["mrr"], b.metrics["mrr"])


def test_generator_seed_is_accepted(baseline_path):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.months": 6})
    a = simulate(cfg, n_paths=20, seed=np.random.default_rng(5))
    b = simulate(cfg, n_paths=20, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.metrics["mrr"], b.metrics["mrr"])
    with pytest.raises(ValueError, match="seed"):
        simulate(cfg, n_paths=20, seed=-1)


def test_first_path_extends_a_run(baseline_path):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.months": 12})
    whole = simulate(cfg, n_paths=300, seed=4)
    tail = simulate(cfg, n_paths=120, seed=4, first_path=180)
    np.testing.assert_array_equal(tail.metrics["mrr"], whole.metrics["mrr"][180:])
    np.testing.assert_array_equal(tail.first_passage, whole.first_passage[180:])
