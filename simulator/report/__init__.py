"""The report layer: one module per kind of report, each owning its figures, its page
and its files, over the machinery they share.

* :mod:`.run` (a package: figures, page, files), :mod:`.levers`, :mod:`.compare`,
  :mod:`.sensitivity`, :mod:`.goal`, :mod:`.portfolio`, :mod:`.fit` (fit and
  backtest): a kind's figure functions, its ``render_*`` page and its
  ``write_*`` files;
* :mod:`.style`: the one figure style (matplotlib, PNG bytes);
* :mod:`.pages`: the page machinery (Jinja2 templates in ``templates/`` with
  autoescaping; numbers through the filters of :mod:`simulator.formatting`);
* :mod:`.workbook`: the workbook machinery (openpyxl sheets with number formats);
* :mod:`.glossary`: the words explained.

Files are written all or nothing through :mod:`simulator.output`, which keeps
the atomic writes and the one registry of output file names. The analyses
(:mod:`simulator.analysis`) only compute; their ``.plot()`` calls the figure
functions here. Pages are self-contained HTML: figures embedded as PNG, no
JavaScript, nothing fetched.
"""

from __future__ import annotations

from ..output import COMPARE_FILES, GOAL_FILES, SENSITIVITY_FILES
from ..results.derived import SERVICE_LEADERSHIP_STAGES, ServiceLeadershipStage, revenue_mix
from .compare import comparison_figures, render_comparison, write_comparison
from .fit import write_backtest, write_fit_report
from .goal import goal_figures, render_goal, write_goal
from .portfolio import write_portfolio
from .run import (
    fan_chart,
    headline,
    render_run,
    run_figures,
    time_to_threshold_chart,
    write_outputs,
    write_run_report,
)
from .sensitivity import render_sensitivity, sensitivity_figures, write_sensitivity
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
    "write_backtest",
    "write_comparison",
    "write_fit_report",
    "write_goal",
    "write_outputs",
    "write_portfolio",
    "write_run_report",
    "write_sensitivity",
]
