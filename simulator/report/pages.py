"""The page machinery every report kind shares: Jinja2 templates with autoescaping.

Each kind's module (:mod:`.run`, :mod:`.compare`, ...) has a ``render_*``
function that gathers what its page shows from an analysis result (numbers,
and sentences as plain text) and renders its template through
:func:`render_page` (``templates/<kind>.html``, on ``base.html`` and the
partials of ``_macros.html``). Jinja escapes every value, so a scenario name such as
``<script>`` is text on the page; no page is built from HTML strings here.
Figures arrive as PNG bytes and are embedded as ``data:`` URIs: a page is
one self-contained file that opens with no server and has no JavaScript.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from ..config.describe import ConfigRow, config_rows
from ..formatting import FILTERS
from ..version import package_version
from .glossary import TERMS, cite

if TYPE_CHECKING:
    from ..config import Config
    from .style import ReportFigure

__all__ = ["environment", "input_sections", "png_data_uri", "render_page", "write_report"]


def write_report(out_dir: str | Path, allowed: frozenset[str], files: Mapping[str, bytes | str],
                 figures: Sequence[ReportFigure] = (),
                 png_names: Mapping[str, str] | None = None) -> Path:
    """Write a report's ``files`` (name -> text or bytes: its JSON, page, workbook) and
    its ``figures`` as PNG files, as the directory ``out_dir``, all or nothing
    (:func:`simulator.output.write_directory`; ``allowed``: the names it may hold).

    ``png_names`` maps a figure's section to its file name; default every figure as
    ``<section>.png``. Returns the directory.
    """
    from ..output import write_directory

    pngs = ({f"{f.section}.png": f.png for f in figures} if png_names is None
            else {png_names[f.section]: f.png for f in figures if f.section in png_names})
    return write_directory(out_dir, {**files, **pngs}, allowed)


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of every page: package templates, autoescaping, strict names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters["png_data_uri"] = png_data_uri
    env.filters["cite"] = cite
    env.globals["TERMS"] = TERMS
    return env


def render_page(template: str, **context: Any) -> str:
    context.setdefault("version", package_version())
    return environment().get_template(template).render(**context)


def input_sections(config: Config, sources: Mapping[str, str] | None = None
                    ) -> list[tuple[str, list[ConfigRow]]]:
    """The config's rows grouped by section, in schema order, each with where its value
    comes from (``sources``, the config, or the default's source)."""
    sections: dict[str, list[ConfigRow]] = {}
    for row in config_rows(config, sources=sources):
        sections.setdefault(row.key.split(".", 1)[0], []).append(row)
    return list(sections.items())

