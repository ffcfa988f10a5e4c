"""Figures and a self-contained HTML report of a run.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg
canvas (no pyplot, no window, no global backend switch) and saved as PNG.
``report.html`` embeds them as base64 PNG, so the one file can be mailed or
opened anywhere, with no server; it has no JavaScript. It holds:

- a headline sentence with its confidence intervals (:func:`headline`);
- the summary table;
- P(break the threshold by month t) with its 95% band;
- the MRR fan chart;
- the revenue mix over time (products / projects / managed services /
  cloud) against the Service Leadership stages (seed 002);
- tickets, technician utilization and headcount;
- pretax profit and cash bands;
- the convergence trace, when the result carries one (a ``convergence``
  attribute: a list of ``{"paths", "estimate", "half_width"}``);
- the inputs with their units and sources.

The output directory gets ``report.html`` plus the fan chart and the
time-to-threshold chart as PNG files; the other figures live only inside
the page.

matplotlib is imported only by the figure functions, so importing this
module (for :func:`config_rows`, :func:`headline` or the formatting) stays quick.
"""

from __future__ import annotations

import base64
import io
import math
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .config.correlations import describe_pairs
from .config.schema import Config, param_specs
from .formatting import escape as _e
from .formatting import money as _money
from .formatting import pct as _pct
from .formatting import pct_short as _pct_short
from .formatting import short_money as _short_money
from .results import TIME_QUANTILES, SimulationResult

__all__ = [
    "FAN_CHART",
    "REPORT_HTML",
    "SERVICE_LEADERSHIP_STAGES",
    "TIME_CHART",
    "ConfigRow",
    "ServiceLeadershipStage",
    "config_rows",
    "convergence_chart",
    "convergence_rows",
    "fan_chart",
    "format_value",
    "headline",
    "operations_chart",
    "png_bytes",
    "profit_cash_chart",
    "render_html",
    "report_figures",
    "revenue_mix",
    "revenue_mix_chart",
    "time_to_threshold_chart",
    "write_report",
]

FAN_CHART = "fan_chart.png"
TIME_CHART = "time_to_threshold.png"
REPORT_HTML = "report.html"

_BLUE = "#1f5f99"
_RED = "#b23a3a"
_GREY = "#555555"
_LINE_COLORS = {"products": "#c9a227", "projects": "#8a6bb8", "managed": "#1f5f99",
                "cloud": "#5fa8d3"}


class ServiceLeadershipStage(NamedTuple):
    """A revenue mix and the pretax profit that goes with it (Service Leadership, seed 002).

    Shares are of total revenue: products, projects (and T&M), managed
    services (cloud commissions counted with managed services).
    """

    name: str
    products: float
    projects: float
    managed: float
    pretax_average: float
    pretax_best: str


SERVICE_LEADERSHIP_STAGES: tuple[ServiceLeadershipStage, ...] = (
    ServiceLeadershipStage("VAR", 0.50, 0.40, 0.10, 0.045, "13%"),
    ServiceLeadershipStage("Hybrid", 0.30, 0.40, 0.30, 0.078, "16.5%"),
    ServiceLeadershipStage("Mature MSP", 0.235, 0.235, 0.53, 0.11, "21-22%"),
)
"""Seed 002: 50/40/10 products/projects/MS -> 4.5% average pretax (best in class 13%);
30/40/30 -> 7.8% (16.5%); mature 22-25/22-25/rest (23.5/23.5/53 here) -> 11% (21-22%)."""


# -- config description ------------------------------------------------------


class ConfigRow(NamedTuple):
    """One config key as shown to a person."""

    key: str
    value: str
    unit: str
    source: str


