"""Comparing scenarios with common random numbers (``msp-sim compare``).

Every scenario is simulated with the same seed and number of paths. The
engine derives path ``i``'s month-level stream and its parameter uniforms
from ``(seed, i)`` alone (:mod:`simulator.model.sampling`), so path ``i`` of every
scenario faces the same luck: the same draws of every uncertain parameter
(uniform ``k`` belongs to key ``k`` in every config) and the same stream of
meetings, churn and tickets until the scenarios' decisions make the paths
diverge. Differences between scenarios are then mostly the levers, not noise,
and identical scenarios give identical results.

Two ways to name the scenarios:

* config files: ``msp-sim compare A.toml B.toml [...]``;
* a scenario file: one base config plus named override sets::

      base = "baseline.toml"      # relative to this file
      title = "Alignment or a salesperson?"   # optional

      [[scenario]]
      name = "as is"

      [[scenario]]
      name = "alignment"
      description = "standardization program from month 6"
      set = { "alignment.enabled" = true, "alignment.start_month" = 6 }

      [[scenario]]
      name = "sales rep"
      config = "other.toml"       # optional: another config instead of base
      set = { sales.reps = 1 }

``comparison.json`` holds, per scenario, P(break by months 12, 24, 36, 60 and
the horizon) with Wilson 95% intervals, the median time to the threshold
with its 95% interval (censoring-aware, :func:`scipy.stats.ecdf`), MRR at the
horizon (mean and quantiles, each with a 95% interval) and the paired
difference from the reference scenario (the first); ``logrank_p`` is the
two-sided log-rank test (:func:`scipy.stats.logrank`) of the censored
first-passage times against the reference. Common random numbers make the
two samples positively correlated, which the log-rank test (built for
independent samples) does not know: its p-value is conservative, while the
paired differences use the pairing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..config.describe import config_rows
from ..formatting import finite_or_none as _f
from ..formatting import money, signed_dollars
from ..formatting import pvalue as _pval
from ..results import KEEP_PATHS_LIMIT, SimulationResult, package_version
from ..results.value import cvar, path_values
from ..runner import RunOptions, as_seed, map_ordered, run
from .common import JsonResult, require_pandas
from .paired import COMPARE_MONTHS, logrank_p, paired_difference, report_months, scenario_summary
from .scenarios import Scenario, is_scenario_file, load_scenarios, read_toml, resolve_scenarios

__all__ = [
    "COMPARE_MONTHS",
    "ComparisonResult",
    "Scenario",
    "compare",
    "compare_bytes",
    "is_scenario_file",
    "load_scenarios",
]




# -- the result


@dataclass(repr=False)
class ComparisonResult(JsonResult):
    """Scenarios simulated with common random numbers.

    Attributes
    ----------
    scenarios : list of Scenario
        In the order given; the first is the reference of the tests.
    results : list of SimulationResult
        One run per scenario, same seed and number of paths (with every
        trajectory only when they fit, see :func:`compare`).
    final_mrr, final_cash : list of ndarray or None
        Every path's MRR and cash at the horizon, per scenario (the paired statistics);
        default: from the kept trajectories.
    final_values : list of dict or None
        Every path's :data:`COMPARE_VALUES` (cumulative profit, enterprise and owner's
        value), per scenario, streamed chunk by chunk; default: from the kept
        trajectories.
    n_paths, seed : int
        The common run size and seed.
    title : str
        Title of the report.
    """

    scenarios: list[Scenario]
    results: list[SimulationResult]
    n_paths: int
    seed: int
    title: str = "Scenario comparison"
    final_mrr: list[np.ndarray] | None = field(default=None, repr=False)
    final_cash: list[np.ndarray] | None = field(default=None, repr=False)
    final_values: list[dict[str, np.ndarray]] | None = field(default=None, repr=False)
    _dict: dict[str, Any] | None = field(default=None, init=False, compare=False)

    def _final(self, i: int) -> np.ndarray:
        if self.final_mrr is not None:
            return self.final_mrr[i]
        return self.results[i]["mrr"][:, -1]

    def _cash(self, i: int) -> np.ndarray | None:
        """Every path's cash at the horizon (``None``: neither streamed nor kept)."""
        if self.final_cash is not None:
            return self.final_cash[i]
        r = self.results[i]
        return np.asarray(r["cash"][:, -1]) if r.paths_kept else None

    def _values(self, i: int) -> Mapping[str, np.ndarray] | None:
        """Every path's :data:`COMPARE_VALUES` of scenario ``i`` (``None``: neither
        streamed nor kept)."""
        if self.final_values is not None:
            return self.final_values[i]
        return path_values(self.results[i])

    def _money_block(self, i: int) -> dict[str, Any]:
        """Cash at the horizon, cumulative profit and the owner's value of scenario ``i``
        (p10 / p50 / p90, mean and the mean of the worst 10%; ``None`` where the run
        neither streamed nor kept them)."""
        cash = self._cash(i)
        values = self._values(i)
        return {"cash_final": _spread(cash),
                "cumulative_profit": (None if values is None
                                      else _spread(values["cumulative_profit"])),
                "owner_value": None if values is None else _spread(values["owner_value"]),
                "enterprise_value": (None if values is None
                                     else _spread(values["enterprise_value"]))}

    def _money_differences(self, i: int) -> dict[str, Any]:
        """Paired differences of scenario ``i`` against the reference: cash at the horizon,
        P(insolvent), cumulative profit and the owner's value."""
        ref, r = self.results[0], self.results[i]
        out: dict[str, Any] = {
            "p_insolvent": paired_difference(_insolvent(ref), _insolvent(r), binary=True)}
        cash0, cash = self._cash(0), self._cash(i)
        out["cash_final_mean"] = (None if cash0 is None or cash is None
                                  else paired_difference(cash0, cash, binary=False))
        v0, v = self._values(0), self._values(i)
        for key in ("cumulative_profit", "owner_value"):
            out[f"{key}_mean"] = (None if v0 is None or v is None
                                  else paired_difference(v0[key], v[key], binary=False))
        return out

    def __repr__(self) -> str:
        return (f"ComparisonResult(scenarios={self.names}, n_paths={self.n_paths}, "
                f"seed={self.seed})")

    @property
    def names(self) -> list[str]:
        """Scenario names, in order."""
        return [s.name for s in self.scenarios]

    @property
    def months(self) -> int:
        """The common horizon."""
        return self.results[0].months

    @property
    def threshold_mrr(self) -> float:
        """The common MRR threshold [$/month]."""
        return self.results[0].threshold_mrr

    def __getitem__(self, name: str) -> SimulationResult:
        """The run of the scenario called ``name``."""
        for s, r in zip(self.scenarios, self.results, strict=True):
            if s.name == name:
                return r
        raise KeyError(f"no scenario {name!r}; scenarios: {', '.join(self.names)}")

    def logrank(self) -> dict[str, float | None]:
        """Log-rank p-value of each scenario after the first against the first."""
        ref = self.results[0]
        return {s.name: logrank_p(ref, r)
                for s, r in zip(self.scenarios[1:], self.results[1:], strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """The ``comparison.json`` dictionary (plain JSON types)."""
        if self._dict is not None:
            return self._dict
        months = report_months(self.months)
        ref = self.results[0]
        ref_broke = _broke(ref)
        entries = []
        for i, (s, r) in enumerate(zip(self.scenarios, self.results, strict=True)):
            entry: dict[str, Any] = {"name": s.name}
            if s.description:
                entry["description"] = s.description
            entry.update(scenario_summary(r, months, self._final(i)))
            entry.update(self._money_block(i))
            if r is ref:
                entry["difference_vs_reference"] = None
            else:
                entry["difference_vs_reference"] = {
                    "p_break_by_horizon": paired_difference(ref_broke, _broke(r), binary=True),
                    "mrr_final_mean": paired_difference(self._final(0), self._final(i),
                                              binary=False),
                    **self._money_differences(i),
                }
            entries.append(entry)
        ranks = self.logrank()
        many = len(self.scenarios) > 2
        test = ("two-sided log-rank test (scipy.stats.logrank) of the first-passage times, "
                "censored at the horizon, of "
                + ("each scenario against the reference (the first scenario): pairwise vs "
                   "the first, one p-value per scenario" if many
                   else f'"{self.names[1]}" against "{self.names[0]}"')
                + "; common random numbers correlate the samples, so it is conservative")
        self._dict = {
            "n_paths": self.n_paths,
            "seed": int(self.seed),
            "months": self.months,
            "threshold_mrr": self.threshold_mrr,
            "sustain_months": ref.sustain_months,
            "common_random_numbers": True,
            "reference": self.names[0],
            "scenarios": entries,
            "logrank_p": ranks if many else ranks[self.names[1]],
            "logrank_test": test,
            "difference_method": (
                "paired over common-random-number paths (scenario minus reference): mean "
                "difference with a paired t 95% interval (scipy.stats.ttest_rel); p-value of "
                "P(break) by the exact McNemar test (scipy.stats.binomtest on the paths that "
                "break in one scenario only), of MRR by the paired t-test"),
            "version": package_version(),
        }
        return self._dict

    def to_frame(self) -> Any:
        """One row per scenario (pandas DataFrame, index = scenario name).

        Columns: ``p_break_by_<m>`` with ``_low``/``_high`` for each month,
        ``median_months`` with ``_low``/``_high``, ``censored_fraction``,
        ``mrr_final_mean``/``_p5``/``_p50``/``_p95``, ``p_insolvent``,
        ``cash_final_p10``/``_p50``/``_cvar10``, ``cumulative_profit_mean``,
        ``owner_value_p10``/``_p50``/``_p90``/``_cvar10``, ``diff_p_break``,
        ``diff_p_insolvent``, ``diff_cash_final``, ``diff_cumulative_profit``,
        ``diff_owner_value`` (vs the reference) and ``logrank_p``.

        Raises
        ------
        ImportError
            pandas is not installed.
        """
        pd = require_pandas()
        data = self.to_dict()
        lr = data["logrank_p"]
        rows = []
        for i, e in enumerate(data["scenarios"]):
            row: dict[str, Any] = {"scenario": e["name"]}
            for m, p in e["p_break_by"].items():
                lo, hi = e["p_break_by_ci95"][m]
                row.update({f"p_break_by_{m}": p, f"p_break_by_{m}_low": lo,
                            f"p_break_by_{m}_high": hi})
            t = e["time_to_threshold"]
            row.update({"median_months": t["median"], "median_months_low": t["ci95"][0],
                        "median_months_high": t["ci95"][1],
                        "censored_fraction": t["censored_fraction"]})
            for k in ("mean", "p5", "p50", "p95"):
                row[f"mrr_final_{k}"] = e["mrr_final"][k]
            row["p_insolvent"] = e["p_insolvent_by_horizon"]
            cash, profit, value = e["cash_final"], e["cumulative_profit"], e["owner_value"]
            for k in ("p10", "p50", "cvar10"):
                row[f"cash_final_{k}"] = None if cash is None else cash[k]
            row["cumulative_profit_mean"] = None if profit is None else profit["mean"]
            for k in ("p10", "p50", "p90", "cvar10"):
                row[f"owner_value_{k}"] = None if value is None else value[k]
            diff = e["difference_vs_reference"]
            row["diff_p_break"] = None if diff is None else diff["p_break_by_horizon"]["value"]
            for key, name in (("p_insolvent", "diff_p_insolvent"),
                              ("cash_final_mean", "diff_cash_final"),
                              ("cumulative_profit_mean", "diff_cumulative_profit"),
                              ("owner_value_mean", "diff_owner_value")):
                d = None if diff is None else diff[key]
                row[name] = None if d is None else d["value"]
            row["logrank_p"] = (None if i == 0 else
                                (lr[e["name"]] if isinstance(lr, dict) else lr))
            rows.append(row)
        return pd.DataFrame(rows).set_index("scenario")

    def plot(self, ax: Any = None) -> Any:
        """P(break by month t) with 95% bands and MRR medians with 25-75% bands, overlaid.

        Returns
        -------
        matplotlib.figure.Figure
            Drawn on an Agg canvas (no window, no pyplot state).
        """
        from ..report.compare import comparison_overview

        return comparison_overview(self, ax)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``comparison.json``, ``report.html`` and the PNG figures, atomically
        (:func:`simulator.report.write_comparison`)."""
        from ..report.compare import write_comparison

        return write_comparison(self, out_dir)

    def differing_inputs(self) -> list[tuple[str, list[str]]]:
        """The config keys (with their unit) whose value differs between scenarios, and
        each scenario's value in words; run settings (``simulation.*``) left out."""
        tables = [config_rows(r.config) for r in self.results]
        out = []
        for rows in zip(*tables, strict=True):
            values = [row.value for row in rows]
            if len(set(values)) > 1 and not rows[0].key.startswith("simulation."):
                out.append((rows[0].key + (f" [{rows[0].unit}]" if rows[0].unit else ""),
                            values))
        return out

    def format_summary(self) -> str:
        """A short text table for the terminal."""
        data = self.to_dict()
        thr = f"${self.threshold_mrr:,.0f}"
        width = max(8, *(len(n) for n in self.names))
        lines = [f"{len(self.names)} scenarios x {self.n_paths:,} paths x {self.months} months, "
                 f"seed {self.seed} (common random numbers), threshold {thr} MRR",
                 f"{'scenario':<{width}}  {f'P(break by {self.months}) [95% CI]':<24}  "
                 f"{'median months [CI]':<18}  {f'MRR p50 at {self.months}':<14}  "
                 f"{'P(insolvent)':<12}  {'cash p10 / p50':<21}  {'profit (mean)':<13}  "
                 "owner value p50 (change [95% CI])"]
        for e in data["scenarios"]:
            p = e["p_break_by"][str(self.months)]
            lo, hi = e["p_break_by_ci95"][str(self.months)]
            t = e["time_to_threshold"]
            if t["median"] is None:
                med = "not reached"
            else:
                hi_t = ">H" if t["ci95"][1] is None else t["ci95"][1]
                med = f"{t['median']} [{t['ci95'][0]}-{hi_t}]"
            prob = f"{100 * p:5.1f}% [{100 * lo:.1f}-{100 * hi:.1f}%]"
            cash, profit, value = e["cash_final"], e["cumulative_profit"], e["owner_value"]
            diff = e["difference_vs_reference"]
            change = diff["owner_value_mean"] if diff is not None else None
            money_cash = ("n/a" if cash is None else
                          f"{money(cash['p10'])} / {money(cash['p50'])}")
            owner = "n/a" if value is None else money(value["p50"])
            if change is not None:
                owner += (f" ({signed_dollars(change['value'])} "
                          f"[{signed_dollars(change['ci95'][0])}, "
                          f"{signed_dollars(change['ci95'][1])}])")
            insolvent = f"{100 * e['p_insolvent_by_horizon']:.1f}%"
            lines.append(f"{e['name']:<{width}}  {prob:<24}  {med:<18}  "
                         f"{money(e['mrr_final']['p50']):<14}  {insolvent:<12}  "
                         f"{money_cash:<21}  "
                         f"{'n/a' if profit is None else money(profit['mean']):<13}  {owner}")
        lr = data["logrank_p"]
        if isinstance(lr, dict):
            for name, p in lr.items():
                lines.append(f'log-rank p, "{name}" vs "{self.names[0]}": {_pval(p)}')
        else:
            lines.append(f"log-rank p: {_pval(lr)}")
        return "\n".join(lines)


COMPARE_VALUES: tuple[str, ...] = ("cumulative_profit", "enterprise_value", "owner_value")
"""The per-path values at the horizon (:data:`simulator.results.value.PATH_VALUES`) a
comparison pairs and spreads."""

COMPARE_COLUMNS: tuple[tuple[str, int], ...] = (("mrr", -1), ("cash", -1),
                                                *((name, -1) for name in COMPARE_VALUES))
"""Every path's columns a comparison keeps (month ``-1``: the horizon), from the
trajectories or, without them, chunk by chunk."""


def _broke(result: SimulationResult) -> np.ndarray:
    return (result.first_passage >= 0).astype(np.float64)


def _insolvent(result: SimulationResult) -> np.ndarray:
    return (np.asarray(result.insolvency_month) >= 0).astype(np.float64)


def _spread(x: np.ndarray | None) -> dict[str, Any] | None:
    """Mean, p10 / p50 / p90 and the mean of the worst 10% of per-path values."""
    if x is None:
        return None
    q = np.quantile(x, (0.1, 0.5, 0.9))
    return {"mean": _f(x.mean()), "p10": _f(q[0]), "p50": _f(q[1]), "p90": _f(q[2]),
            "cvar10": _f(cvar(x))}


def compare(
    configs_or_paths: Any,
    names: Sequence[str] | None = None,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    title: str | None = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
    keep_paths: bool | None = None,
    client: Any = None,
) -> ComparisonResult:
    """Simulate several scenarios with common random numbers and compare them.

    Parameters
    ----------
    configs_or_paths : sequence, mapping or path
        Configs (:class:`~simulator.config.Config`), config files, or
        :class:`Scenario` objects; a mapping of name to config or file; or the
        path of a scenario file (``base`` + ``[[scenario]]`` tables).
    names : sequence of str, optional
        Scenario names (default: the scenario file's names, the files' stems,
        or ``"scenario 1"``, ...).
    n_paths : int, optional
        Paths per scenario (default: the first scenario's ``simulation.paths``).
    seed : int or numpy.random.Generator, optional
        The common seed (default: the first scenario's ``simulation.seed``).
    overrides : ``"KEY=VALUE"`` strings or mapping, optional
        Applied to every scenario (the CLI's ``--set``).
    title : str, optional
        Report title (default: the scenario file's ``title``).
    chunk_size, progress
        Passed to :func:`simulator.api.simulate`.
    client : distributed.Client, optional
        Simulate each scenario as a Dask task (:func:`simulator.runner.dask.connect`);
        the result is the same bits as without.
    keep_paths : bool, optional
        Keep every scenario's trajectories (default: when all scenarios
        together have at most :data:`~simulator.results.KEEP_PATHS_LIMIT`
        paths). Otherwise each run keeps per-month statistics and the paired
        statistics use each path's first passage, insolvency month and
        :data:`COMPARE_COLUMNS` (MRR, cash, cumulative profit, enterprise and
        owner's value at the horizon), streamed chunk by chunk: memory grows by
        56 bytes a path and scenario.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ConfigError
        Bad configs or scenario file, fewer than two scenarios, duplicate
        names, or scenarios with different horizons or thresholds.
    """
    scenarios = resolve_scenarios(configs_or_paths, names, overrides)
    first = scenarios[0].config.simulation
    n_paths = first.paths if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = first.seed if seed is None else as_seed(seed)
    if title is None:
        title = "Scenario comparison"
        if isinstance(configs_or_paths, str | Path):
            file_title = read_toml(Path(configs_or_paths)).get("title")
            if isinstance(file_title, str) and file_title.strip():
                title = file_title.strip()
    if keep_paths is None:
        keep_paths = n_paths * len(scenarios) <= KEEP_PATHS_LIMIT
    # paired differences need every path's final MRR, cash, values and first passage,
    # not trajectories: without them, each chunk's are kept as it comes
    results, finals, cash, values = [], [], [], []
    simulate = functools.partial(simulate_columns, keep_paths=keep_paths, chunk_size=chunk_size,
                                 progress=progress if client is None else False)
    # each scenario a Dask task, if a client: the same function, the same bits
    runs = map_ordered(simulate, [(s.config, n_paths, seed, COMPARE_COLUMNS)
                                  for s in scenarios], client=client)
    for result, columns in runs:
        results.append(result)
        finals.append(columns[("mrr", -1)])
        cash.append(columns[("cash", -1)])
        values.append({name: columns[(name, -1)] for name in COMPARE_VALUES})
    return ComparisonResult(scenarios=scenarios, results=results, n_paths=n_paths,
                            seed=seed, title=title, final_mrr=finals, final_cash=cash,
                            final_values=values)


def compare_bytes(n_scenarios: int, n_paths: int, months: int,
                  chunk_size: int | None = None) -> int:
    """Estimated memory of :func:`compare` (bytes, beyond the interpreter)."""
    from ..memory import result_bytes, run_bytes

    if n_paths * n_scenarios <= KEEP_PATHS_LIMIT:  # every scenario's trajectories kept
        return n_scenarios * run_bytes(n_paths, months, True)
    # scenarios run one after another: one run's chunk buffers at a time, and each
    # finished one's statistics, first passages and COMPARE_COLUMNS (8 bytes each a path)
    columns = 8 * len(COMPARE_COLUMNS) * n_paths
    return (run_bytes(n_paths, months, False, chunk_size) + columns
            + (n_scenarios - 1) * (result_bytes(n_paths, months) + columns))


def simulate_columns(
    config: Config,
    n_paths: int,
    seed: int,
    columns: Sequence[tuple[str, int]],
    *,
    keep_paths: bool,
    chunk_size: int | None = None,
    progress: bool | None = None,
    client: Any = None,
    outcomes_only: bool = False,
) -> tuple[SimulationResult, dict[tuple[str, int], np.ndarray]]:
    """:func:`simulator.api.simulate`, plus every path's value of some ``(metric, month)``
    columns (month ``-1``: the horizon).

    With ``outcomes_only`` the run keeps neither trajectories nor statistics: its
    first passages, insolvency months and the columns alone (the same bits), the
    engine writing only the columns' metrics.

    With ``keep_paths`` the run keeps its trajectories and the columns are
    slices of them. Otherwise the run is the same chunk by chunk as
    ``simulate(..., keep_paths=False)`` (per-month statistics, first
    passages: bit-identical, tested) and only the columns are kept, 8 bytes
    a path each, so memory does not grow with the trajectories. With a Dask
    ``client`` each chunk is a task (:func:`simulator.runner.dask.execute`):
    the same bits.
    """
    return run(config, n_paths, seed,
               RunOptions(chunk_size, progress, keep_paths, client, outcomes_only),
               columns=columns)
