"""The figures of a comparison of scenarios."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    FAN_QUANTILES,
    RED,
    ReportFigure,
    bands,
    figure,
    money_axis,
    month_axis_label,
    png_bytes,
    probability_axes,
    series_color,
    styled,
)

if TYPE_CHECKING:

    from ..analysis.compare import ComparisonResult

__all__ = [
    "comparison_fans_chart",
    "comparison_figures",
    "comparison_overview",
    "comparison_p_break_chart",
]


def _draw_p_break(ax: Any, comp: ComparisonResult) -> None:
    t = np.arange(comp.months + 1)
    for i, (name, r) in enumerate(zip(comp.names, comp.results, strict=True)):
        ttt = r.time_to_threshold()
        low, high = ttt.cdf_band(t)
        ax.fill_between(t, low, high, step="post", color=series_color(i), alpha=0.2,
                        linewidth=0)
        ax.step(t, ttt.cdf(t), where="post", color=series_color(i), linewidth=2, label=name)
    probability_axes(ax, comp.months, "share of paths that broke it",
                     month_axis_label(comp.results[0].config))
    ax.set_title(f"P(MRR >= ${comp.threshold_mrr:,.0f} by month t), 95% bands")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)


def _draw_mrr_overlay(ax: Any, comp: ComparisonResult) -> None:
    t = np.arange(comp.months + 1)
    for i, (name, r) in enumerate(zip(comp.names, comp.results, strict=True)):
        q = r.quantiles((0.25, 0.5, 0.75), metrics=["mrr"])["mrr"]
        ax.fill_between(t, q[0], q[2], color=series_color(i), alpha=0.2, linewidth=0)
        ax.plot(t, q[1], color=series_color(i), linewidth=2, label=f"{name} (median, 25-75%)")
    ax.axhline(comp.threshold_mrr, color=RED, linestyle="--", linewidth=1.2)
    ax.set_xlim(0, comp.months)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(month_axis_label(comp.results[0].config))
    ax.set_ylabel("MRR ($/month)")
    ax.set_title("MRR")
    money_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)


@styled
def comparison_overview(comp: ComparisonResult) -> Any:
    """P(break by month t) with 95% bands beside MRR medians with 25-75% bands, overlaid."""
    fig = figure(12.0, 4.6, constrained=True)
    left, right = fig.subplots(1, 2)
    _draw_p_break(left, comp)
    _draw_mrr_overlay(right, comp)
    return fig


@styled
def comparison_p_break_chart(comp: ComparisonResult) -> Any:
    """Overlaid censoring-aware CDFs of the time to the threshold, with 95% bands."""
    fig = figure(constrained=True)
    _draw_p_break(fig.add_subplot(), comp)
    return fig


@styled
def comparison_fans_chart(comp: ComparisonResult) -> Any:
    """One MRR fan chart per scenario (5-95%, 25-75%, median), on a shared scale."""
    n = len(comp.results)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = figure(4.2 * cols, 3.4 * rows, constrained=True)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
                         ).ravel()
    t = np.arange(comp.months + 1)
    top = comp.threshold_mrr
    for i, (name, r) in enumerate(zip(comp.names, comp.results, strict=True)):
        ax = axes[i]
        q = r.quantiles(FAN_QUANTILES, metrics=["mrr"])["mrr"]
        top = max(top, float(np.max(q[4])))
        bands(ax, t, q, series_color(i))
        ax.axhline(comp.threshold_mrr, color=RED, linestyle="--", linewidth=1)
        ax.set_title(name)
        ax.set_xlim(0, comp.months)
        ax.grid(alpha=0.3)
        money_axis(ax)
    axes[0].set_ylim(0, 1.05 * top)  # shared by every panel
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n]:
        ax.set_xlabel(month_axis_label(comp.results[0].config))
    axes[0].set_ylabel("MRR ($/month)")
    return fig


def comparison_figures(comp: ComparisonResult) -> list[ReportFigure]:
    """The comparison report's figures, in page order (also written as PNG files)."""
    return [
        ReportFigure("p_break", "P(MRR threshold broken by month t), 95% bands",
                     png_bytes(comparison_p_break_chart(comp))),
        ReportFigure("fans", "MRR fan charts (5-95%, 25-75%, median)",
                     png_bytes(comparison_fans_chart(comp))),
    ]