def format_value(value: Any) -> str:
    """A config value in words: a number, a distribution's description, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.10g}"
    if hasattr(value, "describe"):
        return value.describe()
    return str(value)


def config_rows(config: Config) -> list[ConfigRow]:
    """Every section and key of ``config`` with its value, unit and source, in schema order."""
    specs = param_specs()
    rows = []
    for section, section_field in Config.model_fields.items():
        model = section_field.annotation
        section_value = getattr(config, section)
        for name, fld in model.model_fields.items():
            key = f"{section}.{name}"
            raw = getattr(section_value, name)
            value = describe_pairs(raw) if key == "correlations.pairs" else format_value(raw)
            spec = specs.get(key)
            if spec is not None:
                rows.append(ConfigRow(key, value, spec.unit, spec.source))
                continue
            unit, note = _split_description(fld.description or "")
            if not fld.description:
                if typing.get_origin(fld.annotation) is typing.Literal:
                    unit = " | ".join(str(a) for a in typing.get_args(fld.annotation))
                elif fld.annotation is bool:
                    unit = "true | false"
            rows.append(ConfigRow(key, value, unit, note))
    return rows


def _split_description(text: str) -> tuple[str, str]:
    """``"months: horizon H"`` or ``"horizon H [months]"`` -> ``("months", "horizon H")``."""
    match = re.search(r"\s*\[([^\]]*)\]\s*$", text)
    if match:
        return match.group(1), text[: match.start()].strip()
    unit, sep, rest = text.partition(": ")
    if sep:
        return unit.strip(), rest.strip()
    return "", text.strip()


# -- figures -----------------------------------------------------------------


def figure(width: float = 8.0, height: float = 4.5, *, left: float = 0.9,
            right: float = 0.2, bottom: float = 0.55, top: float = 0.4,
            constrained: bool = False):
    """A figure with fixed margins (inches) around its axes, or a constrained layout.

    The run report's figures have known labels and use fixed margins:
    matplotlib's constrained layout took about half the report's drawing
    time (benchmarks/RESULTS.md). Figures whose labels depend on the data
    (scenario names, parameter names) ask for ``constrained=True``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110,
                 layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    if not constrained:
        fig.subplots_adjust(left=left / width, right=1.0 - right / width,
                            bottom=bottom / height, top=1.0 - top / height)
    return fig


def _panels(fig, ncols: int, gap: float, width_ratios=None):
    """``ncols`` axes side by side, ``gap`` inches apart."""
    params = fig.subplotpars
    panel = ((params.right - params.left) * fig.get_figwidth() - gap * (ncols - 1)) / ncols
    return fig.subplots(1, ncols, width_ratios=width_ratios,
                        gridspec_kw={"wspace": gap / panel})


def money_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"${v / 1e6:g}M"
        if abs(v) >= 1e3:
            return f"${v / 1e3:g}k"
        return f"${v:g}"

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))


def probability_axes(ax, months: int, ylabel: str) -> None:
    """Axes of a P(break by month t) curve: 0-100%, months 0..H, a line at 50%."""
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, months)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)


def fan_chart(result: SimulationResult, path: str | Path | None = None):
    """MRR fan chart: 5-95% and 25-75% bands, median and the threshold line.

    Returns the :class:`matplotlib.figure.Figure`; saves it as PNG when
    ``path`` is given.
    """
    q = result.quantiles((0.05, 0.25, 0.5, 0.75, 0.95), metrics=["mrr"])["mrr"]
    t = np.arange(result.months + 1)
    fig = figure()
    ax = fig.add_subplot()
    ax.fill_between(t, q[0], q[4], color=_BLUE, alpha=0.18, linewidth=0, label="5-95%")
    ax.fill_between(t, q[1], q[3], color=_BLUE, alpha=0.35, linewidth=0, label="25-75%")
    ax.plot(t, q[2], color=_BLUE, linewidth=2, label="median")
    ax.axhline(result.threshold_mrr, color=_RED, linestyle="--", linewidth=1.2,
               label=f"threshold ${result.threshold_mrr:,.0f}")
    ax.set_xlim(0, result.months)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("month")
    ax.set_ylabel("MRR ($/month)")
    ax.set_title(f"MRR across {result.n_paths:,} paths")
    money_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    if path is not None:
        save_png(fig, path)
    return fig


def time_to_threshold_chart(result: SimulationResult, path: str | Path | None = None):
    """Censoring-aware CDF of the time to the threshold with its 95% band.

    Paths that never break the threshold are censored at the horizon, so the
    curve ends below 1 by the censored fraction.
    """
    ttt = result.time_to_threshold()
    t = np.arange(result.months + 1)
    cdf = ttt.cdf(t)
    low, high = ttt.cdf_band(t)
    fig = figure()
    ax = fig.add_subplot()
    ax.fill_between(t, low, high, step="post", color=_BLUE, alpha=0.25, linewidth=0,
                    label="95% confidence band")
    ax.step(t, cdf, where="post", color=_BLUE, linewidth=2,
            label="P(broken by month t)")
    probability_axes(ax, result.months, "share of paths")
    ax.set_title(f"Time to ${result.threshold_mrr:,.0f} MRR"
                 + ("" if result.sustain_months == 1
                    else f" (sustained {result.sustain_months} months)"))
    ax.text(0.98, 0.04,
            f"not reached by month {result.months}: {100 * ttt.censored_fraction:.1f}% "
            "of paths (censored)", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=9, color="#333333")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    if path is not None:
        save_png(fig, path)
    return fig




