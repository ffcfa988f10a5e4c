"""``results.xlsx``: the numbers of a report as a workbook a person opens in Excel.

Written with openpyxl (no pandas needed). A run's workbook has the sheets
``Summary`` (the headline numbers of ``summary.json``, one per row, with
their 95% intervals), ``Levers`` (the lever scan, when the run has one),
``Monthly`` (per-month quantiles of the main metrics in wide form, one row a
month) and ``Inputs`` (every config key with its value, unit and source). A
comparison's workbook has ``Scenarios`` (its scenario table) and ``Inputs``
(the keys whose values differ).

Every numeric column carries a number format (probabilities as ``58.8%``,
money as ``$1,234`` / ``-$88,850``, counts and months as whole numbers),
numbers are stored as numbers (the Inputs sheet's too), and every header of a
sheet is unique, so the workbook reads right in Excel and LibreOffice without
reformatting (issue 26). Closed businesses (out of cash and credit) count as
$0 MRR from the month they close, as everywhere; the headers say so where it
matters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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


PCT = "0.0%"
"""Number format of probabilities and shares."""
MONEY = '"$"#,##0;-"$"#,##0'
"""Number format of dollars (``$1,234``, ``-$88,850``)."""
COUNT = "#,##0"
"""Number format of counts, months and whole numbers."""
DECIMAL = "#,##0.00"
"""Number format of other quantities."""
PVALUE = "0.0000"
"""Number format of p-values."""

Format = str | None | Callable[[Sequence[Any], Any], str | None]
"""A column's number format: a format, ``None`` (text) or a function of the row and the
cell's value."""


