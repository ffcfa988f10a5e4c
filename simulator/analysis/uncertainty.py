"""Two kinds of uncertainty in every answer: what we don't know about the business, and luck.

A run draws, for every path, one value of each uncertain input (the assumptions
nobody measured and the fitted parameters, :mod:`simulator.model.sampling`) and
then the month-to-month chance events (meetings, churn, tickets). A headline
such as P(break by the horizon) mixes both. :func:`uncertainty_split` separates
them from the run itself, without running anything more:

- the **Monte Carlo interval** (luck and the finite number of paths): the 95%
  interval of the headline as estimated from these paths (Wilson for a
  probability, order statistics for a median);
- the **plausible range** (what you haven't measured): how the headline of *one*
  business varies across the businesses the inputs allow. Each path's draws are
  standardized and the path's outcome regressed on them: a logistic regression
  for a yes/no outcome (broke the threshold, ran out of cash), least squares for
  an amount (MRR, cash at the horizon). A path's fitted value is the headline of
  the business it drew (its chance of breaking, or its median MRR); the range is
  their 10th to 90th percentile: 8 in 10 plausible businesses lie inside it.
  The fitted values' spread is corrected for the regression's own estimation
  noise (their variance less the trace of the coefficients' covariance times
  the inputs' covariance), so a short run does not widen the range by chance;
- the **top assumptions**: each input moved from its 5th to its 95th percentile
  with every path keeping its other draws, the headline recomputed from the
  fitted model (the mean chance, or the median of the business medians), ranked
  by how far it moves the headline; each with how to measure it
  (:func:`simulator.config.sources.how_to_measure`).

The regression is linear in the inputs on the logit (or the dollar) scale; the
share of the outcome's variation it explains is reported (``explained``), and
the range is only as good as that fit. Only inputs the config leaves uncertain
enter: a value the user set or ``fit`` fitted as a number is never drawn, so
never moves an answer here (docs/model.md, "Two kinds of uncertainty").

The fits run on one BLAS thread (:func:`threadpoolctl.threadpool_limits`): their
products of a ``(paths, inputs)`` matrix with a vector gain nothing from more, a
second OpenBLAS thread left the whole split at 4x its one-thread CPU time on a
busy 2-core machine (5.5 against 1.4 s for 10,000 paths, benchmarks/RESULTS.md),
and the figures it gives no longer depend on the machine's cores in their last digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats
from threadpoolctl import threadpool_limits

from ..config.schema import param_specs
from ..config.sources import how_to_measure
from ..formatting import finite_or_none, money, pct_short
from ..model.sampling import field_name
from ..results import SimulationResult, proportion
from .common import CONFIDENCE

__all__ = [
    "HEADLINES",
    "RANGE_QUANTILES",
    "AssumptionEffect",
    "HeadlineSplit",
    "UncertaintySplit",
    "assumption_label",
    "describe",
    "drawn_keys",
    "sentence",
    "uncertainty_split",
]

RANGE_QUANTILES = (0.1, 0.9)
"""The plausible range: these quantiles of the headline across the drawn businesses."""
EFFECT_QUANTILES = (0.05, 0.95)
"""An assumption's low and high end: these quantiles of its draws."""
TOP_ASSUMPTIONS = 3
MIN_EVENTS = 10
"""A yes/no outcome needs this many paths on each side before it is split."""
_RIDGE = 1e-3  # a small L2 penalty keeps a separated logistic fit finite


@dataclass(frozen=True)
class _Headline:
    label: str  # in words, {thr} and {months} filled in
    kind: str  # "probability" or "median"
    outcome: Callable[[SimulationResult], np.ndarray | None]


def _final(name: str) -> Callable[[SimulationResult], np.ndarray | None]:
    def outcome(r: SimulationResult) -> np.ndarray | None:
        if r.paths_kept:
            return np.asarray(r[name][:, -1], dtype=np.float64)
        kept = r.horizon_values or {}  # runs without trajectories keep some per path
        return np.asarray(kept[name], dtype=np.float64) if name in kept else None
    return outcome


