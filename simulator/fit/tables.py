"""Reading a business's exports as they come: CSV or XLSX tables from a PSA or an
accounting package.

Four tables, each optional (``docs/fit.md``): ``clients`` (clients or agreements),
``pipeline`` (first meetings or opportunities), ``tickets`` (tickets or time
entries) and ``pnl`` (monthly P&L, one row a month or the accounting packages'
accounts-by-month layout). Column names are matched without regard to case or
spaces; the ConnectWise, Autotask and HaloPSA export headers are aliases
(:data:`ALIASES`), and ``--columns map.toml`` maps any other header.

CSV is read with pandas (encodings with or without a byte-order mark, UTF-16,
Windows-1252; comma, semicolon, tab or bar separators; quoted cells with
newlines), every cell as text (``dtype=str``): numbers and dates are then read
per column, so a column's date order (ISO, US, day-first, with times, Excel
serials, ``Dec 2023``) is decided once for the whole file and an ambiguous one
is refused unless ``--date-format`` says which. XLSX is read row by row from the
first visible sheet, after checking the archive's declared sizes; merged ranges,
formulas without a cached value and duplicate headers are refused. Every
problem is a :class:`~simulator.config.ConfigError` naming the file, the row
and the column, the value and what is allowed.
"""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.errors import MISSING, ConfigError, RawText
from .rows import LIMITS, Limits, read_rows, regular_file

__all__ = ["ALIASES", "COLUMNS", "Limits", "ReadOptions", "Table", "read_column_map",
           "read_rows", "read_table"]


EXPORT_CAP = 5_000
"""Rows at which PSA web exports stop silently (a file of exactly this many rows is
probably cut short)."""

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m-%d-%Y", "%d-%m-%Y",
                "%Y/%m/%d", "%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%m/%d/%y",
                "%d/%m/%y")
"""Date orders ``--date-format`` may name (and the ones inferred)."""

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": ("start_date", "end_date"), "pipeline": ("date", "close_date"),
    "tickets": ("created", "closed"), "pnl": ("month",)}
"""The date columns of each table, whose text dates share one order per file."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read what a file leaves ambiguous.

    Attributes
    ----------
    date_format : str or None
        A :func:`~datetime.datetime.strptime` format for every text date
        (``%d/%m/%Y``); ``None``: inferred per file, refused when ambiguous.
    decimal_comma : bool
        Numbers are written ``1.234,56`` (a European locale); without it a
        decimal comma (``1,5``) is refused rather than read as 15.
    today : datetime.date or None
        Dates after it are in the future (default: the machine's date).
    """

    date_format: str | None = None
    decimal_comma: bool = False
    today: datetime.date | None = None


COLUMNS: dict[str, dict[str, bool]] = {
    "clients": {"client": True, "start_date": True, "end_date": True, "seats": True,
                "endpoints": False, "monthly_fee": True},
    "pipeline": {"date": True, "prospect": True, "proposal": False, "outcome": False,
                 "close_date": False, "stage": False},
    "tickets": {"created": True, "closed": False, "client": True, "hours": True,
                "resource": True, "ticket": False, "type": False},
    "pnl": {"month": True, "revenue_products": True, "revenue_projects": True,
            "overhead": True},
}
"""Table -> column -> required. ``pnl`` may have more cost columns (kept as given);
``pipeline`` needs ``proposal`` and ``outcome``, or ``stage``."""

