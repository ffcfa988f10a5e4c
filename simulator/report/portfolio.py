"""The figure of a portfolio of MSPs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    BLUE,
    GREY,
    figure,
    panels,
    styled,
)

if TYPE_CHECKING:

    from ..analysis.portfolio import PortfolioResult

__all__ = [
    "portfolio_chart",
]


@styled
def portfolio_chart(result: PortfolioResult) -> Any:
    """Expected MSPs broken through by month (95% interval), beside the spread of
    P(break by the horizon) across the MSPs."""
    counts = result.expected_breaking()
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.8)
    left, right = panels(fig, 2, 0.9, width_ratios=[3.0, 2.0])
    left.fill_between(t, counts["low"], counts["high"], step="mid", color=BLUE, alpha=0.2,
                      linewidth=0, label="95% interval")
    left.plot(t, counts["expected"], color=BLUE, linewidth=2, label="expected")
    left.axhline(len(result.msps), color=GREY, linestyle=":", linewidth=1)
    left.set_xlim(0, result.months)
    left.set_ylim(0, 1.05 * len(result.msps))
    left.set_xlabel("month")
    left.set_ylabel("MSPs")
    left.set_title(f"MSPs past ${result.threshold_mrr:,.0f} MRR by month t")
    left.legend(loc="upper left", fontsize=8, frameon=False)
    h = result.p_break[:, -1]
    right.hist(100 * h, bins=np.linspace(0, 100, 21), color=BLUE, alpha=0.8)
    right.set_xlabel(f"P(break by month {result.months}), %")
    right.set_ylabel("MSPs")
    right.set_title("Their chances")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig
