"""Plain records the engine reads: the per-path parameter dtype and the run's inputs.

No pydantic and no config here: :mod:`simulator.model.sampling` builds these from a
validated config, :mod:`simulator.engine` and :mod:`simulator.model.reference`
read them. Keeping them apart lets the compiled engine be imported (and
tested) without the config layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RunInputs", "field_name", "param_dtype"]


def field_name(key: str) -> str:
    """Structured-array field of a dotted key: ``"sales.reps"`` -> ``"sales_reps"``."""
    return key.replace(".", "_")


def param_dtype(keys: Iterable[str]) -> np.dtype:
    """Structured dtype with one float64 field per dotted key, in the given order."""
    return np.dtype([(field_name(k), np.float64) for k in keys])


@dataclass(frozen=True)
class RunInputs:
    """Everything the engine needs besides the per-path parameters.

    Attributes
    ----------
    months : int
        Horizon H; trajectories have ``months + 1`` entries.
    threshold_mrr : float
        MRR threshold [$/month] for the first passage.
    sustain_months : int
        Consecutive months at or above the threshold that count.
    churn_at_renewal : bool
        ``churn.mode == "renewal"``.
    alignment_enabled : bool
        ``alignment.enabled``.
    seats_ppf, project_size_ppf : ndarray
        Inverse-CDF tables of ``customers.seats`` and ``projects.size``.
    book : ndarray, shape (clients, 3)
        Today's book exactly (``start.book``): each client's seats, price per
        seat and months into its contract; empty when the book is drawn.
    """

    months: int
    threshold_mrr: float
    sustain_months: int
    churn_at_renewal: bool
    alignment_enabled: bool
    seats_ppf: np.ndarray
    project_size_ppf: np.ndarray
    book: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
