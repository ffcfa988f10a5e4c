"""The space of plans: each lever of the scan as a *factor* whose options are its
timings and trigger rules (the first "not pulled"), the bundles they make and what
they cost a month, and the settings of the search (:class:`PlanSettings`).

The trigger rules are engine keys (``sales.rep_hire_margin_multiple``,
``alignment.start_clients``, ``staff.first_manager_at_techs``; docs/model.md):
:func:`plan_space` offers a grid of them (``PlanSettings``'s trigger fields) and
:data:`TRIGGER_KNOBS` says which :func:`simulator.analysis.plan.plan_search` tunes
with Optuna, within :func:`knob_range`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import Config
from .levers import Lever, alignment_program_need, resolve_levers, typical
from .voi import VoiSettings

__all__ = ["TRIGGER_KNOBS", "Bundle", "Factor", "Option", "PlanSettings", "bundle_cost",
           "bundle_name", "bundle_set", "knob_range", "lever_cost_per_month", "plan_space"]


@dataclass(frozen=True)
class PlanSettings:
    """How hard the search looks (the precision of :func:`plan_search`)."""

    n_screen: int = 200
    n_final: int = 2000
    finalists: int = 6
    timing_top: int = 3
    ocba_paths: int | None = None  # default: finalists x n_final / 2
    ocba_rounds: int = 2
    max_bundles: int = 1024
    tune_trials: int = 12  # Optuna trials on the best bundle's trigger thresholds
    tune_batch: int = 4  # trials simulated together (one list of tasks)
    rep_trigger_multiples: tuple[float, ...] = (1.5, 3.0)
    """Trigger options of a salesperson: hire once a month's gross profit covers k x the
    cost."""
    client_trigger_steps: tuple[int, ...] = (5, 10)
    """Trigger options of the standardization program: start at today's clients + N."""
    tech_trigger_steps: tuple[int, ...] = (2, 4)
    """Trigger options of a service manager: the first at today's technicians + T."""
    voi_decisions: int = 4
    """The best plan and its closest rivals: the decision the value of information is of."""
    voi_top: int = 3
    """Assumptions whose value of information gets a bootstrap standard error."""
    voi: VoiSettings = VoiSettings()
    """How the value of information's regression is fitted."""


@dataclass(frozen=True)
class Option:
    """One choice of a factor: its overrides, its monthly cost and when it starts."""

    label: str
    set: dict[str, Any]
    cost_per_month: float
    timing: str  # "" (not pulled), "now", "later" (a start month) or "trigger"


@dataclass(frozen=True)
class Factor:
    """A lever and its timings; ``options[0]`` is "not pulled"."""

    name: str
    options: tuple[Option, ...]

    @property
    def timed(self) -> bool:
        return len(self.options) > 2


def lever_cost_per_month(config: Config, lever: Lever | dict[str, Any]) -> float:
    """What a lever adds to the monthly costs at its start ($/month, typical values).

    A lever that states its cost (``cost_per_month``, issue 24's levers) gives it;
    otherwise it is read off what the overrides hire: technicians, salespeople,
    alignment staff and the standard stack's licences for today's book, a service
    manager; price, churn, escalation
    and selling-hour moves cost no dollars here (their costs in hours and risks are
    the model's).
    """
    stated = getattr(lever, "cost", None)  # a standard lever's stated cost (LeverCost)
    if stated is not None:
        return float(stated.dollars_per_month)
    s = lever.set if isinstance(lever, Lever) else lever
    cost = 0.0
    if "start.techs" in s:
        extra = typical(s["start.techs"]) - typical(config.start.techs)
        cost += max(extra, 0.0) * typical(config.staff.tech_cost_per_month)
    if "sales.reps" in s:
        extra = typical(s["sales.reps"]) - typical(config.sales.reps)
        cost += max(extra, 0.0) * typical(config.sales.rep_cost_per_month)
    if s.get("alignment.enabled") and not config.alignment.enabled:
        staff, licences = alignment_program_need(config)
        cost += staff * typical(config.alignment.staff_cost_per_month) + licences
    if ("start.managers" in s or "staff.techs_per_manager" in s
            or "staff.first_manager_at_techs" in s):
        cost += typical(config.staff.manager_cost_per_month)
    return cost


