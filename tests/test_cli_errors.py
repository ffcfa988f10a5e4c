"""The command line on bad configs: exit status 2, one clear message, nothing written.

Each case runs ``msp-sim run CONFIG --out DIR`` and checks: exit status 2, the
dotted key and the offending value on stderr, no traceback, and the output
directory untouched (not created, or, when it existed with a file of the user's
in it, unchanged).

Three cases (one for each state of ``--out``: ``REAL``) run the console script
next to the test's Python (or ``python -m simulator.cli`` where it is missing),
each in a subprocess of its own. The others run one after another in a single
subprocess (``DRIVER``) that calls the console script's entry point,
:func:`simulator.console.console_main`, with the case's ``sys.argv``, working
directory and streams, its ``SystemExit`` status the exit status and any other
exception's traceback written to the case's stderr, as the interpreter would;
the three ``REAL`` cases run there too and must give the same status and
output as in their own processes. 22 cases in 22 processes took 13-28 s of the
suite's setup (the three clean CI runs of 2133e42); the file went from 22.4 s of
CPU to 9.3 s (48.5 s to 21.2 s of wall time on 2 busy cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SENTINEL_TEXT = "must survive a failed run\n"
# What --out holds before the run: nothing (absent), a file of the user's, or
# the summary of an earlier run (which a successful run would replace).
OUT_STATES = (None, "my-notes.txt", "summary.json")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("msp-sim")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "simulator.cli"]


GOOD = "[simulation]\nmonths = 12\npaths = 10\n"

# (id, TOML text, extra arguments, words that must be on stderr)
CASES: list[tuple[str, str, list[str], list[str]]] = [
    ("unknown section", "[chrun]\nannual_rate = 0.1\n", [], ["chrun", "unknown section"]),
    ("unknown key", "[sales]\nmeetings = 5\n", [], ["sales.meetings = 5", "unknown key"]),
    ("string for a number", '[churn]\nannual_rate = "ten"\n', [],
     ['churn.annual_rate = "ten"', "wrong type"]),
    ("boolean for a number", "[customers]\nprice_per_seat = true\n", [],
     ["customers.price_per_seat = true", "wrong type"]),
    ("churn rate >= 1", "[churn]\nannual_rate = 1.2\n", [],
     ["churn.annual_rate = 1.2", "0 <= value < 1"]),
    ("non-integer techs", "[start]\ntechs = 1.5\n", [], ["start.techs = 1.5", "not an integer"]),
    ("uniform low > high", '[churn]\nannual_rate = {dist = "uniform", low = 0.2, high = 0.1}\n',
     [], ["churn.annual_rate", "low = 0.2", "low < high"]),
    ("unknown distribution", '[churn]\nannual_rate = {dist = "weibull", k = 2}\n', [],
     ["churn.annual_rate", '"weibull"', "unknown distribution"]),
    ("unbounded normal", '[churn]\nannual_rate = {dist = "normal", mean = 0.1, sd = 0.03}\n',
     [], ["churn.annual_rate", "mean = 0.1", "out of range"]),
    ("beta sd too large", '[churn]\nannual_rate = {dist = "beta", mean = 0.5, sd = 0.6}\n', [],
     ["churn.annual_rate", "sd = 0.6", "impossible beta"]),
    ("array of tables", "[[churn]]\nannual_rate = 0.1\n", [], ["churn", "[[churn]]"]),
    ("malformed TOML", "[churn]\nannual_rate == 0.1\n", [],
     ["malformed TOML", "line 2", "annual_rate == 0.1"]),
    ("unknown sampling", '[simulation]\nsampling = "halton"\n', [],
     ['simulation.sampling = "halton"', "sobol"]),
    ("bad churn mode", '[churn]\nmode = "monthly"\n', [], ['churn.mode = "monthly"', "renewal"]),
    ("alignment.enabled not a bool", "[alignment]\nenabled = 1\n", [],
     ["alignment.enabled = 1", "true or false"]),
    ("negative seed in file", "[simulation]\nseed = -5\n", [],
     ["simulation.seed = -5", "out of range"]),
    ("bad --set syntax", GOOD, ["--set", "churn.annual_rate"],
     ["churn.annual_rate", "bad syntax", "KEY=VALUE"]),
    ("--set key without a section", GOOD, ["--set", "annual_rate=0.1"],
     ["annual_rate", "bad key", "churn.annual_rate"]),
    ("--set unknown section", GOOD, ["--set", "finances.tools_share=0.1"],
     ["finances.tools_share", "unknown section"]),
    ("bad --set value", GOOD, ["--set", "churn.annual_rate=1.5"],
     ["churn.annual_rate = 1.5", "out of range"]),
    ("--seed negative", GOOD, ["--seed", "-1"], ["simulation.seed = -1", "out of range"]),
    ("--paths zero", GOOD, ["--paths", "0"], ["simulation.paths = 0", "out of range"]),
]


@dataclass
class Outcome:
    """What one CLI run did."""

    returncode: int
    stdout: str
    stderr: str
    config: Path
    out: Path
    sentinel: str | None


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


REAL = ("unknown section", "bad --set value", "malformed TOML")
"""The cases also run in processes of their own: --out absent, with a file of the
user's, with an earlier summary (``OUT_STATES[i % 3]``)."""