HEADLINES: dict[str, _Headline] = {
    "p_break_by_horizon": _Headline("chance to break {thr} MRR by month {months}",
                                    "probability",
                                    lambda r: (r.first_passage >= 0).astype(np.float64)),
    "p_insolvent_by_horizon": _Headline("chance to run out of cash and credit by month "
                                        "{months}", "probability",
                                        lambda r: (np.asarray(r.insolvency_month) >= 0)
                                        .astype(np.float64)),
    "mrr_final_median": _Headline("median MRR at month {months}", "median", _final("mrr")),
    "cash_final_median": _Headline("median cash at month {months}", "median", _final("cash")),
}
"""The headlines split: name -> label, kind and per-path outcome (``None`` when the run
kept no trajectories)."""


def drawn_keys(result: SimulationResult) -> list[str]:
    """The per-path keys this run drew (distribution tables), in schema order."""
    if result.params is None:
        return []
    names = set(result.params.dtype.names or ())
    return [k for k in param_specs(per_unit=False)
            if not isinstance(result.config.get(k), int | float) and field_name(k) in names]


def assumption_label(key: str) -> str:
    """A key in owner words: ``staff.owner_hours_per_month`` -> ``owner hours per month``."""
    return _LABELS.get(key, key.split(".", 1)[1].replace("_", " "))


_LABELS = {
    "staff.escalation_share": "share of ticket time escalated to the owner",
    "staff.escalation_lead_techs": "team size at which a lead takes the escalations",
    "staff.owner_escalation_share_led": "escalations the owner keeps once a lead takes them",
    "tickets.tiered_desk_saving": "ticket time a tiered desk saves",
    "staff.owner_hours_per_month": "owner's working hours a month",
    "tickets.hours_reactive": "hours per reactive ticket",
    "tickets.per_endpoint_reactive": "reactive tickets per endpoint a month",
    "customers.endpoints_per_seat": "endpoints per seat",
    "customers.account_hours_per_month": "owner's account hours per client a month",
    "customers.price_per_seat": "price per seat",
    "churn.annual_rate": "yearly client churn",
    "tickets.proactive_hours_per_endpoint": "proactive (maintenance) hours per endpoint",
    "tickets.proactive_hours_aligned": "maintenance hours per aligned endpoint",
    "staff.owner_sales_hours_per_month": "owner's selling hours a month",
    "staff.management_hours_per_employee": "owner's management hours per employee",
    "staff.tech_cost_per_month": "a technician's monthly cost",
    "staff.tech_hours_per_month": "usable hours per technician a month",
    "finance.owner_pay_per_month": "owner's pay a month",
    "finance.overhead_per_month": "fixed overhead a month",
    "finance.standard_stack_cost_per_endpoint": "standard-stack licences per aligned endpoint",
    "sales.meetings_per_selling_hour": "first meetings per selling hour",
    "sales.close_rate": "close rate of proposals",
    "sales.proposal_rate": "proposals per meeting",
}


def _value(key: str, x: float) -> str:
    """An input's value with its unit where it is money or a count, else 3 digits."""
    unit = param_specs()[key].unit
    if unit.startswith("$"):
        return money(x)
    if param_specs()[key].integer:
        return f"{x:.0f}"
    return f"{x:.3g}"


@dataclass(frozen=True)
class AssumptionEffect:
    """How one input moves a headline: the headline at its low and high end."""

    key: str
    low_value: float
    high_value: float
    at_low: float
    at_high: float

    @property
    def swing(self) -> float:
        """``at_high - at_low``."""
        return self.at_high - self.at_low

    def to_dict(self) -> dict[str, Any]:
        spec = param_specs()[self.key]
        return {"name": self.key, "label": assumption_label(self.key), "unit": spec.unit,
                "low_value": finite_or_none(self.low_value),
                "high_value": finite_or_none(self.high_value),
                "at_low": finite_or_none(self.at_low), "at_high": finite_or_none(self.at_high),
                "effect": finite_or_none(self.swing),
                "how_to_measure": how_to_measure(self.key)}


