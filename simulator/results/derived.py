"""Numbers read off a run for its reports and the explorer: the revenue mix against the
Service Leadership stages, the owner's month, the convergence trace. Computed here,
drawn in :mod:`simulator.report`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .result import SimulationResult

__all__ = ["OWNER_PARTS", "REVENUE_LINES", "SERVICE_LEADERSHIP_STAGES", "ServiceLeadershipStage",
           "convergence_rows", "owner_month", "revenue_mix"]


class ServiceLeadershipStage(NamedTuple):
    """A revenue mix and the pretax profit that goes with it (Service Leadership, seed 002).

    Shares are of total revenue: products, projects (and T&M), managed
    services (cloud commissions counted with managed services).
    """

    name: str
    products: float
    projects: float
    managed: float
    pretax_average: float
    pretax_best: str


SERVICE_LEADERSHIP_STAGES: tuple[ServiceLeadershipStage, ...] = (
    ServiceLeadershipStage("VAR", 0.50, 0.40, 0.10, 0.045, "13%"),
    ServiceLeadershipStage("Hybrid", 0.30, 0.40, 0.30, 0.078, "16.5%"),
    ServiceLeadershipStage("Mature MSP", 0.235, 0.235, 0.53, 0.11, "21-22%"),
)
"""Seed 002: 50/40/10 products/projects/MS -> 4.5% average pretax (best in class 13%);
30/40/30 -> 7.8% (16.5%); mature 22-25/22-25/rest (23.5/23.5/53 here) -> 11% (21-22%)."""


REVENUE_LINES = (("products", "revenue_products", "products"),
          ("projects", "revenue_projects", "projects and T&M"),
          ("managed", "revenue_managed", "managed services"),
          ("cloud", "revenue_cloud", "cloud commissions"))


def revenue_mix(result: SimulationResult) -> dict[str, np.ndarray]:
    """Share of each revenue line in the mean revenue of months 1..H.

    Returns
    -------
    dict of str to ndarray
        ``"products"``, ``"projects"``, ``"managed"``, ``"cloud"``: shares
        ``(months,)`` of months 1..H (month 0 has no revenue flows), from
        the mean across paths of each line (the mix of the average
        business); 0 where the mean revenue is 0.
    """
    means = {name: result.mean(metric)[1:] for name, metric, _ in REVENUE_LINES}
    total = sum(means.values())
    safe = np.where(total > 0, total, 1.0)
    return {name: np.where(total > 0, m / safe, 0.0) for name, m in means.items()}


OWNER_PARTS: tuple[tuple[str, str], ...] = (
    ("owner_escalation_hours", "escalated tickets"),
    ("owner_overflow_hours", "tickets the technicians could not take"),
    ("owner_management_hours", "managing staff"),
    ("owner_account_hours", "account care"),
    ("owner_sales_hours", "selling"),
)
"""The owner's hours in the order he pays them (selling gets what is left)."""


def owner_month(result: SimulationResult, month: int | None = None) -> dict[str, Any]:
    """The average owner's month: mean hours of each part by month, the mean hours he has,
    the mean meetings, and the share of his month each part takes at ``month``
    (default: 24, or the horizon when shorter)."""
    month = min(24, result.months) if month is None else month
    hours = {name: result.mean(name) for name, _ in OWNER_PARTS}
    owner_hours = _mean_value(result.config.staff.owner_hours_per_month)
    meetings = result.mean("meetings")
    return {
        "month": month,
        "hours": hours,
        "owner_hours": owner_hours,
        "share": {name: float(h[month]) / owner_hours if owner_hours > 0 else 0.0
                  for name, h in hours.items()},
        "meetings": meetings,
        # the owner's intended selling hours, and any salespeople at full speed
        "meetings_possible": _mean_value(result.config.sales.meetings_per_selling_hour)
        * _mean_value(result.config.staff.owner_sales_hours_per_month)
        + _mean_value(result.config.sales.reps)
        * _mean_value(result.config.sales.rep_meetings_per_month),
    }


def _mean_value(value: Any) -> float:
    return float(value.mean()) if hasattr(value, "mean") else float(value)


def convergence_rows(result: Any) -> list[dict[str, Any]]:
    """The result's convergence trace as ``[{"paths", "estimate", "half_width"}, ...]``.

    Entries may be mappings or objects with those attributes; a mapping's
    optional ``"tolerance"`` is kept (the target half-width, drawn as a
    line, as is a ``convergence_tolerance`` or ``tolerance`` attribute of
    the result). Empty
    when the result has no ``convergence`` attribute (or an empty one).
    """
    trace = getattr(result, "convergence", None) or []
    rows = []
    for entry in trace:
        def get(key: str, e: Any = entry) -> Any:
            return e[key] if isinstance(e, Mapping) else getattr(e, key)

        row = {"paths": int(get("paths")), "estimate": float(get("estimate")),
               "half_width": float(get("half_width"))}
        if isinstance(entry, Mapping) and entry.get("tolerance") is not None:
            row["tolerance"] = float(entry["tolerance"])
        rows.append(row)
    return rows
