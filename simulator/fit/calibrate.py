"""The business as a whole: calibrate what only the model links, then check that the
fitted model, started from the book as it was, replays the history.

The per-column estimates (:mod:`.estimate`) give what the data say directly. Three
things only the model links, and they are calibrated jointly here by simulated
moments (the engine run from the book as it was ``months`` months before the as-of
date, common random numbers, :func:`scipy.optimize.brentq` for each root):

* ``tickets.proactive_hours_per_endpoint``: the technicians' work outside
  tickets, so that the model's mean utilization over the replay equals the
  history's: hours logged (tickets and time entries) over the team's capacity
  when there are time entries, else the middle of the band in which an owner
  neither hires nor lets go (the history's headcount held there);
* ``sales.meetings_per_selling_hour``: so that the replay holds as many first
  meetings as the history did, in the owner's selling hours as the model
  accounts for his month (escalations, management, account care, overflow);
* ``churn.annual_rate``: the observed hazard already includes the account care
  the owner gave; the model takes it off again (``visibility_reduction``), so
  the base rate is raised by the replay's mean care factor.

Each keeps its distribution: the meeting rate the relative spread of the meeting
count's posterior, the churn rate its Gamma posterior rescaled.
:func:`replay_check` then runs the fitted model over the replay months and sets,
month by month, the history beside the model's median and 90% band: meetings,
new clients, cancellations, clients, managed MRR, tickets, technicians.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, stats

from ..formatting import printable
from .estimate import FitResult, Fitted, beta_of, interval90_of, lognormal_of
from .history import (
    DAYS_PER_MONTH,
    active_clients,
    add_months,
    months_between,
    technicians_by_month,
)
from .records import Client, Deal, Ticket, WorkEntry

__all__ = ["REPLAY_SERIES", "Replay", "calibrate", "replay_check", "simulate_fitted"]

REPLAY_SERIES: dict[str, str] = {
    "meetings": "first meetings",
    "new_customers": "new clients",
    "churned": "cancellations",
    "customers": "clients",
    "mrr_managed": "managed MRR ($/month)",
    "tickets": "tickets",
    "techs": "technicians",
}
"""Series of the replay check: engine metric -> words."""

CALIBRATION_PATHS = 300
PLAUSIBLE_OWNER_HOURS = 260.0
"""Above this an owner's month is a warning (MODEL.md: about 200 hours)."""
CALIBRATION_SEED = 20261206


@dataclass
class Replay:
    """The history against the fitted model's replay of it."""

    start: datetime.date
    months: list[str]
    actual: dict[str, list[float | None]]
    q05: dict[str, list[float]]
    q50: dict[str, list[float]]
    q95: dict[str, list[float]]
    totals: dict[str, dict[str, Any]]
    disagreements: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "months": self.months,
                "actual": self.actual, "q05": self.q05, "q50": self.q50, "q95": self.q95,
                "totals": self.totals, "disagreements": self.disagreements}

    def lines(self) -> list[str]:
        """One line per series: the history's total (or last month) against the model's."""
        out = []
        for name, t in self.totals.items():
            out.append(f"  {REPLAY_SERIES[name]:<22} {t['actual']:>12,.1f}   "
                       f"{t['q50']:>12,.1f}   [{t['q05']:,.1f} to {t['q95']:,.1f}]")
        return out


