"""What each report writes, and the writing: every file through :mod:`simulator.output`.

A run's report goes into the run's staged output directory
(:func:`simulator.output.write_outputs` calls :func:`write_run_report`);
a comparison, a sensitivity analysis and a goal seek each write their own
directory all or nothing (:func:`simulator.output.write_directory`), which
replaces an earlier one only when it holds nothing but the files named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..output import (
    FAN_CHART,
    REPORT_HTML,
    RESULTS_XLSX,
    TIME_CHART,
    json_text,
    write_directory,
)
from .figures import comparison_figures, goal_figures, run_figures, sensitivity_figures
from .pages import (
    render_backtest,
    render_comparison,
    render_fit,
    render_goal,
    render_portfolio,
    render_run,
    render_sensitivity,
)
from .workbook import comparison_workbook, portfolio_workbook, run_workbook

if TYPE_CHECKING:
    from ..analysis.compare import ComparisonResult
    from ..analysis.goal import GoalResult
    from ..analysis.levers import LeverScanResult
    from ..analysis.portfolio import PortfolioResult
    from ..analysis.sensitivity import SensitivityResult
    from ..fit.backtest import BacktestResult
    from ..fit.estimate import FitResult
    from ..results import SimulationResult

__all__ = [
    "COMPARE_FILES",
    "COMPARISON_JSON",
    "GOAL_FILES",
    "GOAL_HTML",
    "GOAL_JSON",
    "BACKTEST_FILES",
    "PORTFOLIO_FILES",
    "FIT_FILES",
    "SENSITIVITY_FILES",
    "SENSITIVITY_HTML",
    "SENSITIVITY_JSON",
    "write_backtest",
    "write_comparison",
    "write_portfolio",
    "write_fit_report",
    "write_goal",
    "write_run_report",
    "write_sensitivity",
]

COMPARISON_JSON = "comparison.json"
P_BREAK_CHART = "p_break.png"
MRR_FAN_CHART = "mrr_fan.png"
COMPARE_FILES: frozenset[str] = frozenset(
    {COMPARISON_JSON, P_BREAK_CHART, MRR_FAN_CHART, REPORT_HTML, RESULTS_XLSX})
"""Every file a comparison's output directory may hold."""

SENSITIVITY_JSON = "sensitivity.json"
TORNADO_PNG = "tornado.png"
INDICES_PNG = "sensitivity_indices.png"
SENSITIVITY_HTML = "sensitivity.html"
SENSITIVITY_FILES: frozenset[str] = frozenset(
    {SENSITIVITY_JSON, TORNADO_PNG, INDICES_PNG, SENSITIVITY_HTML})
"""Every file a sensitivity analysis's output directory may hold."""

GOAL_JSON = "goal.json"
GOAL_CHART = "goal.png"
GOAL_HTML = "goal.html"
GOAL_FILES: frozenset[str] = frozenset({GOAL_JSON, GOAL_CHART, GOAL_HTML})
"""Every file a goal seek's output directory may hold."""


FIT_JSON = "fit.json"
FIT_HTML = "fit.html"
FIT_FILES: frozenset[str] = frozenset({FIT_JSON, FIT_HTML, "tenure.png", "tickets.png"})
"""Every file a fit report's directory may hold."""


def write_fit_report(result: FitResult, out_dir: str | Path, title: str | None = None
                     ) -> Path:
    """Write ``fit.json``, ``fit.html`` and the figures as PNG, atomically."""
    from ..fit import fit_json
    from .figures import fit_figures

    figures = fit_figures(result)
    files: dict[str, str | bytes] = {FIT_JSON: fit_json(result),
                                     FIT_HTML: render_fit(result, figures, title)}
    for f in figures:
        files[f"{f.section}.png"] = f.png
    return write_directory(out_dir, files, FIT_FILES)


BACKTEST_JSON = "backtest.json"
BACKTEST_HTML = "backtest.html"
BACKTEST_FILES: frozenset[str] = frozenset({BACKTEST_JSON, BACKTEST_HTML, "backtest.png"})
"""Every file a backtest's directory may hold."""


