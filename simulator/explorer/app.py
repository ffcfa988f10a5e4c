"""The explorer's Panel app: widgets bound to an :class:`~simulator.explorer.Explorer`.

One app serves both places: :func:`explore` returns it for a notebook cell,
:func:`serve` runs it as a local web app (``msp-sim explore CONFIG``, bound to
127.0.0.1 by default; nothing is loaded from the internet).

A change starts a run on a worker thread (the engine releases the
interpreter), so the page stays responsive. Every change takes a new
generation number; a run whose generation is no longer the newest is
dropped when it finishes, and one still queued is skipped, so a change made
while a run is going cancels it. Each change is first simulated with
:data:`~simulator.explorer.model.DRAG_PATHS` paths (the numbers only: quick
enough to follow a dragged slider), then, when no newer change has come, with
:data:`~simulator.explorer.model.REST_PATHS` paths and the figures.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import sys
import webbrowser
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import panel as pn

from ..config import ConfigError
from ..config.schema import SECTIONS
from ..formatting import money, pct, signed_dollars
from .model import Explorer, Outcome

__all__ = ["ExploreApp", "explore", "figures_png", "results_html", "serve"]

FIGURES: tuple[tuple[str, str], ...] = (
    ("fan_chart", "MRR fan chart"),
    ("time_to_threshold_chart", "Time to the threshold"),
    ("owner_month_chart", "The owner's month"),
    ("profit_cash_chart", "Profit and cash"),
)
_OWNER_LABELS = {
    "owner_escalation_hours": "escalated tickets",
    "owner_overflow_hours": "tickets the technicians could not take",
    "owner_management_hours": "managing staff",
    "owner_account_hours": "account care",
    "owner_sales_hours": "selling",
}


def figures_png(outcome: Outcome) -> dict[str, bytes]:
    """The report's figures of a run as PNG bytes, by figure name."""
    from ..report import run as figures

    return {name: figures.png_bytes(getattr(figures, name)(outcome.result))
            for name, _ in FIGURES}


def _pp(x: float | None) -> str:
    return "" if x is None else f"{100 * x:+.1f} pp"


def _money_diff(x: float | None) -> str:
    return "" if x is None else signed_dollars(x)


def _months(x: float | None) -> str:
    return "beyond the horizon" if x is None else f"{x:g} months"


def _months_diff(x: float | None) -> str:
    return "" if x is None else f"{x:+g} months"


