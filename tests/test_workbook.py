"""results.xlsx: opened with openpyxl, the same numbers as summary.json and quantiles.csv
(to the 15 significant digits a spreadsheet keeps)."""

from __future__ import annotations

import csv
import json

import pytest

from simulator.analysis import compare
from simulator.analysis.scan import lever_scan
from simulator.api import simulate
from simulator.config import config_from_dict
from simulator.report import write_comparison, write_outputs

openpyxl = pytest.importorskip("openpyxl")

CONFIG = {"simulation": {"months": 24, "paths": 300, "seed": 5, "threshold_mrr": 60_000,
                         "start_date": "2027-01"},
          "start": {"customers": 16, "techs": 4}}


def _rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    config = config_from_dict(CONFIG)
    result = simulate(config, progress=False)
    scan = lever_scan(config, n_paths=200)
    return write_outputs(result, tmp_path_factory.mktemp("wb") / "run", save_paths=False,
                         levers=scan)


def test_run_workbook_matches_summary_json(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    wb = openpyxl.load_workbook(run_dir / "results.xlsx")
    assert wb.sheetnames == ["Summary", "Levers", "Monthly", "Inputs"]
    table = {row[0]: row[1:] for row in _rows(wb["Summary"])[1:]}
    assert table["P(break by month 24)"] == pytest.approx(
        [summary["p_break_by_horizon"], *summary["p_break_by_horizon_ci95"]], rel=1e-14)
    assert table["P(out of cash and credit by month 24)"][0] == pytest.approx(
        summary["p_insolvent_by_horizon"], rel=1e-14)
    assert table["cash at month 24, p50 [$]"][0] == pytest.approx(
        summary["at_horizon"]["cash_p50"], rel=1e-14)
    assert table["paths"][0] == 300
    levers = _rows(wb["Levers"])
    assert [r[0] for r in levers[1:]] == ["as is"] + [e["name"] for e in
                                                     summary["levers"]["levers"]]
    first = summary["levers"]["levers"][0]
    col = levers[0].index("change in P(break by month 24)")
    assert levers[2][col] == pytest.approx(
        first["difference"]["p_break_by_horizon"]["value"], rel=1e-14)


def test_monthly_sheet_matches_quantiles_csv(run_dir):
    wb = openpyxl.load_workbook(run_dir / "results.xlsx")
    monthly = _rows(wb["Monthly"])
    header = monthly[0]
    assert header[:3] == ["month", "calendar month", "mrr p10"]
    assert len(monthly) == 1 + 25 and monthly[1][1] == "Jan 2027" and monthly[13][1] == "Jan 2028"
    with open(run_dir / "quantiles.csv", encoding="utf-8") as fh:
        q = {(int(m), name, float(p)): float(v) for m, name, p, v in list(csv.reader(fh))[1:]}
    col = header.index("mrr p50")
    for t in (0, 12, 24):
        assert monthly[1 + t][col] == pytest.approx(q[(t, "mrr", 0.5)], rel=1e-12)
    col = header.index("cash p90")
    assert monthly[25][col] == pytest.approx(q[(24, "cash", 0.9)], rel=1e-12)
    inputs = _rows(wb["Inputs"])
    assert inputs[0] == ["key", "value", "unit", "source"]
    assert any(r[0] == "churn.annual_rate" for r in inputs)


def test_comparison_workbook(tmp_path):
    base = config_from_dict(CONFIG)
    other = config_from_dict({**CONFIG, "sales": {"reps": 1}})
    comp = compare([base, other], names=["as is", "rep"], progress=False)
    out = write_comparison(comp, tmp_path / "cmp")
    data = json.loads((out / "comparison.json").read_text())
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["Scenarios", "Inputs"]
    rows = _rows(wb["Scenarios"])
    assert [r[0] for r in rows[1:]] == ["as is", "rep"]
    h = rows[0].index("P(break by month 24)")
    assert rows[2][h] == pytest.approx(data["scenarios"][1]["p_break_by"]["24"], rel=1e-14)
    assert ["sales.reps [salespeople]", 0, 1] in _rows(wb["Inputs"])
