"""The lever scan: which standard move gets this business out, and what it costs.

``msp-sim run`` simulates the business as it is and, with the same seed and
paths (common random numbers, as :func:`~simulator.analysis.compare`), the
same business with each standard lever pulled (:data:`STANDARD_LEVERS`,
documented in ``docs/levers.md``): one more technician now, a salesperson,
the standardization program, a higher price, less churn, a service manager,
fewer escalations, more of the owner's time for selling. A config's
``[levers]`` section leaves standard levers out (``skip``) or adds its own
(``add``). Each lever is a set of dotted-key overrides (``Lever.set``), so
anyone can re-run it with ``msp-sim compare``; the paired differences are
computed exactly as ``compare`` computes them, on the same per-path values.

Per lever: P(break by month 36 and by the horizon) with Wilson 95%
intervals, the median months to the threshold, the mean cumulative pretax
profit over the horizon and P(out of cash and credit), each with its
paired difference from the business as it is (what the lever buys and what
it costs), sorted by the gain in P(break by the horizon).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import Config, ConfigError, config_from_dict, param_specs
from ..formatting import finite_or_none as _f
from ..formatting import pct_short, signed_dollars
from ..results import SimulationResult, config_sha256, package_version, require_pandas
from ..runner import RunOptions, as_seed, map_ordered, run
from .common import mean_ci
from .paired import paired_difference

__all__ = [
    "DEFAULT_SCAN_PATHS",
    "STANDARD_LEVERS",
    "Lever",
    "LeverScanResult",
    "lever_scan",
    "resolve_levers",
]

DEFAULT_SCAN_PATHS = 10_000
"""Paths per lever unless told otherwise (fewer when the run has fewer)."""
SCAN_MONTH = 36
"""The lever scan reports P(break) by this month as well as by the horizon."""


@dataclass(frozen=True)
class Lever:
    """A move the owner can make: a name and the dotted-key overrides that model it."""

    name: str
    description: str
    set: dict[str, Any]


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


def _typical(value: Any) -> float:
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


def _churn(c: Config) -> dict[str, Any] | None:
    if _typical(c.churn.annual_rate) <= 0.02:
        return None
    return {"churn.annual_rate": shifted(c.churn.annual_rate, -0.02, floor=0.0)}


def _manager(c: Config) -> dict[str, Any] | None:
    techs = max(2, round(_typical(c.start.techs)))
    if _typical(c.staff.techs_per_manager) <= techs:
        return None  # the book already has (or soon gets) a manager
    return {"staff.techs_per_manager": techs}


def _escalations(c: Config) -> dict[str, Any] | None:
    if _typical(c.staff.escalation_share) <= 0:
        return None
    return {"staff.escalation_share": scaled(c.staff.escalation_share, 0.5)}


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
    ("-2 pp annual churn", "churn.annual_rate - 0.02 (e.g. quarterly business reviews); only "
     "when churn is above 2%", _churn),
    ("a service manager", "staff.techs_per_manager = today's technicians: a service manager "
     "is hired as soon as the rule allows and takes the technicians off the owner",
     _manager),
    ("half the escalations", "staff.escalation_share x 0.5 (a senior technician or runbooks "
     "take half of what reaches the owner)", _escalations),
    ("10 more selling hours a month", "staff.owner_sales_hours_per_month + 10: the owner "
     "protects ten more hours a month for sales", _selling_hours),
)
"""``(name, what it means in the model, overrides of a config or None)``, in order."""


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
                                {k: _within(k, v) for k, v in overrides.items()}))
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


# -- the scan --------------------------------------------------------------------


SCAN_COLUMNS: tuple[tuple[str, int | None], ...] = (("pretax_profit", None), ("mrr", -1))
"""What the scan reads of a run beside first passages and insolvency months: every
month's pretax profit (summed per path) and the horizon's MRR."""


@dataclass
class _Outcomes:
    """What the scan keeps of a run: its summary and the per-path values it pairs."""

    summary: dict[str, Any]
    broke: np.ndarray           # 1.0 where the path broke the threshold by the horizon
    broke_by_month: np.ndarray  # ... by SCAN_MONTH (or the horizon, if shorter)
    insolvent: np.ndarray       # 1.0 where the path ran out of cash and credit
    cumulative_profit: np.ndarray
    mrr_final: np.ndarray

    @classmethod
    def of(cls, r: SimulationResult, columns: dict[Any, np.ndarray] | None = None
           ) -> _Outcomes:
        """Reduce a run: its kept trajectories (which are then let go) or, from a run
        of outcomes only, its :data:`SCAN_COLUMNS` (the same bits)."""
        fp = np.asarray(r.first_passage)
        insolvency = np.asarray(r.insolvency_month)
        month = min(SCAN_MONTH, r.months)
        if columns is None:
            columns = {("pretax_profit", None): r["pretax_profit"], ("mrr", -1): r["mrr"][:, -1]}
        profit = np.asarray(columns[("pretax_profit", None)][:, 1:].sum(axis=1),
                            dtype=np.float64)
        mrr_final = np.array(columns[("mrr", -1)], dtype=np.float64)
        median = r.time_quantile(0.5)
        summary = {
            "p_break_by": {str(m): _estimate(r.p_break_by(m))
                           for m in sorted({month, r.months})},
            "median_months": {"value": median.value, "ci95": [median.low, median.high]},
            "cumulative_profit_mean": {"value": _f(profit.mean()), "ci95": mean_ci(profit)},
            "p_insolvent": _estimate(r.p_insolvent_by(r.months)),
            "mrr_final_mean": {"value": _f(mrr_final.mean()), "ci95": mean_ci(mrr_final)},
        }
        return cls(summary=summary,
                   broke=(fp >= 0).astype(np.float64),
                   broke_by_month=((fp >= 0) & (fp <= month)).astype(np.float64),
                   insolvent=(insolvency >= 0).astype(np.float64),
                   cumulative_profit=profit, mrr_final=mrr_final)


def _estimate(est: Any) -> dict[str, Any]:
    return {"value": _f(est.value), "ci95": [_f(est.low), _f(est.high)]}


@dataclass(repr=False)
class LeverScanResult:
    """The business as it is against each lever, with common random numbers.

    Attributes
    ----------
    config : Config
        The business as it is.
    levers : list of Lever
        In scan order (:meth:`to_dict` sorts them by effect).
    n_paths, seed : int
        Paths per scenario and the common seed.
    """

    config: Config
    levers: list[Lever]
    n_paths: int
    seed: int
    _as_is: _Outcomes = field(repr=False)
    _pulled: list[_Outcomes] = field(repr=False)
    _dict: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __repr__(self) -> str:
        return (f"LeverScanResult(levers={[lv.name for lv in self.levers]}, "
                f"n_paths={self.n_paths}, seed={self.seed})")

    @property
    def months(self) -> int:
        """The horizon."""
        return int(self.config.simulation.months)

    @property
    def scan_month(self) -> int:
        """The month of the second P(break) (36, or the horizon when shorter)."""
        return min(SCAN_MONTH, self.months)

    def to_dict(self) -> dict[str, Any]:
        """The ``levers`` block of ``summary.json`` (plain JSON types)."""
        if self._dict is not None:
            return self._dict
        ref = self._as_is
        month = str(self.scan_month)
        entries = []
        for lever, o in zip(self.levers, self._pulled, strict=True):
            entry: dict[str, Any] = {"name": lever.name, "description": lever.description,
                                     "set": lever.set}
            entry.update(o.summary)
            entry["difference"] = {
                "p_break_by_horizon": paired_difference(ref.broke, o.broke, binary=True),
                f"p_break_by_{month}": paired_difference(ref.broke_by_month, o.broke_by_month,
                                                         binary=True),
                "cumulative_profit_mean": paired_difference(ref.cumulative_profit,
                                                            o.cumulative_profit, binary=False),
                "p_insolvent": paired_difference(ref.insolvent, o.insolvent, binary=True),
                "mrr_final_mean": paired_difference(ref.mrr_final, o.mrr_final, binary=False),
            }
            entries.append(entry)
        entries.sort(key=lambda e: (-(e["difference"]["p_break_by_horizon"]["value"] or 0.0),
                                    -(e["difference"]["cumulative_profit_mean"]["value"]
                                      or 0.0), e["name"]))
        self._dict = {
            "n_paths": self.n_paths,
            "seed": int(self.seed),
            "months": self.months,
            "scan_month": self.scan_month,
            "threshold_mrr": float(self.config.simulation.threshold_mrr),
            "method": (
                "every lever simulated with the seed and paths of the business as it is "
                "(common random numbers); differences are paired over paths (lever minus as "
                "is): mean difference with a paired t 95% interval; p-value of a probability "
                "by the exact McNemar test, of a mean by the paired t-test (as msp-sim "
                "compare); cumulative profit is the pretax profit summed over months 1 to "
                "the horizon"),
            "as_is": ref.summary,
            "levers": entries,
            "config_sha256": config_sha256(self.config),
            "version": package_version(),
        }
        return self._dict

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> Any:
        """One row per lever, by effect (pandas DataFrame, index = lever name).

        Columns: ``p_break_by_horizon`` and ``p_break_by_<36>`` with ``_low`` /
        ``_high``, their differences ``diff_p_break_by_horizon`` (and ``_low``,
        ``_high``), ``median_months``, ``cumulative_profit_mean``,
        ``diff_cumulative_profit``, ``p_insolvent``, ``diff_p_insolvent``, ``set``.
        """
        pd = require_pandas()
        data = self.to_dict()
        h, m = str(self.months), str(self.scan_month)
        rows = []
        for e in data["levers"]:
            d = e["difference"]
            rows.append({
                "lever": e["name"],
                "p_break_by_horizon": e["p_break_by"][h]["value"],
                "p_break_by_horizon_low": e["p_break_by"][h]["ci95"][0],
                "p_break_by_horizon_high": e["p_break_by"][h]["ci95"][1],
                f"p_break_by_{m}": e["p_break_by"][m]["value"],
                "diff_p_break_by_horizon": d["p_break_by_horizon"]["value"],
                "diff_p_break_by_horizon_low": d["p_break_by_horizon"]["ci95"][0],
                "diff_p_break_by_horizon_high": d["p_break_by_horizon"]["ci95"][1],
                f"diff_p_break_by_{m}": d[f"p_break_by_{m}"]["value"],
                "median_months": e["median_months"]["value"],
                "cumulative_profit_mean": e["cumulative_profit_mean"]["value"],
                "diff_cumulative_profit": d["cumulative_profit_mean"]["value"],
                "p_insolvent": e["p_insolvent"]["value"],
                "diff_p_insolvent": d["p_insolvent"]["value"],
                "set": json.dumps(e["set"]),
            })
        return pd.DataFrame(rows).set_index("lever")

    def plot(self, ax: Any = None) -> Any:
        """Each lever's change in P(break by the horizon) with its 95% interval
        (:func:`simulator.report.levers.lever_chart`)."""
        from ..report.levers import lever_chart

        return lever_chart(self, ax)

    def lines(self, top: int | None = 3) -> list[str]:
        """The top levers in words, e.g. ``"a salesperson from month 1: 25% -> 75% by month
        60 (+50 pp [47, 53]); cumulative profit -$40,000"``."""
        data = self.to_dict()
        h = str(self.months)
        before = data["as_is"]["p_break_by"][h]["value"]
        out = []
        for e in data["levers"][:top]:
            d = e["difference"]["p_break_by_horizon"]
            profit = e["difference"]["cumulative_profit_mean"]["value"]
            low, high = d["ci95"]
            out.append(
                f"{e['name']}: {pct_short(before)} -> {pct_short(e['p_break_by'][h]['value'])} "
                f"by month {self.months} ({_pp(d['value'])} pp [{_pp(low)}, {_pp(high)}]); "
                f"cumulative profit {signed_dollars(profit)}")
        return out


