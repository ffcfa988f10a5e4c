"""Shared fixtures: small configs and cached baseline runs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return BASELINE


@pytest.fixture(scope="session")
def make_run_printed(tmp_path_factory) -> list[str]:
    """The lines ``make run`` (``msp-sim run configs/baseline.toml``) prints, run once for
    the session: the README's quick-start blocks are checked against them
    (tests/test_readme.py, tests/test_readme_examples.py)."""
    import contextlib
    import io
    import os

    from simulator.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    out = tmp_path_factory.mktemp("make_run") / "out"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["run", "configs/baseline.toml", "--out", str(out), "--no-progress"])
    finally:
        os.chdir(cwd)
    assert code == 0, stderr.getvalue()
    return stdout.getvalue().splitlines()