@dataclass(frozen=True)
class HeadlineSplit:
    """One headline's value, Monte Carlo interval, plausible range and top assumptions.

    ``plausible_range`` is ``None`` (with ``note`` saying why) when the run cannot
    split it: too few paths on one side of a yes/no outcome, too few paths for
    the number of drawn inputs, or no drawn input at all.
    """

    name: str
    label: str
    kind: str
    value: float
    mc_interval: tuple[float, float]
    plausible_range: tuple[float, float] | None
    explained: float | None
    top: tuple[AssumptionEffect, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        rng = self.plausible_range
        return {
            "label": self.label,
            "kind": self.kind,
            "value": finite_or_none(self.value),
            "mc_interval": [finite_or_none(x) for x in self.mc_interval],
            "plausible_range": None if rng is None else [finite_or_none(x) for x in rng],
            "explained": finite_or_none(self.explained) if self.explained is not None
            else None,
            "top_assumptions": [e.to_dict() for e in self.top],
            **({"note": self.note} if self.note else {}),
        }

    def sentence(self) -> str:
        """The headline in owner words with both kinds of uncertainty (:func:`sentence`)."""
        return sentence(self.to_dict())


@dataclass(repr=False)
class UncertaintySplit:
    """The split of every headline of a run (:func:`uncertainty_split`)."""

    n_paths: int
    assumptions: tuple[str, ...]
    headlines: dict[str, HeadlineSplit] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"UncertaintySplit(n_paths={self.n_paths}, assumptions="
                f"{len(self.assumptions)}, headlines={list(self.headlines)})")

    def to_dict(self) -> dict[str, Any]:
        """The ``uncertainty`` block of ``summary.json``."""
        return {
            "method": "per-path outcomes regressed on the per-path draws (logistic for a "
                      "chance, least squares for an amount); plausible_range: the 10th to "
                      "90th percentile of the fitted headline across the drawn businesses; "
                      "mc_interval: the 95% interval from the paths' luck",
            "confidence": CONFIDENCE,
            "range_quantiles": list(RANGE_QUANTILES),
            "effect_quantiles": list(EFFECT_QUANTILES),
            "n_paths": self.n_paths,
            "uncertain_assumptions": list(self.assumptions),
            "headlines": {name: h.to_dict() for name, h in self.headlines.items()},
        }

    def lines(self) -> list[str]:
        """:func:`describe` of :meth:`to_dict`."""
        return describe(self.to_dict())


# -- in words (from the summary.json block, so the CLI and the report say the same) ------


def fmt(kind: str, x: float | None) -> str:
    """A headline's value in words: ``34%`` for a chance, ``$81,700`` for an amount."""
    if x is None:
        return "n/a"
    return pct_short(x) if kind == "probability" else money(x)


def effect_text(head: dict[str, Any], top: dict[str, Any]) -> str:
    """``76% if it is 0.13, 15% if it is 0.269``: a headline at an input's low and high
    end."""
    kind = head.get("kind", "probability")
    return (f"{fmt(kind, top['at_low'])} if it is {_value(top['name'], top['low_value'])}, "
            f"{fmt(kind, top['at_high'])} if it is {_value(top['name'], top['high_value'])}")


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sentence(head: dict[str, Any]) -> str:
    """A headline block (``uncertainty.headlines.<name>`` of ``summary.json``) in owner
    words: ``Chance to break $100,000 MRR by month 60: 46% (luck: 45% to 47%); between 1%
    and 96% depending on what you haven't measured; mainly ...``."""
    kind = head.get("kind", "probability")
    lo, hi = head["mc_interval"]
    label = head["label"]
    text = (f"{label[0].upper()}{label[1:]}: {fmt(kind, head['value'])} "
            f"(luck: {fmt(kind, lo)} to {fmt(kind, hi)})")
    if head.get("plausible_range") is None:
        return text + (f"; {head['note']}" if head.get("note") else "") + "."
    a, b = head["plausible_range"]
    text += (f"; between {fmt(kind, a)} and {fmt(kind, b)} depending on what you haven't "
             "measured")
    if head.get("top_assumptions"):
        text += "; mainly " + _joined([t["label"] for t in head["top_assumptions"]])
    return text + "."


