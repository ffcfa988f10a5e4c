"""A run's figures: the MRR fan, the chance of breaking the threshold, the owner's month,
the revenue mix against the Service Leadership stages, operations, money, convergence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...results.derived import (
    OWNER_PARTS,
    REVENUE_LINES,
    SERVICE_LEADERSHIP_STAGES,
    convergence_rows,
    owner_month,
    revenue_mix,
)
from ..levers import lever_chart
from ..style import (
    BLUE,
    FAN_QUANTILES,
    GREEN,
    GREY,
    LINE_COLORS,
    RED,
    ReportFigure,
    bands,
    draw_on,
    finish,
    money_axis,
    month_axis_label,
    png_bytes,
    probability_axes,
    styled,
)

if TYPE_CHECKING:

    from ...analysis.scan import LeverScanResult
    from ...results import SimulationResult

__all__ = [
    "RUN_CHARTS",
    "plot_run",
    "OWNER_COLORS",
    "convergence_chart",
    "fan_chart",
    "operations_chart",
    "owner_month_chart",
    "profit_cash_chart",
    "revenue_mix_chart",
    "run_figures",
    "time_to_threshold_chart",
]


@styled
def fan_chart(result: SimulationResult, path: str | Path | None = None, ax: Any = None):
    """MRR fan chart: 5-95% and 25-75% bands, median and the threshold line.

    Returns the :class:`matplotlib.figure.Figure`; saves it as PNG when
    ``path`` is given.
    """
    q = result.quantiles((0.05, 0.25, 0.5, 0.75, 0.95), metrics=["mrr"])["mrr"]
    t = np.arange(result.months + 1)
    fig, ax = draw_on(ax)
    ax.fill_between(t, q[0], q[4], color=BLUE, alpha=0.18, linewidth=0, label="5-95%")
    ax.fill_between(t, q[1], q[3], color=BLUE, alpha=0.35, linewidth=0, label="25-75%")
    ax.plot(t, q[2], color=BLUE, linewidth=2, label="median")
    ax.axhline(result.threshold_mrr, color=RED, linestyle="--", linewidth=1.2,
               label=f"threshold ${result.threshold_mrr:,.0f}")
    ax.set_xlim(0, result.months)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(month_axis_label(result.config))
    ax.set_ylabel("MRR ($/month)")
    ax.set_title(f"MRR across {result.n_paths:,} paths")
    money_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    return finish(fig, path)


@styled
def time_to_threshold_chart(result: SimulationResult, path: str | Path | None = None,
                            ax: Any = None):
    """Censoring-aware CDF of the time to the threshold with its 95% band.

    Paths that never break the threshold are censored at the horizon, so the
    curve ends below 1 by the censored fraction.
    """
    ttt = result.time_to_threshold()
    t = np.arange(result.months + 1)
    cdf = ttt.cdf(t)
    low, high = ttt.cdf_band(t)
    fig, ax = draw_on(ax)
    ax.fill_between(t, low, high, step="post", color=BLUE, alpha=0.25, linewidth=0,
                    label="95% confidence band")
    ax.step(t, cdf, where="post", color=BLUE, linewidth=2,
            label="P(broken by month t)")
    probability_axes(ax, result.months, "share of paths", month_axis_label(result.config))
    ax.set_title(f"Time to ${result.threshold_mrr:,.0f} MRR"
                 + ("" if result.sustain_months == 1
                    else f" (sustained {result.sustain_months} months)"))
    ax.text(0.98, 0.04,
            f"not reached by month {result.months}: {100 * ttt.censored_fraction:.1f}% "
            "of paths (censored)", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=9, color="#333333")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    return finish(fig, path)


@styled
def revenue_mix_chart(result: SimulationResult, path: str | Path | None = None,
                      ax: Any = None):
    """Revenue mix over time (stacked shares) beside the Service Leadership stages.

    Left: the mean business's share of products, projects, managed services
    and cloud commissions, months 1..H. Right: the mix at month H next to
    the three stages of seed 002 with their average pretax profit, and the
    simulated pretax margin of the last 12 months.
    """
    mix = revenue_mix(result)
    t = np.arange(1, result.months + 1)
    fig, (left, right) = draw_on(ax, 9.0, 4.6, ncols=2, gap=0.9, width_ratios=[3.2, 2.0])
    left.stackplot(t, *(100 * mix[name] for name, _, _ in REVENUE_LINES),
                   labels=[label for _, _, label in REVENUE_LINES],
                   colors=[LINE_COLORS[name] for name, _, _ in REVENUE_LINES], alpha=0.9)
    left.set_xlim(1, max(result.months, 2))
    left.set_ylim(0, 100)
    left.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    left.set_xlabel(month_axis_label(result.config))
    left.set_ylabel("share of revenue (mean business)")
    left.set_title("Revenue mix over time")
    left.legend(loc="lower left", fontsize=8, framealpha=0.85)

    last = {name: float(mix[name][-1]) for name, _, _ in REVENUE_LINES}
    margin = result.at_horizon()["pretax_margin_last_12_months"]
    columns = [(f"simulated\nmonth {result.months}", last["products"], last["projects"],
                last["managed"] + last["cloud"],
                f"pretax {100 * margin:.1f}%" if margin is not None else "")]
    for stage in SERVICE_LEADERSHIP_STAGES:
        columns.append((f"{stage.name}\n{100 * stage.products:g}/{100 * stage.projects:g}/"
                        f"{100 * stage.managed:g}", stage.products, stage.projects,
                        stage.managed, f"avg {100 * stage.pretax_average:g}%\n"
                                       f"best {stage.pretax_best}"))
    x = np.arange(len(columns))
    bottom = np.zeros(len(columns))
    for k, (name, color) in enumerate((("products", LINE_COLORS["products"]),
                                       ("projects", LINE_COLORS["projects"]),
                                       ("managed + cloud", LINE_COLORS["managed"]))):
        heights = np.array([100 * c[1 + k] for c in columns])
        right.bar(x, heights, bottom=bottom, color=color, width=0.7, label=name,
                  edgecolor="white", linewidth=0.5)
        bottom += heights
    for xi, c in zip(x, columns, strict=True):
        right.text(xi, 101.5, c[4], ha="center", va="bottom", fontsize=7)
    right.set_xticks(x, [c[0] for c in columns], fontsize=7)
    right.set_ylim(0, 118)
    right.set_yticks([0, 25, 50, 75, 100])
    right.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    right.set_title("vs Service Leadership stages\n(products/projects/MS, pretax profit)",
                    fontsize=9)
    return finish(fig, path)


@styled
def operations_chart(result: SimulationResult, path: str | Path | None = None,
                     ax: Any = None):
    """Tickets per month, technician utilization and headcount (median and bands)."""
    names = ["tickets", "utilization", "techs", "alignment_staff"]
    q = result.quantiles(FAN_QUANTILES, metrics=names)
    t = np.arange(result.months + 1)
    fig, axes = draw_on(ax, 9.0, 3.6, ncols=3, gap=0.55)
    bands(axes[0], t, q["tickets"], BLUE)
    axes[0].set_title("Help-desk tickets per month")
    bands(axes[1], t[1:], q["utilization"][:, 1:], BLUE, "utilization")
    hire = result.config.staff.hire_above
    if isinstance(hire, int | float):
        axes[1].axhline(float(hire), color=RED, linestyle="--", linewidth=1,
                        label=f"hire above {float(hire):g}")
    axes[1].axhline(1.0, color=GREY, linestyle=":", linewidth=1)
    axes[1].set_title("Technician utilization")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(loc="lower right", fontsize=7, frameon=False)
    bands(axes[2], t, q["techs"], BLUE, "technicians")
    if np.any(q["alignment_staff"][4] > 0):
        bands(axes[2], t, q["alignment_staff"], RED, "alignment staff")
    axes[2].set_title("Headcount")
    axes[2].set_ylim(bottom=0)
    axes[2].legend(loc="upper left", fontsize=7, frameon=False)
    for ax in axes:
        ax.set_xlim(0, result.months)
        ax.set_xlabel(month_axis_label(result.config))
        ax.grid(alpha=0.3)
    return finish(fig, path)


@styled
def profit_cash_chart(result: SimulationResult, path: str | Path | None = None,
                      ax: Any = None):
    """Pretax profit per month and cash: 5-95% and 25-75% bands and the median."""
    q = result.quantiles(FAN_QUANTILES, metrics=["pretax_profit", "cash"])
    t = np.arange(result.months + 1)
    fig, axes = draw_on(ax, 9.0, 3.6, ncols=2, gap=0.95)
    bands(axes[0], t[1:], q["pretax_profit"][:, 1:], BLUE)
    axes[0].set_title("Pretax profit ($/month)")
    bands(axes[1], t, q["cash"], BLUE)
    axes[1].set_title("Cash ($)")
    for ax in axes:
        ax.axhline(0.0, color=RED, linewidth=1)
        ax.set_xlim(0, result.months)
        ax.set_xlabel(month_axis_label(result.config))
        money_axis(ax)
        ax.grid(alpha=0.3)
    return finish(fig, path)


@styled
def convergence_chart(result: Any, path: str | Path | None = None, ax: Any = None):
    """Convergence trace: the estimate of P(break by the horizon) +- its 95% half-width."""
    rows = convergence_rows(result)
    paths = np.array([r["paths"] for r in rows], dtype=np.float64)
    est = np.array([r["estimate"] for r in rows])
    half = np.array([r["half_width"] for r in rows])
    fig, (left, right) = draw_on(ax, 9.0, 3.4, ncols=2, gap=0.7)
    left.fill_between(paths, est - half, est + half, color=BLUE, alpha=0.25, linewidth=0,
                      label="95% CI")
    left.plot(paths, est, color=BLUE, marker="o", markersize=3, label="estimate")
    left.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.1f}%")
    left.set_title(f"P(break by month {result.months}) as paths are added")
    left.legend(loc="best", fontsize=7, frameon=False)
    right.plot(paths, half, color=BLUE, marker="o", markersize=3, label="95% half-width")
    tolerance = getattr(result, "convergence_tolerance", None)
    if tolerance is None:
        tolerance = getattr(result, "tolerance", None)
    if tolerance is None:
        tolerance = next((r["tolerance"] for r in rows if r.get("tolerance") is not None), None)
    if tolerance is not None:
        right.axhline(float(tolerance), color=RED, linestyle="--", linewidth=1,
                      label=f"tolerance {float(tolerance):g}")
    right.set_title("Precision")
    right.legend(loc="best", fontsize=7, frameon=False)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for ax in (left, right):
        ax.set_xlabel("paths")
        if paths.size and paths.min() > 0 and paths.max() > 4 * paths.min():
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    return finish(fig, path)


def run_figures(result: SimulationResult, levers: LeverScanResult | None = None
                ) -> list[ReportFigure]:
    """Every figure of the run report, in page order (the lever chart with a scan)."""
    figures = [
        ReportFigure("chance", "P(break the threshold by month t), censoring-aware, with its "
                     "95% band", png_bytes(time_to_threshold_chart(result))),
        ReportFigure("mrr", "MRR fan chart: 5-95% and 25-75% of paths, median, threshold "
                     "(closed businesses count as $0)",
                     png_bytes(fan_chart(result))),
        ReportFigure("owner", "The owner's month: hours by what takes them (the average of the "
                     "simulated futures), and the sales meetings they leave",
                     png_bytes(owner_month_chart(result))),
        ReportFigure("mix", "Revenue mix over time and against the Service Leadership stages "
                     "(Ingram Micro, Channel Advisor, Summer 2010)",
                     png_bytes(revenue_mix_chart(result))),
        ReportFigure("operations", "Tickets, technician utilization and headcount: median, "
                     "25-75% and 5-95% of paths", png_bytes(operations_chart(result))),
        ReportFigure("money", "Pretax profit and cash: median, 25-75% and 5-95% of paths",
                     png_bytes(profit_cash_chart(result))),
    ]
    if levers is not None and levers.levers:
        figures.insert(1, ReportFigure("levers", "Change in P(break the threshold by the "
                                       "horizon) of each lever, with its 95% interval",
                                       png_bytes(lever_chart(levers))))
    if convergence_rows(result):
        figures.append(ReportFigure("convergence", "Convergence: the estimate and its 95% "
                                    "interval as paths are added",
                                    png_bytes(convergence_chart(result))))
    return figures


OWNER_COLORS = {
    "owner_escalation_hours": "#b23a3a",
    "owner_overflow_hours": "#e07b39",
    "owner_management_hours": "#8a6bb8",
    "owner_account_hours": "#c9a227",
    "owner_sales_hours": "#2e8b57",
}


"""The colour of each part of the owner's month."""


