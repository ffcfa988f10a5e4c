"""The report layer's figures: matplotlib on an Agg canvas, one fixed style, PNG bytes.

Every figure of every report is drawn here, from an analysis result, on a
:class:`matplotlib.figure.Figure` with its own Agg canvas (no pyplot, no
window, no global backend switch), inside :func:`styled` (the fixed style:
no mathtext, so a ``$`` in a scenario name is a dollar sign, and no font
hinting). ``.plot()`` of each result calls these functions; the pages embed
their PNG bytes (:func:`png_bytes`).

matplotlib is imported only when a figure is drawn, so importing this module
stays quick.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from ..formatting import calendar_month

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from ..analysis.compare import ComparisonResult
    from ..analysis.goal import GoalResult
    from ..analysis.levers import LeverScanResult
    from ..analysis.portfolio import PortfolioResult
    from ..analysis.sensitivity import SensitivityResult
    from ..fit.backtest import BacktestResult
    from ..fit.estimate import FitResult
    from ..results import SimulationResult

__all__ = [
    "SERVICE_LEADERSHIP_STAGES",
    "STYLE",
    "ReportFigure",
    "ServiceLeadershipStage",
    "backtest_chart",
    "comparison_fans_chart",
    "comparison_figures",
    "comparison_overview",
    "comparison_p_break_chart",
    "convergence_chart",
    "convergence_rows",
    "fan_chart",
    "figure",
    "fit_figures",
    "goal_chart",
    "goal_figures",
    "lever_chart",
    "money_axis",
    "month_axis_label",
    "operations_chart",
    "owner_month",
    "owner_month_chart",
    "png_bytes",
    "portfolio_chart",
    "probability_axes",
    "profit_cash_chart",
    "revenue_mix",
    "revenue_mix_chart",
    "run_figures",
    "save_png",
    "sensitivity_figures",
    "sensitivity_indices_chart",
    "sensitivity_tornado_chart",
    "styled",
    "time_to_threshold_chart",
]

BLUE = "#1f5f99"
RED = "#b23a3a"
GREEN = "#2e8b57"
GREY = "#555555"
LINE_COLORS = {"products": "#c9a227", "projects": "#8a6bb8", "managed": "#1f5f99",
               "cloud": "#5fa8d3"}
SERIES_COLORS = ("#1f5f99", "#d4761c", "#2e8b57", "#b23a3a", "#7a4fa0", "#8c6d31", "#d65fa0",
                 "#555555", "#17a2b8", "#9aa02a")
"""Colours of the scenarios of a comparison, in order (repeating after ten)."""

STYLE: dict[RcKeyType, Any] = {
    # A "$" in a scenario or parameter name is a dollar sign, never mathtext.
    "text.parse_math": False,
    # Drawn without font hinting: about a third less time per report
    # (benchmarks/RESULTS.md), text not snapped to the pixel grid.
    "text.hinting": "none",
}
"""The fixed style every figure is drawn and saved in (matplotlib rcParams)."""

F = TypeVar("F", bound=Callable[..., Any])


def styled(func: F) -> F:
    """Draw ``func``'s figure inside ``matplotlib.rc_context(STYLE)``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ServiceLeadershipStage(NamedTuple):
    """A revenue mix and the pretax profit that goes with it (Service Leadership, seed 002).

    Shares are of total revenue: products, projects (and T&M), managed
    services (cloud commissions counted with managed services).
    """

    name: str
    products: float
    projects: float
    managed: float
    pretax_average: float
    pretax_best: str


SERVICE_LEADERSHIP_STAGES: tuple[ServiceLeadershipStage, ...] = (
    ServiceLeadershipStage("VAR", 0.50, 0.40, 0.10, 0.045, "13%"),
    ServiceLeadershipStage("Hybrid", 0.30, 0.40, 0.30, 0.078, "16.5%"),
    ServiceLeadershipStage("Mature MSP", 0.235, 0.235, 0.53, 0.11, "21-22%"),
)
"""Seed 002: 50/40/10 products/projects/MS -> 4.5% average pretax (best in class 13%);
30/40/30 -> 7.8% (16.5%); mature 22-25/22-25/rest (23.5/23.5/53 here) -> 11% (21-22%)."""


# -- figures -----------------------------------------------------------------


def figure(width: float = 8.0, height: float = 4.5, *, left: float = 0.9,
            right: float = 0.2, bottom: float = 0.55, top: float = 0.4,
            constrained: bool = False):
    """A figure with fixed margins (inches) around its axes, or a constrained layout.

    The run report's figures have known labels and use fixed margins:
    matplotlib's constrained layout took about half the report's drawing
    time (benchmarks/RESULTS.md). Figures whose labels depend on the data
    (scenario names, parameter names) ask for ``constrained=True``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110,
                 layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    if not constrained:
        fig.subplots_adjust(left=left / width, right=1.0 - right / width,
                            bottom=bottom / height, top=1.0 - top / height)
    return fig


def _panels(fig, ncols: int, gap: float, width_ratios=None):
    """``ncols`` axes side by side, ``gap`` inches apart."""
    params = fig.subplotpars
    panel = ((params.right - params.left) * fig.get_figwidth() - gap * (ncols - 1)) / ncols
    return fig.subplots(1, ncols, width_ratios=width_ratios,
                        gridspec_kw={"wspace": gap / panel})


def money_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"${v / 1e6:g}M"
        if abs(v) >= 1e3:
            return f"${v / 1e3:g}k"
        return f"${v:g}"

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))


def month_axis_label(config: Any) -> str:
    """``month``, or ``month (0 = Dec 2026)`` when the config has ``simulation.start_date``."""
    start = config.simulation.start_date
    return "month" if start is None else f"month (0 = {calendar_month(0, start)})"


def probability_axes(ax, months: int, ylabel: str, xlabel: str = "month") -> None:
    """Axes of a P(break by month t) curve: 0-100%, months 0..H, a line at 50%."""
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, months)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


@styled
def fan_chart(result: SimulationResult, path: str | Path | None = None):
    """MRR fan chart: 5-95% and 25-75% bands, median and the threshold line.

    Returns the :class:`matplotlib.figure.Figure`; saves it as PNG when
    ``path`` is given.
    """
    q = result.quantiles((0.05, 0.25, 0.5, 0.75, 0.95), metrics=["mrr"])["mrr"]
    t = np.arange(result.months + 1)
    fig = figure()
    ax = fig.add_subplot()
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
    if path is not None:
        save_png(fig, path)
    return fig


@styled
def time_to_threshold_chart(result: SimulationResult, path: str | Path | None = None):
    """Censoring-aware CDF of the time to the threshold with its 95% band.

    Paths that never break the threshold are censored at the horizon, so the
    curve ends below 1 by the censored fraction.
    """
    ttt = result.time_to_threshold()
    t = np.arange(result.months + 1)
    cdf = ttt.cdf(t)
    low, high = ttt.cdf_band(t)
    fig = figure()
    ax = fig.add_subplot()
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
    if path is not None:
        save_png(fig, path)
    return fig




def _bands(ax, t, q, color, label=None) -> None:
    """5-95% and 25-75% bands and the median of a ``(5, months + 1)`` quantile array."""
    ax.fill_between(t, q[0], q[4], color=color, alpha=0.15, linewidth=0)
    ax.fill_between(t, q[1], q[3], color=color, alpha=0.32, linewidth=0)
    ax.plot(t, q[2], color=color, linewidth=1.8, label=label)


_FAN_QS = (0.05, 0.25, 0.5, 0.75, 0.95)
_LINES = (("products", "revenue_products", "products"),
          ("projects", "revenue_projects", "projects and T&M"),
          ("managed", "revenue_managed", "managed services"),
          ("cloud", "revenue_cloud", "cloud commissions"))


def revenue_mix(result: SimulationResult) -> dict[str, np.ndarray]:
    """Share of each revenue line in the mean revenue of months 1..H.

    Returns
    -------
    dict of str to ndarray
        ``"products"``, ``"projects"``, ``"managed"``, ``"cloud"``: shares
        ``(months,)`` of months 1..H (month 0 has no revenue flows), from
        the mean across paths of each line (the mix of the average
        business); 0 where the mean revenue is 0.
    """
    means = {name: result.mean(metric)[1:] for name, metric, _ in _LINES}
    total = sum(means.values())
    safe = np.where(total > 0, total, 1.0)
    return {name: np.where(total > 0, m / safe, 0.0) for name, m in means.items()}


@styled
def revenue_mix_chart(result: SimulationResult, path: str | Path | None = None):
    """Revenue mix over time (stacked shares) beside the Service Leadership stages.

    Left: the mean business's share of products, projects, managed services
    and cloud commissions, months 1..H. Right: the mix at month H next to
    the three stages of seed 002 with their average pretax profit, and the
    simulated pretax margin of the last 12 months.
    """
    mix = revenue_mix(result)
    t = np.arange(1, result.months + 1)
    fig = figure(9.0, 4.6)
    left, right = _panels(fig, 2, 0.9, width_ratios=[3.2, 2.0])
    left.stackplot(t, *(100 * mix[name] for name, _, _ in _LINES),
                   labels=[label for _, _, label in _LINES],
                   colors=[LINE_COLORS[name] for name, _, _ in _LINES], alpha=0.9)
    left.set_xlim(1, max(result.months, 2))
    left.set_ylim(0, 100)
    left.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    left.set_xlabel(month_axis_label(result.config))
    left.set_ylabel("share of revenue (mean business)")
    left.set_title("Revenue mix over time")
    left.legend(loc="lower left", fontsize=8, framealpha=0.85)

    last = {name: float(mix[name][-1]) for name, _, _ in _LINES}
    window = slice(max(1, result.months - 11), result.months + 1)
    revenue = sum(float(result.mean(metric)[window].mean()) for _, metric, _ in _LINES)
    profit = float(result.mean("pretax_profit")[window].mean())
    margin = profit / revenue if revenue > 0 else float("nan")
    columns = [(f"simulated\nmonth {result.months}", last["products"], last["projects"],
                last["managed"] + last["cloud"],
                f"pretax {100 * margin:.1f}%" if math.isfinite(margin) else "")]
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
    if path is not None:
        save_png(fig, path)
    return fig


@styled
def operations_chart(result: SimulationResult, path: str | Path | None = None):
    """Tickets per month, technician utilization and headcount (median and bands)."""
    names = ["tickets", "utilization", "techs", "alignment_staff"]
    q = result.quantiles(_FAN_QS, metrics=names)
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.6)
    axes = _panels(fig, 3, 0.55)
    _bands(axes[0], t, q["tickets"], BLUE)
    axes[0].set_title("Help-desk tickets per month")
    _bands(axes[1], t[1:], q["utilization"][:, 1:], BLUE, "utilization")
    hire = result.config.staff.hire_above
    if isinstance(hire, int | float):
        axes[1].axhline(float(hire), color=RED, linestyle="--", linewidth=1,
                        label=f"hire above {float(hire):g}")
    axes[1].axhline(1.0, color=GREY, linestyle=":", linewidth=1)
    axes[1].set_title("Technician utilization")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(loc="lower right", fontsize=7, frameon=False)
    _bands(axes[2], t, q["techs"], BLUE, "technicians")
    if np.any(q["alignment_staff"][4] > 0):
        _bands(axes[2], t, q["alignment_staff"], RED, "alignment staff")
    axes[2].set_title("Headcount")
    axes[2].set_ylim(bottom=0)
    axes[2].legend(loc="upper left", fontsize=7, frameon=False)
    for ax in axes:
        ax.set_xlim(0, result.months)
        ax.set_xlabel(month_axis_label(result.config))
        ax.grid(alpha=0.3)
    if path is not None:
        save_png(fig, path)
    return fig


@styled
def profit_cash_chart(result: SimulationResult, path: str | Path | None = None):
    """Pretax profit per month and cash: 5-95% and 25-75% bands and the median."""
    q = result.quantiles(_FAN_QS, metrics=["pretax_profit", "cash"])
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.6)
    axes = _panels(fig, 2, 0.95)
    _bands(axes[0], t[1:], q["pretax_profit"][:, 1:], BLUE)
    axes[0].set_title("Pretax profit ($/month)")
    _bands(axes[1], t, q["cash"], BLUE)
    axes[1].set_title("Cash ($)")
    for ax in axes:
        ax.axhline(0.0, color=RED, linewidth=1)
        ax.set_xlim(0, result.months)
        ax.set_xlabel(month_axis_label(result.config))
        money_axis(ax)
        ax.grid(alpha=0.3)
    if path is not None:
        save_png(fig, path)
    return fig


def convergence_rows(result: Any) -> list[dict[str, Any]]:
    """The result's convergence trace as ``[{"paths", "estimate", "half_width"}, ...]``.

    Entries may be mappings or objects with those attributes; a mapping's
    optional ``"tolerance"`` is kept (the target half-width, drawn as a
    line, as is a ``convergence_tolerance`` or ``tolerance`` attribute of
    the result). Empty
    when the result has no ``convergence`` attribute (or an empty one).
    """
    trace = getattr(result, "convergence", None) or []
    rows = []
    for entry in trace:
        def get(key: str, e: Any = entry) -> Any:
            return e[key] if isinstance(e, Mapping) else getattr(e, key)

        row = {"paths": int(get("paths")), "estimate": float(get("estimate")),
               "half_width": float(get("half_width"))}
        if isinstance(entry, Mapping) and entry.get("tolerance") is not None:
            row["tolerance"] = float(entry["tolerance"])
        rows.append(row)
    return rows


@styled
def convergence_chart(result: Any, path: str | Path | None = None):
    """Convergence trace: the estimate of P(break by the horizon) +- its 95% half-width."""
    rows = convergence_rows(result)
    paths = np.array([r["paths"] for r in rows], dtype=np.float64)
    est = np.array([r["estimate"] for r in rows])
    half = np.array([r["half_width"] for r in rows])
    fig = figure(9.0, 3.4)
    left, right = _panels(fig, 2, 0.7)
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
    if path is not None:
        save_png(fig, path)
    return fig


def save_png(fig, target) -> None:
    """Write ``fig`` as PNG to a path or binary file.

    Drawn without font hinting and with a fast zlib level: together about a
    third less time per report (benchmarks/RESULTS.md), for files ~10%
    larger and text that is not snapped to the pixel grid.
    """
    import matplotlib

    with matplotlib.rc_context(STYLE):
        fig.savefig(target, format="png", pil_kwargs={"compress_level": 1})


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (:func:`save_png`)."""
    buf = io.BytesIO()
    save_png(fig, buf)
    return buf.getvalue()


