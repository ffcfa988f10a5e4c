"""Loading (compiling, the first time) the engine before a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..engine import column_quantiles
from ..model.metrics import METRICS
from ..model.sampling import draw_parameters, path_seeds, prepare
from ..results.monthly_stats import MonthlyStats
from .plan import run_paths

__all__ = ["engine_ready"]


def engine_ready(notice: Callable[[], None] | None = None, *, statistics: bool = False,
                 delay: float = 0.5) -> float:
    """Load the compiled engine, compiling it if it is not cached yet.

    The kernels are compiled on their first use after an install or an
    update (about 7 s on the project's 2-core VM) and cached on disk
    (numba's ``cache=True``); later processes load them in ~0.15 s.
    ``make install`` calls this once, so that the first run is a warm one.
    The kernel of the kept trajectories' quantiles
    (:func:`simulator.engine.column_quantiles`) is loaded with the engine.

    Parameters
    ----------
    notice : callable, optional
        Called (once, from a timer thread) if loading takes longer than
        ``delay`` seconds, i.e. when the engine is being compiled: the
        command line prints a message with it.
    statistics : bool, optional
        Also load (compile) the statistics fold of runs past the trajectory
        limit; not needed by smaller runs.
    delay : float, optional
        Seconds before ``notice`` is called.

    Returns
    -------
    float
        Seconds it took.
    """
    from ..config import config_from_dict

    start = time.perf_counter()
    timer = threading.Timer(delay, notice) if notice is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        config = config_from_dict({"simulation": {"months": 2}})
        run = prepare(config)
        out, _, _ = run_paths(draw_parameters(config, 0, 0, 1), path_seeds(0, 0, 1), run)
        column_quantiles(out[:, 0], (0.5,))  # the kept trajectories' quantiles
        if statistics:
            MonthlyStats.from_first_chunk(METRICS, out)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - start
