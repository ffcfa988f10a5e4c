"""A goal seek: its figure, its page (``goal.html``) and its files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..output import GOAL_CHART, GOAL_FILES, GOAL_HTML, GOAL_JSON, json_text
from .glossary import terms
from .pages import input_sections, render_page, write_report
from .style import (
    BLUE,
    GREEN,
    RED,
    ReportFigure,
    draw_on,
    png_bytes,
    styled,
)

if TYPE_CHECKING:
    from ..analysis.goal import GoalResult


__all__ = [
    "goal_chart",
    "goal_figures",
    "render_goal",
    "write_goal",
]


@styled
def goal_chart(result: GoalResult, ax: Any = None) -> Any:
    """The outcome against the lever at every evaluation, with CIs and the answer."""
    fig, ax = draw_on(ax, constrained=True)
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


# -- the page and the files -------------------------------------------------------


def render_goal(result: GoalResult, figures: Sequence[ReportFigure] | None = None,
                title: str | None = None) -> str:
    """The goal-seek report as one self-contained HTML page."""
    data = result.to_dict()
    figures = goal_figures(result) if figures is None else figures
    lines = result.format_summary().splitlines()
    headlines = [ln for ln in lines if not ln.startswith("note: ")]
    notes = [ln.removeprefix("note: ") for ln in lines if ln.startswith("note: ")]
    fmt = result.outcome_text
    evaluations = [(result.value_text(e.value), fmt(e.estimate),
                    f"{fmt(e.low)} to {fmt(e.high)}", "yes" if e.met else "no")
                   for e in result.evaluations]
    return render_page(
        "goal.html", title=title or f"msp-sim goal: {result.target.text}",
        headlines=headlines, notes=notes, n_paths=result.n_paths, seed=result.seed,
        parameter=result.parameter, target_quantity=result.target.quantity,
        evaluations=evaluations, figures=figures, inputs=input_sections(result.config),
        method=data["method"], config_sha256=data["config_sha256"], version=data["version"],
        glossary=terms("path", "95% interval", "paired difference"))


def write_goal(result: GoalResult, out_dir: str | Path, title: str | None = None) -> Path:
    """Write ``goal.json``, ``goal.png`` and ``goal.html`` into ``out_dir``, atomically."""
    figures = goal_figures(result)
    return write_report(out_dir, GOAL_FILES, {
        GOAL_JSON: json_text(result.to_dict()),
        GOAL_HTML: render_goal(result, figures, title),
    }, figures, {"goal": GOAL_CHART})
