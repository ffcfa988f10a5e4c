"""Peak memory of the export readers on hostile files (issue 28 item 10): each file read
in a fresh process (``read_records``, as ``msp-sim fit`` reads it), its peak resident
set (``VmHWM``) printed beside what happened.

* ``bomb.xlsx``: a 1 MB workbook whose sheet unpacks to 1 GB;
* ``liar.xlsx``: the same, its zip headers saying the sheet is 4 KB (the size check
  believes them; the zip reader stops at the stated size and the CRC fails);
* ``rows850k.csv``: 49.5 MB, 850,000 rows (over the row cap);
* ``rows450k.csv``: 49.9 MB, 453,636 rows (under every cap: read whole).

Usage: ``python benchmarks/reader_memory.py`` (a few minutes; the files go to a
temporary folder). The suite checks the bomb and the 850,000 rows under 1 GB
(tests/test_fit_exports.py).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from _common import ROOT, git_commit, load

SHEET = "xl/worksheets/sheet1.xml"


def bomb(path: Path, lie: bool) -> None:
    """A real one-sheet workbook whose sheet carries 1 GB of comment (deflates to ~1 MB);
    with ``lie`` its headers state the sheet's size as 4,000 bytes."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["created", "client", "hours", "resource"])
    book.active.append(["2024-01-05", "Acme", 1.5, "Ann"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != SHEET:
                dst.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with dst.open(SHEET, "w", force_zip64=False) as fh:
                fh.write(head + b"</sheetData><!--")
                for _ in range(100):
                    fh.write(b"a" * 10_000_000)
                fh.write(b"-->" + tail)
    raw = bytearray(out.getvalue())
    if lie:  # the uncompressed size: local header +22, central directory entry +24
        for signature, name_at, size_at, fixed in ((b"PK\x03\x04", 26, 22, 30),
                                                   (b"PK\x01\x02", 28, 24, 46)):
            at = raw.find(signature)
            while at >= 0:
                length = struct.unpack_from("<H", raw, at + name_at)[0]
                if raw[at + fixed:at + fixed + length] == SHEET.encode():
                    struct.pack_into("<I", raw, at + size_at, 4_000)
                at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))


def csv_rows(path: Path, row: str, size: int) -> None:
    with open(path, "w") as fh:
        fh.write("created,client,hours,resource\n")
        fh.write(row * (size // len(row)))


PROBE = """
import sys
from simulator.config import ConfigError
from simulator.fit import read_records
try:
    print("read", len(read_records(tickets=sys.argv[1])["tickets"]), "tickets")
except ConfigError as exc:
    print("refused:", exc)
print([int(l.split()[1]) // 1024 for l in open("/proc/self/status")
       if l.startswith("VmHWM")][0])
"""


def peak(path: Path) -> dict[str, object]:
    """What reading ``path`` in a fresh process did, and its peak RSS in MB."""
    run = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=1800)
    lines = run.stdout.strip().splitlines()
    return {"file_mb": round(path.stat().st_size / 1e6, 2), "outcome": lines[0][:160],
            "peak_rss_mb": int(lines[-1]), "exit": run.returncode}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        bomb(base / "bomb.xlsx", lie=False)
        bomb(base / "liar.xlsx", lie=True)
        csv_rows(base / "rows850k.csv",
                 "2024-01-05,Acme Corporation International,1.25,Ann Example\n", 49_500_000)
        csv_rows(base / "rows450k.csv", "2024-01-05,Acme Corporation International Holdings "
                 "Limited of Greater Springfield,1.25,Ann Example Technician\n", 49_900_000)
        results = {name: peak(base / name) for name in
                   ("bomb.xlsx", "liar.xlsx", "rows850k.csv", "rows450k.csv")}
    print(json.dumps({"commit": git_commit(), "load": load(), **results}, indent=2))


if __name__ == "__main__":
    main()
