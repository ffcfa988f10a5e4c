"""A run's figures drawn in a forked child process (:mod:`simulator.report.child`): the
same files as drawn in the process, a failing or killed child redrawn here (so errors
surface as usual), the child never outliving the writer, and no fork when threads run."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from simulator import cli, report
from simulator.report import child

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the figures are forked on Linux only")

BOTH_WAYS = r"""
import json, os, sys
from simulator.api import simulate
from simulator.config import load_config
from simulator.report import child, write_outputs

result = simulate(load_config(sys.argv[1], overrides={"simulation.paths": 400}),
                  progress=False)
forked = []
real = child.Drawing.__init__
def init(self, draw):
    real(self, draw)
    forked.append(self.forked)
    print("why not:", self.why_not, file=sys.stderr)
child.Drawing.__init__ = init
write_outputs(result, sys.argv[2])
os.environ[child.DISABLE_ENV] = "0"
write_outputs(result, sys.argv[3])
print(json.dumps(forked))
"""


def _workbook_parts(path: Path) -> dict[str, bytes]:
    """The workbook's members but its creation time (``docProps/core.xml``)."""
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()
                if name != "docProps/core.xml"}


def _both_ways(workdir: Path) -> dict:
    env = dict(os.environ)
    env.pop(child.DISABLE_ENV, None)
    baseline = Path(__file__).resolve().parents[1] / "configs" / "baseline.toml"
    return dict(args=[sys.executable, "-c", BOTH_WAYS, str(baseline), str(workdir / "forked"),
                      str(workdir / "here")], env=env, timeout=300)


BACKGROUND = {"both_ways": _both_ways}
"""Started once the session's tests are collected (tests/conftest.py): the fresh process
(~8 s of CPU, one core) draws its run's files while the other tests run."""


@pytest.mark.background("both_ways")
def test_figures_drawn_in_a_child_give_the_same_files(background):
    """A fresh process (no thread but the BLAS pools: it forks) writes a run directory
    with the figures drawn in a child, then with ``MSP_SIM_FIGURE_PROCESS=0``: every
    file is the same bytes (the workbook but its creation time)."""
    proc, workdir = background("both_ways")
    forked, here = workdir / "forked", workdir / "here"
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [True, False], proc.stderr
    names = sorted(p.name for p in forked.iterdir())
    assert names == sorted(p.name for p in here.iterdir())
    assert {"fan_chart.png", "time_to_threshold.png", "report.html"} <= set(names)
    for name in names:
        if name == "results.xlsx":
            assert _workbook_parts(forked / name) == _workbook_parts(here / name)
        else:
            assert (forked / name).read_bytes() == (here / name).read_bytes(), name


@pytest.fixture
def fork_anyway(monkeypatch):
    """Fork even in the test process (its threads do not touch what these children do)."""
    monkeypatch.setattr(child, "fork_unsafe", lambda: None)


def test_a_child_that_fails_is_redrawn_here(fork_anyway):
    parent = os.getpid()

    def draw():
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return "drawn here"

    with child.Drawing(draw) as drawing:
        assert drawing.forked
        assert drawing.result() == "drawn here"


def test_a_killed_child_is_redrawn_here(fork_anyway):
    parent = os.getpid()

    def draw():
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return "drawn here"

    with child.Drawing(draw) as drawing:
        assert drawing.forked
        assert drawing.result() == "drawn here"


def test_an_error_in_drawing_is_the_usual_error(fork_anyway):
    def draw():
        raise ValueError("no ink")

    with child.Drawing(draw) as drawing, pytest.raises(ValueError, match="no ink"):
        drawing.result()


def test_the_child_does_not_outlive_the_writer(fork_anyway):
    def draw():
        time.sleep(60)

    start = time.perf_counter()
    with pytest.raises(KeyError), child.Drawing(draw) as drawing:
        pid = drawing._pid
        raise KeyError("the parent stops")
    assert time.perf_counter() - start < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped


def test_a_figure_error_in_a_run_is_one_line_and_nothing_written(
        tmp_path, baseline_path, monkeypatch, capsys, fork_anyway):
    def boom(*args, **kwargs):
        raise RuntimeError("no ink")

    monkeypatch.setattr(report.run.files, "run_figures", boom)
    out = tmp_path / "run"
    code = cli.main(["run", str(baseline_path), "--paths", "200", "--no-levers",
                     "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: internal error (RuntimeError: no ink); nothing written")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_no_fork_while_other_threads_run(monkeypatch):
    monkeypatch.delenv(child.DISABLE_ENV, raising=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert child.fork_unsafe() == "other threads are running"
        drawing = child.Drawing(lambda: "drawn here")
        assert not drawing.forked and drawing.result() == "drawn here"
    finally:
        stop.set()
        other.join()
    monkeypatch.setenv(child.DISABLE_ENV, "0")
    assert child.fork_unsafe() == f"{child.DISABLE_ENV}=0"


def test_a_signal_while_waiting_for_the_child_ends_it_at_once(fork_anyway):
    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.perf_counter()
    try:
        with child.Drawing(lambda: time.sleep(60)) as drawing:
            pid = drawing._pid
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            with pytest.raises(Stop):
                drawing.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