DRIVER = textwrap.dedent("""
    import contextlib, io, json, os, sys, traceback
    from simulator.console import console_main

    cases, written = sys.argv[1:3]
    results = {}
    for name, argv, cwd in json.load(open(cases, encoding="utf-8")):
        out, err = io.StringIO(), io.StringIO()
        os.chdir(cwd)
        sys.argv = ["msp-sim", *argv]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                console_main()
                code = 0
            except SystemExit as exc:  # what the interpreter makes of it at exit
                code = exc.code if isinstance(exc.code, int) else exc.code is not None
                if code is True:
                    print(exc.code, file=sys.stderr)
                    code = 1
                code = int(code)
            except BaseException:
                traceback.print_exc()
                code = 1
        results[name] = [code, out.getvalue(), err.getvalue()]
    json.dump(results, open(written, "w", encoding="utf-8"))
""")
"""Every case's ``msp-sim run`` in one process, one after another (see the module's
docstring)."""


def _case_dir(base: Path, i: int, text: str) -> tuple[Path, Path, str | None]:
    config = base / "scenario.toml"
    config.write_text(text, encoding="utf-8")
    out = base / "out"
    sentinel = OUT_STATES[i % len(OUT_STATES)]
    if sentinel is not None:
        out.mkdir()
        (out / sentinel).write_text(SENTINEL_TEXT, encoding="utf-8")
    return config, out, sentinel


def _argv(config: Path, out: Path, extra: list[str]) -> list[str]:
    size = [] if "--paths" in extra else ["--paths", "10", "--months", "12"]
    return ["run", str(config), "--out", str(out), "--no-progress", *size, *extra]


@pytest.fixture(scope="module")
def all_outcomes(tmp_path_factory) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    """Every case run by ``DRIVER``, and the ``REAL`` cases each in its own process."""
    jobs, real = {}, {}
    for i, (name, text, extra, _) in enumerate(CASES):
        work = tmp_path_factory.mktemp(f"case{i}")
        config, out, sentinel = _case_dir(work, i, text)
        jobs[name] = (_argv(config, out, extra), work, config, out, sentinel)
        if name in REAL:
            own = tmp_path_factory.mktemp(f"real{i}")
            config, out, sentinel = _case_dir(own, i, text)
            real[name] = (_argv(config, out, extra), own, config, out, sentinel)
    driver = tmp_path_factory.mktemp("driver")
    (driver / "cases.json").write_text(json.dumps(
        [[name, argv, str(work)] for name, (argv, work, *_r) in jobs.items()]), encoding="utf-8")
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(_run, _command() + argv, work)
                   for name, (argv, work, *_r) in real.items()}
        one = _run([sys.executable, "-c", DRIVER, str(driver / "cases.json"),
                    str(driver / "results.json")], driver)
        results = {name: f.result() for name, f in futures.items()}
    assert one.returncode == 0, one.stderr
    driven = json.loads((driver / "results.json").read_text(encoding="utf-8"))
    return ({name: Outcome(*driven[name], *jobs[name][2:]) for name in jobs},
            {name: Outcome(res.returncode, res.stdout, res.stderr, *real[name][2:])
             for name, res in results.items()})


