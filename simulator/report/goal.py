"""The figure of a goal seek."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    BLUE,
    GREEN,
    RED,
    ReportFigure,
    figure,
    png_bytes,
    styled,
)

if TYPE_CHECKING:

    from ..analysis.goal import GoalResult

__all__ = [
    "goal_chart",
    "goal_figures",
]


@styled
def goal_chart(result: GoalResult) -> Any:
    """The outcome against the lever at every evaluation, with CIs and the answer."""
    fig = figure(constrained=True)
    ax = fig.add_subplot()
    evs = sorted(result.evaluations, key=lambda e: e.value)
    x = np.array([e.value for e in evs])
    y = np.array([e.estimate for e in evs])
    lo = np.array([e.estimate if e.low is None else e.low for e in evs])
    hi = np.array([e.estimate if e.high is None else e.high for e in evs])
    ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", color=BLUE, ms=4, capsize=2,
                label="evaluations (95% CI)")
    ax.axhline(result.target.value, color=RED, linestyle="--", linewidth=1.2,
               label=f"target {result.target.text}")
    a, b = result.value_ci95
    ax.axvspan(result.range[0] if a is None else a, result.range[1] if b is None else b,
               color=GREEN, alpha=0.15, linewidth=0, label="95% CI of the value")
    ax.axvline(result.value, color=GREEN, linewidth=2,
               label=f"{result.parameter} = {result.value_text(result.value)}")
    ax.set_xlabel(result.parameter)
    ax.set_ylabel(result.target.quantity)
    if result.target.is_probability:
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title(f"Goal seek: {result.target.text}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize=9)
    return fig


def goal_figures(result: GoalResult) -> list[ReportFigure]:
    """The goal report's figure (also written as ``goal.png``)."""
    return [ReportFigure("goal", "The outcome at every lever value tried (95% intervals), "
                         "the target and the value found", png_bytes(goal_chart(result)))]
