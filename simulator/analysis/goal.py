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

import difflib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy import optimize, stats

from ..config import Config, ConfigError, load_config, param_specs
from ..config.loader import MISSING
from ..config.schema import ParamSpec
from ..model.metrics import METRICS
from ..results import Estimate, SimulationResult, config_sha256, package_version
from .common import CONFIDENCE, mean_ci, require_pandas

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

TARGET_GRAMMAR = (
    "p_break_by_<month> or p_mrr_above_<month> with >= or <= a probability (0.8 or 80%), "
    "or <metric>_mean_<month> / <metric>_p<q>_<month> with >= or <= a number "
    f"(metric: {', '.join(METRICS)}; month: 0..horizon or 'horizon'), "
    'e.g. "p_break_by_36>=0.8" or "mrr_p50_60>=100000"'
)
_OPS = {">=": ">=", "=>": ">=", "\u2265": ">=", "<=": "<=", "=<": "<=", "\u2264": "<="}
_TARGET_RE = re.compile(r"^\s*(?P<lhs>[A-Za-z][A-Za-z0-9_.]*)\s*(?P<op>[<>=\u2264\u2265]+)"
                        r"\s*(?P<rhs>\S+)\s*$")
_STAT_RE = re.compile(r"^(?P<metric>[a-z_]+?)_(?P<stat>mean|p\d{1,2}(?:\.\d+)?)_"
                      r"(?P<month>\d+|horizon)$")


_WIDEN_STEPS = 4
"""Times the default range may be widened (by twice its width) when it holds no answer."""


def _fail(source: str, message: str) -> ConfigError:
    return ConfigError(source, [("", None, message)])


def _g(x: float) -> str:
    return f"{x:g}"


