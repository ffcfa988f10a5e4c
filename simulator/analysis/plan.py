"""The plan: which levers, when, under a budget and a cash-risk limit.

``msp-sim plan`` searches bundles of the standard levers of the lever scan
(:func:`~simulator.analysis.levers.resolve_levers`, with their overrides) and
their timing, including trigger rules an owner can follow (the engine's
``sales.rep_hire_margin_multiple``, ``alignment.start_clients`` and
``staff.first_manager_at_techs``, docs/model.md). Each lever is a *factor*
whose first option is "not pulled"; a bundle picks one option of each.

The search, every candidate on the same seed and paths (common random numbers):

1. *Screening*: every bundle of the levers pulled now (at most
   ``max_bundles``), at ``n_screen`` paths.
2. *Timing*: every timing and trigger variant of the ``timing_top`` best
   screened bundles' timed levers, at ``n_screen`` paths; then the trigger
   thresholds of the best one's levers (a rep's gross-margin multiple, the client
   count that starts standardization, the team size of the first manager) tuned
   by Optuna's seeded TPE sampler (``tune_trials`` trials in batches of
   ``tune_batch``, the insolvency limit as its constraint).
3. *Final*: the ``finalists`` best (the insolvency limit is soft until here:
   a bundle is dropped only when its 95% interval lies above it) re-run at
   ``n_final`` paths; then ``ocba_paths`` more paths shared among them by
   the optimal computing budget allocation (OCBA, Chen et al. 2000) in
   ``ocba_rounds`` rounds; the best feasible one (P(insolvent) at most the
   limit on the final paths) is the plan.
4. *Answer*: the finalist whose worst paired difference with any other is largest
   (on the paths each pair shares); P(correct selection) by the Bonferroni bound
   over those paired differences, ``1 - sum_j Phi(-d_j / se_j)``, and P(good
   selection), the same within an indifference zone (0.5 pp of a probability, 1% of a
   dollar objective), since near-identical plans (thresholds 1.43x and 1.5x) are
   equally good and no number of paths separates them; what
   each lever of the plan is worth on top of the others and alone (and so
   their interaction); the value of waiting (its trigger or start month
   against pulling it now); the value of information
   (:mod:`simulator.analysis.voi`) of the decision between the finalists.

A lever whose monthly cost exceeds ``budget`` is never a candidate, nor is a
bundle whose levers' costs add up to more. Every stage is a list of runs
handed to :func:`simulator.runner.map_ordered` (bundles as tasks, here or on
Dask): the answer is the same bits on any threads, chunking or workers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..config import Config
from ..formatting import finite_or_none as _f
from ..model.sampling import draw_parameters
from ..results import config_sha256, package_version
from ..results.value import VALUE_METRICS, path_values_of
from ..runner import RunOptions, as_seed, map_ordered, run
from .common import mean_ci, run_params
from .levers import Lever, apply_lever, resolve_levers
from .paired import paired_difference
from .voi import VoiSettings, uncertain_draws, value_of_information, voi_lines

__all__ = [
    "OBJECTIVES",
    "Factor",
    "Objective",
    "Option",
    "PlanResult",
    "lever_cost_per_month",
    "objective",
    "ocba_allocation",
    "ocba_sample",
    "plan_search",
    "plan_space",
    "probability_correct_selection",
    "select_best",
]


# -- what a run gives the plan -----------------------------------------------------


@dataclass
class PathOutcomes:
    """Every path's outcomes of one bundle (paths ``0 .. n - 1`` of the common seed)."""

    months: int
    cumulative_profit: np.ndarray
    cash_final: np.ndarray
    first_passage: np.ndarray
    insolvency_month: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.cumulative_profit.size)

    def then(self, more: PathOutcomes) -> PathOutcomes:
        """These paths followed by ``more`` (the next block of paths)."""
        cat = np.concatenate
        return PathOutcomes(self.months, cat([self.cumulative_profit, more.cumulative_profit]),
                            cat([self.cash_final, more.cash_final]),
                            cat([self.first_passage, more.first_passage]),
                            cat([self.insolvency_month, more.insolvency_month]),
                            {k: cat([v, more.extra[k]]) for k, v in self.extra.items()})

    def head(self, n: int) -> PathOutcomes:
        """The first ``n`` paths."""
        return PathOutcomes(self.months, self.cumulative_profit[:n], self.cash_final[:n],
                            self.first_passage[:n], self.insolvency_month[:n],
                            {k: v[:n] for k, v in self.extra.items()})

    @property
    def insolvent(self) -> np.ndarray:
        return (self.insolvency_month >= 0).astype(np.float64)


