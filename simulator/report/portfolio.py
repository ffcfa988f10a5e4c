"""A portfolio of MSPs: its figure, its page, its workbook and its files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..formatting import FILTERS, pct, short_money
from ..output import PORTFOLIO_FILES, json_text
from .glossary import terms
from .pages import render_page, write_report
from .style import (
    BLUE,
    GREY,
    ReportFigure,
    draw_on,
    png_bytes,
    styled,
)
from .workbook import (
    COUNT,
    DECIMAL,
    PCT,
    new_workbook,
    sheet,
    workbook_bytes,
)

if TYPE_CHECKING:
    from ..analysis.portfolio import PortfolioResult


__all__ = [
    "portfolio_chart",
    "portfolio_workbook",
    "render_portfolio",
    "write_portfolio",
]


@styled
def portfolio_chart(result: PortfolioResult, ax: Any = None) -> Any:
    """Expected MSPs broken through by month (95% interval), beside the spread of
    P(break by the horizon) across the MSPs."""
    counts = result.expected_breaking()
    t = np.arange(result.months + 1)
    fig, (left, right) = draw_on(ax, 9.0, 3.8, ncols=2, gap=0.9, width_ratios=[3.0, 2.0])
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


# -- the page and the files -------------------------------------------------------


def render_portfolio(result: PortfolioResult, figures: Sequence[ReportFigure] | None = None,
                     title: str | None = None) -> str:
    """The portfolio report as one self-contained HTML page."""
    data = result.to_dict()
    if figures is None:
        figures = [ReportFigure("portfolio", "MSPs past the threshold by month, and their "
                                "chances", png_bytes(portfolio_chart(result)))]
    months, scan = result.months, min(36, result.months)
    counts = data["portfolio"]
    low, high = counts["breaking_by_month_ci95"][-1]
    headlines = [f"Of {data['n_msps']} MSPs, {counts['expected_breaking_by_month'][-1]:.1f} "
                 f"are expected past {short_money(result.threshold_mrr)} MRR by month "
                 f"{months} (95% interval {low:.0f} to {high:.0f}); by month {scan}: "
                 f"{counts['expected_breaking_by_month'][scan]:.1f}."]
    if data.get("levers"):
        best = data["levers"][0]
        headlines.append(f"{best['name']} would take {best['additional_msps_breaking']:.1f} "
                         "more of them past it by the horizon.")

    def chance(e: Mapping[str, Any], key: str) -> str:
        lo, hi = e[f"{key}_ci95"]
        return f"{pct(e[key])} [{pct(lo)}-{pct(hi)}]"

    rows = [{"name": e["name"], "p_month": chance(e, f"p_break_by_{scan}"),
             "p_horizon": chance(e, "p_break_by_horizon"),
             "median": FILTERS["month"](e["median_months"], "not reached"),
             "insolvent": pct(e["p_insolvent"])} for e in data["msps"]]
    levers = [{"name": r["name"], "gain": f"{r['additional_msps_breaking']:+.1f}",
               "ci": f"{r['ci95'][0]:+.1f} to {r['ci95'][1]:+.1f}",
               "helped": r["msps_helped"]} for r in data.get("levers", [])]
    return render_page(
        "portfolio.html", title=title or "msp-sim portfolio", headlines=headlines,
        n_msps=data["n_msps"], n_paths=result.n_paths, months=months, scan_month=scan,
        seed=result.seed, method=counts["method"], figures=figures, levers=levers, rows=rows,
        version=data["version"],
        glossary=terms("path", "95% interval", "median", "out of cash and credit"))


def portfolio_workbook(result: PortfolioResult) -> bytes:
    """A portfolio's ``portfolio.xlsx``: MSPs, the count by month and (with levers) Levers."""
    data = result.to_dict()
    scan = min(36, result.months)
    h = result.months
    workbook = new_workbook()
    by_h = f"P(break by month {h})"
    sheet(workbook, "MSPs", ["msp", *([f"P(break by month {scan})"] if scan != h else []),
                              by_h, f"{by_h}, 95% low", f"{by_h}, 95% high", "median months",
                              f"P(out of cash and credit by month {h})"],
           [[e["name"], *([e[f"p_break_by_{scan}"]] if scan != h else []),
             e["p_break_by_horizon"], *e["p_break_by_horizon_ci95"], e["median_months"],
             e["p_insolvent"]] for e in data["msps"]],
           [None] + [PCT] * (4 if scan != h else 3) + [COUNT, PCT])
    counts = data["portfolio"]
    sheet(workbook, "Portfolio", ["month", "expected MSPs past the threshold", "95% low",
                                   "95% high"],
           [[t, counts["expected_breaking_by_month"][t],
             *counts["breaking_by_month_ci95"][t]] for t in range(result.months + 1)],
           [COUNT, DECIMAL, COUNT, COUNT])
    if data.get("levers"):
        sheet(workbook, "Levers", ["lever", "additional MSPs by the horizon", "95% low",
                                    "95% high", "MSPs it helps"],
               [[r["name"], r["additional_msps_breaking"], *r["ci95"], r["msps_helped"]]
                for r in data["levers"]], [None, DECIMAL, DECIMAL, DECIMAL, COUNT])
    return workbook_bytes(workbook)


def write_portfolio(result: PortfolioResult, out_dir: str | Path, title: str | None = None
                    ) -> Path:
    """Write ``portfolio.json``, ``portfolio.html``, ``portfolio.xlsx`` and the figure."""
    from .portfolio import portfolio_chart
    from .style import ReportFigure, png_bytes

    figure = ReportFigure("portfolio", "MSPs past the threshold by month, and their chances",
                          png_bytes(portfolio_chart(result)))
    return write_report(out_dir, PORTFOLIO_FILES, {
        "portfolio.json": json_text(result.to_dict()),
        "portfolio.html": render_portfolio(result, [figure], title),
        "portfolio.xlsx": portfolio_workbook(result),
    }, [figure])
