"""shipped_config(name) is configs/<name>.toml, without the file."""

from __future__ import annotations

from pathlib import Path

import pytest

import simulator
from simulator.config.shipped import SHIPPED

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))


def test_every_config_file_is_shipped():
    assert {p.stem for p in CONFIGS} == set(SHIPPED)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_equals_its_file(path):
    assert simulator.shipped_config(path.stem) == simulator.load_config(path)


def test_overrides_and_unknown_names():
    cfg = simulator.shipped_config("standardized", overrides={"sales.reps": 2})
    assert cfg.alignment.enabled and cfg.sales.reps == 2
    with pytest.raises(KeyError, match="shipped: baseline, standardized"):
        simulator.shipped_config("nope")
