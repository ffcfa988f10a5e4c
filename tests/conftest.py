"""Shared fixtures: small configs and cached baseline runs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"


@pytest.fixture(params=["reference", "engine"])
def runner(request):
    """Either runner of the model, for the oracles written from docs/model.md: the
    plain-Python reference or the compiled engine's ``run_chunk`` (same signature)."""
    if request.param == "reference":
        from simulator.model.reference import simulate_reference
        return simulate_reference
    return pytest.importorskip("simulator.engine").run_chunk


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return BASELINE


@pytest.fixture(scope="session")
def make_run_printed(tmp_path_factory) -> list[str]:
    """The lines ``make run`` (``msp-sim run configs/baseline.toml``) prints, run once for
    the session: the README's quick-start blocks are checked against them
    (tests/test_readme.py, tests/test_readme_examples.py)."""
    import contextlib
    import io
    import os

    from simulator.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    out = tmp_path_factory.mktemp("make_run") / "out"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["run", "configs/baseline.toml", "--out", str(out), "--no-progress"])
    finally:
        os.chdir(cwd)
    assert code == 0, stderr.getvalue()
    return stdout.getvalue().splitlines()



# -- subprocesses started early ---------------------------------------------------------
#
# A test marked ``@pytest.mark.background("key")`` whose module defines
# ``BACKGROUND = {"key": command}`` gets its subprocess started as soon as the session's
# tests are collected (when that test is among them), so that a long, mostly
# single-threaded subprocess (mypy with a cold cache, a 2 x 500k-path comparison) runs
# while the other tests do. The test itself waits for it (the ``background`` fixture) and
# makes its assertions on the result, so a failure is reported by that test, as before.
# ``command(workdir)`` returns ``subprocess.run``-style keyword arguments: ``args`` and
# any of ``cwd``, ``env``, ``timeout`` (seconds from its start); ``workdir`` is a fresh
# private folder (0700) of its own, removed at the end of the session.


class _Job:
    """One subprocess with its output in unnamed temporary files (no pipe to fill)."""

    def __init__(self, command) -> None:
        import subprocess
        import tempfile
        import time

        self.workdir = Path(tempfile.mkdtemp(prefix="msp-sim-test-bg-"))
        spec = dict(command(self.workdir))
        self.args = spec.pop("args")
        self.timeout = spec.pop("timeout", 600)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self._started = time.monotonic()
        self.proc = subprocess.Popen(self.args, stdout=self._out, stderr=self._err, **spec)
        self._result = None

    def result(self):
        """The finished subprocess as ``subprocess.run`` gives it (text output); a
        ``subprocess.TimeoutExpired`` once ``timeout`` seconds passed since its start."""
        import subprocess
        import time

        if self._result is None:
            left = max(self.timeout - (time.monotonic() - self._started), 0.0)
            try:
                code = self.proc.wait(left)
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            outputs = []
            for fh in (self._out, self._err):
                fh.seek(0)
                outputs.append(fh.read().decode(errors="replace"))
            self._result = subprocess.CompletedProcess(self.args, code, *outputs)
        return self._result

    def stop(self) -> None:
        """Kill it if it still runs; close its files and remove its folder."""
        import shutil

        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fh in (self._out, self._err):
            fh.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


_JOBS: dict[tuple[str, str], _Job] = {}


def _job(module, key: str) -> _Job:
    """The module's background job ``key``, started now if it was not yet."""
    job = _JOBS.get((module.__name__, key))
    if job is None:
        job = _JOBS[(module.__name__, key)] = _Job(module.BACKGROUND[key])
    return job


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    for item in session.items:
        if any(mark.name == "skip" or (mark.name == "skipif" and mark.args
                                       and mark.args[0] is True)
               for mark in item.iter_markers()):
            continue  # a test skipped for sure: nothing to wait for
        for mark in item.iter_markers("background"):
            _job(item.module, mark.args[0])


def pytest_sessionfinish(session) -> None:
    while _JOBS:
        _JOBS.popitem()[1].stop()


@pytest.fixture
def background(request):
    """``background(key)``: the test's own background subprocess (see above), waited
    for: ``(subprocess.CompletedProcess, workdir)``."""

    def result(key: str):
        marks = [mark.args[0] for mark in request.node.iter_markers("background")]
        assert key in marks, f"mark the test @pytest.mark.background({key!r})"
        job = _job(request.module, key)
        return job.result(), job.workdir

    return result
