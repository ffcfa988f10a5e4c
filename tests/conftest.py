"""Shared fixtures: small configs and cached baseline runs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return BASELINE