def _actual_series(clients: Sequence[Client], deals: Sequence[Deal],
                   tickets: Sequence[Ticket], work: Sequence[WorkEntry], owner: str | None,
                   start: datetime.date, months: int) -> dict[str, np.ndarray]:
    """What happened in each month after ``start`` (its first day)."""
    out: dict[str, list[float]] = {k: [] for k in REPLAY_SERIES}
    staff = technicians_by_month(tickets, work, owner)
    staff_of = dict(zip(staff["months"], staff["techs"], strict=False))
    edges = [add_months(start, t).toordinal() for t in range(months + 1)]

    def per_month(days: Sequence[datetime.date]) -> list[float]:
        ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
        return np.histogram(ordinals, bins=edges)[0].astype(float).tolist() if \
            ordinals.size else [0.0] * months
    out["meetings"] = per_month([d.date for d in deals])
    out["new_customers"] = per_month([c.start for c in clients])
    out["churned"] = per_month([c.end for c in clients if c.end is not None])
    out["tickets"] = per_month([k.created for k in tickets])
    for t in range(months):
        first = add_months(start, t)
        end = add_months(start, t + 1) - datetime.timedelta(days=1)
        active = active_clients(clients, end)
        out["customers"].append(len(active))
        out["mrr_managed"].append(sum(c.fee_at(end) for c in active))
        out["techs"].append(staff_of.get(first, float("nan")))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _start_state(result: FitResult, records: Mapping[str, Any], start: datetime.date
                 ) -> dict[str, Any]:
    """``[start]`` of the business on the day before ``start``: its book then, its
    technicians then."""
    day = start - datetime.timedelta(days=1)
    clients = active_clients(records.get("clients") or (), day)
    book = [{"client": printable(c.name), "seats": c.seats_at(day), "monthly_fee": c.fee_at(day),
             "contract_month": months_between(c.start, day)} for c in clients]
    state: dict[str, Any] = {"book": book} if book else {"customers": 0}
    staff = technicians_by_month(records.get("tickets") or (), records.get("work") or (),
                                 records.get("owner"))
    if staff["months"]:
        month = day.replace(day=1)
        earlier = [n for m, n in zip(staff["months"], staff["techs"], strict=False)
                   if m <= month]
        state["techs"] = earlier[-1] if earlier else staff["techs"][0]
    return state


def simulate_fitted(data: Mapping[str, Any], months: int, n_paths: int, seed: int, *,
                    source: str, start: datetime.date | None = None,
                    state: Mapping[str, Any] | None = None,
                    changes: Mapping[str, Any] | None = None,
                    overrides: Mapping[str, Any] | None = None) -> Any:
    """Simulate a fitted business for ``months`` months, every path kept: the one way the
    fit runs the model (the calibration's replays, the replay check, the backtest).

    Parameters
    ----------
    data : mapping
        The config's tables (the fitted config, over a base).
    start : date, optional
        The first day simulated (a replay: ``simulation.start_date``, the break
        counted from one month at the threshold); default the config's.
    state : mapping, optional
        The business at ``start`` (``start.book``, ``customers``, ``techs``),
        replacing the config's.
    changes : mapping, optional
        Dotted keys set before validation (the calibration's trial values).
    overrides : mapping, optional
        Keys held by the user (``--set``), applied as overrides.
    """
    from ..api import simulate
    from ..config import config_from_dict

    data = _merge(data, {})
    if state is not None:
        data["start"] = {**{k: v for k, v in data.get("start", {}).items()
                            if k not in ("book", "customers", "techs")}, **state}
    data["simulation"] = {**data.get("simulation", {}), "months": months}
    if start is not None:
        data["simulation"].update(start_date=start, sustain_months=1)
    for key, value in (changes or {}).items():
        section, name = key.split(".", 1)
        data.setdefault(section, {})[name] = value
    config = config_from_dict(data, source=source, overrides=dict(overrides or {}))
    return simulate(config, n_paths=n_paths, seed=seed, progress=False, keep_paths=True)


def _run(config_data: dict[str, Any], state: Mapping[str, Any], start: datetime.date,
         months: int, n_paths: int, seed: int, base: Mapping[str, Any] | None,
         overrides: Mapping[str, Any] | None, changes: Mapping[str, Any] | None = None):
    return simulate_fitted(_merge(base or {}, config_data), months, n_paths, seed,
                           source="replay", start=start, state=state, changes=changes,
                           overrides=overrides)


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for section, table in top.items():
        if isinstance(table, Mapping):
            out[section] = {**out.get(section, {}), **table}
        else:
            out[section] = table
    return out


