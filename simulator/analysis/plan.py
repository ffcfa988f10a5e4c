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

The space of plans (factors, options, bundles, their costs and the search's
:class:`~.plan_space.PlanSettings`) is :mod:`.plan_space`; OCBA and the selection
statistics are :mod:`.selection`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import Config, ConfigError
from ..formatting import finite_or_none as _f
from ..model.sampling import draw_parameters
from ..results import Estimate, config_sha256, package_version, proportion
from ..results.value import VALUE_METRICS, path_values_of
from ..runner import RunOptions, as_seed, map_ordered, run
from .common import JsonResult, mean_ci, run_params
from .levers import Lever, apply_lever
from .paired import paired_difference
from .plan_space import (
    TRIGGER_KNOBS,
    Bundle,
    Factor,
    Option,
    PlanSettings,
    bundle_cost,
    bundle_name,
    bundle_set,
    knob_range,
    plan_space,
)
from .selection import ocba_sample, probability_correct_selection, select_best
from .voi import uncertain_draws, value_with_errors, voi_lines

__all__ = ["OBJECTIVES", "Objective", "PathOutcomes", "PlanResult", "PlanSettings", "check_limits",
           "objective", "plan_search"]


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
            raise ValueError(f"`objective` {name}: allowed: p-break-by:M with M a month in "
                             f"1..{months or 'the horizon'}")
        return Objective(f"p-break-by:{month}", f"P(break the threshold by month {month})",
                         True, lambda o: ((o.first_passage >= 0)
                                          & (o.first_passage <= month)).astype(np.float64))
    raise ValueError(f"`objective` {name}: unknown; allowed: "
                     + ", ".join([*OBJECTIVES, "p-break-by:MONTH"]))


# -- the search ---------------------------------------------------------------------


@dataclass(repr=False)
class PlanResult(JsonResult):
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


def _wilson(x: np.ndarray) -> Estimate:
    """The share of ones in ``x`` with its Wilson 95% interval."""
    return proportion(int(round(float(x.sum()))), int(x.size))


def _feasible_soft(o: PathOutcomes, max_p: float | None) -> bool:
    return bool(max_p is None or _wilson(o.insolvent).low <= max_p)


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


def check_limits(budget: float | None, max_p_insolvent: float | None) -> None:
    """Refuse a ``budget`` [$/month] that is not a finite amount >= 0 and a
    ``max_p_insolvent`` that is not a probability (ConfigError naming the parameter)."""
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise ConfigError("budget", [("", None, f"out of range: got {budget:g}; allowed: "
                                                "dollars a month >= 0")])
    p = max_p_insolvent
    if p is not None and not (math.isfinite(p) and 0 <= p <= 1):
        raise ConfigError("max_p_insolvent", [("", None, f"out of range: got {p:g}; allowed: "
                                                         "a probability from 0 to 1")])


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
    obj = objective(objective_name, int(config.simulation.months))
    check_limits(budget, max_p_insolvent)
    seed = config.simulation.seed if seed is None else as_seed(seed)
    search = _Search(config, plan_space(config, levers, budget, settings), obj, seed,
                     chunk_size, client, max_p_insolvent)
    grid_sizes = [len(f.options) for f in search.factors]
    ranked, best_tuned = _screen(search, budget, settings)
    ns = settings.n_screen
    screened = [{"name": search.name(b), "bundle": list(b), "cost_per_month": search.cost(b),
                 "objective": _f(search.mean(b, ns)),
                 "p_insolvent": float(search.store[b].head(ns).insolvent.mean())}
                for b in ranked]
    finalists, pool, best = _final(search, ranked, settings)
    values = [obj.per_path(search.store[b]) for b in pool]
    pcs = probability_correct_selection(values, pool.index(best))
    # plans within the indifference zone are as good as each other: 0.5 pp of a
    # probability, 1% of a dollar objective's typical size
    zone = (0.005 if obj.probability
            else 0.01 * float(np.mean(np.abs(obj.per_path(search.store[best])))))
    pgs = probability_correct_selection(values, pool.index(best), zone)
    in_plan, waiting, best_entry = _answer(search, best, grid_sizes, best_tuned,
                                           settings.n_final)
    finalist_entries = []
    for b in sorted(finalists, key=lambda b: (b != best, -search.mean(b))):
        e = search.entry(b)
        e["difference_from_best"] = search.diff(best, b)
        finalist_entries.append(e)
    voi = _voi(config, obj, search.factors, search.store, pool, best, seed, voi_boot,
               settings)
    return PlanResult(config=config, objective=obj, factors=search.factors,
                      settings=settings, seed=seed, budget=budget,
                      max_p_insolvent=max_p_insolvent, screened=screened,
                      finalists=finalist_entries, best=best_entry,
                      p_correct_selection=pcs, p_good_selection=pgs, indifference=zone,
                      levers_in_plan=in_plan, waiting=waiting,
                      voi=voi, runs=search.runs, paths_simulated=search.paths)


