"""A comparison of scenarios: its figures, its page (``report.html``) and its files
(``comparison.json``, ``results.xlsx``, the PNG figures)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..formatting import FILTERS, money, pct
from ..output import (
    COMPARE_FILES,
    COMPARISON_JSON,
    MRR_FAN_CHART,
    P_BREAK_CHART,
    REPORT_HTML,
    RESULTS_XLSX,
    json_text,
)
from .glossary import terms
from .pages import render_page, write_report
from .style import (
    FAN_QUANTILES,
    RED,
    ReportFigure,
    bands,
    draw_on,
    figure,
    money_axis,
    month_axis_label,
    png_bytes,
    probability_axes,
    series_color,
    styled,
)
from .workbook import (
    COUNT,
    MONEY,
    PCT,
    PVALUE,
    Format,
    new_workbook,
    number_or_text,
    plain_number_format,
    sheet,
    workbook_bytes,
)

if TYPE_CHECKING:
    from ..analysis.compare import ComparisonResult


__all__ = [
    "comparison_fans_chart",
    "comparison_figures",
    "comparison_overview",
    "comparison_p_break_chart",
    "comparison_workbook",
    "render_comparison",
    "write_comparison",
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
def comparison_overview(comp: ComparisonResult, ax: Any = None) -> Any:
    """P(break by month t) with 95% bands beside MRR medians with 25-75% bands, overlaid."""
    fig, (left, right) = draw_on(ax, 12.0, 4.6, ncols=2, constrained=True)
    _draw_p_break(left, comp)
    _draw_mrr_overlay(right, comp)
    return fig


@styled
def comparison_p_break_chart(comp: ComparisonResult, ax: Any = None) -> Any:
    """Overlaid censoring-aware CDFs of the time to the threshold, with 95% bands."""
    fig, ax = draw_on(ax, constrained=True)
    _draw_p_break(ax, comp)
    return fig


@styled
def comparison_fans_chart(comp: ComparisonResult, ax: Any = None) -> Any:
    """One MRR fan chart per scenario (5-95%, 25-75%, median), on a shared scale (``ax``:
    a sequence of one axes per scenario, else a grid of them)."""
    n = len(comp.results)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    if ax is None:
        fig = figure(4.2 * cols, 3.4 * rows, constrained=True)
        axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel()
    else:
        axes = np.atleast_1d(ax)
        fig = draw_on(list(axes), ncols=n)[0]
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


# -- the page and the files -------------------------------------------------------


def _comparison_headline(e: Mapping[str, Any], months: int, thr: str) -> str:
    m = str(months)
    t = e["time_to_threshold"]
    text = (f"{e['name']}: {pct(e['p_break_by'][m])} chance to break {thr} MRR within "
            f"{months} months (95% CI {pct(e['p_break_by_ci95'][m][0])}-"
            f"{pct(e['p_break_by_ci95'][m][1])})")
    if t["median"] is None:
        return text + "; median time beyond the horizon."
    high = FILTERS["month"](t["ci95"][1], "beyond the horizon")
    return text + f"; median {t['median']} months [{t['ci95'][0]}-{high}]."


def render_comparison(comp: ComparisonResult,
                      figures: Sequence[ReportFigure] | None = None) -> str:
    """The comparison report as one self-contained HTML page."""
    from ..analysis.paired import report_months

    data = comp.to_dict()
    figures = comparison_figures(comp) if figures is None else figures
    thr = money(comp.threshold_mrr)
    lr = data["logrank_p"]
    logrank = lr if isinstance(lr, dict) else {data["scenarios"][1]["name"]: lr}
    return render_page(
        "compare.html", title=comp.title,
        headlines=[_comparison_headline(e, comp.months, thr) for e in data["scenarios"]],
        scenarios=data["scenarios"], n_paths=comp.n_paths, months=comp.months,
        seed=comp.seed, threshold=comp.threshold_mrr, report_months=report_months(comp.months),
        reference=data["reference"], logrank=logrank,
        difference_method=data["difference_method"], logrank_test=data["logrank_test"],
        figures=figures, differing=comp.differing_inputs(), version=data["version"],
        glossary=terms("path", "95% interval", "median", "never within the horizon",
                       "percentage points (pp)", "paired difference", "p-value"))


def comparison_workbook(comp: ComparisonResult) -> bytes:
    """A comparison's ``results.xlsx`` as bytes: its scenario table and differing inputs."""
    frame_rows = []
    data = comp.to_dict()
    months = [m for m in data["scenarios"][0]["p_break_by"]]
    h = data["months"]
    header = ["scenario"] + [f"P(break by month {m})" for m in months] + [
        "median months", "share never within the horizon",
        f"MRR p50 at month {h} [$] (closed businesses count as $0)",
        f"P(out of cash and credit by month {h})", f"cash p10 at month {h} [$]",
        f"cash p50 at month {h} [$]",
        f"change in P(break by month {h})", "change, 95% low", "change, 95% high",
        "McNemar p", f"owner value p50 [$] (pay and the sale at month {h}, discounted)",
        "change in owner value (mean) [$]"]
    formats: list[Format] = [None, *[PCT] * len(months), COUNT, PCT, MONEY, PCT, MONEY, MONEY,
                             PCT, PCT, PCT, PVALUE, MONEY, MONEY]
    for e in data["scenarios"]:
        d = e["difference_vs_reference"]
        end = e["at_horizon"]
        frame_rows.append(
            [e["name"]] + [e["p_break_by"][m] for m in months]
            + [e["time_to_threshold"]["median"], e["time_to_threshold"]["censored_fraction"],
               e["mrr_final"]["p50"], e["p_insolvent_by_horizon"], end["cash_p10"],
               end["cash_p50"]]
            + ([None] * 4 if d is None else [d["p_break_by_horizon"]["value"],
                                             *d["p_break_by_horizon"]["ci95"],
                                             d["p_break_by_horizon"]["p_value"]])
            + [None if e["owner_value"] is None else e["owner_value"]["p50"],
               None if d is None or d["owner_value_mean"] is None
               else d["owner_value_mean"]["value"]])
    workbook = new_workbook()
    sheet(workbook, "Scenarios", header, frame_rows, formats)
    sheet(workbook, "Inputs", ["key"] + comp.names,
           [[key, *map(number_or_text, values)] for key, values in comp.differing_inputs()],
           [None] + [plain_number_format] * len(comp.names))
    return workbook_bytes(workbook)


def write_comparison(comp: ComparisonResult, out_dir: str | Path) -> Path:
    """Write ``comparison.json``, ``report.html``, ``results.xlsx`` and the two PNG figures,
    atomically."""
    figures = comparison_figures(comp)
    return write_report(out_dir, COMPARE_FILES, {
        COMPARISON_JSON: json_text(comp.to_dict()),
        REPORT_HTML: render_comparison(comp, figures),
        RESULTS_XLSX: comparison_workbook(comp),
    }, figures, {"p_break": P_BREAK_CHART, "fans": MRR_FAN_CHART})
