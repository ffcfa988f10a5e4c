"""Drawing a report's figures in a child process while the parent writes the other files.

A run's six figures cost about as much CPU as everything else ``write_outputs`` does
(matplotlib's import and the drawing: ~1.4 s of a warm 10,000-path ``msp-sim run``;
the uncertainty split, the workbook, ``quantiles.csv`` and ``paths.npz`` about as
much), and the two do not depend on each other. :class:`Drawing` forks a child
that draws them and sends their PNG bytes back through a pipe; the parent goes on
with the rest and collects them when it writes the page. The figures are the same
bytes either way (``tests/test_output.py`` compares every file of a run directory).

Forking is only done when it is safe (:func:`fork_unsafe`): on Linux, from the main
thread, with no other thread in the process (the engine's idle pool workers are
stopped first; any other thread, a Dask client's event loop or a progress bar's
monitor among them, means no fork), no Dask client, and no thread outside Python but
the idle workers of the OpenBLAS pools numpy and scipy start at import (so none of
numba's threading layer: its OpenMP workers only start with a ``parallel=True``
kernel, which a run does not call). Otherwise, or when ``MSP_SIM_FIGURE_PROCESS=0``,
the figures are drawn in the process, as before. The child never writes a file and
leaves with ``os._exit`` (no ``finally`` block or ``atexit`` handler of the parent's
runs in it). If it fails
in any way (an error while drawing, killed, a broken pipe), the parent draws the
figures itself, so an error surfaces exactly as it would without a child: one
``error:`` line and nothing written. If the parent stops first (an error, Ctrl-C),
the child is killed and reaped.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable

from .style import ReportFigure

__all__ = ["DISABLE_ENV", "Drawing", "fork_unsafe"]

DISABLE_ENV = "MSP_SIM_FIGURE_PROCESS"
"""Set to ``0`` to always draw the figures in the process."""


def fork_unsafe() -> str | None:
    """Why the process must not fork now, or ``None`` when it may.

    Stops the engine's idle worker threads (:func:`simulator.engine._threads.
    release_workers`) when they are the only other threads: they are started
    again on the engine's next call.
    """
    if os.environ.get(DISABLE_ENV, "").strip() == "0":
        return f"{DISABLE_ENV}=0"
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return "not Linux"
    if threading.current_thread() is not threading.main_thread():
        return "not the main thread"
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            distributed.default_client()
            return "a Dask client"
        except ValueError:
            pass
    engine = sys.modules.get("simulator.engine._threads")
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    released = engine is not None and bool(others) and all(engine.is_worker(t) for t in others)
    if released and engine is not None:
        engine.release_workers()
    if threading.active_count() != 1:
        return "other threads are running"
    allowed = 1 + _blas_threads()
    for _ in range(200 if released else 1):  # a joined worker takes a moment to leave
        unknown = _native_threads() - allowed
        if unknown <= 0:
            return None
        time.sleep(0.001)
    # numba's threading layer's workers, a C library's pool, ...
    return f"{unknown} thread(s) outside Python are running"


def _native_threads() -> int:
    """The process's threads, as the kernel counts them."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1 << 30


def _blas_threads() -> int:
    """The idle workers of the OpenBLAS pools numpy and scipy load at import (each of
    ``num_threads - 1`` threads beside the caller): the one kind of native thread
    allowed at a fork, since OpenBLAS stops and restarts them around it
    (``pthread_atfork``)."""
    from threadpoolctl import threadpool_info

    return sum(max(int(info.get("num_threads", 1)) - 1, 0) for info in threadpool_info()
               if info.get("internal_api") == "openblas"
               and info.get("threading_layer") == "pthreads")


def encode_figures(figures: list[ReportFigure]) -> bytes:
    """A list of figures as bytes: a JSON line of (section, caption, PNG size)
    triples, then the PNGs back to back (data, never code: no pickle)."""
    head = [[f.section, f.caption, len(f.png)] for f in figures]
    return json.dumps(head).encode() + b"\n" + b"".join(f.png for f in figures)


def decode_figures(data: bytes) -> list[ReportFigure]:
    """The figures :func:`encode_figures` wrote; ``ValueError`` if ``data`` is cut short."""
    line, _, pngs = data.partition(b"\n")
    figures, at = [], 0
    for section, caption, size in json.loads(line):
        figures.append(ReportFigure(str(section), str(caption), pngs[at:at + int(size)]))
        at += int(size)
    if at != len(pngs):
        raise ValueError("the figures were cut short")
    return figures


class Drawing:
    """``draw()`` run in a forked child when :func:`fork_unsafe` allows, else on
    :meth:`result`; it returns the figures (sent back by
    :func:`encode_figures`). Use as a context manager (the child is
    killed and reaped on the way out if its result was not taken)."""

    def __init__(self, draw: Callable[[], list[ReportFigure]]):
        self._draw = draw
        self._pid = 0
        self._fd = -1
        self.why_not = fork_unsafe()
        if self.why_not is None:
            self._start()

    @property
    def forked(self) -> bool:
        """Whether a child draws (it was safe to fork and the fork worked)."""
        return self._pid > 0

    def _start(self) -> None:
        try:
            read, write = os.pipe()
        except OSError as exc:
            self.why_not = f"no pipe ({exc.strerror})"
            return
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(read)
            os.close(write)
            self.why_not = f"no fork ({exc.strerror})"
            return
        if pid == 0:  # the child: draw, send, leave without running the parent's cleanup
            code = 1
            try:
                os.close(read)
                import gc

                gc.disable()  # a short life: no collections walking the parent's objects
                try:
                    payload = b"ok" + encode_figures(self._draw())
                except BaseException:  # noqa: BLE001 - the parent redraws and reports it
                    payload = b"error"
                view = memoryview(payload)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._fd = pid, read

    def result(self) -> list[ReportFigure]:
        """The drawing: the child's, or drawn here when there is no child or it failed."""
        if not self.forked:
            return self._draw()
        chunks = []
        try:
            while chunk := os.read(self._fd, 1 << 20):
                chunks.append(chunk)
        except BaseException:  # a signal while waiting: the child goes too, at once
            self._reap(kill=True)
            raise
        self._reap(kill=False)
        payload = b"".join(chunks)
        if payload.startswith(b"ok"):
            try:
                return decode_figures(payload[2:])
            except (ValueError, TypeError):  # cut short or garbled: draw here
                pass
        return self._draw()  # the child failed or was killed: draw here, errors surface

    def _reap(self, kill: bool) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._pid > 0:
            if kill:
                try:
                    os.kill(self._pid, 9)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            self._pid = -1  # reaped: result() draws here from now on

    def close(self) -> None:
        """Kill and reap the child if it is still there."""
        self._reap(kill=True)

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
