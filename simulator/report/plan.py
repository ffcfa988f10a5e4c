"""A plan search: its figure, its page (``plan.html``), its workbook (``plan.xlsx``) and
its files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..output import PLAN_FILES, PLAN_HTML, PLAN_JSON, PLAN_XLSX, json_text
from .glossary import terms
from .pages import input_sections, render_page, write_report
from .style import BLUE, GREEN, ReportFigure, draw_on, png_bytes, styled
from .workbook import MONEY, PCT, Format, new_workbook, sheet, workbook_bytes

if TYPE_CHECKING:
    from ..analysis.plan import PlanResult

__all__ = ["PLAN_FILES", "PLAN_HTML", "PLAN_JSON", "PLAN_XLSX", "plan_chart", "plan_workbook",
           "render_plan", "write_plan"]


@styled
def plan_chart(result: PlanResult, ax: Any = None) -> Any:
    """The finalists' objective with 95% intervals, the best in green."""
    fig, ax = draw_on(ax, constrained=True)
    rows = result.finalists[::-1]
    y = np.arange(len(rows))
    value = np.array([r["objective"]["value"] for r in rows], dtype=float)
    low = np.array([r["objective"]["ci95"][0] for r in rows], dtype=float)
    high = np.array([r["objective"]["ci95"][1] for r in rows], dtype=float)
    colors = [GREEN if r["name"] == result.best["name"] else BLUE for r in rows]
    ax.barh(y, value, color=colors, alpha=0.8)
    ax.errorbar(value, y, xerr=[value - low, high - value], fmt="none", color="black",
                capsize=3)
    ax.set_yticks(y, [_short(r["name"]) for r in rows], fontsize=7)
    ax.set_xlabel(result.objective.label)
    if result.objective.probability:
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title("The finalists (95% intervals)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _short(name: str, width: int = 60) -> str:
    return name if len(name) <= width else name[:width - 3] + "..."


def _ci(fmt: Any, d: dict[str, Any]) -> str:
    return f"{fmt(d['value'])} ({fmt(d['ci95'][0])} to {fmt(d['ci95'][1])})"


def render_plan(result: PlanResult, figures: list[ReportFigure] | None = None,
                title: str | None = None) -> str:
    """The plan report as one self-contained HTML page."""
    data = result.to_dict()
    obj = result.objective
    figures = plan_figures(result) if figures is None else figures
    finalists = [(f["name"], f"${f['cost_per_month']:,.0f}", _ci(obj.format, f["objective"]),
                  f"{100 * f['p_insolvent']['value']:.1f}%",
                  "yes" if f["feasible"] else "no",
                  "best" if f["name"] == result.best["name"]
                  else _ci(obj.format_diff, f["difference_from_best"]))
                 for f in result.finalists]
    levers = [(lv["lever"], lv["option"], _ci(obj.format_diff, lv["on_top"]),
               _ci(obj.format_diff, lv["alone"]), obj.format_diff(lv["interaction"]))
              for lv in result.levers_in_plan]
    waiting = [(w["lever"], w["chosen"], w["instead"], _ci(obj.format_diff, w["difference"]))
               for w in result.waiting]
    voi = result.voi
    voi_rows = [(key, obj.format_diff(v["value"]).lstrip("+"),
                 "" if v["se"] is None else obj.format_diff(v["se"]).lstrip("+"))
                for key, v in list(voi.get("evppi", {}).items())[:12]]
    screened = [(s["name"], f"${s['cost_per_month']:,.0f}", obj.format(s["objective"]),
                 f"{100 * s['p_insolvent']:.1f}%") for s in result.screened]
    return render_page(
        "plan.html", title=title or f"msp-sim plan: {obj.label}",
        headlines=result.lines()[:3], seed=result.seed,
        n_final=result.settings.n_final, n_screen=result.settings.n_screen,
        finalist_header=["plan", "levers' cost [$/month]", f"{obj.label} (95% CI)",
                         "P(out of cash)", "within the cash limit", "vs the best (95% CI)"],
        finalists=finalists, levers=levers, waiting=waiting, voi_lines=voi.get("lines", []),
        voi_rows=voi_rows, figures=figures, screened=screened, objective_label=obj.label,
        inputs=input_sections(result.config), method=data["method"],
        config_sha256=data["config_sha256"], version=data["version"],
        glossary=terms("path", "95% interval", "paired difference"))


def plan_figures(result: PlanResult) -> list[ReportFigure]:
    """The plan report's figure."""
    return [ReportFigure("plan", "The finalists' objective with 95% intervals; the chosen "
                         "plan in green", png_bytes(plan_chart(result)))]


def plan_workbook(result: PlanResult) -> bytes:
    """``plan.xlsx``: finalists, the plan's levers, waiting, value of information, screening."""
    obj = result.objective
    unit: Format = PCT if obj.probability else MONEY
    workbook = new_workbook()
    sheet(workbook, "Finalists",
           ["plan", "levers' cost [$/month]", obj.label, "95% low", "95% high",
            "P(out of cash)", "within the cash limit", "vs the best", "vs best 95% low",
            "vs best 95% high", "paths"],
           [[f["name"], f["cost_per_month"], f["objective"]["value"], *f["objective"]["ci95"],
             f["p_insolvent"]["value"], "yes" if f["feasible"] else "no",
             f["difference_from_best"]["value"], *f["difference_from_best"]["ci95"],
             f["n_paths"]] for f in result.finalists],
           [None, MONEY, unit, unit, unit, PCT, None, unit, unit, unit, "#,##0"])
    sheet(workbook, "Levers in the plan",
           ["lever", "option", "on top of the others", "on top 95% low", "on top 95% high",
            "alone", "alone 95% low", "alone 95% high", "interaction"],
           [[lv["lever"], lv["option"], lv["on_top"]["value"], *lv["on_top"]["ci95"],
             lv["alone"]["value"], *lv["alone"]["ci95"], lv["interaction"]]
            for lv in result.levers_in_plan], [None, None, *[unit] * 7])
    sheet(workbook, "Value of waiting",
           ["lever", "in the plan", "instead", "difference", "95% low", "95% high"],
           [[w["lever"], w["chosen"], w["instead"], w["difference"]["value"],
             *w["difference"]["ci95"]] for w in result.waiting],
           [None, None, None, unit, unit, unit])
    voi = result.voi
    sheet(workbook, "Value of information", ["assumption", "EVPPI", "SE"],
           [["everything (EVPI, luck included)", voi["evpi"]["value"], voi["evpi"]["se"]]]
           + [[k, v["value"], v["se"]] for k, v in voi.get("evppi", {}).items()]
           if "evpi" in voi else [], [None, unit, unit])
    sheet(workbook, "Screened", ["plan", "levers' cost [$/month]", obj.label,
                                  "P(out of cash)"],
           [[s["name"], s["cost_per_month"], s["objective"], s["p_insolvent"]]
            for s in result.screened], [None, MONEY, unit, PCT])
    return workbook_bytes(workbook)


def write_plan(result: PlanResult, out_dir: str | Path, title: str | None = None) -> Path:
    """Write ``plan.json``, ``plan.html`` and ``plan.xlsx`` into ``out_dir``, atomically."""
    return write_report(out_dir, PLAN_FILES, {
        PLAN_JSON: json_text(result.to_dict()),
        PLAN_HTML: render_plan(result, None, title),
        PLAN_XLSX: plan_workbook(result),
    })
