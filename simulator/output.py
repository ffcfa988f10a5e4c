"""Writing a run's output directory, all or nothing.

``write_outputs`` writes every file into a fresh temporary directory next to
the target, and only when all of them are written moves it into place
(replacing an earlier output directory at the very end). A failure or an
interrupt at any point leaves the target as it was.

``paths.npz`` is written with :func:`numpy.savez` (uncompressed): for
10,000 paths x 61 months x 22 metrics (107 MB), ``savez_compressed`` took
6.2 s against 0.4 s and saved only half the space.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .results import DEFAULT_QUANTILES, SimulationResult

__all__ = [
    "FAN_CHART",
    "OUTPUT_FILES",
    "PATHS_NPZ",
    "QUANTILES_CSV",
    "REPORT_HTML",
    "RESULTS_XLSX",
    "SUMMARY_JSON",
    "TIME_CHART",
    "TRAJECTORY_DTYPE",
    "OutputDirError",
    "check_out_dir",
    "json_text",
    "staged_directory",
    "write_directory",
    "write_outputs",
    "write_paths",
    "write_quantiles_csv",
    "write_summary",
    "write_text_atomic",
]

SUMMARY_JSON = "summary.json"
PATHS_NPZ = "paths.npz"
QUANTILES_CSV = "quantiles.csv"
REPORT_HTML = "report.html"
RESULTS_XLSX = "results.xlsx"
FAN_CHART = "fan_chart.png"
TIME_CHART = "time_to_threshold.png"
TRAJECTORY_DTYPE = np.float32
"""The trajectories in ``paths.npz``: 7 significant digits (MRR to a cent, cash to a
dollar at $10M), half the size and write time of float64 (73 against 146 MB for 10,000
paths x 61 months x 30 metrics, benchmarks/RESULTS.md). Every summary, quantile and report
is computed in float64 before writing; months and parameters are stored exactly."""
OUTPUT_FILES: frozenset[str] = frozenset(
    {SUMMARY_JSON, PATHS_NPZ, QUANTILES_CSV, REPORT_HTML, RESULTS_XLSX, FAN_CHART, TIME_CHART}
)
"""Every file an output directory may hold."""


class OutputDirError(ValueError):
    """The output directory cannot be used (a file, or holds files msp-sim did not write)."""


def check_out_dir(out_dir: str | Path, allowed: frozenset[str] = OUTPUT_FILES) -> Path:
    """Check that ``out_dir`` may be created or replaced; return it as an absolute path.

    A directory is replaced only when it is empty or holds nothing but files
    named in ``allowed`` (an earlier run's outputs), so a mistyped ``--out``
    never deletes other work.

    Raises
    ------
    OutputDirError
        ``out_dir`` is a file, holds other files, or contains the working directory.
    """
    out = Path(out_dir).absolute()
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputDirError(f"{out_dir}: exists and is not a directory")
        cwd = Path.cwd().resolve()
        if cwd == out.resolve() or out.resolve() in cwd.parents:
            raise OutputDirError(f"{out_dir}: is (or contains) the working directory; "
                                 "choose a new directory for the outputs")
        foreign = sorted(set(os.listdir(out)) - allowed)
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise OutputDirError(f"{out_dir}: refusing to replace a directory holding files "
                                 f"msp-sim did not write ({shown}); choose another --out")
    return out


@contextlib.contextmanager
def staged_directory(out_dir: str | Path, allowed: frozenset[str] = OUTPUT_FILES
                     ) -> Iterator[Path]:
    """Write a directory all or nothing.

    Yields a temporary directory next to ``out_dir``; when the block ends
    normally it replaces ``out_dir`` (checked first with
    :func:`check_out_dir`), otherwise it is removed, with any parent
    directories it created, and ``out_dir`` is left as it was.
    """
    out = check_out_dir(out_dir, allowed)
    created = _make_parents(out.parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _move_into_place(tmp, out)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for directory in reversed(created):
            try:
                directory.rmdir()
            except OSError:
                break
        raise


def write_directory(out_dir: str | Path, files: Mapping[str, bytes | str],
                    allowed: frozenset[str]) -> Path:
    """Write ``files`` (name -> text or bytes) as the directory ``out_dir``, all or nothing."""
    with staged_directory(out_dir, allowed) as tmp:
        for name, content in files.items():
            if isinstance(content, str):
                (tmp / name).write_text(content, encoding="utf-8")
            else:
                (tmp / name).write_bytes(content)
    return Path(out_dir).absolute()


def json_text(data: Any) -> str:
    """Indented JSON (no NaN/Infinity) with a final newline: every JSON file msp-sim writes."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write_summary(summary: Mapping[str, Any], path: str | Path) -> None:
    """Write the summary dictionary as indented JSON (no NaN/Infinity)."""
    Path(path).write_text(json_text(summary), encoding="utf-8")


def write_paths(result: SimulationResult, path: str | Path) -> None:
    """Write ``paths.npz``: ``first_passage``, ``insolvency_month`` and, if the run
    kept them, every metric (as :data:`TRAJECTORY_DTYPE`) and ``param_<field>`` arrays.

    The same file ``np.savez`` writes (an uncompressed zip of ``.npy``
    members), written one member at a time: the result's metrics are views
    of one ``(paths, metrics, months + 1)`` array, and each is copied to a
    contiguous array just before it is written, so writing adds one
    metric's worth of memory, not a second copy of the run.
    """

    def members() -> Iterator[tuple[str, np.ndarray]]:
        for name, values in result.metrics.items():
            yield name, np.ascontiguousarray(values, dtype=TRAJECTORY_DTYPE)
        yield "first_passage", np.asarray(result.first_passage)
        yield "insolvency_month", np.asarray(result.insolvency_month)
        if result.params is not None and result.params.dtype.names:
            for name in result.params.dtype.names:
                yield f"param_{name}", np.ascontiguousarray(result.params[name])

    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for name, values in members():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, values, allow_pickle=False)


