"""The local executor: a plan's chunks one after the other on this machine's engine
threads, and an ordered map of tasks here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..results import SimulationResult
from .collect import Collector
from .plan import Plan
from .progress import progress_callback

__all__ = ["execute", "map_tasks"]


def execute(plan: Plan, progress: Any = None
            ) -> tuple[SimulationResult, dict[tuple[str, int], np.ndarray]]:
    """Run ``plan`` here: its result and asked-for columns."""
    collector = Collector(plan, buffer_paths=plan.chunk_size)
    seeds = plan.seeds(0, plan.n_paths)
    report = progress_callback(progress, plan.n_paths)
    try:
        for start, stop in plan.ranges():
            out, fp, im, params = plan.simulate(start, stop, out=collector.target(start, stop),
                                                seeds=seeds[start:stop])
            collector.place(start, stop, out, fp, im, params)
            if plan.folds:
                collector.fold(out)
            report(stop)
    finally:
        report(None)
    return collector.result()


def map_tasks(func: Callable[..., Any], tasks: Sequence[tuple[int, tuple[Any, ...]]],
              done: Callable[[int, Any], None], shared: Any = None) -> None:
    """``done(k, func(*args))`` for each task ``(k, args)``, in order (``shared``, if
    given, is the first argument)."""
    for k, args in tasks:
        done(k, func(*args) if shared is None else func(shared, *args))
