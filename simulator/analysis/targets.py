"""The grammar of a goal seek: targets (``QUANTITY OP VALUE``, see
:mod:`simulator.analysis.goal`) and the lever varied, with its range.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..config import Config, ConfigError, param_specs
from ..config.loader import MISSING
from ..config.schema import ParamSpec
from ..model.metrics import METRICS
from ..results import Estimate, SimulationResult, proportion
from .common import CONFIDENCE, mean_ci

__all__ = ["TARGET_GRAMMAR", "Target", "default_range", "lever_spec", "number_text",
           "parse_range", "parse_target", "target_error", "with_value", "within_bounds"]

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


def target_error(source: str, message: str) -> ConfigError:
    """A one-line error of ``source`` (a flag or key)."""
    return ConfigError(source, [("", None, message)])


def number_text(x: float) -> str:
    """A number as short as ``%g`` writes it."""
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
        return f"{self.quantity} {self.op} {number_text(self.value)}"

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
            return proportion(int(np.count_nonzero(mrr >= result.threshold_mrr)),
                              result.n_paths)
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
        With source ``target``: the text, what is wrong and the grammar.
    """
    if not isinstance(text, str):
        raise target_error("target", f"wrong type: got {type(text).__name__}; allowed: a string "
                    f"such as {TARGET_GRAMMAR}")
    m = _TARGET_RE.match(text)
    if not m:
        raise target_error("target", f'bad target: got "{text}"; allowed: {TARGET_GRAMMAR}')
    lhs, op_text, rhs = m.group("lhs"), m.group("op"), m.group("rhs")
    op = _OPS.get(op_text)
    if op is None:
        raise target_error("target", f'bad comparison "{op_text}" in "{text}"; allowed: >= or <= '
                    "(estimates are shares or quantiles: > and < are not distinguished)")
    lhs = lhs.lower()

    def month_of(word: str) -> int:
        if word == "horizon":
            if months is None:
                raise target_error("target", f'"horizon" in "{text}" needs the config\'s horizon')
            return int(months)
        value = int(word)
        if months is not None and value > months:
            raise target_error("target", f'month {value} in "{text}" is beyond the horizon '
                        f"(simulation.months = {months}); allowed: 0..{months}")
        return value

    kind, metric, q = None, None, None
    for prefix in ("p_break_by_", "p_mrr_above_"):
        if lhs.startswith(prefix):
            word = lhs[len(prefix):]
            if not (word.isdigit() or word == "horizon"):
                raise target_error("target", f'bad month "{word}" in "{text}"; allowed: '
                            f"{prefix}<month> with a month 0..horizon or 'horizon'")
            kind, month = prefix[:-1], month_of(word)
            break
    else:
        sm = _STAT_RE.match(lhs)
        if not sm:
            raise target_error("target", f'bad quantity "{lhs}" in "{text}"; allowed: '
                        f"{TARGET_GRAMMAR}")
        metric = sm.group("metric")
        if metric not in METRICS:
            raise target_error("target", f'unknown metric "{metric}" in "{text}"; allowed: '
                        f"{', '.join(METRICS)}")
        stat = sm.group("stat")
        if stat == "mean":
            kind = "mean"
        else:
            q = float(stat[1:]) / 100
            if not 0 < q < 1:
                raise target_error("target", f'bad percentile "{stat}" in "{text}"; allowed: '
                            "p1 .. p99")
            kind = "quantile"
        month = month_of(sm.group("month"))
    percent = rhs.endswith("%")
    try:
        value = float(rhs[:-1] if percent else rhs)
    except ValueError:
        raise target_error("target", f'bad value "{rhs}" in "{text}"; allowed: a number'
                    + (" or a percentage such as 80%" if kind.startswith("p_") else "")
                    ) from None
    if percent:
        value /= 100
    if not math.isfinite(value):
        raise target_error("target", f'bad value "{rhs}" in "{text}"; allowed: a finite number')
    if kind in ("p_break_by", "p_mrr_above") and not 0 <= value <= 1:
        raise target_error("target", f'bad value "{rhs}" in "{text}": a probability; allowed: '
                    "0 <= value <= 1, or a percentage 0%..100%")
    return Target(quantity=lhs if not lhs.endswith("horizon") else
                  lhs[: -len("horizon")] + str(month), op=op, value=value, kind=kind,
                  month=month, metric=metric, q=q)


# -- the lever ---------------------------------------------------------------


def lever_spec(key: str, source: str = "vary") -> ParamSpec:
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


def within_bounds(spec: ParamSpec, lo: float, hi: float) -> tuple[float, float]:
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
                raise ConfigError("range", [(key, MISSING, f"no default range: {key} = 0 and "
                                               "the key is unbounded; allowed: give `range` "
                                               "LO:HI")])
    else:
        lo, hi = value.support()
        if not math.isfinite(lo):
            lo = float(value.frozen().ppf(0.001))
        if not math.isfinite(hi):
            hi = float(value.frozen().ppf(0.999))
    lo, hi = within_bounds(spec, lo, hi)
    if not lo < hi:
        raise ConfigError("range", [(key, MISSING, f"no default range: [{number_text(lo)}, "
                                       f"{number_text(hi)}] is empty; allowed: give "
                                       "`range` LO:HI")])
    return lo, hi


def parse_range(text: str | tuple[float, float], key: str) -> tuple[float, float]:
    """Check a range ``"LO:HI"`` (or a pair) for a lever.

    Raises
    ------
    ConfigError
        With source ``range``: not two numbers, ``LO >= HI``, or outside the
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
            raise ConfigError("range", [(key, MISSING, f'bad range: got "{text}"; allowed: '
                                           "LO:HI, two numbers such as 2:8")]) from None
    else:
        try:
            lo, hi = (float(x) for x in text)
        except (TypeError, ValueError):
            raise ConfigError("range", [(key, MISSING, f"bad range: got {text!r}; allowed: a "
                                         "pair (low, high) of numbers")]) from None
    shown = f"{number_text(lo)}:{number_text(hi)}"
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ConfigError("range", [(key, MISSING, f"bad range: got {shown}; allowed: finite "
                                       "LO < HI")])
    if not spec.check(lo, hi):
        raise ConfigError("range", [(key, MISSING, f"out of range: got {shown}; allowed: "
                                       f"{spec.range_text()}")])
    if spec.integer:
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
        if not lo < hi:
            raise ConfigError("range", [(key, MISSING, f"bad range: got {shown}, which holds "
                                           "fewer than two integers; allowed: LO < HI "
                                           f"({key} is a count)")])
    return lo, hi


def with_value(config: Config, key: str, value: float) -> Config:
    """A copy of ``config`` with ``key`` set to the number ``value``."""
    section, name = key.split(".", 1)
    out = config.model_copy(deep=True)
    setattr(getattr(out, section), name, value)
    return out
