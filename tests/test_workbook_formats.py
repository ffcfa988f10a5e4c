"""Every workbook a person opens reads right without reformatting (issue 26).

The three workbook kinds (a run's ``results.xlsx`` with its lever scan, a
comparison's ``results.xlsx``, a portfolio's ``portfolio.xlsx`` with its levers),
written by the commands a person runs, are opened with openpyxl: every numeric cell
has a number format, every sheet's headers are unique, no number is stored as text.
Then LibreOffice (Debian's ``libreoffice-calc-nogui``, headless) opens them and
converts every sheet to CSV: the same numbers, and the formats shown as a person
sees them. The LibreOffice test skips, saying so, only where ``soffice`` cannot be
found (``.ci/run`` installs it).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from simulator.cli import main

openpyxl = pytest.importorskip("openpyxl")

BASE = ("[simulation]\nmonths = 24\npaths = 300\nseed = 7\nthreshold_mrr = 60000\n"
        "[start]\ncustomers = 16\ntechs = 4\ncash = 20000\n")
NUMBER_AS_TEXT = re.compile(r"\s*[-+$]?\$?[\d,]*\.?\d+(e[-+]?\d+)?%?\s*", re.IGNORECASE)


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    base = folder / "base.toml"
    base.write_text(BASE, encoding="utf-8")
    rep = folder / "rep.toml"
    rep.write_text(BASE + "[sales]\nreps = 1\n", encoding="utf-8")
    partners = folder / "partners.csv"
    partners.write_text("msp,start.customers,start.techs\nA,12,3\nB,20,5\nC,8,2\n",
                        encoding="utf-8")
    quiet = ["--no-progress"]
    assert main(["run", str(base), "--lever-paths", "200", "--out", str(folder / "run"),
                 *quiet]) == 0
    assert main(["compare", str(base), str(rep), "--out", str(folder / "cmp")]) == 0
    assert main(["portfolio", str(partners), "--base", str(base), "--paths", "200",
                 "--levers", "--out", str(folder / "port")]) == 0
    return {"run": folder / "run" / "results.xlsx", "comparison": folder / "cmp" /
            "results.xlsx", "portfolio": folder / "port" / "portfolio.xlsx"}


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_every_sheet_has_number_formats_unique_headers_and_no_text_numbers(workbooks):
    sheets = {}
    for kind, path in workbooks.items():
        wb = openpyxl.load_workbook(path)
        for ws in wb:
            sheets[(kind, ws.title)] = ws
            header = [c.value for c in ws[1]]
            assert len(set(header)) == len(header), (kind, ws.title, header)
            assert all(isinstance(h, str) and h for h in header), (kind, ws.title)
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    where = (kind, ws.title, cell.coordinate, cell.value)
                    if _numeric(cell.value):
                        assert cell.number_format != "General", where
                    elif isinstance(cell.value, str):
                        assert not NUMBER_AS_TEXT.fullmatch(cell.value), where
    assert set(sheets) == {("run", "Summary"), ("run", "Levers"), ("run", "Monthly"),
                           ("run", "Inputs"), ("comparison", "Scenarios"),
                           ("comparison", "Inputs"), ("portfolio", "MSPs"),
                           ("portfolio", "Portfolio"), ("portfolio", "Levers")}
    # probabilities as percentages, money in dollars
    summary = {r[0].value: r[1] for r in sheets[("run", "Summary")].iter_rows(min_row=2)}
    assert summary["P(break by month 24)"].number_format == "0.0%"
    assert summary["cash at month 24, p10 [$]"].number_format.startswith('"$"')
    # the summary's months in order
    months = [int(m) for q in summary for m in re.findall(r"^P\(break by month (\d+)\)", q)]
    assert months == sorted(months) == [12, 24]
    # the comparison has cash and insolvency
    header = [c.value for c in sheets[("comparison", "Scenarios")][1]]
    assert "P(out of cash and credit by month 24)" in header
    assert "cash p10 at month 24 [$]" in header


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.skip("no soffice on PATH (Debian: apt-get install libreoffice-calc-nogui; "
                    ".ci/run installs it)")
    return found


def _convert(soffice: str, files: list[Path], out: Path, as_shown: bool, profile: Path
             ) -> None:
    # CSV export options: comma, double quote, UTF-8 (76), from line 1, default columns,
    # language, quoted text, detect numbers, cells as shown or raw, ..., every sheet (-1)
    options = f"44,34,76,1,,0,true,true,{'true' if as_shown else 'false'},false,false,-1"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", f"csv:Text - txt - csv (StarCalc):{options}",
                    "--outdir", str(out), *map(str, files)],
                   check=True, capture_output=True, timeout=180)


def _csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_libreoffice_opens_every_workbook_with_the_same_numbers(workbooks, tmp_path):
    soffice = _soffice()
    copies = []
    for kind, path in workbooks.items():
        copies.append(tmp_path / f"{kind}.xlsx")
        shutil.copyfile(path, copies[-1])
    profile = tmp_path / "lo-profile"
    _convert(soffice, copies, tmp_path / "raw", as_shown=False, profile=profile)
    checked = 0
    for copy in copies:
        wb = openpyxl.load_workbook(copy)
        for ws in wb:
            rows = _csv(tmp_path / "raw" / f"{copy.stem}-{ws.title}.csv")
            values = [[c.value for c in row] for row in ws.iter_rows()]
            assert len(rows) == len(values), (copy.stem, ws.title)
            for got, want in zip(rows, values, strict=True):
                got = got + [""] * (len(want) - len(got))
                for text, value in zip(got, want, strict=True):
                    if value is None:
                        assert text == ""
                    elif _numeric(value):
                        # the 15 digits a spreadsheet keeps (a percentage keeps its
                        # sign; LibreOffice writes numbers below 1e-4 with 12)
                        number = (float(text[:-1]) / 100 if text.endswith("%")
                                  else float(text))
                        assert number == pytest.approx(value, rel=1e-13, abs=1e-15)
                        checked += 1
                    else:
                        assert text == str(value)
    assert checked > 500
    # as a person sees them: percentages and dollars
    _convert(soffice, copies[:1], tmp_path / "shown", as_shown=True, profile=profile)
    shown = {r[0]: r[1:] for r in _csv(tmp_path / "shown" / "run-Summary.csv")[1:]}
    assert re.fullmatch(r"\d+\.\d%", shown["P(break by month 24)"][0])
    assert re.fullmatch(r"-?\$[\d,]+", shown["cash at month 24, p10 [$]"][0])