@pytest.fixture(scope="module")
def outcomes(all_outcomes) -> dict[str, Outcome]:
    """What each case did: the ``REAL`` cases in their own processes, the others in
    ``DRIVER``'s."""
    driven, real = all_outcomes
    return {**driven, **real}


def test_one_process_gives_what_a_process_of_its_own_gives(all_outcomes):
    """The ``REAL`` cases' exit status, stdout, stderr and --out in ``DRIVER``'s process
    as in their own (the case's folder, which differs, read as ``DIR``)."""
    driven, real = all_outcomes
    assert sorted(real) == sorted(REAL)
    for name, got in real.items():
        mine = driven[name]
        assert mine.returncode == got.returncode, (name, mine, got)
        assert (mine.stdout.replace(str(mine.config.parent), "DIR")
                == got.stdout.replace(str(got.config.parent), "DIR")), name
        assert (mine.stderr.replace(str(mine.config.parent), "DIR")
                == got.stderr.replace(str(got.config.parent), "DIR")), name
        assert mine.sentinel == got.sentinel
        assert (sorted(p.name for p in mine.out.iterdir()) if mine.out.exists() else None) == (
            sorted(p.name for p in got.out.iterdir()) if got.out.exists() else None), name


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_bad_config(outcomes, case):
    name, _, _, words = case
    got = outcomes[name]
    assert got.returncode == 2, (got.returncode, got.stderr)
    assert "Traceback" not in got.stderr, got.stderr
    for w in words:
        assert w in got.stderr, (w, got.stderr)
    if not name.startswith("--") and "--set" not in name:
        assert str(got.config) in got.stderr, got.stderr
    if got.sentinel is not None:
        assert sorted(p.name for p in got.out.iterdir()) == [got.sentinel]
        assert (got.out / got.sentinel).read_text(encoding="utf-8") == SENTINEL_TEXT
    else:
        assert not got.out.exists()
    assert not (got.config.parent / "results").exists()


def test_cli_error_is_short(outcomes):
    # One problem, one line (after the "error:" prefix), for every single-mistake case.
    for name, got in outcomes.items():
        lines = [ln for ln in got.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, (name, got.stderr)


def _here(argv: list[str], cwd: Path, monkeypatch, capsys) -> subprocess.CompletedProcess:
    """``msp-sim ARGV`` by :func:`simulator.cli.main` in the test's process (not the
    console script's entry point, which tunes and freezes the garbage collector for a
    process about to exit): its exit status, stdout and stderr."""
    from simulator.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(argv)
    got = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, got.out, got.err)


@pytest.mark.parametrize(
    ("text", "words", "own_process"),
    [
        ("[churn]\nannual_rate = 1.2\n", ["churn.annual_rate = 1.2", "0 <= value < 1"], True),
        # the same path to exit 2 with another message: the entry point in this process
        # (an interpreter start and import less, ~2 s of CPU)
        ("[start]\ncustomers = 2.5\n", ["start.customers = 2.5", "not an integer"], False),
    ],
)
def test_cli_validate_bad_config(tmp_path, monkeypatch, capsys, text, words, own_process):
    config = tmp_path / "scenario.toml"
    config.write_text(text, encoding="utf-8")
    if own_process:
        res = _run(_command() + ["validate", str(config)], tmp_path)
    else:
        res = _here(["validate", str(config)], tmp_path, monkeypatch, capsys)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert str(config) in res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_cli_missing_config(tmp_path):
    config = tmp_path / "missing.toml"
    out = tmp_path / "out"
    res = _run(_command() + ["run", str(config), "--out", str(out)], tmp_path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert str(config) in res.stderr and "no such file" in res.stderr
    assert not out.exists()