class _Search:
    """A plan search's runs: every bundle's paths so far (paths ``0 .. n - 1`` of the
    common seed), more simulated in lists of tasks (:func:`~simulator.runner.map_ordered`)."""

    def __init__(self, config: Config, factors: list[Factor], obj: Objective, seed: int,
                 chunk_size: int | None, client: Any, max_p: float | None):
        self.config, self.factors, self.obj, self.seed = config, factors, obj, seed
        self.chunk_size, self.client, self.max_p = chunk_size, client, max_p
        self.store: dict[Bundle, PathOutcomes] = {}
        self.runs = self.paths = 0

    def simulate(self, bundles: Sequence[Bundle], n: int | Sequence[int]) -> None:
        """Make sure every bundle has at least ``n`` paths (more paths, same seed), the
        runs of every bundle one list of tasks."""
        targets: dict[Bundle, int] = {}
        for b, m in zip(bundles, [n] * len(bundles) if isinstance(n, int) else n,
                        strict=True):
            targets[b] = max(targets.get(b, 0), int(m))
        tasks, keys = [], []
        for b, m in targets.items():
            have = self.store[b].n if b in self.store else 0
            if have >= m:
                continue
            cfg = apply_lever(self.config, Lever(self.name(b), "", bundle_set(self.factors, b)))
            tasks.append((cfg, m - have, self.seed, have, self.chunk_size))
            keys.append(b)
        for b, out in zip(keys, map_ordered(_outcomes_task, tasks, client=self.client),
                          strict=True):
            self.store[b] = self.store[b].then(out) if b in self.store else out
            self.runs += 1
            self.paths += out.n

    def name(self, b: Bundle) -> str:
        return bundle_name(self.factors, b)

    def cost(self, b: Bundle) -> float:
        return bundle_cost(self.factors, b)

    def mean(self, b: Bundle, n: int | None = None) -> float:
        o = self.store[b] if n is None else self.store[b].head(n)
        return float(self.obj.per_path(o).mean())

    def screen_key(self, n: int) -> Callable[[Bundle], tuple[bool, float]]:
        """Screening's order: feasible (softly) first, then by the mean of ``n`` paths."""
        return lambda b: (_feasible_soft(self.store[b].head(n), self.max_p), self.mean(b, n))

    def feasible(self, b: Bundle) -> bool:
        return bool(self.max_p is None or self.store[b].insolvent.mean() <= self.max_p)

    def diff(self, a: Bundle, b: Bundle) -> dict[str, Any]:
        """Paired difference b - a of the objective over their common first paths."""
        n = min(self.store[a].n, self.store[b].n)
        return paired_difference(self.obj.per_path(self.store[a].head(n)),
                                 self.obj.per_path(self.store[b].head(n)),
                                 binary=self.obj.probability)

    def entry(self, b: Bundle) -> dict[str, Any]:
        return {"name": self.name(b), "bundle": list(b),
                "set": bundle_set(self.factors, b), "cost_per_month": self.cost(b),
                "feasible": self.feasible(b), **_summary(self.store[b], self.obj)}


def _screen(search: _Search, budget: float | None, settings: PlanSettings
            ) -> tuple[list[Bundle], Bundle | None]:
    """Stages 1 and 2: every bundle of levers pulled now, the timings and triggers of
    the best ones and Optuna's thresholds, at ``n_screen`` paths. Returns every bundle
    simulated, best first, and the best of Optuna's (``None``: none tried)."""
    factors, ns = search.factors, settings.n_screen
    first = [tuple(range(min(len(f.options), 2))) for f in factors]
    bundles = [b for b in itertools.product(*first)
               if budget is None or search.cost(b) <= budget]
    if len(bundles) > settings.max_bundles:
        raise ValueError(f"{len(bundles)} bundles of {len(factors)} levers; allowed: at most "
                         f"{settings.max_bundles} (leave levers out with [levers] skip)")
    search.simulate(bundles, ns)
    key = search.screen_key(ns)
    ranked = sorted(bundles, key=key, reverse=True)
    variants: list[Bundle] = []
    for b in ranked[:settings.timing_top]:
        choices = [range(1, len(f.options)) if (i and f.timed) else (i,)
                   for f, i in zip(factors, b, strict=True)]
        variants += [v for v in itertools.product(*choices)
                     if v not in search.store and (budget is None or search.cost(v) <= budget)]
    search.simulate(variants, ns)
    ranked = sorted(search.store, key=key, reverse=True)
    tuned = _tune_triggers(search, ranked[0], settings)
    best_tuned = max(tuned, key=key) if tuned else None
    return sorted(search.store, key=key, reverse=True), best_tuned


