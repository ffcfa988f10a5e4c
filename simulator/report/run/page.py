"""A run's page: the headline, the summary table, the sections and their notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...formatting import FILTERS, money, pct, pct_short, short_money
from ...results import TIME_QUANTILES, SimulationResult
from ...results.derived import OWNER_PARTS, convergence_rows, owner_month
from ..glossary import terms
from ..levers import lever_page_rows
from ..pages import input_sections, render_page
from ..style import ReportFigure
from .advice import advice, with_uncertainty
from .figures import run_figures

if TYPE_CHECKING:
    from ...analysis.scan import LeverScanResult

__all__ = ["CLOSED_AS_ZERO", "RUN_TITLE", "closed_rule", "headline", "headline_details",
           "owner_sentence", "render_run", "summary_rows"]

RUN_TITLE = "msp-sim: MRR growth simulation"
"""Title of a run report unless one is given."""


headline = SimulationResult.headline
"""The run report's first sentence: the run's one headline
(:meth:`simulator.results.SimulationResult.headline`)."""


def _estimate_text(value: float | None, low: float | None, high: float | None) -> str:
    return f"{pct(value)} (95% CI {pct(low)} to {pct(high)})"


def summary_rows(result: SimulationResult, summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run report's summary table as ``(label, value)`` text pairs."""
    thr = money(summary["threshold_mrr"])
    months = summary["months"]
    label = result.month_label
    rows = [
        ("Paths", f"{summary['n_paths']:,}"),
        ("Horizon", f"{months} months"),
        ("Seed", str(summary["seed"])),
        ("MRR threshold", f"{thr}/month, sustained {summary['sustain_months']} month(s)"),
    ]
    for m in sorted({*map(int, summary["p_break_by_month"]), months}):  # 12, 24, 36, ...
        if m == months:
            text = _estimate_text(summary["p_break_by_horizon"],
                                  *summary["p_break_by_horizon_ci95"])
        else:
            est = result.p_break_by(m)
            text = _estimate_text(est.value, est.low, est.high)
        rows.append((f"P(break {thr} by {label(m)})", text))
    ci = summary["time_to_threshold_ci95"]
    for key, p in TIME_QUANTILES.items():
        value = summary["time_to_threshold"][key]
        lo_t, hi_t = ci[key]
        text = f"Months to {thr}: {key} ({100 * p:g}% of paths have broken it)"
        if value is None:
            rows.append((text, f"not reached by {label(months)}"))
        else:
            rows.append((text, f"{value} (95% CI {FILTERS['month'](lo_t)} to "
                                f"{FILTERS['month'](hi_t, 'beyond horizon')})"))
    rows.append(("Paths that never break it (censored)", pct(summary["censored_fraction"])))
    rows.append((f"P(out of cash and credit by {label(months)})",
                 _estimate_text(summary["p_insolvent_by_horizon"],
                                *summary["p_insolvent_by_horizon_ci95"])))
    rows.append(("MRR at start (median)", money(summary["mrr_start"]["p50"])))
    for m, q in sorted(summary["mrr_at_month"].items(), key=lambda kv: int(kv[0])):
        rows.append((f"MRR at month {m}: p10 / p50 / p90 ({CLOSED_AS_ZERO})",
                     f"{money(q['p10'])} / {money(q['p50'])} / {money(q['p90'])}"))
    final = summary["mrr_final"]
    rows.append((f"MRR at {label(months)}: mean / p5 / p50 / p95 ({CLOSED_AS_ZERO})",
                 f"{money(final['mean'])} / {money(final['p5'])} / {money(final['p50'])} / "
                 f"{money(final['p95'])}"))
    end = summary["at_horizon"]
    rows.append((f"Paths at or above the threshold at {label(months)}",
                 pct(end["p_above_threshold"])))
    rows.append((f"Pretax margin, the 12 months to {label(months)}",
                 pct(end["pretax_margin_last_12_months"])))
    rows.append((f"Gross margin, managed services / projects, the 12 months to {label(months)}",
                 f"{pct(end['managed_gross_margin_last_12_months'])} / "
                 f"{pct(end['projects_gross_margin_last_12_months'])}"))
    rows.append((f"Cash at {label(months)}: p10 / p50 / p90",
                 f"{money(end['cash_p10'])} / {money(end['cash_p50'])} / "
                 f"{money(end['cash_p90'])}"))
    return rows


