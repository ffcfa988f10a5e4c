"""msp-sim speed on the baseline config: ``python benchmarks/run.py [--quick]``.

Measured in one run, with a warm numba cache and set-up (config, parameter
draws, compilation) outside the timed parts:

- the engine at 10k and 100k paths (best of 3): wall seconds, paths per
  second, customer-months per second (active customers summed over all
  path-months);
- the plain-Python reference model on a few hundred paths (best of 3), and
  the engine's speedup over it (customer-months per second);
- a calibration loop: uniforms per second drawn by a minimal numba ``prange``
  kernel that seeds every path as the engine does (xoshiro256**, per-path
  state) and draws one uniform per customer-month of the engine's run;
  ``cm_per_uniform`` is the engine's customer-months per second over it
  (> 1: the engine is faster than a design that draws one number per
  customer per month); and the same ratio for a floor kernel that does only
  what any engine of this model must (seed each path, draw each month's
  ticket count, write the metrics; and the writes alone), the ratio's
  ceiling on this machine;
- a 1M-path run through ``simulator.simulate`` (statistics only, as every run
  past the trajectory limit) in a fresh process: wall seconds and peak RSS;
- cold (empty ``NUMBA_CACHE_DIR``) and warm (best of 3) starts of
  ``msp-sim run configs/baseline.toml --paths 10000`` as whole processes.

Prints a table and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import simulator
from simulator import sampling
from simulator.engine import _random, run_chunk
from simulator.engine._jit import jit_parallel, prange
from simulator.metrics import METRICS
from simulator.reference import simulate_reference

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
CUSTOMERS = METRICS.index("customers")

BIG_RUN = """
import sys, time
import simulator
from simulator.api import simulate
cfg = simulator.load_config(sys.argv[1])
simulate(cfg, n_paths=1000, progress=False)  # load the cached kernels
t0 = time.perf_counter()
res = simulate(cfg, n_paths=int(sys.argv[2]), progress=False, keep_paths=False)
wall = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent
with open("/proc/self/status") as fh:
    rss_mb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
