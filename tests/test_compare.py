"""Scenario comparison with common random numbers (simulator.analysis.compare).

Statistical checks use fixed seeds, so each is deterministic; the thresholds
say how often they would fail for an unlucky seed. The log-rank test on
independent samples of one model rejects at level 0.001 with probability
0.001. Levers are judged against their 95% paired interval (they sit many
standard errors from zero: numbers in the assertions' messages).
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import compare, load_scenarios
from simulator.analysis.compare import logrank_p
from simulator.config import ConfigError, config_from_dict
from simulator.report import COMPARE_FILES

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
N = 600
SEED = 11


def base_dict(months: int = 24) -> dict:
    with BASELINE.open("rb") as fh:
        data = tomllib.load(fh)
    data.setdefault("simulation", {})["months"] = months
    return data


@pytest.fixture(scope="module")
def base_config():
    return config_from_dict(base_dict())


@pytest.fixture(scope="module")
def aligned_config():
    return config_from_dict(base_dict(), overrides={"alignment.enabled": True})


@pytest.fixture(scope="module")
def identical(base_config):
    return compare([base_config, base_config], names=["a", "b"], n_paths=N, seed=SEED)


@pytest.fixture(scope="module")
def lever(base_config, aligned_config):
    return compare({"as is": base_config, "aligned": aligned_config}, n_paths=N, seed=SEED)


def test_identical_scenarios_give_identical_results(identical):
    a, b = identical.results
    np.testing.assert_array_equal(a.first_passage, b.first_passage)
    for name in a.metrics:
        np.testing.assert_array_equal(a[name], b[name])
    ea, eb = identical.to_dict()["scenarios"]
    ea.pop("name")
    eb.pop("name")
    diff = eb.pop("difference_vs_reference")
    ea.pop("difference_vs_reference")
    assert ea == eb
    assert diff["p_break_by_horizon"] == {"value": 0.0, "ci95": [0.0, 0.0], "p_value": 1.0}
    assert diff["mrr_final_mean"]["value"] == 0.0


def test_logrank_does_not_reject_identical_scenarios(identical):
    assert identical.to_dict()["logrank_p"] == pytest.approx(1.0)


def test_logrank_does_not_reject_one_model_on_independent_seeds(base_config):
    # Same model, independent paths (different seeds): under H0 the p-value is
    # uniform, so p < 0.001 would be a 1-in-1000 event.
    from simulator import simulate

    a = simulate(base_config, n_paths=N, seed=1)
    b = simulate(base_config, n_paths=N, seed=2)
    p = logrank_p(a, b)
    assert p is not None and p > 1e-3, p


def test_logrank_without_events_is_none(base_config):
    from simulator import simulate

    cfg = config_from_dict(base_dict(), overrides={"simulation.threshold_mrr": 1e9})
    r = simulate(cfg, n_paths=50, seed=1)
    assert logrank_p(r, r) is None
    comp = compare([cfg, cfg], names=["x", "y"], n_paths=50, seed=1)
    assert comp.to_dict()["logrank_p"] is None
    assert "n/a" in comp.format_summary()


def test_lever_is_detected_with_paired_interval(lever):
    data = lever.to_dict()
    assert data["logrank_p"] < 1e-6
    diff = data["scenarios"][1]["difference_vs_reference"]["p_break_by_horizon"]
    lo, hi = diff["ci95"]
    assert lo > 0, diff  # alignment raises P(break by 24) well beyond its 95% interval
    assert diff["p_value"] < 1e-6


def test_common_random_numbers_shrink_the_interval(lever):
    # The paired interval of the difference is narrower than the one two
    # independent samples of the same size would give (Wald, unpaired).
    data = lever.to_dict()
    h = str(lever.months)
    p0 = data["scenarios"][0]["p_break_by"][h]
    p1 = data["scenarios"][1]["p_break_by"][h]
    unpaired = 1.96 * math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / lever.n_paths)
    lo, hi = data["scenarios"][1]["difference_vs_reference"]["p_break_by_horizon"]["ci95"]
    assert (hi - lo) / 2 < unpaired, ((hi - lo) / 2, unpaired)


def test_comparison_json_layout(lever):
    data = lever.to_dict()
    assert data["n_paths"] == N and data["seed"] == SEED and data["months"] == 24
    assert data["common_random_numbers"] is True
    assert [s["name"] for s in data["scenarios"]] == ["as is", "aligned"]
    for s in data["scenarios"]:
        assert set(s["p_break_by"]) == {"12", "24"}  # months of 12/24/36/60 within 24
        for m, p in s["p_break_by"].items():
            lo, hi = s["p_break_by_ci95"][m]
            assert lo <= p <= hi
        assert set(s["time_to_threshold"]) >= {"median", "ci95"}
        assert set(s["mrr_final"]) >= {"mean", "p5", "p50", "p95", "ci95"}
        for k in ("mean", "p5", "p50", "p95"):
            lo, hi = s["mrr_final"]["ci95"][k]
            assert lo <= s["mrr_final"][k] <= hi
    assert isinstance(data["logrank_p"], float)
    assert "scipy.stats.logrank" in data["logrank_test"]
    assert lever.to_json() == lever.to_json()  # plain JSON, no NaN
    assert lever.to_dict() is data


def test_three_scenarios_pairwise_against_the_first(base_config, aligned_config):
    rep = config_from_dict(base_dict(), overrides={"sales.reps": 1})
    comp = compare([base_config, aligned_config, rep], names=["a", "b", "c"], n_paths=200,
                   seed=SEED)
    data = comp.to_dict()
    assert set(data["logrank_p"]) == {"b", "c"}
    assert "pairwise vs the first" in data["logrank_test"]
    assert data["reference"] == "a"
    assert comp.logrank() == data["logrank_p"]


def test_seed_and_paths_default_to_the_first_config(base_config):
    cfg = config_from_dict(base_dict(12), overrides={"simulation.paths": 40,
                                                     "simulation.seed": 3})
    comp = compare([cfg, cfg], names=["x", "y"])
    assert comp.n_paths == 40 and comp.seed == 3


def test_mismatched_horizons_are_rejected(base_config):
    other = config_from_dict(base_dict(36))
    with pytest.raises(ConfigError, match=r"simulation\.months = 36: differs"):
        compare([base_config, other], n_paths=10, seed=1)


def test_fewer_than_two_and_duplicates(base_config, tmp_path):
    with pytest.raises(ConfigError, match="too few scenarios"):
        compare([base_config], n_paths=10)
    with pytest.raises(ConfigError, match='duplicate scenario name "x"'):
        compare([base_config, base_config], names=["x", "x"], n_paths=10)
    with pytest.raises(ConfigError, match="one config is not a comparison"):
        compare(BASELINE, n_paths=10)


# -- scenario files ------------------------------------------------------------


def write_scenarios(tmp_path: Path, body: str, base: bool = True) -> Path:
    if base:
        cfg = tmp_path / "configs" / "base.toml"
        cfg.parent.mkdir(exist_ok=True)
        cfg.write_text("[simulation]\nmonths = 12\npaths = 30\nseed = 4\n", encoding="utf-8")
    path = tmp_path / "scenarios.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD_FILE = """
