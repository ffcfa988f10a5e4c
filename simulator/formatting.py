"""Number formatting: the one module of it, plain Python with no heavy imports.

The terminal summaries use these functions directly; the report layer
registers them as Jinja filters (:data:`FILTERS`), so a page and the
terminal write a number the same way. Each takes ``None`` (a value JSON
could not hold, or a bound beyond the horizon) and says so in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "FILTERS",
    "calendar_month",
    "count",
    "finite_or_none",
    "has_control",
    "index",
    "interval",
    "money",
    "month",
    "month_label",
    "number",
    "pct",
    "pct_short",
    "points",
    "printable",
    "pvalue",
    "short_money",
    "signed_dollars",
    "signed_money",
]


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ufeff]")
"""Control characters (C0, DEL, C1), line and paragraph separators, bidirectional
overrides and the byte-order mark: what may move a terminal's cursor, recolour or clear
it, reorder text, or make a file msp-sim wrote unreadable by msp-sim."""


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character escaped as Python writes it (``\\x1b``,
    ``\\n``, ``\\u202e``), except those in ``keep``: what every message, name and
    file shows of text someone typed or a file held."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep else repr(char)[1:-1]

    return _UNPRINTABLE.sub(escape, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`printable` escapes."""
    return _UNPRINTABLE.search(text) is not None


def finite_or_none(value: Any) -> float | None:
    """``float(value)``, or ``None`` for ``None``, NaN and infinities (JSON-safe)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def count(value: int) -> str:
    """A count with thousands separators: ``10,000``."""
    return f"{int(value):,}"


def money(value: float | None) -> str:
    """``$12,345`` or ``-$88,850`` (whole dollars, the sign before the $); ``n/a`` for
    ``None``."""
    if value is None:
        return "n/a"
    text = f"{value:,.0f}"
    return f"-${text[1:]}" if text.startswith("-") and text != "-0" else f"${text.lstrip('-')}"


def signed_dollars(value: float | None) -> str:
    """A change in dollars: ``+$1,234`` or ``-$1,234``; ``n/a`` for ``None``."""
    return "n/a" if value is None else ("+" if value >= 0 else "-") + money(abs(value))


def signed_money(value: float | None) -> str:
    """``+1,234 $/month`` style differences: ``+1,234``; ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{value:+,.0f}"


def pct(value: float | None) -> str:
    """``12.3%`` for a share of 0.123; ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def pct_short(value: float | None) -> str:
    """Whole percent between 1% and 99%, one decimal outside (``62%``, ``0.4%``); ``n/a``
    for ``None``."""
    if value is None:
        return "n/a"
    x = 100 * value
    return f"{x:.0f}%" if 1 <= x <= 99 else f"{x:.1f}%"


def points(value: float | None) -> str:
    """A difference of two shares in percentage points: ``+3.2``; ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{100 * value:+.1f}"


def short_money(value: float) -> str:
    """``$100k`` for round thousands, ``$1.5M`` for round hundred-thousands, else ``$98,500``."""
    if value >= 1e6 and (value / 1e5).is_integer():
        return f"${value / 1e6:g}M"
    if value >= 1e3 and (value / 1e3).is_integer():
        return f"${value / 1e3:g}k"
    return f"${value:,.0f}"


def number(value: float | None) -> str:
    """A lever or parameter value, short: ``12``, ``0.115``, ``6,878``; ``n/a`` for ``None``."""
    if value is None:
        return "n/a"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}" if abs(v) >= 1e4 else str(int(v))
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def index(value: float | None) -> str:
    """A sensitivity index to 3 decimals, without a ``-0.000``; ``n/a`` for ``None``."""
    if value is None:
        return "n/a"
    return f"{0.0 if abs(value) < 5e-4 else value:.3f}"


def month(value: int | None, none: str = "not reached") -> str:
    """A month number, or ``none`` (e.g. ``"beyond the horizon"``) for ``None``."""
    return none if value is None else str(int(value))


def calendar_month(t: int, start_date: Any) -> str:
    """Month ``t`` of a run whose month 0 is ``start_date`` (a date): ``Dec 2029``."""
    index = start_date.year * 12 + start_date.month - 1 + int(t)
    name = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
            "Dec")[index % 12]
    return f"{name} {index // 12}"


def month_label(t: int, start_date: Any = None) -> str:
    """``month 36``, or ``month 36 (Dec 2029)`` when month 0 is ``start_date``
    (a :class:`datetime.date`)."""
    if start_date is None:
        return f"month {t}"
    return f"month {t} ({calendar_month(t, start_date)})"


def pvalue(p: float | None) -> str:
    """A p-value to 3 significant digits; ``< 1e-300`` for 0; words for ``None``."""
    if p is None:
        return "n/a (no path breaks the threshold)"
    return "< 1e-300" if p == 0 else f"{p:.3g}"


def interval(bounds: Sequence[Any], fmt: str | Callable[[Any], str] = "pct",
             sep: str = " to ") -> str:
    """A ``[low, high]`` pair in words with one of the formats here: ``61.0% to 63.0%``.

    ``fmt`` is a function or the name of one in :data:`FILTERS`
    (``"pct"``, ``"money"``, ``"points"``, ``"month"``, ...).
    """
    f = FILTERS[fmt] if isinstance(fmt, str) else fmt
    low, high = bounds
    return f"{f(low)}{sep}{f(high)}"


FILTERS: dict[str, Callable[..., str]] = {
    "count": count,
    "index": index,
    "interval": interval,
    "money": money,
    "month": month,
    "month_label": month_label,
    "number": number,
    "pct": pct,
    "pct_short": pct_short,
    "points": points,
    "pvalue": pvalue,
    "short_money": short_money,
    "signed_dollars": signed_dollars,
    "signed_money": signed_money,
}
"""Name -> function: the report layer's Jinja filters."""
