"""The one figure style of the report layer: matplotlib on an Agg canvas, PNG bytes.

Every figure of every report (one module per report kind) is drawn on a
:class:`matplotlib.figure.Figure` with its own Agg canvas (no pyplot, no
window, no global backend switch), inside :func:`styled` (the fixed style:
no mathtext, so a ``$`` in a scenario name is a dollar sign, and no font
hinting), with the helpers here. ``.plot()`` of each result calls its report
kind's functions; the pages embed their PNG bytes (:func:`png_bytes`).

matplotlib is imported only when a figure is drawn, so importing this module
stays quick.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..formatting import calendar_month

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType


__all__ = [
    "FAN_QUANTILES",
    "BLUE",
    "GREEN",
    "GREY",
    "LINE_COLORS",
    "RED",
    "ReportFigure",
    "SERIES_COLORS",
    "STYLE",
    "bands",
    "draw_on",
    "figure",
    "finish",
    "money_axis",
    "month_axis_label",
    "panels",
    "png_bytes",
    "probability_axes",
    "save_png",
    "series_color",
    "styled",
]

BLUE = "#1f5f99"


RED = "#b23a3a"


GREEN = "#2e8b57"


GREY = "#555555"


LINE_COLORS = {"products": "#c9a227", "projects": "#8a6bb8", "managed": "#1f5f99",
               "cloud": "#5fa8d3"}


SERIES_COLORS = ("#1f5f99", "#d4761c", "#2e8b57", "#b23a3a", "#7a4fa0", "#8c6d31", "#d65fa0",
                 "#555555", "#17a2b8", "#9aa02a")


"""Colours of the scenarios of a comparison, in order (repeating after ten)."""


STYLE: dict[RcKeyType, Any] = {
    # A "$" in a scenario or parameter name is a dollar sign, never mathtext.
    "text.parse_math": False,
    # Drawn without font hinting: about a third less time per report
    # (benchmarks/RESULTS.md), text not snapped to the pixel grid.
    "text.hinting": "none",
}


"""The fixed style every figure is drawn and saved in (matplotlib rcParams)."""


FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The bands of every fan chart: 5-95%, 25-75% and the median."""

F = TypeVar("F", bound=Callable[..., Any])


def styled(func: F) -> F:
    """Draw ``func``'s figure inside ``matplotlib.rc_context(STYLE)``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


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


def panels(fig, ncols: int, gap: float, width_ratios=None):
    """``ncols`` axes side by side, ``gap`` inches apart."""
    params = fig.subplotpars
    panel = ((params.right - params.left) * fig.get_figwidth() - gap * (ncols - 1)) / ncols
    return fig.subplots(1, ncols, width_ratios=width_ratios,
                        gridspec_kw={"wspace": gap / panel})


def draw_on(ax: Any = None, width: float = 8.0, height: float = 4.5, *, ncols: int = 1,
            gap: float = 0.0, width_ratios: Any = None, constrained: bool = False):
    """The figure and axes a figure function draws on: ``ax`` when given (an Axes, or a
    sequence of ``ncols`` of them), else a new :func:`figure` of ``width`` x ``height``
    inches with ``ncols`` axes side by side (:func:`panels`, ``gap`` inches apart).

    Every figure function opens with this, so a caller can draw any figure into axes of
    its own (a notebook's grid, a dashboard), and the report gets the fixed style."""
    if ax is not None:
        first = ax if ncols == 1 and not isinstance(ax, list | tuple) else ax[0]
        if ncols > 1 and len(ax) != ncols:
            raise ValueError(f"this figure draws on {ncols} axes; got {len(ax)}")
        return first.figure, ax
    fig = figure(width, height, constrained=constrained)
    if ncols == 1:
        return fig, fig.add_subplot()
    if constrained:
        return fig, fig.subplots(1, ncols, width_ratios=width_ratios)
    return fig, panels(fig, ncols, gap, width_ratios)


def finish(fig: Any, path: Any = None) -> Any:
    """Every figure function's ending: save ``fig`` as PNG when ``path`` is given, return
    it."""
    if path is not None:
        save_png(fig, path)
    return fig


def money_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"${v / 1e6:g}M"
        if abs(v) >= 1e3:
            return f"${v / 1e3:g}k"
        return f"${v:g}"

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))


def month_axis_label(config: Any) -> str:
    """``month``, or ``month (0 = Dec 2026)`` when the config has ``simulation.start_date``."""
    start = config.simulation.start_date
    return "month" if start is None else f"month (0 = {calendar_month(0, start)})"


def probability_axes(ax, months: int, ylabel: str, xlabel: str = "month") -> None:
    """Axes of a P(break by month t) curve: 0-100%, months 0..H, a line at 50%."""
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, months)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def bands(ax, t, q, color, label=None) -> None:
    """5-95% and 25-75% bands and the median of a ``(5, months + 1)`` quantile array."""
    ax.fill_between(t, q[0], q[4], color=color, alpha=0.15, linewidth=0)
    ax.fill_between(t, q[1], q[3], color=color, alpha=0.32, linewidth=0)
    ax.plot(t, q[2], color=color, linewidth=1.8, label=label)


def save_png(fig, target) -> None:
    """Write ``fig`` as PNG to a path or binary file.

    Drawn without font hinting and with a fast zlib level: together about a
    third less time per report (benchmarks/RESULTS.md), for files ~10%
    larger and text that is not snapped to the pixel grid.
    """
    import matplotlib

    with matplotlib.rc_context(STYLE):
        fig.savefig(target, format="png", pil_kwargs={"compress_level": 1})


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (:func:`save_png`)."""
    buf = io.BytesIO()
    save_png(fig, buf)
    return buf.getvalue()


class ReportFigure(NamedTuple):
    """A figure of a page: the section it belongs to, its caption and its PNG bytes."""

    section: str
    caption: str
    png: bytes


def series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]
