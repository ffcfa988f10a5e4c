"""The owner's scoreboard, path by path: adjusted EBITDA, the exit multiple, enterprise value
and the owner's value (docs/model.md, "The owner's value").

Everything here is read off a run's trajectories and per-path parameters; nothing is
simulated. :func:`path_values` is the one place per-path scalars at the horizon are
extracted (the lever scan and ``compare`` pair them; ``summary.json`` gives their p10 /
p50 / p90 and the CVaR of the worst 10%).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.schema import Config, Value
from ..model.metrics import REVENUE_METRICS

if TYPE_CHECKING:
    from .result import SimulationResult

__all__ = ["PATH_VALUES", "VALUE_METRICS", "cvar", "exit_multiple", "largest_client_share",
           "path_values", "path_values_of", "value_at_horizon"]


VALUE_METRICS: tuple[str, ...] = ("cash", "pretax_profit", *REVENUE_METRICS, "customers",
                                   "churned")
"""The metrics :func:`path_values_of` reads (every month of each)."""

PATH_VALUES: tuple[str, ...] = ("cash", "cumulative_profit", "adjusted_ebitda",
                                "recurring_share", "annual_churn", "top_client_share",
                                "exit_multiple", "enterprise_value", "owner_value")
"""The per-path values at the horizon :func:`path_values_of` gives (a run can keep any of
them chunk by chunk, as the column ``(name, -1)``: :mod:`simulator.runner.plan`)."""


def _step(table: tuple[tuple[float, float], ...], x: np.ndarray) -> np.ndarray:
    """The value of the last row whose threshold ``x`` reaches (a step function; the
    first row's below its threshold too)."""
    edges = np.array([edge for edge, _ in table])
    values = np.array([value for _, value in table])
    return values[np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(values) - 1)]


def exit_multiple(adjusted_ebitda: np.ndarray, recurring_share: np.ndarray,
                  annual_churn: np.ndarray, top_client_share: np.ndarray,
                  factor: np.ndarray | float = 1.0, table: Value | None = None) -> np.ndarray:
    """The multiple of adjusted EBITDA a buyer pays, per path.

    ``(size band + recurring + churn + concentration turns) x factor``, clipped to
    ``[exit_multiple_min, exit_multiple_max]`` of ``table`` (a config's ``[value]``
    section; default the schema's).
    """
    t = Value() if table is None else table
    turns = (_step(t.exit_size_bands, np.asarray(adjusted_ebitda, dtype=np.float64))
             + _step(t.exit_recurring_turns, np.asarray(recurring_share, dtype=np.float64))
             + _step(t.exit_churn_turns, np.asarray(annual_churn, dtype=np.float64))
             + _step(t.exit_concentration_turns,
                     np.asarray(top_client_share, dtype=np.float64)))
    return np.clip(turns * factor, t.exit_multiple_min, t.exit_multiple_max)