@functools.cache
def _fragments() -> Any:
    """The macros of templates/explore.html (Jinja2, autoescaped)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("simulator.explorer", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("explore.html").module


def _html(name: str, *args: Any) -> str:
    return str(getattr(_fragments(), name)(*args))


def results_html(now: Outcome, base: Outcome | None = None) -> str:
    """The headline table: each number now, in the starting config (same seed and
    paths) and the difference. Cells carry ``id`` and ``data-value`` (the exact
    number) for tests and scripts."""
    thr = money(now.threshold_mrr)
    a = now.numbers()
    b = base.numbers() if base is not None and base.n_paths == now.n_paths else {}

    def diff(key: str) -> float | None:
        return None if a.get(key) is None or b.get(key) is None else a[key] - b[key]

    rows: list[tuple[str, str, Callable[[Any], str], Callable[[Any], str]]] = [
        *((f"p_break_by_{m}", f"P(MRR \u2265 {thr} by {now.result.month_label(m)})",
           pct, _pp) for m in now.p_break),
        ("median_months", f"Median time to {thr}", _months, _months_diff),
        ("mrr_p50", f"Median MRR at month {now.months}", money, _money_diff),
        ("p_insolvent", f"P(out of cash and credit by month {now.months})", pct, _pp),
        ("cash_p10", f"Cash at month {now.months}, p10", money, _money_diff),
        ("cash_p50", f"Cash at month {now.months}, p50", money, _money_diff),
    ]
    table = []
    for key, label, fmt, dfmt in rows:
        value = a.get(key)
        table.append({"id": key.replace("_", "-"), "label": label,
                      "value": "" if value is None else repr(float(value)),
                      "now": fmt(value), "base": fmt(b.get(key)) if b else "",
                      "diff": dfmt(diff(key))})
    share = now.owner_share
    parts = ", ".join(f"{label} {100 * share.get(name, 0.0):.0f}%"
                      for name, label in _OWNER_LABELS.items())
    return _html("results", table, min(24, now.months), parts, now)


def _message_html(text: str, error: bool = False) -> str:
    return _html("message", text, error)


class ExploreApp:
    """The Panel layout of an :class:`Explorer` (``.layout``) and its callbacks."""

    def __init__(self, explorer: Explorer, autostart: bool = True):
        self.model = explorer
        self._autostart = autostart
        self._gen = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="msp-explore")
        self.widgets: dict[str, Any] = {}
        self.message = pn.pane.HTML("", sizing_mode="stretch_width")
        self.status = pn.pane.HTML(_html("text", "simulating ...", "quiet"),
                                   sizing_mode="stretch_width")
        self.results = pn.pane.HTML("", sizing_mode="stretch_width", min_height=200)
        self.figures = {name: pn.pane.PNG(None, sizing_mode="scale_width", max_width=900)
                        for name, _ in FIGURES}
        self.changes = pn.pane.HTML("", sizing_mode="stretch_width")
        self.comparison = pn.pane.HTML("", sizing_mode="stretch_width")
        self.layout = self._layout()

    # -- widgets -----------------------------------------------------------------------

    def _control(self, control: Any) -> Any:
        value = self.model.value(control.key)
        label = f"{control.label} [{control.unit}]"
        if control.kind == "toggle":
            widget = pn.widgets.Checkbox(label=control.label, value=bool(value))
        else:
            lo = min(control.lo, value)
            hi = max(control.hi, value)
            cls = (pn.widgets.EditableIntSlider if control.kind == "integer"
                   else pn.widgets.EditableFloatSlider)
            widget = cls(label=label, start=lo, end=hi, step=control.step, value=value,
                         sizing_mode="stretch_width")
        widget.param.watch(partial(self._changed, control.key), "value")
        self.widgets[control.key] = widget
        return pn.Row(widget, pn.widgets.TooltipIcon(value=control.describe()),
                      sizing_mode="stretch_width")

    def _field(self, key: str) -> Any:
        name = key.split(".", 1)[1]
        unit = self.model.unit(key)
        widget = pn.widgets.TextInput(label=f"{name} [{unit}]" if unit else name,
                                      value=self.model.value(key),
                                      description=self.model.describe(key),
                                      sizing_mode="stretch_width")
        widget.param.watch(partial(self._changed, key), "value")
        self.widgets[key] = widget
        return widget

    def _layout(self) -> Any:
        controls = [self._control(c) for c in self.model.controls]
        by_section: dict[str, list[Any]] = {}
        for key in self.model.other_keys():
            by_section.setdefault(key.split(".")[0], []).append(self._field(key))
        others = pn.Accordion(*((f"[{s}]", pn.Column(*by_section[s], sizing_mode="stretch_width"))
                                for s in SECTIONS if s in by_section),
                              sizing_mode="stretch_width")
        self.save_path = pn.widgets.TextInput(label="Save as (a new .toml file)",
                                              value=self._default_save_path())
        save = pn.widgets.Button(label="Save as config", color="primary")
        save.on_click(self._save)
        self.scenario_name = pn.widgets.TextInput(label="Scenario name", placeholder="settings 1")
        add = pn.widgets.Button(label="Compare", color="success")
        add.on_click(self._compare)
        reset = pn.widgets.Button(label="Back to the starting config")
        reset.on_click(self._reset)
        self.buttons = {"save": save, "compare": add, "reset": reset}
        title = pn.pane.HTML(_html("heading", self.model.source), sizing_mode="stretch_width")
        sidebar = pn.Column(
            pn.pane.HTML(_html("controls_note")),
            *controls, reset,
            pn.pane.HTML(_html("fields_note")),
            others, width=380)
        tabs = pn.Tabs(*((label, self.figures[name]) for name, label in FIGURES),
                       sizing_mode="stretch_width")
        main = pn.Column(
            self.message, self.results, self.status, tabs,
            pn.pane.HTML(_html("text", "Changed from the starting config", "bold")), self.changes,
            pn.Row(self.save_path, save), pn.Row(self.scenario_name, add),
            self.comparison, sizing_mode="stretch_width", min_width=600)
        layout = pn.Column(title, pn.Row(sidebar, main, sizing_mode="stretch_width"),
                           sizing_mode="stretch_width")
        if self._autostart:  # the first run once the page (or notebook cell) is shown
            pn.state.onload(self._start)
        return layout

    def _default_save_path(self) -> str:
        stem = self.model.path.stem if self.model.path is not None else "explored"
        folder = self.model.path.parent if self.model.path is not None else Path(".")
        for i in range(1, 1000):
            candidate = folder / f"{stem}-explore{'' if i == 1 else f'-{i}'}.toml"
            if not candidate.exists():
                return str(candidate)
        return str(folder / f"{stem}-explore.toml")  # pragma: no cover

    # -- callbacks ---------------------------------------------------------------------

    async def _start(self) -> None:
        await self.refresh()

    async def _changed(self, key: str, event: Any) -> None:
        try:
            self.model.set(key, event.new)
        except ConfigError as exc:
            self.message.object = _message_html(str(exc), error=True)
            return
        self.message.object = ""
        await self.refresh()

    async def _reset(self, event: Any = None) -> None:
        self.model.reset()
        self._gen += 1  # the widgets' own events below run one refresh
        for key, widget in self.widgets.items():
            widget.param.update(value=self.model.value(key))
        self.message.object = ""
        await self.refresh()

    def _work(self, gen: int, config: Any, n_paths: int, full: bool) -> Any:
        """On the worker thread: the run, unless a newer change has come."""
        if gen != self._gen:
            return None
        base = self.model.baseline(n_paths)
        now = self.model.run(n_paths, config=config)
        if gen != self._gen:
            return None
        return now, base, figures_png(now) if full else None

    async def refresh(self) -> None:
        """Simulate the current settings: quickly with fewer paths, then, when nothing
        has changed meanwhile, with all the paths and the figures."""
        self._gen += 1
        gen = self._gen
        config = self.model.config
        loop = asyncio.get_running_loop()
        passes = [(self.model.paths, True)]
        if self.model.drag_paths < self.model.paths:
            passes.insert(0, (self.model.drag_paths, False))
        self.status.object = _html("text", "simulating ...", "quiet")
        for n_paths, full in passes:
            try:
                out = await loop.run_in_executor(self._pool, self._work, gen, config, n_paths,
                                                 full)
            except ConfigError as exc:
                self.message.object = _message_html(str(exc), error=True)
                return
            if out is None or gen != self._gen:
                return  # a newer change is on its way
            self.show(*out)

    def show(self, now: Outcome, base: Outcome, pngs: dict[str, bytes] | None) -> None:
        """Put a run's numbers (and figures) on the page."""
        self.results.object = results_html(now, base)
        self.status.object = ("" if pngs is not None else
                              _html("text", "more paths and the figures ...", "quiet"))
        if pngs is not None:
            for name, png in pngs.items():
                self.figures[name].object = png
        self.changes.object = _html("changes", self.model.changes())

    async def _save(self, event: Any = None) -> None:
        try:
            path = self.model.save(self.save_path.value.strip())
        except ConfigError as exc:
            self.message.object = _message_html(str(exc), error=True)
            return
        except OSError as exc:
            self.message.object = _message_html(f"{self.save_path.value}: {exc}", error=True)
            return
        self.message.object = _message_html(f"wrote {path}: msp-sim run {path}")
        self.save_path.value = self._default_save_path()

    async def _compare(self, event: Any = None) -> None:
        try:
            self.model.add_scenario(self.scenario_name.value)
        except ConfigError as exc:
            self.message.object = _message_html(str(exc), error=True)
            return
        self.scenario_name.value = ""
        self.comparison.object = _html("text", "comparing ...", "quiet")
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._pool, self.model.compare)
        except ConfigError as exc:
            self.comparison.object = _message_html(str(exc), error=True)
            return
        self.comparison.object = _html("comparison", result.format_summary(),
                                       result.scenarios[1:])


