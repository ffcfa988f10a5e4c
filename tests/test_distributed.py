"""Scale-out on Dask: bit-identical to a local run on a real LocalCluster (issue 13).

Two single-threaded worker processes (``local:2``), each with its own numba
cache directory. A run's chunks are tasks; the result must be the same bits
as :func:`simulator.simulate` for any chunking, with trajectories kept or
statistics only, and after a worker is killed in the middle of the run.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from simulator.api import simulate
from simulator.config import ConfigError, load_config

distributed = pytest.importorskip("distributed")

from simulator.distributed import connect, simulate_distributed  # noqa: E402

BASELINE = os.path.join(os.path.dirname(__file__), "..", "configs", "baseline.toml")


@pytest.fixture(scope="module")
def client():
    client = connect("local:2")
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.first_passage, b.first_passage)
    np.testing.assert_array_equal(a.insolvency_month, b.insolvency_month)
    if b.paths_kept:
        for name in b.metric_names:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        for field in b.params.dtype.names:
            np.testing.assert_array_equal(a.params[field], b.params[field])
    else:
        for attr in ("shift", "sum1", "sum2", "hist", "lo", "width", "vmin", "vmax"):
            np.testing.assert_array_equal(getattr(a.stats, attr), getattr(b.stats, attr),
                                          err_msg=attr)


@pytest.mark.parametrize("chunk", [250, 1000])
def test_kept_paths_are_bit_identical(client, chunk):
    cfg = load_config(BASELINE)
    local = simulate(cfg, n_paths=2000, seed=5, chunk_size=700, progress=False)
    _same(simulate_distributed(cfg, n_paths=2000, seed=5, client=client, chunk_size=chunk),
          local)


def test_statistics_are_bit_identical_in_path_order(client):
    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    local = simulate(cfg, n_paths=12_000, seed=3, chunk_size=4000, progress=False,
                     keep_paths=False)
    remote = simulate_distributed(cfg, n_paths=12_000, seed=3, client=client,
                                  chunk_size=900, keep_paths=False, window=3)
    _same(remote, local)
    assert remote.p_break_by(24) == local.p_break_by(24)


def test_a_killed_worker_changes_nothing(client):
    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    local = simulate(cfg, n_paths=3000, seed=8, progress=False)
    killed = []

    def kill_one(done, total):
        if not killed:  # SIGKILL one worker process after the first chunk arrives
            worker = sorted(client.scheduler_info()["workers"])[0]
            pid = client.run(os.getpid, workers=[worker])[worker]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    remote = simulate_distributed(cfg, n_paths=3000, seed=8, client=client, chunk_size=100,
                                  progress=kill_one)
    assert killed
    _same(remote, local)


def test_bad_and_unreachable_schedulers_are_clear_errors():
    with pytest.raises(ConfigError, match="allowed: local:N"):
        connect("local:zero")
    with pytest.raises(ConfigError, match="allowed: local:N or tcp://HOST:PORT"):
        connect("somewhere:1")
    with pytest.raises(ConfigError, match="cannot reach the scheduler at tcp://127.0.0.1:9"):
        connect("tcp://127.0.0.1:9", timeout=2)


def test_portfolio_on_the_cluster_is_bit_identical(client, tmp_path):
    from simulator.analysis.portfolio import Msp, portfolio
    from simulator.config import config_from_dict

    msps = [Msp(f"M{k}", config_from_dict({"simulation": {"months": 24},
                                           "start": {"customers": 10 + 3 * k, "techs": 3}}),
                k + 2) for k in range(4)]
    here = portfolio(msps, n_paths=300, seed=2, levers=True)
    there = portfolio(msps, n_paths=300, seed=2, levers=True, client=client)
    np.testing.assert_array_equal(there.p_break, here.p_break)
    assert there.to_dict() == here.to_dict()


def test_cli_run_on_a_local_cluster_writes_the_same_summary(tmp_path, capsys):
    import json

    from simulator.cli import main

    args = [BASELINE, "--paths", "600", "--months", "24", "--no-levers", "--no-progress"]
    assert main(["run", *args, "--scheduler", "local:2", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", *args, "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a == b
    assert main(["run", *args, "--scheduler", "local:0", "--out", str(tmp_path / "c")]) == 2
    assert "allowed: local:N" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_compare_on_the_cluster_is_bit_identical(client):
    from simulator.analysis import compare

    base = load_config(BASELINE, overrides={"simulation.months": 24})
    aligned = load_config(BASELINE, overrides={"simulation.months": 24,
                                               "alignment.enabled": True})
    here = compare([base, aligned], names=["as is", "aligned"], n_paths=800, seed=4,
                   progress=False)
    there = compare([base, aligned], names=["as is", "aligned"], n_paths=800, seed=4,
                    progress=False, client=client)
    assert there.to_dict() == here.to_dict()
    _same(there.results[1], here.results[1])
