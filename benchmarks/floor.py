"""The engine against the model's floor, one thread: ``python benchmarks/floor.py``.

The floor kernel does per path-month what any exact engine of the model must
(docs/model.md, issue 27): one large Poisson (the month's tickets), two small
Poissons (the meetings and the project count, each drawn every month), one
binomial (technician quits), the uniforms the engine draws outside those
samplers (a deal draw per meeting; a sales-cycle delay, a seat count and a
churn clock per new client; a size per project; the starting book's seats,
renewal months and churn clocks, spread over the months), one ``exp`` (the
churn hazard) and the month's ``N_METRICS`` float64 outputs (``8 N_METRICS``
bytes), written in order. Its means and its count of uniforms are the engine's
own on the same config and paths (:func:`floor_means`, from an engine run), and
its output width is the engine's metric count: it moves with the model.

Both kernels run on the calling thread (numba threads set to 1) into arrays
allocated and touched before the timings (no page faults). A round alternates
the two calls ``--repeats`` times and keeps each one's least wall and thread CPU
time; ``--rounds`` rounds, each round's ratio printed, the target on the median
of the CPU ratios, with the load average of the machine before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numba
import numpy as np
from _common import BASELINE, git_commit, load

import simulator
from simulator.api import engine_ready
from simulator.engine import N_METRICS, _random, run_chunk
from simulator.model import sampling
from simulator.model.metrics import METRICS

# Compiled afresh in each process, never from numba's on-disk cache: the floor
# inlines the engine's samplers (simulator/engine/_random.py), and numba checks a cached
# function against its own file alone, so a cached floor kept the samplers of the
# day it was compiled (measured: after the samplers changed, a cached floor ran at
# 193 ns a path-month against 140 compiled afresh). Otherwise the engine's options.
_floor_jit = numba.njit(nogil=True, fastmath=False, error_model="numpy")


@_floor_jit
def floor_paths(seeds, months, tickets, meetings, projects, techs, quit_q, uniforms, out):
    """The model's minimum work for each path (module docstring) into ``out``
    ``(paths, months + 1, N_METRICS)``, each month one contiguous row; ``uniforms``
    is the mean count of a month's uniforms outside the samplers."""
    for i in range(seeds.size):
        state = np.empty(4, dtype=np.uint64)
        _random.seed_state(state, seeds[i])
        block = out[i]
        acc = 0.0
        owed = 0.0
        for t in range(months + 1):
            n_t = _random.poisson(state, tickets)
            n_m = _random.poisson(state, meetings)
            n_p = _random.poisson(state, projects)
            quits = _random.binomial(state, techs, quit_q)
            owed += uniforms
            u = 0.0
            for _ in range(int(owed)):
                u += _random.uniform(state)
            owed -= int(owed)
            acc += math.exp(-u * 0.01) + n_t + n_m + n_p + quits
            row = block[t]
            for m in range(row.size):
                row[m] = acc + m
    return 0


def floor_means(params, seeds, run) -> dict[str, float]:
    """The engine's per-month means on these paths: what the floor draws with."""
    out, _, _ = run_chunk(params, seeds, run)
    month = slice(1, None)
    months = out.shape[2] - 1

    def mean(name: str) -> float:
        return float(out[:, METRICS.index(name), month].mean())

    techs = max(1, round(mean("techs")))
    annual = float(np.mean(params["staff_tech_turnover_annual"]))
    projects = mean("customers") * float(np.mean(params["projects_per_customer_year"])) / 12.0
    start_book = float(np.mean(params["start_customers"]))
    uniforms = (mean("meetings") + 3.0 * mean("new_customers") + projects
                + 3.0 * start_book / months)
    return {"tickets": mean("tickets"), "meetings": mean("meetings"), "projects": projects,
            "techs": techs, "quit_q": 1.0 - (1.0 - annual) ** (1.0 / 12.0),
            "uniforms": uniforms}


def floor_args(means: dict[str, float]) -> tuple:
    """:func:`floor_paths`'s arguments after ``seeds, months`` (and before ``out``)."""
    return (means["tickets"], means["meetings"], means["projects"], int(means["techs"]),
            means["quit_q"], means["uniforms"])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=8,
                        help="alternations of engine and floor a round (default 8)")
    args = parser.parse_args(argv)
    numba.set_num_threads(1)
    engine_ready()
    config = simulator.load_config(BASELINE)
    months = config.simulation.months
    n = args.paths
    run = sampling.prepare(config)
    params = sampling.draw_parameters(config, 1, 0, n)
    seeds = sampling.path_seeds(1, 0, n)
    means = floor_means(params, seeds, run)
    engine_out = np.zeros((n, N_METRICS, months + 1))
    floor_out = np.zeros((n, months + 1, N_METRICS))
    args_floor = (seeds, months, *floor_args(means), floor_out)
    floor_paths(*args_floor)  # (compiled outside the timings)
    run_chunk(params, seeds, run, out=engine_out)
    before = load()
    rounds = []
    for _ in range(args.rounds):
        # a round: --repeats alternations of the two calls, the least time of each (the
        # calls least disturbed by the machine's other processes), wall and CPU
        best = {"engine": [np.inf, np.inf], "floor": [np.inf, np.inf]}
        for _ in range(args.repeats):
            for name, call in (("engine", lambda: run_chunk(params, seeds, run,
                                                            out=engine_out)),
                               ("floor", lambda: floor_paths(*args_floor))):
                w0, c0 = time.perf_counter(), time.thread_time()
                call()
                w, c = time.perf_counter() - w0, time.thread_time() - c0
                best[name] = [min(best[name][0], w), min(best[name][1], c)]
        rounds.append(best)
    after = load()
    wall = np.array([r["engine"][0] / r["floor"][0] for r in rounds])
    cpu = np.array([r["engine"][1] / r["floor"][1] for r in rounds])
    per = n * months
    print(f"msp-sim {simulator.__version__} at {git_commit()}; {n:,} paths x {months} months, "
          f"numba threads 1; {args.rounds} rounds of {args.repeats} alternations")
    print(f"before: {before}; after: {after}")
    print(f"floor means: {json.dumps({k: round(v, 4) for k, v in means.items()})}")
    for k, r in enumerate(rounds):
        print(f"round {k + 1}: engine {r['engine'][0] / per * 1e9:6.1f} ns/path-month wall "
              f"({r['engine'][1] / per * 1e9:6.1f} CPU), floor {r['floor'][0] / per * 1e9:6.1f} "
              f"wall ({r['floor'][1] / per * 1e9:6.1f} CPU); engine/floor {wall[k]:.2f} wall, "
              f"{cpu[k]:.2f} CPU")
    median = float(np.median(cpu))
    spread = float(max(cpu.max() / median - 1, 1 - cpu.min() / median))
    fig = {"engine_over_floor_cpu": median, "engine_over_floor_wall": float(np.median(wall)),
           "spread_cpu": spread,
           "engine_ns_per_path_month_cpu": float(np.median(
               [r["engine"][1] for r in rounds])) / per * 1e9,
           "floor_ns_per_path_month_cpu": float(np.median(
               [r["floor"][1] for r in rounds])) / per * 1e9}
    print(f"engine/floor (CPU, median of rounds) {median:.2f} (target <= 2.0: "
          f"{'met' if median <= 2.0 else 'NOT met'}); rounds within +-{100 * spread:.0f}% "
          f"of it (target 10%: {'met' if spread <= 0.10 else 'NOT met'})")
    print(json.dumps({k: round(v, 4) for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