def owner_sentence(result: SimulationResult) -> str:
    """What takes the owner's time, in one sentence: "By month 24 escalations and overflow
    tickets take 70% of your month; meetings fall from 5.0 to 1.2 a month." """
    data = owner_month(result)
    m = data["month"]
    share = data["share"]
    tickets = share["owner_escalation_hours"] + share["owner_overflow_hours"]
    other = sorted(((share[name], label) for name, label in OWNER_PARTS
                    if name in ("owner_management_hours", "owner_account_hours")),
                   reverse=True)
    meetings = data["meetings"]
    first = float(meetings[1]) if result.months >= 1 else 0.0
    return (f"By {result.month_label(m)} escalations and tickets the technicians could not "
            f"take use {pct_short(tickets)} of your month, {other[0][1]} "
            f"{pct_short(other[0][0])} and {other[1][1]} {pct_short(other[1][0])}; selling "
            f"gets {pct_short(share['owner_sales_hours'])}. Meetings go from {first:.1f} a "
            f"month in month 1 to {float(meetings[m]):.1f} (with the selling hours you "
            f"intend, and any salespeople at full speed: {data['meetings_possible']:.1f}). "
            "The average of the simulated futures.")


CLOSED_AS_ZERO = "closed businesses count as $0"
"""The one rule for insolvent paths, as the tables say it."""


def closed_rule(result: SimulationResult) -> str:
    """The rule for insolvent paths in words, with the run's share of them: said under
    every figure and table it shapes."""
    share = result.p_insolvent_by(result.months).value
    return (f"A future whose cash and credit run out closes ({pct(share)} of the futures by "
            f"{result.month_label(result.months)}): from that month on it counts as $0 MRR, $0 "
            "revenue and no customers, and its cash stays at the deficit it closed with, in "
            "every figure and table of this report.")


def headline_details(result: SimulationResult, summary: Mapping[str, Any]) -> list[str]:
    """The lines under the headline: the chance by each month a reader looks for, and the
    business at the horizon (median MRR, pretax margin, cash)."""
    chances = []
    for m in sorted(summary["p_break_by_month"], key=int):
        est = result.p_break_by(int(m))
        chances.append(f"by {result.month_label(int(m))}: {pct_short(est.value)}")
    end = summary["at_horizon"]
    margin = end["pretax_margin_last_12_months"]
    closed = (" (at least half of the futures have closed or lost every customer by then; a "
              "closed business counts as $0)" if end["mrr_p50"] == 0 else "")
    return [
        f"Chance to break {short_money(result.threshold_mrr)} MRR " + "; ".join(chances) + ".",
        f"At {result.month_label(result.months)}, the median business has "
        f"{money(end['mrr_p50'])} MRR{closed}, a pretax margin of {pct(margin)} over its last 12 "
        f"months (all paths together) and {money(end['cash_p50'])} in cash (median; "
        f"p10 {money(end['cash_p10'])}).",
    ]


_RUN_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("chance", "Chance of breaking the threshold",
     "Month by month, the share of simulated futures that have broken the threshold. "
     "Futures that never get there within the horizon count as not yet (statisticians call "
     "them censored and count them with the Kaplan-Meier method), so the curve ends below "
     "100% by their share. The shaded band is the 95% interval: how precisely the "
     "simulation pins the curve down."),
    ("levers", "Which lever gets you out",
     "The same business with one thing changed, simulated with the same random luck as "
     "the business as it is (so the difference is the lever, not chance). Bars and "
     "brackets: the change in the chance of breaking the threshold by the horizon, with "
     "its 95% interval; beside each, what the lever does to pretax profit summed over the "
     "horizon (what it costs or earns). Each lever's overrides can be re-run with "
     "msp-sim compare."),
    ("mrr", "MRR",
     "Monthly recurring revenue (managed services and cloud commissions) across the "
     "simulated futures: the line is the median future, the dark band holds the middle half "
     "of the futures, the light band 9 in 10."),
    ("owner", "Where the owner's month goes", ""),
    ("mix", "Revenue mix",
     "Shares of the average business's revenue by line. Service Leadership (seed 002) relates "
     "the mix of products / projects / managed services to average (best-in-class) pretax "
     "profit: 50/40/10 about 4.5% (13%), 30/40/30 about 7.8% (16.5%), 22-25/22-25/rest about "
     "11% (21-22%). Cloud commissions are counted with managed services there."),
    ("operations", "Tickets, utilization and headcount",
     "The help desk's load and who carries it: utilization above 1 means the technicians "
     "are asked for more hours than they have (overtime, then work left undone, which "
     "drives clients away)."),
    ("money", "Profit and cash",
     "Cash below zero is money drawn on the credit line; a future whose cash and credit run "
     "out closes."),
    ("convergence", "Convergence", ""),
)


