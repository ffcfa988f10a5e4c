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
import os
import socket
import sys
import threading
import weakref
import webbrowser
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import panel as pn

from ..config import ConfigError
from ..config.schema import SECTIONS
from ..formatting import money, pct, signed_dollars
from .model import PLAN_OBJECTIVES, PLAN_SETTINGS, Explorer, Outcome, plan_limits

__all__ = ["ExploreApp", "SessionPool", "SessionQueue", "explore", "figures_png", "plan_html",
           "results_html", "serve"]

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
    return _html("results", table, min(24, now.months), parts, now, closed_note(now))


def closed_note(now: Outcome) -> str:
    """The one rule for closed (insolvent) businesses, in words, with this run's share."""
    share = now.p_insolvent.value or 0.0
    note = (f"A business that runs out of cash and credit closes ({pct(share)} of paths by "
            f"month {now.months}): from then on it counts as $0 MRR, $0 revenue and no "
            "customers, and keeps its cash deficit, in every number and chart here.")
    if now.at_horizon["mrr_p50"] == 0:
        note += (f" The median MRR at month {now.months} is $0 because at least half the "
                 "paths have closed or lost every customer by then.")
    return note


def plan_html(result: Any, stale: bool = False) -> str:
    """The "best plan" view of a :class:`~simulator.analysis.plan.PlanResult`: its own
    words (:meth:`~simulator.analysis.plan.PlanResult.lines`) and the precision it ran at.
    The best plan's name, P(out of cash) and P(correct selection) carry ``data-`` values
    for tests and scripts."""
    d = result.to_dict()
    precision = d["precision"]
    best = d["best"]
    note = (f"{len(d['screened'])} bundles screened at {precision['n_screen']:,} paths each, "
            f"the {len(d['finalists'])} finalists at {precision['n_final']:,} paths and more "
            f"shared by OCBA ({d['paths_simulated']:,} paths in {d['runs']} runs), seed "
            f"{d['seed']}, every plan on the same random numbers; for a firmer answer "
            f"(and plan.html, plan.xlsx) run msp-sim plan on the saved config")
    return _html("plan", result.lines(), best, d["p_correct_selection"], note, stale)


def _message_html(text: str, error: bool = False) -> str:
    return _html("message", text, error)


def _unregister_js_callbacks(layout: Any) -> None:
    """Take the page's JS links and callbacks out of Panel's registry.

    ``panel.links.Callback.registry`` is a ``WeakKeyDictionary`` keyed by a link's
    source, but its values (the links) hold their ``args`` strongly, and an editable
    slider's callback names its own slider: value -> key, so the key never dies, and
    through the widgets' watchers the whole page (its app, runs and figures) stayed
    alive after its session ended (issue 28: ~4 MB a page load). ``unwatch`` (a
    :class:`~panel.links.Callback`) and ``unlink`` (a :class:`~panel.links.Link`) are
    Panel's own ways to unregister one."""
    from panel.links import Callback, Link

    for viewable in layout.select():
        for callback in list(Callback.registry.get(viewable, ())):
            if isinstance(callback, Link):
                callback.unlink()
            else:
                callback.unwatch()



def default_workers() -> int:
    """Worker threads of a :class:`SessionPool`: one a core, 2 to 4 (the engine spreads
    each run over its own threads too, so more concurrent runs only share the cores)."""
    return max(2, min(4, os.cpu_count() or 1))


