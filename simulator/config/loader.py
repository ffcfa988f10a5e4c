"""Reading TOML configs and ``--set KEY=VALUE`` overrides into a :class:`Config`.

Every user mistake becomes one :class:`ConfigError` whose message names the
file, the key, the value and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .schema import SECTIONS, Config

__all__ = ["ConfigError", "load_config", "parse_override", "config_from_dict"]


class ConfigError(ValueError):
    """A config or override the simulator cannot run.

    Attributes
    ----------
    source : str
        The file (or ``"--set"``) the mistake comes from.
    problems : list of (key, value, message)
        One entry per mistake found.
    """

    def __init__(self, source: str, problems: list[tuple[str, Any, str]]):
        self.source = source
        self.problems = problems
        lines = []
        for key, value, message in problems:
            where = f"{key} = {_show(value)}" if key else ""
            lines.append(f"{source}: {where}: {message}" if where else f"{source}: {message}")
        super().__init__("\n".join(lines))


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(missing)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_show(v)}" for k, v in value.items())
        return "{" + inner + "}"
    return str(value).lower() if isinstance(value, bool) else str(value)


_MISSING = object()


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"churn.annual_rate=0.12"`` into the key and its TOML-parsed value.

    A value that is not valid TOML is taken as a bare string, so
    ``--set churn.mode=renewal`` works without quotes.
    """
    if "=" not in text:
        raise ConfigError("--set", [(text, _MISSING, "expected KEY=VALUE, e.g. "
                                     "churn.annual_rate=0.12")])
    key, raw = (part.strip() for part in text.split("=", 1))
    parts = key.split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError("--set", [(key, raw, "expected a dotted key SECTION.KEY, "
                                     f"sections: {', '.join(SECTIONS)}")])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if raw and all(c.isalnum() or c in "_-" for c in raw):
            value = raw
        else:
            raise ConfigError("--set", [(key, raw, "the value is not valid TOML")]) from None
    return key, value


def _apply(data: dict, key: str, value: Any, source: str) -> None:
    section, name = key.split(".", 1)
    if section not in SECTIONS:
        raise ConfigError(source, [(key, value, f"unknown section {section!r}; allowed: "
                                    f"{', '.join(SECTIONS)}")])
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(source, [(section, target, "expected a table")])
    target[name] = value


def config_from_dict(
    data: Mapping[str, Any],
    source: str = "<dict>",
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> Config:
    """Validate a nested mapping (as read from TOML) plus overrides."""
    data = copy.deepcopy(dict(data))
    set_keys: set[str] = set()
    if overrides:
        items = overrides.items() if isinstance(overrides, Mapping) else (
            parse_override(o) for o in overrides)
        for key, value in items:
            _apply(data, key, value, "--set")
            set_keys.add(key)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        from_set = False
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            key = ".".join(loc[:2])
            from_set = from_set or key in set_keys
            problems.append((key, _lookup(data, loc[:2]), _message(err, loc)))
        raise ConfigError(
            f"{source} (with --set)" if from_set and source != "--set" else source, problems
        ) from None


def _lookup(data: Mapping, loc: list[str]) -> Any:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _message(err: dict, loc: list[str]) -> str:
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return f"unknown section; allowed: {', '.join(SECTIONS)}"
        section_model = Config.model_fields[loc[0]].annotation
        return f"unknown key; allowed in [{loc[0]}]: {', '.join(section_model.model_fields)}"
    if kind == "model_type" or kind == "dict_type":
        return "expected a table"
    if kind == "literal_error":
        return msg.replace("Input should be", "allowed:")
    return msg.replace("Input should be", "allowed: a value")


def load_config(
    path: str | Path,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> Config:
    """Read and validate a TOML config.

    Parameters
    ----------
    path : str or Path
        The TOML file.
    overrides : iterable of ``"KEY=VALUE"`` strings, or mapping of key to value
        Dotted-key overrides applied on top of the file, e.g.
        ``["churn.annual_rate=0.12"]`` or ``{"sales.reps": 1}``.

    Raises
    ------
    ConfigError
        Missing or malformed file, unknown key, wrong type, value out of
        range or impossible distribution. The message names the file, the
        key, the value and what is allowed.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [("", _MISSING, "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError(source, [("", _MISSING, "is a directory, expected a TOML file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [("", _MISSING, f"cannot read the file: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [("", _MISSING, f"malformed TOML: {exc}")]) from None
    return config_from_dict(data, source=source, overrides=overrides)