def render_run(
    result: SimulationResult,
    figures: Sequence[ReportFigure] | None = None,
    summary: Mapping[str, Any] | None = None,
    title: str | None = None,
    levers: LeverScanResult | None = None,
    sources: Mapping[str, str] | None = None,
) -> str:
    """The run report as one self-contained HTML page.

    Parameters
    ----------
    result : SimulationResult
        The run (a ``convergence`` attribute adds the convergence section).
    figures : sequence of ReportFigure, optional
        Default :func:`~simulator.report.run.run_figures`; figures of an
        unknown section go under "Figures".
    summary : mapping, optional
        ``result.summary()`` if already computed.
    title : str, optional
        The page's title (default :data:`RUN_TITLE`).
    levers : LeverScanResult, optional
        The run's lever scan: its chart and table.
    sources : mapping, optional
        Where each value the config sets comes from
        (:func:`simulator.config.describe.config_sources`), shown in the inputs.
    """
    summary = with_uncertainty(result, result.summary() if summary is None else summary)
    if levers is not None and "levers" not in summary:
        summary["levers"] = levers.to_dict()
    figures = run_figures(result, levers) if figures is None else figures
    convergence = [(f"{r['paths']:,}", pct(r["estimate"]), f"{100 * r['half_width']:.2f} pp")
                   for r in convergence_rows(result)]
    sections = []
    closed_share = result.p_insolvent_by(result.months).value or 0.0
    for key, section_title, note in (*_RUN_SECTIONS, ("other", "Figures", "")):
        if key == "owner":
            note = owner_sentence(result)
        if key in ("mrr", "money"):
            note = f"{note} {closed_rule(result)}"
            if key == "mrr" and summary["mrr_final"]["p50"] == 0:
                note += (" The median falls to $0 because at least half of the futures "
                         "have closed or lost every customer by the horizon.")
        elif key in ("owner", "mix", "operations") and closed_share >= 0.05:
            note = (f"{note} Closed futures ({pct(closed_share)}) count here as zero hours, "
                    "revenue, tickets and staff from the month they close.")
        shown = [f for f in figures if f.section == key
                 or (key == "other" and f.section not in {s[0] for s in _RUN_SECTIONS})]
        if shown or (key == "convergence" and convergence) or (key == "levers" and levers):
            sections.append({"key": key, "title": section_title, "note": note,
                             "figures": shown})
    return render_page(
        "run.html", title=title or RUN_TITLE, headline=result.headline(),
        advice=advice(summary),
        details=headline_details(result, summary),
        summary_rows=summary_rows(result, summary),
        sections=sections, convergence=convergence, levers=lever_page_rows(levers),
        lever_lines=[] if levers is None else [
            *levers.lines(), *levers.to_dict()["value_of_information"]["lines"]],
        levers_month=(levers.scan_month if levers and levers.scan_month != result.months
                      else None), months=result.months,
        inputs=input_sections(result.config, sources),
        seed=summary["seed"], config_sha256=summary["config_sha256"],
        version=summary["version"],
        glossary=terms("path", "luck", "what you haven't measured", "assumption",
                       "95% interval", "median", "p10 / p50 / p90",
                       "never within the horizon", "out of cash and credit", "pretax margin",
                       *(("percentage points (pp)", "paired difference") if levers else ())))

