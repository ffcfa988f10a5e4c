"""The config schema: every section and key of MODEL.md, with units, ranges
and defaults.

This module is the one place that says which keys exist, what each means,
its unit, the values it may take and where its default comes from. A model
parameter may be a number or a distribution table; per-path draws of those
tables are made in :mod:`simulator.model.sampling`.

Two keys are *per-unit* distributions rather than per-path uncertainty:
``customers.seats`` (the size of each new customer) and ``projects.size``
(the size of each project); the engine samples them per customer or project.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .distributions import (
    Distribution,
    LognormalDist,
    TriangularDist,
    UniformDist,
    kind_of,
    parse_distribution,
    quoted_number_hint,
)

__all__ = [
    "PAIR_FORM",
    "BookClient",
    "SECTIONS",
    "Config",
    "CorrelationPair",
    "Correlations",
    "LeverTable",
    "Levers",
    "ParamSpec",
    "ParamValue",
    "param_specs",
    "section_model",
    "uncertain_default",
]

ParamValue = float | Distribution


def _g(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class ParamSpec:
    """What a numeric key means and which values it may take.

    Attributes
    ----------
    unit : str
        Unit of the value, e.g. ``"$/seat/month"``.
    source : str
        Where the default comes from (a seed article, a survey, an assumption).
    ge, gt, le, lt : float or None
        Bounds: ``value >= ge``, ``value > gt``, ``value <= le``, ``value < lt``.
    integer : bool
        A count; distribution draws are rounded to the nearest integer.
    per_unit : bool
        A per-customer/per-project distribution rather than per-path uncertainty.
    plausible : (float, float) or None
        For an assumption: the sourced range of values a typical MSP may have
        (docs/calibration.md); ``None`` for what the user measures or decides.
    point : float or None
        For an assumption whose source gives one value: that value. The key's
        default is then uncertain, ``triangular(low, mode=point, high)`` over
        :attr:`plausible` (drawn per path unless the config sets the key).
    """

    unit: str
    source: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    integer: bool = False
    per_unit: bool = False
    plausible: tuple[float, float] | None = None
    point: float | None = None

    @property
    def assumption(self) -> bool:
        """An input no measurement of the user's business pins down: it has a sourced
        plausible range that ``msp-sim sensitivity --all-assumptions`` scans."""
        return self.plausible is not None

    def range_text(self) -> str:
        """The bounds alone, e.g. ``0 <= value < 1`` (empty when unbounded)."""
        lo = f"{_g(self.ge)} <= " if self.ge is not None else (
            f"{_g(self.gt)} < " if self.gt is not None else "")
        hi = f" <= {_g(self.le)}" if self.le is not None else (
            f" < {_g(self.lt)}" if self.lt is not None else "")
        return f"{lo}value{hi}" if lo or hi else ""

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``a number with 0 <= value < 1, or ...``."""
        kind = "an integer" if self.integer else "a number"
        rounded = " (draws are rounded to the nearest integer)" if self.integer else ""
        rng = self.range_text()
        if not rng:
            return f"{kind}, or a distribution table{rounded}"
        return f"{kind} with {rng}, or a distribution table inside that range{rounded}"

    def check(self, lo: float, hi: float, open_lo: bool = False, open_hi: bool = False) -> bool:
        """Whether every value in ``[lo, hi]`` is allowed.

        ``open_lo``/``open_hi`` say that the end is never taken (probability
        zero), so ``lo == gt`` or ``hi == lt`` is still allowed.
        """
        if self.ge is not None and not lo >= self.ge:
            return False
        if self.gt is not None and not (lo > self.gt or (open_lo and lo == self.gt)):
            return False
        if self.le is not None and not hi <= self.le:
            return False
        if self.lt is not None and not (hi < self.lt or (open_hi and hi == self.lt)):
            return False
        return True

    def validate(self, value: Any) -> Any:
        """A config value checked against this spec.

        Parameters
        ----------
        value : Any
            As read from TOML: a number or a distribution table (or a
            distribution model already built).

        Returns
        -------
        float or distribution model

        Raises
        ------
        ValueError
            ``"<problem>: got <what>; allowed: <what is allowed>"``.
        """
        if isinstance(value, bool) or isinstance(value, str | list | tuple) or value is None:
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {self.allowed()}"
                             f"{quoted_number_hint(value)}")
        open_lo = open_hi = False
        if isinstance(value, int | float):
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"not a finite number: got {value}; allowed: {self.allowed()}")
            if self.integer and not value.is_integer():
                raise ValueError(f"not an integer: got {_g(value)}; allowed: {self.allowed()}")
            lo = hi = value
        elif isinstance(value, dict) or (hasattr(value, "support") and hasattr(value, "frozen")):
            if isinstance(value, dict):
                value = parse_distribution(value)
            lo, hi = value.support()
            open_lo, open_hi = value.open_ends()
        else:
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {self.allowed()}")
        if not self.check(lo, hi, open_lo, open_hi):
            if lo == hi:
                what = _g(lo)
            else:
                left = "(" if math.isinf(lo) else "["
                right = ")" if math.isinf(hi) else "]"
                what = f"a {value.dist} with values in {left}{_g(lo)}, {_g(hi)}{right}"
                if value.dist in ("normal", "lognormal") and (
                    math.isinf(lo) or math.isinf(hi)
                ):
                    what += f" (give the {value.dist} low/high bounds inside the range)"
            raise ValueError(f"out of range: got {what}; allowed: {self.allowed()}")
        return value


def param(default: Any, unit: str, source: str, **limits: Any) -> Any:
    """A numeric model parameter: a number or a distribution table.

    Parameters
    ----------
    default : float or distribution model
        Value when the config leaves the key out.
    unit, source : str
        See :class:`ParamSpec`.
    **limits
        ``ge``, ``gt``, ``le``, ``lt``, ``integer``, ``per_unit``, ``plausible`` of
        :class:`ParamSpec`.
    """
    spec = ParamSpec(unit=unit, source=source, **limits)
    default, spec = uncertain_default(default, spec)
    # the spec rides in json_schema_extra, which pydantic types as JSON values only
    extra = cast(dict[str, Any], {"spec": spec})
    return Field(default=default, validate_default=True, json_schema_extra=extra)