def describe(block: dict[str, Any]) -> list[str]:
    """The ``uncertainty`` block of ``summary.json`` in owner words: one sentence per
    headline, then what each top assumption of the first does to it and how to measure it."""
    heads = list(block.get("headlines", {}).values())
    out = [sentence(h) for h in heads]
    if heads and heads[0].get("top_assumptions"):
        out.append("What to measure first:")
        for t in heads[0]["top_assumptions"]:
            out.append(f"  {t['label']} ({effect_text(heads[0], t)}): {t['how_to_measure']}")
    return out


# -- the fits -------------------------------------------------------------------


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Intercept, slopes and the slopes' covariance of a logistic regression of ``y``
    (0/1) on the columns of ``x`` (centred, standardized), by penalized maximum
    likelihood (:func:`scipy.optimize.minimize`, L-BFGS-B)."""
    n, d = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    penalty = np.r_[0.0, np.full(d, _RIDGE * n)]

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = design @ beta
        value = np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * beta**2)
        grad = design.T @ (special.expit(eta) - y) + penalty * beta
        return float(value), grad

    ybar = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    start = np.r_[math.log(ybar / (1 - ybar)), np.zeros(d)]
    fit = optimize.minimize(loss, start, jac=True, method="L-BFGS-B",
                            options={"maxiter": 1000, "gtol": 1e-8})
    beta = fit.x
    p = special.expit(design @ beta)
    hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
    cov = np.linalg.pinv(hessian)
    return float(beta[0]), beta[1:], cov[1:, 1:]


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray,
                                                           np.ndarray]:
    """Intercept, slopes, slopes' covariance and residuals of ``y`` on ``x`` (centred)."""
    n, d = x.shape
    # x is centred and standardized: the normal equations are well conditioned
    gram_inv = np.linalg.pinv(x.T @ x)
    beta = gram_inv @ (x.T @ (y - y.mean()))
    intercept = float(y.mean())
    resid = y - intercept - x @ beta
    sigma2 = float(resid @ resid) / max(n - d - 1, 1)
    return intercept, beta, sigma2 * gram_inv, resid


def _denoise(eta: np.ndarray, x: np.ndarray, cov: np.ndarray) -> float:
    """The factor that shrinks the fitted linear predictor's spread to its true spread:
    ``sqrt((var(eta) - noise) / var(eta))``, ``noise`` the variance the coefficients'
    estimation error adds (``mean_i x_i' cov x_i``)."""
    total = float(np.var(eta))
    if total <= 0:
        return 0.0
    noise = float(np.mean(np.sum((x @ cov) * x, axis=1)))  # x_i' cov x_i, row by row
    return math.sqrt(max(total - noise, 0.0) / total)


def _median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D float array, the same value bit for bit, a third of its time:
    one partition at the upper middle, the lower middle the largest value below it, and
    their mean as numpy takes it (``(a + b) / 2``); NaN when any value is NaN. Called once
    per input and end for every amount headline (~330 times a 10,000-path run)."""
    n = values.size
    if n == 0 or np.isnan(values).any():
        return float(np.median(values))
    half = n // 2
    part = np.partition(values, half)
    upper = part[half]
    if n % 2:
        return float(upper)
    return float((part[:half].max() + upper) / 2)


def _median_interval(y: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95% interval of the median from order statistics."""
    n = y.size
    s = np.sort(y)
    lo = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))
    hi = int(stats.binom.ppf(1 - (1 - CONFIDENCE) / 2, n, 0.5))
    return float(s[max(lo - 1, 0)]), float(s[min(hi, n - 1)])