def explore(config: Any, overrides: Any = None, *, paths: int | None = None,
            drag_paths: int | None = None) -> Any:
    """The explorer of ``config`` (a :class:`~simulator.config.Config` or a TOML file) as a
    Panel layout; display it in a notebook cell.

    Parameters
    ----------
    config : Config or path
    overrides : mapping or ``"KEY=VALUE"`` strings, optional
        Applied to the starting config.
    paths, drag_paths : int, optional
        Paths per run when a control rests (default 5,000) and while it moves
        (default 1,000).
    """
    from .model import DRAG_PATHS, REST_PATHS

    pn.extension(design="native")
    model = Explorer(config, overrides, paths=paths or REST_PATHS,
                     drag_paths=drag_paths or DRAG_PATHS)
    return ExploreApp(model).layout


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def serve(config: str | Path, overrides: Any = None, *, port: int = 5006,
          address: str = "127.0.0.1", show: bool = True, paths: int | None = None,
          drag_paths: int | None = None) -> None:
    """Serve the explorer of a config file at ``http://address:port/`` until interrupted
    (each browser tab gets its own settings)."""
    from .model import DRAG_PATHS, REST_PATHS

    kwargs = {"paths": paths or REST_PATHS, "drag_paths": drag_paths or DRAG_PATHS}
    Explorer(config, overrides, **kwargs)  # a bad config stops here, with its message
    port = free_port(address) if port == 0 else port

    def app() -> Any:
        pn.extension(design="native")
        return ExploreApp(Explorer(config, overrides, **kwargs)).layout

    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "::1") else address
    origins = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    server = pn.serve({"/": app}, port=port, address=address, websocket_origin=origins,
                      show=False, start=False, title=f"msp-sim explore: {config}",
                      verbose=False)
    url = f"http://{host if address == '0.0.0.0' else address}:{port}/"
    print(f"msp-sim explore: serving {config} at {url} (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    if show:
        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    server.io_loop.start()