def _pp(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.0f}"


def _scan_outcomes(config: Config, n_paths: int, seed: int, chunk_size: int | None,
                   progress: bool | None) -> _Outcomes:
    """One scenario of the scan: every path's values for the paired differences, from a
    run of outcomes only (first passages, insolvency months, :data:`SCAN_COLUMNS`)."""
    options = RunOptions(chunk_size, progress, outcomes_only=True)
    return _Outcomes.of(*run(config, n_paths, seed, options, columns=SCAN_COLUMNS))


def lever_scan(
    config: Config,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    levers: Sequence[Lever] | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client: Any = None,
) -> LeverScanResult:
    """Simulate the business as it is and with each lever pulled, with common random numbers.

    Parameters
    ----------
    config : Config
        The business as it is.
    n_paths : int, optional
        Paths per scenario (default: ``simulation.paths``, at most
        :data:`DEFAULT_SCAN_PATHS`).
    seed : int or numpy.random.Generator, optional
        The common seed (default ``simulation.seed``).
    levers : sequence of Lever, optional
        Default :func:`resolve_levers` of ``config``.
    chunk_size, progress
        Passed to :func:`simulator.api.simulate`.
    client : distributed.Client or str, optional
        Run the business as it is and each lever as a Dask task (a client, or
        ``"local:N"`` / ``"tcp://HOST:PORT"``); the same bits.

    Returns
    -------
    LeverScanResult
    """
    levers = resolve_levers(config) if levers is None else list(levers)
    sim = config.simulation
    n_paths = min(sim.paths, DEFAULT_SCAN_PATHS) if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = sim.seed if seed is None else as_seed(seed)

    configs = [config, *(apply_lever(config, lever) for lever in levers)]
    outcomes = map_ordered(_scan_outcomes, [(cfg, n_paths, seed, chunk_size,
                                             progress if client is None else False)
                                            for cfg in configs], client=client)
    as_is, pulled = outcomes[0], outcomes[1:]
    return LeverScanResult(config=config, levers=list(levers), n_paths=n_paths, seed=seed,
                           _as_is=as_is, _pulled=pulled)