def write_quantiles_csv(
    result: SimulationResult,
    path: str | Path,
    qs: tuple[float, ...] = DEFAULT_QUANTILES,
) -> None:
    """Write per-month quantiles in long format: ``month,metric,quantile,value``."""
    table = result.quantiles(qs)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["month", "metric", "quantile", "value"])
        for month in range(result.months + 1):
            for name, values in table.items():
                for j, q in enumerate(qs):
                    writer.writerow([month, name, repr(float(q)), repr(float(values[j, month]))])


def write_outputs(
    result: SimulationResult,
    out_dir: str | Path,
    save_paths: bool = True,
    title: str | None = None,
    levers: Any = None,
    by: Sequence[int] = (),
) -> Path:
    """Write every output file of a run into ``out_dir``, atomically.

    Parameters
    ----------
    result : SimulationResult
        The run.
    out_dir : str or Path
        Target directory; created, or replaced if it holds only msp-sim outputs.
    save_paths : bool
        Write ``paths.npz`` (default): with every trajectory when the run kept
        them (runs up to :data:`simulator.results.KEEP_PATHS_LIMIT` paths unless
        told otherwise), else with the first-passage and insolvency months only.
    title : str, optional
        Title of ``report.html`` (default: the report layer's).
    levers : LeverScanResult, optional
        The run's lever scan (:func:`simulator.analysis.levers.lever_scan`):
        ``summary.json`` gets its ``levers`` block and the report its section.
    by : sequence of int
        Months whose P(break) the summary and the report add to 12, 36 and the horizon.

    Returns
    -------
    Path
        The output directory.

    Raises
    ------
    OutputDirError
        See :func:`check_out_dir`; nothing is written.
    """
    from .report.files import write_run_report  # the report layer sits above this module

    with staged_directory(out_dir) as tmp:
        summary = result.summary(by)
        if levers is not None:
            summary["levers"] = levers.to_dict()
        write_summary(summary, tmp / SUMMARY_JSON)
        write_quantiles_csv(result, tmp / QUANTILES_CSV)
        if save_paths:
            write_paths(result, tmp / PATHS_NPZ)
        write_run_report(result, tmp, summary, title, levers)
    return Path(out_dir).absolute()


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it,
    then renamed over it); missing parent directories are created.

    Raises
    ------
    OutputDirError
        The file cannot be written there (the path and the system's reason).
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        _make_parents(path.parent)
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputDirError(f"{path}: cannot write it ({exc.strerror or exc}); allowed: a "
                             "path in a directory you can write to") from None
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_parents(parent: Path) -> list[Path]:
    """Create ``parent`` and missing ancestors; return those created, outermost first."""
    missing = []
    p = parent
    while not p.exists():
        missing.append(p)
        p = p.parent
    parent.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _move_into_place(tmp: Path, out: Path) -> None:
    if not (out.exists() or out.is_symlink()):
        os.replace(tmp, out)
        return
    backup = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(out, backup)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(backup, out)
        raise
    if backup.is_dir() and not backup.is_symlink():
        shutil.rmtree(backup, ignore_errors=True)
    else:
        backup.unlink(missing_ok=True)