@styled
def owner_month_chart(result: SimulationResult, path: str | Path | None = None,
                      ax: Any = None):
    """Where the owner's hours go, month by month (the average business, stacked), beside
    the meetings he gets against those his intended selling hours would give."""
    data = owner_month(result)
    t = np.arange(1, result.months + 1)
    fig, (left, right) = draw_on(ax, 9.0, 3.8, ncols=2, gap=0.9, width_ratios=[3.0, 2.0])
    left.stackplot(t, *(data["hours"][name][1:] for name, _ in OWNER_PARTS),
                   labels=[label for _, label in OWNER_PARTS],
                   colors=[OWNER_COLORS[name] for name, _ in OWNER_PARTS], alpha=0.9)
    left.axhline(data["owner_hours"], color=GREY, linestyle=":", linewidth=1)
    left.set_xlim(1, max(result.months, 2))
    left.set_ylim(0, 1.15 * data["owner_hours"])
    left.set_xlabel(month_axis_label(result.config))
    left.set_ylabel("owner hours / month (mean)")
    left.set_title("Where the owner's month goes")
    left.legend(loc="lower left", fontsize=7, framealpha=0.85)
    right.plot(t, data["meetings"][1:], color=BLUE, linewidth=2, label="meetings held (mean)")
    right.axhline(data["meetings_possible"], color=GREEN, linestyle="--", linewidth=1.2,
                  label="with the intended selling hours (and reps)")
    right.set_xlim(1, max(result.months, 2))
    right.set_ylim(bottom=0)
    right.set_xlabel(month_axis_label(result.config))
    right.set_title("Sales meetings per month")
    right.legend(loc="best", fontsize=7, frameon=False)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return finish(fig, path)


RUN_CHARTS: dict[str, Any] = {
    "mrr": fan_chart, "chance": time_to_threshold_chart, "owner": owner_month_chart,
    "mix": revenue_mix_chart, "operations": operations_chart, "money": profit_cash_chart,
    "convergence": convergence_chart}
"""The run's figures by section: what ``result.plot(kind)`` draws."""


def plot_run(result: SimulationResult, kind: str = "mrr", ax: Any = None) -> Any:
    """The run figure ``kind`` (a key of :data:`RUN_CHARTS`), on ``ax`` when given."""
    if kind not in RUN_CHARTS:
        raise ValueError(f"kind must be one of {', '.join(RUN_CHARTS)}; got {kind!r}")
    return RUN_CHARTS[kind](result, ax=ax)