base = "configs/base.toml"
title = "Which lever?"

[[scenario]]
name = "as is"

[[scenario]]
name = "aligned"
description = "standardization from month 3"
set = { "alignment.enabled" = true, "alignment.start_month" = 3 }

[[scenario]]
name = "rep"
set = { sales.reps = 1, churn.annual_rate = { dist = "uniform", low = 0.05, high = 0.1 } }
"""


def test_scenario_file(tmp_path):
    path = write_scenarios(tmp_path, GOOD_FILE)
    scenarios = load_scenarios(path)
    assert [s.name for s in scenarios] == ["as is", "aligned", "rep"]
    assert scenarios[1].config.alignment.enabled is True
    assert scenarios[1].config.alignment.start_month == 3
    assert scenarios[1].description == "standardization from month 3"
    assert scenarios[2].config.sales.reps == 1
    assert scenarios[2].config.churn.annual_rate.high == 0.1
    assert scenarios[0].config.alignment.enabled is False
    comp = compare(path)
    assert comp.title == "Which lever?"
    assert comp.n_paths == 30 and comp.seed == 4
    # --set style overrides reach every scenario
    over = load_scenarios(path, overrides=["simulation.months=6"])
    assert {s.config.simulation.months for s in over} == {6}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('base = "configs/base.toml"\nbases = 1\n[[scenario]]\nname = "a"\n[[scenario]]\n'
         'name = "b"\n', ["bases = 1", "unknown key", "base, title, scenario"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n',
         ["too few scenarios", "got 1"]),
        ('base = "configs/base.toml"\n[scenario]\nname = "a"\n',
         ["scenario", "[[scenario]]", "wrong type"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nset = {}\n',
         ["scenario #2.name", "missing"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "a"\n',
         ['scenario "a".name = "a"', "duplicate name"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n'
         'set = 3\n', ['scenario "b".set = 3', "wrong type"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n'
         'colour = "red"\n', ['scenario "b".colour', "unknown key", "name, description"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n'
         'set = { "alignment.enabled" = 1 }\n',
         ['scenario "b" set', "alignment.enabled = 1", "true or false"]),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n'
         'set = { "churn.anual_rate" = 0.1 }\n',
         ['scenario "b" set', "churn.anual_rate", "did you mean annual_rate"]),
        ('base = "configs/missing.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n',
         ["missing.toml (config of", "no such file"]),
        ('[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n',
         ["base: missing", "base =", '"a", "b"']),
        ('base = "configs/base.toml"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n'
         'set = { "simulation.months" = 24 }\n', ["simulation.months = 24", "differs"]),
        ('base = "configs/base.toml"\n[[scenario]\n', ["malformed TOML"]),
    ],
    ids=["unknown top key", "one scenario", "table not array", "no name", "duplicate",
         "set not a table", "unknown scenario key", "bad set value", "bad set key",
         "missing base", "no base", "different horizon", "malformed"],
)
def test_scenario_file_errors(tmp_path, body, words):
    path = write_scenarios(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        compare(path, n_paths=5)
    text = str(info.value)
    for w in words:
        assert w in text, (w, text)


# -- notebook API -----------------------------------------------------------------


def test_to_frame(lever):
    import pandas as pd  # in the test extra: .to_frame() must work there
    frame = lever.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["as is", "aligned"]
    data = lever.to_dict()
    assert frame.loc["aligned", "p_break_by_24"] == data["scenarios"][1]["p_break_by"]["24"]
    assert frame.loc["aligned", "logrank_p"] == data["logrank_p"]
    assert {"p_break_by_24_low", "median_months", "mrr_final_p50", "diff_p_break"} <= set(
        frame.columns)


def test_to_frame_without_pandas(lever, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        lever.to_frame()


def test_plot_is_a_figure(lever):
    from matplotlib.figure import Figure

    fig = lever.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_legend().get_texts()) == 2


def test_write_is_self_contained_and_atomic(lever, tmp_path):
    out = lever.write(tmp_path / "cmp")
    assert {p.name for p in out.iterdir()} == COMPARE_FILES
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "as is:" in page and "chance to break $100,000 MRR" in page
    assert "alignment.enabled" in page  # the inputs that differ
    # a directory holding someone else's file is refused and left alone
    from simulator.output import OutputDirError

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(OutputDirError, match="notes.txt"):
        lever.write(mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    # an earlier comparison is replaced
    lever.write(out)
    assert {p.name for p in out.iterdir()} == COMPARE_FILES
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_top_level_notebook_names():
    import simulator
    import simulator.analysis as analysis

    if not hasattr(simulator, "compare"):
        pytest.skip("simulator/__init__.py does not export the analysis functions yet")
    assert simulator.compare is analysis.compare
    assert simulator.goal_seek is analysis.goal_seek
