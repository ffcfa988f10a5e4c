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
from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import BaseModel

from .correlations import describe_pairs
from .distributions import describe_value
from .schema import SECTIONS, Config, param_specs

__all__ = ["ConfigRow", "config_rows", "describe_config", "format_value"]


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
    return str(value)


def config_rows(config: Config, value_text: Callable[[Any], str] = format_value
                ) -> list[ConfigRow]:
    """Every section and key of ``config`` with its value, unit and source, in schema order.

    ``value_text`` turns a value into words (default :func:`format_value`);
    ``correlations.pairs`` is always described pair by pair.
    """
    specs = param_specs()
    rows = []
    for section in SECTIONS:
        block = getattr(config, section)
        for name, fld in type(block).model_fields.items():
            key = f"{section}.{name}"
            raw = getattr(block, name)
            value = describe_pairs(raw) if key == "correlations.pairs" else value_text(raw)
            spec = specs.get(key)
            if spec is not None:
                rows.append(ConfigRow(key, value, spec.unit, spec.source))
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
        ``section.key  value  [unit]  source``. A distribution's value reads
        ``name(params), mean M``; ``customers.seats`` and ``projects.size``
        are per-customer/per-project distributions (their unit says so).
    """
    rows: list[tuple[str, str, str, str] | str] = []
    section = None
    for row in config_rows(config, _value_text):
        this = row.key.split(".", 1)[0]
        if this != section:
            section = this
            rows.append(f"[{section}]")
        rows.append((row.key, row.value, row.unit, row.source))
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
