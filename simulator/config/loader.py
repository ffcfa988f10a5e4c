"""Reading TOML configs and ``--set KEY=VALUE`` overrides into a :class:`Config`.

Every user mistake becomes one :class:`ConfigError`. Its message has one line
per problem, each of the form::

    <file>: <section.key> = <value as TOML>: <problem>: got <what>; allowed: <what>

for example ``configs/x.toml: churn.annual_rate = 1.2: out of range: got 1.2;
allowed: a number with 0 <= value < 1, or a distribution table inside that
range``. Problems that concern the whole file (missing, unreadable, malformed
TOML) have no key: ``<file>: <problem>``. When the offending key was given
with overrides (the CLI's ``--set``), ``<file>`` reads ``<file> (with `overrides`)``;
mistakes in an override's text itself have ``overrides`` as their file (the CLI shows
both as ``--set``).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from .correlations import correlation_problems
from .distributions import kind_of
from .errors import MISSING, ConfigError, RawText
from .schema import SECTIONS, Config, section_model

__all__ = ["MISSING", "ConfigError", "config_from_dict", "load_config", "parse_override",
           "read_toml_file"]

MAX_CONFIG_BYTES = 1_000_000
"""The largest config or scenario file read (a config is a few kilobytes)."""


def _section_keys(section: str) -> list[str]:
    return list(section_model(section).model_fields)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _home_of(name: str) -> list[str]:
    """Sections that have a key called ``name``."""
    return [s for s in SECTIONS if name in _section_keys(s)]


_SETS = ", ".join(SECTIONS)
_SET_SYNTAX = "SECTION.KEY=VALUE, e.g. churn.annual_rate=0.12"
_SET_VALUES = (
    'a number (0.12), a word or a quoted string (renewal, "renewal"), true/false, '
    'or an inline table ({dist = "uniform", low = 4, high = 8})'
)


def _split_key(key: str, value: Any) -> tuple[str, str]:
    """``"churn.annual_rate"`` -> ``("churn", "annual_rate")``, or an ``overrides`` ConfigError."""
    parts = key.split(".")
    if len(parts) == 2 and all(p.strip() for p in parts):
        section, name = (p.strip() for p in parts)
        if section not in SECTIONS:
            raise ConfigError("overrides", [(key, value, f'unknown section "{section}"; allowed '
                                         f"sections: {_SETS}{_suggest(section, SECTIONS)}")])
        return section, name
    homes = _home_of(parts[-1].strip()) if parts else []
    hint = f" (did you mean {homes[0]}.{parts[-1].strip()}?)" if len(homes) == 1 else ""
    shown = f'"{key}"' if key else "an empty key"
    raise ConfigError("overrides", [(key or "`overrides`", value,
                                      f"bad key: got {shown}; allowed: a dotted key "
                                      f"{_SET_SYNTAX}; sections: {_SETS}{hint}")])


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"churn.annual_rate=0.12"`` into the dotted key and its TOML-parsed value.

    A value that is not valid TOML but is a bare word (letters, digits,
    ``_``, ``-``) is taken as a string, so ``--set churn.mode=renewal``
    works without quotes.

    Parameters
    ----------
    text : str
        ``KEY=VALUE``; ``KEY`` is ``SECTION.KEY``, ``VALUE`` a TOML value.

    Returns
    -------
    (str, Any)
        The dotted key and the value.

    Raises
    ------
    ConfigError
        With source ``"overrides"``: no ``=``, a key that is not ``SECTION.KEY``
        with a known section, or a value that is neither TOML nor a bare word.
    """
    if "=" not in text:
        raise ConfigError("overrides", [(text.strip() or "`overrides`", MISSING,
                                     f'bad syntax: got "{text}"; allowed: {_SET_SYNTAX}')])
    key, raw = (part.strip() for part in text.split("=", 1))
    raw = RawText(raw)
    if not key:
        raise ConfigError("overrides", [(text.strip(), MISSING, "bad syntax: got an empty key; "
                                     f"allowed: {_SET_SYNTAX}")])
    _split_key(key, raw)
    if "\n" in raw or "\r" in raw:
        raise ConfigError("overrides", [(key, raw, f"bad value: got a line break; allowed: "
                                     f"{_SET_VALUES}")])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except RecursionError:
        raise ConfigError("overrides", [(key, MISSING, "bad value: nested too deeply; allowed: "
                                     f"{_SET_VALUES}")]) from None
    except tomllib.TOMLDecodeError:
        if raw and all(c.isalnum() or c in "_-" for c in raw):
            value = str(raw)
        else:
            try:
                value = float(raw)  # lenient: ".5", "5."
            except ValueError:
                problem = (key, raw, "bad value: not valid TOML") if raw else (
                    key, MISSING, "bad value: got an empty value")
                raise ConfigError("overrides", [(problem[0], problem[1], f"{problem[2]}; allowed: "
                                             f"{_SET_VALUES}")]) from None
    return key, value


