"""The [correlations] section: Gaussian copula on the per-path draws, and its mistakes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator.config import ConfigError, config_from_dict, describe_config, load_config
from simulator.config.describe import config_rows
from simulator.model.sampling import draw_parameters

MEETINGS = {"dist": "triangular", "low": 3, "mode": 5, "high": 8}
CLOSE = {"dist": "beta", "mean": 0.35, "sd": 0.08}
CHURN = {"dist": "uniform", "low": 0.08, "high": 0.15}
PRICE = {"dist": "lognormal", "median": 130, "sigma": 0.2, "low": 60, "high": 400}
TARGETS = {("sales.rep_meetings_per_month", "sales.close_rate"): 0.5,
           ("churn.annual_rate", "sales.close_rate"): -0.3,
           ("customers.price_per_seat", "churn.annual_rate"): 0.0}  # not listed: independent


def _data(pairs=None) -> dict:
    data = {"sales": {"rep_meetings_per_month": MEETINGS, "close_rate": CLOSE},
            "churn": {"annual_rate": CHURN}, "customers": {"price_per_seat": PRICE}}
    if pairs is not None:
        data["correlations"] = {"pairs": pairs}
    return data


PAIRS = [{"a": "sales.rep_meetings_per_month", "b": "sales.close_rate", "rho": 0.5},
         {"a": "churn.annual_rate", "b": "sales.close_rate", "rho": -0.3}]


@pytest.fixture(scope="module")
def draws():
    return draw_parameters(config_from_dict(_data(PAIRS)), 17, 0, 20_000)


def _col(key: str) -> str:
    return key.replace(".", "_")


@pytest.mark.parametrize("pair", list(TARGETS))
def test_achieved_spearman_within_4_se(draws, pair):
    a, b = pair
    r = stats.spearmanr(draws[_col(a)], draws[_col(b)]).statistic
    # Fisher z of Spearman's rho has variance ~1.06 / (n - 3) (Fieller, Hartley & Pearson 1957).
    se = math.sqrt(1.06 / (len(draws) - 3))
    assert abs(math.atanh(r) - math.atanh(TARGETS[pair])) < 4 * se, r


@pytest.mark.parametrize("key, table", [("sales.rep_meetings_per_month", MEETINGS),
                                        ("sales.close_rate", CLOSE),
                                        ("churn.annual_rate", CHURN)])
def test_marginals_unchanged_ks(draws, key, table):
    # One-sample KS at significance 0.001 against the key's own distribution.
    cfg = config_from_dict(_data())
    dist = cfg.get(key).frozen()
    assert stats.kstest(draws[_col(key)], dist.cdf).pvalue > 1e-3


def test_uncorrelated_keys_keep_their_draws(draws):
    plain = draw_parameters(config_from_dict(_data()), 17, 0, 20_000)
    # A key in no pair keeps its uniforms (common random numbers with the uncorrelated run).
    np.testing.assert_array_equal(draws["customers_price_per_seat"],
                                  plain["customers_price_per_seat"])
    assert not np.array_equal(draws["sales_close_rate"], plain["sales_close_rate"])


def test_chunks_and_prefix_equal_the_whole_run():
    cfg = config_from_dict(_data(PAIRS))
    whole = draw_parameters(cfg, 4, 0, 900)
    np.testing.assert_array_equal(draw_parameters(cfg, 4, 120, 377), whole[120:377])
    np.testing.assert_array_equal(draw_parameters(cfg, 4, 0, 50), whole[:50])


def test_engine_runs_are_chunk_invariant_with_correlations():
    from simulator.api import simulate

    cfg = config_from_dict({**_data(PAIRS), "simulation": {"months": 12}})
    a = simulate(cfg, n_paths=150, seed=5, chunk_size=150)
    b = simulate(cfg, n_paths=150, seed=5, chunk_size=41)
    np.testing.assert_array_equal(a["mrr"], b["mrr"])
    np.testing.assert_array_equal(a.params, b.params)
    c = simulate(cfg, n_paths=60, seed=5, chunk_size=60)
    np.testing.assert_array_equal(c["mrr"], a["mrr"][:60])


def test_sobol_sampling_is_correlated_too():
    cfg = config_from_dict({**_data(PAIRS), "simulation": {"sampling": "sobol"}})
    p = draw_parameters(cfg, 3, 0, 4096)
    r = stats.spearmanr(p["sales_rep_meetings_per_month"], p["sales_close_rate"]).statistic
    # Same 4-SE band as above (the Sobol' net is at least as precise as random draws).
    assert abs(math.atanh(r) - math.atanh(0.5)) < 4 * math.sqrt(1.06 / (4096 - 3))


def test_pinned_key_by_override_leaves_its_pairs_inactive():
    # A goal seek or --set that fixes a correlated key: the other pairs still apply.
    cfg = config_from_dict(_data(PAIRS), overrides={"sales.rep_meetings_per_month": 5})
    p = draw_parameters(cfg, 8, 0, 20_000)
    assert np.all(p["sales_rep_meetings_per_month"] == 5)
    r = stats.spearmanr(p["churn_annual_rate"], p["sales_close_rate"]).statistic
    assert abs(math.atanh(r) - math.atanh(-0.3)) < 4 * math.sqrt(1.06 / (20_000 - 3))


def test_describe_and_report_rows_show_the_pairs():
    cfg = config_from_dict(_data(PAIRS))
    text = describe_config(cfg)
    assert "[correlations]" in text
    assert "sales.rep_meetings_per_month ~ sales.close_rate: 0.5" in text
    row = next(r for r in config_rows(cfg) if r.key == "correlations.pairs")
    assert "churn.annual_rate ~ sales.close_rate: -0.3" in row.value
    assert row.unit == "Spearman rank correlation"
    empty = next(r for r in config_rows(config_from_dict({})) if r.key == "correlations.pairs")
    assert empty.value == "none"


# -- mistakes -----------------------------------------------------------------------------

HEAD = """
[sales]
rep_meetings_per_month = {dist = "triangular", low = 3, mode = 5, high = 8}
close_rate = {dist = "beta", mean = 0.35, sd = 0.08}