def plan_space(config: Config, levers: Sequence[Lever] | None = None,
               budget: float | None = None, settings: PlanSettings | None = None
               ) -> list[Factor]:
    """The factors of the plan: each lever of the scan with its timings and triggers.

    The salesperson levers (from month 1, from month 6) become one factor with the
    trigger "once a month's gross profit covers k x the rep's cost"
    (``settings.rep_trigger_multiples``); the standardization program gets "when the
    book reaches today's clients + N" (``settings.client_trigger_steps``); the service
    manager "at today's technicians + T" (``settings.tech_trigger_steps``). Options that
    cost more than ``budget`` a month are left out (a factor left with no option is
    dropped).
    """
    settings = PlanSettings() if settings is None else settings
    levers = resolve_levers(config) if levers is None else list(levers)
    clients = round(typical(config.start.customers))
    techs = round(typical(config.start.techs))
    none = Option("not pulled", {}, 0.0, "")
    factors: list[Factor] = []
    reps: list[Option] = []
    for lever in levers:
        cost = lever_cost_per_month(config, lever)
        start = lever.set.get("sales.rep_start_month")
        if "sales.reps" in lever.set and start is not None:  # the salesperson, by month
            if not reps:
                reps.append(Option("from month 1" if start == 1 else f"from month {start}",
                                   dict(lever.set), cost, "now" if start == 1 else "later"))
                for k in settings.rep_trigger_multiples:
                    reps.append(Option(f"once gross profit covers {k:g}x the cost",
                                       {**lever.set, "sales.rep_start_month": 1,
                                        "sales.rep_hire_margin_multiple": k}, cost, "trigger"))
            else:
                reps.insert(1, Option(f"from month {start}", dict(lever.set), cost,
                                      "now" if start == 1 else "later"))
            continue
        options = [Option("now", dict(lever.set), cost, "now")]
        if lever.set.get("alignment.enabled") is True:
            options += [Option(f"when the book reaches {clients + n} clients",
                               {**lever.set, "alignment.start_clients": clients + n}, cost,
                               "trigger") for n in settings.client_trigger_steps]
        elif "start.managers" in lever.set or "staff.techs_per_manager" in lever.set:
            # the manager hired by the rule takes the escalations from the same team size
            options += [Option(f"the first at {techs + n} technicians",
                               {"staff.first_manager_at_techs": techs + n,
                                **({"staff.escalation_lead_techs": techs + n}
                                   if "staff.escalation_lead_techs" in lever.set else {})},
                               cost, "trigger")
                        for n in settings.tech_trigger_steps]
        factors.append(Factor(lever.name, (none, *options)))
    if reps:
        reps.sort(key=lambda o: (o.timing != "now", o.timing != "later", o.label))
        factors.insert(0, Factor("a salesperson", (none, *reps)))
    if budget is not None:
        factors = [Factor(f.name, (none, *(o for o in f.options[1:]
                                           if o.cost_per_month <= budget)))
                   for f in factors]
        factors = [f for f in factors if len(f.options) > 1]
    return factors


Bundle = tuple[int, ...]


def bundle_cost(factors: Sequence[Factor], bundle: Bundle) -> float:
    """The monthly cost of a bundle's levers."""
    return float(sum(f.options[i].cost_per_month for f, i in zip(factors, bundle, strict=True)))


def bundle_name(factors: Sequence[Factor], bundle: Bundle) -> str:
    """A bundle in words ("as is" when nothing is pulled)."""
    parts = []
    for f, i in zip(factors, bundle, strict=True):
        if i:
            o = f.options[i]
            parts.append(f.name if o.timing == "now" and len(f.options) == 2
                         else f"{f.name} ({o.label})")
    return " + ".join(parts) if parts else "as is"


def bundle_set(factors: Sequence[Factor], bundle: Bundle) -> dict[str, Any]:
    """A bundle's overrides (later factors' keys after earlier ones')."""
    out: dict[str, Any] = {}
    for f, i in zip(factors, bundle, strict=True):
        out.update(f.options[i].set)
    return out


TRIGGER_KNOBS: dict[str, tuple[str, bool]] = {
    "sales.rep_hire_margin_multiple": ("once gross profit covers {:.2f}x the cost", False),
    "alignment.start_clients": ("when the book reaches {:.0f} clients", True),
    "staff.first_manager_at_techs": ("the first at {:.0f} technicians", True),
}
"""The trigger keys Optuna tunes: an option's label and whether the key is an integer."""


def knob_range(config: Config, key: str) -> tuple[float, float]:
    """The range Optuna searches of trigger key ``key`` on business ``config``."""
    if key == "sales.rep_hire_margin_multiple":
        return 0.5, 5.0
    if key == "alignment.start_clients":
        clients = round(typical(config.start.customers))
        return clients + 1, clients + 25
    techs = round(typical(config.start.techs))
    return techs + 1, techs + 8
