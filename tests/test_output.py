"""Output directory, report and command line."""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import re
import sys
import types

import numpy as np
import pytest

from simulator import cli, output, report
from simulator.config.describe import config_rows
from simulator.config.loader import config_from_dict
from simulator.formatting import pct_short
from simulator.model.metrics import METRICS
from simulator.model.sampling import param_dtype
from simulator.results import SimulationResult

HAS_API = importlib.util.find_spec("simulator.api") is not None
FILES = {"summary.json", "paths.npz", "quantiles.csv", "report.html", "fan_chart.png",
         "time_to_threshold.png", "results.xlsx"}


def make_result(n=40, months=24, seed=3):
    config = config_from_dict({"simulation": {"months": months, "paths": n, "seed": seed}})
    rng = np.random.default_rng(seed)
    metrics = {name: rng.random((n, months + 1)) for name in METRICS}
    t = np.arange(months + 1)
    metrics["mrr"] = 50_000 + rng.normal(2_500, 1_500, size=(n, 1)) * t
    above = metrics["mrr"] >= 100_000
    fp = np.where(above.any(axis=1), above.argmax(axis=1), -1).astype(np.int64)
    params = np.zeros(n, dtype=param_dtype())
    for name in params.dtype.names:
        params[name] = rng.random(n)
    return SimulationResult(config=config, seed=seed, metrics=metrics, first_passage=fp,
                            params=params)