class SessionPool:
    """The worker threads every tab of one explorer shares (issue 28).

    A tab used to own a one-thread executor: 20 tabs, 20 threads and 20 runs at once,
    each thread with its own allocator arena, whose high-water mark stayed in the
    server's memory after the tabs closed (+45% to +76% RSS). Here the threads are
    made once per server, at most :attr:`workers` runs go at once whatever the number
    of tabs, and a closing tab ends no thread: it only drops its queued work
    (:class:`SessionQueue`).

    Parameters
    ----------
    workers : int, optional
        Runs at once (default :func:`default_workers`).
    """

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or default_workers())
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        self._executor = ThreadPoolExecutor(max_workers=self.workers,
                                            thread_name_prefix="msp-explore")
        # every thread now, not one by one as tabs come: the server's thread count is
        # the same before the first tab and after the last has closed
        meet = threading.Barrier(self.workers)
        for _ in range(self.workers):
            self._executor.submit(meet.wait, 10.0)

    def session(self) -> SessionQueue:
        """A new tab's queue on these threads."""
        return SessionQueue(self._executor)

    def shutdown(self, wait: bool = True) -> None:
        """End the threads (the server stops)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)


def _call(box: list[Any]) -> Any:
    """Run the work in ``box`` (``[fn, args, kwargs]``), emptied first: a cancelled item
    waiting in the shared queue then holds nothing of its page."""
    fn, args, kwargs = box
    box.clear()
    return fn(*args, **kwargs)


class SessionQueue(Executor):
    """One tab's share of a :class:`SessionPool`: an ``Executor`` (for
    ``loop.run_in_executor``) that keeps its own futures, so closing the tab cancels its
    queued work (and lets go of it at once) and can tell when its running work has
    finished (:meth:`when_idle`), while the threads go on serving the other tabs."""

    def __init__(self, executor: ThreadPoolExecutor):
        self._executor = executor
        self._lock = threading.Lock()
        self._work: dict[Future, list[Any]] = {}
        self._closed = False
        self._idle: list[Callable[[], None]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        box = [fn, args, kwargs]
        with self._lock:
            if self._closed:
                raise RuntimeError("the session has closed: no new work")
            future = self._executor.submit(_call, box)
            self._work[future] = box
        future.add_done_callback(self._done)
        return future

    @property
    def pending(self) -> int:
        """Work queued or running."""
        with self._lock:
            return len(self._work)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._work.pop(future, None)
            callbacks = self._idle if self._closed and not self._work else []
            if callbacks:
                self._idle = []
        for callback in callbacks:
            callback()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new work; ``cancel_futures``: drop the queued work (a running run finishes
        on its thread); ``wait``: until the running work has finished. The pool's
        threads go on."""
        with self._lock:
            self._closed = True
            work = list(self._work.items())
        if cancel_futures:
            for future, box in work:
                if future.cancel():
                    box.clear()
        if wait:
            import concurrent.futures

            concurrent.futures.wait([future for future, _ in work])
        self._done(Future())  # the idle callbacks when nothing was running

    def when_idle(self, callback: Callable[[], None]) -> None:
        """``callback()`` once the queue is shut down and its last work has finished (on
        the thread that finished it, or here and now when nothing is left)."""
        with self._lock:
            if not (self._closed and not self._work):
                self._idle.append(callback)
                return
        callback()


