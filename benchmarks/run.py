"""msp-sim speed on the baseline config: ``python benchmarks/run.py [--quick]`` (``make bench``).

Every target is a ratio of two timings taken in the same run (the project's
VM is shared and its speed drifts by +-20% over minutes); absolute times are
printed as context. Timings in one process are interleaved round by round
and the best of the rounds is kept. Set-up (config, parameter draws of the
engine-only timings, loading the compiled kernels) is outside the timings.

- ``engine_over_floor`` (target <= 2.0): the engine on 100k paths over the
  floor kernel of :mod:`floor` (the model's minimum draws and its output bytes,
  with the engine's own means) on the same seeds, both into arrays allocated and
  touched before the timings, on the same numba threads (``benchmarks/floor.py``
  has the one-thread, CPU-time version of this ratio); as context, the engine
  into a fresh array (its 1.3 GB of first-touch page faults vary most on a
  shared VM, so no target divides by it);
- ``chunked_over_single`` (<= 1.1): the engine over the same 100k paths in
  ``DEFAULT_CHUNK_SIZE`` chunks, over one call;
- ``simulate_over_engine`` (<= 1.3): ``simulate()`` of those 100k paths,
  trajectories kept (parameter draws, chunks, result), over one engine call;
- ``big_over_engine`` (<= 1.2) and ``peak_rss_mb_1m`` (<= 1024): in a fresh
  process, ``simulate()`` of 1M paths, statistics only, over ten times the
  one-call 100k engine time above; the big run's time split (engine, draws,
  statistics fold) is printed, and, as context, the engine on the same 1M
  paths in ten 100k calls in that process (each into a fresh 1.3 GB array);
- ``first_run_s`` (<= 8 s) and ``warm_start_s`` (<= 2 s, best of 3):
  ``msp-sim run configs/baseline.toml --paths 10000 --no-levers`` as whole processes, the
  first after what ``make install`` does (``install_compile_s``: compile the
  kernels into an empty cache, ``simulator.api.engine_ready``), then warm;
  ``cold_start_s``: the same run into an empty cache, compiling as it goes;
- peers on the same paths at equal thread counts: the plain-Python reference
  model in this process against the engine at one thread (``speedup_vs_reference``)
  and the reference model under monaco's multiprocessing backend (one process
  per CPU) against the engine on as many threads (``speedup_vs_monaco``, needs
  the ``bench`` extra; ``benchmarks/monaco_peer.py``), in customer-months per
  second.

The load average of the machine is printed before and after.

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

import numba
import numpy as np
from _common import BASELINE, ROOT, git_commit, load
from floor import floor_args, floor_means, floor_paths

import simulator
from simulator.api import DEFAULT_CHUNK_SIZE, engine_ready, simulate
from simulator.engine import run_chunk
from simulator.engine._threads import run_blocks
from simulator.model import sampling
from simulator.model.metrics import METRICS
from simulator.model.reference import simulate_reference

CUSTOMERS = METRICS.index("customers")
TARGETS = {  # key: (bound, "<=")
    "engine_over_floor": 2.0,
    "chunked_over_single": 1.1,
    "simulate_over_engine": 1.3,
    "big_over_engine": 1.2,
    "peak_rss_mb_1m": 1024.0,
    "first_run_s": 8.0,
    "warm_start_s": 2.0,
}

BIG_RUN = """
import json, sys, time
import simulator
from simulator import api
from simulator.model import sampling
from simulator.results import monthly_stats
from simulator.engine import run_chunk
import simulator.runner.plan as plan
cfg = simulator.load_config(sys.argv[1])
n, step = int(sys.argv[2]), int(sys.argv[3])
api.engine_ready(statistics=True)  # load the cached kernels outside the timing
split = dict.fromkeys(("run_chunk", "draw_parameters", "path_seeds", "accumulate"), 0.0)
def timed(module, name):
    inner = getattr(module, name)
    def call(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            split[name] += time.perf_counter() - t0
    setattr(module, name, call)
for name in ("run_chunk", "draw_parameters", "path_seeds"):
    timed(plan, name)  # (where the runner looks them up)
timed(monthly_stats, "accumulate")
t0 = time.perf_counter()
res = api.simulate(cfg, n_paths=n, seed=1, progress=False, keep_paths=False)
wall = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent
with open("/proc/self/status") as fh:
    rss_mb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
run = sampling.prepare(cfg)
engine = 0.0
for start in range(0, n, step):
    params = sampling.draw_parameters(cfg, 1, start, min(start + step, n))
    seeds = sampling.path_seeds(1, start, min(start + step, n))
    t0 = time.perf_counter()
    run_chunk(params, seeds, run)
    engine += time.perf_counter() - t0
print(json.dumps(dict(wall=wall, rss_mb=rss_mb, engine=engine, split=split)))
"""


def _floor_kernel(seeds, months, means, out):
    """:func:`floor.floor_paths` on the engine's threads, in blocks, as ``run_chunk`` runs."""
    def block(lo: int, hi: int) -> None:
        floor_paths(seeds[lo:hi], months, *floor_args(means), out[lo:hi])

    run_blocks(block, seeds.size)


def _inputs(config, n_paths: int, seed: int = 1):
    run = sampling.prepare(config)
    params = sampling.draw_parameters(config, seed, 0, n_paths)
    seeds = sampling.path_seeds(seed, 0, n_paths)
    return params, seeds, run


def _customer_months(metrics: np.ndarray) -> float:
    return float(metrics[:, CUSTOMERS, 1:].sum())


def _interleaved(fns: dict, rounds: int) -> dict[str, float]:
    """Best wall time of each function over ``rounds`` rounds, one call of each per round."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def _cli_start(paths: int, cache_dir: str, out_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    # --no-levers: the start-up targets time the run itself; the lever scan (ten more
    # simulations, on by default since issue 12) is timed as its own figure in the CLI
    cmd = [str(Path(sys.executable).with_name("msp-sim")), "run", str(BASELINE), "--paths",
           str(paths), "--out", out_dir, "--no-progress", "--no-levers"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _install_compile(cache_dir: str) -> float:
    """What ``make install`` does after pip: compile the kernels into the cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    code = "from simulator.api import engine_ready; engine_ready(statistics=True)"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def _monaco(n_paths: int, rounds: int) -> dict | None:
    try:
        import monaco  # noqa: F401
    except ImportError:
        return None
    best = None
    for _ in range(rounds):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "monaco_peer.py"),
                               str(n_paths)], check=True, capture_output=True, text=True)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or out["wall_s"] < best["wall_s"]:
            best = out
    return best