def replay_span(as_of: datetime.date, months: int) -> tuple[datetime.date, int]:
    """The replay's first day and its months: the ``months`` whole months up to the
    as-of date (its own month when it is the month's last day)."""
    end = as_of.replace(day=1)
    if (as_of + datetime.timedelta(days=1)).day == 1:
        end = add_months(end, 1)
    return add_months(end, -months), months


def replay_months(result: FitResult, records: Mapping[str, Any], months: int = 24) -> int:
    """Months of the replay: ``months``, or fewer when the records are shorter (at least
    6 are needed before and 6 in it)."""
    first = result.curves.get("window_start")
    if first is None:
        return 0
    span = int((result.as_of - first).days / DAYS_PER_MONTH)
    return max(0, min(months, span - 2))


def calibrate(result: FitResult, records: Mapping[str, Any], *,
              base: Mapping[str, Any] | None = None,
              overrides: Mapping[str, Any] | None = None,
              months: int = 24, n_paths: int = CALIBRATION_PATHS,
              seed: int = CALIBRATION_SEED, horizon: int = 24) -> FitResult:
    """Calibrate proactive hours, the meeting rate and the churn base rate jointly (see
    the module docstring); keys in ``overrides`` are held as given. Returns the
    result with the calibrated values in place of the per-column ones."""
    from ..config import config_from_dict
    from .config_table import config_data as data_of

    n = replay_months(result, records, months)
    if n < 6:
        result.warnings.append("replay check: fewer than 7 months of records, nothing "
                               "calibrated against the history")
        return result
    held = set(overrides or {})
    start, replay_n = replay_span(result.as_of, n)
    state = _start_state(result, records, start)
    owner = records.get("owner")
    clients = records.get("clients") or []
    deals = records.get("deals") or []
    tickets = records.get("tickets") or []
    work = records.get("work") or []
    actual = _actual_series(clients, deals, tickets, work, owner, start, replay_n)
    defaults = config_from_dict(_merge(base or {}, {}), source="base")

    def value(key: str) -> float:
        v = defaults.get(key)
        return float(v.mean()) if hasattr(v, "mean") else float(v)

    fitted = {f.key: f for f in result.fitted}

    def simulate(changes: dict[str, Any]) -> Any:
        return _run(data_of(result), state, start, replay_n, n_paths, seed, base, overrides,
                    changes)

    changes: dict[str, Any] = {}
    notes: dict[str, str] = {}
    # 1. the technicians' work outside tickets: utilization as in the history
    if "tickets.proactive_hours_per_endpoint" not in held and "start.techs" in fitted \
            and tickets:
        target, how = _target_utilization(tickets, work, owner, actual, value)
        # the work the model asks of the technicians without proactive hours, month by
        # month; proactive hours fill the gap to the history's utilization (solved in
        # closed form: a root search would meet the collapse of overloaded paths)
        run = simulate({**changes, "tickets.proactive_hours_per_endpoint": 0.0})
        tech_hours = value("staff.tech_hours_per_month")
        techs_hist = float(np.nanmean(actual["techs"])) if np.isfinite(
            actual["techs"]).any() else float(np.mean(run["techs"][:, 1:]))
        work_model = float(np.mean(run["utilization"][:, 1:] * run["techs"][:, 1:]))
        endpoints = float(np.mean(run["seats"][:, 1:])) * value(
            "customers.endpoints_per_seat")
        gap = target * techs_hist - work_model  # in technicians' months
        hours = max(0.0, gap * tech_hours / endpoints) if endpoints > 0 else 0.0
        if gap < -0.1 * techs_hist:
            result.warnings.append(f"replay: the tickets and projects alone ask "
                                   f"{work_model / techs_hist:.0%} of the history's "
                                   f"{techs_hist:.1f} technicians against {target:.0%} "
                                   f"({how}); no proactive hours left")
        changes["tickets.proactive_hours_per_endpoint"] = hours
        notes["tickets.proactive_hours_per_endpoint"] = (
            f"calibrated so that the replay of {replay_n} months keeps the technicians "
            f"{100 * target:.0f}% busy, as in the history ({how})")
    # 2. the owner's month: long enough that the hours he means to sell are left to him
    # at the end of the replay (the history sold through its last months) and, when the
    # history's meetings did not fall while its book grew, through the forecast's
    # horizon too (the data show no squeeze); then the meeting rate: the history's
    # first meetings in the model's selling hours
    if "staff.owner_hours_per_month" not in held and deals:
        intended = value("staff.owner_sales_hours_per_month")
        half = replay_n // 2
        first_half = int(actual["meetings"][:half].sum())
        second_half = int(actual["meetings"][half:2 * half].sum())
        falling = first_half + second_half > 0 and stats.binomtest(
            second_half, first_half + second_half, 0.5, alternative="less").pvalue < 0.05
        grew = actual["customers"][-1] > actual["customers"][0]
        extra = 0 if falling or not grew else horizon
        rate_then = float(actual["meetings"].sum()) / (intended * replay_n) if intended else 0.0

        def gap_sell(hours: float) -> float:
            run = _run(data_of(result), state, start, replay_n + extra, n_paths, seed, base,
                       overrides, {**changes, "staff.owner_hours_per_month": hours,
                                   "sales.meetings_per_selling_hour": min(rate_then, 1.0)})
            # the median path: a path gone insolvent sells nothing, whatever his month
            return float(np.median(run["owner_sales_hours"][:, -6:].mean(axis=1))) \
                - 0.95 * intended
        low_hours = value("staff.owner_hours_per_month")
        if gap_sell(low_hours) < 0:
            owner_hours = float(optimize.brentq(gap_sell, low_hours, 744.0, xtol=0.5)) \
                if gap_sell(744.0) > 0 else 744.0
            changes["staff.owner_hours_per_month"] = owner_hours
            notes["staff.owner_hours_per_month"] = (
                f"calibrated: the owner's month that leaves him the {intended:g} hours he "
                f"means to sell (staff.owner_sales_hours_per_month) beside his escalations, "
                f"management and account care at the end of the replay"
                + (f" and {extra} months on (the history's first meetings did not fall as "
                   f"its book grew: {first_half} then {second_half})" if extra else "")
                + f" (the default {low_hours:.0f} hours would not)")
            if owner_hours > PLAUSIBLE_OWNER_HOURS:
                result.warnings.append(
                    f"replay: the owner would need {owner_hours:.0f} hours a month to keep "
                    f"{intended:g} selling hours beside his escalations, management and "
                    "account care in the model; check staff.escalation_share, "
                    "customers.account_hours_per_month, staff.management_hours_per_employee "
                    "and staff.owner_sales_hours_per_month")
    if "sales.meetings_per_selling_hour" not in held and deals:
        observed = float(actual["meetings"].sum())
        if observed > 0:
            def gap_meet(rate: float) -> float:
                run = simulate({**changes, "sales.meetings_per_selling_hour": rate})
                return float(run["meetings"][:, 1:].sum(axis=1).mean()) - observed
            if gap_meet(1.0) > 0:
                rate = float(optimize.brentq(gap_meet, 1e-4, 1.0, xtol=1e-4))
            else:
                rate = 1.0
                result.warnings.append(
                    f"replay: the model's owner has too few selling hours for the history's "
                    f"{observed:.0f} first meetings in {replay_n} months even at 1 meeting an "
                    "hour (check staff.owner_hours_per_month)")
            changes["sales.meetings_per_selling_hour"] = rate
            total = len(deals)
            notes["sales.meetings_per_selling_hour"] = (
                f"calibrated: the replay of {replay_n} months holds the history's "
                f"{observed:.0f} first meetings in the model's owner selling hours "
                f"(spread of {total} meetings)")
    # 3. churn's base rate: the model's hazard is the base rate times its account-care
    # and service-failure factors; the history's hazard already had them
    if "churn.annual_rate" not in held and "churn.annual_rate" in fitted:
        rate = fitted["churn.annual_rate"].estimate
        base_rate = rate
        for _ in range(2):
            run = simulate({**changes, "churn.annual_rate": base_rate})
            h0 = 1 - (1 - base_rate) ** (1 / 12)
            exposed = float(run["customers"][:, :-1].sum()) * h0
            factor = float(run["churned"][:, 1:].sum()) / exposed if exposed > 0 else 1.0
            if not 0.2 < factor < 5:
                break
            hazard = -math.log1p(-rate) / factor
            base_rate = 1 - math.exp(-hazard)
        if 0.2 < factor < 5:
            changes["churn.annual_rate"] = factor
            notes["churn.annual_rate"] = (
                f"; base rate {100 * base_rate:.1f}%: in the replay the model's account care "
                f"and service failures multiply it by {factor:.2f} "
                "(churn.visibility_reduction, churn.overload_sensitivity)")
    return _apply(result, changes, notes, deals)


