"""Reading an export file into rows of cells, checked: a regular file within
:data:`LIMITS`, CSV text in a known encoding or a workbook's first visible sheet
(a zip bomb refused before anything is inflated, merged cells refused)."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.errors import MISSING, ConfigError

__all__ = ["LIMITS", "Limits", "read_rows", "regular_file"]


@dataclass(frozen=True)
class Limits:
    """Caps on what one file may hold: a PSA export of many years is a few MB."""

    file_bytes: int = 50_000_000
    unzipped_bytes: int = 200_000_000
    rows: int = 500_000
    cell_chars: int = 10_000
    map_bytes: int = 1_000_000


LIMITS = Limits()


def regular_file(path: Path, what: str, max_bytes: int) -> None:
    """Refuse what is not a regular file of at most ``max_bytes`` (a FIFO, a device,
    ``/dev/zero``, a folder), before opening it."""
    try:
        info = os.stat(path)
    except OSError:
        raise ConfigError(str(path), [("", MISSING, f"not found; allowed: {what}")]) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(str(path), [("", MISSING, f"not a regular file (a pipe, device or "
                                       f"folder); allowed: {what}")])
    if info.st_size > max_bytes:
        raise ConfigError(str(path), [("", MISSING, f"{info.st_size:,} bytes, larger than "
                                       f"{max_bytes:,}; allowed: {what} of at most "
                                       f"{max_bytes // 1_000_000} MB")])


def _check_cell(path: Path, number: int, col: int, value: Any) -> Any:
    if isinstance(value, str) and len(value) > LIMITS.cell_chars:
        raise ConfigError(str(path), [(f"row {number}, column {col + 1}", MISSING,
                                       f"a cell of {len(value):,} characters; allowed: at most "
                                       f"{LIMITS.cell_chars:,}")])
    return value


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    """The first visible sheet's rows, streamed; the archive's declared sizes checked
    first (a zip bomb is refused before anything is inflated)."""
    from openpyxl import load_workbook

    allowed = "allowed: a CSV or XLSX file"
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(i.file_size for i in archive.infolist())
            if unzipped > LIMITS.unzipped_bytes:
                raise ConfigError(str(path), [("", MISSING, f"a workbook that unpacks to "
                                               f"{unzipped:,} bytes; allowed: at most "
                                               f"{LIMITS.unzipped_bytes // 1_000_000} MB "
                                               "unpacked")])
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ConfigError(str(path), [("", MISSING, f"not a readable XLSX workbook (not a zip "
                                       f"archive); {allowed}")]) from None
    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a bad file
        raise ConfigError(str(path), [("", MISSING, f"not a readable XLSX workbook "
                                       f"({type(exc).__name__}); {allowed}")]) from None
    try:
        visible = [k for k, ws in enumerate(values.worksheets)
                   if getattr(ws, "sheet_state", "visible") == "visible"]
        if not visible:
            raise ConfigError(str(path), [("", MISSING, "no visible sheet; allowed: a workbook "
                                           "whose first visible sheet holds the table")])
        sheet_v, sheet_f = values.worksheets[visible[0]], formulas.worksheets[visible[0]]
        _refuse_merged(path, sheet_v, names)
        for number, (row_v, row_f) in enumerate(zip(sheet_v.iter_rows(values_only=True),
                                                    sheet_f.iter_rows(values_only=True),
                                                    strict=False), start=1):
            cells = list(row_v)
            for col, (v, f) in enumerate(zip(cells, row_f, strict=False)):
                if v is None and isinstance(f, str) and f.startswith("="):
                    raise ConfigError(str(path), [(f"row {number}, column {col + 1}", f,
                                                   "a formula without a saved value; allowed: "
                                                   "the workbook saved by a spreadsheet program "
                                                   "(open and save it), or values")])
                _check_cell(path, number, col, v)
            yield cells
    finally:
        values.close()
        formulas.close()


def _refuse_merged(path: Path, sheet: Any, names: set[str]) -> None:
    """Merged ranges hide values in all but their first cell: refused (read-only sheets
    do not load them, so the sheet's XML is scanned for a ``mergeCell``)."""
    part = getattr(sheet, "_worksheet_path", None) or getattr(sheet, "_path", None)
    candidates = [part.lstrip("/")] if part else [n for n in names
                                                  if n.startswith("xl/worksheets/sheet")]
    with zipfile.ZipFile(path) as archive:
        for name in candidates[:1]:
            if name not in names:
                continue
            tail = b""
            with archive.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    block = tail + chunk
                    m = re.search(rb'<(?:\w+:)?mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"', block)
                    if m:
                        raise ConfigError(str(path), [(f"cells {m.group(1).decode()}", MISSING,
                                                       "merged cells; allowed: one value per "
                                                       "cell (unmerge them)")])
                    tail = block[-64:]


def _decode(path: Path, raw: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without a BOM), UTF-16 with a BOM, or
    Windows-1252; binary content refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise ConfigError(str(path), [("", MISSING, "binary content; allowed: a CSV or XLSX "
                                       "file")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            raise ConfigError(str(path), [("", MISSING, "not text in UTF-8 or Windows-1252; "
                                           "allowed: a CSV file, or an XLSX "
                                           "workbook")]) from None


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    """A CSV's rows through pandas, every cell as text, streamed in chunks."""
    import pandas as pd

    with open(path, "rb") as fh:
        raw = fh.read(LIMITS.file_bytes + 1)
    text = _decode(path, raw)
    del raw
    sample = text[:65_536]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    width, count = 1, 0
    for cells in csv.reader(io.StringIO(text), delimiter=sep):
        width = max(width, len(cells))
        count += 1
        if width > 1_000:
            raise ConfigError(str(path), [("", MISSING, "more than 1,000 columns; allowed: a "
                                           "table of a few columns")])
    if count > LIMITS.rows:
        raise ConfigError(str(path), [("", MISSING, f"more than {LIMITS.rows:,} rows; "
                                       "allowed: a shorter export (a date range)")])
    try:
        chunks = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=object,
                             names=range(width),
                             keep_default_na=False, na_filter=False, skip_blank_lines=False,
                             chunksize=20_000, engine="c", quotechar='"')
        number = 0
        for chunk in chunks:
            lengths = chunk.apply(lambda column: column.str.len()).to_numpy()
            if lengths.size and lengths.max() > LIMITS.cell_chars:
                k, col = divmod(int(lengths.argmax()), lengths.shape[1])
                _check_cell(path, number + k + 1, col, chunk.iat[k, col])
            rows = chunk.to_numpy(dtype=object).tolist()
            number += len(rows)
            yield from rows
    except pd.errors.ParserError as exc:
        raise ConfigError(str(path), [("", MISSING, f"not a readable CSV table ({exc}); "
                                       "allowed: one header row and rows of the same "
                                       "columns")]) from None


def read_rows(path: Path) -> list[list[Any]]:
    """The rows of a CSV or XLSX file (first visible sheet) as lists of cells, checked: a
    regular file within :data:`LIMITS`, CSV text or a readable workbook."""
    path = Path(path)
    suffix = path.suffix.lower()
    allowed = "a CSV or XLSX file"
    if suffix not in (".csv", ".txt", ".xlsx"):
        if not path.exists():
            raise ConfigError(str(path), [("", MISSING, f"not found (or not a regular file); "
                                           f"allowed: {allowed}")])
        raise ConfigError(str(path), [("", MISSING, f'unknown file type "{suffix}"; allowed: '
                                       "a .csv or .xlsx file")])
    if not path.exists():
        raise ConfigError(str(path), [("", MISSING, f"not found (or not a regular file); "
                                       f"allowed: {allowed}")])
    regular_file(path, allowed, LIMITS.file_bytes)
    rows: list[list[Any]] = []
    for cells in (_xlsx_rows(path) if suffix == ".xlsx" else _csv_rows(path)):
        rows.append(cells)
        if len(rows) > LIMITS.rows:
            raise ConfigError(str(path), [("", MISSING, f"more than {LIMITS.rows:,} rows; "
                                           "allowed: a shorter export (a date range)")])
    return rows