# ConnectWise Manage, Autotask (Datto) and HaloPSA export headers, lower case
ALIASES: dict[str, dict[str, str]] = {
    "tickets": {
        "ticket #": "ticket", "ticket number": "ticket", "ticket id": "ticket", "id": "ticket",
        "charge to": "ticket", "charge to id": "ticket", "request id": "ticket",
        "company": "client", "account": "client", "company name": "client",
        "account name": "client", "customer": "client", "client name": "client",
        "date entered": "created", "create date": "created", "date occurred": "created",
        "created date": "created", "date logged": "created", "date": "created",
        "date start": "created", "start date": "created", "work date": "created",
        "closed date": "closed", "complete date": "closed", "date closed": "closed",
        "completed date": "closed", "date resolved": "closed", "resolved date": "closed",
        "actual hours": "hours", "hours worked": "hours", "time taken": "hours",
        "hours actual": "hours", "worked hours": "hours", "time taken (hours)": "hours",
        "hours billable": "hours", "total hours": "hours",
        "primary resource": "resource", "agent": "resource", "member": "resource",
        "assigned resource": "resource", "technician": "resource", "resource name": "resource",
        "ticket type": "type", "request type": "type", "board": "type", "queue": "type",
        "work type": "type", "charge type": "type",
    },
    "clients": {"company": "client", "account": "client", "company name": "client",
                "account name": "client", "customer": "client", "client name": "client",
                "fee": "monthly_fee", "mrr": "monthly_fee", "monthly amount": "monthly_fee",
                "contract amount": "monthly_fee", "agreement amount": "monthly_fee",
                "monthly recurring": "monthly_fee", "monthly price": "monthly_fee",
                "users": "seats", "quantity": "seats", "units": "seats", "user count": "seats",
                "devices": "endpoints", "device count": "endpoints",
                "agreement start": "start_date", "contract start": "start_date",
                "contract start date": "start_date", "effective date": "start_date",
                "agreement end": "end_date", "contract end": "end_date",
                "contract end date": "end_date", "cancelled date": "end_date",
                "date cancelled": "end_date", "end": "end_date", "start": "start_date"},
    "pipeline": {"first meeting": "date", "meeting date": "date", "company": "prospect",
                 "account": "prospect", "company name": "prospect", "account name": "prospect",
                 "closed date": "close_date", "close date": "close_date",
                 "date closed": "close_date", "created date": "date", "create date": "date",
                 "date created": "date", "opportunity stage": "stage", "status": "stage",
                 "sales stage": "stage"},
    "pnl": {"period": "month", "product sales": "revenue_products",
            "hardware sales": "revenue_products", "product revenue": "revenue_products",
            "products": "revenue_products", "sales - products": "revenue_products",
            "project revenue": "revenue_projects", "project services": "revenue_projects",
            "professional services": "revenue_projects", "projects": "revenue_projects",
            "sales - projects": "revenue_projects",
            "total expenses": "overhead", "total operating expenses": "overhead",
            "total overheads": "overhead", "operating expenses": "overhead"},
}
"""Table -> export header (lower case) -> the native column name."""

_MONTHS = {m.lower(): k for k, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_MONTH_LABEL = re.compile(r"^([A-Za-z]{3})[a-z]*\.?[ \-/']+(\d{2}|\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(.*?\d)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?)$")
_TOTAL = re.compile(r"^\s*(total|grand total|net income|net profit|gross profit)\b", re.I)


def _norm(name: Any) -> str:
    return " ".join(str(name).replace("_", " ").strip().lower().split())


def month_of_label(text: str) -> datetime.date | None:
    """``Dec 2023``, ``December 2023``, ``Dec-23``, ``2023-12``: the month's first day."""
    text = text.strip()
    m = _MONTH_LABEL.match(text)
    if m and m.group(1).lower() in _MONTHS:
        year = int(m.group(2))
        year += 2000 if year < 100 else 0
        return datetime.date(year, _MONTHS[m.group(1).lower()], 1)
    m = _ISO_MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return datetime.date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _excel_serial(x: float) -> datetime.date:
    return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(x))