def _bands(ax, t, q, color, label=None) -> None:
    """5-95% and 25-75% bands and the median of a ``(5, months + 1)`` quantile array."""
    ax.fill_between(t, q[0], q[4], color=color, alpha=0.15, linewidth=0)
    ax.fill_between(t, q[1], q[3], color=color, alpha=0.32, linewidth=0)
    ax.plot(t, q[2], color=color, linewidth=1.8, label=label)


_FAN_QS = (0.05, 0.25, 0.5, 0.75, 0.95)
_LINES = (("products", "revenue_products", "products"),
          ("projects", "revenue_projects", "projects and T&M"),
          ("managed", "revenue_managed", "managed services"),
          ("cloud", "revenue_cloud", "cloud commissions"))


def revenue_mix(result: SimulationResult) -> dict[str, np.ndarray]:
    """Share of each revenue line in the mean revenue of months 1..H.

    Returns
    -------
    dict of str to ndarray
        ``"products"``, ``"projects"``, ``"managed"``, ``"cloud"``: shares
        ``(months,)`` of months 1..H (month 0 has no revenue flows), from
        the mean across paths of each line (the mix of the average
        business); 0 where the mean revenue is 0.
    """
    means = {name: result.mean(metric)[1:] for name, metric, _ in _LINES}
    total = sum(means.values())
    safe = np.where(total > 0, total, 1.0)
    return {name: np.where(total > 0, m / safe, 0.0) for name, m in means.items()}


def revenue_mix_chart(result: SimulationResult, path: str | Path | None = None):
    """Revenue mix over time (stacked shares) beside the Service Leadership stages.

    Left: the mean business's share of products, projects, managed services
    and cloud commissions, months 1..H. Right: the mix at month H next to
    the three stages of seed 002 with their average pretax profit, and the
    simulated pretax margin of the last 12 months.
    """
    mix = revenue_mix(result)
    t = np.arange(1, result.months + 1)
    fig = figure(9.0, 4.6)
    left, right = _panels(fig, 2, 0.9, width_ratios=[3.2, 2.0])
    left.stackplot(t, *(100 * mix[name] for name, _, _ in _LINES),
                   labels=[label for _, _, label in _LINES],
                   colors=[_LINE_COLORS[name] for name, _, _ in _LINES], alpha=0.9)
    left.set_xlim(1, max(result.months, 2))
    left.set_ylim(0, 100)
    left.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    left.set_xlabel("month")
    left.set_ylabel("share of revenue (mean business)")
    left.set_title("Revenue mix over time")
    left.legend(loc="lower left", fontsize=8, framealpha=0.85)

    last = {name: float(mix[name][-1]) for name, _, _ in _LINES}
    window = slice(max(1, result.months - 11), result.months + 1)
    revenue = sum(float(result.mean(metric)[window].mean()) for _, metric, _ in _LINES)
    profit = float(result.mean("pretax_profit")[window].mean())
    margin = profit / revenue if revenue > 0 else float("nan")
    columns = [(f"simulated\nmonth {result.months}", last["products"], last["projects"],
                last["managed"] + last["cloud"],
                f"pretax {100 * margin:.1f}%" if math.isfinite(margin) else "")]
    for stage in SERVICE_LEADERSHIP_STAGES:
        columns.append((f"{stage.name}\n{100 * stage.products:g}/{100 * stage.projects:g}/"
                        f"{100 * stage.managed:g}", stage.products, stage.projects,
                        stage.managed, f"avg {100 * stage.pretax_average:g}%\n"
                                       f"best {stage.pretax_best}"))
    x = np.arange(len(columns))
    bottom = np.zeros(len(columns))
    for k, (name, color) in enumerate((("products", _LINE_COLORS["products"]),
                                       ("projects", _LINE_COLORS["projects"]),
                                       ("managed + cloud", _LINE_COLORS["managed"]))):
        heights = np.array([100 * c[1 + k] for c in columns])
        right.bar(x, heights, bottom=bottom, color=color, width=0.7, label=name,
                  edgecolor="white", linewidth=0.5)
        bottom += heights
    for xi, c in zip(x, columns, strict=True):
        right.text(xi, 101.5, c[4], ha="center", va="bottom", fontsize=7)
    right.set_xticks(x, [c[0] for c in columns], fontsize=7)
    right.set_ylim(0, 118)
    right.set_yticks([0, 25, 50, 75, 100])
    right.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
    right.set_title("vs Service Leadership stages\n(products/projects/MS, pretax profit)",
                    fontsize=9)
    if path is not None:
        save_png(fig, path)
    return fig


