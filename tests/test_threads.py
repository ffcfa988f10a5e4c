"""The engine's parallel loop (simulator.engine._threads) and engine_ready()."""

from __future__ import annotations

import threading
import time

import numba
import numpy as np
import pytest

import simulator
from simulator import api
from simulator.engine import _threads, run_chunk
from simulator.model import sampling


@pytest.fixture
def threads():
    """Set numba's thread count for a test, restored afterwards."""
    before = numba.get_num_threads()
    yield numba.set_num_threads
    numba.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 100, 513, 5000])
@pytest.mark.parametrize("count", [1, 2])
def test_blocks_cover_the_range_once(n, count, threads):
    threads(count)
    seen = np.zeros(n, dtype=np.int64)
    lock = threading.Lock()

    def body(lo, hi):
        assert 0 <= lo < hi <= n
        with lock:
            seen[lo:hi] += 1

    _threads.run_blocks(body, n)
    np.testing.assert_array_equal(seen, 1)


def test_block_size_bounds():
    assert _threads.block_size(10, 2) == 16
    assert _threads.block_size(8192, 2) == 256
    assert _threads.block_size(10**6, 2) == 1024


def test_an_error_in_a_block_is_raised_and_the_workers_stop(threads):
    threads(2)
    calls = []

    def body(lo, hi):
        calls.append(lo)
        if lo == 0:
            raise ZeroDivisionError("block 0")
        time.sleep(0.001)

    with pytest.raises(ZeroDivisionError, match="block 0"):
        _threads.run_blocks(body, 100_000)
    assert len(calls) < 100_000 // _threads.block_size(100_000, 2)


def test_engine_is_the_same_on_one_and_two_threads(baseline_path, threads):
    cfg = simulator.load_config(baseline_path, overrides={"simulation.months": 24})
    run = sampling.prepare(cfg)
    params = sampling.draw_parameters(cfg, 3, 0, 700)
    seeds = sampling.path_seeds(3, 0, 700)
    results = []
    for count in (1, 2):
        threads(count)
        results.append(run_chunk(params, seeds, run))
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


def test_engine_ready_is_quiet_when_loading_is_quick():
    api.engine_ready()  # compiled or loaded once
    called = []
    seconds = api.engine_ready(lambda: called.append(1), delay=30.0)
    assert seconds < 30.0 and called == []


def test_engine_ready_gives_notice_when_slow(monkeypatch):
    def slow_run_chunk(*args, **kwargs):
        time.sleep(0.3)
        return run_chunk(*args, **kwargs)

    monkeypatch.setattr("simulator.runner.warmup.run_paths", slow_run_chunk)
    called = []
    api.engine_ready(lambda: called.append(1), delay=0.05)
    assert called == [1]