@pytest.fixture(scope="module")
def result():
    return make_result()


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_write_outputs_files(tmp_path, result):
    out = report.write_outputs(result, tmp_path / "nested" / "run")
    assert {p.name for p in out.iterdir()} == FILES
    assert [p.name for p in (tmp_path / "nested").iterdir()] == ["run"]  # no temp left

    summary = json.loads((out / "summary.json").read_text())
    # issue 24: the run's two kinds of uncertainty, each headline with its luck interval
    # (40 paths are too few to split them over the drawn inputs: said in a note)
    block = summary.pop("uncertainty")
    head = block["headlines"]["p_break_by_horizon"]
    assert head["mc_interval"] == pytest.approx(summary["p_break_by_horizon_ci95"])
    assert head["plausible_range"] is None and "too few" in head["note"]
    assert summary == json.loads(json.dumps(result.summary()))

    with np.load(out / "paths.npz") as npz:
        names = set(npz.files)
        assert set(METRICS) <= names
        assert npz["mrr"].shape == (40, 25)
        assert npz["mrr"].dtype == np.float32  # trajectories in float32, half the size
        np.testing.assert_array_equal(npz["cash"], result["cash"].astype(np.float32))
        np.testing.assert_allclose(npz["mrr"], result["mrr"], rtol=1e-7)
        np.testing.assert_array_equal(npz["first_passage"], result.first_passage)
        assert npz["first_passage"].dtype == np.int64
        for field in result.params.dtype.names:
            np.testing.assert_array_equal(npz[f"param_{field}"], result.params[field])
        np.testing.assert_array_equal(npz["insolvency_month"], result.insolvency_month)
        assert npz["insolvency_month"].dtype == np.int64
    assert names == set(METRICS) | {"first_passage", "insolvency_month"} | {
        f"param_{f}" for f in result.params.dtype.names}

    with open(out / "quantiles.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["month", "metric", "quantile", "value"]
    assert len(rows) - 1 == 25 * len(METRICS) * 7
    by_key = {(int(m), name, float(q)): float(v) for m, name, q, v in rows[1:]}
    assert by_key[(24, "mrr", 0.5)] == pytest.approx(np.median(result["mrr"][:, 24]))
    assert {r[1] for r in rows[1:]} == set(METRICS)


def test_report_html(tmp_path, result):
    out = report.write_outputs(result, tmp_path / "run", save_paths=False)
    assert "paths.npz" not in {p.name for p in out.iterdir()}
    page = (out / "report.html").read_text(encoding="utf-8")
    shown = re.search(r'<p class="headline" id="headline">(.*?)</p>', page, re.S)
    assert shown and html.unescape(shown.group(1)) == report.headline(result)
    assert result.headline() in html.unescape(page)
    # P(break) curve, fan chart, owner's month, revenue mix, operations, profit and cash
    # (no convergence).
    assert page.count("data:image/png;base64,") == 6
    assert "Convergence" not in page
    assert "<script" not in page.lower()
    assert "churn.annual_rate" in page and "uniform(low=0.08, high=0.15)" in page
    # the source column names the document, not the seed number
    assert "Ryan Morris, &#34;The One Metric That Matters Most&#34;" in page
    assert "seed 00" not in page
    assert '<h2 id="words">What the words mean</h2>' in page and "<abbr title=" in page
    assert "correlations.pairs" in page
    for name in ("fan_chart.png", "time_to_threshold.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_headline_numbers_and_convergence(tmp_path, result):
    p = result.p_break_by(result.months)
    median = result.time_quantile(0.5)
    text = report.headline(result)
    sustained = ("" if result.sustain_months == 1
                 else f" (sustained {result.sustain_months} months)")
    assert text.startswith(f"{100 * p.value:.0f}% chance to break $100k MRR{sustained} "
                           "within 24 months "
                           f"(95% CI {100 * p.low:.0f}%\u2013{100 * p.high:.0f}%)")
    high = "beyond 24" if median.high is None else median.high
    assert f"; median {median.value} months [{median.low}\u2013{high}]. " in text
    out_ = result.p_insolvent_by(result.months)
    assert text.endswith(f"chance of running out of cash and credit by month 24 (95% CI "
                         f"{pct_short(out_.low)}\u2013{pct_short(out_.high)})")
    result.convergence = [{"paths": 10, "estimate": 0.5, "half_width": 0.3},
                          {"paths": 40, "estimate": 0.6, "half_width": 0.15}]
    try:
        out = report.write_outputs(result, tmp_path / "run", save_paths=False)
    finally:
        del result.convergence
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Convergence</h2>" in page and page.count("data:image/png;base64,") == 7
    assert "15.00 pp" in page  # the trace's table


def test_revenue_mix_shares():
    res = make_result()
    mix = report.revenue_mix(res)
    total = sum(res[m][:, 1:].mean(axis=0) for m in ("revenue_products", "revenue_projects",
                                                      "revenue_managed", "revenue_cloud"))
    np.testing.assert_allclose(mix["managed"], res["revenue_managed"][:, 1:].mean(axis=0) / total)
    np.testing.assert_allclose(sum(mix.values()), 1.0)
    stages = report.SERVICE_LEADERSHIP_STAGES
    assert [(s.products, s.projects, s.managed) for s in stages] == [
        (0.5, 0.4, 0.1), (0.3, 0.4, 0.3), (0.235, 0.235, 0.53)]


def test_paths_npz_holds_what_the_run_kept(tmp_path, result):
    # A run that kept its trajectories writes them all ...
    out = report.write_outputs(result, tmp_path / "a")
    with np.load(out / "paths.npz") as data:
        assert {"mrr", "first_passage"} <= set(data.files)
    # ... a run that kept only statistics writes the first-passage and insolvency months.
    from simulator.results.monthly_stats import MonthlyStats

    block = np.stack([result[name] for name in result.metric_names], axis=1)
    streamed = SimulationResult(config=result.config, seed=result.seed, metrics={},
                                first_passage=result.first_passage,
                                insolvency_month=result.insolvency_month,
                                stats=MonthlyStats.from_first_chunk(result.metric_names, block))
    out = report.write_outputs(streamed, tmp_path / "b")
    with np.load(out / "paths.npz") as data:
        assert set(data.files) == {"first_passage", "insolvency_month"}
        np.testing.assert_array_equal(data["first_passage"], result.first_passage)
        np.testing.assert_array_equal(data["insolvency_month"], result.insolvency_month)
    assert not (report.write_outputs(result, tmp_path / "c", save_paths=False)
                / "paths.npz").exists()


def test_replaces_earlier_output(tmp_path, result):
    out = tmp_path / "run"
    report.write_outputs(result, out, save_paths=False)
    other = make_result(seed=9)
    report.write_outputs(other, out)
    assert json.loads((out / "summary.json").read_text())["seed"] == 9
    assert {p.name for p in tmp_path.iterdir()} == {"run"}


@pytest.fixture(scope="module")
def written(tmp_path_factory, result):
    """``result``'s output directory, written once for the module: each failure case below
    starts from a copy of it (``shutil.copytree`` keeps the files' bytes, modes and times)
    instead of writing it again (~1.4 s of CPU each, the figures most of it)."""
    return report.write_outputs(result, tmp_path_factory.mktemp("written") / "run")


@pytest.mark.parametrize("writer", ["write_quantiles_csv", "write_paths", "write_summary"])
def test_failure_leaves_existing_dir_untouched(tmp_path, written, monkeypatch, writer):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(written, out)
    before = snapshot(out)
    assert before == snapshot(written)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(output, writer, boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        report.write_outputs(make_result(seed=9), out)
    assert snapshot(out) == before
    assert {p.name for p in tmp_path.iterdir()} == {"run"}


def test_failure_creates_nothing(tmp_path, result, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.run.files, "write_run_report", boom)
    with pytest.raises(KeyboardInterrupt):
        report.write_outputs(result, tmp_path / "new" / "run")
    assert list(tmp_path.iterdir()) == []


def test_refuses_foreign_directory(tmp_path, result):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(output.OutputDirError, match="thesis.tex"):
        report.write_outputs(result, out)
    assert (out / "thesis.tex").read_text() == "precious"
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(output.OutputDirError, match="not a directory"):
        report.write_outputs(result, afile)


def test_config_rows_cover_every_key():
    config = config_from_dict({"churn": {"mode": "renewal"}})
    rows = {r.key: r for r in config_rows(config)}
    assert rows["churn.mode"].value == "renewal"
    assert rows["churn.annual_rate"].unit == "1/year"
    # an assumption left out is drawn over its range around the sourced 36 (issue 24)
    assert rows["customers.contract_months"].value == "triangular(low=12, mode=36, high=60)"
    assert rows["finance.tax_rate"].value == "0.21"
    assert rows["alignment.enabled"].value == "false"
    assert rows["simulation.months"].value == "60"
    sections = {k.split(".")[0] for k in rows}
    assert sections == set(type(config).model_fields)


# -- command line ------------------------------------------------------------

CONFIG_TEXT = """
[simulation]
months = 12
paths = 30
seed = 5

[churn]
annual_rate = {dist = "uniform", low = 0.08, high = 0.12}
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "shop.toml"
    path.write_text(CONFIG_TEXT)
    return path


def test_cli_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("msp-sim ")


def test_cli_validate(config_file, capsys):
    assert cli.main(["validate", str(config_file), "--set", "sales.reps=2"]) == 0
    out = capsys.readouterr().out
    assert "[churn]" in out and "[simulation]" in out
    assert "uniform(low=0.08, high=0.12)" in out
    assert "1/year" in out and "seed 00" not in out  # units; sources named as documents
    line = next(li for li in out.splitlines() if li.strip().startswith("sales.reps "))
    assert "2" in line.split() and line.endswith("* set in your config")  # set by --set
    line = next(li for li in out.splitlines() if li.strip().startswith("churn.annual_rate "))
    assert line.endswith("* set in your config")  # set in the file
    line = next(li for li in out.splitlines() if li.strip().startswith("tickets.hours_aligned"))
    assert "set in your config" not in line and "TruMethods" in line  # a default's source


def test_cli_validate_error(config_file, capsys):
    assert cli.main(["validate", str(config_file), "--set", "churn.annual_rate=1.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "churn.annual_rate" in err
    assert "Traceback" not in err


def test_cli_unknown_key_exit_2_and_nothing_written(tmp_path, config_file, capsys):
    config_file.write_text(CONFIG_TEXT + "\n[sales]\nmeetings_per_mnth = 4\n")
    out = tmp_path / "out"
    assert cli.main(["run", str(config_file), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "sales.meetings_per_mnth" in err
    assert not out.exists()


@pytest.mark.parametrize("args, key", [
    (["--paths", "-5"], "simulation.paths"),
    (["--months", "0"], "simulation.months"),
    (["--seed", "-1"], "simulation.seed"),
    (["--set", "sales.bogus=1"], "sales.bogus"),
    (["--chunk-size", "0"], "--chunk-size"),
])
def test_cli_bad_values_exit_2(tmp_path, config_file, capsys, args, key):
    out = tmp_path / "out"
    assert cli.main(["run", str(config_file), "--out", str(out), *args]) == 2
    assert key in capsys.readouterr().err
    assert not out.exists()


def test_cli_missing_file(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_cli_usage_error_returns_2(capsys):
    assert cli.main(["run"]) == 2
    assert cli.main(["run", "x.toml", "--paths", "many"]) == 2


def _fake_api(monkeypatch, simulate):
    fake = types.ModuleType("simulator.api")
    fake.simulate = simulate
    fake.engine_ready = lambda notice=None, **kwargs: 0.0  # the CLI loads the engine first
    monkeypatch.setitem(sys.modules, "simulator.api", fake)


def test_cli_run_with_fake_engine(tmp_path, config_file, capsys, monkeypatch):
    seen = {}

    def simulate(config, n_paths=None, seed=None, *, chunk_size=None, progress=None,
                 keep_paths=None, client=None):
        seen.update(paths=config.simulation.paths, seed=config.simulation.seed,
                    chunk_size=chunk_size, progress=progress, client=client)
        return make_result(n=config.simulation.paths, months=config.simulation.months,
                           seed=config.simulation.seed)

    _fake_api(monkeypatch, simulate)
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["run", str(config_file), "--paths", "25", "--seed", "8", "--no-progress",
                   "--no-levers",
                   "--chunk-size", "10"])
    assert rc == 0
    assert seen == {"paths": 25, "seed": 8, "chunk_size": 10, "progress": False,
                    "client": None}
    out = tmp_path / "results" / "shop"
    assert {p.name for p in out.iterdir()} == FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_paths"] == 25 and summary["seed"] == 8
    text = capsys.readouterr().out
    assert "P(MRR >= $100,000 by month 12)" in text and str(out) in text


def test_cli_interrupt(tmp_path, config_file, capsys, monkeypatch):
    def simulate(*args, **kwargs):
        raise KeyboardInterrupt

    _fake_api(monkeypatch, simulate)
    out = tmp_path / "out"
    assert cli.main(["run", str(config_file), "--out", str(out)]) == 130
    assert "interrupted; nothing written" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_foreign_out_dir_before_simulating(tmp_path, config_file, capsys,
                                                       monkeypatch):
    def simulate(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("simulated although the output dir is unusable")

    _fake_api(monkeypatch, simulate)
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert cli.main(["run", str(config_file), "--out", str(out)]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.skipif(not HAS_API, reason="simulator.api not available")
def test_cli_run_real_engine(tmp_path, config_file, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(config_file), "--out", str(out), "--no-progress"]) == 0
    assert {p.name for p in out.iterdir()} == FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_paths"] == 30 and summary["months"] == 12
    with np.load(out / "paths.npz") as npz:
        assert npz["mrr"].shape == (30, 13)
        assert "param_churn_annual_rate" in npz.files


def test_run_result_has_the_analysis_shape(tmp_path, result):
    # to_dict() is summary.json, to_frame() the rows of quantiles.csv, plot() a figure.
    pytest.importorskip("pandas")
    assert result.to_dict() == json.loads(json.dumps(result.summary()))
    frame = result.to_frame()
    out = report.write_outputs(result, tmp_path / "run", save_paths=False)
    with open(out / "quantiles.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    assert len(frame) == len(rows)
    for k in (0, 1, len(rows) // 2, len(rows) - 1):
        month, metric, q, value = rows[k]
        assert (frame.month[k], frame.metric[k]) == (int(month), metric)
        assert frame["quantile"][k] == float(q) and frame.value[k] == float(value)
    from matplotlib.figure import Figure

    assert isinstance(result.plot(), Figure)
