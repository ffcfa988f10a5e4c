"""Distribution tables of the config (``{dist = "uniform", low = .., high = ..}``).

Each table is a pydantic model that knows its support and builds the frozen
``scipy.stats`` distribution it stands for. Nothing here draws random numbers:
sampling happens in :mod:`simulator.model.sampling` through inverse CDFs.

:func:`parse_distribution` turns a table read from TOML into one of these
models; every mistake in the table (no ``dist``, an unknown name, a missing
or unknown field, a field that is not a number, parameters that make no
distribution) becomes a :class:`ValueError` with one sentence saying what is
wrong and what is allowed. The caller adds the file, key and value.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

__all__ = [
    "DIST_FIELDS",
    "DIST_NAMES",
    "BetaDist",
    "Distribution",
    "LognormalDist",
    "NormalDist",
    "TriangularDist",
    "UniformDist",
    "describe_value",
    "kind_of",
    "parse_distribution",
    "quoted_number_hint",
]

DIST_NAMES: tuple[str, ...] = ("uniform", "triangular", "lognormal", "normal", "beta")
"""The allowed values of ``dist``."""

DIST_FIELDS: dict[str, str] = {
    "uniform": "low, high",
    "triangular": "low, mode, high",
    "lognormal": "median, sigma, optional low, high (values clipped to them)",
    "normal": "mean, sd, optional low, high (truncation)",
    "beta": "mean, sd",
}
"""The fields each table takes, in words (for messages and docs)."""

MIN_MASS = 1e-9
"""Least probability that the low/high bounds of a normal or lognormal table must hold."""


def _stats() -> Any:
    """``scipy.stats``, imported on first use so that validating a config stays quick."""
    from scipy import stats

    return stats


def _ndtr(z: float) -> float:
    """Standard normal CDF (accurate in both tails; ``z`` may be infinite)."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def kind_of(value: Any) -> str:
    """A value's TOML kind in words, for "wrong type: got ..." messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, Mapping) for v in value):
            return "an array of tables"
        return "an array"
    return f"a {type(value).__name__} value"


def quoted_number_hint(value: Any) -> str:
    """``" (write numbers without quotes)"`` for a string such as ``"0.1"``, else ``""``."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (write numbers without quotes)"
    return ""


def _number(value: Any) -> float:
    """Accept a finite TOML number only: no booleans, no strings such as ``"0.1"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"wrong type: got {kind_of(value)}; allowed: a number"
                         f"{quoted_number_hint(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: got {value}; allowed: a finite number")
    return value


Number = Annotated[float, BeforeValidator(_number)]
"""A finite float given as a TOML integer or float."""


def _g(x: float) -> str:
    return f"{x:g}"


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    dist: str

    def support(self) -> tuple[float, float]:
        """Smallest interval holding every value the distribution can give.

        Returns
        -------
        (float, float)
            ``(low, high)``; either may be infinite.
        """
        raise NotImplementedError

    def open_ends(self) -> tuple[bool, bool]:
        """Whether each end of :meth:`support` has probability zero.

        True for continuous distributions (a uniform never gives exactly its
        ``high``); False where clipping puts probability on the bound. A
        strict limit such as ``value < 1`` accepts a support ending at 1 only
        when that end is open.
        """
        return (True, True)

    def frozen(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (``ppf``, ``cdf``, ``mean``)."""
        raise NotImplementedError

    def mean(self) -> float:
        """The distribution's mean (computed once per table: a table is immutable, and
        building its ``scipy.stats`` object costs a millisecond or more)."""
        return _mean_of(self)

    def describe(self) -> str:
        """Compact text such as ``uniform(low=0.08, high=0.15)``."""
        fields = ", ".join(
            f"{k}={_g(v)}"
            for k, v in self.model_dump(exclude={"dist"}, by_alias=True).items()
            if v is not None
        )
        return f"{self.dist}({fields})"


@functools.lru_cache(maxsize=4096)
def _mean_of(table: _Dist) -> float:
    """The mean of a (frozen, hashable) table; equal tables share one computation."""
    return float(table.frozen().mean())


