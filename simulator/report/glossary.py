"""Plain words for the reports: what each statistical term means to an owner.

Every page ends with the terms it uses (``What the words mean``), and a term
in a table header carries its meaning as a tooltip. Sources are cited as
documents a reader can look up (:func:`simulator.config.sources.cite`).
"""

from __future__ import annotations

from ..config.sources import SOURCES, cite

__all__ = ["SOURCES", "TERMS", "cite", "terms"]

TERMS: dict[str, str] = {
    "path": "one simulated future of the business, with its own luck (which clients sign, "
            "leave or call); a run simulates thousands and counts how often each thing "
            "happens.",
    "95% interval": "how precisely the simulation pins a number down: with the paths "
                    "simulated, the true value lies in this range 95 times out of 100. More "
                    "paths make it narrower. It is not the range of outcomes for your "
                    "business; the bands of the charts are.",
    "90% interval": "the range your data leave for a value: with the records you have, the "
                    "true value lies in it 9 times out of 10. Few records, wide range.",
    "median": "the middle outcome: half of the simulated futures are above it, half below.",
    "p10 / p50 / p90": "of the simulated futures, 10% end below p10, half below p50 (the "
                       "median) and 90% below p90: p10 to p90 is the range of 8 futures in "
                       "10.",
    "never within the horizon": "futures that have not broken the threshold by the last "
                                "month simulated; all we know is that they take longer "
                                "(statisticians call them censored, and count them so with "
                                "the Kaplan-Meier method).",
    "percentage points (pp)": "the difference of two percentages: from 40% to 55% is +15 "
                              "percentage points.",
    "paired difference": "each simulated future is run again with the change, with the same "
                         "luck; the difference is averaged over the futures, so it shows the "
                         "change, not chance.",
    "p-value": "how likely a difference this large would be if the change did nothing at "
               "all; below 0.05 it is usually taken as real. (McNemar's test for chances, "
               "the paired t-test for money, the log-rank test for the time to the "
               "threshold.)",
    "pretax margin": "pretax profit as a share of revenue, before owner's tax.",
    "out of cash and credit": "cash plus the unused credit line fall below zero: the "
                              "business cannot pay its bills and closes (no revenue after).",
    "first order effect": "the share of the outcome's ups and downs that this input explains "
                          "on its own (0 to 1).",
    "total effect": "the share it explains on its own and together with other inputs; much "
                    "above its first order effect means the input matters through its "
                    "interplay with others.",
    "luck": "the month-to-month chance in the simulated futures (which clients sign, leave "
            "or call): its 95% interval says how precisely the simulation pins a number down "
            "for the business as the inputs describe it. More paths make it narrower.",
    "what you haven't measured": "the inputs nobody has measured for your business (the "
                                 "assumptions) are drawn anew in every simulated future over "
                                 "their plausible ranges; the range given is where 8 in 10 "
                                 "of the businesses that fit your inputs land. Measuring the "
                                 "inputs named narrows it; more paths do not.",
    "assumption": "an input with a sourced plausible range that no record of yours pins down "
                  "(owner hours, escalations, hours per ticket, ...); unless your config sets "
                  "it, every simulated future draws its own value over that range, so the "
                  "answer carries what it does not know. A value you set, or that msp-sim "
                  "fit fitted, is never redrawn.",
    "tornado": "each input moved to a low (5th percentile) and a high (95th percentile) "
               "value with the others at their typical values: the longest bars matter most.",
}
"""Term -> its meaning in an owner's words."""


def terms(*names: str) -> list[tuple[str, str]]:
    """``(term, meaning)`` pairs of ``names``, for a page's glossary."""
    return [(name, TERMS[name]) for name in names]
