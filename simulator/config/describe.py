"""The resolved config as text: one line per key, grouped by section.

Each line gives the dotted key, its value (a number, or a distribution with
its mean), the unit and where the value comes from (for a numeric key the
source of the default as declared in the schema; for run settings and
switches a short description)::

    [churn]
      churn.annual_rate   uniform(low=0.08, high=0.15), mean 0.115   [1/year]   seed 003: ...
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from .correlations import describe_pairs
from .distributions import describe_value
from .schema import SECTIONS, Config, param_specs
from .sources import cite

__all__ = ["ConfigRow", "config_rows", "config_sources", "describe_config", "format_value"]


def _number(x: float) -> str:
    """A mean or other derived number, short: ``0.115``, ``6878``, ``1.2e+06``."""
    if abs(x) >= 1e6:
        return f"{x:.4g}"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.4g}"


def _value_text(value: Any) -> str:
    if isinstance(value, BaseModel) and hasattr(value, "describe"):
        try:
            mean = _number(float(value.mean()))  # type: ignore[attr-defined]
        except (ValueError, ArithmeticError):  # pragma: no cover - defensive
            mean = "?"
        return f"{value.describe()}, mean {mean}"
    if isinstance(value, tuple):
        return format_value(value)
    return describe_value(value)


class ConfigRow(NamedTuple):
    """One config key as shown to a person."""

    key: str
    value: str
    unit: str
    source: str


def format_value(value: Any) -> str:
    """A config value in words: a number, a distribution's description, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.10g}"
    if hasattr(value, "describe"):
        return value.describe()
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a step table
            return "; ".join(f"from {format_value(a)}: {format_value(b)}" for a, b in value)
        return "; ".join(format_value(v) for v in value) if value else "none"
    return str(value)


SET_IN_CONFIG = "set in your config"
"""The source of a value the config sets, when the file it came from is not known."""


def config_sources(path: str | Path, overrides: Iterable[str] = ()) -> dict[str, str]:
    """Where each value a config file sets comes from, in words, by dotted key.

    A value ``msp-sim fit`` wrote (its line's comment begins ``fitted from``) says so
    with the fit's comment, e.g. ``msp-sim fit, fitted from clients.csv: 10
    cancellations in 85 client-years (mine.toml)``; any other value is ``your config
    (mine.toml)`` with the line's comment. ``overrides`` (``--set KEY=VALUE``) win.
    """
    path = Path(path)
    sources: dict[str, str] = {}
    section = ""
    comment = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment = text.lstrip("#").strip()
            continue
        if text.startswith("["):
            section = text.strip("[]").strip()
            if section == "start.book" and "start.book" not in sources:
                sources["start.book"] = _source_words(comment, path)
            continue
        match = re.match(r"([A-Za-z0-9_]+)\s*=.*?(?:\s#\s*(.*))?$", text)
        if match and section and "." not in section:
            sources[f"{section}.{match.group(1)}"] = _source_words(match.group(2) or "", path)
    for item in overrides:
        sources[item.split("=", 1)[0].strip()] = "--set on the command line"
    return sources


def _source_words(comment: str, path: Path) -> str:
    fitted = re.search(r"\((fitted from [^)]*)\)|(fitted from .*)", comment)
    if fitted:
        return f"msp-sim fit, {fitted.group(1) or fitted.group(2)} ({path.name})"
    return f"your config ({path.name})" + (f": {comment}" if comment else "")


def config_rows(config: Config, value_text: Callable[[Any], str] = format_value,
                sources: Mapping[str, str] | None = None) -> list[ConfigRow]:
    """Every section and key of ``config`` with its value, unit and source, in schema order.

    ``value_text`` turns a value into words (default :func:`format_value`);
    ``correlations.pairs`` is always described pair by pair. The source of a model
    value is where it came from: ``sources[key]`` (see :func:`config_sources`) where
    given, :data:`SET_IN_CONFIG` for a value the config sets, else the default's source.
    """
    specs = param_specs()
    sources = sources or {}
    rows = []
    for section in SECTIONS:
        block = getattr(config, section)
        for name, fld in type(block).model_fields.items():
            key = f"{section}.{name}"
            raw = getattr(block, name)
            given = sources.get(key) or (SET_IN_CONFIG if name in block.model_fields_set
                                         else None)
            if key == "correlations.pairs":
                value = describe_pairs(raw)
            elif key == "start.book":
                value = (f"{len(raw)} clients, ${sum(c.monthly_fee for c in raw):,.0f}/month"
                         if raw else "none (drawn from customers.seats and price_per_seat)")
            else:
                value = value_text(raw)
            spec = specs.get(key)
            if spec is not None:
                default = (spec.source if not spec.source.startswith("the user's") else
                           f"not set in your config: msp-sim's default ({spec.source})")
                rows.append(ConfigRow(key, value, spec.unit, given or default))
                continue
            if key == "start.book" and given:
                rows.append(ConfigRow(key, value, "clients", given))
                continue
            unit, note = _split_description(fld.description or "")
            if not fld.description:
                if typing.get_origin(fld.annotation) is typing.Literal:
                    unit = " | ".join(str(a) for a in typing.get_args(fld.annotation))
                elif fld.annotation is bool:
                    unit = "true | false"
            rows.append(ConfigRow(key, value, unit, note))
    return rows


def _split_description(text: str) -> tuple[str, str]:
    """``"months: horizon H"`` or ``"horizon H [months]"`` -> ``("months", "horizon H")``."""
    match = re.search(r"\s*\[([^\]]*)\]\s*$", text)
    if match:
        return match.group(1), text[: match.start()].strip()
    unit, sep, rest = text.partition(": ")
    if sep:
        return unit.strip(), rest.strip()
    return "", text.strip()


def describe_config(config: Config) -> str:
    """The resolved config as text, one line per key, grouped by section.

    Parameters
    ----------
    config : Config
        A validated config (defaults filled in).

    Returns
    -------
    str
        A ``[section]`` header per section, then one line per key:
        ``section.key  value  [unit]  source``; a key the config (or an
        override) sets says ``* set in your config`` instead of the default's
        source, and a default's source names its document. A distribution's value reads
        ``name(params), mean M``; ``customers.seats`` and ``projects.size``
        are per-customer/per-project distributions (their unit says so).
    """
    rows: list[tuple[str, str, str, str] | str] = []
    section = None
    for row in config_rows(config, _value_text):
        this, name = row.key.split(".", 1)
        if this != section:
            section = this
            rows.append(f"[{section}]")
        if name in getattr(config, this).model_fields_set:
            source = "* set in your config"
        else:
            source = cite(row.source)
        rows.append((row.key, row.value, row.unit, source))
    cells = [r for r in rows if isinstance(r, tuple)]
    w_key = max(len(r[0]) for r in cells)
    w_val = min(max(len(r[1]) for r in cells), 44)
    w_unit = min(max(len(r[2]) for r in cells) + 2, 32)
    lines: list[str] = []
    for entry in rows:
        if isinstance(entry, str):
            if lines:
                lines.append("")
            lines.append(entry)
            continue
        key, value, unit, source = entry
        unit = f"[{unit}]" if unit else ""
        lines.append(f"  {key:<{w_key}}  {value:<{w_val}}  {unit:<{w_unit}}  {source}".rstrip())
    return "\n".join(lines) + "\n"
