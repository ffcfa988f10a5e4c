"""A sensitivity analysis: its figures (the tornado and the Sobol' indices), its page
and its files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..output import (
    INDICES_PNG,
    SENSITIVITY_FILES,
    SENSITIVITY_HTML,
    SENSITIVITY_JSON,
    TORNADO_PNG,
    json_text,
)
from .glossary import terms
from .pages import render_page, write_report
from .style import (
    BLUE,
    RED,
    ReportFigure,
    draw_on,
    figure,
    png_bytes,
    styled,
)

if TYPE_CHECKING:
    from ..analysis.sensitivity import SensitivityResult


__all__ = [
    "render_sensitivity",
    "sensitivity_chart",
    "sensitivity_figures",
    "sensitivity_indices_chart",
    "sensitivity_tornado_chart",
    "write_sensitivity",
]


_LOW_COLOR = RED


_HIGH_COLOR = BLUE


def _stacked_axes(result: SensitivityResult, names: list[str], ax: Any = None
                  ) -> tuple[Any, Any, int]:
    """``ax`` (one axes per outcome), else a figure with one row of axes per outcome, tall
    enough for every input."""
    d = len(result.parameters)
    if ax is not None:
        axes = list(np.atleast_1d(ax))
        return draw_on(axes, ncols=len(names))[0], axes, d
    fig = figure(8.0, 0.6 + len(names) * (0.9 + 0.42 * d), constrained=True)
    return fig, fig.subplots(len(names), 1, squeeze=False)[:, 0], d


def _param_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


@styled
def sensitivity_tornado_chart(result: SensitivityResult, names: list[str], ax: Any = None
                              ) -> Any:
    """Each input at its 5th / 95th percentile, the others at their medians (one panel per
    outcome in ``names``)."""
    fig, axes, d = _stacked_axes(result, names, ax)
    for ax, name in zip(axes, names, strict=True):
        i = result.outcomes.index(name)
        base = float(result.tornado_base[i])
        order = result.swing_order(name)[::-1]  # largest swing on top
        for pos, j in enumerate(order):
            for value, color in ((result.tornado_low[i, j], _LOW_COLOR),
                                 (result.tornado_high[i, j], _HIGH_COLOR)):
                ax.barh(pos, float(value) - base, left=base, color=color, height=0.6,
                        alpha=0.85)
        labels = [f"{result.parameters[j]}\n{_param_text(result.tornado_values[j, 0])} / "
                  f"{_param_text(result.tornado_values[j, 2])}" for j in order]
        ax.set_yticks(range(d), labels, fontsize=8)
        ax.axvline(base, color="black", linewidth=1)
        ax.set_title(f"{result.outcome_label(name)}: base {result.format_outcome(name, base)}",
                     fontsize=10)
        if name == "p_break_by_horizon":
            ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
        elif name == "mrr_final_median":
            ax.xaxis.set_major_formatter(lambda v, _pos: f"${v / 1e3:,.0f}k")
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    axes[0].legend(handles=[Patch(color=_LOW_COLOR, label="at 5th percentile"),
                            Patch(color=_HIGH_COLOR, label="at 95th percentile")],
                   loc="lower right", fontsize=8, frameon=False)
    fig.suptitle(f"One input at a time (others at their medians), {result.tornado_paths:,} "
                 "paths per bar, same seeds", fontsize=9)
    return fig


@styled
def sensitivity_indices_chart(result: SensitivityResult, names: list[str], ax: Any = None
                              ) -> Any:
    """First-order and total Sobol' indices with 95% intervals (one panel per outcome)."""
    fig, axes, d = _stacked_axes(result, names, ax)
    for ax, name in zip(axes, names, strict=True):
        i = result.outcomes.index(name)
        order = result.ranking(name)[::-1]
        pos = np.arange(d)
        for offset, values, ci, color, label in (
            (0.18, result.total[i], result.total_ci[i], _HIGH_COLOR, "total"),
            (-0.18, result.first_order[i], result.first_order_ci[i], "#7fa7cc", "first order"),
        ):
            v = values[order]
            err = np.abs(np.stack([v - ci[order, 0], ci[order, 1] - v]))
            ax.barh(pos + offset, v, height=0.36, color=color, label=label,
                    xerr=err, error_kw={"elinewidth": 1, "capsize": 2})
        ax.set_yticks(pos, [result.parameters[j] for j in order], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(min(-0.05, float(np.min(result.first_order_ci[i])) - 0.02), 1.05)
        ax.set_title(f"Sobol' indices: {result.outcome_label(name)}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def sensitivity_chart(result: SensitivityResult, kind: str, names: list[str], ax: Any = None
                      ) -> Any:
    """:func:`sensitivity_tornado_chart` (``kind="tornado"``) or
    :func:`sensitivity_indices_chart` (``"indices"``) of the outcomes ``names``."""
    chart = sensitivity_tornado_chart if kind == "tornado" else sensitivity_indices_chart
    return chart(result, names, ax)


def sensitivity_figures(result: SensitivityResult) -> list[ReportFigure]:
    """The sensitivity report's figures, in page order (also written as PNG files)."""
    names = list(result.outcomes)
    return [
        ReportFigure("tornado", "Tornado: each input at its 5th / 95th percentile, the others "
                     "at their medians", png_bytes(sensitivity_tornado_chart(result, names))),
        ReportFigure("indices", "Sobol' indices with 95% bootstrap intervals",
                     png_bytes(sensitivity_indices_chart(result, names))),
    ]


# -- the page and the files -------------------------------------------------------


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
    return render_page(
        "sensitivity.html", title=title or "msp-sim: which uncertain input drives the outcome",
        headlines=result.headlines(), outcomes=outcomes, figures=figures,
        parameters=data["parameters"], method_note=_method_note(result), seed=data["seed"],
        config_sha256=data["config_sha256"], version=data["version"],
        glossary=terms("path", "first order effect", "total effect", "95% interval",
                       "tornado"))


def write_sensitivity(result: SensitivityResult, out_dir: str | Path,
                      title: str | None = None) -> Path:
    """Write ``sensitivity.json``, ``tornado.png``, the indices chart and ``sensitivity.html``.

    All files go to a temporary directory next to ``out_dir`` that replaces
    it only when complete, so a failure leaves ``out_dir`` as it was.

    Raises
    ------
    simulator.output.OutputDirError
        ``out_dir`` is a file or holds other files; nothing is written.
    """
    figures = sensitivity_figures(result)
    return write_report(out_dir, SENSITIVITY_FILES, {
        SENSITIVITY_JSON: json_text(result.to_dict()),
        SENSITIVITY_HTML: render_sensitivity(result, figures, title),
    }, figures, {"tornado": TORNADO_PNG, "indices": INDICES_PNG})
