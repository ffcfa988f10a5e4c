"""The workbook machinery every report kind shares: ``results.xlsx`` and the like as
workbooks a person opens in Excel.

Written with openpyxl (no pandas needed). Each kind's module writes its own
sheets through :func:`sheet` (a run's ``Summary``, ``Levers``, ``Monthly``,
``Inputs`` in :mod:`.run.files`; a comparison's ``Scenarios`` and ``Inputs`` in
:mod:`.compare`; a portfolio's in :mod:`.portfolio`).

Every numeric column carries a number format (probabilities as ``58.8%``,
money as ``$1,234`` / ``-$88,850``, counts and months as whole numbers),
numbers are stored as numbers (the Inputs sheet's too), and every header of a
sheet is unique, so the workbook reads right in Excel and LibreOffice without
reformatting (issue 26). Closed businesses (out of cash and credit) count as
$0 MRR from the month they close, as everywhere; the headers say so where it
matters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..config.describe import config_rows
from ..formatting import printable

__all__ = ["COUNT", "DECIMAL", "MONEY", "PCT", "PVALUE", "Format", "input_format", "inputs_rows",
           "new_workbook", "number_or_text", "plain_number_format", "sheet", "workbook_bytes"]

PCT = "0.0%"
"""Number format of probabilities and shares."""
MONEY = '"$"#,##0;-"$"#,##0'
"""Number format of dollars (``$1,234``, ``-$88,850``)."""
COUNT = "#,##0"
"""Number format of counts, months and whole numbers."""
DECIMAL = "#,##0.00"
"""Number format of other quantities."""
PVALUE = "0.0000"
"""Number format of p-values."""

Format = str | None | Callable[[Sequence[Any], Any], str | None]
"""A column's number format: a format, ``None`` (text) or a function of the row and the
cell's value."""


def sheet(workbook: Any, title: str, header: Sequence[str],
           rows: Iterable[Sequence[Any]], formats: Sequence[Format]) -> None:
    """A sheet: a bold header row (each header unique), then ``rows``, each column's
    numbers in its number format."""
    from openpyxl.styles import Font

    if len(set(header)) != len(header):
        raise ValueError(f"sheet {title}: repeated headers {list(header)}")
    if len(formats) != len(header):
        raise ValueError(f"sheet {title}: {len(formats)} formats for {len(header)} columns")
    ws = workbook.create_sheet(title)
    ws.append([_text(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        row = [_text(v) if isinstance(v, str) else v for v in row]
        ws.append(row)
        for cell, fmt in zip(ws[ws.max_row], formats, strict=False):
            fmt = fmt(row, cell.value) if callable(fmt) else fmt
            if fmt is not None and isinstance(cell.value, int | float) \
                    and not isinstance(cell.value, bool):
                cell.number_format = fmt
    for line in ws.iter_rows():  # every string is text, never a formula (`=cmd|...`)
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value[:1] in _FORMULA_START:
                    cell.quotePrefix = True  # and stays text when Excel edits it
    ws.freeze_panes = "A2"
    for column, name in zip(ws.columns, header, strict=False):
        width = max([len(str(name))] + [len(str(c.value)) for c in column[1:200]
                                         if c.value is not None and not isinstance(
                                             c.value, float)] + [12])
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)


_FORMULA_START = frozenset("=+-@\t\r|%")
"""First characters that make a spreadsheet read a typed string as a formula (or DDE)."""


def _text(value: Any) -> Any:
    """``value`` with control characters escaped (:func:`simulator.formatting.printable`:
    openpyxl refuses them, and they are never what a person meant to see)."""
    return printable(value) if isinstance(value, str) else value


def workbook_bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def new_workbook() -> Any:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook

def _input_value(config: Any, key: str, text: str) -> Any:
    """An Inputs cell: the number itself where the key holds one, else the words."""
    try:
        raw = config.get(key)
    except (AttributeError, ValueError):
        return text
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return int(raw) if float(raw).is_integer() else float(raw)
    return text


def input_format(row: Sequence[Any], value: Any) -> str | None:
    unit = str(row[2])
    if not isinstance(value, int | float):
        return None
    if unit.startswith("$"):
        return MONEY
    if row[0] == "simulation.seed":
        return "0"
    return COUNT if isinstance(value, int) else "#,##0.0###"


def number_or_text(text: Any) -> Any:
    """A value written as words: the number when it is a plain number (``"1"``,
    ``"0.12"``), else the words."""
    if isinstance(text, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text.strip()):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return text


def plain_number_format(row: Sequence[Any], value: Any) -> str:
    return COUNT if isinstance(value, int) else "#,##0.0###"


def inputs_rows(config: Any, sources: Mapping[str, str] | None = None
                ) -> list[tuple[Any, ...]]:
    """The Inputs sheet's rows: key, value (a number where it is one), unit, source (where
    the value comes from: ``sources``, the config, or the default's source)."""
    return [(r.key, _input_value(config, r.key, r.value), r.unit, r.source)
            for r in config_rows(config, sources=sources)]

