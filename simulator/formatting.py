"""Number formatting shared by the summaries and the reports (plain Python, no
heavy imports): money, percentages, HTML escaping and JSON-safe floats."""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["escape", "finite_or_none", "money", "pct", "pct_short", "short_money"]


def escape(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def finite_or_none(value: Any) -> float | None:
    """``float(value)``, or ``None`` for ``None``, NaN and infinities (JSON-safe)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def money(value: float | None) -> str:
    """``$12,345`` (whole dollars); ``n/a`` for ``None``."""
    return "n/a" if value is None else f"${value:,.0f}"


def pct(value: float | None) -> str:
    """``12.3%`` for a share of 0.123; ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def pct_short(value: float) -> str:
    """Whole percent between 1% and 99%, one decimal outside (``62%``, ``0.4%``)."""
    x = 100 * value
    return f"{x:.0f}%" if 1 <= x <= 99 else f"{x:.1f}%"


def short_money(value: float) -> str:
    """``$100k`` for round thousands, ``$1.5M`` for round hundred-thousands, else ``$98,500``."""
    if value >= 1e6 and (value / 1e5).is_integer():
        return f"${value / 1e6:g}M"
    if value >= 1e3 and (value / 1e3).is_integer():
        return f"${value / 1e3:g}k"
    return f"${value:,.0f}"
