"""The config layer's error and its message format, imported by every module that
reports a config mistake (loader, correlations, the analyses).

One problem is ``(key, value, message)``; :class:`ConfigError` turns each into
one line ``FILE: KEY = VALUE: problem; allowed: ...``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["MISSING", "ConfigError", "RawText"]


class ConfigError(ValueError):
    """A config or override the simulator cannot run.

    Parameters
    ----------
    source : str
        The file (or a parameter: ``"overrides"``) the mistake comes from.
    problems : list of (key, value, message)
        One entry per mistake found: the dotted key (``""`` for the whole
        file), the offending value as given (a private sentinel when there
        is none) and the message ``"<problem>: got ...; allowed: ..."``.

    Attributes
    ----------
    source : str
    problems : list of (str, Any, str)
    """

    def __init__(self, source: str, problems: list[tuple[str, Any, str]]):
        self.source = source
        self.problems = problems
        lines = []
        for key, value, message in problems:
            if key and value is not MISSING:
                shown = _show(value)
                if len(shown) > _SHOWN_MAX:  # a value, not a file's worth of text
                    shown = shown[:_SHOWN_MAX - 3] + "..."
                lines.append(f"{source}: {key} = {shown}: {message}")
            elif key:
                lines.append(f"{source}: {key}: {message}")
            else:
                lines.append(f"{source}: {message}")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.problems))


class _Missing:
    """Marks a problem without a value (a missing file, a ``--set`` without ``=``)."""

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class RawText(str):
    """Text typed on the command line, shown as typed (not quoted) in messages."""


_SHOWN_MAX = 120
"""The most characters of a value a message quotes."""


def _show(value: Any) -> str:
    """A value as it would be written in TOML (``"abc"``, ``true``, ``{low = 1}``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, RawText):
        from ..formatting import printable

        return printable(str(value))
    if isinstance(value, str):
        from ..formatting import printable

        return '"' + printable(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, BaseModel) and hasattr(value, "describe"):
        return value.describe()
    return str(value)
