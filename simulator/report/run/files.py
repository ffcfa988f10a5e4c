"""A run's files: ``results.xlsx`` (its sheets), the charts, ``report.html``, and
the writing of the whole run directory (:func:`write_outputs`), all or nothing
through :mod:`simulator.output`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...formatting import calendar_month
from ...output import (
    FAN_CHART,
    PATHS_NPZ,
    QUANTILES_CSV,
    REPORT_HTML,
    RESULTS_XLSX,
    SUMMARY_JSON,
    TIME_CHART,
)
from ..child import Drawing
from ..levers import lever_sheet_rows
from ..style import ReportFigure
from ..workbook import (
    COUNT,
    MONEY,
    PCT,
    Format,
    input_format,
    inputs_rows,
    new_workbook,
    sheet,
    workbook_bytes,
)
from .advice import with_uncertainty
from .figures import run_figures
from .page import render_run

if TYPE_CHECKING:
    from ...analysis.scan import LeverScanResult
    from ...results import SimulationResult

__all__ = ["MONTHLY_COLUMNS", "run_workbook", "summary_rows", "write_outputs",
           "write_run_report"]

MONTHLY_COLUMNS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("mrr", (0.1, 0.5, 0.9)),
    ("customers", (0.5,)),
    ("techs", (0.5,)),
    ("tickets", (0.5,)),
    ("utilization", (0.5,)),
    ("owner_sales_hours", (0.5,)),
    ("revenue_managed", (0.5,)),
    ("revenue_products", (0.5,)),
    ("revenue_projects", (0.5,)),
    ("pretax_profit", (0.1, 0.5, 0.9)),
    ("cash", (0.1, 0.5, 0.9)),
)
"""The metrics of the ``Monthly`` sheet and the quantiles of each."""



def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """``(quantity, value, 95% low, 95% high)`` rows of a run's ``summary.json``, in the
    order of the months (12, 24, 36, ..., the horizon)."""
    months = summary["months"]
    rows: list[tuple[str, Any, Any, Any]] = [
        ("paths", summary["n_paths"], None, None),
        ("months", months, None, None),
        ("seed", summary["seed"], None, None),
        ("threshold MRR [$/month]", summary["threshold_mrr"], None, None),
    ]
    for m, value in sorted(summary["p_break_by_month"].items(), key=lambda kv: int(kv[0])):
        if int(m) != months:
            rows.append((f"P(break by month {m})", value, None, None))
    rows.append((f"P(break by month {months})", summary["p_break_by_horizon"],
                 *summary["p_break_by_horizon_ci95"]))
    for key, value in summary["time_to_threshold"].items():
        low, high = summary["time_to_threshold_ci95"][key]
        rows.append((f"months to the threshold, {key} (empty: not reached)", value, low, high))
    rows.append(("share of paths that never break it", summary["censored_fraction"], None,
                 None))
    rows.append((f"P(out of cash and credit by month {months})",
                 summary["p_insolvent_by_horizon"], *summary["p_insolvent_by_horizon_ci95"]))
    end = summary["at_horizon"]
    closed = "closed businesses count as $0"
    rows += [
        (f"median MRR at month {months} [$/month] ({closed})", end["mrr_p50"], None, None),
        (f"share of paths at or above the threshold at month {months}",
         end["p_above_threshold"], None, None),
        (f"pretax margin, 12 months to month {months}", end["pretax_margin_last_12_months"],
         None, None),
        (f"managed-services gross margin, 12 months to month {months}",
         end["managed_gross_margin_last_12_months"], None, None),
        (f"projects gross margin, 12 months to month {months}",
         end["projects_gross_margin_last_12_months"], None, None),
        (f"endpoints per technician at month {months}", end["endpoints_per_tech"], None,
         None),
        (f"cash at month {months}, p10 [$]", end["cash_p10"], None, None),
        (f"cash at month {months}, p50 [$]", end["cash_p50"], None, None),
        (f"cash at month {months}, p90 [$]", end["cash_p90"], None, None),
        (f"mean MRR at month {months} [$/month] ({closed})", summary["mrr_final"]["mean"],
         None, None),
    ]
    return rows


def _summary_format(row: Sequence[Any], value: Any) -> str:
    """The number format of a Summary row, from its quantity's words."""
    quantity = str(row[0])
    if quantity.startswith(("P(", "share")) or "margin" in quantity:
        return PCT
    if "[$" in quantity:
        return MONEY
    return "0" if quantity == "seed" else COUNT


_MONTHLY_FORMATS: dict[str, str] = {
    "mrr": MONEY, "customers": COUNT, "techs": COUNT, "tickets": COUNT, "utilization": PCT,
    "owner_sales_hours": COUNT, "revenue_managed": MONEY, "revenue_products": MONEY,
    "revenue_projects": MONEY, "pretax_profit": MONEY, "cash": MONEY,
}


