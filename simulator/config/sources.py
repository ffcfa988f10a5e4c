"""The documents behind the schema's sources: "seed 00N" is one of five articles.

The schema cites its defaults' sources briefly ("seed 003: 8-15% a year in
three benchmark studies"); :func:`cite` names the article instead, so a
reader can look it up. docs/calibration.md gives each value's source and
plausible range.
"""

from __future__ import annotations

import re

__all__ = ["SOURCES", "cite"]

SOURCES: dict[str, str] = {
    "000": "Howard M. Cohen, \"MRR is Not the Whole Goal - Capture the Entire Solution\" "
           "(BitTitan white paper)",
    "001": "Michael Ketchum, \"How to Transition to Monthly Recurring Revenue (MRR)\"",
    "002": "Ingram Micro, Channel Advisor, Summer 2010, \"Recurring Revenue\" (Service "
           "Leadership figures)",
    "003": "Ryan Morris, \"The One Metric That Matters Most\", Channel Futures, 11 May 2016",
    "004": "Gary Pica (TruMethods), \"Breaking the profitability barrier\" (the reactive "
           "spiral)",
}
"""The five articles the model comes from (``seed 00N`` in the schema's sources);
docs/calibration.md gives each value's source and range."""

_SEED = re.compile(r"\bseeds? (00\d)\b")


def cite(text: str) -> str:
    """``text`` with each ``seed 00N`` replaced by the article's author and title."""
    return _SEED.sub(lambda m: SOURCES.get(m.group(1), m.group(0)), text)
