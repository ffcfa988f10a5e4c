"""``results.xlsx``: the numbers of a report as a workbook a person opens in Excel.

Written with openpyxl (no pandas needed). A run's workbook has the sheets
``Summary`` (the headline numbers of ``summary.json``, one per row, with
their 95% intervals), ``Levers`` (the lever scan, when the run has one),
``Monthly`` (per-month quantiles of the main metrics in wide form, one row a
month) and ``Inputs`` (every config key with its value, unit and source). A
comparison's workbook has ``Scenarios`` (its scenario table) and ``Inputs``
(the keys whose values differ).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config.describe import config_rows
from ..formatting import calendar_month, printable

if TYPE_CHECKING:
    from ..analysis.compare import ComparisonResult
    from ..analysis.levers import LeverScanResult
    from ..analysis.portfolio import PortfolioResult
    from ..results import SimulationResult

__all__ = ["MONTHLY_COLUMNS", "comparison_workbook", "portfolio_workbook", "run_workbook"]

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


def _sheet(workbook: Any, title: str, header: Sequence[str],
           rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl.styles import Font

    ws = workbook.create_sheet(title)
    ws.append([_text(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_text(v) if isinstance(v, str) else v for v in row])
    for line in ws.iter_rows():  # every string is text, never a formula (`=cmd|...`)
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value[:1] in _FORMULA_START:
                    cell.quotePrefix = True  # and stays text when Excel edits it
    ws.freeze_panes = "A2"
    for column, name in zip(ws.columns, header, strict=False):
        width = max([len(str(name))] + [len(str(c.value)) for c in column[1:200]
                                         if c.value is not None])
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)


_FORMULA_START = frozenset("=+-@\t\r|%")
"""First characters that make a spreadsheet read a typed string as a formula (or DDE)."""


def _text(value: Any) -> Any:
    """``value`` with control characters escaped (:func:`simulator.formatting.printable`:
    openpyxl refuses them, and they are never what a person meant to see)."""
    return printable(value) if isinstance(value, str) else value


def _bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _new() -> Any:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """``(quantity, value, 95% low, 95% high)`` rows of a run's ``summary.json``."""
    months = summary["months"]
    rows: list[tuple[str, Any, Any, Any]] = [
        ("paths", summary["n_paths"], None, None),
        ("months", months, None, None),
        ("seed", summary["seed"], None, None),
        ("threshold MRR [$/month]", summary["threshold_mrr"], None, None),
        (f"P(break by month {months})", summary["p_break_by_horizon"],
         *summary["p_break_by_horizon_ci95"]),
    ]
    for m, value in summary["p_break_by_month"].items():
        if int(m) != months:
            rows.append((f"P(break by month {m})", value, None, None))
    for key, value in summary["time_to_threshold"].items():
        low, high = summary["time_to_threshold_ci95"][key]
        rows.append((f"months to the threshold, {key} (empty: not reached)", value, low, high))
    rows.append(("share of paths that never break it", summary["censored_fraction"], None,
                 None))
    rows.append((f"P(out of cash and credit by month {months})",
                 summary["p_insolvent_by_horizon"], *summary["p_insolvent_by_horizon_ci95"]))
    end = summary["at_horizon"]
    rows += [
        (f"median MRR at month {months} [$/month]", end["mrr_p50"], None, None),
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
        (f"mean MRR at month {months} [$/month]", summary["mrr_final"]["mean"], None, None),
    ]
    return rows


def _lever_rows(scan: LeverScanResult) -> tuple[list[str], list[list[Any]]]:
    data = scan.to_dict()
    h, m = str(data["months"]), str(data["scan_month"])
    header = ["lever", f"P(break by month {m})", f"P(break by month {h})", "low", "high",
              f"change by month {h}", "low", "high", "median months", "cumulative pretax "
              "profit [$]", "change in profit [$]", "low", "high", "P(out of cash)",
              "change in P(out of cash)", "overrides (dotted keys)"]
    rows = []
    for name, e in [("as is", data["as_is"])] + [(e["name"], e) for e in data["levers"]]:
        d = e.get("difference")
        rows.append([
            name, e["p_break_by"][m]["value"], e["p_break_by"][h]["value"],
            *e["p_break_by"][h]["ci95"],
            *([None] * 3 if d is None else [d["p_break_by_horizon"]["value"],
                                            *d["p_break_by_horizon"]["ci95"]]),
            e["median_months"]["value"], e["cumulative_profit_mean"]["value"],
            *([None] * 3 if d is None else [d["cumulative_profit_mean"]["value"],
                                            *d["cumulative_profit_mean"]["ci95"]]),
            e["p_insolvent"]["value"], None if d is None else d["p_insolvent"]["value"],
            "" if d is None else "; ".join(f"{k} = {v}" for k, v in e["set"].items()),
        ])
    return header, rows


