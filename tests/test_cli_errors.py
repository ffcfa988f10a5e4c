"""The command line on bad configs: exit status 2, one clear message, nothing written.

Each case runs ``msp-sim run CONFIG --out DIR`` (the console script next to
the test's Python, or ``python -m simulator.cli`` where it is missing) in a
subprocess and checks: exit status 2, the dotted key and the offending value
on stderr, no traceback, and the output directory untouched (not created, or,
when it existed with a file of the user's in it, unchanged). The
subprocesses run in parallel to keep the suite quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    jobs = {}
    for i, (name, text, extra, _) in enumerate(CASES):
        work = tmp_path_factory.mktemp(f"case{i}")
        config = work / "scenario.toml"
        config.write_text(text, encoding="utf-8")
        out = work / "out"
        sentinel = OUT_STATES[i % len(OUT_STATES)]
        if sentinel is not None:
            out.mkdir()
            (out / sentinel).write_text(SENTINEL_TEXT, encoding="utf-8")
        size = [] if "--paths" in extra else ["--paths", "10", "--months", "12"]
        cmd = _command() + ["run", str(config), "--out", str(out), "--no-progress", *size, *extra]
        jobs[name] = (cmd, work, config, out, sentinel)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(_run, cmd, work) for name, (cmd, work, *_r) in jobs.items()}
        results = {name: f.result() for name, f in futures.items()}
    return {
        name: Outcome(res.returncode, res.stdout, res.stderr, *jobs[name][2:])
        for name, res in results.items()
    }


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


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[churn]\nannual_rate = 1.2\n", ["churn.annual_rate = 1.2", "0 <= value < 1"]),
        ("[start]\ncustomers = 2.5\n", ["start.customers = 2.5", "not an integer"]),
    ],
)
def test_cli_validate_bad_config(tmp_path, text, words):
    config = tmp_path / "scenario.toml"
    config.write_text(text, encoding="utf-8")
    res = _run(_command() + ["validate", str(config)], tmp_path)
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
