"""Mutation testing of the model's core with mutmut (``make mutation``; not in CI).

Each group mutates a few modules and runs the tests that guard them, in a
scratch copy of the repository under ``build/mutation/GROUP`` (mutmut works in
its own ``mutants/`` folder there and is configured through that copy's
``pyproject.toml``). mutmut runs, for each mutant, only the selected tests that
call the mutated function.

The numba engine: mutmut leaves decorated functions alone and could not reach
inside compiled code anyway, so the ``engine`` group runs the kernel as plain
Python: the copy's ``@jit`` lines are removed and ``NUMBA_DISABLE_JIT=1`` is
set (the same Python, uncompiled; the engine's structured parameter rows are
viewed as a record array so that ``p.name`` works without numba). It then runs
the runner-agnostic checks on the engine only.

Usage::

    .venv/bin/python tests/mutation.py [GROUP ...] [--max-children N]
        [--sample N [--seed S]] [--time-limit MINUTES] [--only PATTERN]

``--sample N`` runs a fixed-seed random sample of N of each group's mutants
(drawn from all of them, or from those ``--only`` matches) so that a group can be
measured in bounded time; the kill rate is then an estimate, printed with its
Wilson 95% interval. ``--time-limit`` stops a group's run after so many minutes
(mutmut saves each verdict as it comes: the mutants checked so far are counted,
the rest are reported as not checked and left out of the rate).

Writes ``build/mutation/GROUP/results.txt`` (every mutant run and its status) and
prints the kill rate of each group. docs/testing.md records the figures.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "mutation"
COPY = ("simulator", "tests", "configs", "examples", "docs", "README.md", "pyproject.toml")

# Functions left unmutated: the path loops of the engine and the reference (each of
# their mutants would carry a copy of a 400-line function: generating and importing
# them is impractical on a 2-core machine). The mechanisms they call, one function each
# (owners_month, pretax_profit, ...), are mutated.
SKIP = {"simulator/engine/_kernel.py": ["_simulate_path", "run_paths"],
        "simulator/model/reference.py": ["simulate_path", "simulate_reference"]}

# group -> (modules to mutate, pytest arguments selecting its tests)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "sampling": (["simulator/model/sampling.py"],
                 ["tests/test_sampling.py", "tests/test_correlations.py",
                  "tests/test_stable_draws.py"]),
    "statistics": (["simulator/results/result.py", "simulator/results/survival.py",
                    "simulator/results/monthly_stats.py"],
                   ["tests/test_statistics.py", "tests/test_monthly_stats.py",
                    "tests/test_results.py"]),
    "compare": (["simulator/analysis/paired.py", "simulator/analysis/compare.py"],
                ["tests/test_statistics.py", "tests/test_compare.py"]),
    "fit": (["simulator/fit/estimate.py", "simulator/fit/history.py"],
            ["tests/test_fit_estimators.py", "tests/test_fit_exports.py",
             "-k", "not zip_bomb"]),
    "levers": (["simulator/analysis/levers.py", "simulator/analysis/scan.py"],
               ["tests/test_levers.py"]),
    "reference": (["simulator/model/mechanisms.py", "simulator/model/reference.py"],
                  ["tests/test_oracles.py", "tests/test_reference_mechanisms.py",
                   "tests/test_mechanism_oracles.py", "-k", "not engine and not shipped"]),
    "engine": (["simulator/engine/_mechanisms.py", "simulator/engine/_kernel.py"],
               ["tests/test_oracles.py", "tests/test_mechanism_oracles.py",
                "-k", "engine and not shipped"]),
}


def _skip_functions(path: Path, names: list[str]) -> None:
    """Put ``# pragma: no mutate block`` at the top of each named function's body."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tree = ast.parse("".join(lines))
    starts = [node.body[0].lineno for node in ast.walk(tree)
              if isinstance(node, ast.FunctionDef) and node.name in names]
    assert len(starts) == len(names), (path, names)
    for line in sorted(starts, reverse=True):
        indent = lines[line - 1][:len(lines[line - 1]) - len(lines[line - 1].lstrip())]
        lines.insert(line - 1, f"{indent}# pragma: no mutate block\n")
    path.write_text("".join(lines), encoding="utf-8")