def _proportion_interval(y: np.ndarray) -> tuple[float, float]:
    est = proportion(int(y.sum()), y.size)
    return float(est.low), float(est.high)


class _Features:
    """The regressors: the standardized draws, plus the squares and pairwise products of
    the :data:`SECOND_ORDER` inputs a first, linear fit finds strongest (a threshold or
    a combination such as price x endpoints shows), each centred on the run."""

    def __init__(self, x: np.ndarray, strongest: np.ndarray):
        self.top = [int(j) for j in strongest]
        self.pairs = [(a, b) for i, a in enumerate(self.top) for b in self.top[i + 1:]]
        self.centre = 0.0
        self.centre = self(x).mean(axis=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        extra = [x[:, j] ** 2 for j in self.top] + [x[:, a] * x[:, b] for a, b in self.pairs]
        return np.column_stack([x, *extra]) - self.centre if extra else x - self.centre

    def moved_product(self, f: np.ndarray, x: np.ndarray, j: int, z: float,
                      beta: np.ndarray) -> np.ndarray:
        """``self(moved) @ beta``, ``moved`` being ``x`` with input ``j`` set to ``z`` on
        every row, from ``f = self(x)``: only the columns input ``j`` enters (itself, its
        square, its products) are rebuilt, by the operations :meth:`__call__` does, so the
        matrix is the same bit for bit; they are written into ``f`` (C-contiguous, the
        layout of a moved copy, so that the product sums in the same order) for the
        product and put back after, instead of building the whole matrix again for each
        of the 48 calls of a run."""
        d = x.shape[1]
        col = np.full(x.shape[0], z)
        new = {j: col - self.centre[j]}
        for k, t in enumerate(self.top):
            if t == j:
                new[d + k] = col ** 2 - self.centre[d + k]
        base = d + len(self.top)
        for k, (a, b) in enumerate(self.pairs):
            if j in (a, b):
                new[base + k] = ((col if a == j else x[:, a]) * (col if b == j else x[:, b])
                                 - self.centre[base + k])
        saved = {c: f[:, c].copy() for c in new}
        try:
            for c, values in new.items():
                f[:, c] = values
            return f @ beta
        finally:
            for c, values in saved.items():
                f[:, c] = values


SECOND_ORDER = 6
"""Inputs whose squares and pairwise products enter the regression."""


def _split_one(name: str, head: _Headline, y: np.ndarray, draws: np.ndarray,
               keys: list[str], label: str) -> HeadlineSplit:
    n, d = draws.shape
    if head.kind == "probability":
        value, mc = float(y.mean()), _proportion_interval(y)
    else:
        value, mc = float(np.median(y)), _median_interval(y)

    def unsplit(note: str) -> HeadlineSplit:
        return HeadlineSplit(name, label, head.kind, value, mc, None, None, (), note)

    if d == 0:
        return unsplit("every input is a fixed number, so nothing unmeasured moves it")
    if n < 4 * (d + 1):
        return unsplit(f"too few paths ({n:,}) to split it over {d} uncertain inputs "
                       f"(at least {4 * (d + 1):,})")
    probability = head.kind == "probability"
    if probability:
        events = int(y.sum())
        if min(events, n - events) < MIN_EVENTS:
            return unsplit(f"too few paths on one side ({min(events, n - events)}) to split "
                           "it")
    mean, sd = draws.mean(axis=0), draws.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    x = (draws - mean) / sd
    fit = _logistic if probability else _least_squares

    # first a linear fit to find the strongest inputs, then one with their second order
    first = fit(x, y)[1]
    m = min(SECOND_ORDER, d) if n >= 8 * (d + 1 + SECOND_ORDER * (SECOND_ORDER + 3) // 2) else 0
    feats = _Features(x, np.argsort(-np.abs(first), kind="stable")[:m])
    f = feats(x)
    a, beta, cov, *rest = fit(f, y)
    eta = f @ beta
    k = _denoise(eta, f, cov)
    beta, eta = k * beta, k * eta
    if probability:
        # the intercept that keeps the mean chance at the run's share
        a = optimize.brentq(lambda c: float(np.mean(special.expit(c + eta))) - value,
                            -50.0, 50.0) if 0 < value < 1 else a
        level = special.expit(a + eta)
        explained = _logistic_r2(y, level)
    else:
        level = a + eta + float(np.median(rest[0]))
        total = float(np.var(y))
        explained = float(np.var(eta) / total) if total > 0 else 0.0

    rows = np.ascontiguousarray(f)  # the layout of a moved copy: the same product, bit for bit

    def at(j: int, v: float) -> float:
        z = (v - mean[j]) / sd[j]
        if j in feats.top:
            shifted = feats.moved_product(rows, x, j, z, beta) - eta
        else:
            shifted = beta[j] * (z - x[:, j])
        if probability:
            return float(np.mean(special.expit(a + eta + shifted)))
        return _median(level + shifted)

    lows = np.quantile(draws, EFFECT_QUANTILES[0], axis=0)
    highs = np.quantile(draws, EFFECT_QUANTILES[1], axis=0)
    lo, hi = np.quantile(level, RANGE_QUANTILES)
    effects = [AssumptionEffect(keys[j], float(lows[j]), float(highs[j]), at(j, lows[j]),
                                at(j, highs[j])) for j in range(d)]
    effects.sort(key=lambda e: (-abs(e.swing), e.key))
    top = tuple(e for e in effects[:TOP_ASSUMPTIONS] if e.swing != 0)
    return HeadlineSplit(name, label, head.kind, value, mc, (float(lo), float(hi)),
                         explained, top)


def _logistic_r2(y: np.ndarray, p: np.ndarray) -> float:
    """Share of the 0/1 outcome's variance the business-level chances explain."""
    total = float(np.var(y))
    return float(np.var(p) / total) if total > 0 else 0.0


def uncertainty_split(result: SimulationResult,
                      headlines: list[str] | None = None) -> UncertaintySplit:
    """Split each headline of ``result`` into luck and what isn't measured (module docstring).

    Parameters
    ----------
    result : SimulationResult
        A run with its per-path draws (``result.params``). Median headlines need
        each path's value at the horizon (kept trajectories, or the horizon values a
        run without them keeps); they are left out otherwise.
    headlines : list of str, optional
        Names of :data:`HEADLINES`; default all that the run allows.

    Returns
    -------
    UncertaintySplit
    """
    names = list(HEADLINES) if headlines is None else list(headlines)
    unknown = [h for h in names if h not in HEADLINES]
    if unknown:
        raise ValueError(f"unknown headline {unknown[0]!r}; allowed: {', '.join(HEADLINES)}")
    keys = drawn_keys(result)
    draws = (np.column_stack([np.asarray(result.params[field_name(k)], dtype=np.float64)
                              for k in keys]) if keys else np.empty((result.n_paths, 0)))
    varied = [j for j in range(draws.shape[1]) if np.ptp(draws[:, j]) > 0]
    keys, draws = [keys[j] for j in varied], draws[:, varied]
    thr = f"${result.threshold_mrr:,.0f}"
    split = UncertaintySplit(result.n_paths, tuple(keys))
    with threadpool_limits(limits=1, user_api="blas"):  # (module docstring)
        for name in names:
            head = HEADLINES[name]
            y = head.outcome(result)
            if y is None:
                continue
            label = head.label.format(thr=thr, months=result.months)
            split.headlines[name] = _split_one(name, head, y, draws, keys, label)
    return split
