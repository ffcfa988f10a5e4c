"""The explorer's computations, without any user interface.

:class:`Explorer` holds a starting config and the settings changed from it
(dotted key -> value, as a person set them). Every change is checked exactly
as a config file is checked (:func:`~simulator.config.config_from_dict`), so a
bad value typed into a field gets the config's one-line message. A run
simulates the current config with the starting config's seed: the same seed
for every setting, so two runs differ only where the settings make them
differ (common random numbers, as ``msp-sim compare``), and a run of the
starting config with the same seed and paths gives the differences.

The user interface (:mod:`simulator.explorer.app`) only binds widgets to
:meth:`Explorer.set` and shows :class:`Outcome`; the tests check these numbers
against :func:`simulator.simulate` directly.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import re
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.plan import PlanSettings
from ..config import Config, ConfigError, config_from_dict, param_specs, parse_override
from ..config.errors import MISSING
from ..config.schema import SECTIONS, ParamSpec, section_model
from ..formatting import has_control, printable
from ..results import Estimate, SimulationResult

__all__ = [
    "CONTROLS",
    "DRAG_PATHS",
    "PLAN_SETTINGS",
    "REST_PATHS",
    "Control",
    "Explorer",
    "Outcome",
    "outcome_of",
    "toml_value",
]

REST_PATHS = 5_000
"""Paths per run when a control rests."""
DRAG_PATHS = 1_000
"""Paths per run while a slider is dragged."""
CHUNK_PATHS = 1_000
"""Paths per engine call: the engine gives the interpreter back between chunks (and the
results do not depend on it)."""

PLAN_SETTINGS = PlanSettings(n_screen=40, n_final=300, finalists=3, timing_top=1,
                             ocba_paths=300, ocba_rounds=2, tune_trials=4, tune_batch=4)
"""The precision of the explorer's "best plan" search (:func:`~simulator.analysis.plan.
plan_search`): every bundle screened at 40 paths, 3 finalists at 300 paths plus 300
shared by OCBA, 4 Optuna trials on the trigger thresholds (``msp-sim plan``: 200 and
2,000 paths, 6 finalists). On the baseline's ~270 bundles it takes 10-25 s on a 2-core
machine, most of it the per-bundle cost of a run (drawing every path's parameters) and
the value of information, not the paths."""
PLAN_OBJECTIVES = ("owner-value", "cum-profit", "final-cash", "p-solvent", "p-break-by")
"""What the explorer's plan search may maximize (:func:`~simulator.analysis.plan.objective`;
``p-break-by``: by the horizon)."""

# key, label, slider range when the value is inside it, step
_CONTROLS: tuple[tuple[str, str, tuple[float, float] | None, float], ...] = (
    ("sales.meetings_per_selling_hour", "Meetings per owner selling hour", (0.0, 0.4), 0.005),
    ("sales.close_rate", "Close rate (closes per proposal)", (0.0, 1.0), 0.01),
    ("customers.price_per_seat", "Price per seat today", (50.0, 300.0), 1.0),
    ("customers.price_rise", "Price rise (new clients now, the book at renewal)", (-0.2, 0.5),
     0.01),
    ("churn.annual_rate", "Annual churn", (0.0, 0.4), 0.005),
    ("tickets.per_endpoint_reactive", "Tickets per endpoint (reactive book)", (0.0, 2.0), 0.01),
    ("tickets.hours_reactive", "Hours per ticket (reactive book)", (0.1, 3.0), 0.05),
    ("start.techs", "Technicians today", (0, 30), 1),
    ("sales.reps", "Salespeople", (0, 10), 1),
    ("sales.rep_start_month", "Salespeople start in month", None, 1),
    ("alignment.enabled", "Standardization program", None, 1),
    ("alignment.start_month", "Standardization starts in month", None, 1),
    ("staff.owner_hours_per_month", "Owner hours a month", (80.0, 320.0), 5.0),
    ("staff.owner_sales_hours_per_month", "Owner selling hours a month", (0.0, 120.0), 1.0),
)
_SKIPPED = {"simulation.paths", "simulation.seed"}  # the explorer's own run settings


@dataclass(frozen=True)
class Control:
    """A control of an input an owner knows or a lever.

    ``kind`` is ``"number"``, ``"integer"`` or ``"toggle"``; ``lo``/``hi``/
    ``step`` the slider's range (it widens to hold any value typed); ``unit``,
    ``source`` and ``allowed`` come from the schema (:class:`ParamSpec`).
    """

    key: str
    label: str
    kind: str
    lo: float
    hi: float
    step: float
    unit: str
    source: str
    allowed: str
    plausible: tuple[float, float] | None

    def describe(self) -> str:
        """The unit, the source and the ranges in one line (the control's tooltip)."""
        parts = [self.unit, f"source: {self.source}"]
        if self.plausible:
            parts.append(f"plausible {self.plausible[0]:g}-{self.plausible[1]:g}")
        if self.allowed:
            parts.append(f"allowed: {self.allowed}")
        return "; ".join(p for p in parts if p)


def _spec(key: str) -> ParamSpec | None:
    return param_specs().get(key)


def _controls(months: int, book: bool = False) -> tuple[Control, ...]:
    """The controls; with an exact book (``start.book``) the price control says that it
    prices new clients only (the book keeps its fees)."""
    out = []
    for key, label, rng, step in _CONTROLS:
        spec = _spec(key)
        if book and key == "customers.price_per_seat":
            label = "Price per seat of new clients (your book keeps its fees)"
        if spec is None:  # alignment.enabled
            out.append(Control(key, label, "toggle", 0, 1, 1, "on/off",
                               "seed 004: the standardization/alignment program", "", None))
            continue
        lo, hi = rng if rng is not None else (0 if key == "alignment.start_month" else 1,
                                              months)
        out.append(Control(key, label, "integer" if spec.integer else "number", lo, hi, step,
                           spec.unit, spec.source, spec.range_text(), spec.plausible))
    return tuple(out)


CONTROLS: tuple[Control, ...] = _controls(60)
"""The controls of a 60-month config (month sliders follow the config's horizon)."""


def typical(value: Any) -> float:
    """A number as itself, a distribution as its mean: what a control shows."""
    if hasattr(value, "mean") and callable(value.mean):
        return _tidy(float(value.mean()))
    return float(value)


def _tidy(x: float) -> float:
    """``x`` to 12 significant digits: 0.115, not 0.11499999999999999."""
    return float(f"{x:.12g}")


def _dumped(value: Any) -> Any:
    """A config value as TOML data (a distribution as its table)."""
    if hasattr(value, "model_dump"):
        return {k: v for k, v in value.model_dump(mode="python", by_alias=True).items()
                if v is not None}
    return value


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value (inline tables and arrays for tables and lists)."""
    value = _dumped(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


@dataclass
class Outcome:
    """What the explorer shows of one run.

    Attributes
    ----------
    n_paths, seed, months, threshold_mrr
        The run.
    p_break : dict of int to Estimate
        P(break the threshold by month m) for 12, 24, 36 and the horizon.
    p_insolvent : Estimate
        P(out of cash and credit by the horizon).
    median_months : Estimate
        Median months to the threshold (value None: beyond the horizon).
    at_horizon : dict
        :meth:`SimulationResult.at_horizon`.
    owner_share : dict of str to float
        Share of the average owner's month each part takes at month 24.
    seconds : float
        Time the run took.
    result : SimulationResult
    """

    n_paths: int
    seed: int
    months: int
    threshold_mrr: float
    p_break: dict[int, Estimate]
    p_insolvent: Estimate
    median_months: Estimate
    at_horizon: dict[str, Any]
    owner_share: dict[str, float]
    seconds: float
    result: SimulationResult = field(repr=False)

    def numbers(self) -> dict[str, Any]:
        """The headline numbers as plain values (what the page shows)."""
        return {
            **{f"p_break_by_{m}": e.value for m, e in self.p_break.items()},
            "p_insolvent": self.p_insolvent.value,
            "median_months": self.median_months.value,
            "mrr_p50": self.at_horizon["mrr_p50"],
            "cash_p10": self.at_horizon["cash_p10"],
            "cash_p50": self.at_horizon["cash_p50"],
        }


def report_months(months: int) -> list[int]:
    """12, 24, 36 and the horizon, those inside the horizon."""
    return sorted({m for m in (12, 24, 36, months) if 0 < m <= months})


def outcome_of(result: SimulationResult, seconds: float = 0.0) -> Outcome:
    """The :class:`Outcome` of a simulation result."""
    from ..results.derived import owner_month

    months = result.months
    owner = owner_month(result)
    return Outcome(
        n_paths=result.n_paths, seed=int(result.seed or 0), months=months,
        threshold_mrr=result.threshold_mrr,
        p_break={m: result.p_break_by(m) for m in report_months(months)},
        p_insolvent=result.p_insolvent_by(months),
        median_months=result.time_quantile(0.5),
        at_horizon=result.at_horizon(),
        owner_share=dict(owner["share"]), seconds=seconds, result=result,
    )


def run(config: Config, n_paths: int, seed: int) -> Outcome:
    """Simulate ``config`` (``n_paths`` paths, ``seed``) and summarize it."""
    from ..api import simulate

    start = time.perf_counter()
    result = simulate(config, n_paths=n_paths, seed=seed, progress=False, keep_paths=True,
                      chunk_size=CHUNK_PATHS)
    return outcome_of(result, time.perf_counter() - start)


def _read_raw(path: Path) -> dict[str, Any]:
    from ..config import load_config

    load_config(path)  # a missing or malformed file raises the config's message
    return tomllib.loads(path.read_text(encoding="utf-8"))


class Explorer:
    """A starting config and the settings changed from it.

    Parameters
    ----------
    config : Config, or path of a TOML file
        The starting config.
    overrides : mapping of dotted key to value, or ``"KEY=VALUE"`` strings, optional
        Applied to the starting config (the command line's ``--set``).
    paths, drag_paths : int
        Paths per run when a control rests and while a slider moves.
    source : str, optional
        The name in messages (default: the file, or ``"explore"``).
    base_runs : dict, optional
        Where the starting config's runs are kept, by paths: one dict shared by every
        tab of a server (the same config and seed give the same runs), so that 20 tabs
        keep one copy, not 20 (issue 28). Default: this explorer's own.
    """

    def __init__(self, config: Config | str | Path, overrides: Any = None, *,
                 paths: int = REST_PATHS, drag_paths: int = DRAG_PATHS,
                 source: str | None = None, base_runs: dict[int, Outcome] | None = None):
        if isinstance(config, Config):
            raw = config.model_dump(mode="python", by_alias=True, exclude_none=True)
            self.source = source or "explore"
            self.path: Path | None = None
        else:
            self.path = Path(config)
            self.source = source or str(self.path)
            raw = _read_raw(self.path)
        if overrides:
            items = overrides.items() if isinstance(overrides, Mapping) else (
                parse_override(o) for o in overrides)
            for key, value in items:
                section, name = (p.strip() for p in key.split(".", 1))
                raw.setdefault(section, {})[name] = value
            config_from_dict(raw, self.source)  # the message names the key as a config does
        self.raw: dict[str, Any] = raw
        self.base: Config = config_from_dict(raw, self.source)
        if paths < 1 or drag_paths < 1:
            raise ValueError("paths and drag_paths must be at least 1")
        self.paths = int(paths)
        self.drag_paths = int(drag_paths)
        self.controls = _controls(self.base.simulation.months, bool(self.base.start.book))
        self._settings: dict[str, Any] = {}   # key -> what the person set
        self._values: dict[str, Any] = {}     # key -> the config value it gives
        self.config: Config = self.base
        self._base_runs: dict[int, Outcome] = {} if base_runs is None else base_runs
        self.scenarios: list[tuple[str, dict[str, Any]]] = []

    def forget(self) -> None:
        """Let go of the kept runs and scenarios (the page that used them closed); runs
        shared with other tabs stay theirs."""
        self._base_runs = {}
        self.scenarios.clear()

    # -- keys and values ---------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.base.simulation.seed

    @property
    def control_keys(self) -> list[str]:
        return [c.key for c in self.controls]

    def other_keys(self) -> list[str]:
        """Every other key of the config a field can set, in schema order."""
        keys = set(self.control_keys) | _SKIPPED
        return [f"{s}.{n}" for s in SECTIONS if s not in ("correlations", "levers")
                for n in section_model(s).model_fields if f"{s}.{n}" not in keys]

    def value(self, key: str) -> Any:
        """What a control shows: a number (a distribution's mean), a switch, or for any
        other key its TOML text (``""`` when unset)."""
        if key in self._settings and key in self.control_keys:
            return self._settings[key]
        current = self.config.get(key)
        if key in self.control_keys:
            if isinstance(current, bool):
                return current
            number = typical(current)
            return int(round(number)) if _spec(key) and _spec(key).integer else number
        return "" if current is None else toml_value(current)

    def unit(self, key: str) -> str:
        spec = _spec(key)
        if spec is not None:
            return spec.unit
        field_info = section_model(key.split(".")[0]).model_fields[key.split(".")[1]]
        return field_info.description or ""

    def describe(self, key: str) -> str:
        """Unit, source and allowed values of a key (a field's tooltip)."""
        spec = _spec(key)
        if spec is None:
            return self.unit(key)
        extra = f"; plausible {spec.plausible[0]:g}-{spec.plausible[1]:g}" \
            if spec.plausible else ""
        return f"{spec.unit}; source: {spec.source}{extra}; allowed: {spec.allowed()}"

    @property
    def settings(self) -> dict[str, Any]:
        """The keys changed from the starting config: what the person set."""
        return dict(self._settings)

    @property
    def overrides(self) -> dict[str, Any]:
        """The keys changed from the starting config: the config values they give
        (a control on a distribution scales the distribution)."""
        return dict(self._values)

    def _data(self, values: Mapping[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(self.raw)
        for key, value in values.items():
            section, name = key.split(".", 1)
            data.setdefault(section, {})[name] = _dumped(value)
        return data

    def _build(self, values: Mapping[str, Any]) -> Config:
        return config_from_dict(self._data(values), self.source)

    def parse(self, key: str, text: str) -> Any:
        """A field's text as a TOML value (a bare word as a string), or the config's
        message for text that is no value."""
        try:
            return parse_override(f"{key}={text}")[1]
        except ConfigError as exc:
            raise ConfigError(self.source, exc.problems) from None

    def set(self, key: str, value: Any) -> Config:
        """Set ``key`` (a control's number or switch, or a field's text) and return the
        new config; ``""`` (or the starting value) puts the starting value back.

        Raises
        ------
        ConfigError
            The value a config file with it would be refused for, with the same
            one-line message; the settings are then left as they were.
        """
        section, _, name = key.partition(".")
        if section not in SECTIONS or name not in section_model(section).model_fields \
                or key in _SKIPPED or section in ("correlations", "levers"):
            raise ConfigError(self.source, [(key, MISSING, "not a key the explorer sets; "
                                             "allowed: " + ", ".join(
                                                 self.control_keys + self.other_keys()))])
        if isinstance(value, str):
            if not value.strip():
                return self.reset(key)
            value = self.parse(key, value)
        values = dict(self._values)
        values[key] = value
        config = self._build(values)  # the config's own check of the value as given
        base_value = self.base.get(key)
        if key in self.control_keys and isinstance(value, int | float) \
                and not isinstance(value, bool) and hasattr(base_value, "model_dump"):
            # a control on a distribution moves the whole distribution: scaled so that
            # its mean is the value (its spread in proportion), when that stays allowed
            mean = typical(base_value)
            if mean > 0:
                from ..analysis.levers import scaled

                table = scaled(base_value, float(value) / mean)
                values[key] = {k: _tidy(v) if isinstance(v, float) else v
                               for k, v in table.items()}
                try:
                    config = self._build(values)
                except ConfigError:
                    values[key] = value  # the number alone
        if config.get(key) == base_value:
            self._values.pop(key, None)
            self._settings.pop(key, None)
        else:
            self._values[key] = values[key]
            self._settings[key] = value
        self.config = self._build(self._values)
        return self.config

    def reset(self, key: str | None = None) -> Config:
        """Put one key (or, without a key, every key) back to the starting value."""
        if key is None:
            self._values.clear()
            self._settings.clear()
        else:
            self._values.pop(key, None)
            self._settings.pop(key, None)
        self.config = self._build(self._values)
        return self.config

    # -- runs ---------------------------------------------------------------------

    def run(self, n_paths: int | None = None, config: Config | None = None) -> Outcome:
        """Simulate the current settings (or ``config``) with the starting config's seed."""
        return run(self.config if config is None else config, n_paths or self.paths,
                   self.seed)

    def baseline(self, n_paths: int | None = None) -> Outcome:
        """The starting config's run with the same seed and paths (kept once run)."""
        n = n_paths or self.paths
        runs = self._base_runs
        if n not in runs:  # two tabs at once may both run it: the same run either way
            runs[n] = run(self.base, n, self.seed)
        return runs[n]

    def difference(self, now: Outcome, base: Outcome) -> dict[str, float | None]:
        """Current minus starting value of each headline number (same seed and paths)."""
        a, b = now.numbers(), base.numbers()
        return {k: None if a[k] is None or b.get(k) is None else a[k] - b[k] for k in a}

    # -- save and compare ---------------------------------------------------------

    def to_toml(self) -> str:
        """The current settings as a config file: the starting file's keys with the
        changed ones replaced, each changed key commented with its starting value."""
        data = self._data(self._values)
        lines = [f"# Written by msp-sim explore from {printable(self.source)}.",
                 "# Keys marked \"changed\" differ from it; everything else is as it was.", ""]
        for section in SECTIONS:
            table = data.get(section)
            if not table:
                continue
            lines.append(f"[{section}]")
            for name, value in table.items():
                key = f"{section}.{name}"
                if key in self._values:
                    was = self.base.get(key)
                    lines.append(f"# changed in msp-sim explore; starting value: "
                                 f"{'(unset)' if was is None else toml_value(was)}")
                lines.append(f"{_toml_key(name)} = {toml_value(value)}")
            lines.append("")
        return "\n".join(lines)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write :meth:`to_toml` to ``path`` (``.toml``, a new file unless ``overwrite``),
        checked by loading it back: it must give the current config."""
        from ..config import load_config
        from ..output import write_text_atomic

        path = Path(path).expanduser()
        if path.suffix != ".toml":
            raise ConfigError(str(path), [("", MISSING, f'not a .toml file name: got '
                                           f'"{path.name}"; allowed: a path ending in .toml')])
        if path.exists() and not overwrite:
            raise ConfigError(str(path), [("", MISSING, "the file exists and was left as it "
                                           "is; allowed: a new path")])
        write_text_atomic(path, self.to_toml())
        if load_config(path) != self.config:  # pragma: no cover - a writer bug
            raise RuntimeError(f"{path} does not load back as the explorer's config")
        return path

    def add_scenario(self, name: str | None = None) -> str:
        """Keep the current settings as a scenario of :meth:`compare`; returns its name."""
        name = (name or "").strip() or f"settings {len(self.scenarios) + 1}"
        if has_control(name):  # it reaches the page, a workbook and the terminal
            raise ConfigError("compare", [("", MISSING, f'scenario name "{printable(name)}": '
                                           "a control character; allowed: printable text")])
        taken = {"starting config", *(n for n, _ in self.scenarios)}
        if name in taken:
            raise ConfigError("compare", [("", MISSING, f'duplicate scenario name "{name}"; '
                                           "allowed: a new name")])
        self.scenarios.append((name, dict(self._values)))
        return name

    def compare(self, n_paths: int | None = None) -> Any:
        """The starting config and every kept scenario, simulated with common random
        numbers (:func:`simulator.analysis.compare`)."""
        from ..analysis.compare import Scenario, compare

        scenarios = [Scenario("starting config", self.base, source=self.source)]
        for name, values in self.scenarios:
            description = "; ".join(f"{k} = {toml_value(v)}" for k, v in values.items())
            scenarios.append(Scenario(name, self._build(values),
                                      description=description or "as the starting config",
                                      source=self.source))
        return compare(scenarios, n_paths=n_paths or self.paths, seed=self.seed,
                       progress=False, chunk_size=CHUNK_PATHS)

    def plan(self, objective: str = "owner-value", budget: float | None = None,
             max_p_insolvent: float | None = None, *, settings: PlanSettings | None = None,
             levers: Any = None, voi_boot: int = 10) -> Any:
        """The best plan for the current config (:func:`~simulator.analysis.plan.plan_search`
        with the config's seed and levers, at :data:`PLAN_SETTINGS` unless told)."""
        from ..analysis.plan import plan_search

        return plan_search(self.config, objective, budget=budget,
                           max_p_insolvent=max_p_insolvent,
                           settings=PLAN_SETTINGS if settings is None else settings,
                           seed=self.seed, levers=levers, chunk_size=CHUNK_PATHS,
                           voi_boot=voi_boot)

    def changes(self) -> list[tuple[str, str, str]]:
        """``(key, starting value, current value)`` of each changed key, as TOML text."""
        out = []
        for key, value in self._values.items():
            was = self.base.get(key)
            out.append((key, "(unset)" if was is None else toml_value(was), toml_value(value)))
        return out



def plan_limits(budget: str, max_p_insolvent: str) -> tuple[float | None, float | None]:
    """The plan's budget ($/month) and cash-risk limit as typed (empty: none; the limit as a
    probability, ``0.05``, or a percentage, ``5%``).

    Raises
    ------
    ConfigError
        Not a number, a negative budget, or a limit outside 0-1 (0-100%).
    """
    def number(name: str, text: str, allowed: str) -> float | None:
        text = text.strip().replace(",", "").lstrip("$")
        if not text:
            return None
        percent = text.endswith("%")
        try:
            value = float(text.rstrip("%").strip())
        except ValueError:
            value = math.nan
        if percent:
            value /= 100
        bad = not math.isfinite(value) or value < 0 or (name == "max P(insolvent)"
                                                        and value > 1)
        if bad:
            raise ConfigError("plan", [("", MISSING, f"{name}: got \"{printable(text)}\"; "
                                       f"allowed: {allowed}, or empty for none")])
        return value

    return (number("budget", budget, "dollars a month >= 0"),
            number("max P(insolvent)", max_p_insolvent, "a probability from 0 to 1 "
                   "(0.05) or a percentage (5%)"))
