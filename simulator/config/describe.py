"""The resolved config as text: one line per key, grouped by section.

Each line gives the dotted key, its value (a number, or a distribution with
its mean), the unit and where the value comes from (for a numeric key the
source of the default as declared in the schema; for run settings and
switches a short description)::

    [churn]
      churn.annual_rate   uniform(low=0.08, high=0.15), mean 0.115   [1/year]   seed 003: ...
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .correlations import describe_pairs
from .distributions import describe_value
from .schema import SECTIONS, Config, param_specs

__all__ = ["describe_config"]


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


def _setting_unit(config: Config, section: str, name: str) -> tuple[str, str]:
    """Unit and meaning of a key without a ParamSpec, from its field description."""
    model = type(getattr(config, section))
    description = model.model_fields[name].description or ""
    unit, _, meaning = description.partition(": ")
    if not meaning:
        return "", unit
    return unit, meaning


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
    specs = param_specs()
    rows: list[tuple[str, str, str, str] | str] = []
    for section in SECTIONS:
        rows.append(f"[{section}]")
        block = getattr(config, section)
        for name in type(block).model_fields:
            key = f"{section}.{name}"
            value = getattr(block, name)
            spec = specs.get(key)
            if spec is not None:
                unit, source = spec.unit, spec.source
            else:
                unit, source = _setting_unit(config, section, name)
            text = describe_pairs(value) if key == "correlations.pairs" else _value_text(value)
            rows.append((key, text, unit, source))
    cells = [r for r in rows if isinstance(r, tuple)]
    w_key = max(len(r[0]) for r in cells)
    w_val = min(max(len(r[1]) for r in cells), 44)
    w_unit = min(max(len(r[2]) for r in cells) + 2, 32)
    lines: list[str] = []
    for row in rows:
        if isinstance(row, str):
            if lines:
                lines.append("")
            lines.append(row)
            continue
        key, value, unit, source = row
        unit = f"[{unit}]" if unit else ""
        lines.append(f"  {key:<{w_key}}  {value:<{w_val}}  {unit:<{w_unit}}  {source}".rstrip())
    return "\n".join(lines) + "\n"
