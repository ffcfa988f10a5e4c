"""The numba engine: validated entry point to the compiled kernel."""

from __future__ import annotations

import numpy as np

from ..model.inputs import RunInputs
from ..model.metrics import METRICS
from ._accumulate import accumulate
from ._kernel import METRIC_NAMES, N_METRICS, run_paths
from ._quantiles import column_quantiles
from ._threads import run_blocks

__all__ = ["METRIC_NAMES", "accumulate", "column_quantiles", "new_output", "run_chunk"]

if METRIC_NAMES != METRICS or len(METRICS) != N_METRICS:  # pragma: no cover - import guard
    raise ImportError("engine metric layout differs from simulator.model.metrics.METRICS")


_PAGE_FLOATS = 512  # float64 values per 4 KiB page
_ALL_METRICS = np.arange(N_METRICS, dtype=np.int64)


def new_output(n_paths: int, months: int, touch: bool = True,
               n_metrics: int = N_METRICS) -> np.ndarray:
    """An uninitialised ``(n_paths, n_metrics, months + 1)`` array for :func:`run_chunk`
    (``n_metrics``: the metrics it keeps, default all of ``METRICS``).

    With ``touch`` its pages are touched here, one write per 4 KiB page on
    the calling thread. That was worth it with the former ``prange`` engine
    in a fresh process (the CLI: 10k paths 0.15-0.31 s against 0.16 s
    touched). With the engine's own threads (:mod:`._threads`) the two ways
    measure the same in a fresh process (10k paths: 0.11-0.19 s untouched,
    0.12-0.13 s touched), and untouched is faster in a long-lived one: the
    serial touch of 100k paths' 1.3 GB costs 0.12-0.16 s on one core while
    the other idles (``simulate()`` of 100k paths 1.03 s untouched, 1.22 s
    touched, against 1.01 s for one engine call; benchmarks/RESULTS.md).
    :func:`simulator.simulate` takes its trajectories untouched and its
    reused statistics buffer touched.
    """
    out = np.empty((n_paths, n_metrics, months + 1), dtype=np.float64)
    if touch and out.size:
        out.reshape(-1)[::_PAGE_FLOATS] = 0.0
    return out


def run_chunk(
    params: np.ndarray, seeds: np.ndarray, run: RunInputs, out: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate a block of paths.

    Parameters
    ----------
    params : ndarray
        Structured array of per-path parameters (``simulator.model.sampling.param_dtype()``).
    seeds : ndarray of uint64
        One month-level seed per path (``sampling.path_seeds``).
    run : RunInputs
        Run-level inputs (``sampling.prepare``).
    out : ndarray, optional
        C-contiguous float64 array ``(n_paths, len(METRICS), months + 1)`` to
        write the metrics into (e.g. a slice of a whole run's array, or a
        buffer reused from chunk to chunk, see :func:`new_output`); a new
        one by default.
    keep : array of int, optional
        Indices (into ``METRICS``) of the metrics to write, in this order: ``out``
        is then ``(n_paths, len(keep), months + 1)`` (default: every metric). First
        passages and insolvency months come whatever is kept: a run that reads
        only per-path outcomes keeps none.

    Returns
    -------
    metrics : ndarray, shape (n_paths, len(METRICS), months + 1)
        Path-major, so each path writes one contiguous block (``len(keep)``
        metrics with ``keep``).
    first_passage : ndarray of int64, shape (n_paths,)
        First month at which MRR has been at or above the threshold for
        ``sustain_months`` months running, or -1.
    insolvency_month : ndarray of int64, shape (n_paths,)
        Month in which cash fell below minus the credit limit (the path
        closes down: no MRR or revenue from then on), or -1.
    """
    params = np.ascontiguousarray(params)
    fields = params.dtype.fields
    if not fields or any(f[0] != np.float64 for f in fields.values()):
        raise TypeError("params must be a structured array of float64 fields "
                        "(simulator.model.sampling.param_dtype())")
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64)
    if seeds.shape != params.shape or params.ndim != 1:
        raise ValueError("params and seeds must be 1-D arrays of the same length")
    if run.months < 1 or run.sustain_months < 1:
        raise ValueError("months and sustain_months must be at least 1")
    n = params.size
    if keep is None:
        keep = _ALL_METRICS
    keep = np.ascontiguousarray(keep, dtype=np.int64)
    if keep.ndim != 1 or (keep.size and (keep.min() < 0 or keep.max() >= N_METRICS)):
        raise ValueError(f"keep must be a 1-D array of metric indices in 0..{N_METRICS - 1}")
    shape = (n, keep.size, run.months + 1)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    elif (not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != np.float64
          or not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError(f"out must be a writeable C-contiguous float64 array of shape {shape}")
    first_passage = np.empty(n, dtype=np.int64)
    insolvency_month = np.empty(n, dtype=np.int64)
    if n:
        seats_ppf = np.ascontiguousarray(run.seats_ppf, dtype=np.float64)
        size_ppf = np.ascontiguousarray(run.project_size_ppf, dtype=np.float64)
        book = np.ascontiguousarray(run.book, dtype=np.float64).reshape(-1, 3)

        def block(lo: int, hi: int) -> None:
            run_paths(params[lo:hi], seeds[lo:hi], run.months, run.threshold_mrr,
                      run.sustain_months, run.churn_at_renewal, run.alignment_enabled,
                      seats_ppf, size_ppf, book, keep, out[lo:hi], first_passage[lo:hi],
                      insolvency_month[lo:hi])

        run_blocks(block, n)
    return out, first_passage, insolvency_month