@dataclass
class Table:
    """A table read from a file: its rows as ``{column: cell}`` and their row numbers."""

    path: Path
    kind: str
    columns: list[str]
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    extra: list[str] = field(default_factory=list)
    options: ReadOptions = field(default_factory=ReadOptions)
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    _formats: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file's name, for messages."""
        return self.path.name

    def error(self, row: int | None, column: str, value: Any, message: str) -> ConfigError:
        """A one-line error naming this file, the row (its number in the file) and column."""
        shown = self.headers.get(column, column)
        where = f"column {shown}" if row is None else f"row {row}, column {shown}"
        return ConfigError(str(self.path), [(where, MISSING if value is None else value,
                                              message)])

    def where(self, k: int, column: str) -> str:
        """``clients.csv row 7, column end_date`` (for warnings)."""
        return f"{self.name} row {self.row_numbers[k]}, column {self.headers.get(column, column)}"

    # -- typed cells --------------------------------------------------------------

    def text(self, k: int, column: str, required: bool = True) -> str | None:
        value = self.rows[k].get(column)
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise self.error(self.row_numbers[k], column, None, "empty; allowed: a value")
            return None
        return text

    def _date_format(self, column: str) -> str | None:
        """The file's text date order: ``--date-format``, else inferred from every date
        cell of the file (day/month/year when some first number is above 12,
        month/day/year when some second one is); ``None`` when it has no slashed dates;
        refused when none decides."""
        if "" in self._formats:
            return self._formats[""]
        fmt = self.options.date_format
        if fmt is None:
            first_big = second_big = slashed = False
            ambiguous: tuple[int, str] | None = None
            sep, short = "/", False
            columns = [c for c in DATE_COLUMNS.get(self.kind, ()) if c in self.columns]
            for k, row in enumerate(self.rows):
                for col in columns:
                    value = row.get(col)
                    if not isinstance(value, str):
                        continue
                    m = _SLASHED.match(_strip_time(value.strip()))
                    if not m:
                        continue
                    slashed = True
                    sep = value.strip()[len(m.group(1))]
                    short = len(m.group(3)) == 2
                    a, b = int(m.group(1)), int(m.group(2))
                    first_big |= a > 12
                    second_big |= b > 12
                    if ambiguous is None and a <= 12 and b <= 12 and a != b:
                        ambiguous = (k, col)
            year = "%y" if short else "%Y"
            if first_big and second_big:
                raise self.error(None, column, None, "the file mixes day-first and "
                                 "month-first dates; allowed: one order per file (or "
                                 "`date_format`)")
            if first_big:
                fmt = f"%d{sep}%m{sep}{year}"
            elif second_big:
                fmt = f"%m{sep}%d{sep}{year}"
            elif ambiguous is not None:
                k, col = ambiguous
                value = str(self.rows[k].get(col)).strip()
                raise self.error(self.row_numbers[k], col, value,
                                 "ambiguous date: no day in the file is above 12, so it can "
                                 "be month/day or day/month; allowed: `date_format` "
                                 f"%m{sep}%d{sep}{year} (US) or %d{sep}%m{sep}{year}")
            elif slashed:  # day and month alike in every one (01/01/2024): either order
                fmt = f"%d{sep}%m{sep}{year}"
        self._formats[""] = fmt
        return fmt

    def date(self, k: int, column: str, required: bool = True) -> datetime.date | None:
        """A date cell: a workbook date, an Excel serial number, ISO ``YYYY-MM-DD``, the
        file's slashed order, or ``--date-format``; a time of day is dropped; anything
        else (a partial date, trailing text) is refused."""
        fast = self._column_dates(column)[k]
        if fast is not None:
            return fast
        value = self.rows[k].get(column)
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        allowed = ("allowed: a date such as 2024-01-31, 01/31/2024, 31/01/2024 (one order "
                   "per file), with or without a time, or an Excel date")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value) and 20_000 <= value <= 80_000:
                return _excel_serial(value)
            raise self.error(self.row_numbers[k], column, value, f"not a date; {allowed}")
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise self.error(self.row_numbers[k], column, None, f"empty; {allowed}")
            return None
        body = _strip_time(text)
        fmt = self._date_format(column) if _SLASHED.match(body) else None
        try:
            if _ISO.match(body):
                return datetime.date.fromisoformat(body)
            if re.fullmatch(r"\d{5}(\.\d+)?", body) and 20_000 <= float(body) <= 80_000:
                return _excel_serial(float(body))
            if fmt is None and self.options.date_format is not None:
                fmt = self.options.date_format
            if fmt is not None:
                return datetime.datetime.strptime(body, fmt).date()
            for fmt in ("%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%d %B %Y", "%B %d, %Y"):
                try:
                    return datetime.datetime.strptime(body, fmt).date()
                except ValueError:
                    continue
        except ValueError:
            pass
        raise self.error(self.row_numbers[k], column, text, f"not a date; {allowed}")

    def _column_dates(self, column: str) -> list[datetime.date | None]:
        """The column's text dates read at once by :func:`pandas.to_datetime` with an
        explicit format (ISO, or the file's order); ``None`` where a cell needs the
        cell-by-cell reading (and its message)."""
        key = "dates:" + column
        if key in self._formats:
            return self._formats[key]  # type: ignore[return-value]
        import pandas as pd

        cells = pd.Series([v.strip() if isinstance(v, str) else "" for v in
                           (row.get(column) for row in self.rows)], dtype=object)
        body = cells.str.replace(_TIME, r"\1", regex=True)
        out = pd.Series([pd.NaT] * len(cells), dtype="datetime64[ns]")
        iso = body.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        if iso.any():
            out[iso] = pd.to_datetime(body[iso], format="%Y-%m-%d", errors="coerce")
        slashed = body.str.fullmatch(_SLASHED.pattern)
        if slashed.any():
            fmt = self._date_format(column)
            if fmt is not None:
                out[slashed] = pd.to_datetime(body[slashed], format=fmt, errors="coerce")
        # NaT -> None, each day a datetime.date (as Timestamp.date() gives), at once
        dates = out.to_numpy().astype("datetime64[D]").astype(object).tolist()
        self._formats[key] = dates  # type: ignore[assignment]
        return dates

    def month(self, k: int, column: str) -> datetime.date:
        """A month: ``Dec 2023``, ``2023-12``, or any date (its month)."""
        value = self.rows[k].get(column)
        if isinstance(value, str):
            label = month_of_label(value)
            if label is not None:
                return label
        date = self.date(k, column)
        assert date is not None
        return date.replace(day=1)

    def number(self, k: int, column: str, required: bool = True, minimum: float = 0.0,
               integer: bool = False) -> float | None:
        """A number cell: ``1234.5``, ``1,234.50``, ``$1,234``, ``(1,234)`` for a negative;
        with ``--decimal-comma`` ``1.234,50``. A decimal comma without it is refused."""
        value = self.rows[k].get(column)
        kind = "a whole number" if integer else "a number"
        if isinstance(value, bool):
            raise self.error(self.row_numbers[k], column, value, f"not a number; allowed: "
                             f"{kind} >= {minimum:g}")
        if isinstance(value, int | float):
            x = float(value)
            text = repr(value)
        else:
            text = "" if value is None else str(value).strip()
            if not text:
                if required:
                    raise self.error(self.row_numbers[k], column, None,
                                     f"empty; allowed: {kind} >= {minimum:g}")
                return None
            parsed = _parse_number(text, self.options.decimal_comma)
            if isinstance(parsed, str):
                raise self.error(self.row_numbers[k], column, text,
                                 f"{parsed}; allowed: {kind} >= {minimum:g} such as 1234.5 "
                                 "or 1,234.5" + ("" if self.options.decimal_comma else
                                                 " (`decimal_comma` for 1.234,5)"))
            x = parsed
        if not math.isfinite(x) or x < minimum or (integer and not x.is_integer()):
            raise self.error(self.row_numbers[k], column, RawText(text),
                             f"out of range; allowed: {kind} >= {minimum:g}")
        return x

    def choice(self, k: int, column: str, allowed: Mapping[str, str]) -> str:
        text = (self.text(k, column) or "").lower()
        if text not in allowed:
            raise self.error(self.row_numbers[k], column, text,
                             "unknown value; allowed: " + " / ".join(dict.fromkeys(allowed)))
        return allowed[text]