def uncertain_default(default: Any, spec: ParamSpec) -> tuple[Any, ParamSpec]:
    """An assumption's default made uncertain (issue 24): a sourced single value ``x`` of a
    key with a plausible range ``(lo, hi)`` becomes a triangular distribution whose mean is
    ``x`` (the calibration to the benchmarks, docs/calibration.md, holds on average),
    spread over the plausible range: mode ``3x - lo - hi``; where ``x`` lies in an outer
    third of the range the mode sits at the near end and the far end comes in to
    ``3x - 2 lo`` (or ``3x - 2 hi``) to keep that mean; ``x`` at an end of its range gives
    ``triangular(lo, x, hi)``. The spec remembers ``point = x``. Unchanged: keys without a
    plausible range, per-unit keys and defaults that are distributions already.

    Raises
    ------
    ValueError
        The sourced value lies outside its own plausible range (a schema mistake).
    """
    if spec.plausible is None or spec.per_unit or not isinstance(default, int | float):
        return default, spec
    lo, hi = spec.plausible
    x = float(default)
    if not lo <= x <= hi or not lo < hi:
        raise ValueError(f"default {x:g} outside its plausible range {lo:g}-{hi:g}")
    mode = 3 * x - lo - hi
    if x in (lo, hi):
        mode = x
    elif mode < lo:
        mode, hi = lo, 3 * x - 2 * lo
    elif mode > hi:
        mode, lo = hi, 3 * x - 2 * hi
    from dataclasses import replace

    return (TriangularDist(dist="triangular", low=_round6(lo), mode=_round6(mode),
                           high=_round6(hi)), replace(spec, point=x))


def _round6(x: float) -> float:
    return float(f"{x:.6g}")


def _spec(model: type[BaseModel], name: str | None) -> ParamSpec | None:
    extra = model.model_fields[name].json_schema_extra if name is not None else None
    spec = extra.get("spec") if isinstance(extra, dict) else None
    return spec if isinstance(spec, ParamSpec) else None


def section_model(section: str) -> type[BaseModel]:
    """The pydantic model of a config section (``"churn"`` -> :class:`Churn`)."""
    return cast(type[BaseModel], Config.model_fields[section].annotation)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _parse_param(cls, value: Any, info: ValidationInfo) -> Any:
        spec = _spec(cls, info.field_name)
        if spec is None:
            return value
        try:
            return spec.validate(value)
        except (TypeError, ArithmeticError) as exc:  # never a traceback for a bad value
            raise ValueError(f"invalid value ({exc}); allowed: {spec.allowed()}") from None


def _choice(value: Any, choices: dict[str, str], what: str) -> str:
    """A string key that takes one of ``choices`` (name -> meaning)."""
    allowed = ", ".join(f'"{k}" ({v})' for k, v in choices.items())
    if not isinstance(value, str):
        raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {allowed}")
    if value not in choices:
        raise ValueError(f"unknown {what}: got \"{value}\"; allowed: {allowed}")
    return value