def _target_utilization(tickets: Sequence[Ticket], work: Sequence[WorkEntry],
                        owner: str | None, actual: Mapping[str, np.ndarray], value: Any
                        ) -> tuple[float, str]:
    hire, layoff = value("staff.hire_above"), value("staff.layoff_below")
    middle = (hire + layoff) / 2
    if not work:
        return middle, (f"the middle of the {100 * layoff:.0f}-{100 * hire:.0f}% band in "
                        "which the headcount holds; no time entries")
    months = sorted({t.created.replace(day=1) for t in tickets} |
                    {w.date.replace(day=1) for w in work})[-12:]
    first = months[0]
    hours = sum(t.hours for t in tickets if t.resource != owner and t.created >= first)
    hours += sum(w.hours for w in work if w.resource != owner and w.date >= first)
    techs = np.nanmean(actual["techs"][-12:])
    capacity = techs * value("staff.tech_hours_per_month") * len(months)
    if not capacity > 0:
        return middle, "no technicians in the time entries"
    util = min(max(hours / capacity, 0.2), 1.2)
    return util, (f"{hours:,.0f} hours logged by {techs:.1f} technicians in the last "
                  f"{len(months)} months")


def _apply(result: FitResult, changes: Mapping[str, Any], notes: Mapping[str, str],
           deals: Sequence[Deal]) -> FitResult:
    fitted = list(result.fitted)
    by_key = {f.key: k for k, f in enumerate(fitted)}
    source = "replay"
    hours = changes.get("tickets.proactive_hours_per_endpoint")
    if hours is not None:
        sd = max(0.05, 0.15 * hours)
        fitted_value = {"dist": "normal", "mean": hours, "sd": sd, "low": 0.0}
        item = Fitted("tickets.proactive_hours_per_endpoint", fitted_value, hours,
                      (max(0.0, hours - 1.645 * sd), hours + 1.645 * sd), 0, source,
                      notes["tickets.proactive_hours_per_endpoint"])
        _put(fitted, by_key, item)
    owner_hours = changes.get("staff.owner_hours_per_month")
    if owner_hours is not None:
        table = {"dist": "triangular", "low": max(0.0, owner_hours - 40),
                 "mode": owner_hours, "high": min(744.0, owner_hours + 40)}
        _put(fitted, by_key, Fitted("staff.owner_hours_per_month", table, owner_hours,
                                    interval90_of(table), 0, source,
                                    notes["staff.owner_hours_per_month"]))
    rate = changes.get("sales.meetings_per_selling_hour")
    if rate is not None:
        count = len(deals)
        rel = 1 / math.sqrt(count + 0.5)
        table = lognormal_of(rate, rate * rel)
        item = Fitted("sales.meetings_per_selling_hour", table, rate, interval90_of(table), count,
                      source, notes["sales.meetings_per_selling_hour"])
        _put(fitted, by_key, item)
    factor = changes.get("churn.annual_rate")
    if factor is not None:
        old = fitted[by_key["churn.annual_rate"]]
        mean, sd = old.value["mean"], old.value["sd"]
        hazard = -math.log1p(-mean)
        new_mean = 1 - math.exp(-hazard / factor)
        new_sd = sd * (1 - new_mean) / ((1 - mean) * factor)
        table = beta_of(new_mean, new_sd)
        _put(fitted, by_key, replace(old, value=table, estimate=new_mean,
                                     interval90=interval90_of(table),
                                     comment=old.comment + notes["churn.annual_rate"]))
    return replace(result, fitted=fitted)