class ReportFigure(NamedTuple):
    """A figure of a page: the section it belongs to, its caption and its PNG bytes."""

    section: str
    caption: str
    png: bytes


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


# -- a comparison of scenarios -------------------------------------------------


def _series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def _draw_p_break(ax: Any, comp: ComparisonResult) -> None:
    t = np.arange(comp.months + 1)
    for i, (name, r) in enumerate(zip(comp.names, comp.results, strict=True)):
        ttt = r.time_to_threshold()
        low, high = ttt.cdf_band(t)
        ax.fill_between(t, low, high, step="post", color=_series_color(i), alpha=0.2,
                        linewidth=0)
        ax.step(t, ttt.cdf(t), where="post", color=_series_color(i), linewidth=2, label=name)
    probability_axes(ax, comp.months, "share of paths that broke it",
                     month_axis_label(comp.results[0].config))
    ax.set_title(f"P(MRR >= ${comp.threshold_mrr:,.0f} by month t), 95% bands")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)


def _draw_mrr_overlay(ax: Any, comp: ComparisonResult) -> None:
    t = np.arange(comp.months + 1)
    for i, (name, r) in enumerate(zip(comp.names, comp.results, strict=True)):
        q = r.quantiles((0.25, 0.5, 0.75), metrics=["mrr"])["mrr"]
        ax.fill_between(t, q[0], q[2], color=_series_color(i), alpha=0.2, linewidth=0)
        ax.plot(t, q[1], color=_series_color(i), linewidth=2, label=f"{name} (median, 25-75%)")
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
        q = r.quantiles(_FAN_QS, metrics=["mrr"])["mrr"]
        top = max(top, float(np.max(q[4])))
        _bands(ax, t, q, _series_color(i))
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


