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

import io
import os
import tomllib
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
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
    """A scenario file with any names: scenarios with exactly those names, or one clean
    ConfigError."""
    from simulator.analysis.scenarios import load_scenarios

    path = folder / "s.toml"
    path.write_text(f"base = {_toml_string(str(BASELINE))}\n" + "".join(
        f"[[scenario]]\nname = {_toml_string(n)}\n" for n in names), encoding="utf-8")
    try:
        scenarios = load_scenarios(path)
    except ConfigError as exc:
        assert _clean(str(exc))
        return
    assert [s.name for s in scenarios] == names
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