def _strip_time(text: str) -> str:
    m = _TIME.match(text)
    return m.group(1) if m else text


_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
_THOUSANDS_POINT = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234.5
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.234,5
_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")  # 1,5


def _parse_number(text: str, decimal_comma: bool) -> float | str:
    """The number in ``text``, or the reason it is not one."""
    t = text.replace("\u00a0", "").replace(" ", "")
    negative = t.startswith("(") and t.endswith(")")
    if negative:
        t = t[1:-1]
    t = t.lstrip("$€£").rstrip("%") if not t.endswith("%") else t
    if t.endswith("%"):
        return "a percentage"
    if decimal_comma:
        if _THOUSANDS_COMMA.match(t) or _COMMA_DECIMAL.match(t) or re.match(r"^-?\d+$", t):
            t = t.replace(".", "").replace(",", ".")
        else:
            return "not a number in the decimal-comma locale"
    elif _THOUSANDS_POINT.match(t):
        t = t.replace(",", "")
    elif _COMMA_DECIMAL.match(t) or _THOUSANDS_COMMA.match(t):
        return "a decimal comma"
    if not _PLAIN.match(t):
        return "not a number"
    x = float(t)
    return -x if negative else x


def read_column_map(path: str | Path | None) -> dict[str, dict[str, str]]:
    """``--columns map.toml``: ``[tickets]`` tables of ``"Export header" = "native"``."""
    if path is None:
        return {}
    path = Path(path)
    form = 'a TOML file of [tickets] "Export header" = "native column"'
    regular_file(path, form, LIMITS.map_bytes)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(LIMITS.map_bytes + 1)
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), [("", MISSING, f"cannot read it as TOML ({exc}); allowed: "
                                       + form)]) from None
    out: dict[str, dict[str, str]] = {}
    for kind, table in data.items():
        if kind not in COLUMNS:
            raise ConfigError(str(path), [(kind, MISSING, "unknown table; allowed: "
                                           + ", ".join(COLUMNS))])
        if not isinstance(table, dict):
            raise ConfigError(str(path), [(kind, table, "allowed: a table of header = column")])
        for header, native in table.items():
            if not isinstance(native, str) or (native not in COLUMNS[kind] and kind != "pnl"):
                raise ConfigError(str(path), [(f"{kind}.{header}", native, "unknown column; "
                                               "allowed: " + ", ".join(COLUMNS[kind]))])
            out.setdefault(kind, {})[_norm(header)] = str(native)
    return out