def largest_client_share(customers: np.ndarray, seats: Any) -> np.ndarray:
    """The expected largest client's share of the book for ``customers`` clients whose
    seats follow ``seats`` (a number or a distribution): its ``n / (n + 1)`` quantile
    over ``n`` times the mean (1 with one client, 0 with none).

    The engine keeps no per-client trajectories; this is the concentration of a book
    of that many typical clients.
    """
    n = np.asarray(customers, dtype=np.float64)
    if not hasattr(seats, "frozen"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, 1.0 / np.maximum(n, 1.0), 0.0)
    dist = seats.frozen()
    largest = dist.ppf(n / (n + 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, largest / (np.maximum(n, 1.0) * dist.mean()), 0.0)
    return np.clip(share, 0.0, 1.0)


def path_values(result: SimulationResult) -> dict[str, np.ndarray] | None:
    """Every path's scalars at the horizon (``None`` for a run that kept no trajectories).

    Returns
    -------
    dict of str to ndarray, shape (n_paths,)
        ``cash`` [$] at the horizon; ``cumulative_profit`` [$], pretax profit of months
        1..H; ``adjusted_ebitda`` [$/year], the last 12 months' pretax profit plus the
        interest paid, less the owner's pay the business could not afford (the owner
        normalised to ``finance.owner_pay_per_month``), annualised when the horizon is
        shorter; ``recurring_share``, managed and cloud revenue over all revenue of
        those months; ``annual_churn``, clients lost over the mean book; ``top_client_share``;
        ``exit_multiple``; ``enterprise_value`` [$], the multiple times positive adjusted
        EBITDA (0 after insolvency); ``owner_value`` [$], the owner's pay taken month by
        month plus the sale (enterprise value plus net cash, at least 0; nothing after
        insolvency), discounted at ``finance.discount_rate`` to month 0.
    """
    if not result.paths_kept or result.params is None:
        return None
    memo = result._quantile_memo  # the result's cache of summaries of its trajectories
    if "path_values" not in memo:
        insolvency = np.asarray(result.insolvency_month)  # set by the result's checks
        memo["path_values"] = path_values_of(result, result.params, insolvency, result.config)
    return memo["path_values"]


def path_values_of(metrics: Any, params: np.ndarray, insolvency_month: np.ndarray,
                   config: Config) -> dict[str, np.ndarray]:
    """:func:`path_values` of any block of paths: ``metrics[name]`` gives a metric's
    trajectories ``(paths, months + 1)`` (a result, or a dict of a chunk's), ``params``
    their per-path parameters, ``config`` the run's (its ``customers.seats`` and
    ``[value]`` exit-multiple table). The one place
    per-path values at the horizon are computed (a run that keeps no trajectories can
    call it chunk by chunk)."""
    cash = np.asarray(metrics["cash"], dtype=np.float64)
    H = cash.shape[1] - 1
    window = slice(max(1, H - 11), H + 1)
    span = window.stop - window.start
    before = cash[:, window.start - 1:H]  # the cash each month of the window starts with
    profit = np.asarray(metrics["pretax_profit"], dtype=np.float64)
    interest = params["finance_credit_annual_rate"][:, None] / 12.0 * np.maximum(-before, 0.0)
    pay = params["finance_owner_pay_per_month"][:, None]
    shortfall = pay - np.minimum(pay, np.maximum(before, 0.0))
    adjusted = (profit[:, window].sum(axis=1) + interest.sum(axis=1)
                - shortfall.sum(axis=1)) * (12.0 / span)
    revenue = sum(np.asarray(metrics[m], dtype=np.float64)[:, window].sum(axis=1)
                  for m in REVENUE_METRICS)
    recurring = (np.asarray(metrics["revenue_managed"])[:, window].sum(axis=1)
                 + np.asarray(metrics["revenue_cloud"])[:, window].sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        recurring_share = np.where(revenue > 0, recurring / revenue, 0.0)
        book = np.asarray(metrics["customers"], dtype=np.float64)[:, window].mean(axis=1)
        lost = np.asarray(metrics["churned"], dtype=np.float64)[:, window].sum(axis=1)
        annual_churn = np.where(book > 0, lost / book * (12.0 / span), 0.0)
    customers = np.asarray(metrics["customers"], dtype=np.float64)[:, H]
    top = largest_client_share(customers, config.customers.seats)
    multiple = exit_multiple(adjusted, recurring_share, annual_churn, top,
                             params["finance_exit_multiple_factor"], config.value)
    solvent = np.asarray(insolvency_month) < 0
    enterprise = np.where(solvent, multiple * np.maximum(adjusted, 0.0), 0.0)
    sale = np.where(solvent, np.maximum(enterprise + cash[:, H], 0.0), 0.0)
    monthly = (1.0 + params["finance_discount_rate"]) ** (-1.0 / 12.0)
    months = np.arange(1, H + 1)
    discount = monthly[:, None] ** months[None, :]
    taken = np.minimum(pay, np.maximum(cash[:, :H], 0.0))  # pay of months 1..H
    owner = (taken * discount).sum(axis=1) + sale * discount[:, -1]
    return {
        "cash": cash[:, H].copy(),
        "cumulative_profit": profit[:, 1:].sum(axis=1),
        "adjusted_ebitda": adjusted,
        "recurring_share": recurring_share,
        "annual_churn": annual_churn,
        "top_client_share": top,
        "exit_multiple": multiple,
        "enterprise_value": enterprise,
        "owner_value": owner,
    }


def cvar(values: np.ndarray, share: float = 0.1) -> float:
    """The mean of the worst ``share`` of ``values`` (conditional value at risk; at least
    one value)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    k = max(1, int(np.ceil(share * x.size)))
    return float(x[:k].mean())


def value_at_horizon(result: SimulationResult) -> dict[str, Any]:
    """The ``at_horizon`` fields of the owner's scoreboard: adjusted EBITDA, enterprise
    value and owner value (p10 / p50 / p90) and the CVaR of the worst 10% of cash and of
    owner value; ``None`` for each when the run kept no trajectories."""
    values = path_values(result)
    out: dict[str, Any] = {}
    for name in ("adjusted_ebitda", "enterprise_value", "owner_value"):
        q = (None,) * 3 if values is None else np.quantile(values[name], (0.1, 0.5, 0.9))
        out.update({f"{name}_p{p}": None if v is None else float(v)
                    for p, v in zip((10, 50, 90), q, strict=True)})
    out["exit_multiple_p50"] = (None if values is None
                                else float(np.median(values["exit_multiple"])))
    out["cash_cvar10"] = None if values is None else cvar(values["cash"])
    out["owner_value_cvar10"] = None if values is None else cvar(values["owner_value"])
    return out