def _prepare(group: str) -> Path:
    modules, tests = GROUPS[group]
    where = BUILD / group
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, where / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        else:
            shutil.copy2(src, where / name)
    pytest_args = ["-p", "no:cacheprovider", "-q", "-x",
                   # the plain-Python xoshiro's uint64 arithmetic wraps by design
                   "-W", "ignore:overflow encountered:RuntimeWarning"]
    toml = [
        "", "[tool.mutmut]",
        f"only_mutate = {modules!r}",
        'source_paths = ["simulator"]',
        f"pytest_add_cli_args_test_selection = {tests!r}",
        f"pytest_add_cli_args = {pytest_args!r}",
        'also_copy = ["tests", "configs", "examples", "docs", "README.md"]',
    ]
    with open(where / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n".join(toml).replace("'", '"') + "\n")
    for module, names in SKIP.items():
        if module in modules:
            _skip_functions(where / module, names)
    if group == "engine":
        for path in (where / "simulator" / "engine").glob("*.py"):
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"^@jit(_inline)?\n", "", text, flags=re.MULTILINE)
            path.write_text(text, encoding="utf-8")
        init = where / "simulator" / "engine" / "__init__.py"
        text = init.read_text(encoding="utf-8")
        old = "params = np.ascontiguousarray(params)"
        assert text.count(old) == 1, "engine/__init__.py changed: update tests/mutation.py"
        init.write_text(text.replace(old, old + ".view(np.recarray)"), encoding="utf-8")
    return where


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (95% for the default ``z``)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _mutmut(args: list[str], where: Path, env: dict[str, str], log: Path,
            deadline: float | None) -> None:
    """Run ``mutmut ARGS`` in ``where``; stop its whole process group at ``deadline``."""
    import time
    with open(log, "a", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mutmut", *args], cwd=where, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=None if deadline is None else max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            out.write("\n[tests/mutation.py] time limit reached: stopped\n")
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _listing(where: Path, env: dict[str, str]) -> dict[str, str]:
    """Every generated mutant of the copy and its status (``mutmut results --all``)."""
    text = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                          cwd=where, env=env, capture_output=True, text=True, check=False).stdout
    status: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().startswith("simulator.") and ":" in line:
            name, verdict = line.strip().rsplit(":", 1)
            status[name.strip()] = verdict.strip()
    return status


def run_group(group: str, max_children: int, only: list[str] | None = None,
              sample: int | None = None, seed: int = 0, time_limit: float | None = None
              ) -> tuple[int, int, dict[str, int]]:
    """Run one group (``only``: mutant name patterns, e.g. ``*x_pretax_profit__*``;
    ``sample``: that many of them, drawn with ``seed``; ``time_limit``: minutes);
    returns (killed, checked, counts by status), the counts over the mutants selected."""
    import time
    where = _prepare(group)
    # one engine thread: mutmut forks a child per mutant, and a fork of a process whose
    # thread pool is running can deadlock
    env = dict(os.environ, MSP_SIM_NO_PROGRESS="1", NUMBA_NUM_THREADS="1")
    if group == "engine":
        env["NUMBA_DISABLE_JIT"] = "1"
    deadline = None if time_limit is None else time.monotonic() + 60 * time_limit
    log = where / "run.log"
    log.write_text("", encoding="utf-8")
    names = list(only or [])
    if sample is not None:
        # generate the mutants and collect which tests call what (mutmut stops at its
        # filter, which matches nothing), then draw the sample from the names
        _mutmut(["run", "--max-children", str(max_children), "__no_such_mutant__"],
                where, env, log, deadline)
        every = sorted(n for n in _listing(where, env)
                       if not only or any(fnmatch.fnmatch(n, p) for p in only))
        names = sorted(random.Random(seed).sample(every, min(sample, len(every))))
        (where / "sample.txt").write_text(
            f"# {len(names)} of {len(every)} mutants, seed {seed}\n" + "\n".join(names) + "\n",
            encoding="utf-8")
    if sample is not None and not names:
        print(f"{group}: no mutants to sample (see build/mutation/{group}/run.log)",
              file=sys.stderr)
    elif deadline is None or time.monotonic() < deadline:
        _mutmut(["run", "--max-children", str(max_children), *names], where, env, log, deadline)
    status = _listing(where, env)
    if names:
        status = {n: v for n, v in status.items()
                  if n in names or any(fnmatch.fnmatch(n, p) for p in names)}
    (where / "results.txt").write_text(
        "".join(f"    {n}: {v}\n" for n, v in status.items()), encoding="utf-8")
    counts: dict[str, int] = {}
    for verdict in status.values():
        counts[verdict] = counts.get(verdict, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    checked = sum(v for k, v in counts.items() if k != "not checked")
    return killed, checked, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="mutant names to run (fnmatch), e.g. '*x_pretax_profit__*'")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="run a random sample of N mutants per group (fixed seed)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("--time-limit", type=float, metavar="MINUTES",
                        help="stop each group's run after so many minutes")
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error(f"--sample must be at least 1, got {args.sample}")
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; allowed: {', '.join(GROUPS)}")
    for group in args.groups or list(GROUPS):
        killed, checked, counts = run_group(group, args.max_children, args.only,
                                            args.sample, args.seed, args.time_limit)
        if checked:
            lo, hi = wilson(killed, checked)
            rate = f"{100 * killed / checked:.1f}%, Wilson 95% {100 * lo:.1f}-{100 * hi:.1f}%"
        else:
            rate = "-"
        print(f"{group:<11} {killed}/{checked} killed ({rate}); {counts}; "
              f"build/mutation/{group}/results.txt", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
