"""A lever scan: its figure and its table, on a run's page and in its workbook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..formatting import FILTERS, money, pct
from .style import (
    GREEN,
    GREY,
    RED,
    draw_on,
    styled,
)
from .workbook import (
    COUNT,
    MONEY,
    PCT,
    Format,
)

if TYPE_CHECKING:

    from ..analysis.scan import LeverScanResult

__all__ = [
    "lever_chart",
    "lever_page_rows",
    "lever_sheet_rows",
]


@styled
def lever_chart(scan: LeverScanResult, ax: Any = None) -> Any:
    """Each lever's change in P(break by the horizon) against the business as it is, in
    percentage points with its 95% interval, largest on top; the change in cumulative
    profit written beside each bar."""
    data = scan.to_dict()
    entries = data["levers"][::-1]  # largest effect on top
    n = len(entries)
    fig, ax = draw_on(ax, 9.0, 1.2 + 0.42 * max(n, 1), constrained=True)
    pos = np.arange(n)
    diff = np.array([100 * (e["difference"]["p_break_by_horizon"]["value"] or 0.0)
                     for e in entries])
    low = np.array([100 * (e["difference"]["p_break_by_horizon"]["ci95"][0] or 0.0)
                    for e in entries])
    high = np.array([100 * (e["difference"]["p_break_by_horizon"]["ci95"][1] or 0.0)
                     for e in entries])
    colors = [GREEN if d > 0 else (RED if d < 0 else GREY) for d in diff]
    ax.barh(pos, diff, color=colors, height=0.6, alpha=0.85,
            xerr=np.abs(np.stack([diff - low, high - diff])),
            error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(pos, [e["name"] for e in entries], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(1.0, float(np.max(np.abs(np.concatenate([low, high, [0.0]])))))
    ax.set_xlim(min(-0.05 * span, float(np.min(low, initial=0.0)) - 0.05 * span),
                1.45 * span)
    for p, e in zip(pos, entries, strict=True):
        profit = e["difference"]["cumulative_profit_mean"]["value"]
        text = "" if profit is None else f"profit {'+' if profit >= 0 else '-'}" \
            f"${abs(profit) / 1e3:,.0f}k"
        ax.text(1.42 * span, p, text, va="center", ha="right", fontsize=7, color=GREY)
    before = data["as_is"]["p_break_by"][str(data["months"])]["value"] or 0.0
    ax.set_xlabel(f"change in P(break by month {data['months']}), percentage points "
                  f"(as is: {100 * before:.0f}%)")
    ax.set_title("What each lever changes (95% intervals; cumulative pretax profit beside)",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


# -- the lever table of a run's page and workbook ----------------------------------


def lever_page_rows(scan: LeverScanResult | None) -> list[dict[str, Any]]:
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
            "diff_value": (f"{FILTERS['signed_money'](d['owner_value_mean']['value'])} "
                           f"[{interval(d['owner_value_mean']['ci95'], 'signed_money', ', ')}]"),
            "pays_off": pct(e["p_pays_off"]["value"]),
            "cost": "; ".join(x for x in (e["cost"].get("cost"), e["cost"].get("risk"),
                                          e["break_even"]) if x),
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
            "diff": "", "diff_profit": "", "diff_insolvent": "", "diff_value": "",
            "pays_off": "", "cost": ""}


def _toml(value: Any) -> str:
    """A lever's value as it is written in TOML: ``true``, ``1.1``, ``{dist = ...}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def lever_sheet_rows(scan: LeverScanResult) -> tuple[list[str], list[Format], list[list[Any]]]:
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
