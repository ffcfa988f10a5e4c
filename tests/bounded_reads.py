"""A zip bomb and a 50 MB CSV read each by a child Python whose peak memory is measured
(tests/test_fit_exports.py): the files built and both children run by one process of
their own, a background job (tests/conftest.py) that runs while the other tests do.

``python tests/bounded_reads.py FOLDER`` builds ``bomb.xlsx`` and ``big.csv`` in FOLDER,
reads each in a child and prints the outcomes as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path


def rss_of(code: str) -> tuple[int, str]:
    """Run ``code`` in a child Python; its exit code and peak RSS in MB on stdout (the
    high-water mark of its own memory, VmHWM: ru_maxrss would carry the parent's)."""
    probe = code + ("\nprint([int(line.split()[1]) // 1024 for line in open('/proc/self/status')"
                    " if line.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=300)
    return out.returncode, out.stdout + out.stderr


class _BlockDeflate:
    """A deflater for one block written many times: the block is deflated once, closed
    by a full flush (which byte-aligns the stream and drops the history), so each copy
    is the same bytes and the stream still inflates to every copy (RFC 1951). The zip
    bomb below is then a real 1 GB deflate stream without deflating 1 GB (6.5 s of CPU
    at level 9, 2.4 s at level 1, whose 4.4 MB archive is no bomb of < 2 MB)."""

    def __init__(self) -> None:
        self._done: dict[bytes, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        if data not in self._done:
            z = zlib.compressobj(9, zlib.DEFLATED, -15)
            self._done[data] = z.compress(data) + z.flush(zlib.Z_FULL_FLUSH)
        return self._done[data]

    def flush(self) -> bytes:
        return zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final, empty block


def zip_bomb(path: Path) -> None:
    """An XLSX-named zip whose sheet inflates to 1 GB of "a" (its CRC and sizes are
    zipfile's own, over every byte written; read back whole, the 1 GB inflated with
    the CRC right when this was written). Were ``_compressor`` renamed, zipfile's own
    deflater would run: the same bomb, slower."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh._compressor = _BlockDeflate()  # zipfile's writer, deflating through it
            block = b"a" * 10_000_000
            for _ in range(100):
                fh.write(block)


def _read(path: Path) -> tuple[int, str]:
    return rss_of(f"from simulator.fit.tables import read_table\nfrom simulator.config import "
                  f"ConfigError\ntry:\n    read_table({str(path)!r}, 'tickets')\nexcept "
                  f"ConfigError as e:\n    print('REFUSED', e)")


def main(folder: Path) -> dict:
    bomb = folder / "bomb.xlsx"
    zip_bomb(bomb)
    big = folder / "big.csv"
    row = "2024-01-05,Acme Corporation International,1.25,Ann Example\n"
    with open(big, "w") as fh:
        fh.write("created,client,hours,resource\n")
        fh.write(row * (49_500_000 // len(row)))
    return {"bomb_bytes": bomb.stat().st_size, "bomb": _read(bomb),
            "csv_bytes": big.stat().st_size, "csv": _read(big)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