def _final(search: _Search, ranked: list[Bundle], settings: PlanSettings
           ) -> tuple[list[Bundle], list[Bundle], Bundle]:
    """Stage 3: the finalists (distinct in effect) at ``n_final`` paths, then OCBA's.
    Returns the finalists, the pool the plan is chosen from and the plan."""
    obj, store, ns = search.obj, search.store, settings.n_screen
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
    search.simulate(finalists, nf)
    extra_total = (len(finalists) * nf // 2 if settings.ocba_paths is None
                   else settings.ocba_paths)
    ocba_pool = [b for b in finalists if search.feasible(b)] or list(finalists)
    ocba_sample(lambda: [obj.per_path(store[b]) for b in ocba_pool],
                lambda targets: search.simulate(ocba_pool, targets), extra_total,
                settings.ocba_rounds)
    pool = [b for b in finalists if search.feasible(b)]
    if not pool:
        pool = sorted(finalists, key=lambda b: store[b].insolvent.mean())[:1]
    best = pool[select_best([obj.per_path(store[b]) for b in pool])]
    return finalists, pool, best


def _answer(search: _Search, best: Bundle, grid_sizes: list[int], best_tuned: Bundle | None,
            nf: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Stage 4: the plan's levers on top of the others and alone, the value of waiting
    (each timed lever's other grid timings and Optuna's best threshold) and the plan
    against the business as it is. Returns the levers in the plan, the waiting and the
    plan's entry."""
    factors, obj = search.factors, search.obj
    none: Bundle = tuple(0 for _ in factors)
    pulled = [k for k, i in enumerate(best) if i]
    minus = {k: tuple(0 if j == k else i for j, i in enumerate(best)) for k in pulled}
    alone = {k: tuple(best[k] if j == k else 0 for j in range(len(factors))) for k in pulled}
    swaps = {k: [tuple(o if j == k else i for j, i in enumerate(best))
                 for o in range(1, len(factors[k].options))
                 if o != best[k] and (o < grid_sizes[k]
                                      or (best_tuned is not None and o == best_tuned[k]))]
             for k in pulled if factors[k].timed}
    search.simulate([none, *minus.values(), *alone.values(),
                     *itertools.chain(*swaps.values())], nf)
    best_entry = search.entry(best)
    best_entry["difference_from_as_is"] = search.diff(none, best)
    best_entry["as_is"] = _summary(search.store[none], obj)
    in_plan = []
    for k in pulled:
        on_top, solo = search.diff(minus[k], best), search.diff(none, alone[k])
        in_plan.append({"lever": factors[k].name, "option": factors[k].options[best[k]].label,
                        "on_top": on_top, "alone": solo,
                        "interaction": _f(on_top["value"] - solo["value"])})
    waiting = []
    for k, alternatives in swaps.items():
        for alt in alternatives:
            d = search.diff(alt, best)
            chosen, other = factors[k].options[best[k]], factors[k].options[alt[k]]
            waiting.append({"lever": factors[k].name, "chosen": chosen.label,
                            "instead": other.label, "difference": d,
                            "text": (f"{factors[k].name} {chosen.label} rather than "
                                     f"{other.label}: {obj.format_diff(d['value'])}"
                                     f" (95% CI {obj.format_diff(d['ci95'][0])} to "
                                     f"{obj.format_diff(d['ci95'][1])})")})
    return in_plan, waiting, best_entry


def _tune_triggers(search: _Search, best: Bundle, settings: PlanSettings) -> list[Bundle]:
    """Tune the trigger thresholds of ``best``'s timed levers by Optuna's TPE (seeded; the
    insolvency limit as its constraint), each trial a new option of its factor
    (``search.factors`` is extended in place) simulated at ``n_screen`` paths like every
    screened bundle. Returns the bundles of the trials."""
    factors, n, max_p = search.factors, settings.n_screen, search.max_p
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
        return []
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    sampler = optuna.samplers.TPESampler(seed=search.seed % 2**32,
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
                low, high = knob_range(search.config, key)
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
        search.simulate(bundles, n)
        for trial, b in zip(trials, bundles, strict=True):
            o = search.store[b].head(n)
            if max_p is not None:  # feasible at <= 0 (Optuna 5's constraints)
                trial.set_constraint("p_insolvent_excess", float(o.insolvent.mean()) - max_p)
            study.tell(trial, float(search.obj.per_path(o).mean()))
        tried += bundles
        left -= len(trials)
    return tried


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
    total, each = value_with_errors(nb, draws, n_boot, settings.voi_top, seed, settings.voi)

    def worth(v: float) -> str:
        return obj.format_diff(v).lstrip("+")

    lines = [f"Perfect information about everything (the months' luck too) would be worth "
             f"at most {worth(total.value)} for this choice."]
    lines += voi_lines(each, total.value, worth)
    return {"decisions": [bundle_name(factors, r) for r in rivals], "paths": n,
            "evpi": total.to_dict(),
            "evppi": {k: v.to_dict() for k, v in each.items()}, "lines": lines}

