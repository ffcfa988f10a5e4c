"""A key's per-path draws depend only on (seed, key, path): adding a key to the
schema moves no other key's draws (issue 17)."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap

import numpy as np

from simulator.config.loader import config_from_dict
from simulator.model.sampling import PARAM_KEYS, draw_parameters, key_uniforms

UNCERTAIN = {
    "sales": {"close_rate": {"dist": "uniform", "low": 0.2, "high": 0.5},
              "proposal_rate": {"dist": "beta", "mean": 0.5, "sd": 0.1}},
    "churn": {"annual_rate": {"dist": "uniform", "low": 0.08, "high": 0.15}},
    "staff": {"escalation_share": {"dist": "triangular", "low": 0.1, "mode": 0.2,
                                   "high": 0.3}},
    "customers": {"price_per_seat": {"dist": "uniform", "low": 100, "high": 150}},
}
CORRELATED = {**UNCERTAIN, "correlations": {"pairs": [
    {"a": "sales.close_rate", "b": "churn.annual_rate", "rho": -0.4},
    {"a": "customers.price_per_seat", "b": "churn.annual_rate", "rho": 0.3}]}}

# Run in a fresh interpreter: extend the schema with one new uncertain key in
# the middle of a section (before the modules that read the schema are
# imported), then print every existing key's draws.
_EXTENDED = textwrap.dedent("""
    import json, sys
    from typing import Any
    from pydantic import create_model
    import simulator.config.schema as schema
    from simulator.config.distributions import UniformDist

    spec = schema.param(UniformDist(dist="uniform", low=0.0, high=1.0), "test unit",
                        "test-only key", ge=0, le=1)
    fields = {"aaa_test_only_key": (Any, spec)}
    Sales = create_model("Sales", __base__=schema.Sales, **fields)
    schema.Config.model_fields["sales"].annotation = Sales
    schema.Config.model_fields["sales"].default_factory = Sales
    schema.Config.model_rebuild(force=True)
    schema._param_specs.cache_clear()

    import numpy as np
    from simulator.config.loader import config_from_dict
    from simulator.model.sampling import PARAM_KEYS, draw_parameters
    assert "sales.aaa_test_only_key" in PARAM_KEYS, PARAM_KEYS
    draws = []
    for data in json.loads(sys.argv[1]):
        cfg = config_from_dict(data)
        assert cfg.sales.aaa_test_only_key.dist == "uniform"
        p = draw_parameters(cfg, 7, 0, 1000)
        draws.append({k: p[k.replace(".", "_")].tolist() for k in PARAM_KEYS})
    print(json.dumps(draws))
""")


@functools.cache
def _extended_runs() -> list[dict[str, np.ndarray]]:
    """The draws of ``UNCERTAIN`` and of ``CORRELATED`` with the extended schema: one
    fresh interpreter for both configs (each is drawn from its own ``config_from_dict``
    there, as here; a second interpreter cost ~2 s of CPU for nothing new)."""
    import json
    proc = subprocess.run([sys.executable, "-c", _EXTENDED, json.dumps([UNCERTAIN, CORRELATED])],
                          capture_output=True, text=True, check=True)
    return [{k: np.asarray(v) for k, v in draws.items()} for draws in json.loads(proc.stdout)]


def _extended_draws(data: dict) -> dict[str, np.ndarray]:
    return _extended_runs()[[UNCERTAIN, CORRELATED].index(data)]


def _assert_unchanged_by_a_new_key(data: dict) -> None:
    before = draw_parameters(config_from_dict(data), 7, 0, 1000)
    after = _extended_draws(data)
    assert set(after) == set(PARAM_KEYS) | {"sales.aaa_test_only_key"}
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(after[key], before[key.replace(".", "_")], err_msg=key)


def test_adding_a_key_moves_no_other_draw():
    _assert_unchanged_by_a_new_key(UNCERTAIN)


def test_adding_a_key_moves_no_correlated_draw():
    _assert_unchanged_by_a_new_key(CORRELATED)


def test_path_i_is_the_same_in_runs_of_any_size_and_chunking():
    for data in (UNCERTAIN, CORRELATED):
        cfg = config_from_dict(data)
        small = draw_parameters(cfg, 11, 0, 100)
        large = draw_parameters(cfg, 11, 0, 1000)
        np.testing.assert_array_equal(small, large[:100])
        chunks = np.concatenate([draw_parameters(cfg, 11, a, min(a + 37, 1000))
                                 for a in range(0, 1000, 37)])
        np.testing.assert_array_equal(chunks, large)


def test_key_streams_are_independent_of_each_other():
    # Distinct keys get distinct streams: their uniforms are uncorrelated
    # (|Pearson r| < 4 / sqrt(n) for n = 20,000) and each is uniform (KS).
    from scipy import stats
    a = key_uniforms(3, "sales.close_rate", 0, 20_000)
    b = key_uniforms(3, "sales.proposal_rate", 0, 20_000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(a.size)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(key_uniforms(3, "sales.close_rate", 500, 600), a[500:600])
    assert not np.array_equal(key_uniforms(4, "sales.close_rate", 0, 100), a[:100])
