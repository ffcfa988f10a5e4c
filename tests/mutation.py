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

Writes ``build/mutation/GROUP/results.txt`` (every mutant and its status) and
prints the kill rate of each group. docs/testing.md records the figures.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import re
import shutil
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
            ["tests/test_fit_estimators.py"]),
    "levers": (["simulator/analysis/levers.py", "simulator/analysis/scan.py"],
               ["tests/test_levers.py"]),
    "reference": (["simulator/model/mechanisms.py", "simulator/model/reference.py"],
                  ["tests/test_oracles.py", "-k", "not engine and not shipped"]),
    "engine": (["simulator/engine/_mechanisms.py", "simulator/engine/_kernel.py"],
               ["tests/test_oracles.py", "-k", "engine and not shipped"]),
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
            path.write_text(re.sub(r"^@jit\n", "", text, flags=re.MULTILINE), encoding="utf-8")
        init = where / "simulator" / "engine" / "__init__.py"
        text = init.read_text(encoding="utf-8")
        old = "params = np.ascontiguousarray(params)"
        assert text.count(old) == 1, "engine/__init__.py changed: update tests/mutation.py"
        init.write_text(text.replace(old, old + ".view(np.recarray)"), encoding="utf-8")
    return where


def run_group(group: str, max_children: int, only: list[str] | None = None
              ) -> tuple[int, int, dict[str, int]]:
    """Run one group (``only``: mutant name patterns, e.g. ``*x_pretax_profit__*``);
    returns (killed, total, counts by status)."""
    where = _prepare(group)
    # one engine thread: mutmut forks a child per mutant, and a fork of a process whose
    # thread pool is running can deadlock
    env = dict(os.environ, MSP_SIM_NO_PROGRESS="1", NUMBA_NUM_THREADS="1")
    if group == "engine":
        env["NUMBA_DISABLE_JIT"] = "1"
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "run", "--max-children", str(max_children), *(only or [])],
                   cwd=where, env=env,
                   stdout=open(where / "run.log", "w"), stderr=subprocess.STDOUT, check=False)
    listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=where, env=env,
                             capture_output=True, text=True, check=False).stdout
    if only:
        listing = "\n".join(line for line in listing.splitlines()
                            if any(fnmatch.fnmatch(line.strip().split(":")[0], p) for p in only))
    (where / "results.txt").write_text(listing, encoding="utf-8")
    counts: dict[str, int] = {}
    for line in listing.splitlines():
        if line.strip().startswith("simulator.") and ":" in line:
            status = line.rsplit(":", 1)[1].strip()
            counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = sum(counts.values())
    return killed, total, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="mutant names to run (fnmatch), e.g. '*x_pretax_profit__*'")
    args = parser.parse_args(argv)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; allowed: {', '.join(GROUPS)}")
    for group in args.groups or list(GROUPS):
        killed, total, counts = run_group(group, args.max_children, args.only)
        rate = f"{100 * killed / total:.1f}%" if total else "-"
        print(f"{group:<11} {killed}/{total} killed ({rate}); {counts}; "
              f"build/mutation/{group}/results.txt", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