PLAN_COLUMNS: tuple[tuple[str, int | None], ...] = tuple(
    (name, None) for name in VALUE_METRICS)
"""What a plan's run reads beside first passages and insolvency months: every month of
what the owner's value reads (:data:`simulator.results.value.VALUE_METRICS`, pretax profit
and cash among them; a run of outcomes only)."""


def _outcomes_task(config: Config, n_paths: int, seed: int, first_path: int,
                   chunk_size: int | None) -> PathOutcomes:
    """One run of the plan search, reduced to its per-path outcomes (a map task)."""
    result, columns = run(config, n_paths, seed,
                          RunOptions(chunk_size, False, outcomes_only=True),
                          first_path=first_path, columns=PLAN_COLUMNS)
    metrics = {name: columns[(name, None)] for name in VALUE_METRICS}
    values = path_values_of(metrics, run_params(result), result.insolvency_month, config)
    extra = {"owner_value": values["owner_value"]}
    return PathOutcomes(
        months=result.months,
        cumulative_profit=values["cumulative_profit"],
        cash_final=values["cash"],
        first_passage=np.array(result.first_passage, dtype=np.int64),
        insolvency_month=np.array(result.insolvency_month, dtype=np.int64),
        extra=extra)


# -- objectives ------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """What the plan maximizes: a per-path value whose mean is the objective."""

    name: str
    label: str
    probability: bool
    per_path: Callable[[PathOutcomes], np.ndarray]

    def format(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{100 * value:.1f}%" if self.probability else f"${value:,.0f}"

    def format_diff(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{100 * value:+.1f} pp" if self.probability else (
            f"+${value:,.0f}" if value >= 0 else f"-${-value:,.0f}")


def _owner_value(o: PathOutcomes) -> np.ndarray:
    return o.extra["owner_value"]


OBJECTIVES: dict[str, Objective] = {
    "cum-profit": Objective("cum-profit", "mean cumulative pretax profit", False,
                            lambda o: o.cumulative_profit),
    "final-cash": Objective("final-cash", "mean cash at the horizon", False,
                            lambda o: o.cash_final),
    "p-solvent": Objective("p-solvent", "P(never out of cash and credit)", True,
                           lambda o: 1.0 - o.insolvent),
    "owner-value": Objective("owner-value", "mean owner value", False, _owner_value),
}
"""The objectives by name (``p-break-by:MONTH`` is made by :func:`objective`)."""


def objective(name: str, months: int | None = None) -> Objective:
    """The objective called ``name``: a key of :data:`OBJECTIVES` or ``p-break-by:M``
    (P(break the threshold by month M); ``p-break-by`` alone: by the horizon).

    Raises
    ------
    ValueError
        An unknown name or a month outside 1..``months``.
    """
    name = name.strip()
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if name == "p-break-by" or name.startswith("p-break-by:"):
        text = name.partition(":")[2]
        month = months if not text else (int(text) if text.isdigit() else -1)
        if month is None or month < 1 or (months is not None and month > months):
            raise ValueError(f"--objective {name}: allowed: p-break-by:M with M a month in "
                             f"1..{months or 'the horizon'}")
        return Objective(f"p-break-by:{month}", f"P(break the threshold by month {month})",
                         True, lambda o: ((o.first_passage >= 0)
                                          & (o.first_passage <= month)).astype(np.float64))
    raise ValueError(f"--objective {name}: unknown; allowed: "
                     + ", ".join([*OBJECTIVES, "p-break-by:MONTH"]))


# -- the space of plans --------------------------------------------------------------


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


def _median(value: Any) -> float:
    return float(value.frozen().median()) if hasattr(value, "frozen") else float(value)


def lever_cost_per_month(config: Config, lever: Lever | dict[str, Any]) -> float:
    """What a lever adds to the monthly costs at its start ($/month, typical values).

    A lever that states its cost (``cost_per_month``, issue 24's levers) gives it;
    otherwise it is read off what the overrides hire: technicians, salespeople,
    alignment staff for today's book, a service manager; price, churn, escalation
    and selling-hour moves cost no dollars here (their costs in hours and risks are
    the model's).
    """
    stated = getattr(lever, "cost", None)  # a standard lever's stated cost (LeverCost)
    if stated is not None:
        return float(stated.dollars_per_month)
    s = lever.set if isinstance(lever, Lever) else lever
    cost = 0.0
    if "start.techs" in s:
        extra = _median(s["start.techs"]) - _median(config.start.techs)
        cost += max(extra, 0.0) * _median(config.staff.tech_cost_per_month)
    if "sales.reps" in s:
        extra = _median(s["sales.reps"]) - _median(config.sales.reps)
        cost += max(extra, 0.0) * _median(config.sales.rep_cost_per_month)
    if s.get("alignment.enabled") and not config.alignment.enabled:
        staff = math.ceil(max(_median(config.start.customers), 1.0)
                          / _median(config.alignment.clients_per_staff))
        cost += staff * _median(config.alignment.staff_cost_per_month)
    if ("start.managers" in s or "staff.techs_per_manager" in s
            or "staff.first_manager_at_techs" in s):
        cost += _median(config.staff.manager_cost_per_month)
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
    clients = round(_median(config.start.customers))
    techs = round(_median(config.start.techs))
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


# -- ranking and selection -------------------------------------------------------------


def ocba_allocation(means: np.ndarray, sds: np.ndarray, total: int,
                    minimum: np.ndarray | None = None) -> np.ndarray:
    """OCBA's share of ``total`` paths among designs (Chen, Lin, Yucesan & Chick 2000),
    maximizing the best: ``N_i / N_j = (s_i / d_i)^2 / (s_j / d_j)^2`` for non-best
    designs (``d`` the gap to the best), ``N_b = s_b sqrt(sum_i N_i^2 / s_i^2)``.
    Integer counts summing to ``total`` (at least ``minimum`` each, when given)."""
    means = np.asarray(means, dtype=np.float64)
    sds = np.maximum(np.asarray(sds, dtype=np.float64), 1e-12 * (1 + np.abs(means).max()))
    k = means.size
    b = int(np.argmax(means))
    gap = np.maximum(means[b] - means, 1e-9 * (1 + np.abs(means).max()))
    ratio = (sds / gap) ** 2
    ratio[b] = 0.0
    others = np.arange(k) != b
    ratio[b] = sds[b] * math.sqrt(float(np.sum(ratio[others] ** 2 / sds[others] ** 2)))
    share = ratio / ratio.sum()
    alloc = np.floor(share * total).astype(np.int64)
    if minimum is not None:  # what is already spent: a design never loses paths
        alloc = np.maximum(alloc, np.asarray(minimum, dtype=np.int64))
    return alloc


def ocba_sample(values: Callable[[], list[np.ndarray]],
                extend: Callable[[Sequence[int]], None], extra_total: int,
                rounds: int) -> None:
    """Spend ``extra_total`` more paths on designs by OCBA in ``rounds`` rounds.

    ``values()`` gives each design's per-path values so far (a prefix of the common
    paths); ``extend(targets)`` brings design ``i`` to ``targets[i]`` paths.
    """
    for r in range(rounds):
        current = values()
        if len(current) < 2 or extra_total <= 0:
            return
        have = np.array([v.size for v in current])
        step = extra_total * (r + 1) // rounds - extra_total * r // rounds
        alloc = ocba_allocation(np.array([v.mean() for v in current]),
                                np.array([v.std(ddof=1) for v in current]),
                                int(have.sum()) + step, have)
        extend([int(a) for a in alloc])


def _common_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = min(a.size, b.size)
    return a[:n] - b[:n]


def select_best(values: Sequence[np.ndarray]) -> int:
    """The design whose worst paired difference with any other (over the paths the two
    share, common random numbers) is largest: the one that beats every other when one
    does, whatever extra paths OCBA gave some of them."""
    def worst(i: int) -> float:
        return min((float(_common_difference(values[i], v).mean())
                    for j, v in enumerate(values) if j != i), default=0.0)

    return max(range(len(values)), key=worst)


def probability_correct_selection(values: Sequence[np.ndarray], best: int,
                                  indifference: float = 0.0) -> float:
    """P(the chosen design is the best, or within ``indifference`` of it) by the
    Bonferroni bound over paired differences: ``1 - sum_j P(design j beats it by more
    than the indifference)``, each ``Phi(-(mean(d_j) + indifference) / se(d_j))`` over
    the paths the two share (common random numbers); clipped to [0, 1]."""
    miss = 0.0
    for j, v in enumerate(values):
        if j == best:
            continue
        d = _common_difference(values[best], v)
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
        mean = float(d.mean()) + indifference
        miss += (0.0 if mean > 0 else 1.0) if se == 0 else float(stats.norm.sf(mean / se))
    return float(min(1.0, max(0.0, 1.0 - miss)))


def _wilson(x: np.ndarray) -> tuple[float, float, float]:
    k, n = int(round(float(x.sum()))), int(x.size)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return k / n, float(ci.low), float(ci.high)


# -- the search ---------------------------------------------------------------------


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


@dataclass(repr=False)
class PlanResult:
    """The plan search's answer (:meth:`to_dict` is ``plan.json``)."""

    config: Config
    objective: Objective
    factors: list[Factor]
    settings: PlanSettings
    seed: int
    budget: float | None
    max_p_insolvent: float | None
    screened: list[dict[str, Any]]
    finalists: list[dict[str, Any]]
    best: dict[str, Any]
    p_correct_selection: float
    p_good_selection: float
    indifference: float
    levers_in_plan: list[dict[str, Any]]
    waiting: list[dict[str, Any]]
    voi: dict[str, Any]
    runs: int
    paths_simulated: int
    _dict: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __repr__(self) -> str:
        return (f"PlanResult(best={self.best['name']!r}, objective={self.objective.name!r}, "
                f"p_correct_selection={self.p_correct_selection:.3f})")

    def to_dict(self) -> dict[str, Any]:
        if self._dict is None:
            self._dict = {
                "objective": {"name": self.objective.name, "label": self.objective.label,
                              "probability": self.objective.probability},
                "seed": int(self.seed),
                "months": int(self.config.simulation.months),
                "budget_per_month": self.budget,
                "max_p_insolvent": self.max_p_insolvent,
                "precision": {
                    "n_screen": self.settings.n_screen, "n_final": self.settings.n_final,
                    "finalists": self.settings.finalists,
                    "timing_top": self.settings.timing_top,
                    "ocba_paths": self.settings.ocba_paths,
                    "ocba_rounds": self.settings.ocba_rounds},
                "factors": [{"name": f.name, "options": [
                    {"label": o.label, "set": o.set, "cost_per_month": o.cost_per_month,
                     "timing": o.timing} for o in f.options]} for f in self.factors],
                "best": self.best,
                "p_correct_selection": self.p_correct_selection,
                "p_good_selection": {"value": self.p_good_selection,
                                     "indifference": self.indifference},
                "finalists": self.finalists,
                "levers_in_plan": self.levers_in_plan,
                "value_of_waiting": self.waiting,
                "value_of_information": self.voi,
                "screened": self.screened,
                "runs": self.runs,
                "paths_simulated": self.paths_simulated,
                "method": (
                    "every bundle of levers on the same seed and paths (common random "
                    "numbers); screening of every bundle at n_screen paths, the timing and "
                    "trigger variants of the best ones, the finalists re-run at n_final "
                    "paths plus an OCBA allocation of ocba_paths; the best beats every other "
                    "finalist on their common paths by the largest worst margin; P(correct "
                    "selection) by the Bonferroni bound over paired differences with every "
                    "finalist, P(good selection) the same within the indifference zone; "
                    "value of information by the regression method of Strong, Oakley & "
                    "Brennan (2014), smoothing splines by GCV"),
                "config_sha256": config_sha256(self.config),
                "version": package_version(),
            }
        return self._dict

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def lines(self) -> list[str]:
        """The answer in words."""
        obj = self.objective
        b = self.best
        out = [f"Best plan: {b['name']} (levers ${b['cost_per_month']:,.0f}/month)."]
        if not b["feasible"]:
            out[0] += (f" No finalist keeps P(out of cash) within "
                       f"{100 * (self.max_p_insolvent or 0):.1f}%: this is the least risky.")
        out += [
               f"  {obj.label}: {obj.format(b['objective']['value'])} (95% CI "
               f"{obj.format(b['objective']['ci95'][0])} to "
               f"{obj.format(b['objective']['ci95'][1])}); P(out of cash) "
               f"{100 * b['p_insolvent']['value']:.1f}% (95% CI "
               f"{100 * b['p_insolvent']['ci95'][0]:.1f}-"
               f"{100 * b['p_insolvent']['ci95'][1]:.1f}%).",
               f"  It is the best of the {len(self.finalists)} finalists with probability "
               f"{100 * self.p_correct_selection:.0f}% (P(correct selection)), and within "
               f"{obj.format_diff(self.indifference).lstrip('+')} of the best with probability "
               f"{100 * self.p_good_selection:.0f}%."]
        for f in self.finalists[1:4]:
            d = f["difference_from_best"]
            out.append(f"  runner-up: {f['name']}: {obj.format(f['objective']['value'])} "
                       f"({obj.format_diff(d['value'])} vs the best, 95% CI "
                       f"{obj.format_diff(d['ci95'][0])} to {obj.format_diff(d['ci95'][1])})")
        for lv in self.levers_in_plan:
            out.append(f"  {lv['lever']}: worth {obj.format_diff(lv['on_top']['value'])} on "
                       f"top of the others, {obj.format_diff(lv['alone']['value'])} alone "
                       f"(interaction {obj.format_diff(lv['interaction'])})")
        for w in self.waiting:
            out.append(f"  {w['text']}")
        out += ["  " + s for s in self.voi.get("lines", [])]
        return out

    def format_summary(self) -> str:
        return "\n".join(self.lines())


def _feasible_soft(o: PathOutcomes, max_p: float | None) -> bool:
    return bool(max_p is None or _wilson(o.insolvent)[1] <= max_p)


def _summary(o: PathOutcomes, obj: Objective) -> dict[str, Any]:
    v = obj.per_path(o)
    if obj.probability:
        value, low, high = _wilson(v)
        ci: list[float | None] = [low, high]
    else:
        value, ci = float(v.mean()), mean_ci(v)
    p, plow, phigh = _wilson(o.insolvent)
    return {"objective": {"value": _f(value), "ci95": ci},
            "p_insolvent": {"value": p, "ci95": [plow, phigh]},
            "cumulative_profit_mean": _f(float(o.cumulative_profit.mean())),
            "n_paths": o.n}


def plan_search(
    config: Config,
    objective_name: str = "cum-profit",
    *,
    budget: float | None = None,
    max_p_insolvent: float | None = None,
    settings: PlanSettings | None = None,
    seed: int | np.random.Generator | None = None,
    levers: Sequence[Lever] | None = None,
    chunk_size: int | None = None,
    client: Any = None,
    voi_boot: int = 10,
) -> PlanResult:
    """Search the plan (see the module's docstring).

    Parameters
    ----------
    config : Config
        The business as it is.
    objective_name : str
        ``cum-profit``, ``final-cash``, ``p-solvent``, ``p-break-by:M`` or
        ``owner-value`` (:func:`objective`).
    budget : float, optional
        $/month the levers may cost together.
    max_p_insolvent : float, optional
        The largest P(out of cash and credit by the horizon) a plan may have.
    settings : PlanSettings, optional
        Paths of each stage (default :class:`PlanSettings`).
    seed : int or Generator, optional
        The common seed (default ``simulation.seed``).
    levers : sequence of Lever, optional
        Default :func:`~simulator.analysis.levers.resolve_levers` of ``config``.
    chunk_size : int, optional
        Paths per engine call.
    client : distributed.Client or str, optional
        Run every stage's bundles as Dask tasks; the same bits.

    Raises
    ------
    ValueError
        An unknown objective, a bad limit, or more bundles than ``max_bundles``.
    """
    if isinstance(client, str):  # one cluster for every stage, closed at the end
        from ..runner import using

        with using(client) as connected:
            return plan_search(config, objective_name, budget=budget,
                               max_p_insolvent=max_p_insolvent, settings=settings, seed=seed,
                               levers=levers, chunk_size=chunk_size, client=connected,
                               voi_boot=voi_boot)
    settings = PlanSettings() if settings is None else settings
    months = int(config.simulation.months)
    obj = objective(objective_name, months)
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise ValueError(f"--budget: got {budget}; allowed: dollars a month >= 0")
    if max_p_insolvent is not None and not 0 <= max_p_insolvent <= 1:
        raise ValueError(f"--max-p-insolvent: got {max_p_insolvent}; allowed: 0 to 1")
    seed = config.simulation.seed if seed is None else as_seed(seed)
    factors = plan_space(config, levers, budget, settings)
    n_runs = [0, 0]
    store: dict[Bundle, PathOutcomes] = {}

    def simulate(bundles: Sequence[Bundle], n: int | Sequence[int]) -> None:
        """Make sure every bundle has at least ``n`` paths (more paths, same seed), the
        runs of every bundle one list of tasks."""
        targets: dict[Bundle, int] = {}
        for b, m in zip(bundles, [n] * len(bundles) if isinstance(n, int) else n,
                        strict=True):
            targets[b] = max(targets.get(b, 0), int(m))
        tasks, keys = [], []
        for b, n in targets.items():
            have = store[b].n if b in store else 0
            if have >= n:
                continue
            cfg = apply_lever(config, Lever(bundle_name(factors, b), "",
                                            bundle_set(factors, b)))
            tasks.append((cfg, n - have, seed, have, chunk_size))
            keys.append(b)
        for b, out in zip(keys, map_ordered(_outcomes_task, tasks, client=client),
                          strict=True):
            store[b] = store[b].then(out) if b in store else out
            n_runs[0] += 1
            n_runs[1] += out.n

    def mean(b: Bundle, n: int | None = None) -> float:
        o = store[b] if n is None else store[b].head(n)
        return float(obj.per_path(o).mean())

    # 1. screening: every bundle of levers pulled now
    first = [tuple(range(min(len(f.options), 2))) for f in factors]
    bundles = [b for b in itertools.product(*first)
               if budget is None or bundle_cost(factors, b) <= budget]
    if len(bundles) > settings.max_bundles:
        raise ValueError(f"{len(bundles)} bundles of {len(factors)} levers; allowed: at most "
                         f"{settings.max_bundles} (leave levers out with [levers] skip)")
    ns = settings.n_screen
    simulate(bundles, ns)

    def screen_key(b: Bundle) -> tuple[bool, float]:
        return (_feasible_soft(store[b].head(ns), max_p_insolvent), mean(b, ns))

    ranked = sorted(bundles, key=screen_key, reverse=True)
    # 2. timing and triggers of the best screened bundles' timed levers
    variants: list[Bundle] = []
    for b in ranked[:settings.timing_top]:
        choices = [range(1, len(f.options)) if (i and f.timed) else (i,)
                   for f, i in zip(factors, b, strict=True)]
        variants += [v for v in itertools.product(*choices)
                     if v not in store and (budget is None
                                            or bundle_cost(factors, v) <= budget)]
    simulate(variants, ns)
    ranked = sorted(store, key=screen_key, reverse=True)
    # 2b. Optuna on the trigger thresholds of the best screened bundle's levers
    grid_sizes = [len(f.options) for f in factors]
    factors, tuned = _tune_triggers(config, factors, ranked[0], store, simulate, obj, ns,
                                    max_p_insolvent, settings, seed)
    best_tuned = max(tuned, key=screen_key) if tuned else None
    ranked = sorted(store, key=screen_key, reverse=True)
    screened = [{"name": bundle_name(factors, b), "bundle": list(b),
                 "cost_per_month": bundle_cost(factors, b),
                 "objective": _f(mean(b, ns)),
                 "p_insolvent": float(store[b].head(ns).insolvent.mean())} for b in ranked]

    # 3. the finalists at n_final paths, then OCBA
    finalists: list[Bundle] = []  # distinct in effect: a threshold that fires at once
    for b in ranked:                # is "now" again, its paths the same bits
        head = store[b].head(ns)
        if not any(np.array_equal(obj.per_path(head), obj.per_path(store[f].head(ns)))
                   and np.array_equal(head.cash_final, store[f].head(ns).cash_final)
                   for f in finalists):
            finalists.append(b)
        if len(finalists) == settings.finalists:
            break
    nf = settings.n_final
    simulate(finalists, nf)

    def feasible(b: Bundle) -> bool:
        return bool(max_p_insolvent is None
                    or store[b].insolvent.mean() <= max_p_insolvent)

    extra_total = (len(finalists) * nf // 2 if settings.ocba_paths is None
                   else settings.ocba_paths)
    ocba_pool = [b for b in finalists if feasible(b)] or list(finalists)

    def extend(targets: Sequence[int]) -> None:
        simulate(ocba_pool, targets)

    ocba_sample(lambda: [obj.per_path(store[b]) for b in ocba_pool], extend, extra_total,
                settings.ocba_rounds)
    pool = [b for b in finalists if feasible(b)]
    if not pool:
        pool = sorted(finalists, key=lambda b: store[b].insolvent.mean())[:1]
    values = [obj.per_path(store[b]) for b in pool]
    best = pool[select_best(values)]
    pcs = probability_correct_selection(values, pool.index(best))
    # plans within the indifference zone are as good as each other: 0.5 pp of a
    # probability, 1% of a dollar objective's typical size
    zone = (0.005 if obj.probability
            else 0.01 * float(np.mean(np.abs(obj.per_path(store[best])))))
    pgs = probability_correct_selection(values, pool.index(best), zone)

    # 4. the plan's levers on top of the others and alone, waiting, the business as is
    none: Bundle = tuple(0 for _ in factors)
    pulled = [k for k, i in enumerate(best) if i]
    minus = {k: tuple(0 if j == k else i for j, i in enumerate(best)) for k in pulled}
    alone = {k: tuple(best[k] if j == k else 0 for j in range(len(factors))) for k in pulled}
    # the other timings of each timed lever: its grid, and the best thresholds Optuna found
    swaps = {k: [tuple(o if j == k else i for j, i in enumerate(best))
                 for o in range(1, len(factors[k].options))
                 if o != best[k] and (o < grid_sizes[k]
                                      or (best_tuned is not None and o == best_tuned[k]))]
             for k in pulled if factors[k].timed}
    extra = [none, *minus.values(), *alone.values(), *itertools.chain(*swaps.values())]
    simulate(extra, nf)

    def diff(a: Bundle, b: Bundle) -> dict[str, Any]:
        """Paired difference b - a of the objective over their common first paths."""
        n = min(store[a].n, store[b].n)
        return paired_difference(obj.per_path(store[a].head(n)),
                                 obj.per_path(store[b].head(n)), binary=obj.probability)

    def entry(b: Bundle) -> dict[str, Any]:
        return {"name": bundle_name(factors, b), "bundle": list(b),
                "set": bundle_set(factors, b), "cost_per_month": bundle_cost(factors, b),
                "feasible": feasible(b), **_summary(store[b], obj)}

    finalist_entries = []
    for b in sorted(finalists, key=lambda b: (b != best, -mean(b))):
        e = entry(b)
        e["difference_from_best"] = diff(best, b)
        finalist_entries.append(e)
    best_entry = entry(best)
    best_entry["difference_from_as_is"] = diff(none, best)
    best_entry["as_is"] = _summary(store[none], obj)
    in_plan = []
    for k in pulled:
        on_top, solo = diff(minus[k], best), diff(none, alone[k])
        in_plan.append({"lever": factors[k].name, "option": factors[k].options[best[k]].label,
                        "on_top": on_top, "alone": solo,
                        "interaction": _f(on_top["value"] - solo["value"])})
    waiting = []
    for k, alternatives in swaps.items():
        for alt in alternatives:
            d = diff(alt, best)
            chosen, other = factors[k].options[best[k]], factors[k].options[alt[k]]
            waiting.append({"lever": factors[k].name, "chosen": chosen.label,
                            "instead": other.label, "difference": d,
                            "text": (f"{factors[k].name} {chosen.label} rather than "
                                     f"{other.label}: {obj.format_diff(d['value'])}"
                                     f" (95% CI {obj.format_diff(d['ci95'][0])} to "
                                     f"{obj.format_diff(d['ci95'][1])})")})

    voi = _voi(config, obj, factors, store, pool, best, seed, voi_boot, settings)
    return PlanResult(config=config, objective=obj, factors=factors, settings=settings,
                      seed=seed, budget=budget, max_p_insolvent=max_p_insolvent,
                      screened=screened, finalists=finalist_entries, best=best_entry,
                      p_correct_selection=pcs, p_good_selection=pgs, indifference=zone,
                      levers_in_plan=in_plan, waiting=waiting,
                      voi=voi, runs=n_runs[0], paths_simulated=n_runs[1])


TRIGGER_KNOBS: dict[str, tuple[str, bool]] = {
    "sales.rep_hire_margin_multiple": ("once gross profit covers {:.2f}x the cost", False),
    "alignment.start_clients": ("when the book reaches {:.0f} clients", True),
    "staff.first_manager_at_techs": ("the first at {:.0f} technicians", True),
}
"""The trigger keys Optuna tunes: an option's label and whether the key is an integer."""


def _knob_range(config: Config, key: str) -> tuple[float, float]:
    if key == "sales.rep_hire_margin_multiple":
        return 0.5, 5.0
    if key == "alignment.start_clients":
        clients = round(_median(config.start.customers))
        return clients + 1, clients + 25
    techs = round(_median(config.start.techs))
    return techs + 1, techs + 8


def _tune_triggers(config: Config, factors: list[Factor], best: Bundle,
                   store: dict[Bundle, PathOutcomes], simulate: Callable[..., None],
                   obj: Objective, n: int, max_p: float | None, settings: PlanSettings,
                   seed: int) -> tuple[list[Factor], list[Bundle]]:
    """Tune the trigger thresholds of ``best``'s timed levers by Optuna's TPE (seeded; the
    insolvency limit as its constraint), each trial a new option of its factor
    (``factors`` is extended in place: ``simulate`` reads it) simulated at ``n`` paths like
    every screened bundle. Returns the factors and the bundles of the trials."""
    knobs = []  # (factor index, trigger key, option set it starts from)
    for k, (f, i) in enumerate(zip(factors, best, strict=True)):
        if not i or not f.timed:
            continue
        trigger = next((o for o in f.options if o.timing == "trigger"), None)
        key = None if trigger is None else next(
            (key for key in TRIGGER_KNOBS if key in trigger.set), None)
        if key is not None:
            knobs.append((k, key, trigger))
    if not knobs or settings.tune_trials <= 0:
        return factors, []
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    sampler = optuna.samplers.TPESampler(seed=seed % 2**32,
                                         n_startup_trials=min(4, settings.tune_trials))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    tried: list[Bundle] = []
    left = settings.tune_trials
    while left > 0:
        trials, bundles = [], []
        for _ in range(min(settings.tune_batch, left)):
            trial = study.ask()
            bundle = list(best)
            for k, key, trigger in knobs:
                low, high = _knob_range(config, key)
                label, integer = TRIGGER_KNOBS[key]
                value = (trial.suggest_int(key, int(low), int(high)) if integer
                         else trial.suggest_float(key, low, high))
                option = Option(label.format(value), {**trigger.set, key: value},
                                trigger.cost_per_month, "trigger")
                f = factors[k]
                if option.label not in [o.label for o in f.options]:
                    factors[k] = f = Factor(f.name, (*f.options, option))
                bundle[k] = [o.label for o in f.options].index(option.label)
            trials.append(trial)
            bundles.append(tuple(bundle))
        simulate(bundles, n)
        for trial, b in zip(trials, bundles, strict=True):
            o = store[b].head(n)
            if max_p is not None:  # feasible at <= 0 (Optuna 5's constraints)
                trial.set_constraint("p_insolvent_excess", float(o.insolvent.mean()) - max_p)
            study.tell(trial, float(obj.per_path(o).mean()))
        tried += bundles
        left -= len(trials)
    return factors, tried


def _voi(config: Config, obj: Objective, factors: list[Factor],
         store: dict[Bundle, PathOutcomes], pool: list[Bundle], best: Bundle, seed: int,
         n_boot: int, settings: PlanSettings) -> dict[str, Any]:
    """Value of information of choosing among the best plan and its rivals."""
    rivals = sorted(pool, key=lambda b: -float(obj.per_path(store[b]).mean())
                    )[:settings.voi_decisions]
    if best not in rivals:
        rivals = [best, *rivals[:-1]]
    if len(rivals) < 2:
        return {"decisions": [], "lines": []}
    n = min(store[b].n for b in rivals)
    nb = np.column_stack([obj.per_path(store[b].head(n)) for b in rivals])
    # the business's draws on these paths: every bundle's, but for the keys it overrides
    draws = uncertain_draws(draw_parameters(config, seed, 0, n))
    total, each = value_of_information(nb, draws, n_boot=0, seed=seed, settings=settings.voi)
    top = list(each)[:settings.voi_top]
    _, boot = value_of_information(nb, {k: draws[k] for k in top}, n_boot=n_boot, seed=seed,
                                   settings=settings.voi)
    each.update(boot)
    unit = obj.format_diff

    def worth(v: float) -> str:
        return unit(v).lstrip("+")

    lines = [f"Perfect information about everything (the months' luck too) would be worth "
             f"at most {worth(total.value)} for this choice."]
    lines += voi_lines(each, total.value, worth)
    return {"decisions": [bundle_name(factors, r) for r in rivals], "paths": n,
            "evpi": total.to_dict(),
            "evppi": {k: v.to_dict() for k, v in each.items()}, "lines": lines}

