"""What each report writes, and the writing: every file through :mod:`simulator.output`.

A run's report goes into the run's staged output directory
(:func:`write_outputs` calls :func:`write_run_report`);
a comparison, a sensitivity analysis and a goal seek each write their own
directory all or nothing (:func:`simulator.output.write_directory`), which
replaces an earlier one only when it holds nothing but the files named here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..output import (
    BACKTEST_FILES,
    BACKTEST_HTML,
    BACKTEST_JSON,
    COMPARE_FILES,
    COMPARISON_JSON,
    FAN_CHART,
    FIT_FILES,
    FIT_HTML,
    FIT_JSON,
    GOAL_CHART,
    GOAL_FILES,
    GOAL_HTML,
    GOAL_JSON,
    INDICES_PNG,
    MRR_FAN_CHART,
    P_BREAK_CHART,
    PATHS_NPZ,
    PORTFOLIO_FILES,
    QUANTILES_CSV,
    REPORT_HTML,
    RESULTS_XLSX,
    SENSITIVITY_FILES,
    SENSITIVITY_HTML,
    SENSITIVITY_JSON,
    SUMMARY_JSON,
    TIME_CHART,
    TORNADO_PNG,
    json_text,
    write_directory,
)
from .compare import comparison_figures
from .goal import goal_figures
from .pages import (
    render_backtest,
    render_comparison,
    render_fit,
    render_goal,
    render_portfolio,
    render_run,
    render_sensitivity,
)
from .run import run_figures
from .sensitivity import sensitivity_figures
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
    "write_outputs",
    "write_run_report",
    "write_sensitivity",
]





def write_fit_report(result: FitResult, out_dir: str | Path, title: str | None = None
                     ) -> Path:
    """Write ``fit.json``, ``fit.html`` and the figures as PNG, atomically."""
    from ..fit import fit_json
    from .fit import fit_figures

    figures = fit_figures(result)
    files: dict[str, str | bytes] = {FIT_JSON: fit_json(result),
                                     FIT_HTML: render_fit(result, figures, title)}
    for f in figures:
        files[f"{f.section}.png"] = f.png
    return write_directory(out_dir, files, FIT_FILES)




def write_backtest(result: BacktestResult, out_dir: str | Path, title: str | None = None
                   ) -> Path:
    """Write ``backtest.json``, ``backtest.html`` and ``backtest.png``, atomically."""
    from .fit import backtest_chart
    from .style import ReportFigure, png_bytes

    png = png_bytes(backtest_chart(result))
    figure = ReportFigure("backtest", "Predicted (bands, median) against what happened", png)
    return write_directory(out_dir, {
        BACKTEST_JSON: json_text(result.to_dict()),
        BACKTEST_HTML: render_backtest(result, [figure], title),
        "backtest.png": png,
    }, BACKTEST_FILES)




def write_portfolio(result: PortfolioResult, out_dir: str | Path, title: str | None = None
                    ) -> Path:
    """Write ``portfolio.json``, ``portfolio.html``, ``portfolio.xlsx`` and the figure."""
    from .portfolio import portfolio_chart
    from .style import ReportFigure, png_bytes

    png = png_bytes(portfolio_chart(result))
    figure = ReportFigure("portfolio", "MSPs past the threshold by month, and their chances",
                          png)
    return write_directory(out_dir, {
        "portfolio.json": json_text(result.to_dict()),
        "portfolio.html": render_portfolio(result, [figure], title),
        "portfolio.xlsx": portfolio_workbook(result),
        "portfolio.png": png,
    }, PORTFOLIO_FILES)


def write_outputs(
    result: SimulationResult,
    out_dir: str | Path,
    save_paths: bool = True,
    title: str | None = None,
    levers: Any = None,
    by: Sequence[int] = (),
) -> Path:
    """Write every output file of a run into ``out_dir``, atomically.

    Parameters
    ----------
    result : SimulationResult
        The run.
    out_dir : str or Path
        Target directory; created, or replaced if it holds only msp-sim outputs.
    save_paths : bool
        Write ``paths.npz`` (default): with every trajectory when the run kept
        them (runs up to :data:`simulator.results.KEEP_PATHS_LIMIT` paths unless
        told otherwise), else with the first-passage and insolvency months only.
    title : str, optional
        Title of ``report.html`` (default: the report layer's).
    levers : LeverScanResult, optional
        The run's lever scan (:func:`simulator.analysis.levers.lever_scan`):
        ``summary.json`` gets its ``levers`` block and the report its section.
    by : sequence of int
        Months whose P(break) the summary and the report add to 12, 36 and the horizon.

    Returns
    -------
    Path
        The output directory.

    Raises
    ------
    OutputDirError
        See :func:`check_out_dir`; nothing is written.
    """
    # read from simulator.output at call time: the writers are patched there in tests
    from ..output import staged_directory, write_paths, write_quantiles_csv, write_summary

    with staged_directory(out_dir) as tmp:
        summary = result.summary(by)
        if levers is not None:
            summary["levers"] = levers.to_dict()
        write_summary(summary, tmp / SUMMARY_JSON)
        write_quantiles_csv(result, tmp / QUANTILES_CSV)
        if save_paths:
            write_paths(result, tmp / PATHS_NPZ)
        write_run_report(result, tmp, summary, title, levers)
    return Path(out_dir).absolute()


def write_run_report(
    result: SimulationResult,
    out_dir: str | Path,
    summary: Mapping[str, Any] | None = None,
    title: str | None = None,
    levers: LeverScanResult | None = None,
) -> list[Path]:
    """Write ``report.html``, ``results.xlsx``, ``fan_chart.png`` and
    ``time_to_threshold.png`` into ``out_dir``.

    ``out_dir`` exists (the run's staged directory); the page embeds every
    figure, and the two charts are also written as files. Returns the paths.
    """
    out = Path(out_dir)
    summary = result.summary() if summary is None else summary
    (out / RESULTS_XLSX).write_bytes(run_workbook(result, summary, levers))
    figures = run_figures(result, levers)
    png = {f.section: f.png for f in figures}
    (out / FAN_CHART).write_bytes(png["mrr"])
    (out / TIME_CHART).write_bytes(png["chance"])
    (out / REPORT_HTML).write_text(render_run(result, figures, summary, title, levers),
                                   encoding="utf-8")
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
