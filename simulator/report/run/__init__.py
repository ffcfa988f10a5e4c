"""The run report: its figures (:mod:`.figures`), its page (:mod:`.page`) and its
files (:mod:`.files`: the workbook's sheets and the run directory)."""

from __future__ import annotations

from ..style import png_bytes
from .figures import *  # noqa: F403
from .figures import __all__ as _figures
from .files import MONTHLY_COLUMNS, run_workbook, write_outputs, write_run_report
from .page import RUN_TITLE, headline, render_run

__all__ = [*_figures, "MONTHLY_COLUMNS", "RUN_TITLE", "headline", "png_bytes", "render_run",
           "run_workbook", "write_outputs", "write_run_report"]
