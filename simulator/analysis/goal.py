"""Goal seek: the value of one lever that meets a target (``msp-sim goal``).

``goal_seek(config, "sales.meetings_per_month", "p_break_by_36 >= 0.8")``
finds the meeting rate at which 80% of the paths break the MRR threshold by
month 36.

**Targets** (``QUANTITY OP VALUE``, ``OP`` is ``>=`` or ``<=``):

* ``p_break_by_<month>``: share of paths that broke the threshold by that
  month (the first passage of MODEL.md); ``VALUE`` a probability (``0.8``
  or ``80%``);
* ``p_mrr_above_<month>``: share of paths whose MRR is at or above the
  threshold *in* that month;
* ``<metric>_mean_<month>`` and ``<metric>_p<q>_<month>``: the mean or the
  ``q``-th percentile of a monthly metric (``mrr_p50_36 >= 100000``,
  ``customers_mean_60 >= 40``); ``<metric>`` is any metric of ``paths.npz``.

``<month>`` may be ``horizon``.

**Method.** Every evaluation simulates the config with the lever set to one
value, with the same seed and number of paths (common random numbers), so
the estimated outcome is a deterministic function of the lever, and a step
function where it is a share of paths. The direction (does the outcome rise
or fall with the lever?) is read from the two ends of the range. The answer
is the boundary of the set of values that meet the target, on the side of
the range where the target is met: the smallest value meeting a ``>=``
target of an increasing outcome, the largest for a decreasing one, and so
on. It is found by :func:`scipy.optimize.brentq` on ``estimate - target``
(made strictly positive where the target is met, so a step that lands on the
target exactly counts as met), then the evaluated value nearest the root on
the side that meets the target is reported: ``achieved`` always meets it.
``ci95`` is the 95% interval of the outcome at that value (Wilson for shares,
Student t for means, order statistics for percentiles). ``value_ci95`` is an
interval for the lever: the boundaries where the upper and the lower end of
the outcome's interval meet the target (the same inversion as for the time
quantiles of :mod:`simulator.results`); ``null`` on a side means beyond the
searched range.

A lever given in the config as a distribution is replaced by the number
tried (the user controls it); ``replaces`` in the result says which
distribution was replaced.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy import optimize

from ..config import Config, ConfigError, load_config
from ..results import Estimate, config_sha256, package_version
from .common import JsonResult, require_pandas
from .targets import (
    Target,
    default_range,
    lever_spec,
    parse_range,
    parse_target,
    target_error,
    with_value,
    within_bounds,
)
from .targets import number_text as _g

__all__ = [
    "Evaluation",
    "GoalResult",
    "GoalUnreachable",
    "Target",
    "default_range",
    "goal_seek",
    "lever_spec",
    "parse_range",
    "parse_target",
]

_WIDEN_STEPS = 4
"""Times the default range may be widened (by twice its width) when it holds no answer."""


# -- search ------------------------------------------------------------------


class Evaluation(NamedTuple):
    """One simulation of the lever at ``value``: the outcome with its 95% CI."""

    value: float
    estimate: float
    low: float | None
    high: float | None
    met: bool


class GoalUnreachable(ValueError):
    """The target is not met anywhere in the range.

    Attributes
    ----------
    evaluations : list of Evaluation
        The evaluations made (at least both ends of the range).
    """

    def __init__(self, message: str, evaluations: list[Evaluation]):
        super().__init__(message)
        self.evaluations = evaluations


class _Evaluator:
    def __init__(self, config: Config, key: str, target: Target, n_paths: int, seed: int,
                 integer: bool, chunk_size: int | None, progress: bool | None,
                 client: Any = None):
        self.config, self.key, self.target = config, key, target
        self.n_paths, self.seed, self.integer = n_paths, seed, integer
        self.chunk_size, self.progress, self.client = chunk_size, progress, client
        self.cache: dict[float, Evaluation] = {}
        self.order: list[Evaluation] = []

    def __call__(self, v: float) -> Evaluation:
        from .compare import simulate_columns

        v = float(round(v)) if self.integer else float(v)
        if v not in self.cache:
            # targets read one per-path value (or the first passages): outcomes only,
            # neither trajectories nor monthly statistics
            column = self.target.column
            run, values = simulate_columns(
                with_value(self.config, self.key, v), self.n_paths, self.seed,
                [] if column is None else [column], keep_paths=False,
                chunk_size=self.chunk_size, progress=self.progress, client=self.client,
                outcomes_only=True)
            est = self.target.estimate(run, None if column is None else values[column])
            if not math.isfinite(est.value):
                raise ConfigError(self.key, [("", None, f"the simulation overflowed at "
                                              f"{self.key} = {_g(v)}: {self.target.quantity} "
                                              "is not a finite number; allowed: a `range` "
                                              "of values of the size a business has")])
            ev = Evaluation(v, float(est.value), est.low, est.high,
                            self.target.met(float(est.value)))
            self.cache[v] = ev
            self.order.append(ev)
        return self.cache[v]


def _boundary(ev: _Evaluator, which: str, lo: float, hi: float, good_high: bool,
              xtol: float) -> tuple[float | None, str]:
    """Boundary of the values where ``which`` (estimate/low/high) meets the target.

    Returns ``(value, status)``: ``"inside"``; ``"at_end"`` when it is met at
    the end where the target is harder to meet (the boundary is there or
    beyond); ``"beyond"`` (value None) when it is not met even at the good end.
    """
    target = ev.target
    scale = abs(target.value) + 1.0

    def outcome(v: float) -> float:
        x = getattr(ev(v), which)
        if x is None:  # an unbounded percentile CI end
            return math.inf if which == "high" else -math.inf
        return float(x)

    def met(v: float) -> bool:
        return target.met(outcome(v))

    def g(v: float) -> float:  # > 0 exactly where the target is met
        x = outcome(v)
        d = x - target.value if target.op == ">=" else target.value - x
        if not math.isfinite(d):
            return math.copysign(10 * scale, d)
        return d if d != 0 else 1e-12 * scale

    good, bad = (hi, lo) if good_high else (lo, hi)
    if met(bad):
        return bad, "at_end"
    if not met(good):
        return None, "beyond"
    root = optimize.brentq(g, lo, hi, xtol=xtol, maxiter=200)
    feasible = [v for v in ev.cache if lo <= v <= hi and met(v)]
    best = min(feasible, key=lambda v: (abs(v - root), -v if good_high else v))
    if ev.integer:  # make sure the neighbour towards the bad end fails
        step = -1.0 if good_high else 1.0
        while lo <= best + step <= hi and met(best + step):
            best += step
    return best, "inside"


@dataclass(repr=False)
class GoalResult(JsonResult):
    """The lever value that meets a target.

    Attributes
    ----------
    parameter : str
        The dotted key varied.
    target : Target
    value : float
        The boundary value found (meets the target).
    achieved : Estimate
        The outcome at ``value`` with its 95% CI.
    value_ci95 : (float or None, float or None)
        95% interval of the lever's boundary; ``None`` = beyond the range.
    direction : str
        ``"increasing"``, ``"decreasing"`` or ``"flat"``: the outcome against the lever.
    range : (float, float)
        The searched range.
    at_range_end : bool
        The target is met over the whole range: ``value`` is the end of it
        where meeting the target is hardest, and the boundary may lie beyond.
    evaluations : list of Evaluation
        Every simulation made, in order.
    n_paths, seed : int
    replaces : str or None
        The distribution the lever had in the config, if it was one.
    config : Config
        The config searched (before setting the lever).
    """

    parameter: str
    target: Target
    value: float
    achieved: Estimate
    value_ci95: tuple[float | None, float | None]
    direction: str
    range: tuple[float, float]
    at_range_end: bool
    evaluations: list[Evaluation]
    n_paths: int
    seed: int
    replaces: str | None
    config: Config = field(repr=False)
    xtol: float | None = None
    widened_from: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return (f"GoalResult({self.parameter}={_g(self.value)}, {self.target.text}: "
                f"achieved {self.achieved.value:.4g})")

    def to_dict(self) -> dict[str, Any]:
        """The ``goal.json`` dictionary."""
        integer = lever_spec(self.parameter).integer

        def num(x: float | None) -> float | int | None:
            return None if x is None else (int(x) if integer else float(x))

        return {
            "parameter": self.parameter,
            "value": num(self.value),
            "achieved": float(self.achieved.value),
            "ci95": [_finite_or_none(self.achieved.low), _finite_or_none(self.achieved.high)],
            "evaluations": [
                {"value": num(e.value), "estimate": e.estimate,
                 "ci95": [_finite_or_none(e.low), _finite_or_none(e.high)], "met": e.met}
                for e in self.evaluations
            ],
            "target": self.target.text,
            "value_ci95": [num(self.value_ci95[0]), num(self.value_ci95[1])],
            "direction": self.direction,
            "range": [num(self.range[0]), num(self.range[1])],
            "at_range_end": self.at_range_end,
            "replaces": self.replaces,
            "n_paths": self.n_paths,
            "seed": int(self.seed),
            "method": ("common random numbers (same seed and paths at every evaluation); "
                       "scipy.optimize.brentq on the estimate minus the target; value_ci95 "
                       "inverts the 95% interval of the outcome"),
            "config_sha256": config_sha256(self.config),
            "version": package_version(),
        }

    def to_frame(self) -> Any:
        """The evaluations as a pandas DataFrame (value, estimate, low, high, met), in order.

        Raises
        ------
        ImportError
            pandas is not installed.
        """
        pd = require_pandas()
        return pd.DataFrame([e._asdict() for e in self.evaluations])

    def plot(self, ax: Any = None) -> Any:
        """The outcome against the lever at every evaluation, with CIs and the answer.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..report.goal import goal_chart

        return goal_chart(self, ax)

    def write(self, out_dir: str | Path, title: str | None = None) -> Path:
        """Write ``goal.json``, ``goal.png`` and ``goal.html`` into ``out_dir``, atomically
        (:func:`simulator.report.write_goal`)."""
        from ..report.goal import write_goal

        return write_goal(self, out_dir, title)

    def value_text(self, value: float | None) -> str:
        """A value of the lever in words (``n/a`` for ``None``), to the precision of the
        search (``xtol``): ``2.41``, not ``2.41372``."""
        if value is None:
            return "n/a"
        if lever_spec(self.parameter).integer:
            return f"{value:.0f}"
        if self.xtol is None or not self.xtol > 0:
            return _g(value)
        decimals = max(0, -math.floor(math.log10(self.xtol)))
        return f"{value:.{decimals}f}"

    def outcome_text(self, value: float | None) -> str:
        """A value of the target's quantity in words: ``81.2%`` or ``104,500``."""
        return _fmt_outcome(self.target)(value)

    def format_summary(self) -> str:
        """A few lines for the terminal."""
        t = self.target
        fmt = _fmt_outcome(t)
        a, b = self.value_ci95
        v = self.value_text
        lines = [
            f"{self.parameter} = {v(self.value)} meets {t.text}: {t.quantity} = "
            f"{fmt(self.achieved.value)} (95% CI {fmt(self.achieved.low)} to "
            f"{fmt(self.achieved.high)})",
            f"95% CI of the value: {'below the range' if a is None else v(a)} to "
            f"{'above the range' if b is None else v(b)}; the outcome is {self.direction} in "
            f"{self.parameter} over [{_g(self.range[0])}, {_g(self.range[1])}]",
            f"{len(self.evaluations)} evaluations of {self.n_paths:,} paths (seed {self.seed}, "
            "common random numbers)",
        ]
        if self.at_range_end:
            lines.append(f"note: the target is met over the whole range; the boundary may lie "
                         f"beyond {v(self.value)} (widen `range` to find it)")
        if self.widened_from:
            lo, hi = self.widened_from
            lines.append(f"note: the target is not met in the default range [{_g(lo)}, {_g(hi)}]; "
                         f"the search widened it to [{_g(self.range[0])}, {_g(self.range[1])}]")
        if self.replaces:
            lines.append(f"note: {self.parameter} was {self.replaces} in the config; each "
                         "evaluation sets it to a number")
        return "\n".join(lines)


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _fmt_outcome(target: Target) -> Callable[[float | None], str]:
    def fmt(x: float | None) -> str:
        if x is None:
            return "n/a"
        if target.is_probability:
            return f"{100 * x:.1f}%"
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"

    return fmt


def goal_seek(
    config: Config | str | Path,
    key: str,
    target: str | Target,
    range: tuple[float, float] | str | None = None,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    xtol: float | None = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client: Any = None,
) -> GoalResult:
    """Find the value of one lever that meets a target, with common random numbers.

    Parameters
    ----------
    config : Config or path
        The config.
    key : str
        The lever, a numeric per-path key such as ``"sales.meetings_per_month"``.
    target : str or Target
        E.g. ``"p_break_by_36 >= 0.8"`` (grammar in the module docstring).
    range : (low, high) or ``"LO:HI"``, optional
        Search range (default: :func:`default_range`).
    n_paths : int, optional
        Paths per evaluation (default ``config.simulation.paths``).
    seed : int or numpy.random.Generator, optional
        The common seed (default ``config.simulation.seed``).
    xtol : float, optional
        Root-finding tolerance on the lever (default 0.1% of the range; 0.5
        for integer keys, whose answer is always an integer).
    chunk_size, progress
        Passed to :func:`simulator.api.simulate`.
    client : distributed.Client or str, optional
        Run each evaluation's chunks as Dask tasks (a client, or ``"local:N"``
        / ``"tcp://HOST:PORT"``); the same bits.

    Returns
    -------
    GoalResult

    Raises
    ------
    ConfigError
        Bad key, target or range.
    GoalUnreachable
        The target is met at neither end of the range (the message gives the
        outcome at both ends).
    """
    from ..runner import using

    with using(client) as dask_client:
        return _seek(config, key, target, range, n_paths, seed, xtol, chunk_size, progress,
                     dask_client)


