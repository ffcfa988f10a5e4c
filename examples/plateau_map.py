"""Where in the sourced input space does an MSP plateau? (issue 9)

A Latin hypercube over the plausible range of every assumption (the schema's
``plausible`` ranges, docs/calibration.md), each point a business with those
values and everything else as in the config; a point *plateaus* when its
median MRR grows less than 1% over the last 12 of 96 months. Prints the share
of points that plateau and the quantiles of their MRR level.

Usage: ``.venv/bin/python examples/plateau_map.py [CONFIG] [POINTS] [PATHS]``
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import qmc

import simulator
from simulator.config.schema import param_specs


def plateau_map(path: str, n_points: int = 128, n_paths: int = 300,
                months: int = 96, seed: int = 7) -> dict:
    """Share of a Latin hypercube over the assumptions' plausible ranges whose median
    MRR grows < 1% over the last 12 months, and the level of those that do."""
    keys = [k for k, spec in param_specs().items() if spec.plausible is not None]
    design = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(seed)).random(n_points)
    levels, growth = [], []
    for row in design:
        overrides = {"simulation.months": months}
        for key, u in zip(keys, row, strict=True):
            lo, hi = param_specs()[key].plausible
            value = lo + u * (hi - lo)
            overrides[key] = float(round(value)) if param_specs()[key].integer else value
        cfg = simulator.load_config(path, overrides=overrides)
        res = simulator.simulate(cfg, n_paths=n_paths, seed=seed)
        med = np.median(res["mrr"], axis=0)
        levels.append(med[months])
        growth.append((med[months] - med[months - 12]) / max(med[months - 12], 1.0))
    levels, growth = np.asarray(levels), np.asarray(growth)
    flat = growth < 0.01
    q = np.quantile(levels[flat], [0.1, 0.5, 0.9]).tolist() if flat.any() else None
    return {"points": n_points, "paths_per_point": n_paths, "assumptions": keys,
            "share_plateau": float(flat.mean()), "plateau_level_p10_p50_p90": q,
            "median_growth_last_12": float(np.median(growth))}


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "configs/reactive_plateau.toml"
    n_points = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    n_paths = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    out = plateau_map(path, n_points, n_paths)
    print(f"{path}: {out['points']} points x {out['paths_per_point']} paths over "
          f"{len(out['assumptions'])} assumptions")
    print(f"  share that plateaus (median MRR +<1% in months 85-96): {out['share_plateau']:.0%}")
    if out["plateau_level_p10_p50_p90"]:
        p10, p50, p90 = out["plateau_level_p10_p50_p90"]
        print(f"  plateau level p10 / p50 / p90: ${p10:,.0f} / ${p50:,.0f} / ${p90:,.0f}")
    print(f"  median 12-month growth at the end: {out['median_growth_last_12']:.1%}")