def run_workbook(result: SimulationResult, summary: Mapping[str, Any],
                 levers: LeverScanResult | None = None,
                 sources: Mapping[str, str] | None = None) -> bytes:
    """The run's ``results.xlsx`` as bytes."""
    workbook = new_workbook()
    sheet(workbook, "Summary", ["quantity", "value", "95% low", "95% high"],
           summary_rows(summary), [None, _summary_format, _summary_format, _summary_format])
    if levers is not None:
        lever_header, lever_formats, lever_rows = lever_sheet_rows(levers)
        sheet(workbook, "Levers", lever_header, lever_rows, lever_formats)
    quantiles = {name: result.quantiles(qs, metrics=[name])[name]
                 for name, qs in MONTHLY_COLUMNS}
    start = result.config.simulation.start_date
    header = ["month"] + (["calendar month"] if start is not None else [])
    formats: list[Format] = [COUNT] + ([None] if start is not None else [])
    header += [f"{name} p{100 * q:g}" for name, qs in MONTHLY_COLUMNS for q in qs]
    formats += [_MONTHLY_FORMATS[name] for name, qs in MONTHLY_COLUMNS for q in qs]
    rows = []
    for t in range(result.months + 1):
        row: list[Any] = [t] + ([calendar_month(t, start)] if start is not None else [])
        row += [float(quantiles[name][j, t]) for name, qs in MONTHLY_COLUMNS
                for j in range(len(qs))]
        rows.append(row)
    sheet(workbook, "Monthly", header, rows, formats)
    sheet(workbook, "Inputs", ["key", "value", "unit", "source"],
           inputs_rows(result.config, sources), [None, input_format, None, None])
    return workbook_bytes(workbook)


def write_outputs(
    result: SimulationResult,
    out_dir: str | Path,
    save_paths: bool = True,
    title: str | None = None,
    levers: Any = None,
    by: Sequence[int] = (),
    sources: Mapping[str, str] | None = None,
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
        The run's lever scan (:func:`simulator.analysis.scan.lever_scan`):
        ``summary.json`` gets its ``levers`` block and the report its section.
    by : sequence of int
        Months whose P(break) the summary and the report add to 12, 36 and the horizon.
    sources : mapping, optional
        Where each value the config sets comes from, by dotted key
        (:func:`simulator.config.describe.config_sources`), for the report's inputs.

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
    from ...output import staged_directory, write_paths, write_quantiles_csv, write_summary

    with staged_directory(out_dir) as tmp, \
            Drawing(lambda: run_figures(result, levers)) as figures:
        # the figures are drawn in a child process meanwhile when that is safe (.child)
        summary = with_uncertainty(result, result.summary(by))  # issue 24: both kinds
        if levers is not None:
            summary["levers"] = levers.to_dict()
        write_summary(summary, tmp / SUMMARY_JSON)
        write_quantiles_csv(result, tmp / QUANTILES_CSV)
        if save_paths:
            write_paths(result, tmp / PATHS_NPZ)
        write_run_report(result, tmp, summary, title, levers, sources, figures=figures.result)
    return Path(out_dir).absolute()


def write_run_report(
    result: SimulationResult,
    out_dir: str | Path,
    summary: Mapping[str, Any] | None = None,
    title: str | None = None,
    levers: LeverScanResult | None = None,
    sources: Mapping[str, str] | None = None,
    figures: Callable[[], list[ReportFigure]] | None = None,
) -> list[Path]:
    """Write ``report.html``, ``results.xlsx``, ``fan_chart.png`` and
    ``time_to_threshold.png`` into ``out_dir``.

    ``out_dir`` exists (the run's staged directory); the page embeds every
    figure, and the two charts are also written as files. ``figures`` gives the
    figures (:func:`run_figures`'s list) when called, after the workbook is
    written (default: draw them then). Returns the paths.
    """
    out = Path(out_dir)
    summary = result.summary() if summary is None else summary
    (out / RESULTS_XLSX).write_bytes(run_workbook(result, summary, levers, sources))
    drawn = run_figures(result, levers) if figures is None else figures()
    png = {f.section: f.png for f in drawn}
    (out / FAN_CHART).write_bytes(png["mrr"])
    (out / TIME_CHART).write_bytes(png["chance"])
    (out / REPORT_HTML).write_text(render_run(result, drawn, summary, title, levers,
                                              sources), encoding="utf-8")
    return [out / FAN_CHART, out / TIME_CHART, out / REPORT_HTML, out / RESULTS_XLSX]
