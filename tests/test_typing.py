"""mypy on the public API (issue 17): ``simulator`` (load_config, simulate, Config,
ConfigError), the config layer with its typed schema fields, the results and the
plain modules they use. Settings in pyproject.toml ([tool.mypy], with pydantic's
plugin)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_API = ["simulator/__init__.py", "simulator/api.py", "simulator/results",
              "simulator/config", "simulator/version.py", "simulator/formatting.py",
              "simulator/model/inputs.py", "simulator/output", "simulator/report",
              "simulator/fit", "simulator/analysis/levers.py", "simulator/month_one.py"]


def _mypy(workdir: Path) -> dict:
    # mypy's own incremental cache (.mypy_cache, git-ignored): a rerun re-checks only
    # what changed (~2 s instead of ~15 s cold); a cold cache gives the same verdict.
    return dict(args=[sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"),
                      *PUBLIC_API], cwd=ROOT, timeout=600)


BACKGROUND = {"mypy": _mypy}
"""Started once the session's tests are collected (tests/conftest.py): mypy, cold in CI
(about a minute of one core), runs while the other tests do."""


@pytest.mark.background("mypy")
def test_mypy_passes_on_the_public_api(background):
    run, _ = background("mypy")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout
