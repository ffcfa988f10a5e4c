"""Figures and a self-contained HTML report of a run.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg
canvas (no pyplot, no window, no global backend switch) and saved as PNG.
``report.html`` embeds them as base64 PNG, so the one file can be mailed or
opened anywhere; it has no JavaScript.

matplotlib is imported only by the figure functions, so ``msp-sim validate``
(which uses :func:`config_rows`) stays quick.
"""

from __future__ import annotations

import base64
import html
import io
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .config.schema import Config, param_specs
from .results import TIME_QUANTILES, SimulationResult

__all__ = [
    "FAN_CHART",
    "TIME_CHART",
    "REPORT_HTML",
    "ConfigRow",
    "config_rows",
    "fan_chart",
    "format_value",
    "png_bytes",
    "render_html",
    "time_to_threshold_chart",
    "write_report",
]

FAN_CHART = "fan_chart.png"
TIME_CHART = "time_to_threshold.png"
REPORT_HTML = "report.html"

_BLUE = "#1f5f99"
_RED = "#b23a3a"


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
            value = format_value(getattr(section_value, name))
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


def _figure(width: float = 8.0, height: float = 4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _money_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"${v / 1e6:g}M"
        if abs(v) >= 1e3:
            return f"${v / 1e3:g}k"
        return f"${v:g}"

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))


def fan_chart(result: SimulationResult, path: str | Path | None = None):
    """MRR fan chart: 5-95% and 25-75% bands, median and the threshold line.

    Returns the :class:`matplotlib.figure.Figure`; saves it as PNG when
    ``path`` is given.
    """
    q = result.quantiles((0.05, 0.25, 0.5, 0.75, 0.95), metrics=["mrr"])["mrr"]
    t = np.arange(result.months + 1)
    fig = _figure()
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
    _money_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    if path is not None:
        fig.savefig(path, format="png")
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
    fig = _figure()
    ax = fig.add_subplot()
    ax.fill_between(t, low, high, step="post", color=_BLUE, alpha=0.25, linewidth=0,
                    label="95% confidence band")
    ax.step(t, cdf, where="post", color=_BLUE, linewidth=2,
            label="P(broken by month t)")
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, result.months)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel("month")
    ax.set_ylabel("share of paths")
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
        fig.savefig(path, format="png")
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# -- HTML --------------------------------------------------------------------

_CSS = """
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
img { max-width: 100%; height: auto; }
.small { color: #666; font-size: 0.85em; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _money(v: float | None) -> str:
    return "n/a" if v is None else f"${v:,.0f}"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _month(v: int | None) -> str:
    return "not reached" if v is None else f"{v}"


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
    for month, p in summary["p_break_by_month"].items():
        if int(month) != summary["months"]:
            rows.append((f"P(break {thr} by month {month})", _pct(p)))
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
    rows.append(("MRR at start (median)", _money(summary["mrr_start"]["p50"])))
    for month, q in summary["mrr_at_month"].items():
        rows.append((f"MRR at month {month}: p10 / p50 / p90",
                     f"{_money(q['p10'])} / {_money(q['p50'])} / {_money(q['p90'])}"))
    final = summary["mrr_final"]
    rows.append((f"MRR at month {summary['months']}: mean / p5 / p50 / p95",
                 f"{_money(final['mean'])} / {_money(final['p5'])} / {_money(final['p50'])} / "
                 f"{_money(final['p95'])}"))
    return rows


def render_html(
    result: SimulationResult,
    figures: Mapping[str, bytes],
    summary: Mapping[str, Any] | None = None,
) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    result : SimulationResult
        The run.
    figures : mapping of str to bytes
        Caption -> PNG bytes, embedded in order.
    summary : mapping, optional
        ``result.summary()`` if already computed.
    """
    summary = result.summary() if summary is None else summary
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>msp-sim report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>msp-sim: MRR growth simulation</h1>",
        f'<p class="headline">{_e(result.headline())}</p>',
        "<h2>Summary</h2>",
        "<table>",
    ]
    for label, value in _summary_rows(result, summary):
        parts.append(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>")
    parts.append("</table>")
    parts.append(
        '<p class="small">Times to the threshold are censoring-aware (Kaplan-Meier via '
        "scipy.stats.ecdf): paths that never break it are censored at the horizon. "
        "Intervals are 95% confidence intervals of the Monte Carlo estimate, not of "
        "the business outcome.</p>"
    )
    parts.append("<h2>Figures</h2>")
    for caption, png in figures.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    parts.append("<h2>Inputs</h2>")
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

    Returns the paths written.
    """
    out = Path(out_dir)
    fan = png_bytes(fan_chart(result))
    ttt = png_bytes(time_to_threshold_chart(result))
    (out / FAN_CHART).write_bytes(fan)
    (out / TIME_CHART).write_bytes(ttt)
    page = render_html(result, {"MRR fan chart": fan,
                                "Time to the threshold (censored CDF)": ttt}, summary)
    (out / REPORT_HTML).write_text(page, encoding="utf-8")
    return [out / FAN_CHART, out / TIME_CHART, out / REPORT_HTML]
