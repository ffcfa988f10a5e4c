"""The report pages: Jinja2 templates with autoescaping, one per kind of report.

Each ``render_*`` function gathers what its page shows from an analysis
result (numbers, and sentences as plain text) and renders its template
(``templates/<kind>.html``, on ``base.html`` and the partials of
``_macros.html``). Jinja escapes every value, so a scenario name such as
``<script>`` is text on the page; no page is built from HTML strings here.
Figures arrive as PNG bytes and are embedded as ``data:`` URIs: a page is
one self-contained file that opens with no server and has no JavaScript.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jinja2

from ..config.describe import ConfigRow, config_rows
from ..formatting import FILTERS, money, pct, pct_short, short_money
from ..results import TIME_QUANTILES, SimulationResult
from ..results.derived import OWNER_PARTS, convergence_rows, owner_month
from ..version import package_version
from .compare import comparison_figures
from .fit import backtest_chart, fit_figures
from .glossary import TERMS, cite, terms
from .goal import goal_figures
from .portfolio import portfolio_chart
from .run import run_figures
from .sensitivity import sensitivity_figures
from .style import ReportFigure, png_bytes

if TYPE_CHECKING:
    from ..analysis.compare import ComparisonResult
    from ..analysis.goal import GoalResult
    from ..analysis.levers import LeverScanResult
    from ..analysis.portfolio import PortfolioResult
    from ..analysis.sensitivity import SensitivityResult
    from ..config import Config
    from ..fit.backtest import BacktestResult
    from ..fit.estimate import FitResult

__all__ = [
    "RUN_TITLE",
    "environment",
    "headline",
    "render_backtest",
    "render_comparison",
    "render_fit",
    "render_goal",
    "render_portfolio",
    "render_run",
    "render_sensitivity",
    "summary_rows",
]

RUN_TITLE = "msp-sim: MRR growth simulation"
"""Title of a run report unless one is given."""


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of every page: package templates, autoescaping, strict names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters["png_data_uri"] = png_data_uri
    env.filters["cite"] = cite
    env.globals["TERMS"] = TERMS
    return env


def _render(template: str, **context: Any) -> str:
    context.setdefault("version", package_version())
    return environment().get_template(template).render(**context)


def _input_sections(config: Config, sources: Mapping[str, str] | None = None
                    ) -> list[tuple[str, list[ConfigRow]]]:
    """The config's rows grouped by section, in schema order, each with where its value
    comes from (``sources``, the config, or the default's source)."""
    sections: dict[str, list[ConfigRow]] = {}
    for row in config_rows(config, sources=sources):
        sections.setdefault(row.key.split(".", 1)[0], []).append(row)
    return list(sections.items())


# -- the run report ------------------------------------------------------------


def headline(result: SimulationResult) -> str:
    """The run report's first sentence, every number with its 95% confidence interval.

    E.g. ``"62% chance to break $100k MRR within 60 months (95% CI 61-63%);
    median 41 months [38-44]. 4% chance of running out of cash and credit by
    month 60 (95% CI 3-5%)"``. The probability is the share of paths that
    break the threshold by the horizon (Wilson interval); the median is the
    censoring-aware median time to the threshold with the interval from the
    pointwise band of its CDF.
    """
    est = result.p_break_by(result.months)
    median = result.time_quantile(0.5)
    out = result.p_insolvent_by(result.months)
    broke = (f". {pct_short(out.value)} chance of running out of cash and credit by month "
             f"{result.months} (95% CI {pct_short(out.low)}\u2013{pct_short(out.high)})")
    sustained = ("" if result.sustain_months == 1
                 else f" (sustained {result.sustain_months} months)")
    text = (f"{pct_short(est.value)} chance to break {short_money(result.threshold_mrr)} MRR"
            f"{sustained} within {result.months} months (95% CI {pct_short(est.low)}\u2013"
            f"{pct_short(est.high)})")
    if median.value is None:
        return (text + f"; the median time is beyond month {result.months} (fewer than half "
                f"of the paths break it){broke}")
    high = f"beyond {result.months}" if median.high is None else str(median.high)
    return text + f"; median {median.value} months [{median.low}\u2013{high}]{broke}"


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
    summary = result.summary() if summary is None else summary
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
    return _render(
        "run.html", title=title or RUN_TITLE, headline=headline(result),
        details=headline_details(result, summary),
        run_line=result.headline(), summary_rows=summary_rows(result, summary),
        sections=sections, convergence=convergence, levers=_lever_rows(levers),
        lever_lines=[] if levers is None else [
            *levers.lines(), *levers.to_dict()["value_of_information"]["lines"]],
        levers_month=(levers.scan_month if levers and levers.scan_month != result.months
                      else None), months=result.months,
        inputs=_input_sections(result.config, sources),
        seed=summary["seed"], config_sha256=summary["config_sha256"],
        version=summary["version"],
        glossary=terms("path", "95% interval", "median", "p10 / p50 / p90",
                       "never within the horizon", "out of cash and credit", "pretax margin",
                       *(("percentage points (pp)", "paired difference") if levers else ())))


def _lever_rows(scan: LeverScanResult | None) -> list[dict[str, Any]]:
    """The lever table: one row of text per lever, by effect (the business as it is first)."""
    if scan is None:
        return []
    data = scan.to_dict()
    h, m = str(data["months"]), str(data["scan_month"])
    interval = FILTERS["interval"]
    rows = [{"name": "as is", "description": "the business as it is", "set": "",
             **_lever_cells(data["as_is"], h, m)}]
    for e in data["levers"]:
        d = e["difference"]
        p_diff, profit_diff = d["p_break_by_horizon"], d["cumulative_profit_mean"]
        rows.append({
            "name": e["name"], "description": e["description"],
            "set": ", ".join(f"{k} = {_toml(v)}" for k, v in e["set"].items()),
            **_lever_cells(e, h, m),
            "diff": (f"{FILTERS['points'](p_diff['value'])} pp "
                     f"[{interval(p_diff['ci95'], 'points', ', ')}]"),
            "diff_profit": (f"{FILTERS['signed_money'](profit_diff['value'])} "
                            f"[{interval(profit_diff['ci95'], 'signed_money', ', ')}]"),
            "diff_insolvent": f"{FILTERS['points'](d['p_insolvent']['value'])} pp",
        })
    return rows


def _lever_cells(e: Mapping[str, Any], h: str, m: str) -> dict[str, str]:
    def chance(month: str) -> str:
        est = e["p_break_by"][month]
        return f"{pct(est['value'])} [{FILTERS['interval'](est['ci95'], 'pct', '-')}]"

    median = e["median_months"]
    if median["value"] is None:
        months = "not reached"
    else:
        months = (f"{median['value']} [{median['ci95'][0]}-"
                  f"{FILTERS['month'](median['ci95'][1], '>H')}]")
    return {"p_month": chance(m), "p_horizon": chance(h), "median": months,
            "profit": money(e["cumulative_profit_mean"]["value"]),
            "insolvent": pct(e["p_insolvent"]["value"]),
            "diff": "", "diff_profit": "", "diff_insolvent": ""}


def _toml(value: Any) -> str:
    """A lever's value as it is written in TOML: ``true``, ``1.1``, ``{dist = ...}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:.6g}" if isinstance(value, float) else str(value)


# -- a comparison ----------------------------------------------------------------


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
    return _render(
        "compare.html", title=comp.title,
        headlines=[_comparison_headline(e, comp.months, thr) for e in data["scenarios"]],
        scenarios=data["scenarios"], n_paths=comp.n_paths, months=comp.months,
        seed=comp.seed, threshold=comp.threshold_mrr, report_months=report_months(comp.months),
        reference=data["reference"], logrank=logrank,
        difference_method=data["difference_method"], logrank_test=data["logrank_test"],
        figures=figures, differing=comp.differing_inputs(), version=data["version"],
        glossary=terms("path", "95% interval", "median", "never within the horizon",
                       "percentage points (pp)", "paired difference", "p-value"))


# -- sensitivity -------------------------------------------------------------------


def _method_note(result: SensitivityResult) -> str:
    note = (f"Sobol' indices by scipy.stats.sobol_indices: {result.n_base} base rows, "
            f"{result.evaluations:,} design points of {result.paths_per_point} paths each "
            "(month-level seeds shared between a row of A and its A-with-one-column-from-B "
            "rows, so a parameter without effect scores exactly 0; the noise counts in the "
            "variance and in each parameter's total effect through interactions). 95% "
            "intervals: percentile bootstrap over the base rows. Fixed-number inputs are not "
            "analysed.")
    if result.correlations_ignored:
        note += (" The config's [correlations] are not applied here: Sobol' indices assume "
                 "independent inputs.")
    return note


def render_sensitivity(result: SensitivityResult,
                       figures: Sequence[ReportFigure] | None = None,
                       title: str | None = None) -> str:
    """The sensitivity report as one self-contained HTML page."""
    data = result.to_dict()
    figures = sensitivity_figures(result) if figures is None else figures
    outcomes = []
    for block in data["outcomes"]:
        name = block["outcome"]
        bars = {b["parameter"]: b for b in block["tornado"]["bars"]}
        rows = [dict(row, at_low=result.format_outcome(name, bars[row["parameter"]]["at_low"]),
                     at_high=result.format_outcome(name, bars[row["parameter"]]["at_high"]))
                for row in block["indices"]]
        variance, unexplained = block["variance"], block["unexplained"]
        outcomes.append({
            "label": result.outcome_label(name), "rows": rows,
            "variance": "n/a" if variance is None else f"{variance:.4g}",
            "unexplained": "n/a" if unexplained is None else f"{unexplained:.2f}",
            "base": result.format_outcome(name, block["tornado"]["base"]),
        })
    return _render(
        "sensitivity.html", title=title or "msp-sim: which uncertain input drives the outcome",
        headlines=result.headlines(), outcomes=outcomes, figures=figures,
        parameters=data["parameters"], method_note=_method_note(result), seed=data["seed"],
        config_sha256=data["config_sha256"], version=data["version"],
        glossary=terms("path", "first order effect", "total effect", "95% interval",
                       "tornado"))


# -- goal seek ---------------------------------------------------------------------


def render_goal(result: GoalResult, figures: Sequence[ReportFigure] | None = None,
                title: str | None = None) -> str:
    """The goal-seek report as one self-contained HTML page."""
    data = result.to_dict()
    figures = goal_figures(result) if figures is None else figures
    lines = result.format_summary().splitlines()
    headlines = [ln for ln in lines if not ln.startswith("note: ")]
    notes = [ln.removeprefix("note: ") for ln in lines if ln.startswith("note: ")]
    fmt = result.outcome_text
    evaluations = [(result.value_text(e.value), fmt(e.estimate),
                    f"{fmt(e.low)} to {fmt(e.high)}", "yes" if e.met else "no")
                   for e in result.evaluations]
    return _render(
        "goal.html", title=title or f"msp-sim goal: {result.target.text}",
        headlines=headlines, notes=notes, n_paths=result.n_paths, seed=result.seed,
        parameter=result.parameter, target_quantity=result.target.quantity,
        evaluations=evaluations, figures=figures, inputs=_input_sections(result.config),
        method=data["method"], config_sha256=data["config_sha256"], version=data["version"],
        glossary=terms("path", "95% interval", "paired difference"))


# -- a fit of your data ----------------------------------------------------------------


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
    return _render(
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
    return _render(
        "backtest.html", title=title or "msp-sim backtest: the model against your last months",
        headlines=[*result.verdict(), *result.lines()], cutoff=result.cutoff.isoformat(),
        holdout=result.holdout,
        n_paths=result.n_paths, figures=figures, series=series,
        glossary=terms("median", "90% interval"))


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
    return _render(
        "portfolio.html", title=title or "msp-sim portfolio", headlines=headlines,
        n_msps=data["n_msps"], n_paths=result.n_paths, months=months, scan_month=scan,
        seed=result.seed, method=counts["method"], figures=figures, levers=levers, rows=rows,
        version=data["version"],
        glossary=terms("path", "95% interval", "median", "out of cash and credit"))
