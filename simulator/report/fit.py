"""A fit of a business's own records and its backtest: their figures, pages and files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..formatting import money
from ..output import (
    BACKTEST_FILES,
    BACKTEST_HTML,
    BACKTEST_JSON,
    FIT_FILES,
    FIT_HTML,
    FIT_JSON,
    json_text,
)
from .glossary import terms
from .pages import render_page, write_report
from .style import (
    BLUE,
    RED,
    ReportFigure,
    draw_on,
    money_axis,
    png_bytes,
    styled,
)

if TYPE_CHECKING:
    from ..fit.backtest import BacktestResult
    from ..fit.estimate import FitResult


__all__ = [
    "backtest_chart",
    "fit_figures",
    "render_backtest",
    "render_fit",
    "tenure_chart",
    "tickets_by_month_chart",
    "write_backtest",
    "write_fit_report",
]


@styled
def tenure_chart(result: FitResult, ax: Any = None) -> Any:
    """Kaplan-Meier survival of client tenures (:func:`simulator.fit.history.tenure_survival`)
    against the fitted constant-hazard curve, with its 90% band."""
    from ..fit.history import tenure_survival

    tenures = result.curves["tenures"]
    fitted = result.get("churn.annual_rate")
    fig, ax = draw_on(ax, 8.0, 4.0, constrained=True)
    top = max(tenures["ended"] + tenures["active"] + [1.0])
    survival = tenure_survival(tenures)
    if survival is not None:
        ax.step(*survival, where="post", color=BLUE, linewidth=2,
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
def tickets_by_month_chart(result: FitResult, ax: Any = None) -> Any:
    """Tickets per endpoint by month against the fitted rate and its 90% interval."""
    data = result.curves["tickets_by_month"]
    fitted = result.get("tickets.per_endpoint_reactive")
    fig, ax = draw_on(ax, 8.0, 3.6, constrained=True)
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
def backtest_chart(result: BacktestResult, ax: Any = None) -> Any:
    """Each series' 50% and 90% predictive bands and median, with what happened."""
    names = list(result.series)
    fig, axes = draw_on(ax, 4.2 * len(names), 3.6, ncols=len(names), constrained=True)
    axes = np.atleast_1d(axes)
    from ..fit.backtest import SERIES

    for ax, name in zip(axes, names, strict=True):
        s = result.series[name]
        t = np.asarray(s.get("month_after_cutoff", range(1, len(s["actual"]) + 1)))
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


# -- the pages and the files ------------------------------------------------------


def render_fit(result: FitResult, figures: Sequence[ReportFigure] | None = None,
               title: str | None = None) -> str:
    """The fit report as one self-contained HTML page."""
    from ..fit import fit_summary

    figures = fit_figures(result) if figures is None else figures

    rows = [{"key": f.key, "estimate": f.show(f.estimate),
             "interval": ("" if f.interval90[0] == f.interval90[1]
                          else f"{f.show(f.interval90[0])} to {f.show(f.interval90[1])}"),
             "comment": f.comment} for f in result.fitted]
    files = ", ".join(result.files.values()) or "no files"
    headlines = [f"{len(result.fitted)} values fitted from {files}, as of "
                 f"{result.as_of.isoformat()}."]
    def number(x: float) -> str:  # the replay's counts and dollars, no e-notation
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"

    replay = None
    if result.replay is not None:
        from ..fit.calibrate import REPLAY_SERIES

        replay = {"start": result.replay.start.isoformat(),
                  "what": "totals over the months, and clients, MRR and technicians in the "
                          "last month",
                  "rows": [(f"{REPLAY_SERIES[k]} ({t['what']})", number(t["actual"]),
                            number(t["q50"]), f"{number(t['q05'])} to {number(t['q95'])}")
                           for k, t in result.replay.totals.items()]}
    return render_page(
        "fit.html", title=title or "msp-sim fit: your MSP from your data", headlines=headlines,
        warnings=result.warnings, rows=rows, replay=replay,
        not_fitted=list(fit_summary(result)["not_fitted"].items()),
        figures=figures, glossary=terms("90% interval", "never within the horizon"))


def render_backtest(result: BacktestResult, figures: Sequence[ReportFigure] | None = None,
                    title: str | None = None) -> str:
    """The backtest report as one self-contained HTML page."""
    from ..fit.backtest import SERIES

    if figures is None:
        figures = [ReportFigure("backtest", "Predicted (bands, median) against what happened",
                                png_bytes(backtest_chart(result)))]

    def cell(name: str, x: float) -> str:
        return money(x) if name == "mrr_managed" else f"{x:,.0f}"

    series = []
    for name, s in result.series.items():
        rows = [(s["months"][k], cell(name, s["actual"][k]), cell(name, s["q50"][k]),
                 f"{cell(name, s['q25'][k])} to {cell(name, s['q75'][k])}",
                 f"{cell(name, s['q05'][k])} to {cell(name, s['q95'][k])}",
                 f"{s['pit'][k]:.2f}") for k in range(len(s["months"]))]
        words, unit = SERIES[name]
        series.append({"title": f"{words[0].upper()}{words[1:]} ({unit})", "rows": rows})
    return render_page(
        "backtest.html", title=title or "msp-sim backtest: the model against your last months",
        headlines=[*result.verdict(), *result.lines()], cutoff=result.cutoff.isoformat(),
        holdout=result.holdout,
        n_paths=result.n_paths, figures=figures, series=series,
        glossary=terms("median", "90% interval"))


def write_fit_report(result: FitResult, out_dir: str | Path, title: str | None = None
                     ) -> Path:
    """Write ``fit.json``, ``fit.html`` and the figures as PNG, atomically."""
    from ..fit import fit_json
    from .fit import fit_figures

    figures = fit_figures(result)
    return write_report(out_dir, FIT_FILES, {FIT_JSON: fit_json(result),
                                             FIT_HTML: render_fit(result, figures, title)},
                        figures)


def write_backtest(result: BacktestResult, out_dir: str | Path, title: str | None = None
                   ) -> Path:
    """Write ``backtest.json``, ``backtest.html`` and ``backtest.png``, atomically."""
    from .fit import backtest_chart
    from .style import ReportFigure, png_bytes

    figure = ReportFigure("backtest", "Predicted (bands, median) against what happened",
                          png_bytes(backtest_chart(result)))
    return write_report(out_dir, BACKTEST_FILES, {
        BACKTEST_JSON: json_text(result.to_dict()),
        BACKTEST_HTML: render_backtest(result, [figure], title),
    }, [figure])