# -- sensitivity ----------------------------------------------------------------

_LOW_COLOR = RED
_HIGH_COLOR = BLUE


def _stacked_axes(result: SensitivityResult, names: list[str]) -> tuple[Any, Any, int]:
    """A figure with one row of axes per outcome, tall enough for every input."""
    d = len(result.parameters)
    fig = figure(8.0, 0.6 + len(names) * (0.9 + 0.42 * d), constrained=True)
    return fig, fig.subplots(len(names), 1, squeeze=False)[:, 0], d


def _param_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


@styled
def sensitivity_tornado_chart(result: SensitivityResult, names: list[str]) -> Any:
    """Each input at its 5th / 95th percentile, the others at their medians (one panel per
    outcome in ``names``)."""
    fig, axes, d = _stacked_axes(result, names)
    for ax, name in zip(axes, names, strict=True):
        i = result.outcomes.index(name)
        base = float(result.tornado_base[i])
        order = result.swing_order(name)[::-1]  # largest swing on top
        for pos, j in enumerate(order):
            for value, color in ((result.tornado_low[i, j], _LOW_COLOR),
                                 (result.tornado_high[i, j], _HIGH_COLOR)):
                ax.barh(pos, float(value) - base, left=base, color=color, height=0.6,
                        alpha=0.85)
        labels = [f"{result.parameters[j]}\n{_param_text(result.tornado_values[j, 0])} / "
                  f"{_param_text(result.tornado_values[j, 2])}" for j in order]
        ax.set_yticks(range(d), labels, fontsize=8)
        ax.axvline(base, color="black", linewidth=1)
        ax.set_title(f"{result.outcome_label(name)}: base {result.format_outcome(name, base)}",
                     fontsize=10)
        if name == "p_break_by_horizon":
            ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
        elif name == "mrr_final_median":
            ax.xaxis.set_major_formatter(lambda v, _pos: f"${v / 1e3:,.0f}k")
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    axes[0].legend(handles=[Patch(color=_LOW_COLOR, label="at 5th percentile"),
                            Patch(color=_HIGH_COLOR, label="at 95th percentile")],
                   loc="lower right", fontsize=8, frameon=False)
    fig.suptitle(f"One input at a time (others at their medians), {result.tornado_paths:,} "
                 "paths per bar, same seeds", fontsize=9)
    return fig


