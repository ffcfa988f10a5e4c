"""Reading a business's exports: CSV or XLSX tables in the documented native format.

Four tables, each optional (``docs/fit.md``): ``clients``, ``pipeline``,
``tickets`` and ``pnl``. Column names are matched without regard to case or
spaces; common PSA export headers are aliases (:data:`ALIASES`), and a
``--columns map.toml`` maps any other header (``[tickets] "Hrs" = "hours"``).
Dates are ISO ``YYYY-MM-DD`` (or date cells in a workbook), money in $.
Every problem is a :class:`~simulator.config.ConfigError` naming the file, the
row and the column, the value and what is allowed.
"""

from __future__ import annotations

import csv
import datetime
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.errors import MISSING, ConfigError, RawText

__all__ = ["ALIASES", "COLUMNS", "Table", "read_column_map", "read_rows", "read_table"]

MAX_BYTES = 50_000_000
"""The largest table file read (a PSA export of many years is a few MB)."""

COLUMNS: dict[str, dict[str, bool]] = {
    "clients": {"client": True, "start_date": True, "end_date": True, "seats": True,
                "endpoints": False, "monthly_fee": True},
    "pipeline": {"date": True, "prospect": True, "proposal": True, "outcome": True,
                 "close_date": True},
    "tickets": {"created": True, "closed": False, "client": True, "hours": True,
                "resource": True, "ticket": False},
    "pnl": {"month": True, "revenue_products": True, "revenue_projects": True,
            "overhead": True},
}
"""Table -> column -> required. ``pnl`` may have more cost columns (kept as given)."""

ALIASES: dict[str, dict[str, str]] = {
    "tickets": {
        "ticket #": "ticket", "ticket number": "ticket", "ticket id": "ticket",
        "company": "client", "account": "client",
        "date entered": "created", "create date": "created", "date occurred": "created",
        "closed date": "closed", "complete date": "closed", "date closed": "closed",
        "actual hours": "hours", "hours worked": "hours", "time taken": "hours",
        "primary resource": "resource", "agent": "resource",
    },
    "clients": {"company": "client", "account": "client", "fee": "monthly_fee",
                "mrr": "monthly_fee", "users": "seats", "devices": "endpoints"},
    "pipeline": {"first meeting": "date", "meeting date": "date", "company": "prospect",
                 "closed date": "close_date"},
    "pnl": {"period": "month"},
}
"""Table -> common export header (lower case) -> the native column name."""


def _norm(name: str) -> str:
    return " ".join(str(name).replace("_", " ").strip().lower().split())


@dataclass
class Table:
    """A table read from a file: its rows as ``{column: cell}`` and their row numbers."""

    path: Path
    kind: str
    columns: list[str]
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    extra: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file's name, for messages."""
        return self.path.name

    def error(self, row: int | None, column: str, value: Any, message: str) -> ConfigError:
        """A one-line error naming this file, the row (its number in the file) and column."""
        where = f"column {column}" if row is None else f"row {row}, column {column}"
        return ConfigError(str(self.path), [(where, MISSING if value is None else value,
                                              message)])

    # -- typed cells --------------------------------------------------------------

    def text(self, k: int, column: str, required: bool = True) -> str | None:
        value = self.rows[k].get(column)
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise self.error(self.row_numbers[k], column, None, "empty; allowed: a value")
            return None
        return text

    def date(self, k: int, column: str, required: bool = True) -> datetime.date | None:
        value = self.rows[k].get(column)
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise self.error(self.row_numbers[k], column, None,
                                 "empty; allowed: a date YYYY-MM-DD")
            return None
        try:
            return datetime.date.fromisoformat(text[:10])
        except ValueError:
            raise self.error(self.row_numbers[k], column, text,
                             "not a date; allowed: a date YYYY-MM-DD") from None

    def number(self, k: int, column: str, required: bool = True, minimum: float = 0.0,
               integer: bool = False) -> float | None:
        value = self.rows[k].get(column)
        text = "" if value is None else str(value).strip().replace(",", "").lstrip("$")
        if not text:
            if required:
                raise self.error(self.row_numbers[k], column, None,
                                 f"empty; allowed: a number >= {minimum:g}")
            return None
        try:
            x = float(text)
        except ValueError:
            raise self.error(self.row_numbers[k], column, str(value).strip(),
                             f"not a number; allowed: a number >= {minimum:g}") from None
        if not math.isfinite(x) or x < minimum or (integer and not x.is_integer()):
            kind = "a whole number" if integer else "a number"
            raise self.error(self.row_numbers[k], column, RawText(text),
                             f"out of range; allowed: {kind} >= {minimum:g}")
        return x

    def choice(self, k: int, column: str, allowed: Mapping[str, str]) -> str:
        text = (self.text(k, column) or "").lower()
        if text not in allowed:
            raise self.error(self.row_numbers[k], column, text,
                             "unknown value; allowed: " + " / ".join(dict.fromkeys(allowed)))
        return allowed[text]


