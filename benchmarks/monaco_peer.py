"""The peer benchmarks/run.py times: the reference model run under monaco.

``python benchmarks/monaco_peer.py N_PATHS`` runs ``N_PATHS`` paths of the
baseline through :func:`simulator.model.reference.simulate_path` (the plain-Python
model, one path a case) as a ``monaco.Sim`` with its multiprocessing backend
(``singlethreaded=False``, ``usedask=False``: a ``ProcessPoolExecutor`` of one
worker per CPU, forked), which is what a Python user would pick instead of
this project's engine. The per-path parameters and seeds are the engine's own
(``simulator.model.sampling``), so every framework runs the same paths; monaco's own
input draws are not used. Prints one JSON object: wall seconds (pool start,
every case and the collection of outputs) and customer-months simulated.

Needs the ``bench`` extra (``pip install -e '.[bench]'``, ``make bench``).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from _common import BASELINE

_DATA: dict = {}  # set before the pool forks: the workers inherit it


def _preprocess(case):
    i = case.ncase
    return (_DATA["params"][i], int(_DATA["seeds"][i]))


def _run(params, seed):
    from simulator.model.metrics import METRICS
    from simulator.model.reference import simulate_path

    metrics, first_passage, _ = simulate_path(params, seed, _DATA["run"])
    return (float(metrics[METRICS.index("customers"), 1:].sum()), first_passage)


def _postprocess(case, customer_months, first_passage):
    case.addOutVal(name="customer_months", val=customer_months)
    case.addOutVal(name="first_passage", val=first_passage)


def run(n_paths: int, seed: int = 1) -> dict:
    import monaco as mc

    import simulator
    from simulator.model import sampling

    config = simulator.load_config(BASELINE)
    _DATA.update(params=sampling.draw_parameters(config, seed, 0, n_paths),
                 seeds=sampling.path_seeds(seed, 0, n_paths), run=sampling.prepare(config))
    sim = mc.Sim(name="msp-sim reference", ndraws=n_paths,
                 fcns={"preprocess": _preprocess, "run": _run, "postprocess": _postprocess},
                 firstcaseismedian=False, seed=seed, singlethreaded=False, usedask=False,
                 ncores=os.cpu_count(), multiprocessing_method="fork", verbose=False)
    start = time.perf_counter()
    sim.runSim()
    wall = time.perf_counter() - start
    if sim.pool is not None:
        sim.pool.shutdown(wait=True)
    cm = float(np.sum(sim.outvars["customer_months"].nums))
    return {"wall_s": wall, "customer_months": cm, "paths": n_paths,
            "workers": sim.ncores, "monaco": mc.__version__ if hasattr(mc, "__version__")
            else "unknown"}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))))