def _put(fitted: list[Fitted], by_key: dict[str, int], item: Fitted) -> None:
    if item.key in by_key:
        fitted[by_key[item.key]] = item
    else:
        by_key[item.key] = len(fitted)
        fitted.append(item)


def replay_check(result: FitResult, records: Mapping[str, Any], *,
                 base: Mapping[str, Any] | None = None,
                 overrides: Mapping[str, Any] | None = None, months: int = 24,
                 n_paths: int = 500, seed: int = CALIBRATION_SEED + 1) -> Replay | None:
    """Run the fitted model from the book as it was ``months`` months ago and set the
    history beside it; a disagreement is a series whose total over the replay (or, for
    clients, MRR and technicians, its last month) falls outside the model's 90% band."""
    from .config_table import config_data as data_of

    n = replay_months(result, records, months)
    if n < 6:
        return None
    start, replay_n = replay_span(result.as_of, n)
    state = _start_state(result, records, start)
    run = _run(data_of(result), state, start, replay_n, n_paths, seed, base, overrides)
    actual = _actual_series(records.get("clients") or [], records.get("deals") or [],
                            records.get("tickets") or [], records.get("work") or [],
                            records.get("owner"), start, replay_n)
    has = {"meetings": bool(records.get("deals")), "tickets": bool(records.get("tickets")),
           "techs": bool(records.get("tickets") or records.get("work"))}
    q05, q50, q95, act, totals = {}, {}, {}, {}, {}
    disagreements = []
    for name in REPLAY_SERIES:
        if not has.get(name, True):
            continue
        sims = np.asarray(run[name][:, 1:], dtype=np.float64)
        a = actual[name]
        q = np.quantile(sims, [0.05, 0.5, 0.95], axis=0)
        q05[name], q50[name], q95[name] = (q[0].tolist(), q[1].tolist(), q[2].tolist())
        act[name] = [None if not math.isfinite(x) else float(x) for x in a]
        stock = name in ("customers", "mrr_managed", "techs")
        if stock:
            total_sim, total_act = sims[:, -1], a[-1]
        else:
            total_sim, total_act = sims.sum(axis=1), float(np.nansum(a))
        tq = np.quantile(total_sim, [0.05, 0.5, 0.95])
        totals[name] = {"actual": float(total_act), "q05": float(tq[0]), "q50": float(tq[1]),
                        "q95": float(tq[2]), "what": "last month" if stock else "total"}
        if math.isfinite(total_act) and not tq[0] <= total_act <= tq[2]:
            what = f"in {add_months(start, replay_n - 1).isoformat()[:7]}" if stock else \
                f"over the {replay_n} months"
            disagreements.append(
                f"replay: the history's {REPLAY_SERIES[name]} {what} ({total_act:,.1f}) is "
                f"outside the fitted model's 90% band ({tq[0]:,.1f} to {tq[2]:,.1f}): the "
                "model does not hold this part of your past")
    dead = float(np.mean(np.asarray(run["mrr_managed"])[:, -1] <= 0))
    if dead > 0.05 and actual["mrr_managed"][-1] > 0:
        disagreements.append(
            f"replay: {dead:.0%} of the model's replays end with no clients (cash ran out: "
            "the model's costs, from the calibrated defaults, leave your business thinner "
            "margins than it had); set start.cash and the cost keys with --set or --config")
    months_ = [add_months(start, t).isoformat()[:7] for t in range(replay_n)]
    return Replay(start, months_, act, q05, q50, q95, totals, disagreements)
