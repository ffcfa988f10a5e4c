"""The figure of a lever scan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    GREEN,
    GREY,
    RED,
    figure,
    styled,
)

if TYPE_CHECKING:

    from ..analysis.levers import LeverScanResult

__all__ = [
    "lever_chart",
]


@styled
def lever_chart(scan: LeverScanResult) -> Any:
    """Each lever's change in P(break by the horizon) against the business as it is, in
    percentage points with its 95% interval, largest on top; the change in cumulative
    profit written beside each bar."""
    data = scan.to_dict()
    entries = data["levers"][::-1]  # largest effect on top
    n = len(entries)
    fig = figure(9.0, 1.2 + 0.42 * max(n, 1), constrained=True)
    ax = fig.add_subplot()
    pos = np.arange(n)
    diff = np.array([100 * (e["difference"]["p_break_by_horizon"]["value"] or 0.0)
                     for e in entries])
    low = np.array([100 * (e["difference"]["p_break_by_horizon"]["ci95"][0] or 0.0)
                    for e in entries])
    high = np.array([100 * (e["difference"]["p_break_by_horizon"]["ci95"][1] or 0.0)
                     for e in entries])
    colors = [GREEN if d > 0 else (RED if d < 0 else GREY) for d in diff]
    ax.barh(pos, diff, color=colors, height=0.6, alpha=0.85,
            xerr=np.abs(np.stack([diff - low, high - diff])),
            error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(pos, [e["name"] for e in entries], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(1.0, float(np.max(np.abs(np.concatenate([low, high, [0.0]])))))
    ax.set_xlim(min(-0.05 * span, float(np.min(low, initial=0.0)) - 0.05 * span),
                1.45 * span)
    for p, e in zip(pos, entries, strict=True):
        profit = e["difference"]["cumulative_profit_mean"]["value"]
        text = "" if profit is None else f"profit {'+' if profit >= 0 else '-'}" \
            f"${abs(profit) / 1e3:,.0f}k"
        ax.text(1.42 * span, p, text, va="center", ha="right", fontsize=7, color=GREY)
    before = data["as_is"]["p_break_by"][str(data["months"])]["value"] or 0.0
    ax.set_xlabel(f"change in P(break by month {data['months']}), percentage points "
                  f"(as is: {100 * before:.0f}%)")
    ax.set_title("What each lever changes (95% intervals; cumulative pretax profit beside)",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig
