"""The run report's first screen as advice (issue 24): the answer, how sure it is and why,
the best lever with its cost, risk and break-even, and what to measure next.

Everything comes from ``summary.json`` (its ``uncertainty`` and ``levers`` blocks), so
the page says what the file says. The lever scan decides which lever is best (the first
of its ``levers`` list) and what it states about cost, risk and break-even: any of the
entry's ``cost``, ``risk``, ``break_even`` and ``p_pays_off`` fields is shown when
present (a string, or a mapping with ``text`` or ``value``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...formatting import pct_short, short_money, signed_dollars

if TYPE_CHECKING:
    from ...results import SimulationResult

__all__ = ["LEVER_FACTS", "advice", "with_uncertainty"]

LEVER_FACTS: tuple[tuple[str, str], ...] = (
    ("cost", "Cost"),
    ("risk", "Risk"),
    ("break_even", "Break-even"),
    ("p_pays_off", "Chance it pays off"),
)
"""Fields of a lever entry shown on the first screen when the scan gives them:
(field, label)."""


def _fact(value: Any) -> str | None:
    """A lever fact in words: a string as it is, a chance as a percent, a mapping's
    ``text`` (or its ``value``)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if value.get("text"):
            return str(value["text"])
        value = value.get("value")
        if value is None:
            return None
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return pct_short(value)
    return str(value)


def _best_lever(levers: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The scan's first lever in words, or None without a scan."""
    if not levers or not levers.get("levers"):
        return None
    entry = levers["levers"][0]
    months = str(levers["months"])
    before = levers["as_is"]["p_break_by"][months]["value"]
    after = entry["p_break_by"][months]["value"]
    profit = entry.get("difference", {}).get("cumulative_profit_mean", {}).get("value")
    facts = [(label, text) for key, label in LEVER_FACTS
             if (text := _fact(entry.get(key))) is not None]
    return {
        "name": entry["name"],
        "effect": (f"The chance to break the threshold by month {months} goes from "
                   f"{pct_short(before)} to {pct_short(after)}"
                   + ("" if profit is None else
                      f"; pretax profit over the {months} months {signed_dollars(profit)}")),
        "facts": facts,
        "stated": bool(facts),
    }


def advice(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The first screen's four answers from a run's ``summary.json`` dictionary.

    Returns
    -------
    dict
        ``answer`` (str), ``sure`` (list of str: luck, then what isn't measured),
        ``why`` (list of str: the top assumptions and what each does), ``lever`` (dict
        or None: ``name``, ``effect``, ``facts`` as (label, text) pairs), ``measure``
        (list of (label, how to measure) pairs).
    """
    # the words are the analysis layer's, imported when a page is made (importing the
    # report layer imports no analysis)
    from ...analysis.uncertainty import effect_text, fmt, sentence

    months = summary["months"]
    thr = short_money(summary["threshold_mrr"])
    p = summary["p_break_by_horizon"]
    low, high = summary["p_break_by_horizon_ci95"]
    answer = f"{pct_short(p)} chance to break {thr} MRR within {months} months."
    sure = [f"Luck: the simulated futures pin this down to {pct_short(low)}\u2013"
            f"{pct_short(high)} (their 95% interval)."]
    why: list[str] = []
    measure: list[tuple[str, str]] = []
    block = summary.get("uncertainty") or {}
    head = block.get("headlines", {}).get("p_break_by_horizon")
    if head is not None:
        rng = head.get("plausible_range")
        if rng is None:
            sure.append(sentence(head))
        else:
            sure.append(f"What you haven't measured: between {fmt('probability', rng[0])} "
                        f"and {fmt('probability', rng[1])} for a business like yours, "
                        "depending on the numbers below (8 businesses in 10 that fit your "
                        "inputs lie in that range).")
        for top in head.get("top_assumptions", []):
            why.append(f"{top['label'][0].upper()}{top['label'][1:]}: "
                       f"{effect_text(head, top)}.")
            measure.append((f"{top['label'][0].upper()}{top['label'][1:]}",
                            top["how_to_measure"]))
    insolvent = block.get("headlines", {}).get("p_insolvent_by_horizon")
    if insolvent is not None:
        sure.append(sentence(insolvent))
    return {"answer": answer, "sure": sure, "why": why,
            "lever": _best_lever(summary.get("levers")), "measure": measure}


def with_uncertainty(result: SimulationResult, summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` with its ``uncertainty`` block (:func:`simulator.analysis.uncertainty.
    uncertainty_split`), computed when it has none and the run kept its per-path draws."""
    out = dict(summary)
    if "uncertainty" not in out and result.params is not None:
        from ...analysis.uncertainty import uncertainty_split

        out["uncertainty"] = uncertainty_split(result).to_dict()
    return out
