"""Sobol' sensitivity indices, tornado values and the sensitivity output directory."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from simulator import output
from simulator.analysis.sensitivity import OUTCOMES, sensitivity
from simulator.config import ConfigError, config_from_dict
from simulator.config.schema import param_specs
from simulator.report import SENSITIVITY_FILES, write_sensitivity

# The report layer's writing module (simulator.report names the function as well).
report_files = importlib.import_module("simulator.report.sensitivity")

PRICE = "customers.price_per_seat"
DUMMY = "sales.rep_meetings_per_month"  # no effect at all while sales.reps = 0
CHURN = "churn.annual_rate"



def _pinned() -> dict:
    """Every uncertain default pinned to its median, so that a config's only uncertain
    inputs are those a test lists (whatever the schema's defaults become)."""
    defaults = config_from_dict({})
    out: dict = {}
    for key, spec in param_specs(per_unit=False).items():
        value = defaults.get(key)
        if not isinstance(value, int | float):
            section, name = key.split(".")
            median = float(value.frozen().median())
            out.setdefault(section, {})[name] = round(median) if spec.integer else median
    return out


PINNED = _pinned()


def _config(**extra):
    data = {
        "simulation": {"months": 36, "threshold_mrr": 60_000},
        "start": {"customers": 16, "techs": 4},
        "customers": {"price_per_seat": {"dist": "uniform", "low": 60, "high": 240}},
        "sales": {"rep_meetings_per_month": {"dist": "uniform", "low": 4, "high": 12}},
        "churn": {"annual_rate": 0.1},
    }
    for section, values in PINNED.items():
        data[section] = {**values, **data.get(section, {})}
    for section, values in extra.items():
        data[section] = {**data.get(section, {}), **values}
    return config_from_dict(data)


@pytest.fixture(scope="module")
def known():
    """Only the seat price matters: its total index is ~1, the dummy's exactly 0."""
    return sensitivity(_config(), n_base=128, seed=3, paths_per_point=16, tornado_paths=400)


def test_known_answer_single_effective_input(known):
    assert set(known.parameters) == {PRICE, DUMMY}
    assert known.outcomes == tuple(OUTCOMES)
    price, dummy = known.parameters.index(PRICE), known.parameters.index(DUMMY)
    for i, name in enumerate(known.outcomes):
        # The dummy never reaches the engine's arithmetic (0 reps x its meetings), and the
        # rows that differ only in it share their month-level seeds: its outputs are the
        # same numbers, so both indices and their intervals are exactly 0.
        assert known.first_order[i, dummy] == 0 and known.total[i, dummy] == 0, name
        assert np.all(known.total_ci[i, dummy] == 0), name
        # The price carries all the parameter variance. Its true total is 1 minus the share
        # of month-level noise that does not interact with it (under 1% at 16 paths per
        # point: see "unexplained" below), so the 95% bootstrap interval must cover ~1 ...
        lo, hi = known.total_ci[i, price]
        assert lo <= 0.99 and hi >= 1.0, (name, lo, hi)
        # ... and the estimate itself lies within the interval's half-width (~0.17 at
        # n_base = 128) of 1.
        assert abs(known.total[i, price] - 1) < (hi - lo) / 2, name
    # First-order effects explain nearly everything: interactions + noise below 5%.
    assert np.all(np.abs(1 - known.first_order.sum(axis=1)) < 0.05)


def test_tornado_moves_only_the_effective_input(known):
    i = known.outcomes.index("mrr_final_median")
    price, dummy = known.parameters.index(PRICE), known.parameters.index(DUMMY)
    # Same seeds at every tornado point: the dummy's bars are the base to the cent.
    assert known.tornado_low[i, dummy] == known.tornado_base[i] == known.tornado_high[i, dummy]
    # Seat price U(60, 240): 5th / 50th / 95th percentiles 69 / 150 / 231.
    np.testing.assert_allclose(known.tornado_values[price], [69, 150, 231])
    assert known.tornado_low[i, price] < known.tornado_base[i] < known.tornado_high[i, price]


def test_json_blocks_sorted_by_total_and_reproducible():
    cfg = _config(churn={"annual_rate": {"dist": "uniform", "low": 0.05, "high": 0.3}})
    kwargs = dict(n_base=32, seed=11, paths_per_point=4, tornado_paths=100, n_resamples=200)
    res = sensitivity(cfg, **kwargs)
    data = json.loads(res.to_json())
    assert data == res.to_dict()
    assert [b["outcome"] for b in data["outcomes"]] == list(OUTCOMES)
    assert data["n_base"] == 32 and data["evaluations"] == 32 * (3 + 2)
    assert data["correlations_ignored"] is False
    for block in data["outcomes"]:
        totals = [row["total"] for row in block["indices"]]
        assert totals == sorted(totals, reverse=True)
        assert {row["parameter"] for row in block["indices"]} == {PRICE, CHURN, DUMMY}
        for row in block["indices"]:
            assert set(row) == {"parameter", "first_order", "total", "ci95"}
            lo, hi = row["ci95"]["total"]
            assert lo <= hi
        assert block["indices"][-1]["parameter"] == DUMMY  # exactly 0: last
    assert sensitivity(cfg, **kwargs).to_dict() == data  # same seed, same numbers
    other = sensitivity(cfg, **{**kwargs, "seed": 12}).to_dict()
    assert other["outcomes"][0]["indices"] != data["outcomes"][0]["indices"]


def test_subsets_of_outcomes_and_parameters():
    cfg = _config(churn={"annual_rate": {"dist": "uniform", "low": 0.05, "high": 0.3}})
    res = sensitivity(cfg, n_base=16, seed=1, paths_per_point=2, tornado_paths=50,
                      n_resamples=100, outcomes=["mrr_final_median"], parameters=[CHURN])
    assert res.outcomes == ("mrr_final_median",) and res.parameters == (CHURN,)
    assert res.first_order.shape == res.total.shape == (1, 1)
    assert res.total_ci.shape == (1, 1, 2)
    fig = res.plot()
    assert len(fig.axes) == 1
    assert len(res.plot("indices").axes) == 1


@pytest.mark.parametrize("kwargs, words", [
    ({"n_base": 100}, ["power of 2", "100"]),
    ({"outcomes": ["p_break_by_36"]}, ["unknown outcome", "p_break_by_horizon"]),
    ({"parameters": ["sales.close_rate"]}, ["sales.close_rate", "not an uncertain",
                                            PRICE]),
    ({"paths_per_point": 0}, ["paths_per_point", "at least 1"]),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        sensitivity(_config(), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_config_without_uncertain_inputs():
    cfg = _config(customers={"price_per_seat": 125}, sales={"rep_meetings_per_month": 8})
    with pytest.raises(ConfigError, match="no uncertain input"):
        sensitivity(cfg, n_base=16)


def test_correlations_are_reported_as_ignored():
    cfg = config_from_dict({
        **PINNED, "simulation": {"months": 12},
        "customers": {"price_per_seat": {"dist": "uniform", "low": 100, "high": 150}},
        "churn": {"annual_rate": {"dist": "uniform", "low": 0.08, "high": 0.15}},
        "correlations": {"pairs": [{"a": PRICE, "b": CHURN, "rho": 0.4}]},
    })
    res = sensitivity(cfg, n_base=16, seed=2, paths_per_point=2, tornado_paths=50,
                      n_resamples=100)
    assert res.to_dict()["correlations_ignored"] is True


def test_to_frame():
    pd = pytest.importorskip("pandas")
    res = sensitivity(_config(), n_base=16, seed=4, paths_per_point=2, tornado_paths=50,
                      n_resamples=100)
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(OUTCOMES) * 2
    assert {"outcome", "parameter", "first_order", "total", "total_low",
            "total_high"} <= set(frame.columns)


@pytest.fixture(scope="module")
def small():
    return sensitivity(_config(), n_base=16, seed=5, paths_per_point=2, tornado_paths=50,
                       n_resamples=100)


def test_write_sensitivity(tmp_path, small):
    out = write_sensitivity(small, tmp_path / "nested" / "sens")
    assert {p.name for p in out.iterdir()} == SENSITIVITY_FILES
    assert [p.name for p in (tmp_path / "nested").iterdir()] == ["sens"]  # no temp left
    assert json.loads((out / "sensitivity.json").read_text()) == small.to_dict()
    assert (out / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "sensitivity.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and page.count("data:image/png;base64,") == 2
    assert small.headlines()[0] in page
    # Rewriting replaces a directory of our own files.
    write_sensitivity(small, out)
    assert {p.name for p in out.iterdir()} == SENSITIVITY_FILES


def test_write_sensitivity_refuses_foreign_dir_and_is_atomic(tmp_path, small, monkeypatch):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(output.OutputDirError, match="notes.txt"):
        write_sensitivity(small, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    out = write_sensitivity(small, tmp_path / "sens")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report_files, "render_sensitivity", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_sensitivity(small, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "sens"]


def test_headlines_name_a_driver_only_when_one_stands_out(known):
    import dataclasses

    price = known.outcomes.index("p_break_by_horizon")
    line = known.headlines()[price]
    assert f"driven most by {PRICE}, which explains" in line and "(first order)" in line
    # an outcome whose spread is under 1% of its value "hardly varies": no driver named
    flat = dataclasses.replace(known, mean=np.full_like(known.mean, 1000.0),
                               variance=np.full_like(known.variance, 4.0))
    assert all("hardly varies" in h and "driven" not in h for h in flat.headlines())
    # a top total effect whose interval reaches near 0 is not called a driver
    noisy = dataclasses.replace(known, total_ci=np.where(np.isfinite(known.total_ci), 0.0,
                                                         known.total_ci))
    assert all("no input stands out" in h for h in noisy.headlines()
               if "does not vary" not in h and "hardly" not in h)


def test_an_interrupted_design_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the design, then a rerun: only the unfinished tasks run,
    and the result is the uninterrupted one, bit for bit."""
    sobol = importlib.import_module("simulator.analysis.sobol")
    monkeypatch.setattr(sobol, "_TASK_PATHS", 64)  # 16 points a task: many tasks
    kwargs = dict(n_base=16, seed=6, paths_per_point=4, tornado_paths=40, n_resamples=30)
    whole = sensitivity(_config(), **kwargs).to_dict()
    d = len(whole["parameters"])
    points = 16 * (d + 2) + 2 * d + 1  # the design's two matrices and d mixes, the tornado

    store = output.Checkpoint(tmp_path / "ck")
    calls = []
    real = sobol.point_outcomes

    def counted(model, values, seeds):
        calls.append(values.shape[1])
        return real(model, values, seeds)

    monkeypatch.setattr(sobol, "point_outcomes", counted)

    def interrupt(done, total):
        if done >= 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sensitivity(_config(), checkpoint=store, progress=interrupt, **kwargs)
    kept = len(list((tmp_path / "ck").glob("*.json")))
    assert kept == len(calls) >= 3
    calls.clear()
    resumed = sensitivity(_config(), checkpoint=store, **kwargs).to_dict()
    assert resumed == whole
    assert sum(calls) == points - 16 * kept  # only what was not kept ran
    # a kept piece that cannot be read back is dropped and redone
    for path in (tmp_path / "ck").glob("*.json"):
        path.write_bytes(b"not an array")
    calls.clear()
    assert sensitivity(_config(), checkpoint=store, **kwargs).to_dict() == whole
    assert sum(calls) == points
