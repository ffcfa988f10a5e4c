"""Writing a run's output directory, all or nothing.

``write_outputs`` writes every file into a fresh temporary directory next to
the target, and only when all of them are written moves it into place
(replacing an earlier output directory at the very end). A failure or an
interrupt at any point leaves the target as it was.

The package also holds the one registry of output file names; :mod:`.atomic`
has the atomic steps (a file written whole, a directory moved into place) and
:mod:`.checkpoint` the :class:`Checkpoint` store of long analyses.

``paths.npz`` is written with :func:`numpy.savez` (uncompressed): for
10,000 paths x 61 months x 22 metrics (107 MB), ``savez_compressed`` took
6.2 s against 0.4 s and saved only half the space.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..private import is_own_dir
from ..results import DEFAULT_QUANTILES, SimulationResult
from .atomic import OutputDirError, current_umask, make_parents, move_into_place, write_text_atomic
from .checkpoint import Checkpoint

__all__ = [
    "COMPARISON_JSON",
    "P_BREAK_CHART",
    "MRR_FAN_CHART",
    "COMPARE_FILES",
    "SENSITIVITY_JSON",
    "TORNADO_PNG",
    "INDICES_PNG",
    "SENSITIVITY_HTML",
    "SENSITIVITY_FILES",
    "GOAL_JSON",
    "GOAL_CHART",
    "GOAL_HTML",
    "GOAL_FILES",
    "PLAN_JSON",
    "PLAN_HTML",
    "PLAN_XLSX",
    "PLAN_FILES",
    "FIT_JSON",
    "FIT_HTML",
    "FIT_FILES",
    "BACKTEST_JSON",
    "BACKTEST_HTML",
    "BACKTEST_FILES",
    "PORTFOLIO_FILES",
    "Checkpoint",
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
    "claim_out_dir",
    "json_text",
    "staged_directory",
    "write_directory",
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


COMPARISON_JSON = "comparison.json"
P_BREAK_CHART = "p_break.png"
MRR_FAN_CHART = "mrr_fan.png"
COMPARE_FILES: frozenset[str] = frozenset(
    {COMPARISON_JSON, P_BREAK_CHART, MRR_FAN_CHART, REPORT_HTML, RESULTS_XLSX})
"""Every file a comparison's output directory may hold."""

SENSITIVITY_JSON = "sensitivity.json"
TORNADO_PNG = "tornado.png"
INDICES_PNG = "sensitivity_indices.png"
SENSITIVITY_HTML = "sensitivity.html"
SENSITIVITY_FILES: frozenset[str] = frozenset(
    {SENSITIVITY_JSON, TORNADO_PNG, INDICES_PNG, SENSITIVITY_HTML})
"""Every file a sensitivity analysis's output directory may hold."""

GOAL_JSON = "goal.json"
GOAL_CHART = "goal.png"
GOAL_HTML = "goal.html"
GOAL_FILES: frozenset[str] = frozenset({GOAL_JSON, GOAL_CHART, GOAL_HTML})
PLAN_JSON = "plan.json"
PLAN_HTML = "plan.html"
PLAN_XLSX = "plan.xlsx"
PLAN_FILES: frozenset[str] = frozenset({PLAN_JSON, PLAN_HTML, PLAN_XLSX})
"""Every file a goal seek's output directory may hold."""


FIT_JSON = "fit.json"
FIT_HTML = "fit.html"
FIT_FILES: frozenset[str] = frozenset({FIT_JSON, FIT_HTML, "tenure.png", "tickets.png"})
"""Every file a fit report's directory may hold."""


BACKTEST_JSON = "backtest.json"
BACKTEST_HTML = "backtest.html"
BACKTEST_FILES: frozenset[str] = frozenset({BACKTEST_JSON, BACKTEST_HTML, "backtest.png"})
"""Every file a backtest's directory may hold."""


PORTFOLIO_FILES: frozenset[str] = frozenset(
    {"portfolio.json", "portfolio.html", "portfolio.xlsx", "portfolio.png"})
"""Every file a portfolio's directory may hold."""


def _out_path(out_dir: str | Path) -> Path:
    """The absolute output path; a symbolic link is written through (its target)."""
    if not str(out_dir).strip():
        raise OutputDirError("`out` '': an empty directory name; allowed: a directory path "
                             "such as results/run1 (or leave `out` out for the default)")
    out = Path(out_dir).absolute()
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    return out


def _other_outputs(names: set[str]) -> str | None:
    """Which msp-sim command writes all of ``names``, if one does."""
    for command, allowed in (("run", OUTPUT_FILES), ("compare", COMPARE_FILES),
                             ("goal", GOAL_FILES), ("sensitivity", SENSITIVITY_FILES),
                             ("plan", PLAN_FILES)):
        if names <= allowed:
            return command
    return None


def check_out_dir(out_dir: str | Path, allowed: frozenset[str] = OUTPUT_FILES) -> Path:
    """Check that ``out_dir`` may be created or replaced; return it as an absolute path.

    A directory is replaced only when it is empty or holds nothing but
    regular files named in ``allowed`` (an earlier run's outputs), so a
    mistyped ``--out`` never deletes other work; a directory or link named
    like an output is not one. A symbolic link is followed: its target is
    the directory written (and returned).

    Raises
    ------
    OutputDirError
        ``out_dir`` is empty, a file, a mount point, holds other files, or
        contains the working directory.
    """
    out = _out_path(out_dir)
    if out.exists():
        if not out.is_dir():
            raise OutputDirError(f"{out_dir}: exists and is not a directory; allowed: a new "
                                 "directory, or one an earlier msp-sim run wrote")
        cwd = Path.cwd().resolve()
        if cwd == out.resolve() or out.resolve() in cwd.parents:
            raise OutputDirError(f"{out_dir}: is (or contains) the working directory; "
                                 "choose a new directory for the outputs")
        if os.path.ismount(out):
            raise OutputDirError(f"{out_dir}: is a mount point, which cannot be replaced; "
                                 f"allowed: a directory inside it, e.g. {Path(out_dir) / 'run'}")
        foreign, odd = [], []
        for entry in sorted(os.listdir(out)):
            if entry not in allowed:
                foreign.append(entry)
            elif not stat.S_ISREG(os.lstat(out / entry).st_mode):
                odd.append(entry)
        if odd:
            raise OutputDirError(f"{out_dir}: refusing to replace it: {', '.join(odd[:5])} "
                                 "is not a regular file (msp-sim writes only regular files, "
                                 "so it is someone else's); choose another `out`")
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            other = _other_outputs(set(os.listdir(out)))
            if other is not None:
                raise OutputDirError(f"{out_dir}: holds the output of msp-sim {other} "
                                     f"({shown}), not of this command; choose another `out`")
            raise OutputDirError(f"{out_dir}: refusing to replace a directory holding files "
                                 f"msp-sim did not write ({shown}); choose another `out`")
    return out


class _Claim:
    """An output directory this process holds: its lock and the parents it created."""

    def __init__(self, out: Path, fd: int, lock: Path, created: list[Path]):
        self.out, self.fd, self.lock, self.created = out, fd, lock, created

    def release(self, keep_parents: bool) -> None:
        with contextlib.suppress(OSError):
            self.lock.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        if not keep_parents:
            for directory in reversed(self.created):
                try:
                    directory.rmdir()
                except OSError:
                    break
        _CLAIMS.pop(self.out, None)


_CLAIMS: dict[Path, _Claim] = {}


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def claim_out_dir(out_dir: str | Path, allowed: frozenset[str] = OUTPUT_FILES,
                  need_bytes: int = 0) -> Path:
    """Check ``out_dir`` before any work and hold it until it is written.

    On top of :func:`check_out_dir`: creates the missing parent directories
    (removed again if nothing is written), checks that a directory can be
    created beside the target (a read-only or full file system, a name too
    long, no permission) and that about ``need_bytes`` are free there, and
    locks the target so that a second msp-sim writing it says it is busy.
    Stale temporaries of dead runs are removed. :func:`staged_directory`
    (every writer) releases the claim; so does :func:`release_claims`.

    Raises
    ------
    OutputDirError
        The path and the reason; nothing is created.
    """
    out = check_out_dir(out_dir, allowed)
    if out in _CLAIMS:
        return out
    try:
        created = make_parents(out.parent)
    except OSError as exc:
        blocker = next((p for p in [out.parent, *out.parent.parents]
                        if p.exists() and not p.is_dir()), None)
        why = (f"{blocker} is a file, not a directory" if blocker is not None
               else _reason(exc))
        raise OutputDirError(f"{out_dir}: cannot create the directory ({why}); allowed: a "
                             "path in a directory you can write to") from None
    claim = None
    try:
        claim = _lock(out, created)
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-",
                                      dir=out.parent))
        probe.rmdir()
        free = shutil.disk_usage(out.parent).free
        if need_bytes > free:
            raise OutputDirError(f"{out_dir}: too little space: the output needs about "
                                 f"{_size(need_bytes)}, {_size(free)} free; allowed: a file "
                                 "system with more space, or fewer paths (or --no-save-paths)")
        _clean_stale(out, allowed)
    except BaseException as exc:
        if claim is not None:
            claim.release(keep_parents=False)
        else:
            for directory in reversed(created):
                with contextlib.suppress(OSError):
                    directory.rmdir()
        if isinstance(exc, OSError):
            raise OutputDirError(f"{out_dir}: cannot write there ({_reason(exc)}); allowed: "
                                 "a path in a directory you can write to") from None
        raise
    return out


def release_claims() -> None:
    """Release every output directory this process claimed and did not write."""
    for claim in list(_CLAIMS.values()):
        claim.release(keep_parents=False)


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def _lock(out: Path, created: list[Path]) -> _Claim:
    """Lock ``out`` (a ``.<name>.lock`` file beside it, ``flock``)."""
    from ..private import PrivacyError, check_own_file

    path = out.parent / f".{out.name}.lock"
    for _ in range(20):
        try:  # never through a link, never another user's file
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                         | os.O_NONBLOCK, 0o600)
        except OSError:
            if os.path.islink(path):
                raise OutputDirError(f"{path}: is a symbolic link, not msp-sim's lock; "
                                     "allowed: remove it (it is not yours to follow)") from None
            raise
        try:
            check_own_file(path, os.fstat(fd))
        except PrivacyError as exc:
            os.close(fd)
            raise OutputDirError(f"{exc}; msp-sim writes nothing there") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise OutputDirError(f"{out}: busy: another msp-sim{who} is writing this output "
                                 "directory; allowed: wait for it to finish, or choose "
                                 "another `out`") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            claim = _Claim(out, fd, path, created)
            _CLAIMS[out] = claim
            return claim
        os.close(fd)  # the holder removed it as we opened it: try again
    raise OutputDirError(f"{out}: busy: could not lock it; allowed: try again, or choose "
                         "another `out`")  # pragma: no cover


def _pid_alive(text: str) -> bool:
    pid = text.split("-", 1)[0]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _clean_stale(out: Path, allowed: frozenset[str] = OUTPUT_FILES) -> None:
    """Remove temporaries of runs that died writing ``out`` (its lock is held).

    A backup (``.<name>.old-*``) is the earlier output directory moved aside:
    if the run died before its replacement moved in, the backup is put back. Only
    directories of this user's that are not world-writable are touched (the only kind
    msp-sim's temporaries and backups are: a planted one stays where it is).
    """
    tmp_prefix, old_prefix = f".{out.name}.tmp-", f".{out.name}.old-"
    for entry in sorted(os.listdir(out.parent)):
        path = out.parent / entry
        if entry.startswith(tmp_prefix):
            if not _pid_alive(entry[len(tmp_prefix):]) and is_own_dir(path, 0o002):
                shutil.rmtree(path, ignore_errors=True)
        elif (entry.startswith(old_prefix) and not _pid_alive(entry[len(old_prefix):])
              and is_own_dir(path, 0o002)):
            if not (out.exists() or out.is_symlink()) and _outputs_only(path, allowed):
                os.replace(path, out)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _outputs_only(path: Path, allowed: frozenset[str]) -> bool:
    """Whether ``path`` holds only regular files of this user named in ``allowed`` (what
    a backup of an earlier output of this command is)."""
    try:
        names = os.listdir(path)
        return set(names) <= allowed and all(
            stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()
            for st in (os.lstat(path / n) for n in names))
    except OSError:
        return False


@contextlib.contextmanager
def staged_directory(out_dir: str | Path, allowed: frozenset[str] = OUTPUT_FILES
                     ) -> Iterator[Path]:
    """Write a directory all or nothing.

    Yields a temporary directory next to ``out_dir``; when the block ends
    normally it replaces ``out_dir`` (checked and locked first with
    :func:`claim_out_dir`; an existing directory keeps its mode and group,
    a symbolic link keeps pointing at it), otherwise it is removed, with any
    parent directories it created, and ``out_dir`` is left as it was.

    Raises
    ------
    OutputDirError
        See :func:`claim_out_dir`; or writing failed (a full disk): the path
        and the system's reason, nothing left behind.
    """
    out = claim_out_dir(out_dir, allowed)
    claim = _CLAIMS[out]
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        if out.is_dir():
            st = out.stat()
            with contextlib.suppress(OSError):
                os.chown(tmp, -1, st.st_gid)
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        else:
            os.chmod(tmp, 0o777 & ~current_umask())
        yield tmp
        move_into_place(tmp, out)
        claim.release(keep_parents=True)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        claim.release(keep_parents=False)
        if isinstance(exc, OSError) and not isinstance(exc, OutputDirError):
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            raise OutputDirError(f"{out_dir}: cannot write the output ({_reason(exc)}"
                                 f"{':' + where if where else ''}); nothing written, the "
                                 "directory is as it was") from None
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