def _apply(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    section, name = _split_key(key, value)
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(source, [(section, target, _not_a_table(section, target))])
    target[name] = value


def _not_a_table(section: str, value: Any) -> str:
    got = kind_of(value)
    if got == "an array of tables":
        got += f" ([[{section}]])"
    return f"wrong type: got {got}; allowed: a table [{section}]"


def config_from_dict(
    data: Mapping[str, Any],
    source: str = "<dict>",
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> Config:
    """Validate a nested mapping (as read from TOML) plus overrides.

    Parameters
    ----------
    data : mapping
        ``{"churn": {"annual_rate": 0.1}, ...}``; missing keys take defaults.
    source : str
        Name of the file (or other origin) used in error messages.
    overrides : iterable of ``"KEY=VALUE"`` strings, or mapping of key to value
        Dotted-key overrides applied on top of ``data``.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Every problem found, one line each (see the module docstring).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(source, [("", MISSING, f"wrong type: got {kind_of(data)}; "
                                    "allowed: a table of sections")])
    try:
        data = copy.deepcopy(dict(data))
    except RecursionError:
        raise ConfigError(source, [("", MISSING, "nested too deeply (tables or arrays inside "
                                    "each other); allowed: sections of keys")]) from None
    set_keys: set[str] = set()
    if overrides:
        items = overrides.items() if isinstance(overrides, Mapping) else (
            parse_override(o) for o in overrides)
        for key, value in items:
            _apply(cast(dict[str, Any], data), key, value, source)
            set_keys.add(".".join(p.strip() for p in key.split(".")))
    text_problems = control_problems(data)
    if text_problems:
        from_set = any(k.split(".")[0] in {s.split(".")[0] for s in set_keys}
                       for k, _, _ in text_problems)
        raise ConfigError(f"{source} (with `overrides`)" if from_set and source != "overrides"
                          else source, text_problems)
    try:
        config = Config.model_validate(data)
    except RecursionError:
        raise ConfigError(source, [("", MISSING, "nested too deeply (tables or arrays inside "
                                    "each other); allowed: sections of keys")]) from None
    except ValidationError as exc:
        problems = []
        from_set = False
        for err in exc.errors(include_url=False):
            loc = [str(p) for p in err["loc"]][:2]
            key = ".".join(loc)
            from_set = from_set or key in set_keys
            value = _lookup(data, loc)
            if err["type"] == "extra_forbidden":
                value = redacted(value)
            problems.append((key, value, _message(err, loc, data)))
        raise ConfigError(
            f"{source} (with `overrides`)" if from_set and source != "overrides" else source,
            problems) from None
    # Which keys may be correlated depends on the other sections: checked on the whole config.
    # A key pinned to a number by an override leaves its pairs inactive (not an error).
    problems = correlation_problems(config, pinned=set_keys)
    if problems:
        from_set = any(k.startswith("correlations.") for k in set_keys)
        raise ConfigError(f"{source} (with `overrides`)" if from_set else source, problems)
    return config


def control_problems(data: Any, prefix: str = "") -> list[tuple[str, Any, str]]:
    """A problem for every key or string of ``data`` (nested tables and arrays) holding a
    control character: names and texts end up in workbooks, pages, TOML files and the
    terminal, so they are refused here, before any work, naming the key."""
    from ..formatting import has_control, printable

    problems: list[tuple[str, Any, str]] = []
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack and len(problems) < 5:
        where, node = stack.pop()
        if isinstance(node, Mapping):
            for k, v in node.items():
                key = f"{where}.{k}" if where else str(k)
                if isinstance(k, str) and has_control(k):
                    problems.append((printable(key), MISSING, "a control character in the "
                                     "key; allowed: printable text"))
                else:
                    stack.append((key, v))
        elif isinstance(node, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(node))
        elif isinstance(node, str) and has_control(node):
            problems.append((where or "(value)", node, "a control character (shown escaped); "
                             "allowed: printable text without control characters"))
    return problems


def redacted(value: Any) -> Any:
    """An unknown key's value as a message may show it: its numbers, true/false and
    structure, every string as ``"..."`` (a .toml named by mistake, say a portfolio's or a
    scenario's config, may hold passwords or keys, which must not reach a log)."""
    if isinstance(value, str):
        return RawText('"..."')
    if isinstance(value, Mapping):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value


def _lookup(data: Mapping, loc: list[str]) -> Any:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def _message(err: Mapping[str, Any], loc: list[str], data: Mapping[str, Any]) -> str:
    kind = err["type"]
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        if len(loc) == 1:
            name = loc[0]
            homes = _home_of(name)
            if not isinstance(data.get(name), Mapping):
                where = f" (it belongs in [{homes[0]}])" if homes else ""
                return (f"a key outside any [section]{where}; allowed at the top level: "
                        f"the sections {_SETS}")
            return f"unknown section [{name}]; allowed sections: {_SETS}{_suggest(name, SECTIONS)}"
        section, name = loc
        keys = _section_keys(section)
        hint = _suggest(name, keys)
        homes = [s for s in _home_of(name) if s != section]
        if not hint and homes:
            hint = f" ({name} is a key of [{homes[0]}])"
        return f"unknown key; allowed in [{section}]: {', '.join(keys)}{hint}"
    if kind in ("model_type", "dict_type", "model_attributes_type") and len(loc) == 1:
        return _not_a_table(loc[0], _lookup(data, loc))
    if kind == "literal_error":
        return "not allowed: " + msg.replace("Input should be", "allowed:")
    # Our validators already say "<problem>: got ...; allowed: ..."; anything
    # else is pydantic's own wording, kept but without its "Input should be".
    return msg.replace("Input should be", "allowed:")


_LINE = re.compile(r"\(at line (\d+), column \d+\)")


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

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing or malformed file, unknown key, wrong type, value out of
        range or impossible distribution. The message names the file, the
        key, the value and what is allowed.
    """
    path = Path(path)
    source = str(path)
    data = read_toml_file(path)
    if "base" in data or "scenario" in data:
        raise ConfigError(source, [("", MISSING, "this is a scenario file (base and "
                                    "[[scenario]] tables), not a config; allowed: a config "
                                    f"here, and the scenario file with `msp-sim compare "
                                    f"{source}`")])
    return config_from_dict(data, source=source, overrides=overrides)


def read_toml_file(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """The TOML table of a config or scenario file, read safely.

    Only a regular file of at most :data:`MAX_CONFIG_BYTES` is read (never a
    FIFO, a device or a directory); a UTF-8 byte-order mark is skipped; a
    line of the file is quoted in a message only when the file is named
    ``*.toml`` (never a line of some other file named by mistake).

    Raises
    ------
    ConfigError
        Missing, not a regular file, too large, not UTF-8 or malformed TOML.
    """
    path = Path(path)
    source = str(path) if source is None else source

    def fail(message: str) -> ConfigError:
        return ConfigError(source, [("", MISSING, message)])

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise fail("cannot read the config: no such file") from None
    except IsADirectoryError:
        raise fail("cannot read the config: it is a directory; allowed: a TOML file") from None
    except OSError as exc:
        raise fail(f"cannot read the config: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail("cannot read the config: it is a directory; allowed: a TOML file")
        if not stat.S_ISREG(info.st_mode):
            raise fail("cannot read the config: not a regular file (a device, pipe or "
                       "socket); allowed: a TOML file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise fail(f"cannot read the config: too large ({info.st_size:,} bytes); "
                       f"allowed: a TOML file of at most {MAX_CONFIG_BYTES:,} bytes")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot read the config: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_CONFIG_BYTES:
        raise fail(f"cannot read the config: too large; allowed: a TOML file of at most "
                   f"{MAX_CONFIG_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise fail("cannot read the config: not UTF-8 text; allowed: a TOML file") from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise fail("malformed TOML: nested too deeply (arrays or tables inside each "
                   "other); allowed: sections of keys") from None
    except tomllib.TOMLDecodeError as exc:
        message = f"malformed TOML: {exc}"
        match = _LINE.search(str(exc))
        lines = text.splitlines()
        if path.suffix == ".toml" and match and 1 <= int(match.group(1)) <= len(lines):
            shown = lines[int(match.group(1)) - 1].strip()
            if shown:
                message += f": {shown[:120]}"
        raise fail(message) from None
    problems = control_problems(data)
    if problems:
        raise ConfigError(source, problems)
    return data