def _numba_threads() -> int:
    return numba.get_num_threads()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs (20k-path engine, 100k-path big run), one round")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of the interleaved timings (default 3, --quick 1)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    config = simulator.load_config(BASELINE)
    months = config.simulation.months
    rows: list[tuple[str, str]] = []
    fig: dict[str, float] = {}
    engine_ready(statistics=True)

    # engine, chunked engine, simulate() and floor kernels, interleaved -------
    n = 20_000 if args.quick else 100_000
    params, seeds, run = _inputs(config, n)
    metrics, _, _ = run_chunk(params, seeds, run)
    cm = _customer_months(metrics)
    engine_out = metrics  # touched: reused by the engine's timings
    means = floor_means(params[:2000], seeds[:2000], run)
    floor_out = np.zeros((n, months + 1, len(METRICS)))
    _floor_kernel(seeds[:8], 2, means, floor_out[:8])
    load_before = load()

    def chunked() -> None:
        for start in range(0, n, DEFAULT_CHUNK_SIZE):
            stop = min(start + DEFAULT_CHUNK_SIZE, n)
            run_chunk(params[start:stop], seeds[start:stop], run,
                      out=engine_out[start:stop])

    best = _interleaved({
        "engine": lambda: run_chunk(params, seeds, run, out=engine_out),
        "engine_fresh": lambda: run_chunk(params, seeds, run),
        "chunked": chunked,
        "simulate": lambda: simulate(config, n_paths=n, seed=1, progress=False,
                                     keep_paths=True),
        "floor": lambda: _floor_kernel(seeds, months, means, floor_out),
    }, rounds)
    floor_out = engine_out = metrics = None  # (1.3 GB each at 100k paths)
    engine = best["engine"]
    fig.update(
        wall_s_100k=engine * 100_000 / n, paths_per_s=n / engine,
        customer_months_per_s=cm / engine, cm_per_path=cm / n,
        ns_per_path_month=engine / (n * months) * 1e9,
        engine_over_floor=engine / best["floor"],
        engine_fresh_over_engine=best["engine_fresh"] / engine,
        chunked_over_single=best["chunked"] / engine,
        simulate_over_engine=best["simulate"] / best["engine_fresh"],
    )
    rows += [
        (f"engine, {n:,} paths, one call into a reused array",
         f"{engine:.3f} s, {n / engine:,.0f} paths/s, {cm / engine / 1e6:,.0f} M cust-months/s"),
        ("engine, same call into a fresh array (first-touch page faults)",
         f"{best['engine_fresh']:.3f} s; {fig['engine_fresh_over_engine']:.2f} x the reused"),
        ("floor kernel (the model's minimum draws and output bytes)",
         f"{best['floor']:.3f} s; engine_over_floor {fig['engine_over_floor']:.2f}"),
        (f"engine, same paths in {DEFAULT_CHUNK_SIZE:,}-path chunks",
         f"{best['chunked']:.3f} s; chunked_over_single {fig['chunked_over_single']:.2f}"),
        (f"simulate(), {n:,} paths, trajectories kept (fresh arrays, as the fresh engine)",
         f"{best['simulate']:.3f} s; simulate_over_engine {fig['simulate_over_engine']:.2f}"),
    ]

    # peers: the reference loop here, the reference under monaco -------------
    n_ref = 50 if args.quick else 300
    ref_params, ref_seeds, ref_run = _inputs(config, n_ref)
    ref = _interleaved({"ref": lambda: simulate_reference(ref_params, ref_seeds, ref_run)},
                       rounds)["ref"]
    ref_cm, _, _ = simulate_reference(ref_params, ref_seeds, ref_run)
    ref_cm_per_s = _customer_months(ref_cm) / ref
    # the engine at one thread, as the reference runs (the same paths and more)
    threads = _numba_threads()
    numba.set_num_threads(1)
    one_params, one_seeds, _ = _inputs(config, 20 * n_ref)
    one_out, _, _ = run_chunk(one_params, one_seeds, run)
    one = _interleaved({"one": lambda: run_chunk(one_params, one_seeds, run, out=one_out)},
                       rounds)["one"]
    numba.set_num_threads(threads)
    fig["speedup_vs_reference"] = _customer_months(one_out) / one / ref_cm_per_s
    rows.append((f"reference model, {n_ref} paths, one process",
                 f"{ref:.2f} s, {ref_cm_per_s / 1e3:,.0f} k cust-months/s; engine at one "
                 f"thread {fig['speedup_vs_reference']:,.0f}x faster"))
    peer = _monaco(n_ref, rounds)
    if peer is None:
        rows.append(("reference model under monaco", "monaco not installed (bench extra)"))
    else:
        monaco_cm_per_s = peer["customer_months"] / peer["wall_s"]
        # monaco runs one process per CPU: the engine on as many threads
        numba.set_num_threads(min(peer["workers"], numba.config.NUMBA_NUM_THREADS))
        peer_engine = _interleaved({"e": lambda: run_chunk(one_params, one_seeds, run,
                                                           out=one_out)}, rounds)["e"]
        numba.set_num_threads(threads)
        fig["speedup_vs_monaco"] = _customer_months(one_out) / peer_engine / monaco_cm_per_s
        rows.append((f"reference model under monaco {peer['monaco']}, {n_ref} paths, "
                     f"{peer['workers']} processes",
                     f"{peer['wall_s']:.2f} s, {monaco_cm_per_s / 1e3:,.0f} k cust-months/s; "
                     f"engine on as many threads {fig['speedup_vs_monaco']:,.0f}x faster"))

    # big run in a fresh process ----------------------------------------------
    n_big = 100_000 if args.quick else 1_000_000
    step = n_big // 10
    proc = subprocess.run([sys.executable, "-c", BIG_RUN, str(BASELINE), str(n_big),
                           str(step)], check=True, capture_output=True, text=True)
    big = json.loads(proc.stdout.strip().splitlines()[-1])
    split = big["split"]
    fig.update(wall_s_1m=big["wall"] * 1_000_000 / n_big, peak_rss_mb_1m=big["rss_mb"],
               big_over_engine=big["wall"] / (engine * n_big / n),
               big_over_engine_in_child=big["wall"] / big["engine"])
    rows += [
        (f"simulate(), {n_big:,} paths, statistics only",
         f"{big['wall']:.2f} s (engine {split['run_chunk']:.2f}, draws "
         f"{split['draw_parameters']:.2f}, seeds {split['path_seeds']:.2f}, fold "
         f"{split['accumulate']:.2f}), peak RSS {big['rss_mb']:,.0f} MB"),
        (f"engine, {n_big // n} x the {n:,}-path call above",
         f"{engine * n_big / n:.2f} s; big_over_engine {fig['big_over_engine']:.2f}"),
        (f"engine, same {n_big:,} paths in ten {step:,}-path calls, in the big run's process",
         f"{big['engine']:.2f} s (fresh output arrays: first-touch faults); big run over it "
         f"{fig['big_over_engine_in_child']:.2f}"),
    ]

    # whole-process starts ------------------------------------------------------
    with (tempfile.TemporaryDirectory() as cold, tempfile.TemporaryDirectory() as cache,
          tempfile.TemporaryDirectory() as out):
        fig["cold_start_s"] = _cli_start(10_000, cold, str(Path(out) / "cold"))
        fig["install_compile_s"] = _install_compile(cache)
        fig["first_run_s"] = _cli_start(10_000, cache, str(Path(out) / "first"))
        fig["warm_start_s"] = min(_cli_start(10_000, cache, str(Path(out) / f"warm{k}"))
                                  for k in range(3))
    rows += [
        ("msp-sim run --paths 10000, empty cache (compiles)", f"{fig['cold_start_s']:.1f} s"),
        ("make install's compile step (engine_ready)", f"{fig['install_compile_s']:.1f} s"),
        ("msp-sim run --paths 10000, first after install / warm (best of 3)",
         f"{fig['first_run_s']:.2f} s / {fig['warm_start_s']:.2f} s"),
    ]

    print(f"load: before {load_before}; after {load()}")
    print(f"msp-sim {simulator.__version__} at {git_commit()}; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numba threads {_numba_threads()}; best of {rounds} interleaved rounds")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("targets: " + ", ".join(
        f"{key} {fig[key]:.2f} <= {bound:g} {'met' if fig[key] <= bound else 'NOT met'}"
        for key, bound in TARGETS.items()))
    print(json.dumps({k: round(v, 4) for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