def read_column_map(path: str | Path | None) -> dict[str, dict[str, str]]:
    """``--columns map.toml``: ``[tickets]`` tables of ``"Export header" = "native"``."""
    if path is None:
        return {}
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), [("", MISSING, f"cannot read it as TOML ({exc}); allowed: "
                                       '[tickets] "Export header" = "native column"')]) from None
    out: dict[str, dict[str, str]] = {}
    for kind, table in data.items():
        if kind not in COLUMNS:
            raise ConfigError(str(path), [(kind, MISSING, "unknown table; allowed: "
                                           + ", ".join(COLUMNS))])
        if not isinstance(table, dict):
            raise ConfigError(str(path), [(kind, table, "allowed: a table of header = column")])
        for header, native in table.items():
            if native not in COLUMNS[kind] and kind != "pnl":
                raise ConfigError(str(path), [(f"{kind}.{header}", native, "unknown column; "
                                               "allowed: " + ", ".join(COLUMNS[kind]))])
            out.setdefault(kind, {})[_norm(header)] = str(native)
    return out


def read_rows(path: Path) -> list[list[Any]]:
    """The rows of a CSV or XLSX file (first sheet) as lists of cells, checked: a regular
    file, not too large, CSV in UTF-8 or a readable workbook."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ConfigError(str(path), [("", MISSING, "not found (or not a regular file); "
                                       "allowed: a CSV or XLSX file")])
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(str(path), [("", MISSING, f"larger than {MAX_BYTES // 1_000_000} MB; "
                                       "allowed: a smaller export")])
    if suffix == ".xlsx":
        try:
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            workbook.close()
            return rows
        except Exception as exc:  # openpyxl raises many kinds on a bad file
            raise ConfigError(str(path), [("", MISSING, f"not a readable XLSX workbook "
                                           f"({type(exc).__name__}); allowed: a CSV or XLSX "
                                           "file")]) from None
    if suffix not in (".csv", ".txt"):
        raise ConfigError(str(path), [("", MISSING, f'unknown file type "{suffix}"; allowed: '
                                       "a .csv or .xlsx file")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(str(path), [("", MISSING, "not UTF-8 text; allowed: a CSV file in "
                                       "UTF-8, or an XLSX workbook")]) from None
    if "\x00" in text:
        raise ConfigError(str(path), [("", MISSING, "binary content; allowed: a CSV or XLSX "
                                       "file")])
    return [row for row in csv.reader(text.splitlines())]


def read_table(path: str | Path, kind: str,
               column_map: Mapping[str, Mapping[str, str]] | None = None) -> Table:
    """Read one table (``kind``: clients, pipeline, tickets or pnl) from a CSV or XLSX file.

    Raises
    ------
    ConfigError
        The file cannot be read, is empty, or lacks a required column.
    """
    path = Path(path)
    raw = [(number, r) for number, r in enumerate(read_rows(path), start=1)
           if any(c not in (None, "") for c in r)]
    if not raw:
        raise ConfigError(str(path), [("", MISSING, f"empty; allowed: a header row and one row "
                                       f"per record ({', '.join(COLUMNS[kind])})")])
    header = ["" if h is None else str(h) for h in raw[0][1]]
    mapping = {**ALIASES.get(kind, {}), **(column_map or {}).get(kind, {})}
    names: list[str] = []
    for h in header:
        n = _norm(h)
        native = mapping.get(n, n.replace(" ", "_"))
        names.append(native)
    table = Table(path=path, kind=kind, columns=names, rows=[], row_numbers=[])
    for column, required in COLUMNS[kind].items():
        if required and column not in names:
            raise table.error(None, column, None, "missing; the header has "
                              + (", ".join(h for h in header if h) or "nothing")
                              + f"; allowed: the columns {', '.join(COLUMNS[kind])}"
                              + (" (or a --columns map)" if kind != "pnl" else ""))
    table.extra = [n for n in names if n and n not in COLUMNS[kind]]
    for number, cells in raw[1:]:
        table.rows.append({name: (cells[i] if i < len(cells) else None)
                           for i, name in enumerate(names) if name})
        table.row_numbers.append(number)
    if not table.rows:
        raise ConfigError(str(path), [("", MISSING, "no rows under the header; allowed: one row "
                                       "per record")])
    return table
