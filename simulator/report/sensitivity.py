"""The figures of a sensitivity analysis: the tornado and the Sobol' indices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    BLUE,
    RED,
    ReportFigure,
    figure,
    png_bytes,
    styled,
)

if TYPE_CHECKING:

    from ..analysis.sensitivity import SensitivityResult

__all__ = [
    "sensitivity_chart",
    "sensitivity_figures",
    "sensitivity_indices_chart",
    "sensitivity_tornado_chart",
]


_LOW_COLOR = RED


_HIGH_COLOR = BLUE


def _stacked_axes(result: SensitivityResult, names: list[str]) -> tuple[Any, Any, int]:
    """A figure with one row of axes per outcome, tall enough for every input."""
    d = len(result.parameters)
    fig = figure(8.0, 0.6 + len(names) * (0.9 + 0.42 * d), constrained=True)
    return fig, fig.subplots(len(names), 1, squeeze=False)[:, 0], d


def _param_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


@styled
def sensitivity_tornado_chart(result: SensitivityResult, names: list[str]) -> Any:
    """Each input at its 5th / 95th percentile, the others at their medians (one panel per
    outcome in ``names``)."""
    fig, axes, d = _stacked_axes(result, names)
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
def sensitivity_indices_chart(result: SensitivityResult, names: list[str]) -> Any:
    """First-order and total Sobol' indices with 95% intervals (one panel per outcome)."""
    fig, axes, d = _stacked_axes(result, names)
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


def sensitivity_chart(result: SensitivityResult, kind: str, names: list[str]) -> Any:
    """:func:`sensitivity_tornado_chart` (``kind="tornado"``) or
    :func:`sensitivity_indices_chart` (``"indices"``) of the outcomes ``names``."""
    chart = sensitivity_tornado_chart if kind == "tornado" else sensitivity_indices_chart
    return chart(result, names)


def sensitivity_figures(result: SensitivityResult) -> list[ReportFigure]:
    """The sensitivity report's figures, in page order (also written as PNG files)."""
    names = list(result.outcomes)
    return [
        ReportFigure("tornado", "Tornado: each input at its 5th / 95th percentile, the others "
                     "at their medians", png_bytes(sensitivity_tornado_chart(result, names))),
        ReportFigure("indices", "Sobol' indices with 95% bootstrap intervals",
                     png_bytes(sensitivity_indices_chart(result, names))),
    ]