def operations_chart(result: SimulationResult, path: str | Path | None = None):
    """Tickets per month, technician utilization and headcount (median and bands)."""
    names = ["tickets", "utilization", "techs", "alignment_staff"]
    q = result.quantiles(_FAN_QS, metrics=names)
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.6)
    axes = _panels(fig, 3, 0.55)
    _bands(axes[0], t, q["tickets"], _BLUE)
    axes[0].set_title("Help-desk tickets per month")
    _bands(axes[1], t[1:], q["utilization"][:, 1:], _BLUE, "utilization")
    hire = result.config.staff.hire_above
    if isinstance(hire, int | float):
        axes[1].axhline(float(hire), color=_RED, linestyle="--", linewidth=1,
                        label=f"hire above {float(hire):g}")
    axes[1].axhline(1.0, color=_GREY, linestyle=":", linewidth=1)
    axes[1].set_title("Technician utilization")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(loc="lower right", fontsize=7, frameon=False)
    _bands(axes[2], t, q["techs"], _BLUE, "technicians")
    if np.any(q["alignment_staff"][4] > 0):
        _bands(axes[2], t, q["alignment_staff"], _RED, "alignment staff")
    axes[2].set_title("Headcount")
    axes[2].set_ylim(bottom=0)
    axes[2].legend(loc="upper left", fontsize=7, frameon=False)
    for ax in axes:
        ax.set_xlim(0, result.months)
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    if path is not None:
        save_png(fig, path)
    return fig


def profit_cash_chart(result: SimulationResult, path: str | Path | None = None):
    """Pretax profit per month and cash: 5-95% and 25-75% bands and the median."""
    q = result.quantiles(_FAN_QS, metrics=["pretax_profit", "cash"])
    t = np.arange(result.months + 1)
    fig = figure(9.0, 3.6)
    axes = _panels(fig, 2, 0.95)
    _bands(axes[0], t[1:], q["pretax_profit"][:, 1:], _BLUE)
    axes[0].set_title("Pretax profit ($/month)")
    _bands(axes[1], t, q["cash"], _BLUE)
    axes[1].set_title("Cash ($)")
    for ax in axes:
        ax.axhline(0.0, color=_RED, linewidth=1)
        ax.set_xlim(0, result.months)
        ax.set_xlabel("month")
        money_axis(ax)
        ax.grid(alpha=0.3)
    if path is not None:
        save_png(fig, path)
    return fig


def convergence_rows(result: Any) -> list[dict[str, Any]]:
    """The result's convergence trace as ``[{"paths", "estimate", "half_width"}, ...]``.

    Entries may be mappings or objects with those attributes; a mapping's
    optional ``"tolerance"`` is kept (the target half-width, drawn as a
    line, as is a ``convergence_tolerance`` or ``tolerance`` attribute of
    the result). Empty
    when the result has no ``convergence`` attribute (or an empty one).
    """
    trace = getattr(result, "convergence", None) or []
    rows = []
    for entry in trace:
        get = entry.get if isinstance(entry, Mapping) else lambda k, e=entry: getattr(e, k)
        row = {"paths": int(get("paths")), "estimate": float(get("estimate")),
               "half_width": float(get("half_width"))}
        if isinstance(entry, Mapping) and entry.get("tolerance") is not None:
            row["tolerance"] = float(entry["tolerance"])
        rows.append(row)
    return rows