[churn]
annual_rate = {dist = "uniform", low = 0.08, high = 0.15}

[correlations]
"""

M, C, R = "sales.rep_meetings_per_month", "sales.close_rate", "churn.annual_rate"

# (case, [correlations] body, words the message must contain)
BAD = [
    ("rho above 1", f'pairs = [{{a = "{M}", b = "{C}", rho = 1.5}}]',
     ["rho out of range", "got 1.5", "-1 < rho < 1"]),
    ("rho exactly -1", f'pairs = [{{a = "{M}", b = "{C}", rho = -1}}]',
     ["rho out of range", "got -1", "-1 < rho < 1"]),
    ("unknown key", f'pairs = [{{a = "sales.rep_meetings_per_mnth", b = "{C}", rho = 0.5}}]',
     ["unknown key", "sales.rep_meetings_per_mnth", "did you mean sales.rep_meetings_per_month?"]),
    ("key not uncertain", f'pairs = [{{a = "finance.tax_rate", b = "{C}", rho = 0.5}}]',
     ["finance.tax_rate", "is not uncertain", "allowed: keys given as distribution"]),
    ("per-customer key", f'pairs = [{{a = "customers.seats", b = "{C}", rho = 0.5}}]',
     ["customers.seats", "per customer", "allowed"]),
    ("self pair", f'pairs = [{{a = "{C}", b = "{C}", rho = 0.5}}]',
     ["correlated with itself", "two different keys"]),
    ("duplicate pair", f'pairs = [{{a = "{M}", b = "{C}", rho = 0.5}}, '
                       f'{{a = "{C}", b = "{M}", rho = 0.4}}]',
     ["pair 2", "duplicate pair", "already pair 1", "each pair of keys once"]),
    ("not positive definite", f'pairs = [{{a = "{M}", b = "{C}", rho = 0.9}}, '
                              f'{{a = "{R}", b = "{C}", rho = 0.9}}, '
                              f'{{a = "{R}", b = "{M}", rho = -0.9}}]',
     ["inconsistent correlations", "not positive definite", "smallest eigenvalue",
      "allowed: a consistent set"]),
    ("missing rho", f'pairs = [{{a = "{M}", b = "{C}"}}]', ['missing field "rho"', "allowed"]),
    ("rho as a string", f'pairs = [{{a = "{M}", b = "{C}", rho = "0.5"}}]',
     ["wrong type for rho", "a string", "-1 < rho < 1"]),
    ("unknown pair field", f'pairs = [{{a = "{M}", b = "{C}", r = 0.5}}]',
     ['unknown field "r"', "allowed fields: a, b, rho"]),
    ("pairs not an array", f'pairs = {{a = "{M}", b = "{C}", rho = 0.5}}',
     ["wrong type", "an array of tables"]),
    ("unknown key in the section", f'pair = [{{a = "{M}", b = "{C}", rho = 0.5}}]',
     ["correlations.pair", "unknown key", "allowed in [correlations]: pairs"]),
]


@pytest.mark.parametrize("case, body, words", BAD, ids=[b[0] for b in BAD])
def test_bad_correlations_are_one_clear_error(tmp_path: Path, case, body, words):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message  # one problem, one line
    assert message.startswith(f"{path}: correlations.pair"), message
    assert "allowed" in message and "Traceback" not in message, message
    for word in words:
        assert word in message, (word, message)


def test_bad_correlation_from_set_names_the_override(tmp_path: Path):
    path = tmp_path / "shop.toml"
    path.write_text(HEAD, encoding="utf-8")
    text = f'correlations.pairs=[{{a = "{M}", b = "{C}", rho = 2}}]'
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=[text])
    assert str(info.value).startswith(f"{path} (with `overrides`): correlations.pairs")
    good = load_config(path, overrides=[text.replace("rho = 2", "rho = 0.25")])
    assert good.correlations.pairs[0].rho == 0.25
