"""A small run's start-up against its engine time: ``python benchmarks/startup.py``.

Times ``msp-sim run configs/baseline.toml --paths 10000 --no-levers`` as whole
processes with a warm numba cache (best of ``--rounds``, wall and the child's CPU
time), and the engine on the same 10,000 paths in this process (best of
``--rounds``, into a reused array, the same numba threads), interleaved round by
round; the target is the run over its engine time (<= 10, issue 27). Each round also
runs the command with ``MSP_SIM_FIGURE_PROCESS=0`` (the figures drawn in the process,
not in a forked child: :mod:`simulator.report.child`), so the two are compared
interleaved. Then one more run under ``python -X importtime`` gives what the command
imports, largest first, and ``--help``'s imports beside it. Prints the machine's load
average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
from _common import BASELINE, git_commit, load

import simulator
from simulator.api import engine_ready
from simulator.engine import run_chunk
from simulator.model import sampling

PATHS = 10_000
HEAVY = ("scipy.stats", "scipy.optimize", "matplotlib", "matplotlib.pyplot", "pydantic",
         "openpyxl", "pandas", "jinja2", "numba", "numpy", "distributed", "tqdm")


def cli(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``msp-sim ARGS`` as a whole process, and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", *args], check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr


def imports(stderr: str) -> dict[str, float]:
    """Cumulative import seconds of the :data:`HEAVY` packages in ``-X importtime`` output."""
    out = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        name = name.strip()
        if name in HEAVY and name not in out:
            out[name] = int(cumulative) / 1e6
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    engine_ready(statistics=True)
    config = simulator.load_config(BASELINE)
    params = sampling.draw_parameters(config, config.simulation.seed, 0, PATHS)
    seeds = sampling.path_seeds(config.simulation.seed, 0, PATHS)
    inputs = sampling.prepare(config)
    out, _, _ = run_chunk(params, seeds, inputs)
    before = load()
    runs, engines, in_process = [], [], []
    here = dict(os.environ, MSP_SIM_FIGURE_PROCESS="0")
    forked = {k: v for k, v in os.environ.items() if k != "MSP_SIM_FIGURE_PROCESS"}
    with tempfile.TemporaryDirectory() as tmp:
        command = ["run", str(BASELINE), "--paths", str(PATHS), "--no-levers", "--no-progress"]
        for k in range(args.rounds):
            runs.append(cli([*command, "--out", str(Path(tmp) / f"run{k}")], env=forked)[:2])
            in_process.append(cli([*command, "--out", str(Path(tmp) / f"here{k}")],
                                  env=here)[:2])
            w0, c0 = time.perf_counter(), time.process_time()
            run_chunk(params, seeds, inputs, out=out)
            engines.append((time.perf_counter() - w0, time.process_time() - c0))
        _, _, trace = cli([*command, "--out", str(Path(tmp) / "trace")],
                          env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"))
        _, _, help_trace = cli(["--help"], env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"))
    after = load()
    run_wall, run_cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    engine_wall, engine_cpu = min(e[0] for e in engines), min(e[1] for e in engines)
    here_wall, here_cpu = min(r[0] for r in in_process), min(r[1] for r in in_process)
    fig = {"run_wall_s": run_wall, "run_cpu_s": run_cpu, "engine_wall_s": engine_wall,
           "engine_cpu_s": engine_cpu, "run_over_engine_wall": run_wall / engine_wall,
           "run_over_engine_cpu": run_cpu / engine_cpu,
           "in_process_figures_wall_s": here_wall, "in_process_figures_cpu_s": here_cpu,
           "in_process_over_engine_wall": here_wall / engine_wall}
    print(f"msp-sim {simulator.__version__} at {git_commit()}; numba threads "
          f"{numba.get_num_threads()}; best of {args.rounds} interleaved rounds")
    print(f"before: {before}; after: {after}")
    print(f"msp-sim run --paths {PATHS:,} --no-levers: {run_wall:.2f} s wall, {run_cpu:.2f} s "
          f"CPU; engine on the same paths {engine_wall:.3f} s wall, {engine_cpu:.3f} s CPU; "
          f"run/engine {fig['run_over_engine_wall']:.1f} wall, "
          f"{fig['run_over_engine_cpu']:.1f} CPU (target <= 10: "
          f"{'met' if fig['run_over_engine_wall'] <= 10 else 'NOT met'})")
    print(f"the same with the figures drawn in the process (MSP_SIM_FIGURE_PROCESS=0): "
          f"{here_wall:.2f} s wall, {here_cpu:.2f} s CPU; run/engine "
          f"{fig['in_process_over_engine_wall']:.1f} wall; every round (forked / in the "
          "process, wall s): " + ", ".join(f"{a[0]:.2f} / {b[0]:.2f}"
                                            for a, b in zip(runs, in_process, strict=True)))
    for name, trace_text in (("run", trace), ("--help", help_trace)):
        found = imports(trace_text)
        print(f"{name} imports (s, cumulative, one traced run): " + ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(found.items(), key=lambda kv: -kv[1])))
    print(json.dumps({k: round(v, 4) for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    main()
