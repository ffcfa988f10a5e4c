"""Comparing scenarios with common random numbers (``msp-sim compare``).

Every scenario is simulated with the same seed and number of paths. The
engine derives path ``i``'s month-level stream and its parameter uniforms
from ``(seed, i)`` alone (:mod:`simulator.sampling`), so path ``i`` of every
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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..config import SECTIONS, Config, ConfigError, config_from_dict, load_config, parse_override
from ..config.describe import config_rows
from ..config.distributions import kind_of
from ..config.loader import MISSING
from ..formatting import finite_or_none as _f
from ..formatting import pvalue as _pval
from ..results import KEEP_PATHS_LIMIT, SimulationResult, config_sha256, package_version
from .common import CONFIDENCE, mean_ci, require_pandas

__all__ = [
    "COMPARE_MONTHS",
    "ComparisonResult",
    "Scenario",
    "compare",
    "compare_bytes",
    "is_scenario_file",
    "load_scenarios",
]

COMPARE_MONTHS: tuple[int, ...] = (12, 24, 36, 60)
"""Months of ``p_break_by`` (those within the horizon, plus the horizon)."""

SCENARIO_FILE_KEYS: dict[str, str] = {
    "base": 'the base config, a path relative to this file (base = "baseline.toml")',
    "title": "a title for the report (a string)",
    "scenario": "the scenarios, an array of tables [[scenario]]",
}
SCENARIO_KEYS: dict[str, str] = {
    "name": "the scenario's name (a non-empty string, unique)",
    "description": "one line about it (a string)",
    "config": "a config file used instead of base (relative to this file)",
    "set": 'overrides, a table of dotted keys: set = { "alignment.enabled" = true }',
}
_SAME_KEYS = ("simulation.months", "simulation.threshold_mrr", "simulation.sustain_months")


# -- scenarios ---------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A named config of a comparison.

    Attributes
    ----------
    name : str
        Shown in tables, legends and ``comparison.json``.
    config : Config
        The validated config.
    description : str
        Optional one-line description.
    source : str
        Where it came from (a file, or ``"<config>"``), for messages.
    """

    name: str
    config: Config
    description: str = ""
    source: str = "<config>"


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table of ``path``; a missing, odd or malformed file raises load_config's
    message (:func:`simulator.config.loader.read_toml_file`)."""
    from ..config.loader import read_toml_file

    return read_toml_file(path)


def is_scenario_file(path: str | Path) -> bool:
    """Whether ``path`` is a scenario file (has top-level ``base`` or ``[[scenario]]``).

    Raises ConfigError when the file cannot be read or is malformed TOML.
    """
    data = read_toml(Path(path))
    return "scenario" in data or "base" in data


def _override_items(overrides: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    if not overrides:
        return {}
    if isinstance(overrides, Mapping):
        return dict(overrides)
    return dict(parse_override(text) for text in overrides)


def _flatten_set(table: Mapping[str, Any]) -> dict[str, Any]:
    """``{"alignment": {"enabled": true}}`` or ``{"alignment.enabled": true}`` -> dotted keys."""
    flat: dict[str, Any] = {}
    twice: list[str] = []

    def put(key: str, value: Any) -> None:
        if key in flat:
            twice.append(key)
        flat[key] = value

    for key, value in table.items():
        if "." not in key and key in SECTIONS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                put(f"{key}.{sub}", sub_value)
        else:
            put(".".join(p.strip() for p in key.split(".")), value)
    if twice:
        raise ConfigError("set", [(k, MISSING, "given twice (as a dotted key and inside a "
                                   "section table); allowed: each key once") for k in twice])
    return flat


def _kind(value: Any) -> str:
    return kind_of(value)


def load_scenarios(
    path: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> list[Scenario]:
    """Read a scenario file (``base`` + ``[[scenario]]`` tables) into scenarios.

    Parameters
    ----------
    path : str or Path
        The scenario file.
    overrides : ``"KEY=VALUE"`` strings or mapping, optional
        Applied to every scenario after its own ``set`` (the CLI's ``--set``).

    Returns
    -------
    list of Scenario

    Raises
    ------
    ConfigError
        A malformed file, unknown or missing keys, a bad ``set`` (named
        ``<file>: scenario "<name>"``) or a bad config file.
    """
    path = Path(path)
    source = str(path)
    data = read_toml(path)
    problems: list[tuple[str, Any, str]] = []
    allowed_top = ", ".join(SCENARIO_FILE_KEYS)
    for key, value in data.items():
        if key not in SCENARIO_FILE_KEYS:
            hint = (" (config sections belong in the base config, or in a scenario's set)"
                    if key in SECTIONS else "")
            problems.append((key, value, f"unknown key{hint}; allowed at the top level of a "
                             f"scenario file: {allowed_top}"))
    for key in ("base", "title"):
        if key in data and not isinstance(data[key], str):
            problems.append((key, data[key], f"wrong type: got {_kind(data[key])}; allowed: "
                             f"{SCENARIO_FILE_KEYS[key]}"))
    raw = data.get("scenario")
    if raw is None:
        problems.append(("scenario", None, "missing: the file has no [[scenario]] tables; "
                         "allowed: at least two [[scenario]] tables, each with a name"))
        raw = []
    elif not isinstance(raw, list) or not all(isinstance(s, Mapping) for s in raw):
        got = "a table ([scenario])" if isinstance(raw, Mapping) else _kind(raw)
        problems.append(("scenario", raw if not isinstance(raw, Mapping) else None,
                         f"wrong type: got {got}; allowed: an array of tables, one "
                         "[[scenario]] per scenario"))
        raw = []
    elif len(raw) < 2:
        problems.append(("scenario", None, f"too few scenarios: got {len(raw)}; allowed: at "
                         "least two [[scenario]] tables"))
    if problems:
        raise ConfigError(source, _dedupe(problems))

    allowed_keys = ", ".join(SCENARIO_KEYS)
    seen: dict[str, int] = {}
    no_config: list[str] = []
    specs: list[tuple[str, str, Path | None, dict[str, Any]]] = []
    for i, entry in enumerate(raw, start=1):
        label = f"scenario #{i}"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            shown = "missing" if name is None else f"wrong type: got {_kind(name)}"
            if isinstance(name, str):
                shown = "empty"
            problems.append((f"{label}.name", name if name is not None else None,
                             f"{shown}; allowed: {SCENARIO_KEYS['name']}"))
            name = label
        else:
            name = name.strip()
            label = f'scenario "{name}"'
            if name in seen:
                problems.append((f"{label}.name", name, f"duplicate name (also scenario "
                                 f"#{seen[name]}); allowed: a name used once"))
            seen.setdefault(name, i)
        for key, value in entry.items():
            if key not in SCENARIO_KEYS:
                problems.append((f"{label}.{key}", value, f"unknown key; allowed in a "
                                 f"[[scenario]]: {allowed_keys}"))
        for key in ("description", "config"):
            if key in entry and not isinstance(entry[key], str):
                problems.append((f"{label}.{key}", entry[key], f"wrong type: got "
                                 f"{_kind(entry[key])}; allowed: {SCENARIO_KEYS[key]}"))
        sets = entry.get("set", {})
        if not isinstance(sets, Mapping):
            problems.append((f"{label}.set", sets, f"wrong type: got {_kind(sets)}; allowed: "
                             f"{SCENARIO_KEYS['set']}"))
            sets = {}
        cfg = entry.get("config", data.get("base"))
        if not isinstance(cfg, str):
            if cfg is None:
                no_config.append(name)
            cfg = None
        cfg_path = None if cfg is None else (path.parent / cfg)
        try:
            flat = _flatten_set(sets)
        except ConfigError as exc:
            problems.extend((f"{label}.set.{k}", v, m) for k, v, m in exc.problems)
            flat = {}
        specs.append((name, str(entry.get("description", "") or ""), cfg_path, flat))
    if no_config:
        shown = ", ".join(f'"{n}"' for n in no_config)
        problems.append(("base", None, f"missing: the file has no base and scenario {shown} "
                         'no config; allowed: base = "baseline.toml" at the top (relative to '
                         'this file), or config = "..." in every scenario'))
    if problems:
        raise ConfigError(source, _dedupe(problems))

    extra = _override_items(overrides)
    raw_configs: dict[Path, dict[str, Any]] = {}
    scenarios = []
    for name, description, cfg_path, sets in specs:
        assert cfg_path is not None
        if cfg_path not in raw_configs:
            try:
                load_config(cfg_path)  # the file alone: its mistakes name the file
            except ConfigError as exc:
                raise ConfigError(f"{exc.source} (config of {source})", exc.problems) from None
            raw_configs[cfg_path] = read_toml(cfg_path)
        base = raw_configs[cfg_path]
        try:
            config_from_dict(base, source=str(cfg_path), overrides=sets)
        except ConfigError as exc:
            raise ConfigError(f'{source}: scenario "{name}" set', exc.problems) from None
        config = config_from_dict(base, source=str(cfg_path), overrides={**sets, **extra})
        scenarios.append(Scenario(name=name, config=config, description=description,
                                  source=f'{source}: scenario "{name}"'))
    return scenarios


def _dedupe(problems: list[tuple[str, Any, str]]) -> list[tuple[str, Any, str]]:
    out = []
    for p in problems:
        if p not in out:
            out.append(p)
    # a value of None reads as "no value" in the message
    return [(k, MISSING if v is None else v, m) for k, v, m in out]


def resolve_scenarios(
    configs_or_paths: Any,
    names: Sequence[str] | None,
    overrides: Sequence[str] | Mapping[str, Any] | None,
) -> list[Scenario]:
    if isinstance(configs_or_paths, str | Path):
        if not is_scenario_file(configs_or_paths):
            raise ConfigError(str(configs_or_paths), [("", None, "one config is not a "
                              "comparison; allowed: two or more configs, or a scenario file "
                              "with base and [[scenario]] tables")])
        scenarios = load_scenarios(configs_or_paths, overrides)
    else:
        if isinstance(configs_or_paths, Mapping):
            items = list(configs_or_paths.items())
        else:
            items = [(None, item) for item in configs_or_paths]
        scenarios = []
        for i, (name, item) in enumerate(items, start=1):
            if isinstance(item, Scenario):
                scenarios.append(item)
            elif isinstance(item, Config):
                if overrides:
                    data = item.model_dump(mode="python", by_alias=True, exclude_none=True)
                    item = config_from_dict(data, source=f"scenario {i}", overrides=overrides)
                scenarios.append(Scenario(name=str(name or f"scenario {i}"), config=item,
                                          source=str(name or f"scenario {i}")))
            elif isinstance(item, str | Path):
                if is_scenario_file(item):
                    raise ConfigError(str(item), [("", None, "a scenario file cannot be "
                                      "combined with other configs; allowed: a scenario file "
                                      "alone, or two or more config files")])
                scenarios.append(Scenario(name=str(name or Path(item).stem),
                                          config=load_config(item, overrides=overrides),
                                          source=str(item)))
            else:
                raise TypeError(f"scenario {i}: expected a Config, a path or a Scenario, "
                                f"got {type(item).__name__}")
    if names is not None:
        names = list(names)
        if len(names) != len(scenarios):
            raise ConfigError("--name", [("", None, f"{len(names)} names for "
                              f"{len(scenarios)} scenarios; allowed: one name per scenario")])
        scenarios = [Scenario(name=str(n), config=s.config, description=s.description,
                              source=s.source) for n, s in zip(names, scenarios, strict=True)]
    if len(scenarios) < 2:
        raise ConfigError("compare", [("", None, f"too few scenarios: got {len(scenarios)}; "
                                       "allowed: two or more")])
    seen: dict[str, str] = {}
    for s in scenarios:
        if not s.name.strip():
            raise ConfigError(s.source, [("", None, "empty scenario name; allowed: a "
                                          "non-empty name (--name)")])
        if s.name in seen:
            raise ConfigError(s.source, [("", None, f'duplicate scenario name "{s.name}" '
                                          f"(also {seen[s.name]}); allowed: distinct names "
                                          "(give them with --name)")])
        seen[s.name] = s.source
    first = scenarios[0]
    for s in scenarios[1:]:
        for key in _SAME_KEYS:
            a, b = first.config.get(key), s.config.get(key)
            if a != b:
                raise ConfigError(s.source, [(key, b, f'differs from scenario "{first.name}" '
                                              f"({a:g}); allowed: the same value in every "
                                              "scenario of a comparison (the same horizon and "
                                              "threshold)")])
    return scenarios


# -- statistics --------------------------------------------------------------


def _quantile_ci(x: np.ndarray, p: float) -> list[float | None]:
    """Distribution-free 95% CI of the ``p`` quantile (scipy.stats.quantile_test)."""
    ci = stats.quantile_test(x, p=p).confidence_interval(CONFIDENCE)
    return [_f(ci.low), _f(ci.high)]


def paired_difference(a: np.ndarray, b: np.ndarray, binary: bool) -> dict[str, Any]:
    """Mean of ``b - a`` over paired paths with its 95% CI and a p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = b - a
    value = float(d.mean())
    if np.all(d == d[0]):
        ci = [value, value]
        pvalue = 1.0 if value == 0 else 0.0
    else:
        res = stats.ttest_rel(b, a)
        c = res.confidence_interval(CONFIDENCE)
        ci = [_f(c.low), _f(c.high)]
        pvalue = _f(res.pvalue)
    if binary:  # exact McNemar test on the discordant paths
        gain = int(np.count_nonzero(d > 0))
        loss = int(np.count_nonzero(d < 0))
        pvalue = 1.0 if gain + loss == 0 else float(stats.binomtest(gain, gain + loss).pvalue)
    return {"value": value, "ci95": ci, "p_value": pvalue}


def _censored(result: SimulationResult) -> Any:
    fp = result.first_passage
    hit = fp >= 0
    return stats.CensoredData(uncensored=fp[hit].astype(np.float64),
                              right=np.full(int(np.count_nonzero(~hit)), float(result.months)))


def logrank_p(a: SimulationResult, b: SimulationResult) -> float | None:
    """Two-sided log-rank p-value of two runs' censored first-passage times.

    ``None`` when neither run breaks the threshold (no event: nothing to test).
    """
    if not (np.any(a.first_passage >= 0) or np.any(b.first_passage >= 0)):
        return None
    return _f(stats.logrank(_censored(a), _censored(b)).pvalue)


def report_months(months: int) -> list[int]:
    """:data:`COMPARE_MONTHS` within the horizon, plus the horizon itself."""
    out = [m for m in COMPARE_MONTHS if m <= months]
    if months not in out:
        out.append(months)
    return out


def scenario_summary(result: SimulationResult, months: Sequence[int] | None = None,
                     final: np.ndarray | None = None) -> dict[str, Any]:
    """The per-scenario entry of ``comparison.json`` (without name and differences).

    ``final``: every path's MRR at the horizon (default: from the kept trajectories).
    """
    months = report_months(result.months) if months is None else list(months)
    p_break, p_ci = {}, {}
    for m in months:
        est = result.p_break_by(m)
        p_break[str(m)] = _f(est.value)
        p_ci[str(m)] = [_f(est.low), _f(est.high)]
    median = result.time_quantile(0.5)
    final = result["mrr"][:, -1] if final is None else final
    qs = {"p5": 0.05, "p50": 0.5, "p95": 0.95}
    values = np.quantile(final, list(qs.values()))
    mrr = {"mean": _f(final.mean())}
    mrr.update({k: _f(v) for k, v in zip(qs, values, strict=True)})
    mrr["ci95"] = {"mean": mean_ci(final), **{k: _quantile_ci(final, p) for k, p in qs.items()}}
    insolvent = result.p_insolvent_by(result.months)
    return {
        "config_sha256": config_sha256(result.config),
        "p_break_by": p_break,
        "p_break_by_ci95": p_ci,
        "time_to_threshold": {"median": median.value, "ci95": [median.low, median.high],
                              "censored_fraction": _f(result.censored_fraction)},
        "mrr_final": mrr,
        "p_insolvent_by_horizon": _f(insolvent.value),
        "p_insolvent_by_horizon_ci95": [_f(insolvent.low), _f(insolvent.high)],
        "at_horizon": result.at_horizon(),
    }


# -- the result --------------------------------------------------------------


@dataclass(repr=False)
class ComparisonResult:
    """Scenarios simulated with common random numbers.

    Attributes
    ----------
    scenarios : list of Scenario
        In the order given; the first is the reference of the tests.
    results : list of SimulationResult
        One run per scenario, same seed and number of paths (with every
        trajectory only when they fit, see :func:`compare`).
    final_mrr : list of ndarray or None
        Every path's MRR at the horizon, per scenario (the paired statistics);
        default: from the kept trajectories.
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
    _dict: dict[str, Any] | None = field(default=None, init=False, compare=False)

    def _final(self, i: int) -> np.ndarray:
        if self.final_mrr is not None:
            return self.final_mrr[i]
        return self.results[i]["mrr"][:, -1]

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
            if r is ref:
                entry["difference_vs_reference"] = None
            else:
                entry["difference_vs_reference"] = {
                    "p_break_by_horizon": paired_difference(ref_broke, _broke(r), binary=True),
                    "mrr_final_mean": paired_difference(self._final(0), self._final(i),
                                              binary=False),
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

    def to_json(self, indent: int | None = 2) -> str:
        """``comparison.json`` as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> Any:
        """One row per scenario (pandas DataFrame, index = scenario name).

        Columns: ``p_break_by_<m>`` with ``_low``/``_high`` for each month,
        ``median_months`` with ``_low``/``_high``, ``censored_fraction``,
        ``mrr_final_mean``/``_p5``/``_p50``/``_p95``, ``diff_p_break`` (vs the
        reference) and ``logrank_p``.

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
            diff = e["difference_vs_reference"]
            row["diff_p_break"] = None if diff is None else diff["p_break_by_horizon"]["value"]
            row["logrank_p"] = (None if i == 0 else
                                (lr[e["name"]] if isinstance(lr, dict) else lr))
            rows.append(row)
        return pd.DataFrame(rows).set_index("scenario")

    def plot(self) -> Any:
        """P(break by month t) with 95% bands and MRR medians with 25-75% bands, overlaid.

        Returns
        -------
        matplotlib.figure.Figure
            Drawn on an Agg canvas (no window, no pyplot state).
        """
        from ..report.figures import comparison_overview

        return comparison_overview(self)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``comparison.json``, ``report.html`` and the PNG figures, atomically
        (:func:`simulator.report.write_comparison`)."""
        from ..report.files import write_comparison

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
                 f"{'median months [CI]':<18}  MRR p50 at {self.months}"]
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
            lines.append(f"{e['name']:<{width}}  {prob:<24}  {med:<18}  "
                         f"${e['mrr_final']['p50']:,.0f}")
        lr = data["logrank_p"]
        if isinstance(lr, dict):
            for name, p in lr.items():
                lines.append(f'log-rank p, "{name}" vs "{self.names[0]}": {_pval(p)}')
        else:
            lines.append(f"log-rank p: {_pval(lr)}")
        return "\n".join(lines)