_SHARED: SessionPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> SessionPool:
    """The process's :class:`SessionPool` (explorers shown in notebook cells)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = SessionPool()
        return _SHARED


class ExploreApp:
    """The Panel layout of an :class:`Explorer` (``.layout``) and its callbacks."""

    def __init__(self, explorer: Explorer, autostart: bool = True,
                 pool: SessionPool | None = None):
        self.model = explorer
        self._autostart = autostart
        self._gen = 0
        self._pool = (shared_pool() if pool is None else pool).session()
        self.widgets: dict[str, Any] = {}
        self.message = pn.pane.HTML("", sizing_mode="stretch_width")
        self.status = pn.pane.HTML(_html("text", "simulating ...", "quiet"),
                                   sizing_mode="stretch_width")
        self.results = pn.pane.HTML("", sizing_mode="stretch_width", min_height=200)
        self.figures = {name: pn.pane.PNG(None, sizing_mode="scale_width", max_width=900)
                        for name, _ in FIGURES}
        self.changes = pn.pane.HTML("", sizing_mode="stretch_width")
        self.comparison = pn.pane.HTML("", sizing_mode="stretch_width")
        self.plan = pn.pane.HTML("", sizing_mode="stretch_width")
        self.layout = self._layout()

    def close(self) -> None:
        """Free what the page held (its browser session ended): a queued or running
        change is dropped (a running one finishes on the shared threads and is thrown
        away), the runs and figures are let go."""
        self._gen += 1
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.model.forget()
        _unregister_js_callbacks(self.layout)
        for pane in (*self.figures.values(), self.results, self.changes, self.comparison,
                     self.plan):
            pane.object = None
        self.widgets.clear()

    # -- widgets -----------------------------------------------------------------------

    def _control(self, control: Any) -> Any:
        value = self.model.value(control.key)
        tip = pn.widgets.TooltipIcon(value=control.describe())
        if control.kind == "toggle":
            widget = pn.widgets.Checkbox(label=control.label, value=bool(value))
            row = pn.Row(widget, tip, sizing_mode="stretch_width")
        else:
            lo = min(control.lo, value)
            hi = max(control.hi, value)
            cls = (pn.widgets.EditableIntSlider if control.kind == "integer"
                   else pn.widgets.EditableFloatSlider)
            # the label on a line of its own above the number box: beside it, a long
            # label squeezed the box until its value was clipped or hidden (issue 26)
            widget = cls(start=lo, end=hi, step=control.step, value=value,
                         sizing_mode="stretch_width", css_classes=["explore-control"])
            label = pn.pane.HTML(_html("control_label", control.label, control.unit),
                                 sizing_mode="stretch_width", margin=(8, 10, 0, 10))
            row = pn.Column(label, pn.Row(widget, tip, sizing_mode="stretch_width"),
                            sizing_mode="stretch_width")
        widget.param.watch(partial(self._changed, control.key), "value")
        self.widgets[control.key] = widget
        return row

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
        self.plan_objective = pn.widgets.Select(label="Maximize", options=list(PLAN_OBJECTIVES),
                                                value=PLAN_OBJECTIVES[0], width=150)
        self.plan_budget = pn.widgets.TextInput(label="Budget [$/month]", placeholder="none",
                                                width=150)
        self.plan_max_p = pn.widgets.TextInput(label="Max P(out of cash)",
                                               placeholder="none, or e.g. 5%", width=150)
        plan = pn.widgets.Button(label="Find the best plan", color="primary")
        plan.on_click(self._plan)
        self.buttons = {"save": save, "compare": add, "reset": reset, "plan": plan}
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
            self.comparison,
            pn.pane.HTML(_html("plan_note", PLAN_SETTINGS), sizing_mode="stretch_width"),
            pn.Row(self.plan_objective, self.plan_budget, self.plan_max_p, plan),
            self.plan, sizing_mode="stretch_width", min_width=600)
        layout = pn.Column(title, pn.Row(sidebar, main, sizing_mode="stretch_width"),
                           sizing_mode="stretch_width")
        if self._autostart:  # the first run once the page (or notebook cell) is shown
            # held weakly: Panel keeps onload callbacks in a WeakKeyDictionary keyed by
            # the document, so a callback holding this app (and through it the document)
            # would keep every page that never connected alive (~2 MB a page load)
            start = weakref.WeakMethod(self._start)

            async def first_run() -> None:
                method = start()
                if method is not None:
                    await method()

            pn.state.onload(first_run)
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
        from ..formatting import printable

        typed = self.save_path.value.strip()
        try:
            path = self.model.save(confined_path(typed))
        except (ConfigError, ValueError) as exc:  # ValueError: OutputDirError too
            self.message.object = _message_html(str(exc), error=True)
            return
        except OSError as exc:
            self.message.object = _message_html(
                f"{printable(typed)}: cannot write it ({exc.strerror or exc})", error=True)
            return
        except Exception as exc:  # reported on the page, never an uncaught callback error
            self.message.object = _message_html(
                f"{printable(typed)}: not saved ({type(exc).__name__}: {exc})", error=True)
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

    async def _plan(self, event: Any = None) -> None:
        """Search the best plan of the current settings on the worker thread (one search at
        a time: the button is off meanwhile)."""
        try:
            budget, max_p = plan_limits(self.plan_budget.value, self.plan_max_p.value)
        except ConfigError as exc:
            self.plan.object = _message_html(str(exc), error=True)
            return
        button = self.buttons["plan"]
        button.disabled = True
        self.plan.object = _html("text", "searching the plans ...", "quiet")
        config = self.model.config
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._pool, partial(
                self.model.plan, self.plan_objective.value, budget, max_p))
        except (ConfigError, ValueError) as exc:  # e.g. more bundles than allowed
            self.plan.object = _message_html(f"plan: {exc}", error=True)
            return
        finally:
            button.disabled = False
        if not self.widgets:  # the page closed meanwhile
            return
        self.plan.object = plan_html(result, stale=self.model.config != config)


def confined_path(text: str, root: Path | None = None) -> Path:
    """The file "Save as config" may write for ``text``: inside ``root`` (the working
    directory), links resolved, so a page can never write elsewhere.

    Raises
    ------
    ConfigError
        Empty, or outside the working directory (``..``, an absolute path, ``~``, a link
        leading out).
    """
    from ..config.errors import MISSING
    from ..formatting import printable

    root = (Path.cwd() if root is None else root).resolve()
    shown = printable(text) or '""'
    if not text:
        raise ConfigError("save as", [("", MISSING, "an empty file name; allowed: a new "
                                       ".toml file in the working directory")])
    path = (root / text).resolve()
    if root not in path.parents:
        raise ConfigError(shown, [("", MISSING, f"outside the working directory {root}; "
                                   "allowed: a new .toml file in it (or a folder in it)")])
    return path


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


SESSION_CHECK_MS = 2_000
SESSION_LIFETIME_MS = 15_000
"""A session whose page never connected (or whose tab closed) ends this long after,
checked every :data:`SESSION_CHECK_MS` (Bokeh's defaults: 15 s, every 17 s)."""


RELEASE_DELAY_S = 2.0
"""How long after a closed session's last run has finished the freed heap is handed
back: Bokeh discards the session's document after the ``on_session_destroyed``
callbacks, so a trim inside the callback finds most of the page still alive."""


def _release_after(queue: SessionQueue, loop: Any, delay_s: float = RELEASE_DELAY_S
                   ) -> None:
    """Once ``queue`` (a closed tab's share of the worker threads) has no run left, and
    ``delay_s`` later, :func:`_release_memory` on ``loop`` (the server's Tornado loop).
    No thread is started or ended."""

    def idle() -> None:  # on a worker thread, or here
        loop.add_callback(loop.call_later, delay_s, _release_memory)  # thread-safe

    queue.when_idle(idle)


def _release_memory() -> None:
    """Collect a closed session's objects and hand freed heap back to the system
    (glibc keeps freed pages otherwise, so RSS never falls back)."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass


def host_check(hosts: list[str]) -> Any:
    """A Bokeh authorization hook (``bokeh.server.auth_provider.AuthProvider``, public:
    the ``auth_provider`` a Bokeh ``Server`` takes) that answers 403 to any request
    whose ``Host`` is not one of ``hosts`` (``name:port``): a page of another site
    reaching 127.0.0.1 through DNS rebinding names its own host.

    Every Bokeh and Panel handler of a page, its websocket and its metadata asks the
    hook for the user before it answers (Tornado's ``authenticated``); the hook's
    ``get_user`` refuses a foreign ``Host`` there. Bokeh's own
    ``allow_websocket_origin`` checks a websocket's ``Origin``, not a request's
    ``Host``."""
    import tornado.web
    from bokeh.server.auth_provider import AuthProvider

    allowed = frozenset(h.lower() for h in hosts)

    def refuse(handler: Any) -> str:
        raise tornado.web.HTTPError(403, "Host %s is not this explorer's address",
                                    handler.request.host)

    def user(handler: Any) -> str:
        if handler.request.host.lower() not in allowed:
            refuse(handler)
        return "local"

    class HostCheck(AuthProvider):
        @property
        def get_user(self) -> Callable[[Any], str]:
            return user

        @property
        def get_login_url(self) -> Callable[[Any], str]:
            return refuse

    return HostCheck()


def serve(config: str | Path, overrides: Any = None, *, port: int = 5006,
          address: str = "127.0.0.1", show: bool = True, paths: int | None = None,
          drag_paths: int | None = None, max_sessions: int = 8,
          workers: int | None = None) -> None:
    """Serve the explorer of a config file at ``http://address:port/`` until interrupted
    (each browser tab gets its own settings).

    At most ``max_sessions`` tabs at once (another gets a page saying so); every tab's
    runs share ``workers`` threads (default :func:`default_workers`, made once); a
    closed tab's session drops its queued runs and frees its runs and figures; a request
    whose ``Host`` is not the bound address is refused (403); "Save as config" writes
    only inside the working directory."""
    from tornado.ioloop import IOLoop

    from .model import DRAG_PATHS, REST_PATHS

    kwargs = {"paths": paths or REST_PATHS, "drag_paths": drag_paths or DRAG_PATHS}
    Explorer(config, overrides, **kwargs)  # a bad config stops here, with its message
    port = free_port(address) if port == 0 else port
    live: set[int] = set()  # the open sessions' apps (by id)
    pool = SessionPool(workers)  # every tab's runs, on threads made once
    base_runs: dict[int, Any] = {}  # the starting config's runs, one copy for every tab

    def app() -> Any:
        pn.extension(design="native")
        if len(live) >= max_sessions:
            return pn.pane.HTML(_message_html(
                f"{len(live)} explorer tabs are open, the most this explorer serves; "
                "close one (its session ends within a minute) and reload", error=True))
        page = ExploreApp(Explorer(config, overrides, base_runs=base_runs, **kwargs),
                          pool=pool)
        live.add(id(page))

        def closed(context: Any) -> None:
            live.discard(id(page))
            page.close()
            _release_after(page._pool, IOLoop.current())  # the server's loop

        pn.state.on_session_destroyed(closed)
        return page.layout

    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "::1") else address
    bound = f"[{address}]" if ":" in address else address
    origins = [f"{bound}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    if address == "::1":
        origins.append(f"[::1]:{port}")
    guard = {} if address in ("0.0.0.0", "::") else {"auth_provider": host_check(origins)}
    server = pn.serve({"/": app}, port=port, address=address, websocket_origin=origins,
                      show=False, start=False, title=f"msp-sim explore: {config}",
                      verbose=False, check_unused_sessions=SESSION_CHECK_MS,
                      unused_session_lifetime=SESSION_LIFETIME_MS, **guard)
    url = f"http://{host if address == '0.0.0.0' else address}:{port}/"
    print(f"msp-sim explore: serving {config} at {url} (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    if show:
        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    server.io_loop.start()
