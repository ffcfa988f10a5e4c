"""The report layer: figures, pages and the files of every kind of report.

* :mod:`.figures`: every figure (matplotlib, one fixed style, PNG bytes);
* :mod:`.pages`: every page (Jinja2 templates in ``templates/`` with
  autoescaping; numbers through the filters of :mod:`simulator.formatting`);
* :mod:`.files`: what each report writes (a run's: :func:`write_outputs`), all or
  nothing (through :mod:`simulator.output`).

The analyses (:mod:`simulator.analysis`) only compute; their ``.plot()``
calls the figure functions here, and ``msp-sim`` writes through
:mod:`.files`. Pages are self-contained HTML: figures embedded as PNG,
no JavaScript, nothing fetched.
"""

from __future__ import annotations

from ..results.derived import SERVICE_LEADERSHIP_STAGES, ServiceLeadershipStage, revenue_mix
from .compare import comparison_figures
from .files import (
    COMPARE_FILES,
    GOAL_FILES,
    SENSITIVITY_FILES,
    write_comparison,
    write_goal,
    write_outputs,
    write_run_report,
    write_sensitivity,
)
from .goal import goal_figures
from .pages import (
    headline,
    render_comparison,
    render_goal,
    render_run,
    render_sensitivity,
)
from .run import fan_chart, run_figures, time_to_threshold_chart
from .sensitivity import sensitivity_figures
from .style import ReportFigure, png_bytes

__all__ = [
    "COMPARE_FILES",
    "GOAL_FILES",
    "SENSITIVITY_FILES",
    "SERVICE_LEADERSHIP_STAGES",
    "ReportFigure",
    "ServiceLeadershipStage",
    "comparison_figures",
    "fan_chart",
    "goal_figures",
    "headline",
    "png_bytes",
    "render_comparison",
    "render_goal",
    "render_run",
    "render_sensitivity",
    "revenue_mix",
    "run_figures",
    "sensitivity_figures",
    "time_to_threshold_chart",
    "write_comparison",
    "write_goal",
    "write_outputs",
    "write_run_report",
    "write_sensitivity",
]
