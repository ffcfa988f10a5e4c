"""Blocks of paths on several threads: the engine's parallel loop.

The compiled kernels are serial and release the GIL (``nogil``, see
:mod:`simulator.engine._jit`); :func:`run_blocks` cuts a range of paths into
blocks and lets ``numba.get_num_threads()`` threads (the calling thread and
the workers of a pool kept for the process) take them one after another.

Why not ``prange``: a ``parallel=True`` kernel cost the engine's first
compile ~6 s of its ~15 s (numba compiles the loop body twice, once per
index type, plus its parallel wrapper), and ``prange``'s static schedule
made every chunk wait for its slowest half (benchmarks/RESULTS.md).
Blocks taken on demand balance the load to within one block.

Each path's result depends only on its own inputs and seed, never on which
thread runs it or on the blocks, so results are bit-identical whatever the
number of threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["block_size", "is_worker", "release_workers", "run_blocks"]

_MIN_BLOCK = 16
_MAX_BLOCK = 1024  # ~10 ms of paths: a block's dispatch (~20 us) is lost in it
_BLOCKS_PER_THREAD = 16

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_PREFIX = "msp-sim-engine"


def _workers(count: int) -> ThreadPoolExecutor:
    """The process's pool, grown to at least ``count`` workers."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < count:
            old, _pool = _pool, ThreadPoolExecutor(max_workers=count,
                                                   thread_name_prefix=_PREFIX)
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def is_worker(thread: threading.Thread) -> bool:
    """Whether ``thread`` is one of the pool's workers."""
    return thread.name.startswith(f"{_PREFIX}_")


def release_workers() -> None:
    """Stop the pool's workers (waiting for them; :func:`run_blocks` starts a new pool
    when next called): a process about to fork has no thread left
    (:mod:`simulator.report.child`)."""
    global _pool
    with _pool_lock:
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=True)


def block_size(n: int, threads: int) -> int:
    """Paths per block: about 16 blocks a thread, 16 to 1024 paths each."""
    return max(_MIN_BLOCK, min(_MAX_BLOCK, n // (threads * _BLOCKS_PER_THREAD)))


def run_blocks(body: Callable[[int, int], None], n: int, block: int | None = None) -> None:
    """Call ``body(lo, hi)`` on consecutive blocks covering ``range(n)``, in parallel.

    ``body`` must release the GIL for the work to overlap (a ``nogil``
    kernel) and must not depend on how ``range(n)`` is cut. ``block``: items
    per block (default :func:`block_size`).
    """
    threads = max(1, numba.get_num_threads())
    if block is None:
        block = block_size(n, threads)
    if block < 1:
        raise ValueError(f"block must be at least 1, got {block}")
    n_blocks = -(-n // block)
    threads = min(threads, n_blocks)
    if threads == 1:
        body(0, n)
        return
    counter = itertools.count()  # next() is atomic under the GIL
    failed = threading.Event()

    def work() -> None:
        try:
            for k in counter:
                if k >= n_blocks or failed.is_set():
                    return
                body(k * block, min((k + 1) * block, n))
        except BaseException:
            failed.set()
            raise

    futures = [_workers(threads - 1).submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for future in futures:
            future.exception()  # wait for every worker, even when one failed
    for future in futures:
        future.result()
