"""Engine speed on the baseline config (the performance issue extends this).

Run ``python benchmarks/run.py [--quick]`` (or ``make bench``). Set-up (config,
parameter draws, compilation) happens outside the timed part. Prints a table
and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import simulator
from simulator import sampling
from simulator.engine import run_chunk
from simulator.metrics import METRICS
from simulator.reference import simulate_reference

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = METRICS.index("customers")


def _inputs(config, n_paths: int, seed: int = 1):
    run = sampling.prepare(config)
    params = sampling.draw_parameters(config, seed, 0, n_paths)
    seeds = sampling.path_seeds(seed, 0, n_paths)
    return params, seeds, run


def _customer_months(metrics: np.ndarray) -> float:
    """Active customers summed over all path-months (months 1..H)."""
    return float(metrics[:, CUSTOMERS, 1:].sum())


def _best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args(argv)
    config = simulator.load_config(ROOT / "configs" / "baseline.toml")

    warm = _inputs(config, 64)
    run_chunk(*warm)  # compile or load the cached kernel outside the timing

    rows, figures = [], {}
    sizes = [2_000, 10_000] if args.quick else [10_000, 100_000]
    for n in sizes:
        params, seeds, run = _inputs(config, n)
        wall, (metrics, _) = _best_of(lambda p=params, s=seeds, r=run: run_chunk(p, s, r), 3)
        cm = _customer_months(metrics)
        rows.append((f"engine {n:,} paths", wall, n / wall, cm / wall))
        figures.update(paths_per_s=n / wall, customer_months_per_s=cm / wall,
                       wall_s_largest=wall)

    n_ref = 50 if args.quick else 200
    params, seeds, run = _inputs(config, n_ref)
    wall, (metrics, _) = _best_of(lambda: simulate_reference(params, seeds, run), 1)
    ref_cm_per_s = _customer_months(metrics) / wall
    rows.append((f"reference {n_ref} paths", wall, n_ref / wall, ref_cm_per_s))
    figures["speedup_vs_reference"] = figures["customer_months_per_s"] / ref_cm_per_s

    print(f"msp-sim {simulator.__version__} on {platform.machine()}, {platform.python_version()}")
    print(f"{'case':<24}{'wall s':>10}{'paths/s':>14}{'cust-months/s':>16}")
    for name, wall, pps, cmps in rows:
        print(f"{name:<24}{wall:>10.3f}{pps:>14,.0f}{cmps:>16,.0f}")
    print(f"engine speedup over the reference model: {figures['speedup_vs_reference']:,.0f}x")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))
    return figures


if __name__ == "__main__":
    main()
