"""Scale-out on Dask: bit-identical to a local run on a real LocalCluster (issue 13).

Two single-threaded worker processes (``local:2``; one, ``local:1``, in the
scheduler-string test and the command line's own cluster: a worker process more
is ~3 s of CPU to start, and chunks on two workers are the module cluster's
tests), each with its own numba cache directory. A run's
chunks (a sensitivity design's points, a comparison's scenarios, a
portfolio's MSPs, a lever scan's scenarios, a goal seek's evaluations) are
tasks; the result must be the same bits as without a cluster for any
chunking, with trajectories kept or statistics only, and after a worker is
killed in the middle of the run.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from simulator.api import simulate
from simulator.config import ConfigError, load_config

distributed = pytest.importorskip("distributed")

from simulator.runner.dask import close, connect, simulate_distributed  # noqa: E402

BASELINE = os.path.join(os.path.dirname(__file__), "..", "configs", "baseline.toml")


@pytest.fixture(scope="module")
def client():
    # Two worker processes: chunks land on both, and one can be killed. (A single
    # worker, local:1, is test_a_scheduler_string_connects_for_the_call_and_closes';
    # running every test on both clusters doubled the file's time for no new case.)
    from simulator.runner.warmup import engine_ready

    engine_ready()  # the engine's own cache up to date here: what the workers are seeded with
    client = connect("local:2")
    yield client
    close(client)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.first_passage, b.first_passage)
    np.testing.assert_array_equal(a.insolvency_month, b.insolvency_month)
    if b.paths_kept:
        for name in b.metric_names:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        for field in b.params.dtype.names:
            np.testing.assert_array_equal(a.params[field], b.params[field])
    else:
        for attr in ("count", "shift", "sum1", "sum2", "carry1", "carry2", "hist", "lo", "width",
                     "vmin", "vmax"):
            np.testing.assert_array_equal(getattr(a.stats, attr), getattr(b.stats, attr),
                                          err_msg=attr)


@pytest.mark.parametrize("chunk", [250, 1000])
def test_kept_paths_are_bit_identical(client, chunk):
    cfg = load_config(BASELINE)
    local = simulate(cfg, n_paths=2000, seed=5, chunk_size=700, progress=False)
    _same(simulate_distributed(cfg, n_paths=2000, seed=5, client=client, chunk_size=chunk),
          local)


@pytest.mark.parametrize("task_paths", [900, 4096, None])
def test_statistics_are_bit_identical_in_path_order(client, task_paths):
    """Tasks fold their paths on the workers (StatsPartial) and merge in path order: the
    same bits as folding every trajectory here, whether a task starts inside a block of
    the sums (900) or on a boundary."""
    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    local = simulate(cfg, n_paths=21_000, seed=3, chunk_size=4000, progress=False,
                     keep_paths=False)
    remote = simulate_distributed(cfg, n_paths=21_000, seed=3, client=client,
                                  chunk_size=900, keep_paths=False, window=3,
                                  task_paths=task_paths)
    _same(remote, local)
    assert remote.p_break_by(24) == local.p_break_by(24)


def test_columns_of_a_statistics_run_on_the_cluster(client):
    from simulator.analysis.compare import simulate_columns

    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    cols = [("mrr", -1), ("cash", 12), ("owner_value", -1)]  # a value, from each chunk
    run, values = simulate_columns(cfg, 13_000, 2, cols, keep_paths=False, chunk_size=3000)
    there, remote = simulate_columns(cfg, 13_000, 2, cols, keep_paths=False, chunk_size=3000,
                                     client=client)
    _same(there, run)
    for c in cols:
        np.testing.assert_array_equal(remote[c], values[c])


def test_a_killed_worker_changes_nothing(client):
    assert len(client.scheduler_info()["workers"]) == 2
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
    assert main(["run", *args, "--scheduler", "local:1", "--out", str(tmp_path / "a")]) == 0
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


def test_simulate_with_a_client_or_a_scheduler_string(client):
    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    local = simulate(cfg, n_paths=1500, seed=6, chunk_size=400, progress=False)
    for _ in range(3):  # the same config scattered again at once (once lost its data)
        _same(simulate(cfg, n_paths=1500, seed=6, chunk_size=300, progress=False,
                       client=client), local)
    later = simulate(cfg, n_paths=500, seed=6, first_path=1000, progress=False)
    _same(simulate_distributed(cfg, n_paths=500, seed=6, first_path=1000, chunk_size=200,
                               client=client), later)


def test_a_scheduler_string_connects_for_the_call_and_closes():
    cfg = load_config(BASELINE, overrides={"simulation.months": 12})
    local = simulate(cfg, n_paths=400, seed=1, progress=False)
    _same(simulate(cfg, n_paths=400, seed=1, chunk_size=150, progress=False,
                   client="local:1"), local)


def test_sensitivity_on_the_cluster_is_bit_identical(client, monkeypatch):
    import importlib

    sens_module = importlib.import_module("simulator.analysis.sensitivity")

    monkeypatch.setattr(importlib.import_module("simulator.analysis.sobol"), "_TASK_PATHS",
                        256)  # many tasks, arriving in any order
    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    kwargs = dict(n_base=16, seed=7, paths_per_point=4, tornado_paths=100, n_resamples=30)
    here = sens_module.sensitivity(cfg, **kwargs)
    seen = []
    there = sens_module.sensitivity(cfg, client=client, progress=lambda d, t: seen.append(d),
                                    **kwargs)
    assert there.to_dict() == here.to_dict()
    d = len(here.parameters)
    assert seen[-1] == 16 * (d + 2) + 2 * d + 1 and seen == sorted(seen)


def test_goal_seek_on_the_cluster_is_bit_identical(client):
    from simulator.analysis.goal import goal_seek

    cfg = load_config(BASELINE, overrides={"simulation.months": 36})
    kwargs = dict(range=(0.05, 0.4), n_paths=2500, seed=9, chunk_size=700, progress=False)
    here = goal_seek(cfg, "sales.meetings_per_selling_hour", "p_break_by_36 >= 0.3", **kwargs)
    there = goal_seek(cfg, "sales.meetings_per_selling_hour", "p_break_by_36 >= 0.3",
                      client=client, **kwargs)
    assert there.to_dict() == here.to_dict()


def test_lever_scan_on_the_cluster_is_bit_identical(client):
    from simulator.analysis.scan import lever_scan

    cfg = load_config(BASELINE, overrides={"simulation.months": 24})
    here = lever_scan(cfg, n_paths=400, seed=3, progress=False)
    there = lever_scan(cfg, n_paths=400, seed=3, client=client)
    assert there.to_dict() == here.to_dict()


def test_an_outcomes_only_run_on_the_cluster_keeps_the_same_parameters(client):
    """A run of outcomes only keeps its paths' parameters on Dask as here (what the lever
    scan's and the plan's owner values read), bit for bit."""
    from simulator.runner import RunOptions, run

    cfg = load_config(BASELINE, overrides={"simulation.months": 12})
    cols = [("cash", None)]
    here, local = run(cfg, 300, 4, RunOptions(100, False, outcomes_only=True), columns=cols,
                      first_path=50)
    there, remote = run(cfg, 300, 4, RunOptions(100, False, client=client, outcomes_only=True),
                        columns=cols, first_path=50)
    assert here.params is not None and there.params is not None
    assert there.params.tobytes() == here.params.tobytes()
    np.testing.assert_array_equal(remote[("cash", None)], local[("cash", None)])
    np.testing.assert_array_equal(there.first_passage, here.first_passage)


def test_cli_sensitivity_and_goal_on_a_cluster_write_the_same(client, tmp_path):
    # the module's cluster by its address (the CLI's tcp:// path): each local:2 started
    # a cluster of its own, two worker processes, for each command (test_cli_run_... does)
    scheduler = client.scheduler.address
    assert scheduler.startswith("tcp://")
    import json

    from simulator.cli import main

    sens = [BASELINE, "--months", "24", "--n-base", "8", "--paths-per-point", "4",
            "--tornado-paths", "80", "--no-progress",
            # three inputs (every unset assumption is uncertain since issue 24: ~70 of them)
            "--parameter", "staff.escalation_share", "--parameter", "churn.annual_rate",
            "--parameter", "customers.price_per_seat"]
    assert main(["sensitivity", *sens, "--scheduler", scheduler,
                 "--out", str(tmp_path / "s1")]) == 0
    assert main(["sensitivity", *sens, "--out", str(tmp_path / "s2")]) == 0
    a, b = (json.loads((tmp_path / d / "sensitivity.json").read_text()) for d in ("s1", "s2"))
    assert a == b
    goal = [BASELINE, "--months", "36", "--paths", "1200", "--vary",
            "sales.meetings_per_selling_hour", "--target", "p_break_by_36>=0.3",
            "--range", "0.05:0.4", "--no-progress"]
    assert main(["goal", *goal, "--scheduler", scheduler, "--out", str(tmp_path / "g1")]) == 0
    assert main(["goal", *goal, "--out", str(tmp_path / "g2")]) == 0
    a, b = (json.loads((tmp_path / d / "goal.json").read_text()) for d in ("g1", "g2"))
    assert a == b
    assert not list(tmp_path.glob(".*checkpoint"))  # removed once the output is written


def _engine_setup() -> tuple[str, int, int, int]:
    import numba

    from simulator.engine._kernel import run_paths

    stats = run_paths.stats  # the engine as the plugin loaded it: from its cache, or compiled
    return (os.environ.get("NUMBA_CACHE_DIR", ""), numba.get_num_threads(),
            sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))


def test_each_worker_has_its_own_numba_cache_and_one_engine_thread_per_task(client):
    setups = client.run(_engine_setup)
    caches = [cache for cache, *_ in setups.values()]
    from simulator.runner._dask_plugin import install_key

    # this install's own folders: another checkout's workers never seed or compile into them
    assert all(f"msp-sim/numba/install-{install_key()}/worker-" in c for c in caches)
    assert len(set(caches)) == len(caches)
    # private to this user (issue 28): not a predictable folder of the system temp directory
    for cache in caches:
        st = os.lstat(cache)
        assert st.st_uid == os.geteuid() and st.st_mode & 0o777 == 0o700, cache
        assert not cache.startswith(os.path.realpath(__import__("tempfile").gettempdir()))
    assert {threads for _, threads, *_ in setups.values()} == {1}
    # each worker loaded the engine (seeded from this install's cache), compiling nothing
    assert all(hits >= 1 and misses == 0 for *_, hits, misses in setups.values()), setups


def _cache_files(folder) -> dict:
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if p.suffix in (".nbi", ".nbc")}


def test_a_workers_cache_is_seeded_from_the_installs_own_privately(tmp_path):
    """seed_engine_cache copies the engine's compiled code into a worker's private folder
    (numba's own subfolder, 0700; files 0600, byte for byte), keeps a worker's newer
    index, replaces an older one, and reads nothing that is a link or another folder
    anyone else could write to (issue 28)."""
    import stat

    from numba.core.caching import _CacheLocator

    from simulator.engine._kernel import run_paths
    from simulator.runner._dask_plugin import ENGINE_DIR, engine_cache_subfolder, seed_engine_cache
    from simulator.runner.warmup import engine_ready

    engine_ready()
    sub = engine_cache_subfolder()
    assert sub == _CacheLocator.get_suitable_cache_subpath(run_paths.py_func.__code__.co_filename)
    source = tmp_path / "install" / sub  # an inherited NUMBA_CACHE_DIR's engine folder
    source.mkdir(parents=True)
    os.chmod(source, 0o700)  # whatever the umask
    for path in (Path(ENGINE_DIR) / "__pycache__").iterdir():
        if path.suffix in (".nbi", ".nbc"):
            (source / path.name).write_bytes(path.read_bytes())
    want = _cache_files(source)
    assert any(n.startswith("_kernel.run_paths-") and n.endswith(".nbi") for n in want)

    worker = tmp_path / "worker"
    worker.mkdir(mode=0o700)
    assert seed_engine_cache(str(worker), str(tmp_path / "install")) == len(want)
    seeded = worker / sub
    assert _cache_files(seeded) == want
    assert stat.S_IMODE(os.lstat(seeded).st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in seeded.iterdir()} == {0o600}
    assert seed_engine_cache(str(worker), str(tmp_path / "install")) == 0  # same digests

    index = next(n for n in want if n.endswith(".nbi"))
    (seeded / index).write_bytes(b"a worker's own, newer")
    assert seed_engine_cache(str(worker), str(tmp_path / "install")) == 0
    assert (seeded / index).read_bytes() == b"a worker's own, newer"
    os.utime(seeded / index, ns=(1, 1))  # older than the source's: replaced
    assert seed_engine_cache(str(worker), str(tmp_path / "install")) == 1
    assert _cache_files(seeded) == want

    # nothing read through a link, nor from a folder others can write to
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.unlink(source / index)
    os.symlink(seeded / index, source / index)
    assert seed_engine_cache(str(other), str(tmp_path / "install")) == len(want) - 1 - len(
        [n for n in want if n.startswith(index[:-3]) and n.endswith(".nbc")])
    assert not (other / sub / index).exists()
    os.chmod(source, 0o777)
    assert seed_engine_cache(str(tmp_path / "open"), str(tmp_path / "install")) == 0
    assert not (tmp_path / "open").exists()
    os.chmod(source, 0o700)
    link = tmp_path / "linked"
    link.mkdir()
    os.symlink(source, link / sub)
    assert seed_engine_cache(str(tmp_path / "via-link"), str(link)) == 0

    # a subfolder numba made itself before any seeding (os.makedirs: 0755) is narrowed to
    # 0700 and seeded (refused, the worker compiled the engine at every start); one others
    # can write to is refused (negative control)
    for mode, seeded_files in ((0o755, len(_cache_files(other / sub))), (0o775, 0)):
        made = tmp_path / f"numba-made-{mode:o}"
        (made / sub).mkdir(parents=True)
        os.chmod(made / sub, mode)
        assert seed_engine_cache(str(made), str(tmp_path / "install")) == seeded_files
        assert stat.S_IMODE(os.lstat(made / sub).st_mode) == (0o700 if seeded_files else mode)
