"""Runs of outcomes only against the runs they replaced: ``python benchmarks/outcomes.py``.

``goal`` and ``portfolio`` (and the lever scan, ``sensitivity``) read per-path
outcomes only: first passages, insolvency months, a column or two. Until issue
27 their runs folded every metric and month into monthly statistics (or kept
every trajectory: the lever scan) that nobody read. This times, in one process
and in ``--rounds`` interleaved rounds, the same ``goal_seek`` and ``portfolio``
calls two ways: as they run now, and with the runner told to fold statistics as
before (``RunOptions(outcomes_only=False)`` forced: the former work, the same
answers, which are checked equal). Wall and process CPU time, one engine thread
(``--threads``) and the machine's load average are printed; the ratio is
former over now.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from _common import BASELINE, git_commit, load

import simulator
from simulator import runner
from simulator.analysis.goal import goal_seek
from simulator.analysis.portfolio import load_portfolio, portfolio
from simulator.api import engine_ready

PORTFOLIO_ROWS = 12
compare = importlib.import_module("simulator.analysis.compare")
scan = importlib.import_module("simulator.analysis.scan")


@contextlib.contextmanager
def former_runs():
    """The runner as before issue 27: every run of outcomes only folds statistics."""
    inner = runner.run

    def run(config, n_paths=None, seed=None, options=None, **kwargs):
        options = runner.RunOptions() if options is None else options
        if options.outcomes_only:
            options = options.but(outcomes_only=False, keep_paths=False)
        return inner(config, n_paths, seed, options, **kwargs)

    saved = (runner.run, compare.run, scan.run)
    runner.run = compare.run = scan.run = run
    try:
        yield
    finally:
        runner.run, compare.run, scan.run = saved


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    numba.set_num_threads(args.threads)
    engine_ready(statistics=True)
    config = simulator.load_config(BASELINE)
    n = args.paths
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "portfolio.csv"
        table.write_text("msp,start.customers,start.techs\n" + "".join(
            f"MSP {k},{15 + 2 * k},{2 + k % 3}\n" for k in range(PORTFOLIO_ROWS)))
        msps = load_portfolio(table, BASELINE)

    def goal() -> dict:
        return goal_seek(config, "sales.meetings_per_selling_hour", "p_break_by_36 >= 0.5",
                         n_paths=n, seed=3, progress=False).to_dict()

    def book() -> dict:
        return portfolio(msps, n_paths=n, seed=3).to_dict()

    calls = {"goal": goal, "portfolio": book}
    answers: dict[str, dict] = {}
    for name, call in calls.items():  # warm, and the answers of both ways
        with former_runs():
            answers[name] = call()
        assert call() == answers[name], f"{name}: outcomes-only answer differs"
    before = load()
    times: dict[str, list] = {f"{name}_{way}": [] for name in calls for way in ("former", "now")}
    for _ in range(args.rounds):
        for name, call in calls.items():
            for way in ("former", "now"):
                ctx = former_runs() if way == "former" else contextlib.nullcontext()
                with ctx:
                    w0, c0 = time.perf_counter(), time.process_time()
                    call()
                    times[f"{name}_{way}"].append((time.perf_counter() - w0,
                                                   time.process_time() - c0))
    after = load()
    print(f"msp-sim {simulator.__version__} at {git_commit()}; goal {n:,} paths, portfolio "
          f"{PORTFOLIO_ROWS} MSPs x {n:,} paths; numba threads {args.threads}; "
          f"{args.rounds} interleaved rounds")
    print(f"before: {before}; after: {after}")
    fig = {}
    for name in calls:
        former = np.array(times[f"{name}_former"])
        now = np.array(times[f"{name}_now"])
        wall = former[:, 0] / now[:, 0]
        cpu = former[:, 1] / now[:, 1]
        fig[f"{name}_speedup_wall"] = float(np.median(wall))
        fig[f"{name}_speedup_cpu"] = float(np.median(cpu))
        print(f"{name}: former {np.median(former[:, 0]):.2f} s wall "
              f"({np.median(former[:, 1]):.2f} CPU), now {np.median(now[:, 0]):.2f} s "
              f"({np.median(now[:, 1]):.2f} CPU); former/now per round wall "
              f"{np.round(wall, 2).tolist()}, CPU {np.round(cpu, 2).tolist()} "
              f"(target >= 1.3: {'met' if np.median(cpu) >= 1.3 else 'NOT met'})")
    print(json.dumps({k: round(v, 4) for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