def run_workbook(result: SimulationResult, summary: Mapping[str, Any],
                 levers: LeverScanResult | None = None) -> bytes:
    """The run's ``results.xlsx`` as bytes."""
    workbook = _new()
    _sheet(workbook, "Summary", ["quantity", "value", "95% low", "95% high"],
           summary_rows(summary))
    if levers is not None:
        header, rows = _lever_rows(levers)
        _sheet(workbook, "Levers", header, rows)
    quantiles = {name: result.quantiles(qs, metrics=[name])[name]
                 for name, qs in MONTHLY_COLUMNS}
    start = result.config.simulation.start_date
    header = ["month"] + (["calendar month"] if start is not None else [])
    header += [f"{name} p{100 * q:g}" for name, qs in MONTHLY_COLUMNS for q in qs]
    rows = []
    for t in range(result.months + 1):
        row: list[Any] = [t] + ([calendar_month(t, start)] if start is not None else [])
        row += [float(quantiles[name][j, t]) for name, qs in MONTHLY_COLUMNS
                for j in range(len(qs))]
        rows.append(row)
    _sheet(workbook, "Monthly", header, rows)
    _sheet(workbook, "Inputs", ["key", "value", "unit", "source"],
           [tuple(r) for r in config_rows(result.config)])
    return _bytes(workbook)


def comparison_workbook(comp: ComparisonResult) -> bytes:
    """A comparison's ``results.xlsx`` as bytes: its scenario table and differing inputs."""
    frame_rows = []
    data = comp.to_dict()
    months = [m for m in data["scenarios"][0]["p_break_by"]]
    header = ["scenario"] + [f"P(break by month {m})" for m in months] + [
        "median months", "never within the horizon", "MRR p50 at the horizon",
        "change in P(break by the horizon)", "low", "high", "McNemar p"]
    for e in data["scenarios"]:
        d = e["difference_vs_reference"]
        frame_rows.append(
            [e["name"]] + [e["p_break_by"][m] for m in months]
            + [e["time_to_threshold"]["median"], e["time_to_threshold"]["censored_fraction"],
               e["mrr_final"]["p50"]]
            + ([None] * 4 if d is None else [d["p_break_by_horizon"]["value"],
                                             *d["p_break_by_horizon"]["ci95"],
                                             d["p_break_by_horizon"]["p_value"]]))
    workbook = _new()
    _sheet(workbook, "Scenarios", header, frame_rows)
    _sheet(workbook, "Inputs", ["key"] + comp.names,
           [[key, *values] for key, values in comp.differing_inputs()])
    return _bytes(workbook)


def portfolio_workbook(result: PortfolioResult) -> bytes:
    """A portfolio's ``portfolio.xlsx``: MSPs, the count by month and (with levers) Levers."""
    data = result.to_dict()
    scan = min(36, result.months)
    workbook = _new()
    _sheet(workbook, "MSPs", ["msp", f"P(break by month {scan})",
                              f"P(break by month {result.months})", "low", "high",
                              "median months", "P(out of cash and credit)"],
           [[e["name"], e[f"p_break_by_{scan}"], e["p_break_by_horizon"],
             *e["p_break_by_horizon_ci95"], e["median_months"], e["p_insolvent"]]
            for e in data["msps"]])
    counts = data["portfolio"]
    _sheet(workbook, "Portfolio", ["month", "expected MSPs past the threshold", "95% low",
                                   "95% high"],
           [[t, counts["expected_breaking_by_month"][t],
             *counts["breaking_by_month_ci95"][t]] for t in range(result.months + 1)])
    if data.get("levers"):
        _sheet(workbook, "Levers", ["lever", "additional MSPs by the horizon", "95% low",
                                    "95% high", "MSPs it helps"],
               [[r["name"], r["additional_msps_breaking"], *r["ci95"], r["msps_helped"]]
                for r in data["levers"]])
    return _bytes(workbook)
