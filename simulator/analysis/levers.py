"""The levers: the standard moves an owner can make, what each sets in the config and
what it costs and risks.

A lever is a set of dotted-key overrides (``Lever.set``), so anyone can re-run it
with ``msp-sim compare``: the standard levers (:data:`STANDARD_LEVERS`, documented
in ``docs/levers.md``) are one more technician now, a salesperson, the
standardization program, a higher price, less churn, a service manager, fewer
escalations, more of the owner's time for selling; a config's ``[levers]`` section
leaves standard levers out (``skip``) or adds its own (``add``). Each standard lever
states what it costs and risks before any simulation (:class:`LeverCost`: spend,
owner hours, risk, source), from the config's numbers.

:mod:`.scan` simulates the business with each lever pulled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, ConfigError, config_from_dict, param_specs
from ..formatting import finite_or_none as _f
from ..formatting import money

__all__ = ["STANDARD_LEVERS", "Lever", "LeverCost", "alignment_program_need", "apply_lever",
           "lever_cost", "resolve_levers", "scaled", "shifted", "typical"]


@dataclass(frozen=True)
class LeverCost:
    """What a lever costs and risks, stated before any simulation.

    Attributes
    ----------
    dollars_per_month : float
        Nominal spend while the lever runs [$/month] (0 with a reason in ``cost``).
    owner_hours_per_month : float
        The owner's hours it takes [hours/month].
    cost, risk : str
        In words, with the numbers of the config.
    source : str
        Where the figures come from, or "assumption" with its range.
    """

    dollars_per_month: float
    owner_hours_per_month: float
    cost: str
    risk: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {"dollars_per_month": _f(self.dollars_per_month),
                "owner_hours_per_month": _f(self.owner_hours_per_month),
                "cost": self.cost, "risk": self.risk, "source": self.source}


@dataclass(frozen=True)
class Lever:
    """A move the owner can make: a name, the dotted-key overrides that model it and
    (standard levers) its cost and risk."""

    name: str
    description: str
    set: dict[str, Any]
    cost: LeverCost | None = None


# -- the standard levers -------------------------------------------------------

_LOCATION = ("low", "mode", "high", "median", "mean")


def _dumped(value: Any) -> Any:
    """A number as is, a distribution as its TOML table (``{"dist": ..., ...}``)."""
    if hasattr(value, "model_dump"):
        return {k: v for k, v in value.model_dump(by_alias=True).items() if v is not None}
    return value


def shifted(value: Any, delta: float, floor: float | None = None) -> Any:
    """``value + delta``: a number, or a distribution moved by ``delta`` (its location
    parameters and bounds), each result at least ``floor``."""
    def move(x: float) -> float:
        y = x + delta
        return y if floor is None else max(floor, y)

    table = _dumped(value)
    if not isinstance(table, dict):
        return type(value)(move(value)) if isinstance(value, int) else move(float(value))
    return {k: (move(v) if k in _LOCATION else v) for k, v in table.items()}


def scaled(value: Any, factor: float) -> Any:
    """``value * factor``: a number, or a distribution stretched by ``factor`` (location
    parameters and bounds; a normal's ``sd`` too)."""
    table = _dumped(value)
    if not isinstance(table, dict):
        return float(value) * factor
    spread = ("sd",) if table.get("dist") == "normal" else ()
    return {k: (v * factor if k in _LOCATION + spread else v) for k, v in table.items()}


def typical(value: Any) -> float:
    """A number, or a distribution's median."""
    return float(value.frozen().median()) if hasattr(value, "frozen") else float(value)


def _one_more_tech(c: Config) -> dict[str, Any] | None:
    return {"start.techs": shifted(c.start.techs, 1)}


def _rep_from(month: int) -> Callable[[Config], dict[str, Any] | None]:
    def lever(c: Config) -> dict[str, Any] | None:
        if c.sales.reps != 0:
            return None
        return {"sales.reps": 1, "sales.rep_start_month": month}
    return lever


def _another_rep(c: Config) -> dict[str, Any] | None:
    if c.sales.reps == 0:
        return None
    return {"sales.reps": shifted(c.sales.reps, 1)}


def _standardize(c: Config) -> dict[str, Any] | None:
    if c.alignment.enabled:
        return None
    return {"alignment.enabled": True, "alignment.start_month": 1}


def _price(c: Config) -> dict[str, Any] | None:
    # (1 + rise) x 1.1 - 1: a further 10% on top of any rise the config decides
    return {"customers.price_rise": shifted(scaled(c.customers.price_rise, 1.10), 0.10)}


REVIEW_HOURS_PER_CLIENT_MONTH = 1.0
"""Owner hours per client and month that buy 2 points less churn: a quarterly business
review of about 3 hours (preparation, the meeting, follow-up) per client (assumption;
0.5-2 hours a month)."""


def _churn(c: Config) -> dict[str, Any] | None:
    if typical(c.churn.annual_rate) <= 0.02:
        return None
    return {"churn.annual_rate": shifted(c.churn.annual_rate, -0.02, floor=0.0),
            "customers.account_hours_per_month": shifted(c.customers.account_hours_per_month,
                                                         REVIEW_HOURS_PER_CLIENT_MONTH)}


def _manager(c: Config) -> dict[str, Any] | None:
    if typical(c.start.managers) >= 1:
        return None  # the business already has a service manager
    # one hire now; the manager runs a tiered desk and takes the escalations (the owner
    # keeps staff.owner_escalation_share_led of them)
    return {"start.managers": 1, "staff.escalation_lead_techs": 1}


def _escalations(c: Config) -> dict[str, Any] | None:
    if typical(c.staff.escalation_share) <= 0:
        return None
    # paid for: a senior technician (one more technician, plus the senior premium as a
    # fixed cost) takes half of what reaches the owner; both ticket types escalate (model
    # v3): halving only the reactive share left the owner 0.58-0.65 of his escalation hours
    return {"staff.escalation_share": scaled(c.staff.escalation_share, 0.5),
            "staff.escalation_share_aligned": scaled(c.staff.escalation_share_aligned, 0.5),
            "start.techs": shifted(c.start.techs, 1),
            "finance.overhead_per_month": shifted(
                c.finance.overhead_per_month, typical(c.staff.senior_tech_premium_per_month))}


def _selling_hours(c: Config) -> dict[str, Any] | None:
    return {"staff.owner_sales_hours_per_month": shifted(c.staff.owner_sales_hours_per_month,
                                                         10)}


STANDARD_LEVERS: tuple[tuple[str, str, Callable[[Config], dict[str, Any] | None]], ...] = (
    ("one more technician now", "start.techs + 1: a technician hired today, paid from month 1",
     _one_more_tech),
    ("a salesperson from month 1", "sales.reps = 1 from month 1 (ramp, cost and meetings "
     "from [sales]); only when the business has no salesperson", _rep_from(1)),
    ("a salesperson from month 6", "sales.reps = 1 from month 6; only when the business has "
     "no salesperson", _rep_from(6)),
    ("one more salesperson", "sales.reps + 1; only when the business already has one",
     _another_rep),
    ("the standardization program", "alignment.enabled from month 1: alignment staff raise "
     "the book's standardization, tickets fall ([alignment]); only when it is off",
     _standardize),
    ("+10% price per seat", "customers.price_rise +10%: new clients from month 1, today's "
     "book at each client's renewal (some leave over it; fewer prospects close)", _price),
    ("-2 pp annual churn", "churn.annual_rate - 0.02 bought with quarterly business reviews: "
     "customers.account_hours_per_month + 1 (the owner's time); only when churn is above 2%",
     _churn),
    ("a service manager", "start.managers = 1: one service manager hired now, who manages the "
     "technicians and takes the escalations (staff.escalation_lead_techs = 1: a tiered desk); "
     "only when there is none", _manager),
    ("half the escalations", "staff.escalation_share and staff.escalation_share_aligned x 0.5 "
     "(both ticket types), paid for by a senior technician: "
     "start.techs + 1 and finance.overhead_per_month + the senior premium", _escalations),
    ("10 more selling hours a month", "staff.owner_sales_hours_per_month + 10: the owner "
     "protects ten more hours a month for sales", _selling_hours),
)
"""``(name, what it means in the model, overrides of a config or None)``, in order."""


def alignment_program_need(c: Config) -> tuple[int, float]:
    """What the standardization program needs for today's book (typical values): the
    alignment staff (one per ``alignment.clients_per_staff`` clients, at least one) and
    the standard stack's licences [$/month] once the book is aligned."""
    clients = max(1.0, typical(c.start.customers))
    staff = max(1, int(np.ceil(clients / typical(c.alignment.clients_per_staff))))
    licences = (clients * typical(c.customers.seats) * typical(c.customers.endpoints_per_seat)
                * typical(c.finance.standard_stack_cost_per_endpoint))
    return staff, licences


def lever_cost(name: str, c: Config) -> LeverCost | None:
    """The cost and risk of standard lever ``name`` on business ``c`` (``None`` for a lever
    of the user's)."""
    tech = typical(c.staff.tech_cost_per_month)
    per_employee = typical(c.finance.overhead_per_employee_month)
    mgmt = typical(c.staff.management_hours_per_employee)
    clients = max(1.0, typical(c.start.customers))
    if name == "one more technician now":
        return LeverCost(tech + per_employee, mgmt,
                         f"{money(tech)}/month pay and {money(per_employee)}/month overhead; "
                         f"{mgmt:g} owner hours/month of management",
                         "idle hours while the work does not grow (the layoff rule lets one "
                         "go after staff.layoff_after_months idle months); quits like any "
                         "technician", "public salary surveys (staff.tech_cost_per_month)")
    if name in ("a salesperson from month 1", "a salesperson from month 6",
                "one more salesperson"):
        rep = typical(c.sales.rep_cost_per_month)
        wash = typical(c.sales.rep_washout_share)
        fire = typical(c.sales.rep_fire_below)
        review = int(typical(c.sales.rep_review_months))
        return LeverCost(rep + per_employee, mgmt,
                         f"{money(rep)}/month pay and {money(per_employee)}/month overhead "
                         f"while employed; {mgmt:g} owner hours/month of management",
                         f"washes out with probability {wash:.0%} (books under {fire:.0%} of "
                         f"plan and is let go {review} months after a ramp of "
                         f"{typical(c.sales.rep_ramp_months):.0f} months, typically); those "
                         "who stay book a drawn share of plan (sales.rep_productivity)",
                         "50-70% of first sales hires fail; 30-40% of sales hires miss quota "
                         "(D. Skok); ramp: Sales Benchmark Index; productivity: assumption "
                         "(0.4-1.2 of plan)")
    if name == "the standardization program":
        staff = typical(c.alignment.staff_cost_per_month)
        per = typical(c.alignment.clients_per_staff)
        need, licences = alignment_program_need(c)
        return LeverCost(need * (staff + per_employee) + licences, need * mgmt,
                         f"{need} alignment staff for {clients:.0f} clients (one per "
                         f"{per:g}) at {money(staff)}/month each, more as the book grows; "
                         f"{mgmt:g} owner hours/month each; the standard stack's licences, "
                         f"{money(licences)}/month once today's book is aligned "
                         "(finance.standard_stack_cost_per_endpoint)",
                         "the speed is the staff's: each adds "
                         f"{typical(c.alignment.staff_points_per_month):g} score points a "
                         f"month, a client takes {typical(c.alignment.rate):g} a month; a hire "
                         "the cash cannot pay for waits and the clients it would reach drift "
                         "back; tickets fall months later",
                         "TruMethods: one alignment manager per ~20 clients; BLS pay of "
                         "network administrators; rate: assumption (0.08-0.25 a month)")
    if name == "+10% price per seat":
        leave = typical(c.churn.price_rise_response) * 0.10
        close = 1.0 - 1.1 ** -typical(c.sales.price_close_response)
        return LeverCost(0.0, 0.0,
                         "no spend: the rise is a letter at each client's renewal",
                         f"about {leave:.0%} of today's book leaves at the renewal that "
                         f"brings the rise (churn.price_rise_response) and {close:.0%} fewer "
                         "prospects close (sales.price_close_response)",
                         "assumption: responses 0.2-1.0 (churn) and 0.5-2.0 (close rate)")
    if name == "-2 pp annual churn":
        hours = REVIEW_HOURS_PER_CLIENT_MONTH * clients
        return LeverCost(0.0, hours,
                         f"no spend: {REVIEW_HOURS_PER_CLIENT_MONTH:g} owner hour per client "
                         f"and month of reviews ({hours:.0f} hours/month today, more as the "
                         "book grows), taken from selling first",
                         "the reviews crowd out selling and escalations when the owner is "
                         "full; the 2 points are an assumption",
                         "assumption: quarterly business reviews of ~3 hours (0.5-2 hours a "
                         "client-month) buy 1-3 points of churn")
    if name == "a service manager":
        cost = typical(c.staff.manager_cost_per_month)
        return LeverCost(cost + per_employee, mgmt,
                         f"{money(cost)}/month pay and {money(per_employee)}/month overhead; "
                         f"{mgmt:g} owner hours/month of management (the technicians' "
                         "management moves to the manager)",
                         "a fixed cost a small book may not carry (cash risk); the owner "
                         "keeps staff.owner_escalation_share_led of the escalations",
                         "assumption: a senior technician's pay plus 30% "
                         "(staff.manager_cost_per_month)")
    if name == "half the escalations":
        premium = typical(c.staff.senior_tech_premium_per_month)
        return LeverCost(tech + premium + per_employee, mgmt,
                         f"a senior technician: {money(tech)}/month plus a "
                         f"{money(premium)}/month premium and "
                         f"{money(per_employee)}/month overhead; {mgmt:g} owner hours/month",
                         "the escalations still need doing (by the technicians now); a senior "
                         "hire can quit like any technician",
                         "assumption: senior premium $1,500-3,000/month; halving: seed 004 "
                         "(a tiered desk)")
    if name == "10 more selling hours a month":
        return LeverCost(0.0, 10.0, "no spend: 10 owner hours/month, taken only from what "
                         "is left after escalations, management and account care",
                         "the hours exist only in months the owner has them to spare",
                         "the user's plan")
    return None


def resolve_levers(config: Config, source: str = "[levers]") -> list[Lever]:
    """The levers of ``config``: the standard ones that apply, less ``levers.skip``, plus
    ``levers.add``; each checked by building its config.

    Raises
    ------
    ConfigError
        An unknown name in ``levers.skip``, a duplicate name, or a lever whose
        overrides make an invalid config (named with its key and value).
    """
    names = [name for name, _, _ in STANDARD_LEVERS]
    problems: list[tuple[str, Any, str]] = []
    for name in config.levers.skip:
        if name not in names:
            problems.append(("levers.skip", name, "unknown lever; allowed: "
                             + ", ".join(f'"{n}"' for n in names)))
    levers = []
    for name, description, make in STANDARD_LEVERS:
        if name in config.levers.skip:
            continue
        overrides = make(config)
        if overrides is not None:
            levers.append(Lever(name, description,
                                {k: _within(k, v) for k, v in overrides.items()},
                                lever_cost(name, config)))
    for k, table in enumerate(config.levers.add, start=1):
        if table.name in {lever.name for lever in levers}:
            problems.append((f"levers.add[{k}].name", table.name, "a lever of that name "
                             "exists; allowed: a new name"))
            continue
        levers.append(Lever(table.name, table.description or "your lever", dict(table.set)))
    for lever in levers:
        try:
            apply_lever(config, lever, source)
        except ConfigError as exc:
            problems += [(f'lever "{lever.name}": {key}', value, message)
                         for key, value, message in exc.problems]
    if problems:
        raise ConfigError(source, problems)
    return levers


def apply_lever(config: Config, lever: Lever, source: str = "[levers]") -> Config:
    """``config`` with ``lever``'s overrides (validated as any config)."""
    data = config.model_dump(mode="python", by_alias=True, exclude_none=True)
    return config_from_dict(data, source=source, overrides=lever.set)


def _within(key: str, value: Any) -> Any:
    """A moved distribution's ``low``/``high`` bounds kept inside the key's allowed range
    (a stretched ``high = 10000`` would otherwise leave it)."""
    spec = param_specs().get(key)
    if not isinstance(value, dict) or spec is None:
        return value
    out = dict(value)
    lower = spec.ge if spec.ge is not None else spec.gt
    upper = spec.le if spec.le is not None else spec.lt
    if "low" in out and lower is not None:
        out["low"] = max(out["low"], lower)
    if "high" in out and upper is not None:
        out["high"] = min(out["high"], upper)
    return out