def convergence_chart(result: Any, path: str | Path | None = None):
    """Convergence trace: the estimate of P(break by the horizon) +- its 95% half-width."""
    rows = convergence_rows(result)
    paths = np.array([r["paths"] for r in rows], dtype=np.float64)
    est = np.array([r["estimate"] for r in rows])
    half = np.array([r["half_width"] for r in rows])
    fig = figure(9.0, 3.4)
    left, right = _panels(fig, 2, 0.7)
    left.fill_between(paths, est - half, est + half, color=_BLUE, alpha=0.25, linewidth=0,
                      label="95% CI")
    left.plot(paths, est, color=_BLUE, marker="o", markersize=3, label="estimate")
    left.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.1f}%")
    left.set_title(f"P(break by month {result.months}) as paths are added")
    left.legend(loc="best", fontsize=7, frameon=False)
    right.plot(paths, half, color=_BLUE, marker="o", markersize=3, label="95% half-width")
    tolerance = getattr(result, "convergence_tolerance", None)
    if tolerance is None:
        tolerance = getattr(result, "tolerance", None)
    if tolerance is None:
        tolerance = next((r["tolerance"] for r in rows if r.get("tolerance") is not None), None)
    if tolerance is not None:
        right.axhline(float(tolerance), color=_RED, linestyle="--", linewidth=1,
                      label=f"tolerance {float(tolerance):g}")
    right.set_title("Precision")
    right.legend(loc="best", fontsize=7, frameon=False)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for ax in (left, right):
        ax.set_xlabel("paths")
        if paths.size and paths.min() > 0 and paths.max() > 4 * paths.min():
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    if path is not None:
        save_png(fig, path)
    return fig


def save_png(fig, target) -> None:
    """Write ``fig`` as PNG to a path or binary file.

    Drawn without font hinting and with a fast zlib level: together about a
    third less time per report (benchmarks/RESULTS.md), for files ~10%
    larger and text that is not snapped to the pixel grid.
    """
    import matplotlib

    with matplotlib.rc_context({"text.hinting": "none"}):
        fig.savefig(target, format="png", pil_kwargs={"compress_level": 1})


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (:func:`save_png`)."""
    buf = io.BytesIO()
    save_png(fig, buf)
    return buf.getvalue()


def report_figures(result: SimulationResult) -> dict[str, tuple[str, bytes]]:
    """Every figure of the report as ``{caption: (section, png)}``, in page order."""
    figures = {
        "P(break the threshold by month t), censoring-aware, with its 95% band":
            ("chance", png_bytes(time_to_threshold_chart(result))),
        "MRR fan chart: 5-95% and 25-75% of paths, median, threshold":
            ("mrr", png_bytes(fan_chart(result))),
        "Revenue mix over time and against the Service Leadership stages (seed 002)":
            ("mix", png_bytes(revenue_mix_chart(result))),
        "Tickets, technician utilization and headcount: median, 25-75% and 5-95% of paths":
            ("operations", png_bytes(operations_chart(result))),
        "Pretax profit and cash: median, 25-75% and 5-95% of paths":
            ("money", png_bytes(profit_cash_chart(result))),
    }
    if convergence_rows(result):
        figures["Convergence: the estimate and its 95% interval as paths are added"] = (
            "convergence", png_bytes(convergence_chart(result)))
    return figures


# -- HTML --------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
p.headline { font-size: 1.15em; background: #eef3f8; padding: 0.7em 1em;
             border-left: 4px solid #1f5f99; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em 0.25em 0; text-align: left;
         vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section th { padding-top: 0.9em; border-bottom: 2px solid #999; }
figure { margin: 1em 0; }
img { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9em; }
.small { color: #666; font-size: 0.85em; }
"""




def _month(v: int | None) -> str:
    return "not reached" if v is None else f"{v}"