def _sheet(workbook: Any, title: str, header: Sequence[str],
           rows: Iterable[Sequence[Any]], formats: Sequence[Format]) -> None:
    """A sheet: a bold header row (each header unique), then ``rows``, each column's
    numbers in its number format."""
    from openpyxl.styles import Font

    if len(set(header)) != len(header):
        raise ValueError(f"sheet {title}: repeated headers {list(header)}")
    if len(formats) != len(header):
        raise ValueError(f"sheet {title}: {len(formats)} formats for {len(header)} columns")
    ws = workbook.create_sheet(title)
    ws.append([_text(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        row = [_text(v) if isinstance(v, str) else v for v in row]
        ws.append(row)
        for cell, fmt in zip(ws[ws.max_row], formats, strict=False):
            fmt = fmt(row, cell.value) if callable(fmt) else fmt
            if fmt is not None and isinstance(cell.value, int | float) \
                    and not isinstance(cell.value, bool):
                cell.number_format = fmt
    for line in ws.iter_rows():  # every string is text, never a formula (`=cmd|...`)
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value[:1] in _FORMULA_START:
                    cell.quotePrefix = True  # and stays text when Excel edits it
    ws.freeze_panes = "A2"
    for column, name in zip(ws.columns, header, strict=False):
        width = max([len(str(name))] + [len(str(c.value)) for c in column[1:200]
                                         if c.value is not None and not isinstance(
                                             c.value, float)] + [12])
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


def _lever_rows(scan: LeverScanResult) -> tuple[list[str], list[Format], list[list[Any]]]:
    data = scan.to_dict()
    h, m = str(data["months"]), str(data["scan_month"])
    by_h = f"P(break by month {h})"
    header = ([f"P(break by month {m})"] if m != h else []) + [
        by_h, f"{by_h}, 95% low", f"{by_h}, 95% high",
        f"change in {by_h}", "change, 95% low", "change, 95% high", "median months",
        "cumulative pretax profit [$]", "change in profit [$]",
        "change in profit, 95% low [$]", "change in profit, 95% high [$]",
        f"P(out of cash and credit by month {h})", "change in P(out of cash and credit)",
        "owner value, mean [$]", "change in owner value [$]", "change, 95% low [$]",
        "change, 95% high [$]", "P(pays off)", "spend [$/month]", "owner hours [hours/month]",
        "cost, risk and break-even"]
    formats: list[Format] = [*[PCT] * (7 if m != h else 6), COUNT, *[MONEY] * 4, *[PCT] * 2,
                             *[MONEY] * 4, PCT, MONEY, COUNT, None]
    rows = []
    for name, e in [("as is", data["as_is"])] + [(e["name"], e) for e in data["levers"]]:
        d = e.get("difference")
        rows.append([
            name, *([e["p_break_by"][m]["value"]] if m != h else []),
            e["p_break_by"][h]["value"], *e["p_break_by"][h]["ci95"],
            *([None] * 3 if d is None else [d["p_break_by_horizon"]["value"],
                                            *d["p_break_by_horizon"]["ci95"]]),
            e["median_months"]["value"], e["cumulative_profit_mean"]["value"],
            *([None] * 3 if d is None else [d["cumulative_profit_mean"]["value"],
                                            *d["cumulative_profit_mean"]["ci95"]]),
            e["p_insolvent"]["value"], None if d is None else d["p_insolvent"]["value"],
            e["owner_value_mean"]["value"],
            *([None] * 3 if d is None else [d["owner_value_mean"]["value"],
                                            *d["owner_value_mean"]["ci95"]]),
            None if d is None else e["p_pays_off"]["value"],
            None if d is None else e["cost"].get("dollars_per_month"),
            None if d is None else e["cost"].get("owner_hours_per_month"),
            "" if d is None else "; ".join(x for x in (e["cost"].get("cost"),
                                                       e["cost"].get("risk"),
                                                       e["break_even"]) if x),
            "" if d is None else "; ".join(f"{k} = {v}" for k, v in e["set"].items()),
        ])
    return ["lever", *header, "overrides (dotted keys)"], [None, *formats, None], rows


_MONTHLY_FORMATS: dict[str, str] = {
    "mrr": MONEY, "customers": COUNT, "techs": COUNT, "tickets": COUNT, "utilization": PCT,
    "owner_sales_hours": COUNT, "revenue_managed": MONEY, "revenue_products": MONEY,
    "revenue_projects": MONEY, "pretax_profit": MONEY, "cash": MONEY,
}


def _input_value(config: Any, key: str, text: str) -> Any:
    """An Inputs cell: the number itself where the key holds one, else the words."""
    try:
        raw = config.get(key)
    except (AttributeError, ValueError):
        return text
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return int(raw) if float(raw).is_integer() else float(raw)
    return text


def _input_format(row: Sequence[Any], value: Any) -> str | None:
    unit = str(row[2])
    if not isinstance(value, int | float):
        return None
    if unit.startswith("$"):
        return MONEY
    if row[0] == "simulation.seed":
        return "0"
    return COUNT if isinstance(value, int) else "#,##0.0###"


def _number_or_text(text: Any) -> Any:
    """A value written as words: the number when it is a plain number (``"1"``,
    ``"0.12"``), else the words."""
    if isinstance(text, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text.strip()):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return text


def _plain_number_format(row: Sequence[Any], value: Any) -> str:
    return COUNT if isinstance(value, int) else "#,##0.0###"


def inputs_rows(config: Any, sources: Mapping[str, str] | None = None
                ) -> list[tuple[Any, ...]]:
    """The Inputs sheet's rows: key, value (a number where it is one), unit, source (where
    the value comes from: ``sources``, the config, or the default's source)."""
    return [(r.key, _input_value(config, r.key, r.value), r.unit, r.source)
            for r in config_rows(config, sources=sources)]


def run_workbook(result: SimulationResult, summary: Mapping[str, Any],
                 levers: LeverScanResult | None = None,
                 sources: Mapping[str, str] | None = None) -> bytes:
    """The run's ``results.xlsx`` as bytes."""
    workbook = _new()
    _sheet(workbook, "Summary", ["quantity", "value", "95% low", "95% high"],
           summary_rows(summary), [None, _summary_format, _summary_format, _summary_format])
    if levers is not None:
        lever_header, lever_formats, lever_rows = _lever_rows(levers)
        _sheet(workbook, "Levers", lever_header, lever_rows, lever_formats)
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
    _sheet(workbook, "Monthly", header, rows, formats)
    _sheet(workbook, "Inputs", ["key", "value", "unit", "source"],
           inputs_rows(result.config, sources), [None, _input_format, None, None])
    return _bytes(workbook)


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
    workbook = _new()
    _sheet(workbook, "Scenarios", header, frame_rows, formats)
    _sheet(workbook, "Inputs", ["key"] + comp.names,
           [[key, *map(_number_or_text, values)] for key, values in comp.differing_inputs()],
           [None] + [_plain_number_format] * len(comp.names))
    return _bytes(workbook)


def portfolio_workbook(result: PortfolioResult) -> bytes:
    """A portfolio's ``portfolio.xlsx``: MSPs, the count by month and (with levers) Levers."""
    data = result.to_dict()
    scan = min(36, result.months)
    h = result.months
    workbook = _new()
    by_h = f"P(break by month {h})"
    _sheet(workbook, "MSPs", ["msp", *([f"P(break by month {scan})"] if scan != h else []),
                              by_h, f"{by_h}, 95% low", f"{by_h}, 95% high", "median months",
                              f"P(out of cash and credit by month {h})"],
           [[e["name"], *([e[f"p_break_by_{scan}"]] if scan != h else []),
             e["p_break_by_horizon"], *e["p_break_by_horizon_ci95"], e["median_months"],
             e["p_insolvent"]] for e in data["msps"]],
           [None] + [PCT] * (4 if scan != h else 3) + [COUNT, PCT])
    counts = data["portfolio"]
    _sheet(workbook, "Portfolio", ["month", "expected MSPs past the threshold", "95% low",
                                   "95% high"],
           [[t, counts["expected_breaking_by_month"][t],
             *counts["breaking_by_month_ci95"][t]] for t in range(result.months + 1)],
           [COUNT, DECIMAL, COUNT, COUNT])
    if data.get("levers"):
        _sheet(workbook, "Levers", ["lever", "additional MSPs by the horizon", "95% low",
                                    "95% high", "MSPs it helps"],
               [[r["name"], r["additional_msps_breaking"], *r["ci95"], r["msps_helped"]]
                for r in data["levers"]], [None, DECIMAL, DECIMAL, DECIMAL, COUNT])
    return _bytes(workbook)