@styled
def sensitivity_indices_chart(result: SensitivityResult, names: list[str]) -> Any:
    """First-order and total Sobol' indices with 95% intervals (one panel per outcome)."""
    fig, axes, d = _stacked_axes(result, names)
    for ax, name in zip(axes, names, strict=True):
        i = result.outcomes.index(name)
        order = result.ranking(name)[::-1]
        pos = np.arange(d)
        for offset, values, ci, color, label in (
            (0.18, result.total[i], result.total_ci[i], _HIGH_COLOR, "total"),
            (-0.18, result.first_order[i], result.first_order_ci[i], "#7fa7cc", "first order"),
        ):
            v = values[order]
            err = np.abs(np.stack([v - ci[order, 0], ci[order, 1] - v]))
            ax.barh(pos + offset, v, height=0.36, color=color, label=label,
                    xerr=err, error_kw={"elinewidth": 1, "capsize": 2})
        ax.set_yticks(pos, [result.parameters[j] for j in order], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(min(-0.05, float(np.min(result.first_order_ci[i])) - 0.02), 1.05)
        ax.set_title(f"Sobol' indices: {result.outcome_label(name)}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def sensitivity_figures(result: SensitivityResult) -> list[ReportFigure]:
    """The sensitivity report's figures, in page order (also written as PNG files)."""
    names = list(result.outcomes)
    return [
        ReportFigure("tornado", "Tornado: each input at its 5th / 95th percentile, the others "
                     "at their medians", png_bytes(sensitivity_tornado_chart(result, names))),
        ReportFigure("indices", "Sobol' indices with 95% bootstrap intervals",
                     png_bytes(sensitivity_indices_chart(result, names))),
    ]


# -- goal seek ------------------------------------------------------------------


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


# -- the lever scan ----------------------------------------------------------------


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


# -- the owner's month -------------------------------------------------------------

OWNER_PARTS: tuple[tuple[str, str, str], ...] = (
    ("owner_escalation_hours", "escalated tickets", "#b23a3a"),
    ("owner_overflow_hours", "tickets the technicians could not take", "#e07b39"),
    ("owner_management_hours", "managing staff", "#8a6bb8"),
    ("owner_account_hours", "account care", "#c9a227"),
    ("owner_sales_hours", "selling", "#2e8b57"),
)
"""The owner's hours in the order he pays them (selling gets what is left)."""


def owner_month(result: SimulationResult, month: int | None = None) -> dict[str, Any]:
    """The average owner's month: mean hours of each part by month, the mean hours he has,
    the mean meetings, and the share of his month each part takes at ``month``
    (default: 24, or the horizon when shorter)."""
    month = min(24, result.months) if month is None else month
    hours = {name: result.mean(name) for name, _, _ in OWNER_PARTS}
    owner_hours = _mean_value(result.config.staff.owner_hours_per_month)
    meetings = result.mean("meetings")
    return {
        "month": month,
        "hours": hours,
        "owner_hours": owner_hours,
        "share": {name: float(h[month]) / owner_hours if owner_hours > 0 else 0.0
                  for name, h in hours.items()},
        "meetings": meetings,
        # the owner's intended selling hours, and any salespeople at full speed
        "meetings_possible": _mean_value(result.config.sales.meetings_per_selling_hour)
        * _mean_value(result.config.staff.owner_sales_hours_per_month)
        + _mean_value(result.config.sales.reps)
        * _mean_value(result.config.sales.rep_meetings_per_month),
    }


def _mean_value(value: Any) -> float:
    return float(value.mean()) if hasattr(value, "mean") else float(value)


@styled
def owner_month_chart(result: SimulationResult, path: str | Path | None = None):
    """Where the owner's hours go, month by month (the average business, stacked), beside
    the meetings he gets against those his intended selling hours would give."""
    data = owner_month(result)
    t = np.arange(1, result.months + 1)
    fig = figure(9.0, 3.8)
    left, right = _panels(fig, 2, 0.9, width_ratios=[3.0, 2.0])
    left.stackplot(t, *(data["hours"][name][1:] for name, _, _ in OWNER_PARTS),
                   labels=[label for _, label, _ in OWNER_PARTS],
                   colors=[color for _, _, color in OWNER_PARTS], alpha=0.9)
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
    if path is not None:
        save_png(fig, path)
    return fig


# -- a fit of your data ------------------------------------------------------------


@styled
def tenure_chart(result: FitResult) -> Any:
    """Kaplan-Meier survival of client tenures (scipy.stats.ecdf on the censored tenures)
    against the fitted constant-hazard curve, with its 90% band."""
    from scipy import stats

    tenures = result.curves["tenures"]
    fitted = result.get("churn.annual_rate")
    fig = figure(8.0, 4.0, constrained=True)
    ax = fig.add_subplot()
    ended, active = tenures["ended"], tenures["active"]
    top = max(ended + active + [1.0])
    if ended:
        data = stats.CensoredData(uncensored=np.maximum(ended, 1e-9),
                                  right=np.maximum(active, 1e-9))
        sf = stats.ecdf(data).sf
        ax.step(sf.quantiles, sf.probabilities, where="post", color=BLUE, linewidth=2,
                label="your clients (Kaplan-Meier)")
    if fitted is not None:
        years = np.linspace(0, top, 200)
        for rate, style, label in ((fitted.estimate, "-", "fitted churn"),
                                   (fitted.interval90[0], ":", "90% interval"),
                                   (fitted.interval90[1], ":", None)):
            ax.plot(years, (1 - rate) ** years, color=RED, linestyle=style, linewidth=1.4,
                    label=label)
    ax.set_xlim(0, top)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel("years as a client")
    ax.set_ylabel("share still a client")
    ax.set_title("How long clients stay")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    return fig


@styled
def tickets_by_month_chart(result: FitResult) -> Any:
    """Tickets per endpoint by month against the fitted rate and its 90% interval."""
    data = result.curves["tickets_by_month"]
    fitted = result.get("tickets.per_endpoint_reactive")
    fig = figure(8.0, 3.6, constrained=True)
    ax = fig.add_subplot()
    x = np.arange(len(data["months"]))
    y = np.array([np.nan if v is None else v for v in data["per_endpoint"]], dtype=float)
    ax.plot(x, y, color=BLUE, marker="o", markersize=3, label="tickets per endpoint")
    if fitted is not None:
        ax.axhline(fitted.estimate, color=RED, linewidth=1.4, label="fitted rate")
        ax.axhspan(*fitted.interval90, color=RED, alpha=0.15, linewidth=0,
                   label="its 90% interval")
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], [data["months"][k] for k in x[::step]], fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_title("Tickets per endpoint, month by month")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return fig


def fit_figures(result: FitResult) -> list[ReportFigure]:
    """The fit report's figures (those its data allow)."""
    out = []
    if "tenures" in result.curves:
        out.append(ReportFigure("tenure", "Client tenure: your clients (Kaplan-Meier) against "
                                "the fitted churn", png_bytes(tenure_chart(result))))
    if "tickets_by_month" in result.curves and result.get("tickets.per_endpoint_reactive"):
        out.append(ReportFigure("tickets", "Tickets per endpoint by month against the fitted "
                                "rate", png_bytes(tickets_by_month_chart(result))))
    return out


@styled
def backtest_chart(result: BacktestResult) -> Any:
    """Each series' 50% and 90% predictive bands and median, with what happened."""
    names = list(result.series)
    fig = figure(4.2 * len(names), 3.6, constrained=True)
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    from ..fit.backtest import SERIES

    for ax, name in zip(axes, names, strict=True):
        s = result.series[name]
        t = np.arange(1, len(s["actual"]) + 1)
        ax.fill_between(t, s["q05"], s["q95"], color=BLUE, alpha=0.15, linewidth=0,
                        label="90% band")
        ax.fill_between(t, s["q25"], s["q75"], color=BLUE, alpha=0.3, linewidth=0,
                        label="50% band")
        ax.plot(t, s["q50"], color=BLUE, linewidth=1.5, label="median")
        ax.plot(t, s["actual"], color=RED, marker="o", markersize=3, linewidth=1,
                label="what happened")
        words, unit = SERIES[name]
        ax.set_title(f"{words} ({unit})", fontsize=10)
        ax.set_xlabel(f"month after {result.cutoff.isoformat()}")
        if name == "mrr_managed":
            money_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=7, frameon=False)
    return fig


# -- a portfolio ---------------------------------------------------------------------


@styled
def portfolio_chart(result: PortfolioResult) -> Any:
    """Expected MSPs broken through by month (95% interval), beside the spread of
    P(break by the horizon) across the MSPs."""
    counts = result.expected_breaking()
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.8)
    left, right = _panels(fig, 2, 0.9, width_ratios=[3.0, 2.0])
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