print(wall, rss_mb, res.p_break_by(res.months).value)
"""


@jit_parallel
def _uniform_draws(seeds, draws_per_path):
    """Seed each path as the engine does, then draw ``draws_per_path`` uniforms."""
    out = np.empty(seeds.size)
    for i in prange(seeds.size):
        state = np.empty(4, dtype=np.uint64)
        _random.seed_state(state, seeds[i])
        acc = 0.0
        for _ in range(draws_per_path):
            acc += _random.uniform(state)
        out[i] = acc
    return out


@jit_parallel
def _floor_kernel(seeds, months, tickets_per_month, draw_tickets, out):
    """The least any engine of this model does per path (the ``cm_per_uniform`` ceiling).

    Seed the path's generator, draw each month's ticket count (a model output
    that drives the owner's month, so no engine can skip it; with
    ``draw_tickets`` false, the mean instead) and write the month's metrics:
    no customers, sales, churn or money at all.
    """
    for i in prange(seeds.size):
        state = np.empty(4, dtype=np.uint64)
        _random.seed_state(state, seeds[i])
        block = out[i]
        for t in range(months + 1):
            if draw_tickets:
                tickets = float(_random.poisson(state, tickets_per_month))
            else:
                tickets = tickets_per_month + t
            for m in range(block.shape[0]):
                block[m, t] = tickets


def _inputs(config, n_paths: int, seed: int = 1):
    run = sampling.prepare(config)
    params = sampling.draw_parameters(config, seed, 0, n_paths)
    seeds = sampling.path_seeds(seed, 0, n_paths)
    return params, seeds, run


def _customer_months(metrics: np.ndarray) -> float:
    return float(metrics[:, CUSTOMERS, 1:].sum())


def _best_of(fn, repeats: int):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _cli_start(paths: int, cache_dir: str, out_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    cmd = [str(Path(sys.executable).with_name("msp-sim")), "run", str(BASELINE), "--paths",
           str(paths), "--out", out_dir, "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs (2k/10k engine paths, 100k-path big run)")
    args = parser.parse_args(argv)
    config = simulator.load_config(BASELINE)
    rows: list[tuple[str, str]] = []
    fig: dict[str, float] = {}

    # engine ----------------------------------------------------------------
    run_chunk(*_inputs(config, 64))  # compile or load the cache outside the timing
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    for n in sizes:
        params, seeds, run = _inputs(config, n)
        wall, (metrics, _) = _best_of(lambda p=params, s=seeds, r=run: run_chunk(p, s, r), 3)
        cm = _customer_months(metrics)
        rows.append((f"engine, {n:,} paths (best of 3)",
                     f"{wall:.3f} s, {n / wall:,.0f} paths/s, {cm / wall:,.0f} cust-months/s"))
        fig.update(paths_per_s=n / wall, customer_months_per_s=cm / wall,
                   cm_per_path=cm / n,
                   tickets_per_month=float(metrics[:, METRICS.index("tickets"), 1:].mean()))
    fig["wall_s_100k"] = wall * 100_000 / sizes[-1]
    if args.quick:
        rows.append(("engine, 100k paths (scaled)", f"{fig['wall_s_100k']:.3f} s"))

    # reference -------------------------------------------------------------
    n_ref = 50 if args.quick else 300
    params, seeds, run = _inputs(config, n_ref)
    # best of 3, as the engine: the reference's speed varies by +-25% run to run
    wall, (metrics, _) = _best_of(lambda: simulate_reference(params, seeds, run),
                                  1 if args.quick else 3)
    ref_cm_per_s = _customer_months(metrics) / wall
    fig["speedup_vs_reference"] = fig["customer_months_per_s"] / ref_cm_per_s
    rows.append((f"reference model, {n_ref} paths",
                 f"{wall:.2f} s, {ref_cm_per_s:,.0f} cust-months/s; engine "
                 f"{fig['speedup_vs_reference']:,.0f}x faster"))

    # calibration: uniforms per second ---------------------------------------
    draws_per_path = int(round(fig["cm_per_path"]))
    n_cal = sizes[-1]
    cal_seeds = sampling.path_seeds(1, 0, n_cal)
    _uniform_draws(cal_seeds[:8], 4)
    wall, _ = _best_of(lambda: _uniform_draws(cal_seeds, draws_per_path), 3)
    fig["uniform_draws_per_s"] = n_cal * draws_per_path / wall
    fig["cm_per_uniform"] = fig["customer_months_per_s"] / fig["uniform_draws_per_s"]
    rows.append((f"uniforms, {n_cal:,} paths x {draws_per_path} (seeded per path)",
                 f"{fig['uniform_draws_per_s']:,.0f} draws/s; engine cust-months per "
                 f"uniform: {fig['cm_per_uniform']:.2f}"))
    # The ceiling of cm_per_uniform for this model: a kernel doing only what
    # every engine must (seed, the month's ticket draw, the metrics written),
    # timed like the engine, into a reused output array (its most favourable case).
    tickets = fig["tickets_per_month"]
    floor_out = np.empty((n_cal, len(METRICS), config.simulation.months + 1))
    for draw, key, what in ((False, "write_floor_cm_per_uniform", "metrics written only"),
                            (True, "floor_cm_per_uniform", "ticket draw + metrics")):
        _floor_kernel(cal_seeds[:8], 2, tickets, draw, floor_out[:8])
        wall, _ = _best_of(lambda d=draw: _floor_kernel(
            cal_seeds, config.simulation.months, tickets, d, floor_out), 3)
        fig[key] = n_cal * fig["cm_per_path"] / wall / fig["uniform_draws_per_s"]
        rows.append((f"floor kernel, {n_cal:,} paths ({what})",
                     f"{wall:.3f} s; its cust-months per uniform: {fig[key]:.2f}"))

    # big run in a fresh process --------------------------------------------
    n_big = 100_000 if args.quick else 1_000_000
    proc = subprocess.run([sys.executable, "-c", BIG_RUN, str(BASELINE), str(n_big)],
                          check=True, capture_output=True, text=True)
    wall_big, rss_big, _ = (float(x) for x in proc.stdout.split())
    fig["wall_s_1m"] = wall_big * 1_000_000 / n_big
    fig["peak_rss_mb_1m"] = rss_big
    rows.append((f"simulate(), {n_big:,} paths, statistics only",
                 f"{wall_big:.2f} s, peak RSS {rss_big:,.0f} MB"))

    # whole-process starts ---------------------------------------------------
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        fig["cold_start_s"] = _cli_start(10_000, cache, str(Path(out) / "cold"))
        # best of 3, as the engine (one run varies by +-20% on a shared VM)
        fig["warm_start_s"] = min(_cli_start(10_000, cache, str(Path(out) / f"warm{k}"))
                                  for k in range(3))
    rows.append(("msp-sim run --paths 10000, cold / warm cache (best of 3)",
                 f"{fig['cold_start_s']:.1f} s / {fig['warm_start_s']:.2f} s"))

    print(f"msp-sim {simulator.__version__} at {_git_commit()}; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numba threads {_numba_threads()}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    keys = ("customer_months_per_s", "paths_per_s", "speedup_vs_reference",
            "uniform_draws_per_s", "cm_per_uniform", "wall_s_100k", "wall_s_1m",
            "peak_rss_mb_1m", "cold_start_s", "warm_start_s", "floor_cm_per_uniform",
            "write_floor_cm_per_uniform")
    print(json.dumps({k: round(fig[k], 4) for k in keys}))
    return fig


def _numba_threads() -> int:
    import numba

    return numba.get_num_threads()


if __name__ == "__main__":
    main()
