"""Property fuzz of the text a person types (issue 28): configs, ``--set``, the TOML the
explorer and ``fit`` write, workbook names, scenario and MSP names.

Text is drawn from every Unicode category with control characters, escape sequences,
formula starts (``=``, ``+``, ``-``, ``@``), quotes and backslashes over-represented.
Properties: a mistake is a ``ConfigError`` (exit 2, one line per problem) and never
another exception; no message or file shows a raw control character; what is accepted
round-trips (a saved config loads back as the same config); a workbook holds every
name as text, never a formula. Nothing here simulates, so each example takes
milliseconds.

Derandomized, ``MSP_SIM_FUZZ_EXAMPLES`` examples per property (default 300; the
issue-28 note records a run at 3,000).
"""

from __future__ import annotations

import datetime
import io
import os
import tomllib
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from simulator import cli  # noqa: E402
from simulator.config import ConfigError, load_config  # noqa: E402
from simulator.formatting import has_control, printable  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
EXAMPLES = int(os.environ.get("MSP_SIM_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

hostile = st.sampled_from(["\x1b[2J", "\x1b]0;x\x07", "\x00", "\x07", "\x7f", "\x85", "\x9b",
                           "\u202e", "\u2028", "\ufeff", "\t", "\r", "\n", "=", "+", "-", "@",
                           "|", "%", '"', "'", "\\", "\\u0007", "=cmd|' /C calc'!A0",
                           '=HYPERLINK("http://x/?"&A1)', "${x}", "{{x}}", "<b>", "é", "名"])
text = st.lists(st.one_of(hostile, st.text(max_size=4)), max_size=6).map("".join)
"""Text as a person (or a hostile file) might type it."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One folder for a property's files (each example rewrites its file)."""
    return tmp_path_factory.mktemp("fuzz")


def _clean(message: str) -> bool:
    """No raw control character in a message but the newlines between its lines."""
    return not any(has_control(line) for line in message.split("\n"))


def _toml_string(s: str) -> str:
    """``s`` as a TOML basic string (control characters as \\uXXXX escapes)."""
    from simulator.fit import _toml

    return _toml(s)


@FUZZ
@given(key=st.sampled_from(["simulation.start_date", "churn.mode", "simulation.sampling",
                            "levers.skip", "sales.reps", "title"]), value=text)
def test_fuzz_config_strings(folder, key, value):
    """A config with any string at a key: loads, or one clean ConfigError per problem."""
    section, _, name = key.partition(".")
    body = (f"title = {_toml_string(value)}\n" if not name
            else f"[{section}]\n{name} = {_toml_string(value)}\n")
    path = folder / "c.toml"
    path.write_text(body, encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert _clean(str(exc)) and str(exc).count("\n") == len(exc.problems) - 1
        return
    assert not has_control(value) and config is not None


@FUZZ
@given(key=st.sampled_from(["simulation.start_date", "churn.mode", "sales.reps",
                            "nosection.x", "levers.skip"]), value=text,
       quoted=st.booleans())
def test_fuzz_set_messages_are_clean(capsys, key, value, quoted):
    """``msp-sim validate --set KEY=VALUE`` with any text: exit 0 or 2, output clean."""
    raw = _toml_string(value) if quoted else value
    code = cli.main(["validate", str(BASELINE), "--set", f"{key}={raw}"])
    out = capsys.readouterr()
    assert code in (0, 2), out.err
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    assert _clean(out.err) and _clean(out.out)
    if code == 2:
        assert all(line.startswith("error: ") for line in out.err.splitlines() if line)


@pytest.fixture(scope="module")
def explorer():
    pytest.importorskip("panel")
    from simulator.explorer.model import Explorer

    return Explorer(BASELINE)


@FUZZ
@given(key=st.sampled_from(["simulation.start_date", "churn.mode", "simulation.sampling",
                            "start.customers", "start.book"]), value=text)
def test_fuzz_saved_toml_loads_back(explorer, key, value):
    """The explorer's "Save as config" text: whatever was typed, the saved TOML loads back
    as the explorer's config (a refused value leaves the config as it was)."""
    explorer.reset()
    try:
        explorer.set(key, value)
    except ConfigError as exc:
        assert _clean(str(exc))
    saved = explorer.to_toml()
    assert _clean(saved)
    data = tomllib.loads(saved)
    from simulator.config import config_from_dict

    assert config_from_dict(data) == explorer.config


@FUZZ
@given(value=text)
def test_fuzz_fit_toml_strings_round_trip(value):
    """``fit``'s TOML writer: any string is one valid TOML string holding exactly it."""
    written = _toml_string(value)
    assert not has_control(written.replace("\t", ""))
    assert tomllib.loads(f"v = {written}")["v"] == value


@FUZZ
@given(names=st.lists(text, min_size=1, max_size=4))
def test_fuzz_workbook_names_are_text(names):
    """Every typed name is a text cell (printable, never a formula) in a workbook."""
    import openpyxl

    from simulator.report.workbook import new_workbook as _new
    from simulator.report.workbook import sheet as _sheet
    from simulator.report.workbook import workbook_bytes as _bytes

    book = _new()
    _sheet(book, "Names", ["name", "value"], [[n, 1.5] for n in names], [None, None])
    data = _bytes(book)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist()
                  if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in x or b"<f " in x for x in sheets)
    ws = openpyxl.load_workbook(io.BytesIO(data))["Names"]
    for row, name in enumerate(names, start=2):
        cell = ws.cell(row=row, column=1)
        shown = printable(name)
        assert (cell.value or "") == shown and (not shown or cell.data_type == "s")
        assert ws.cell(row=row, column=2).value == 1.5


@FUZZ
@given(names=st.lists(text, min_size=2, max_size=3))
def test_fuzz_scenario_names(folder, names):
    """A scenario file with any names: scenarios with exactly those names (the spaces
    around each dropped), or one clean ConfigError."""
    from simulator.analysis.scenarios import load_scenarios

    path = folder / "s.toml"
    path.write_text(f"base = {_toml_string(str(BASELINE))}\n" + "".join(
        f"[[scenario]]\nname = {_toml_string(n)}\n" for n in names), encoding="utf-8")
    try:
        scenarios = load_scenarios(path)
    except ConfigError as exc:
        assert _clean(str(exc))
        return
    # a name's surrounding spaces are dropped (as an MSP's; duplicates are checked after):
    # the 3,000-example run found "0 " read as "0", which this property once forbade
    assert [s.name for s in scenarios] == [n.strip() for n in names]
    assert not any(has_control(n) for n in names)


@FUZZ
@given(names=st.lists(text, min_size=1, max_size=3))
def test_fuzz_msp_names(folder, names):
    """A portfolio file with any MSP names: MSPs with those names, or one clean
    ConfigError."""
    import csv

    from simulator.analysis.portfolio import load_portfolio

    path = folder / "p.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["msp", "sales.reps"])
        writer.writerows([n, 2] for n in names)
    try:
        msps = load_portfolio(path, BASELINE)
    except ConfigError as exc:
        assert _clean(str(exc))
        return
    assert not any(has_control(m.name) for m in msps)
    # (a line break inside a quoted name, any that str.splitlines knows, is the CSV
    # reader's business: issue 29)
    if all(len(f"x{n}x".splitlines()) == 1 for n in names):
        assert [m.name for m in msps] == [n.strip() for n in names]


# -- fit exports: cells as a PSA or a spreadsheet writes them --------------------------

EXPORT_TODAY = datetime.date(2026, 12, 6)
EPOCH = datetime.date(1899, 12, 30)  # Excel's day 0 (1900 serials from March 1900)


def _date_cell(day: datetime.date, style: str, slashed: list[tuple[bool, bool]]) -> str:
    """``day`` written in a file's one date ``style``; for a slashed date notes whether
    day and month could swap (both at most 12 and different) and whether it decides the
    file's order (a day above 12)."""
    if style in ("dmy", "mdy"):
        slashed.append((day.day <= 12 and day.month <= 12 and day.day != day.month,
                        day.day > 12))
        first, second = (day.day, day.month) if style == "dmy" else (day.month, day.day)
        return f"{first:02d}/{second:02d}/{day.year}"
    return {"iso": day.isoformat(), "iso-time": f"{day.isoformat()} 09:30",
            "iso-t": f"{day.isoformat()}T17:05:00", "serial": str((day - EPOCH).days)}[style]


seats_cell = st.integers(0, 5_000).flatmap(lambda n: st.sampled_from(
    [(str(n), n), (f" {n} ", n), (f"{n:,}", n), (f"{n}.0", n)]))
fee_cell = st.integers(0, 2_000_000).map(lambda c: c / 100).flatmap(lambda x: st.sampled_from(
    [(f"{x}", x), (f"${x:,.2f}", x), (f"{x:,.2f}", x), (f" {x:.2f} ", x)]))
day = st.dates(datetime.date(2015, 1, 1), datetime.date(2027, 6, 30))
export_row = st.tuples(
    st.sampled_from(["Acme", "=cmd|' /C calc'!A0", "Beta, Inc.", 'O"Brien IT', "名前"]),
    day, st.one_of(st.none(), st.integers(-40, 2_000)), seats_cell, fee_cell)
"""A good row: name, start, the days from start to end (none: still a client; fewer than
0: an end before its start, refused), seats and fee as (text, value)."""
BAD_CELLS = (  # (column, text): no reading of it is right; the file must be refused
    ["2024-01", "2024-01-05x", "31/02/2024", "2024-13-01", "soon", "=TODAY()", ""],
    ["2024-01", "2024-01-05 x", "31/02/2024", "2024-13-01", "ongoing"],
    ["1,5", "1.5", "-2", "two", "", "1.234,0", "12%", "=1+1", "3 seats"],
    ["1.234,56", "12,5", "abc", "", "(5", "1e400", "nan", "=A1", "USD"],
)
corruption = st.one_of(st.none(), st.integers(0, 3).flatmap(
    lambda col: st.tuples(st.just(col), st.sampled_from(BAD_CELLS[col]), st.integers(0, 3))))
"""None, or (column, bad text, row) written over one cell of a good file."""


@FUZZ
@given(style=st.sampled_from(["iso", "iso-time", "iso-t", "serial", "dmy", "mdy"]),
       rows=st.lists(export_row, min_size=1, max_size=4), bad=corruption)
def test_fuzz_fit_exports_read_right_or_refused(folder, style, rows, bad):
    """A clients export in any date style, number format and name: every value read is
    the one the file meant, or the file is refused with one clean line naming it; one
    bad cell (a decimal comma, a partial date, trailing text, a fraction of a seat, a
    formula) always refuses the file, never reads as something else."""
    import csv

    from simulator.fit import read_records
    from simulator.fit.tables import ReadOptions

    path = folder / "clients.csv"
    slashed: list[tuple[bool, bool]] = []
    must_refuse, expected = bad is not None, {}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["client", "start_date", "end_date", "seats", "monthly_fee"])
        for i, (name, begin, days, (seats_text, seats), (fee_text, fee)) in enumerate(rows):
            stop = None if days is None else begin + datetime.timedelta(days=days)
            cells = [_date_cell(begin, style, slashed),
                     "" if stop is None else _date_cell(stop, style, slashed),
                     seats_text, fee_text]
            if bad is not None and bad[2] % len(rows) == i:
                cells[bad[0]] = bad[1]
            writer.writerow([f"{name} {i}", *cells])
            if stop is not None and stop < begin:
                must_refuse = True
            elif begin <= EXPORT_TODAY:  # a future start is left out (with a warning)
                must_refuse |= seats == 0
                expected[i + 2] = (f"{name} {i}", begin,
                                   stop if stop and stop <= EXPORT_TODAY else None, seats, fee)
    # no day above 12 and some day/month that could swap: no reader can tell the order
    # (a bad cell may hide the deciding one, but then the file is refused anyway)
    undecidable = any(a for a, _ in slashed) and not any(d for _, d in slashed)
    try:
        clients = read_records(path, options=ReadOptions(today=EXPORT_TODAY))["clients"]
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and _clean(message) and "clients.csv" in message, message
        assert must_refuse or undecidable or not expected, (message, rows)
        event("refused" if must_refuse else "refused: no order or no client decides")
        return
    assert not must_refuse, (rows, bad)
    event("read")
    read = {c.row: (c.name, c.start, c.end, c.seats, c.monthly_fee) for c in clients}
    assert read == expected, (rows, style)