def _setting_int(value: Any, ge: int, le: int) -> int:
    allowed = f"an integer with {ge} <= value <= {le}"
    if isinstance(value, dict):
        raise ValueError(
            f"wrong type: got a table; allowed: {allowed} (run settings cannot be distributions)"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {allowed}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not an integer: got {_g(value)}; allowed: {allowed}")
        value = int(value)
    if not ge <= value <= le:
        raise ValueError(f"out of range: got {value}; allowed: {allowed}")
    return value


_SETTING_INTS: dict[str, tuple[int, int]] = {
    "months": (1, 600),
    "paths": (1, 100_000_000),
    "seed": (0, 2**63 - 1),
    "sustain_months": (1, 600),
}
SAMPLING_METHODS: dict[str, str] = {
    "random": "independent uniforms",
    "lhs": "Latin hypercube",
    "sobol": "scrambled Sobol",
}
DEFAULT_SUSTAIN_MONTHS = 6
"""Months running at or above the threshold that count as breaking it: half a year, so
that a run of signings that churn takes back is not counted (docs/model.md)."""
CHURN_MODES: dict[str, str] = {
    "hazard": "any month",
    "renewal": "only at contract renewal",
}


class Simulation(BaseModel):
    """Run settings (never distributions)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    months: int = Field(60, ge=1, le=600, description="months: horizon H")
    paths: int = Field(10_000, ge=1, le=100_000_000, description="paths: Monte Carlo paths")
    seed: int = Field(20261123, ge=0, le=2**63 - 1, description="integer: run seed")
    threshold_mrr: float = Field(
        100_000.0, gt=0, allow_inf_nan=False,
        description="$/month: MRR threshold for the first passage",
    )
    sustain_months: int = Field(
        DEFAULT_SUSTAIN_MONTHS, ge=1, le=600,
        description="months: consecutive months at/above the threshold that count as breaking it",
    )
    sampling: Literal["random", "lhs", "sobol"] = Field(
        "random", description="random | lhs | sobol: per-path parameter draws"
    )
    start_date: datetime.date | None = Field(
        None, description="date: month 0 on the calendar (optional; e.g. 2026-12-01 or "
        '"2026-12"): reports name months by their calendar month too'
    )

    @field_validator("start_date", mode="before")
    @classmethod
    def _start_date(cls, value: Any) -> Any:
        allowed = 'a date, e.g. start_date = 2026-12-01 or "2026-12"'
        if value is None or isinstance(value, datetime.date) and not isinstance(
                value, datetime.datetime):
            return value
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, str):
            text = value.strip()
            match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
            if match:
                try:
                    return datetime.date(int(match[1]), int(match[2]), int(match[3] or 1))
                except ValueError:
                    pass
            raise ValueError(f"not a date: got {value!r}; allowed: {allowed}")
        raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {allowed}")

    @model_validator(mode="before")
    @classmethod
    def _default_sustain(cls, data: Any) -> Any:
        """A break is sustained for ``DEFAULT_SUSTAIN_MONTHS`` unless the file says
        otherwise (the whole horizon when that is shorter)."""
        if isinstance(data, dict) and "sustain_months" not in data:
            months = data.get("months", 60)
            if isinstance(months, int | float) and not isinstance(months, bool) and months >= 1:
                data = {**data, "sustain_months": int(min(DEFAULT_SUSTAIN_MONTHS, months))}
        return data

    @field_validator("months", "paths", "seed", "sustain_months", mode="before")
    @classmethod
    def _int_setting(cls, value: Any, info: ValidationInfo) -> int:
        return _setting_int(value, *_SETTING_INTS[str(info.field_name)])

    @field_validator("threshold_mrr", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> float:
        allowed = "a number > 0"
        if isinstance(value, dict):
            raise ValueError(
                f"wrong type: got a table; allowed: {allowed} "
                "(run settings cannot be distributions)"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {allowed}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"out of range: got {value}; allowed: {allowed}")
        return float(value)

    @field_validator("sampling", mode="before")
    @classmethod
    def _sampling(cls, value: Any) -> str:
        return _choice(value, SAMPLING_METHODS, "sampling method")

    @field_validator("sustain_months")
    @classmethod
    def _sustain_within_horizon(cls, value: int, info: ValidationInfo) -> int:
        months = info.data.get("months")
        if isinstance(months, int) and value > months:
            raise ValueError(f"out of range: got {value}, longer than the horizon "
                             f"(simulation.months = {months}), so no path could ever break "
                             f"the threshold; allowed: 1 <= value <= {months}")
        return value


class BookClient(BaseModel):
    """One client of today's book, exactly: its seats, its fee and where its contract is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str = ""
    seats: float = Field(gt=0, le=100_000, allow_inf_nan=False)
    monthly_fee: float = Field(ge=0, le=1e9, allow_inf_nan=False)
    contract_month: int = Field(0, ge=0, le=10_000)

    def describe(self) -> str:
        """``Acme: 20 seats, $2,400/month, month 7 of its contract``."""
        name = f"{self.client}: " if self.client else ""
        return (f"{name}{self.seats:g} seats, ${self.monthly_fee:,.0f}/month, month "
                f"{self.contract_month} of its contract")


class Start(_Section):
    book: tuple[BookClient, ...] = Field(
        (), description="clients: today's book exactly, [[start.book]] client, seats, "
        "monthly_fee ($/month), contract_month (months since the contract began); "
        "start.customers is their number (msp-sim fit writes it)")

    @model_validator(mode="before")
    @classmethod
    def _book_count(cls, data: Any) -> Any:
        """A book gives ``customers`` its number when the config leaves it out."""
        if isinstance(data, dict) and isinstance(data.get("book"), list | tuple) \
                and data["book"] and "customers" not in data:
            data = {**data, "customers": len(data["book"])}
        return data

    @field_validator("customers", mode="after")
    @classmethod
    def _customers_of_book(cls, value: Any, info: ValidationInfo) -> Any:
        book = info.data.get("book")
        if book and value != len(book):
            raise ValueError(f"start.book lists {len(book)} clients; allowed: "
                             f"{len(book)}, the number of clients in the book (or leave "
                             "start.customers out)")
        return value

    customers: ParamValue = param(0, "customers", "the user's business today", ge=0, le=20_000,
                                  integer=True)
    techs: ParamValue = param(1, "technicians", "the user's business today", ge=0, le=2_000,
                              integer=True)
    managers: ParamValue = param(0, "service managers", "the user's business today (or a "
                                 "plan: a service manager hired now)", ge=0, le=200,
                                 integer=True)
    cash: ParamValue = param(50_000.0, "$", "the user's business today", ge=-1e12, le=1e12)
    legacy_product_revenue: ParamValue = param(0.0, "$/month", "the user's business today",
                                               ge=0, le=1e9)
    legacy_project_revenue: ParamValue = param(0.0, "$/month", "the user's business today",
                                               ge=0, le=1e9)
    alignment_score: ParamValue = param(0.0, "score in [0, 1]", "new customers start "
                                        "misaligned (seed 004)", ge=0, le=1)
    maintenance_debt: ParamValue = param(0.0, "share of the estate neglected, in [0, 1]",
                                         "the user's business today: a plateaued shop "
                                         "that has skipped maintenance for months starts "
                                         "with some (seed 004's reactive spiral)", ge=0,
                                         le=1)


class Sales(_Section):
    meetings_per_selling_hour: ParamValue = param(
        UniformDist(dist="uniform", low=0.1, high=0.15), "meetings per owner selling hour",
        "MODEL.md probe: about 5 meetings a month from about 40 selling hours (4-6 of 40); "
        "measure: first meetings / hours prospecting", ge=0, le=1, plausible=(0.05, 0.25))
    reps: ParamValue = param(0, "salespeople", "seed 003 sales engine", ge=0, le=200,
                             integer=True)
    rep_start_month: ParamValue = param(1, "month", "the user's plan: month the reps start",
                                        ge=1, le=600, integer=True)
    rep_hire_margin_multiple: ParamValue = param(
        0.0, "x the reps' monthly cost", "the user's plan (a trigger rule): the reps start, "
        "no earlier than rep_start_month, the month after a month whose gross profit covers "
        "this many times their monthly cost (0: at rep_start_month)", ge=0, le=100)
    rep_ramp_months: ParamValue = param(
        TriangularDist(dist="triangular", low=3.0, mode=5.0, high=12.0),
        "months to full productivity", "Bridge Group: account executives ramp in about 5 "
        "months; Sales Benchmark Index (736 new hires): 7% under 3 months, 51% in 3-6, 19% "
        "in 7-12, 23% over 12", ge=0, le=60, plausible=(3.0, 12.0))
    rep_meetings_per_month: ParamValue = param(8.0, "meetings/month per rep at full "
                                               "productivity", "assumption: a dedicated "
                                               "appointment setter/rep", ge=0, le=1_000,
                                               plausible=(4.0, 12.0))
    rep_cost_per_month: ParamValue = param(7_000.0, "$/month per rep", "fully loaded "
                                           "salesperson, public MSP salary surveys; range "
                                           "assumed", ge=0, le=1e7,
                                           plausible=(5_500.0, 9_000.0))
    rep_washout_share: ParamValue = param(
        0.5, "chance that a new salesperson washes out", "published figures: 50-70% of a "
        "small firm's first sales hires fail; 30-40% of sales hires never reach quota "
        "(D. Skok); 25% in well-run teams (OpenView)", ge=0, le=1, plausible=(0.3, 0.7))
    rep_productivity: ParamValue = param(
        TriangularDist(dist="triangular", low=0.4, mode=0.9, high=1.2),
        "share of rep_meetings_per_month a rep who does not wash out books",
        "assumption: average quota attainment is about 47% across reps (washouts included); "
        "those who stay spread around 90% of plan", ge=0, le=5, plausible=(0.4, 1.2))
    rep_fire_below: ParamValue = param(
        0.5, "share of rep_meetings_per_month", "assumption: the owner lets a salesperson go "
        "who books under half the planned meetings after the ramp and review", ge=0, le=5,
        plausible=(0.3, 0.7))
    rep_review_months: ParamValue = param(
        3, "months after the ramp", "assumption: ramp milestones surface non-performers a "
        "quarter after the ramp (D. Skok)", ge=0, le=60, integer=True, plausible=(2.0, 6.0))
    proposal_rate: ParamValue = param(0.5, "proposals per meeting", "assumption", ge=0, le=1,
                                      plausible=(0.3, 0.7))
    close_rate: ParamValue = param(0.35, "closes per proposal", "assumption", ge=0, le=1,
                                   plausible=(0.2, 0.5))
    cycle_months: ParamValue = param(2.0, "months (mean)", "assumption: SMB managed-services "
                                     "sales cycle", ge=0, le=60, plausible=(1.0, 4.0))
    referral_share: ParamValue = param(0.3, "share of deals that come from referrals",
                                       "assumption: referrals and word of mouth, the first "
                                       "source of SMB clients; a failing service loses them",
                                       ge=0, le=1, plausible=(0.2, 0.5))
    price_close_response: ParamValue = param(1.0, "e in close rate x (1 + price rise)^-e",
                                             "assumption: a unit price elasticity of new "
                                             "clients' demand", ge=0, le=10,
                                             plausible=(0.5, 2.0))


class Customers(_Section):
    seats: ParamValue = param(
        LognormalDist(dist="lognormal", median=22.0, sigma=0.6, low=3.0, high=200.0),
        "seats per customer (per-customer draw)",
        "mean ~26: TruMethods examples use 25 seats; ~10% of SMB clients under 10 users",
        ge=1, le=100_000, per_unit=True,
    )
    endpoints_per_seat: ParamValue = param(1.2, "endpoints/seat", "assumption: a PC per user "
                                           "plus shared servers/devices", gt=0, le=20,
                                           plausible=(1.0, 1.6))
    price_per_seat: ParamValue = param(UniformDist(dist="uniform", low=100.0, high=150.0),
                                       "$/seat/month", "all-in seat price: average MSPs "
                                       "$100-150 (MODEL.md), best in class $150-250+",
                                       ge=0, le=10_000)
    price_escalator: ParamValue = param(0.03, "fraction per renewal", "assumption: CPI-like "
                                        "uplift at renewal", ge=0, le=1, plausible=(0.0, 0.05))
    price_rise: ParamValue = param(0.0, "fraction", "the user's decision: a price rise for "
                                   "new clients from month 1 and for today's book at each "
                                   "client's next renewal", ge=-0.5, le=1.0)
    renewal_concession: ParamValue = param(0.5, "price cut at renewal per unit of "
                                           "remembered service failure", "assumption: a client "
                                           "who waited on tickets negotiates the renewal "
                                           "down", ge=0, le=1, plausible=(0.25, 1.0))
    contract_months: ParamValue = param(36, "months", "seed 001: contracts typically three "
                                        "years (one- to five-year terms assumed possible)",
                                        ge=1, le=240, integer=True, plausible=(12.0, 60.0))
    account_hours_per_month: ParamValue = param(1.5, "owner hours/customer/month", "seed "
                                                "000: reviews and reports keep customers "
                                                "renewing; size assumed", ge=0, le=200,
                                                plausible=(0.5, 3.0))
    onboarding_hours_per_seat: ParamValue = param(1.5, "technician hours/seat (one time, "
                                                  "the month after signing)", "assumption: "
                                                  "discovery, agents, migration", ge=0, le=200,
                                                  plausible=(0.5, 2.5))


class Cloud(_Section):
    adoption: ParamValue = param(0.8, "share of seats on resold cloud", "assumption", ge=0,
                                 le=1, plausible=(0.5, 1.0))
    seat_price: ParamValue = param(12.5, "$/user/month", "seed 000: Office 365 Business "
                                   "Premium $12.50; Microsoft 365 Business lists at $6 "
                                   "(Basic) to $22 (Premium) a user a month", ge=0,
                                   le=10_000, plausible=(6.0, 22.0))
    commission_rate: ParamValue = param(0.05, "fraction", "seed 000: about 5%; range assumed",
                                      ge=0, le=1, plausible=(0.03, 0.08))
    attach_uplift: ParamValue = param(UniformDist(dist="uniform", low=0.25, high=0.75),
                                      "fraction", "seed 000: other cloud services add 25-75%",
                                      ge=0, le=10)


class Churn(_Section):
    annual_rate: ParamValue = param(UniformDist(dist="uniform", low=0.08, high=0.15),
                                    "1/year", "seed 003: 8-15% a year in three benchmark "
                                    "studies", ge=0, lt=1)
    mode: Literal["hazard", "renewal"] = Field(
        "hazard", description="hazard | renewal: when customers can leave (seed 001/003)"
    )
    visibility_reduction: ParamValue = param(0.25, "fraction of hazard removed at full "
                                             "account care", "seed 000: visible customers "
                                             "renew; size assumed", ge=0, le=1,
                                             plausible=(0.1, 0.4))
    overload_sensitivity: ParamValue = param(4.0, "k in hazard x exp(k x recent unserved "
                                             "share)", "assumption: a quarter of the work "
                                             "left undone for months triples churn",
                                             ge=0, le=20, plausible=(2.0, 6.0))
    strain_weight: ParamValue = param(1.0, "service failure felt per unit of work done in "
                                      "overtime", "assumption: a team stretched past its hours "
                                      "answers slowly and fixes in haste", ge=0, le=5,
                                      plausible=(0.5, 2.0))
    price_rise_response: ParamValue = param(0.5, "extra chance of leaving at the renewal "
                                            "that brings a price rise, per unit of rise",
                                            "assumption: a 10% rise loses about 5% of the "
                                            "clients it reaches", ge=0, le=10,
                                            plausible=(0.2, 1.0))
    service_memory_months: ParamValue = param(3.0, "months", "assumption: customers judge "
                                              "service on about the last quarter", ge=1,
                                              le=60, plausible=(1.0, 6.0))

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> str:
        return _choice(value, CHURN_MODES, "churn mode")


class Tickets(_Section):
    per_endpoint_reactive: ParamValue = param(UniformDist(dist="uniform", low=0.75, high=1.0),
                                              "tickets/endpoint/month", "seed 004: 0.75-1.0 "
                                              "below the $100k barrier", ge=0, le=100)
    per_endpoint_aligned: ParamValue = param(UniformDist(dist="uniform", low=0.2, high=0.5),
                                             "tickets/endpoint/month", "seed 004: top MSPs "
                                             "0.2-0.5", ge=0, le=100)
    hours_reactive: ParamValue = param(1.0, "hours/ticket", "seed 004: a full hour; 45-75 "
                                       "minutes assumed (measure: PSA time logged / "
                                       "tickets)", ge=0, le=100, plausible=(0.75, 1.25))
    hours_aligned: ParamValue = param(0.4, "hours/ticket", "seed 004: under 30 minutes; "
                                      "range assumed", ge=0, le=100,
                                      plausible=(0.25, 0.6))
    proactive_hours_per_endpoint: ParamValue = param(
        0.2, "technician hours/endpoint/month", "assumption: patching, monitoring, "
        "backups and maintenance outside tickets, mostly scripted in the RMM (seed 002: "
        "automated management tools take an engineer from about 100 to 1,500 desktops)",
        ge=0, le=100, plausible=(0.1, 0.3))
    proactive_hours_aligned: ParamValue = param(
        0.05, "technician hours/aligned endpoint/month", "assumption: an aligned endpoint "
        "runs the MSP's standard stack, whose patching, monitoring and backups are "
        "scripted end to end (seed 002: automated management tools take an engineer from "
        "about 100 to 1,500 desktops, under 0.1 hour a desktop a month for all his work)",
        ge=0, le=100, plausible=(0.02, 0.1))
    maintenance_debt_months: ParamValue = param(
        18.0, "months", "assumption: the time constant of maintenance debt (seed 004: an "
        "overloaded team has no time for proactive work, and systems drift out of line in "
        "use); skipped patching, updates and clean-ups show in tickets over a year or two, "
        "and paying the debt back takes as long", ge=1, le=120, plausible=(9.0, 24.0))
    neglect_ticket_uplift: ParamValue = param(
        0.5, "extra tickets at full maintenance debt (fraction)", "assumption: an estate "
        "left without maintenance raises 50% more tickets (seed 004: reactive shops 0.75-1.0 "
        "tickets an endpoint a month against 0.2-0.5 for top MSPs, the gap alignment and "
        "upkeep close)", ge=0, le=10, plausible=(0.25, 1.0))
    tiered_desk_saving: ParamValue = param(
        0.2, "share of reactive ticket time saved", "assumption: from staff."
        "escalation_lead_techs technicians a tiered desk with a lead and runbooks fixes "
        "reactive tickets faster (seed 004: top MSPs close tickets in under 30 minutes)",
        ge=0, lt=1, plausible=(0.1, 0.3))


class Staff(_Section):
    tech_hours_per_month: ParamValue = param(140.0, "usable hours/tech/month", "140 usable of "
                                             "160; 120-150 assumed (measure: PSA hours "
                                             "logged per technician)", ge=1, le=744,
                                             plausible=(120.0, 150.0))
    tech_cost_per_month: ParamValue = param(UniformDist(dist="uniform", low=5_400.0,
                                                        high=7_500.0), "$/month",
                                            "fully loaded technician $5.4-7.5k/month "
                                            "(public salary surveys)", ge=0, le=1e7)
    hire_above: ParamValue = param(0.85, "utilization", "assumption: hire when techs run above "
                                   "85%", gt=0, le=10)
    hire_lag_months: ParamValue = param(2, "months", "assumption: time to recruit", ge=0,
                                        le=60, integer=True, plausible=(1.0, 4.0))
    hire_after_months: ParamValue = param(2, "months", "MODEL.md: hire when utilization "
                                          "stays above hire_above this many months running",
                                          ge=1, le=60, integer=True, plausible=(1.0, 4.0))
    layoff_below: ParamValue = param(0.55, "utilization", "assumption: an owner lets a "
                                     "technician go when the team stays this idle (0: never)",
                                     ge=0, le=10, plausible=(0.4, 0.65))
    layoff_after_months: ParamValue = param(3, "months", "assumption: months running below "
                                            "layoff_below before one technician is let go",
                                            ge=1, le=60, integer=True, plausible=(2.0, 6.0))
    overtime_max_share: ParamValue = param(0.15, "extra hours / contracted hours",
                                           "assumption: technicians stretch to about 46 "
                                           "hours a week before work goes undone", ge=0, le=1,
                                           plausible=(0.05, 0.25))
    overtime_fatigue: ParamValue = param(
        0.3, "work lost per month of overtime running: an overtime hour gets 1 / (1 + "
        "fatigue x months) of an hour's work done", "assumption: sustained overtime stops "
        "paying (Business Roundtable 1980, 'Scheduled Overtime Effect on Construction "
        "Projects': after several weeks of overtime productivity reaches the point of no "
        "return; MCAA Bulletin OT1, 2011); 0: none", ge=0, le=10, plausible=(0.1, 0.6))
    overtime_premium: ParamValue = param(1.5, "x the hourly cost of a technician",
                                         "time and a half (US Fair Labor Standards Act)",
                                         ge=0, le=10)
    hire_cash_months: ParamValue = param(2.0, "months of a hire's cost in cash plus credit",
                                         "assumption: a hire the money cannot pay for waits",
                                         ge=0, le=60, plausible=(1.0, 4.0))
    backlog_carry: ParamValue = param(0.5, "fraction of unserved hours", "assumption", ge=0,
                                      le=0.95, plausible=(0.3, 0.7))
    owner_hours_per_month: ParamValue = param(
        TriangularDist(dist="triangular", low=160.0, mode=200.0, high=240.0), "hours/month",
        "MODEL.md: about 200 (measure: the owner's own timesheet)", ge=0, le=744,
        plausible=(160.0, 240.0))
    owner_sales_hours_per_month: ParamValue = param(40.0, "hours/month the owner means to "
                                                    "sell", "assumption: about a quarter of "
                                                    "the week", ge=0, le=744,
                                                    plausible=(20.0, 60.0))
    escalation_share: ParamValue = param(
        TriangularDist(dist="triangular", low=0.1, mode=0.2, high=0.3),
        "share of misaligned ticket hours", "seed 004: in a reactive shop the owner is the "
        "senior tech; size assumed (measure: owner's share of ticket hours in the PSA)",
        ge=0, le=1, plausible=(0.1, 0.3))
    escalation_share_aligned: ParamValue = param(
        0.18, "share of aligned ticket hours", "assumption: an aligned ticket escalates a "
        "little less often than a reactive one (fewer novel faults); no source measures it, "
        "seed 004 only makes tickets fewer and shorter", ge=0, le=1, plausible=(0.1, 0.3))
    escalation_lead_techs: ParamValue = param(
        10, "technicians", "assumption: from about ten technicians a senior technician or "
        "service-desk lead (a tier 2/3 desk) takes the escalations", ge=1, le=1_000,
        integer=True, plausible=(6.0, 14.0))
    owner_escalation_share_led: ParamValue = param(
        0.1, "share of escalated hours the owner keeps once a lead takes them",
        "assumption: the owner keeps the key clients' and architecture escalations",
        ge=0, le=1, plausible=(0.0, 0.25))
    management_hours_per_employee: ParamValue = param(
        TriangularDist(dist="triangular", low=2.0, mode=4.0, high=6.0),
        "owner hours/employee/month", "assumption: one-to-ones, scheduling, reviews",
        ge=0, le=200, plausible=(2.0, 6.0))
    techs_per_manager: ParamValue = param(8.0, "technicians per service manager",
                                          "assumption: service-manager spans of 6-10 "
                                          "technicians", gt=0, le=1_000, plausible=(6.0, 10.0))
    first_manager_at_techs: ParamValue = param(
        0, "technicians", "the user's plan (a trigger rule): the first service manager is "
        "hired once the team (with the technicians posted) reaches this many technicians, "
        "later ones by techs_per_manager (0: by techs_per_manager only)", ge=0, le=1_000,
        integer=True)
    manager_cost_per_month: ParamValue = param(8_500.0, "$/month per service manager",
                                               "assumption: a senior technician's pay plus "
                                               "30%", ge=0, le=1e7,
                                               plausible=(7_000.0, 10_500.0))
    senior_tech_premium_per_month: ParamValue = param(
        2_000.0, "$/month a senior technician costs over a technician", "assumption: a "
        "senior technician at about $8-9k/month fully loaded against $5.4-7.5k, so "
        "$1,500-3,000 (the lever \"half the escalations\" pays it; no plausible range "
        "here: the engine never reads it, and an unset assumption is drawn)", ge=0, le=1e7)
    tech_turnover_annual: ParamValue = param(0.2, "1/year", "service-desk attrition about "
                                             "20% a year (docs/calibration.md), help desks "
                                             "up to 38%", ge=0, lt=1, plausible=(0.15, 0.38))
    turnover_overload: ParamValue = param(2.0, "turnover multiplier per unit of utilization "
                                          "above 1", "assumption: overworked technicians "
                                          "quit", ge=0, le=100, plausible=(1.0, 4.0))


class Alignment(_Section):
    enabled: bool = Field(
        False, description="true | false: run the standardization/alignment program (seed 004)"
    )
    start_month: ParamValue = param(0, "month", "the user's plan", ge=0, le=600, integer=True)
    start_clients: ParamValue = param(0, "clients", "the user's plan (a trigger rule): the "
                                      "program starts, no earlier than start_month, the "
                                      "month after the book reaches this many clients (0: "
                                      "at start_month)", ge=0, le=20_000, integer=True)
    clients_per_staff: ParamValue = param(20.0, "clients per alignment manager", "TruMethods: "
                                          "one per about 20 clients; 15-30 assumed", gt=0,
                                          le=10_000, plausible=(15.0, 30.0))
    staff_cost_per_month: ParamValue = param(10_000.0, "$/month", "a senior network "
                                             "administrator, fully loaded: US median pay of "
                                             "network and computer systems administrators "
                                             "$96,800 a year (BLS, May 2024) x ~1.25; "
                                             "+-20% assumed", ge=0, le=1e7,
                                             plausible=(8_000.0, 12_000.0))
    rate: ParamValue = param(0.15, "score/month", "assumption: about 7 months to align a "
                             "client", ge=0, le=1, plausible=(0.08, 0.25))
    staff_points_per_month: ParamValue = param(
        3.0, "score points a month per alignment staff member", "TruMethods: one alignment "
        "manager per about 20 clients, each aligned at the rate (20 x 0.15): the program's "
        "speed is its staff's hours; clients_per_staff only decides when to hire",
        gt=0, le=10_000, plausible=(2.0, 4.5))
    drift: ParamValue = param(0.02, "score/month", "assumption", ge=0, le=1,
                              plausible=(0.0, 0.05))
    onboarding_score: ParamValue = param(
        0.5, "alignment score of a client signed while the program runs", "assumption: "
        "the onboarding installs the MSP's standard stack (seed 004: standards are "
        "implemented when something new is installed, and drift in use), the rest of the "
        "alignment follows at the program's pace", ge=0, le=1, plausible=(0.25, 0.75))

    @field_validator("enabled", mode="before")
    @classmethod
    def _strict_bool(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: true or false")
        return value


class Projects(_Section):
    onboarding_fee_per_seat: ParamValue = param(0.0, "$/seat (one time)", "seed 000: fee-paid "
                                                "planning and migration", ge=0, le=100_000)
    per_customer_year: ParamValue = param(1.0, "projects/customer/year", "seed 002: the "
                                          "trusted advisor wins projects; size assumed",
                                          ge=0, le=100, plausible=(0.5, 2.0))
    size: ParamValue = param(
        LognormalDist(dist="lognormal", median=4_000.0, sigma=0.8, low=500.0, high=100_000.0),
        "$ per project (per-project draw)", "assumption", ge=0, le=1e9, per_unit=True,
    )
    product_spend_per_seat_year: ParamValue = param(250.0, "$/seat/year", "assumption: "
                                                    "hardware/software bought through the MSP",
                                                    ge=0, le=1_000_000,
                                                    plausible=(100.0, 400.0))
    bill_rate_per_hour: ParamValue = param(120.0, "$ of project and T&M revenue per "
                                           "technician hour", "realised rate: list rates of "
                                           "$125-150/hour less fixed-fee overruns; fit to "
                                           "seed 002 (docs/calibration.md)", gt=0, le=10_000,
                                           plausible=(90.0, 150.0))


class Legacy(_Section):
    decline_annual: ParamValue = param(0.1, "fraction/year", "seed 001: keep the VAR core "
                                       "while new growth goes to MRR; size and range "
                                       "assumed", ge=0, le=1, plausible=(0.05, 0.2))


class Finance(_Section):
    tools_share: ParamValue = param(0.12, "share of MS revenue", "assumption: the baseline "
                                    "RMM/PSA/antivirus every client gets (the aligned "
                                    "endpoints' extra stack is standard_stack_cost_per_endpoint)"
                                    "; fit to seed 002 (docs/calibration.md)",
                                    ge=0, le=1, plausible=(0.08, 0.2))
    standard_stack_cost_per_endpoint: ParamValue = param(
        12.0, "$/aligned endpoint/month", "vendor list prices: the standard stack an aligned "
        "endpoint runs beyond the baseline RMM/PSA of tools_share: EDR $3-15 an endpoint a "
        "month (edrcost.com), endpoint backup (a Datto endpoint backup resold at $25 a PC a "
        "month, darkecloud.com), Microsoft 365 backup $1.90 a user (Syncro), DNS filtering and "
        "documentation; a standardized shop's tool cost 20-30% of its seat price (TruMethods); "
        "charged on seats x endpoints_per_seat x alignment (docs/calibration.md)",
        ge=0, le=10_000, plausible=(6.0, 20.0))
    project_other_cost_share: ParamValue = param(
        0.22, "share of project revenue", "assumption: subcontractors, travel, parts and "
        "fixed-fee overruns billed inside projects (technician labour is costed separately); "
        "project gross margin ~28% against Service Leadership's 19-25% (docs/calibration.md)",
        ge=0, le=1, plausible=(0.15, 0.45))
    product_margin_ms: ParamValue = param(0.11, "gross margin", "seed 002: 10-12% as trusted "
                                          "advisor", ge=0, le=1, plausible=(0.10, 0.12))
    product_margin_legacy: ParamValue = param(0.045, "gross margin", "seed 002: transactional "
                                              "4-5%", ge=0, le=1,
                                              plausible=(0.04, 0.05))
    overhead_per_month: ParamValue = param(2_000.0, "$/month, fixed", "assumption: office, "
                                           "accounting, insurance, admin (docs/calibration.md)",
                                           ge=0, le=1e9, plausible=(1_000.0, 6_000.0))
    overhead_per_employee_month: ParamValue = param(
        600.0, "$/employee/month", "assumption: desk, laptop, licences and training beyond "
        "the fully loaded pay (docs/calibration.md)", ge=0, le=1e7, plausible=(300.0, 900.0))
    overhead_per_customer_month: ParamValue = param(
        150.0, "$/customer/month", "assumption: billing, licences and admin per account",
        ge=0, le=1e7, plausible=(50.0, 200.0))
    marketing_share: ParamValue = param(0.025, "share of revenue", "assumption: marketing "
                                        "programmes outside salespeople (docs/calibration.md)",
                                        ge=0, le=1, plausible=(0.01, 0.04))
    owner_pay_per_month: ParamValue = param(10_000.0, "$/month", "assumption: the owner paid "
                                            "at a market rate for running the business (peer "
                                            "groups measure profit after it; a founder "
                                            "draws less)", ge=0, le=1e7,
                                            plausible=(4_000.0, 15_000.0))
    profit_share: ParamValue = param(0.1, "share of a month's positive profit",
                                     "assumption: staff and owner bonus pools of 5-20% of "
                                     "profit", ge=0, lt=1, plausible=(0.05, 0.2))
    tax_rate: ParamValue = param(0.21, "share of a year's positive pretax profit",
                                 "US federal corporate rate since 2018", ge=0, lt=1)
    credit_limit: ParamValue = param(50_000.0, "$", "the user's bank line", ge=0, le=1e12)
    credit_annual_rate: ParamValue = param(0.10, "1/year on the drawn balance", "assumption: "
                                           "prime plus a small-business spread", ge=0, le=1,
                                           plausible=(0.08, 0.14))
    discount_rate: ParamValue = param(0.15, "1/year", "assumption: an owner's required "
                                      "return on a small private business (12-25% for small "
                                      "firms in build-up cost-of-equity tables)", ge=0, le=1,
                                      plausible=(0.10, 0.25))
    exit_multiple_factor: ParamValue = param(
        TriangularDist(dist="triangular", low=0.75, mode=1.0, high=1.25),
        "x the table multiple of adjusted EBITDA (docs/model.md, the owner's value)",
        "broker and M&A ranges are about +-25% around a tier's middle (NuOptima tiers, "
        "Solganick and Eight-M ranges)", gt=0, le=10, plausible=(0.75, 1.25))


STEPS_FORM = "an array of [from, value] pairs of finite numbers, the froms ascending"
"""How a step table of ``[value]`` is written, for messages."""


def _step_table(value: Any) -> tuple[tuple[float, float], ...]:
    """A step table: ``[[from, value], ...]``, at least one row, ``from`` ascending."""
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {STEPS_FORM}")
    rows = []
    for row in value:
        if (not isinstance(row, list | tuple) or len(row) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool)
                           and math.isfinite(x) for x in row)):
            raise ValueError(f"not a [from, value] pair: got {row!r}; allowed: {STEPS_FORM}")
        rows.append((float(row[0]), float(row[1])))
    if any(b[0] <= a[0] for a, b in itertools.pairwise(rows)):
        raise ValueError(f"froms not ascending: got {[r[0] for r in rows]}; allowed: "
                         f"{STEPS_FORM}")
    return tuple(rows)