def _seek(config: Config | str | Path, key: str, target: str | Target,
          range: tuple[float, float] | str | None, n_paths: int | None,
          seed: int | np.random.Generator | None, xtol: float | None,
          chunk_size: int | None, progress: bool | None, client: Any) -> GoalResult:
    """:func:`goal_seek` with its client connected."""
    from ..runner import as_seed

    if not isinstance(config, Config):
        config = load_config(config)
    spec = lever_spec(key)
    months = config.simulation.months
    if isinstance(target, Target):
        if target.month > months:
            raise target_error("target", f"month {target.month} of {target.text} is beyond the "
                        f"horizon (simulation.months = {months})")
    else:
        target = parse_target(target, months)
    lo, hi = default_range(config, key) if range is None else parse_range(range, key)
    n_paths = config.simulation.paths if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = config.simulation.seed if seed is None else as_seed(seed)
    default_xtol = xtol is None
    if xtol is None:
        xtol = 0.5 if spec.integer else 1e-3 * (hi - lo)
    elif not (math.isfinite(xtol) and xtol > 0):
        raise ValueError(f"xtol must be a positive number, got {xtol}")
    current = config.get(key)
    replaces = None if isinstance(current, int | float) else current.describe()

    ev = _Evaluator(config, key, target, n_paths, seed, spec.integer, chunk_size, progress,
                    client)
    e_lo, e_hi = ev(lo), ev(hi)
    if e_hi.estimate > e_lo.estimate:
        direction = "increasing"
    elif e_hi.estimate < e_lo.estimate:
        direction = "decreasing"
    else:
        direction = "flat"
    good_high = (direction != "decreasing") == (target.op == ">=")
    good = e_hi if good_high else e_lo
    widened_from = None
    if not good.met and range is None and direction != "flat":
        # the default range holds no answer: widen it on the side that helps, up to the
        # key's allowed values
        widened_from = (lo, hi)
        for _ in [None] * _WIDEN_STEPS:  # (``range`` is the argument here)
            width = hi - lo
            new_lo, new_hi = within_bounds(spec, lo - 2 * width if not good_high else lo,
                                     hi + 2 * width if good_high else hi)
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
            good = ev(hi) if good_high else ev(lo)
            if good.met:
                break
        e_lo, e_hi = ev(lo), ev(hi)
        if default_xtol and not spec.integer:
            xtol = 1e-3 * (hi - lo)
    if not good.met:
        fmt = _fmt_outcome(target)
        if direction == "flat":
            hint = (f"the outcome does not change with {key} over this range: try another "
                    "lever or target")
        elif widened_from is not None:
            hint = (f"the search widened the default range to the key's limits "
                    f"({spec.range_text() or 'unbounded'}) or by {_WIDEN_STEPS} steps: try "
                    "another lever or target, or a `range` further out")
        elif good_high:
            hint = (f"try a `range` reaching above {_g(hi)} (the target needs more {key}), "
                    f"e.g. `range`={_g(lo)}:{_g(hi + (hi - lo))}")
        else:
            hint = (f"try a `range` reaching below {_g(lo)} (the target needs less {key}), "
                    f"e.g. `range`={_g(lo - (hi - lo))}:{_g(hi)}")
        raise GoalUnreachable(
            f"{target.text} is not reached for {key} in [{_g(lo)}, {_g(hi)}]: "
            f"{target.quantity} = {fmt(e_lo.estimate)} (95% CI {fmt(e_lo.low)} to "
            f"{fmt(e_lo.high)}) at {_g(lo)} and {fmt(e_hi.estimate)} (95% CI {fmt(e_hi.low)} "
            f"to {fmt(e_hi.high)}) at {_g(hi)} ({n_paths:,} paths, seed {seed}); {hint}",
            list(ev.order))
    value, status = _boundary(ev, "estimate", lo, hi, good_high, xtol)
    assert value is not None
    strict, lenient = ("low", "high") if target.op == ">=" else ("high", "low")
    v_strict, s_strict = _boundary(ev, strict, lo, hi, good_high, xtol)
    v_lenient, s_lenient = _boundary(ev, lenient, lo, hi, good_high, xtol)
    if s_lenient == "at_end":
        v_lenient = None  # met over the whole range: that end of the interval lies beyond
    ci = (v_lenient, v_strict) if good_high else (v_strict, v_lenient)
    achieved = ev(value)
    return GoalResult(
        parameter=key, target=target, value=value,
        achieved=Estimate(achieved.estimate, achieved.low, achieved.high),
        value_ci95=ci, direction=direction, range=(lo, hi),
        at_range_end=status == "at_end", evaluations=list(ev.order), n_paths=n_paths,
        seed=seed, replaces=replaces, config=config, xtol=xtol, widened_from=widened_from,
    )