# -- targets -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A parsed target such as ``p_break_by_36 >= 0.8``.

    Attributes
    ----------
    quantity : str
        The left side, e.g. ``"p_break_by_36"``.
    op : str
        ``">="`` or ``"<="``.
    value : float
        The right side.
    kind : str
        ``"p_break_by"``, ``"p_mrr_above"``, ``"mean"`` or ``"quantile"``.
    month : int
        The month it is measured at.
    metric : str or None
        The metric of a mean or percentile target.
    q : float or None
        The probability of a percentile target (``p50`` -> 0.5).
    """

    quantity: str
    op: str
    value: float
    kind: str
    month: int
    metric: str | None = None
    q: float | None = None

    @property
    def text(self) -> str:
        """Normalized text, e.g. ``"p_break_by_36 >= 0.8"``."""
        return f"{self.quantity} {self.op} {_g(self.value)}"

    @property
    def is_probability(self) -> bool:
        """Whether the quantity is a share of paths."""
        return self.kind in ("p_break_by", "p_mrr_above")

    def met(self, x: float) -> bool:
        """Whether an outcome ``x`` meets the target."""
        return x >= self.value if self.op == ">=" else x <= self.value

    @property
    def column(self) -> tuple[str, int] | None:
        """The per-path values the estimate reads: ``(metric, month)``, or None (first
        passages only)."""
        if self.kind == "p_break_by":
            return None
        return ("mrr" if self.kind == "p_mrr_above" else str(self.metric), self.month)

    def estimate(self, result: SimulationResult, values: np.ndarray | None = None
                 ) -> Estimate:
        """The quantity on a run, with its 95% confidence interval.

        ``values``: every path's value of :attr:`column` (default: from the
        run's kept trajectories). ``low``/``high`` of a percentile may be
        ``None`` where too few paths lie beyond it for a distribution-free bound.
        """
        m = self.month
        if not 0 <= m <= result.months:
            raise ValueError(f"month {m} is beyond the horizon of the run ({result.months})")
        if self.kind == "p_break_by":
            return result.p_break_by(m)
        if self.kind == "p_mrr_above":
            mrr = result["mrr"][:, m] if values is None else values
            k = int(np.count_nonzero(mrr >= result.threshold_mrr))
            ci = stats.binomtest(k, result.n_paths).proportion_ci(CONFIDENCE, method="wilson")
            return Estimate(k / result.n_paths, float(ci.low), float(ci.high))
        x = result[self.metric][:, m] if values is None else values
        if self.kind == "mean":
            lo, hi = mean_ci(x)
            return Estimate(float(x.mean()), lo, hi)
        ci = stats.quantile_test(x, p=self.q).confidence_interval(CONFIDENCE)
        return Estimate(float(np.quantile(x, self.q)), _finite(ci.low), _finite(ci.high))


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def parse_target(text: str, months: int | None = None) -> Target:
    """Parse ``"p_break_by_36>=0.8"`` and friends (see the module docstring).

    Parameters
    ----------
    text : str
        The target.
    months : int, optional
        The horizon; needed for ``horizon`` and checked against the month.

    Raises
    ------
    ConfigError
        With source ``--target``: the text, what is wrong and the grammar.
    """
    if not isinstance(text, str):
        raise _fail("--target", f"wrong type: got {type(text).__name__}; allowed: a string "
                    f"such as {TARGET_GRAMMAR}")
    m = _TARGET_RE.match(text)
    if not m:
        raise _fail("--target", f'bad target: got "{text}"; allowed: {TARGET_GRAMMAR}')
    lhs, op_text, rhs = m.group("lhs"), m.group("op"), m.group("rhs")
    op = _OPS.get(op_text)
    if op is None:
        raise _fail("--target", f'bad comparison "{op_text}" in "{text}"; allowed: >= or <= '
                    "(estimates are shares or quantiles: > and < are not distinguished)")
    lhs = lhs.lower()

    def month_of(word: str) -> int:
        if word == "horizon":
            if months is None:
                raise _fail("--target", f'"horizon" in "{text}" needs the config\'s horizon')
            return int(months)
        value = int(word)
        if months is not None and value > months:
            raise _fail("--target", f'month {value} in "{text}" is beyond the horizon '
                        f"(simulation.months = {months}); allowed: 0..{months}")
        return value

    kind, metric, q = None, None, None
    for prefix in ("p_break_by_", "p_mrr_above_"):
        if lhs.startswith(prefix):
            word = lhs[len(prefix):]
            if not (word.isdigit() or word == "horizon"):
                raise _fail("--target", f'bad month "{word}" in "{text}"; allowed: '
                            f"{prefix}<month> with a month 0..horizon or 'horizon'")
            kind, month = prefix[:-1], month_of(word)
            break
    else:
        sm = _STAT_RE.match(lhs)
        if not sm:
            raise _fail("--target", f'bad quantity "{lhs}" in "{text}"; allowed: '
                        f"{TARGET_GRAMMAR}")
        metric = sm.group("metric")
        if metric not in METRICS:
            raise _fail("--target", f'unknown metric "{metric}" in "{text}"; allowed: '
                        f"{', '.join(METRICS)}")
        stat = sm.group("stat")
        if stat == "mean":
            kind = "mean"
        else:
            q = float(stat[1:]) / 100
            if not 0 < q < 1:
                raise _fail("--target", f'bad percentile "{stat}" in "{text}"; allowed: '
                            "p1 .. p99")
            kind = "quantile"
        month = month_of(sm.group("month"))
    percent = rhs.endswith("%")
    try:
        value = float(rhs[:-1] if percent else rhs)
    except ValueError:
        raise _fail("--target", f'bad value "{rhs}" in "{text}"; allowed: a number'
                    + (" or a percentage such as 80%" if kind.startswith("p_") else "")
                    ) from None
    if percent:
        value /= 100
    if not math.isfinite(value):
        raise _fail("--target", f'bad value "{rhs}" in "{text}"; allowed: a finite number')
    if kind in ("p_break_by", "p_mrr_above") and not 0 <= value <= 1:
        raise _fail("--target", f'bad value "{rhs}" in "{text}": a probability; allowed: '
                    "0 <= value <= 1, or a percentage 0%..100%")
    return Target(quantity=lhs if not lhs.endswith("horizon") else
                  lhs[: -len("horizon")] + str(month), op=op, value=value, kind=kind,
                  month=month, metric=metric, q=q)


# -- the lever ---------------------------------------------------------------


def lever_spec(key: str, source: str = "--vary") -> ParamSpec:
    """The spec of a numeric per-path key that goal seek may vary.

    Raises
    ------
    ConfigError
        Unknown key, a run setting, a switch or per-unit distribution.
    """
    specs = param_specs(per_unit=False)
    if key in specs:
        return specs[key]
    allowed = ", ".join(specs)
    if key.startswith("simulation."):
        why = "a run setting, not a lever"
    elif key in ("alignment.enabled", "churn.mode"):
        why = "not a number (compare the settings with msp-sim compare)"
    elif key in param_specs(per_unit=True):
        why = "a per-customer/per-project distribution, not a per-path lever"
    else:
        close = difflib.get_close_matches(key, list(specs), n=1, cutoff=0.6)
        why = "unknown key" + (f" (did you mean {close[0]}?)" if close else "")
    raise ConfigError(source, [(key, MISSING, f"{why}; allowed: a numeric key: {allowed}")])


def _bounds(spec: ParamSpec) -> tuple[float, float]:
    lo = spec.ge if spec.ge is not None else spec.gt
    hi = spec.le if spec.le is not None else spec.lt
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def _inside(spec: ParamSpec, lo: float, hi: float) -> tuple[float, float]:
    """Clip ``[lo, hi]`` to the allowed values (open bounds nudged inside)."""
    a, b = _bounds(spec)
    lo, hi = max(lo, a), min(hi, b)
    if spec.gt is not None and lo <= spec.gt:
        lo = spec.gt + 1e-9 * max(1.0, abs(spec.gt))
    if spec.lt is not None and hi >= spec.lt:
        hi = spec.lt - 1e-9 * max(1.0, abs(spec.lt))
    if spec.integer:
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
    return lo, hi


def default_range(config: Config, key: str) -> tuple[float, float]:
    """The search range of a lever when none is given.

    The support of its distribution (0.1% and 99.9% quantiles where it is
    unbounded); for a number, +-50% of it; for 0, the key's allowed range if
    bounded. Always clipped to the allowed range.

    Raises
    ------
    ConfigError
        No range can be derived (a 0 with an unbounded allowed range).
    """
    spec = lever_spec(key)
    value = config.get(key)
    if isinstance(value, int | float):
        v = float(value)
        if v != 0:
            lo, hi = sorted((0.5 * v, 1.5 * v))
        else:
            lo, hi = _bounds(spec)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ConfigError("--range", [(key, MISSING, f"no default range: {key} = 0 and "
                                               "the key is unbounded; allowed: give --range "
                                               "LO:HI")])
    else:
        lo, hi = value.support()
        if not math.isfinite(lo):
            lo = float(value.frozen().ppf(0.001))
        if not math.isfinite(hi):
            hi = float(value.frozen().ppf(0.999))
    lo, hi = _inside(spec, lo, hi)
    if not lo < hi:
        raise ConfigError("--range", [(key, MISSING, f"no default range: [{_g(lo)}, {_g(hi)}] "
                                       "is empty; allowed: give --range LO:HI")])
    return lo, hi


def parse_range(text: str | tuple[float, float], key: str) -> tuple[float, float]:
    """Check a range ``"LO:HI"`` (or a pair) for a lever.

    Raises
    ------
    ConfigError
        With source ``--range``: not two numbers, ``LO >= HI``, or outside the
        key's allowed values.
    """
    spec = lever_spec(key)
    if isinstance(text, str):
        parts = text.split(":")
        try:
            if len(parts) != 2:
                raise ValueError
            lo, hi = float(parts[0]), float(parts[1])
        except ValueError:
            raise ConfigError("--range", [(key, MISSING, f'bad range: got "{text}"; allowed: '
                                           "LO:HI, two numbers such as 2:8")]) from None
    else:
        try:
            lo, hi = (float(x) for x in text)
        except (TypeError, ValueError):
            raise ConfigError("range", [(key, MISSING, f"bad range: got {text!r}; allowed: a "
                                         "pair (low, high) of numbers")]) from None
    shown = f"{_g(lo)}:{_g(hi)}"
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ConfigError("--range", [(key, MISSING, f"bad range: got {shown}; allowed: finite "
                                       "LO < HI")])
    if not spec.check(lo, hi):
        raise ConfigError("--range", [(key, MISSING, f"out of range: got {shown}; allowed: "
                                       f"{spec.range_text()}")])
    if spec.integer:
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
        if not lo < hi:
            raise ConfigError("--range", [(key, MISSING, f"bad range: got {shown}, which holds "
                                           "fewer than two integers; allowed: LO < HI "
                                           f"({key} is a count)")])
    return lo, hi


def with_value(config: Config, key: str, value: float) -> Config:
    """A copy of ``config`` with ``key`` set to the number ``value``."""
    section, name = key.split(".", 1)
    out = config.model_copy(deep=True)
    setattr(getattr(out, section), name, value)
    return out


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
            # targets read one per-path value (or the first passages): streamed, no
            # trajectories kept
            column = self.target.column
            run, values = simulate_columns(
                with_value(self.config, self.key, v), self.n_paths, self.seed,
                [] if column is None else [column], keep_paths=False,
                chunk_size=self.chunk_size, progress=self.progress, client=self.client)
            est = self.target.estimate(run, None if column is None else values[column])
            if not math.isfinite(est.value):
                raise ConfigError(self.key, [("", None, f"the simulation overflowed at "
                                              f"{self.key} = {_g(v)}: {self.target.quantity} "
                                              "is not a finite number; allowed: a --range "
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
class GoalResult:
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

    def to_json(self, indent: int | None = 2) -> str:
        """``goal.json`` as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> Any:
        """The evaluations as a pandas DataFrame (value, estimate, low, high, met), in order.

        Raises
        ------
        ImportError
            pandas is not installed.
        """
        pd = require_pandas()
        return pd.DataFrame([e._asdict() for e in self.evaluations])

    def plot(self) -> Any:
        """The outcome against the lever at every evaluation, with CIs and the answer.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..report.figures import goal_chart

        return goal_chart(self)

    def write(self, out_dir: str | Path, title: str | None = None) -> Path:
        """Write ``goal.json``, ``goal.png`` and ``goal.html`` into ``out_dir``, atomically
        (:func:`simulator.report.write_goal`)."""
        from ..report.files import write_goal

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
                         f"beyond {v(self.value)} (widen --range to find it)")
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
            raise _fail("--target", f"month {target.month} of {target.text} is beyond the "
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
            new_lo, new_hi = _inside(spec, lo - 2 * width if not good_high else lo,
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
                    "another lever or target, or a --range further out")
        elif good_high:
            hint = (f"try a --range reaching above {_g(hi)} (the target needs more {key}), "
                    f"e.g. --range={_g(lo)}:{_g(hi + (hi - lo))}")
        else:
            hint = (f"try a --range reaching below {_g(lo)} (the target needs less {key}), "
                    f"e.g. --range={_g(lo - (hi - lo))}:{_g(hi)}")
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