class Value(BaseModel):
    """The exit-multiple table of the owner's value (docs/model.md, "The owner's value"):
    a path's multiple of adjusted EBITDA is its size band's plus the turns of its
    recurring share, churn and largest client, times ``finance.exit_multiple_factor``,
    clipped to ``[exit_multiple_min, exit_multiple_max]``. A table's first row applies
    below its ``from`` too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    exit_size_bands: tuple[tuple[float, float], ...] = Field(
        ((0.0, 3.5), (250_000.0, 4.5), (1_000_000.0, 5.5), (2_000_000.0, 7.0)),
        description="[adjusted EBITDA from ($/year), base multiple] rows: NuOptima's "
        "lower-middle-market tiers (owner-led ~3-4x; $250k-1M ~4-5x; $1-2M ~5-6x; "
        "$2-5M ~6-8x; the middle of each)")
    exit_recurring_turns: tuple[tuple[float, float], ...] = Field(
        ((0.0, -0.5), (0.5, 0.0), (0.7, 0.5), (0.85, 1.0)),
        description="[recurring share of revenue from, turns] rows: DealFlow-OS (85%+ "
        "under managed contracts 6-8x, half project work 3.5-5x)")
    exit_churn_turns: tuple[tuple[float, float], ...] = Field(
        ((0.0, 0.5), (0.05, 0.0), (0.10, -0.25), (0.15, -0.5)),
        description="[annual churn from, turns] rows: DealFlow-OS (under 5% excellent, "
        "5-10% standard, over 15% a treadmill)")
    exit_concentration_turns: tuple[tuple[float, float], ...] = Field(
        ((0.0, 0.0), (0.10, -0.25), (0.15, -0.5), (0.25, -1.0)),
        description="[largest client's share from, turns] rows: Eight-M (10-15% a mild "
        "haircut, 15-25% a bigger one, over 25% often a deal breaker)")
    exit_multiple_min: float = Field(1.0, description="x adjusted EBITDA: the lowest "
                                     "multiple, a number > 0 (assumption)")
    exit_multiple_max: float = Field(12.0, description="x adjusted EBITDA: the highest "
                                     "multiple, a number >= exit_multiple_min (assumption)")

    @field_validator("exit_size_bands", "exit_recurring_turns", "exit_churn_turns",
                     "exit_concentration_turns", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> tuple[tuple[float, float], ...]:
        return _step_table(value)

    @field_validator("exit_multiple_min", "exit_multiple_max", mode="before")
    @classmethod
    def _multiple(cls, value: Any, info: ValidationInfo) -> float:
        low = info.data.get("exit_multiple_min") if info.field_name == "exit_multiple_max" \
            else None
        allowed = "a number > 0" if low is None else f"a number >= {_g(low)} (exit_multiple_min)"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: {allowed}")
        if not (math.isfinite(value) and value > 0 and (low is None or value >= low)):
            raise ValueError(f"out of range: got {value}; allowed: {allowed}")
        return float(value)


PAIR_FORM = '{a = "section.key", b = "section.key", rho = number with -1 < rho < 1}'
"""How one ``[correlations]`` pair is written, for messages."""


class CorrelationPair(BaseModel):
    """A Spearman rank correlation ``rho`` between the per-path draws of keys ``a`` and ``b``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: str
    b: str
    rho: float