def headline(result: SimulationResult) -> str:
    """The report's first sentence, every number with its 95% confidence interval.

    E.g. ``"62% chance to break $100k MRR within 60 months (95% CI 61-63%);
    median 41 months [38-44]"``. The probability is the share of paths that
    break the threshold by the horizon (Wilson interval); the median is
    the censoring-aware median time to the threshold with the interval from
    the pointwise band of its CDF.
    """
    est = result.p_break_by(result.months)
    median = result.time_quantile(0.5)
    broke = _insolvency_clause(result)
    sustained = ("" if result.sustain_months == 1
                 else f" (sustained {result.sustain_months} months)")
    text = (f"{_pct_short(est.value)} chance to break {_short_money(result.threshold_mrr)} MRR"
            f"{sustained} within {result.months} months (95% CI {_pct_short(est.low)}\u2013"
            f"{_pct_short(est.high)})")
    if median.value is None:
        return (text + f"; the median time is beyond month {result.months} (fewer than half "
                f"of the paths break it){broke}")
    high = f"beyond {result.months}" if median.high is None else str(median.high)
    return text + f"; median {median.value} months [{median.low}\u2013{high}]{broke}"


def _insolvency_clause(result: SimulationResult) -> str:
    """``". 3% chance of running out of cash and credit (95% CI 2-4%)"``."""
    out = result.p_insolvent_by(result.months)
    return (f". {_pct_short(out.value)} chance of running out of cash and credit by month "
            f"{result.months} (95% CI {_pct_short(out.low)}\u2013{_pct_short(out.high)})")


def _summary_rows(result: SimulationResult, summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    thr = _money(summary["threshold_mrr"])
    lo, hi = summary["p_break_by_horizon_ci95"]
    rows = [
        ("Paths", f"{summary['n_paths']:,}"),
        ("Horizon", f"{summary['months']} months"),
        ("Seed", str(summary["seed"])),
        ("MRR threshold", f"{thr}/month, sustained {summary['sustain_months']} month(s)"),
        (f"P(break {thr} by month {summary['months']})",
         f"{_pct(summary['p_break_by_horizon'])} (95% CI {_pct(lo)} to {_pct(hi)})"),
    ]
    for month in summary["p_break_by_month"]:
        if int(month) != summary["months"]:
            est = result.p_break_by(int(month))
            rows.append((f"P(break {thr} by month {month})",
                         f"{_pct(est.value)} (95% CI {_pct(est.low)} to {_pct(est.high)})"))
    ci = summary["time_to_threshold_ci95"]
    for key, p in TIME_QUANTILES.items():
        value = summary["time_to_threshold"][key]
        lo_t, hi_t = ci[key]
        label = f"Months to {thr}: {key} ({100 * p:g}% of paths have broken it)"
        if value is None:
            rows.append((label, f"not reached by month {summary['months']}"))
        else:
            rows.append((label, f"{value} (95% CI {_month(lo_t)} to "
                                f"{'beyond horizon' if hi_t is None else hi_t})"))
    rows.append(("Paths that never break it (censored)", _pct(summary["censored_fraction"])))
    lo_i, hi_i = summary["p_insolvent_by_horizon_ci95"]
    rows.append((f"P(out of cash and credit by month {summary['months']})",
                 f"{_pct(summary['p_insolvent_by_horizon'])} (95% CI {_pct(lo_i)} to "
                 f"{_pct(hi_i)})"))
    rows.append(("MRR at start (median)", _money(summary["mrr_start"]["p50"])))
    for month, q in summary["mrr_at_month"].items():
        rows.append((f"MRR at month {month}: p10 / p50 / p90",
                     f"{_money(q['p10'])} / {_money(q['p50'])} / {_money(q['p90'])}"))
    final = summary["mrr_final"]
    rows.append((f"MRR at month {summary['months']}: mean / p5 / p50 / p95",
                 f"{_money(final['mean'])} / {_money(final['p5'])} / {_money(final['p50'])} / "
                 f"{_money(final['p95'])}"))
    return rows


_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("chance", "Chance of breaking the threshold",
     "Censoring-aware (Kaplan-Meier via scipy.stats.ecdf): a path that never breaks the "
     "threshold is censored at the horizon, so the curve ends below 100% by the censored "
     "share. The band is the pointwise 95% confidence interval of the Monte Carlo estimate."),
    ("mrr", "MRR", ""),
    ("mix", "Revenue mix",
     "Shares of the mean business's revenue by line. Service Leadership (seed 002) relates "
     "the mix of products / projects / managed services to average (best-in-class) pretax "
     "profit: 50/40/10 about 4.5% (13%), 30/40/30 about 7.8% (16.5%), 22-25/22-25/rest about "
     "11% (21-22%). Cloud commissions are counted with managed services there."),
    ("operations", "Tickets, utilization and headcount", ""),
    ("money", "Profit and cash", ""),
    ("convergence", "Convergence", ""),
)