class UniformDist(_Dist):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: Number
    high: Number

    @model_validator(mode="after")
    def _check(self) -> UniformDist:
        if not self.low < self.high:
            hint = "; for a fixed value write the number itself" if self.low == self.high else ""
            raise ValueError(
                f"impossible uniform: got low = {_g(self.low)}, high = {_g(self.high)}; "
                f"allowed: low < high{hint}"
            )
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def frozen(self) -> Any:
        return _stats().uniform(loc=self.low, scale=self.high - self.low)


class TriangularDist(_Dist):
    """Triangular with ``low <= mode <= high`` and ``low < high``."""

    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number

    @model_validator(mode="after")
    def _check(self) -> TriangularDist:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"impossible triangular: got low = {_g(self.low)}, mode = {_g(self.mode)}, "
                f"high = {_g(self.high)}; allowed: low <= mode <= high and low < high"
            )
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def frozen(self) -> Any:
        width = self.high - self.low
        return _stats().triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


class _Bounded(_Dist):
    """Shared optional ``low``/``high`` of the normal and lognormal tables."""

    low: Number | None = None
    high: Number | None = None

    def _base(self) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        """Compact text such as ``lognormal(median=20, sigma=0.6, low=3, high=200)``."""
        values = self.model_dump(exclude={"dist"}, by_alias=True)
        order = [k for k in values if k not in ("low", "high")] + ["low", "high"]
        fields = ", ".join(f"{k}={_g(values[k])}" for k in order if values[k] is not None)
        return f"{self.dist}({fields})"

    def _bounds_word(self) -> str:
        raise NotImplementedError

    def _check_bounds(self) -> None:
        word = self._bounds_word()
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(
                f"impossible {self.dist}: got {word} bounds low = {_g(self.low)}, "
                f"high = {_g(self.high)}; allowed: low < high"
            )
        lo, hi = self.support()
        given = ", ".join(
            f"{k} = {_g(v)}" for k, v in (("low", self.low), ("high", self.high)) if v is not None
        )
        if not lo < hi:  # e.g. a lognormal with high <= 0
            raise ValueError(
                f"impossible {self.dist}: got {word} bounds {given} outside the values a "
                f"{self.dist} takes ({self._natural()}); allowed: bounds that overlap them"
            )
        z_lo, z_hi = self._z(lo), self._z(hi)
        mass = max(_ndtr(z_hi) - _ndtr(z_lo), _ndtr(-z_lo) - _ndtr(-z_hi))
        if not mass >= MIN_MASS:
            raise ValueError(
                f"impossible {self.dist}: got {word} bounds {given} that hold almost no "
                f"probability (P = {mass:.2g}) under {self._center()}; allowed: bounds around the "
                "bulk of the distribution"
            )

    def _natural(self) -> str:
        return "0 < value < inf" if self.dist == "lognormal" else "any number"

    def _center(self) -> str:
        raise NotImplementedError

    def _natural_support(self) -> tuple[float, float]:
        raise NotImplementedError

    def _z(self, x: float) -> float:
        """The standard-normal quantile of ``x`` (``cdf(x) = ndtr(z(x))``)."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        lo, hi = self._natural_support()
        if self.low is not None:
            lo = max(lo, self.low)
        if self.high is not None:
            hi = min(hi, self.high)
        return (lo, hi)


class LognormalDist(_Bounded):
    """Lognormal with the given ``median`` and log-sd ``sigma``; values clipped to low/high.

    Clipping (not truncation) puts the probability beyond a bound on the
    bound itself.
    """

    dist: Literal["lognormal"]
    median: Number
    sigma: Number

    @model_validator(mode="after")
    def _check(self) -> LognormalDist:
        for name in ("median", "sigma"):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"impossible lognormal: got {name} = {_g(getattr(self, name))}; "
                    f"allowed: {name} > 0"
                )
        self._check_bounds()
        return self

    def _bounds_word(self) -> str:
        return "clip"

    def _center(self) -> str:
        return f"lognormal(median={_g(self.median)}, sigma={_g(self.sigma)})"

    def _base(self) -> Any:
        return _stats().lognorm(s=self.sigma, scale=self.median)

    def _natural_support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def open_ends(self) -> tuple[bool, bool]:
        # Clipping puts the tail probability on a bound; a clip at or below 0 never binds.
        return (self.low is None or self.low <= 0, self.high is None)

    def _z(self, x: float) -> float:
        if x <= 0:
            return -math.inf
        if math.isinf(x):
            return math.inf
        return (math.log(x) - math.log(self.median)) / self.sigma

    def _partial_moment(self, k: int, a: float, b: float) -> float:
        """``E[X**k; a <= X <= b]`` of the unclipped lognormal."""
        mu, s = math.log(self.median), self.sigma

        def z(x: float) -> float:
            if x <= 0:
                return -math.inf
            if math.isinf(x):
                return math.inf
            return (math.log(x) - mu - k * s * s) / s

        scale = math.exp(k * mu + 0.5 * k * k * s * s)
        return scale * (_ndtr(z(b)) - _ndtr(z(a)))

    def frozen(self) -> Any:
        if self.low is None and self.high is None:
            return self._base()
        return _Clipped(self._base(), *self.support(), partial_moment=self._partial_moment)


class NormalDist(_Bounded):
    """Normal with ``mean`` and ``sd``, truncated to ``[low, high]`` when given."""

    dist: Literal["normal"]
    mean_: Number = Field(alias="mean")
    sd: Number

    @model_validator(mode="after")
    def _check(self) -> NormalDist:
        if not self.sd > 0:
            raise ValueError(f"impossible normal: got sd = {_g(self.sd)}; allowed: sd > 0")
        self._check_bounds()
        return self

    def _bounds_word(self) -> str:
        return "truncation"

    def _center(self) -> str:
        return f"normal(mean={_g(self.mean_)}, sd={_g(self.sd)})"

    def _base(self) -> Any:
        return _stats().norm(loc=self.mean_, scale=self.sd)

    def _natural_support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def _z(self, x: float) -> float:
        return (x - self.mean_) / self.sd

    def frozen(self) -> Any:
        if self.low is None and self.high is None:
            return self._base()
        lo, hi = self.support()
        return _stats().truncnorm(
            (lo - self.mean_) / self.sd, (hi - self.mean_) / self.sd, loc=self.mean_, scale=self.sd
        )


_BETA_MAX_SHAPE = 1e8
"""Largest a + b of a beta: a smaller sd is a number, not a distribution (and a + b
overflows on the way to sd = 0)."""


class BetaDist(_Dist):
    """Beta on ``[0, 1]`` given by its ``mean`` and standard deviation ``sd``."""

    dist: Literal["beta"]
    mean_: Number = Field(alias="mean")
    sd: Number

    @model_validator(mode="after")
    def _check(self) -> BetaDist:
        if not 0 < self.mean_ < 1:
            raise ValueError(
                f"impossible beta: got mean = {_g(self.mean_)}; allowed: 0 < mean < 1"
            )
        if not self.sd > 0:
            raise ValueError(f"impossible beta: got sd = {_g(self.sd)}; allowed: sd > 0")
        limit = math.sqrt(self.mean_ * (1.0 - self.mean_))
        if not self.sd < limit:
            raise ValueError(
                f"impossible beta: sd too large for mean = {_g(self.mean_)}: got sd = "
                f"{_g(self.sd)}; allowed: sd < sqrt(mean * (1 - mean)) = {limit:.4g}"
            )
        least = limit / math.sqrt(_BETA_MAX_SHAPE)  # a + b - 1 = mean (1 - mean) / sd^2
        if not self.sd >= least:
            raise ValueError(
                f"impossible beta: sd too small for mean = {_g(self.mean_)}: got sd = "
                f"{_g(self.sd)}; allowed: sd >= {least:.3g} (or the number {_g(self.mean_)} "
                "itself)"
            )
        return self

    def _ab(self) -> tuple[float, float]:
        m, v = self.mean_, self.sd**2
        k = m * (1.0 - m) / v - 1.0
        return m * k, (1.0 - m) * k

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def frozen(self) -> Any:
        a, b = self._ab()
        return _stats().beta(a, b)


class _Clipped:
    """A frozen scipy distribution whose values are clipped to ``[lo, hi]``.

    Clipping (not truncation) puts the tail mass on the bounds, as a
    "lognormal with low/high clip" table asks for. Offers the part of the
    frozen-distribution interface the simulator uses.

    Parameters
    ----------
    base : frozen scipy distribution
        The unclipped distribution.
    lo, hi : float
        Clip bounds (``lo`` may be the base's lower support, ``hi`` ``inf``).
    partial_moment : callable ``(k, a, b) -> E[X**k; a <= X <= b]``
        Of the base distribution; gives exact moments without quadrature.
    """

    def __init__(
        self,
        base: Any,
        lo: float,
        hi: float,
        partial_moment: Callable[[int, float, float], float],
    ):
        self.base, self.lo, self.hi = base, lo, hi
        self._partial = partial_moment

    def ppf(self, q: Any) -> Any:
        return np.clip(self.base.ppf(q), self.lo, self.hi)

    def cdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=np.float64)
        out = np.where(x < self.lo, 0.0, np.where(x >= self.hi, 1.0, self.base.cdf(x)))
        return out[()] if out.ndim == 0 else out

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        return np.clip(self.base.rvs(size=size, random_state=random_state), self.lo, self.hi)

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)

    def _moment(self, k: int) -> float:
        below = float(self.base.cdf(self.lo)) * self.lo**k if self.lo > -math.inf else 0.0
        above = float(self.base.sf(self.hi)) * self.hi**k if self.hi < math.inf else 0.0
        return below + above + self._partial(k, self.lo, self.hi)

    def mean(self) -> float:
        return self._moment(1)

    def var(self) -> float:
        return max(self._moment(2) - self._moment(1) ** 2, 0.0)

    def std(self) -> float:
        return math.sqrt(self.var())

    def median(self) -> float:
        return float(self.ppf(0.5))


Distribution = Annotated[
    UniformDist | TriangularDist | LognormalDist | NormalDist | BetaDist,
    Field(discriminator="dist"),
]
"""Any distribution table, told apart by its ``dist`` field."""

_ADAPTER: TypeAdapter = TypeAdapter(Distribution)
_MODELS: dict[str, type[_Dist]] = {
    "uniform": UniformDist,
    "triangular": TriangularDist,
    "lognormal": LognormalDist,
    "normal": NormalDist,
    "beta": BetaDist,
}


def _names() -> str:
    return ", ".join(f'"{n}"' for n in DIST_NAMES)


def parse_distribution(table: Mapping[str, Any]) -> Any:
    """Validate a distribution table read from TOML.

    Parameters
    ----------
    table : mapping
        E.g. ``{"dist": "uniform", "low": 0.08, "high": 0.15}``.

    Returns
    -------
    UniformDist, TriangularDist, LognormalDist, NormalDist or BetaDist

    Raises
    ------
    ValueError
        One sentence: what is wrong and what is allowed, e.g.
        ``missing field "high" in a uniform table; allowed fields: low, high``.
    """
    if "dist" not in table:
        raise ValueError(
            f'a distribution table needs a "dist" field; allowed: dist = {_names()} '
            "(or write a plain number)"
        )
    name = table["dist"]
    if not isinstance(name, str) or name not in _MODELS:
        shown = f'"{name}"' if isinstance(name, str) else str(name)
        raise ValueError(f"unknown distribution: got dist = {shown}; allowed: dist = {_names()}")
    try:
        return _ADAPTER.validate_python(dict(table))
    except ValidationError as exc:
        raise ValueError(_table_message(name, exc)) from None


def _table_message(name: str, exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"] if str(p) != name]
    field = loc[0] if loc else ""
    msg = str(err["msg"]).removeprefix("Value error, ")
    fields = DIST_FIELDS[name]
    if err["type"] == "missing":
        return f'missing field "{field}" in a {name} table; allowed fields: {fields}'
    if err["type"] == "extra_forbidden":
        return f'unknown field "{field}" in a {name} table; allowed fields: {fields}'
    if field:
        return f'field "{field}" of the {name} table: {msg}'
    return msg


def describe_value(value: Any) -> str:
    """Text of a config value: a number as written, a distribution as ``name(...)``."""
    if hasattr(value, "describe"):
        return value.describe()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
