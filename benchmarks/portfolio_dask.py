"""A portfolio on Dask: ``python benchmarks/portfolio_dask.py [--msps 1000] [--paths 1000]``.

The same portfolio (MSPs of the baseline with different books) run in this
process, then on ``local:1`` and ``local:2`` (worker processes, each warmed
before the timed part): wall seconds, the speedup of two workers over one,
the overhead of one worker over the in-process run, and the per-task cost
(overhead per MSP). Results are checked bit-identical. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

from simulator.analysis.portfolio import Msp, portfolio
from simulator.config import config_from_dict
from simulator.distributed import connect


def _msps(n: int) -> list[Msp]:
    return [Msp(f"MSP {k:05d}", config_from_dict({"start": {"customers": 8 + k % 25,
                                                             "techs": 2 + k % 6}}), k + 2)
            for k in range(n)]


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--msps", type=int, default=1000)
    parser.add_argument("--paths", type=int, default=1000)
    args = parser.parse_args()
    msps = _msps(args.msps)
    portfolio(msps[:2], n_paths=args.paths)  # warm this process's engine
    t0 = time.perf_counter()
    here = portfolio(msps, n_paths=args.paths)
    in_process = time.perf_counter() - t0
    fig = {"msps": args.msps, "paths": args.paths, "in_process_s": in_process}
    for workers in (1, 2):
        client = connect(f"local:{workers}")
        portfolio(msps[:2 * workers], n_paths=args.paths, client=client)  # warm the workers
        t0 = time.perf_counter()
        there = portfolio(msps, n_paths=args.paths, client=client)
        fig[f"local{workers}_s"] = time.perf_counter() - t0
        assert there.to_dict() == here.to_dict(), "not bit-identical"
        cluster = client.cluster
        client.close()
        cluster.close()
    fig["speedup_2_over_1"] = fig["local1_s"] / fig["local2_s"]
    fig["overhead_local1_over_in_process"] = fig["local1_s"] / in_process
    fig["per_task_overhead_ms"] = 1e3 * (fig["local1_s"] - in_process) / args.msps
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