def _broke(result: SimulationResult) -> np.ndarray:
    return (result.first_passage >= 0).astype(np.float64)


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
        Simulate each scenario as a Dask task (:func:`simulator.distributed.connect`);
        the result is the same bits as without.
    keep_paths : bool, optional
        Keep every scenario's trajectories (default: when all scenarios
        together have at most :data:`~simulator.results.KEEP_PATHS_LIMIT`
        paths). Otherwise each run keeps per-month statistics and the paired
        statistics use each path's final MRR and first passage, streamed
        chunk by chunk: memory grows by 24 bytes a path and scenario.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ConfigError
        Bad configs or scenario file, fewer than two scenarios, duplicate
        names, or scenarios with different horizons or thresholds.
    """
    from ..api import as_seed

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
    # paired differences need every path's final MRR and first passage, not trajectories
    results, finals = [], []
    from ..distributed import using

    with using(client) as dask_client:
        if dask_client is not None:  # each scenario a Dask task: the same function, the same bits
            futures = [dask_client.submit(simulate_columns, s.config, n_paths, seed,
                                          [("mrr", -1)], keep_paths=keep_paths,
                                          chunk_size=chunk_size, progress=False, pure=False)
                       for s in scenarios]
            runs = [f.result() for f in futures]
        else:
            runs = [simulate_columns(s.config, n_paths, seed, [("mrr", -1)],
                                     keep_paths=keep_paths, chunk_size=chunk_size,
                                     progress=progress) for s in scenarios]
    for run, columns in runs:
        results.append(run)
        finals.append(columns[("mrr", -1)])
    return ComparisonResult(scenarios=scenarios, results=results, n_paths=n_paths,
                            seed=seed, title=title, final_mrr=finals)


def compare_bytes(n_scenarios: int, n_paths: int, months: int,
                  chunk_size: int | None = None) -> int:
    """Estimated memory of :func:`compare` (bytes, beyond the interpreter)."""
    from ..memory import run_bytes

    if n_paths * n_scenarios <= KEEP_PATHS_LIMIT:
        return n_scenarios * run_bytes(n_paths, months, True)
    return n_scenarios * (run_bytes(n_paths, months, False, chunk_size) + 8 * n_paths)


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
) -> tuple[SimulationResult, dict[tuple[str, int], np.ndarray]]:
    """:func:`simulator.api.simulate`, plus every path's value of some ``(metric, month)``
    columns (month ``-1``: the horizon).

    With ``keep_paths`` the run keeps its trajectories and the columns are
    slices of them. Otherwise the run is the same chunk by chunk as
    ``simulate(..., keep_paths=False)`` (per-month statistics, first
    passages: bit-identical, tested) and only the columns are kept, 8 bytes
    a path each, so memory does not grow with the trajectories. With a Dask
    ``client`` each chunk is a task (:func:`simulator.distributed.run_chunks`):
    the same bits.
    """
    from ..api import DEFAULT_CHUNK_SIZE, chunk_ranges, progress_bar, simulate
    from ..engine import new_output, run_chunk
    from ..metrics import METRICS
    from ..monthly_stats import PILOT_PATHS, MonthlyStats
    from ..sampling import draw_parameters, path_seeds, prepare

    if keep_paths:
        run = simulate(config, n_paths=n_paths, seed=seed, chunk_size=chunk_size,
                       progress=progress, keep_paths=True, client=client)
        return run, {c: np.array(run[c[0]][:, c[1]]) for c in columns}
    if client is not None:
        from ..distributed import run_chunks

        return run_chunks(config, n_paths, seed, client=client, chunk_size=chunk_size,
                          keep_paths=False, progress=progress, columns=columns)
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    prepared = prepare(config)
    buffer = new_output(min(max(chunk_size, PILOT_PATHS), n_paths), prepared.months)
    index = {c: (METRICS.index(c[0]), c[1]) for c in columns}
    values = {c: np.empty(n_paths) for c in columns}
    first_passage = np.empty(n_paths, dtype=np.int64)
    insolvency_month = np.empty(n_paths, dtype=np.int64)
    seeds = path_seeds(seed, 0, n_paths)
    stats = None
    with progress_bar(n_paths, progress) as bar:
        # as simulate() without trajectories: the pilot chunk first (it fixes the
        # statistics' bins), then chunk_size paths at a time
        for start, stop in chunk_ranges(n_paths, chunk_size, keep_paths=False):
            block = draw_parameters(config, seed, start, stop, n_paths=n_paths)
            out, fp, im = run_chunk(block, seeds[start:stop], prepared,
                                    out=buffer[:stop - start])
            first_passage[start:stop] = fp
            insolvency_month[start:stop] = im
            for c, (k, month) in index.items():
                values[c][start:stop] = out[:, k, month]
            if stats is None:
                stats = MonthlyStats.from_first_chunk(METRICS, out)
            else:
                stats.add(out)
            bar.update(stop - start)
    run = SimulationResult(config=config, seed=seed, metrics={}, first_passage=first_passage,
                           params=None, stats=stats, insolvency_month=insolvency_month)
    return run, values
