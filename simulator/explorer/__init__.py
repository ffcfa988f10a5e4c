"""The interactive explorer: move a control, see the answer change.

:class:`Explorer` (:mod:`simulator.explorer.model`) holds the computations and
needs nothing beyond msp-sim itself; :func:`explore` builds the Panel app
(:mod:`simulator.explorer.app`, ``pip install 'msp-sim[explore]'``) that runs
in a notebook cell and, through ``msp-sim explore CONFIG``, as a local web app.
"""

from __future__ import annotations

from typing import Any

from .model import CONTROLS, Control, Explorer, Outcome

__all__ = ["CONTROLS", "Control", "Explorer", "Outcome", "explore"]


def explore(config: Any, overrides: Any = None, **kwargs: Any) -> Any:
    """The explorer of ``config`` (a Config or a TOML file) as a Panel layout: display it
    in a notebook cell; see :func:`simulator.explore.app.explore`."""
    from .app import explore as _explore

    return _explore(config, overrides, **kwargs)