# -- one table ------------------------------------------------------------------------


def _header_row(raw: list[tuple[int, list[Any]]], kind: str,
                mapping: Mapping[str, str]) -> int:
    """Where the header is: the first of the first 20 rows naming most required columns
    (an accounting export opens with title rows)."""
    required = [c for c, need in COLUMNS[kind].items() if need]
    best, best_k = -1, 0
    for k, (_, cells) in enumerate(raw[:20]):
        names = {mapping.get(_norm(c), _norm(c).replace(" ", "_")) for c in cells if c}
        hits = sum(c in names for c in required)
        if hits > best:
            best, best_k = hits, k
        if hits == len(required):
            break
    return best_k


def _pnl_by_month(path: Path, raw: list[tuple[int, list[Any]]],
                  mapping: Mapping[str, str]) -> list[tuple[int, list[Any]]] | None:
    """An accounting package's P&L by month (QuickBooks, Xero: accounts down the side,
    months across, title rows above) turned into one row a month: ``None`` when the
    file is not in that layout."""
    for k, (number, cells) in enumerate(raw[:20]):
        months = [(j, month_of_label(c) if isinstance(c, str) else
                   (c.date().replace(day=1) if isinstance(c, datetime.datetime) else None))
                  for j, c in enumerate(cells)]
        months = [(j, m) for j, m in months if m is not None]
        if len(months) < 2:
            continue
        lines: dict[str, dict[int, float]] = {}
        where: dict[str, int] = {}
        for row_number, row in raw[k + 1:]:
            label = _norm(row[0]) if row and row[0] is not None else ""
            native = mapping.get(label)
            if native is None:
                continue
            where.setdefault(native, row_number)
            for j, _ in months:
                cell = row[j] if j < len(row) else None
                if cell in (None, ""):
                    continue
                if isinstance(cell, int | float) and not isinstance(cell, bool):
                    x = float(cell)
                else:
                    parsed = _parse_number(str(cell), False)
                    if isinstance(parsed, str):
                        raise ConfigError(str(path), [(f"row {row_number}, column {j + 1}",
                                                       str(cell), f"{parsed}; allowed: an "
                                                       "amount such as 1,234.56")])
                    x = parsed
                lines.setdefault(native, {})
                lines[native][j] = lines[native].get(j, 0.0) + x
        need = ["revenue_products", "revenue_projects", "overhead"]
        missing = [n for n in need if n not in lines]
        if missing:
            labels = [str(r[0]) for _, r in raw[k + 1:] if r and r[0]][:12]
            raise ConfigError(str(path), [(f"row {number}", MISSING, "a P&L by month without "
                                           f"a line for {', '.join(missing)} (its lines: "
                                           f"{', '.join(labels)}); allowed: lines such as "
                                           "Product Sales, Project Revenue, Total Expenses, "
                                           'or a `columns` map [pnl] "Line" = '
                                           '"revenue_products"')])
        header: list[Any] = ["month", *need]
        out: list[tuple[int, list[Any]]] = [(number, header)]
        for j, m in months:
            out.append((number, [m, *[lines[n].get(j, 0.0) for n in need]]))
        return out
    return None