def _check_pair_table(number: int, item: Any) -> dict[str, Any]:
    """One pair as read from TOML, checked for form; ``ValueError`` otherwise."""
    if isinstance(item, CorrelationPair):
        return item.model_dump()
    if not isinstance(item, dict):
        raise ValueError(f"pair {number}: wrong type: got {kind_of(item)}; allowed: a table "
                         f"{PAIR_FORM}")
    extra = sorted(set(item) - {"a", "b", "rho"})
    if extra:
        raise ValueError(f'pair {number}: unknown field "{extra[0]}"; allowed fields: a, b, '
                         f"rho, as in {PAIR_FORM}")
    for name in ("a", "b", "rho"):
        if name not in item:
            raise ValueError(f'pair {number}: missing field "{name}"; allowed: {PAIR_FORM}')
    for name in ("a", "b"):
        if not isinstance(item[name], str):
            raise ValueError(f"pair {number}: wrong type for {name}: got {kind_of(item[name])}; "
                             'allowed: a dotted key in quotes, e.g. "sales.close_rate"')
    rho = item["rho"]
    if isinstance(rho, bool) or not isinstance(rho, int | float):
        raise ValueError(f"pair {number}: wrong type for rho: got {kind_of(rho)}; allowed: a "
                         "number with -1 < rho < 1")
    if not math.isfinite(rho):
        raise ValueError(f"pair {number}: rho is not a finite number: got {rho}; allowed: a "
                         "number with -1 < rho < 1")
    return {"a": item["a"].strip(), "b": item["b"].strip(), "rho": float(rho)}


