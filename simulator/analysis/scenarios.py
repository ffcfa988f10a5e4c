"""Scenario files: a base config and ``[[scenario]]`` tables of overrides, read and
checked (:func:`load_scenarios`), and the scenarios of a comparison resolved from
configs, files or a scenario file (:func:`resolve_scenarios`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import SECTIONS, Config, ConfigError, config_from_dict, load_config, parse_override
from ..config.distributions import kind_of
from ..config.loader import MISSING, redacted

__all__ = ["SCENARIO_FILE_KEYS", "SCENARIO_KEYS", "Scenario", "is_scenario_file", "load_scenarios",
           "read_toml", "resolve_scenarios"]

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
            problems.append((key, redacted(value), f"unknown key{hint}; allowed at the top "
                             f"level of a scenario file: {allowed_top}"))
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
                problems.append((f"{label}.{key}", redacted(value), f"unknown key; allowed in "
                                 "a "
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
            raise ConfigError("names", [("", None, f"{len(names)} names for "
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
                                          "non-empty name (`names`)")])
        if s.name in seen:
            raise ConfigError(s.source, [("", None, f'duplicate scenario name "{s.name}" '
                                          f"(also {seen[s.name]}); allowed: distinct names "
                                          "(give them with `names`)")])
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