def write_backtest(result: BacktestResult, out_dir: str | Path, title: str | None = None
                   ) -> Path:
    """Write ``backtest.json``, ``backtest.html`` and ``backtest.png``, atomically."""
    from .figures import ReportFigure, backtest_chart, png_bytes

    png = png_bytes(backtest_chart(result))
    figure = ReportFigure("backtest", "Predicted (bands, median) against what happened", png)
    return write_directory(out_dir, {
        BACKTEST_JSON: json_text(result.to_dict()),
        BACKTEST_HTML: render_backtest(result, [figure], title),
        "backtest.png": png,
    }, BACKTEST_FILES)


PORTFOLIO_FILES: frozenset[str] = frozenset(
    {"portfolio.json", "portfolio.html", "portfolio.xlsx", "portfolio.png"})
"""Every file a portfolio's directory may hold."""


def write_portfolio(result: PortfolioResult, out_dir: str | Path, title: str | None = None
                    ) -> Path:
    """Write ``portfolio.json``, ``portfolio.html``, ``portfolio.xlsx`` and the figure."""
    from .figures import ReportFigure, png_bytes, portfolio_chart

    png = png_bytes(portfolio_chart(result))
    figure = ReportFigure("portfolio", "MSPs past the threshold by month, and their chances",
                          png)
    return write_directory(out_dir, {
        "portfolio.json": json_text(result.to_dict()),
        "portfolio.html": render_portfolio(result, [figure], title),
        "portfolio.xlsx": portfolio_workbook(result),
        "portfolio.png": png,
    }, PORTFOLIO_FILES)


def write_run_report(
    result: SimulationResult,
    out_dir: str | Path,
    summary: Mapping[str, Any] | None = None,
    title: str | None = None,
    levers: LeverScanResult | None = None,
    sources: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``report.html``, ``results.xlsx``, ``fan_chart.png`` and
    ``time_to_threshold.png`` into ``out_dir``.

    ``out_dir`` exists (the run's staged directory); the page embeds every
    figure, and the two charts are also written as files. Returns the paths.
    """
    out = Path(out_dir)
    summary = result.summary() if summary is None else summary
    (out / RESULTS_XLSX).write_bytes(run_workbook(result, summary, levers, sources))
    figures = run_figures(result, levers)
    png = {f.section: f.png for f in figures}
    (out / FAN_CHART).write_bytes(png["mrr"])
    (out / TIME_CHART).write_bytes(png["chance"])
    (out / REPORT_HTML).write_text(render_run(result, figures, summary, title, levers,
                                              sources), encoding="utf-8")
    return [out / FAN_CHART, out / TIME_CHART, out / REPORT_HTML, out / RESULTS_XLSX]


def write_comparison(comp: ComparisonResult, out_dir: str | Path) -> Path:
    """Write ``comparison.json``, ``report.html``, ``results.xlsx`` and the two PNG figures,
    atomically."""
    figures = comparison_figures(comp)
    png = {f.section: f.png for f in figures}
    return write_directory(out_dir, {
        COMPARISON_JSON: json_text(comp.to_dict()),
        P_BREAK_CHART: png["p_break"],
        MRR_FAN_CHART: png["fans"],
        REPORT_HTML: render_comparison(comp, figures),
        RESULTS_XLSX: comparison_workbook(comp),
    }, COMPARE_FILES)


def write_sensitivity(result: SensitivityResult, out_dir: str | Path,
                      title: str | None = None) -> Path:
    """Write ``sensitivity.json``, ``tornado.png``, the indices chart and ``sensitivity.html``.

    All files go to a temporary directory next to ``out_dir`` that replaces
    it only when complete, so a failure leaves ``out_dir`` as it was.

    Raises
    ------
    simulator.output.OutputDirError
        ``out_dir`` is a file or holds other files; nothing is written.
    """
    figures = sensitivity_figures(result)
    png = {f.section: f.png for f in figures}
    return write_directory(out_dir, {
        SENSITIVITY_JSON: json_text(result.to_dict()),
        TORNADO_PNG: png["tornado"],
        INDICES_PNG: png["indices"],
        SENSITIVITY_HTML: render_sensitivity(result, figures, title),
    }, SENSITIVITY_FILES)


def write_goal(result: GoalResult, out_dir: str | Path, title: str | None = None) -> Path:
    """Write ``goal.json``, ``goal.png`` and ``goal.html`` into ``out_dir``, atomically."""
    figures = goal_figures(result)
    return write_directory(out_dir, {
        GOAL_JSON: json_text(result.to_dict()),
        GOAL_CHART: figures[0].png,
        GOAL_HTML: render_goal(result, figures, title),
    }, GOAL_FILES)
