"""``msp-sim plan`` on the baseline: ``python benchmarks/plan_search.py``.

- ``plan_s`` (target <= 60 s on the 2-core VM): :func:`plan_search` of the baseline
  with the default levers at the default precision (:class:`PlanSettings`: 200 paths per
  bundle screened, 12 Optuna trials on the best one's trigger thresholds, 6 finalists at
  2,000 paths plus 6,000 OCBA paths, the value of information with 10 bootstrap
  resamples), in this process, kernels loaded and a small search run first (Optuna's
  import and the first runs' caches outside the timing).
- ``bundle_exponent`` (target < 1): the search's cost against the number of bundles it
  screens, with the first 4, 6 and 8 levers of the baseline's plan space: the slope of
  log(time) on log(bundles). Screening is the only stage that grows with the bundles (the
  finalists, their extras and the value of information do not), so the slope stays
  below 1.

Prints a table and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from _common import BASELINE, git_commit

from simulator.analysis.levers import resolve_levers
from simulator.analysis.plan import PlanSettings, plan_search
from simulator.api import engine_ready
from simulator.config import load_config


def main() -> None:
    engine_ready()
    config = load_config(BASELINE)
    levers = resolve_levers(config)
    # warm-up outside the timings: Optuna's import, the first runs' caches
    plan_search(config, levers=levers[:2], settings=PlanSettings(
        n_screen=20, n_final=50, finalists=2, ocba_paths=20, tune_trials=2, tune_batch=2))
    start = time.perf_counter()
    full = plan_search(config)
    plan_s = time.perf_counter() - start
    print(f"plan, baseline, default levers and precision: {plan_s:.1f} s, {full.runs} runs, "
          f"{full.paths_simulated:,} paths, {len(full.screened)} bundles screened")
    print(f"  best: {full.best['name']}")
    sizes, times = [], []
    # the lever list without the second salesperson timing: 4, 6, 8 factors
    for k in (4, 6, 8):
        chosen = levers[:k + 1]  # the two salesperson timings make one factor
        t = time.perf_counter()
        r = plan_search(config, levers=chosen)
        times.append(time.perf_counter() - t)
        sizes.append(len(r.screened))
        print(f"  {k} levers: {sizes[-1]} bundles screened, {r.runs} runs, {times[-1]:.1f} s")
    slope = float(np.polyfit(np.log(sizes), np.log(times), 1)[0])
    figures = {"plan_s": round(plan_s, 2), "runs": full.runs,
               "paths": full.paths_simulated, "bundles": sizes,
               "seconds": [round(t, 2) for t in times], "bundle_exponent": round(slope, 3),
               "load_1min": os.getloadavg()[0], "commit": git_commit()}
    print(f"cost ~ bundles^{slope:.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