def _figure_html(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _convergence_table(result: Any) -> list[str]:
    rows = convergence_rows(result)
    parts = ['<table><tr><th>paths</th><th>P(break by the horizon)</th>'
             "<th>95% half-width</th></tr>"]
    for r in rows:
        parts.append(f'<tr><td class="num">{r["paths"]:,}</td>'
                     f'<td class="num">{_pct(r["estimate"])}</td>'
                     f'<td class="num">{100 * r["half_width"]:.2f} pp</td></tr>')
    parts.append("</table>")
    return parts


def render_html(
    result: SimulationResult,
    figures: Mapping[str, bytes | tuple[str, bytes]] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    result : SimulationResult
        The run (a ``convergence`` attribute adds the convergence section).
    figures : mapping, optional
        Caption -> PNG bytes, or caption -> ``(section, PNG bytes)`` as
        :func:`report_figures` gives (the default). Figures without a known
        section go under "Figures".
    summary : mapping, optional
        ``result.summary()`` if already computed.
    """
    summary = result.summary() if summary is None else summary
    figures = report_figures(result) if figures is None else figures
    by_section: dict[str, list[str]] = {}
    for caption, item in figures.items():
        section, png = item if isinstance(item, tuple) else ("other", item)
        by_section.setdefault(section, []).append(_figure_html(caption, png))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>msp-sim report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>msp-sim: MRR growth simulation</h1>",
        f'<p class="headline" id="headline">{_e(headline(result))}</p>',
        f'<p class="small">{_e(result.headline())}</p>',
        "<h2>Summary</h2>",
        "<table>",
    ]
    for label, value in _summary_rows(result, summary):
        parts.append(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>")
    parts.append("</table>")
    parts.append(
        '<p class="small">Intervals are 95% confidence intervals of the Monte Carlo '
        "estimate (how precisely the simulation pins the number down), not ranges of the "
        "business outcome; the bands of the charts show the spread of the outcome across "
        "paths.</p>"
    )
    for key, title, note in _SECTIONS:
        if key not in by_section and not (key == "convergence" and convergence_rows(result)):
            continue
        parts.append(f"<h2>{_e(title)}</h2>")
        if note:
            parts.append(f'<p class="small">{_e(note)}</p>')
        parts.extend(by_section.pop(key, []))
        if key == "convergence":
            parts.extend(_convergence_table(result))
    if by_section:
        parts.append("<h2>Figures</h2>")
        for items in by_section.values():
            parts.extend(items)
    parts.append("<h2>Inputs</h2>")
    parts.append('<p class="small">Every key of the resolved config: a number, or a '
                 "distribution each path draws from; the unit; and where the value comes "
                 "from.</p>")
    parts.append("<table><tr><th>key</th><th>value</th><th>unit</th><th>source</th></tr>")
    section = None
    for row in config_rows(result.config):
        this = row.key.split(".", 1)[0]
        if this != section:
            section = this
            parts.append(f'<tr class="section"><th colspan="4">[{_e(section)}]</th></tr>')
        parts.append(f"<tr><td>{_e(row.key)}</td><td>{_e(row.value)}</td>"
                     f"<td>{_e(row.unit)}</td><td>{_e(row.source)}</td></tr>")
    parts.append("</table>")
    parts.append(f'<p class="small">msp-sim {_e(summary["version"])}; config sha256 '
                 f'{_e(summary["config_sha256"])}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    result: SimulationResult,
    out_dir: str | Path,
    summary: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``fan_chart.png``, ``time_to_threshold.png`` and ``report.html`` into ``out_dir``.

    The page embeds every figure (:func:`report_figures`); the two charts
    are also written as files. Returns the paths written.
    """
    out = Path(out_dir)
    figures = report_figures(result)
    by_section = {section: png for section, png in figures.values()}
    (out / FAN_CHART).write_bytes(by_section["mrr"])
    (out / TIME_CHART).write_bytes(by_section["chance"])
    page = render_html(result, figures, summary)
    (out / REPORT_HTML).write_text(page, encoding="utf-8")
    return [out / FAN_CHART, out / TIME_CHART, out / REPORT_HTML]