class Correlations(BaseModel):
    """Rank correlations between uncertain per-path parameters (Gaussian copula).

    Which keys may be paired depends on the rest of the config; that check
    is :func:`simulator.config.correlations.correlation_problems`, run by the
    loader.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    pairs: tuple[CorrelationPair, ...] = Field(
        (), description="Spearman rank correlation: pairs of uncertain keys that move together "
        f"(Gaussian copula), each {PAIR_FORM}"
    )

    @field_validator("pairs", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            raise ValueError(f"wrong type: got a table; allowed: an array of tables "
                             f"[{PAIR_FORM}, ...]")
        if not isinstance(value, list | tuple):
            raise ValueError(f"wrong type: got {kind_of(value)}; allowed: an array of tables "
                             f"[{PAIR_FORM}, ...]")
        return tuple(_check_pair_table(i, item) for i, item in enumerate(value, start=1))


LEVER_FORM = '{ name = "...", set = { "section.key" = value, ... } }'
_LEVER_SECTIONS_BARRED = ("simulation", "levers", "correlations")


class LeverTable(BaseModel):
    """A lever of your own: a name and the overrides that pull it (dotted keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    set: dict[str, Any]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty lever name; allowed: a non-empty string")
        return value.strip()

    @field_validator("set")
    @classmethod
    def _set(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError(f"a lever needs at least one override; allowed: {LEVER_FORM}")
        for key in value:
            section, _, name = key.partition(".")
            if section in _LEVER_SECTIONS_BARRED or not name:
                raise ValueError(f'"{key}" cannot be a lever; allowed: a dotted key of a model '
                                 f"section (not {', '.join(_LEVER_SECTIONS_BARRED)}), e.g. "
                                 '"sales.reps"')
            try:
                fields = section_model(section).model_fields
            except KeyError:
                raise ValueError(f'unknown section in "{key}"') from None
            if name not in fields:
                raise ValueError(f'unknown key "{key}"')
        return value

    def describe(self) -> str:
        """``name: key = value, ...``."""
        sets = ", ".join(f"{k} = {v}" for k, v in self.set.items())
        return f"{self.name}: {sets}"


class Levers(BaseModel):
    """The lever scan of ``msp-sim run``: standard levers to leave out, levers to add."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    scan: bool = Field(True, description="true | false: scan the levers in every run "
                       "(`msp-sim run --no-levers` skips it once)")
    skip: tuple[str, ...] = Field((), description="names of standard levers to leave out "
                                  "(docs/levers.md lists them)")
    add: tuple[LeverTable, ...] = Field((), description=f"levers of your own, each {LEVER_FORM}")


class Config(BaseModel):
    """A whole msp-sim config. Build it with :func:`simulator.load_config`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    simulation: Simulation = Field(default_factory=Simulation)
    start: Start = Field(default_factory=Start)
    sales: Sales = Field(default_factory=Sales)
    customers: Customers = Field(default_factory=Customers)
    cloud: Cloud = Field(default_factory=Cloud)
    churn: Churn = Field(default_factory=Churn)
    tickets: Tickets = Field(default_factory=Tickets)
    staff: Staff = Field(default_factory=Staff)
    alignment: Alignment = Field(default_factory=Alignment)
    projects: Projects = Field(default_factory=Projects)
    legacy: Legacy = Field(default_factory=Legacy)
    finance: Finance = Field(default_factory=Finance)
    value: Value = Field(default_factory=Value)
    correlations: Correlations = Field(default_factory=Correlations)
    levers: Levers = Field(default_factory=Levers)

    def get(self, key: str) -> Any:
        """Value of a dotted key such as ``"churn.annual_rate"``."""
        section, name = key.split(".", 1)
        return getattr(getattr(self, section), name)


SECTIONS: tuple[str, ...] = tuple(Config.model_fields)


def param_specs(per_unit: bool | None = None) -> dict[str, ParamSpec]:
    """Every numeric model parameter as ``{"section.key": spec}``, in schema order.

    ``per_unit=False`` gives the per-path parameters only, ``True`` the
    per-customer/per-project distributions only, ``None`` both.
    """
    return dict(_param_specs(per_unit))


@functools.cache
def _param_specs(per_unit: bool | None) -> tuple[tuple[str, ParamSpec], ...]:
    # The schema is fixed at import: walk it once per selection, not per call.
    out = []
    for section in Config.model_fields:
        model = section_model(section)
        for name in model.model_fields:
            spec = _spec(model, name)
            if spec is None or (per_unit is not None and spec.per_unit != per_unit):
                continue
            out.append((f"{section}.{name}", spec))
    return tuple(out)