def read_table(path: str | Path, kind: str,
               column_map: Mapping[str, Mapping[str, str]] | None = None,
               options: ReadOptions | None = None) -> Table:
    """Read one table (``kind``: clients, pipeline, tickets or pnl) from a CSV or XLSX file.

    Raises
    ------
    ConfigError
        The file cannot be read, is empty, lacks a required column or repeats one.
    """
    path = Path(path)
    options = options or ReadOptions()
    raw = [(number, r) for number, r in enumerate(read_rows(path), start=1)
           if any(c not in (None, "") for c in r)]
    if not raw:
        raise ConfigError(str(path), [("", MISSING, f"empty; allowed: a header row and one row "
                                       f"per record ({', '.join(COLUMNS[kind])})")])
    mapping = {**ALIASES.get(kind, {}), **(column_map or {}).get(kind, {})}
    warnings: list[str] = []
    if kind == "pnl":
        by_month = _pnl_by_month(path, raw, mapping)
        if by_month is not None:
            raw = by_month
    start = _header_row(raw, kind, mapping)
    if start:
        warnings.append(f"{path.name}: rows 1-{raw[start][0] - 1} above the header skipped "
                        "(a title)")
    raw = raw[start:]
    header = ["" if h is None else str(h) for h in raw[0][1]]
    names: list[str] = []
    seen: dict[str, str] = {}
    table = Table(path=path, kind=kind, columns=names, rows=[], row_numbers=[],
                  options=options, warnings=warnings)
    for h in header:
        n = _norm(h)
        native = mapping.get(n, n.replace(" ", "_")) if n else ""
        if native and native in seen:
            raise table.error(None, h, None, f'repeats the column "{seen[native]}" (both read '
                              f"as {native}); allowed: each column once (rename or delete "
                              "one)")
        if native:
            seen[native] = h
            table.headers[native] = h.strip()
        names.append(native)
    for column, required in COLUMNS[kind].items():
        if required and column not in names:
            raise table.error(None, column, None, "missing; the header has "
                              + (", ".join(h for h in header if h) or "nothing")
                              + f"; allowed: the columns {', '.join(COLUMNS[kind])}"
                              + (" (or a `columns` map)" if kind != "pnl" else ""))
    if kind == "pipeline" and "stage" not in names:
        for column in ("proposal", "outcome", "close_date"):
            if column not in names:
                raise table.error(None, column, None, "missing; allowed: proposal, outcome and "
                                  "close_date columns, or a stage column (opportunity "
                                  "stages)")
    table.extra = [n for n in names if n and n not in COLUMNS[kind]]
    for number, cells in raw[1:]:
        row = {name: (cells[i] if i < len(cells) else None)
               for i, name in enumerate(names) if name}
        if kind == "pnl" and _is_total(row.get("month")):
            continue
        table.rows.append(row)
        table.row_numbers.append(number)
    if not table.rows:
        raise ConfigError(str(path), [("", MISSING, "no rows under the header; allowed: one row "
                                       "per record")])
    if len(table.rows) == EXPORT_CAP:
        warnings.append(f"{path.name} has exactly {EXPORT_CAP:,} rows, the cap of PSA web "
                        "exports: the export may be cut short (export a shorter date range "
                        "in parts)")
    return table


def _is_total(value: Any) -> bool:
    return isinstance(value, str) and bool(_TOTAL.match(value))
