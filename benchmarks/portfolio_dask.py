"""Dask: ``python benchmarks/portfolio_dask.py [--msps 1000] [--paths 1000] [--run-paths N]``.

The same portfolio (MSPs of the baseline with different books) run in this
process, then on ``local:1`` and ``local:2`` (worker processes, each warmed
before the timed part): wall seconds, the speedup of two workers over one,
the overhead of one worker over the in-process run on one engine thread, and of
two over the in-process run on every core. Then one run of
``--run-paths`` paths, statistics only, in this process and on each cluster
(chunks as tasks, folded in path order). Dask's own cost per task is
measured with tasks that do nothing (submitted, run and gathered, best of 3
rounds of 2,000). Results are checked bit-identical. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numba
from _common import BASELINE, git_commit

from simulator.analysis.portfolio import Msp, portfolio
from simulator.api import simulate
from simulator.config import config_from_dict, load_config
from simulator.runner.dask import close, connect


def _noop(k: int) -> int:
    return k


def _task_cost_s(client, n: int = 2000) -> float:
    """Seconds per task of Dask itself: ``n`` tasks that do nothing, submitted and gathered."""
    best = float("inf")
    for round_ in range(3):
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(round_ * n, (round_ + 1) * n), pure=False))
        best = min(best, time.perf_counter() - t0)
    return best / n


def _msps(n: int) -> list[Msp]:
    return [Msp(f"MSP {k:05d}", config_from_dict({"start": {"customers": 8 + k % 25,
                                                             "techs": 2 + k % 6}}), k + 2)
            for k in range(n)]


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--msps", type=int, default=1000)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--run-paths", type=int, default=300_000)
    args = parser.parse_args()
    config = load_config(BASELINE)
    msps = _msps(args.msps)
    simulate(config, n_paths=20_000, progress=False, keep_paths=False)  # warm the fold too
    portfolio(msps[:2], n_paths=args.paths)  # and the engine
    fig: dict = {"commit": git_commit(), "msps": args.msps, "paths": args.paths,
                 "run_paths": args.run_paths}
    # in this process with the engine on 1 thread (what one single-threaded worker has)
    # and on every core (what local:N with N = cores has)
    cores = numba.get_num_threads()
    for threads, name in ((1, "1_thread"), (cores, "all_threads")):
        numba.set_num_threads(threads)
        t0 = time.perf_counter()
        run_here = simulate(config, n_paths=args.run_paths, progress=False, keep_paths=False)
        fig[f"run_in_process_{name}_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        here = portfolio(msps, n_paths=args.paths)
        fig[f"in_process_{name}_s"] = time.perf_counter() - t0
    for workers in (1, 2):
        client = connect(f"local:{workers}")
        portfolio(msps[:2 * workers], n_paths=args.paths, client=client)  # warm the workers
        t0 = time.perf_counter()
        there = portfolio(msps, n_paths=args.paths, client=client)
        fig[f"local{workers}_s"] = time.perf_counter() - t0
        assert there.to_dict() == here.to_dict(), "not bit-identical"
        simulate(config, n_paths=20_000, progress=False, keep_paths=False, client=client)
        t0 = time.perf_counter()
        run_there = simulate(config, n_paths=args.run_paths, progress=False, keep_paths=False,
                             client=client)
        fig[f"run_local{workers}_s"] = time.perf_counter() - t0
        assert run_there.summary() == run_here.summary(), "run not bit-identical"
        fig[f"task_cost_local{workers}_ms"] = 1e3 * _task_cost_s(client)
        close(client)
    fig["speedup_2_over_1"] = fig["local1_s"] / fig["local2_s"]
    fig["overhead_local1_over_in_process_1_thread"] = fig["local1_s"] / fig[
        "in_process_1_thread_s"]
    fig["overhead_local2_over_in_process_all_threads"] = fig["local2_s"] / fig[
        "in_process_all_threads_s"]
    fig["run_overhead_local1_over_in_process_1_thread"] = fig["run_local1_s"] / fig[
        "run_in_process_1_thread_s"]
    fig["run_overhead_local2_over_in_process_all_threads"] = fig["run_local2_s"] / fig[
        "run_in_process_all_threads_s"]
    fig["run_speedup_2_over_1"] = fig["run_local1_s"] / fig["run_local2_s"]
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
