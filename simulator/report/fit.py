"""The figures of a fit of a business's own records and of its backtest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    BLUE,
    RED,
    ReportFigure,
    figure,
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
    "tenure_chart",
    "tickets_by_month_chart",
]


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
