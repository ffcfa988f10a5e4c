"""The owner's value (simulator/results/value.py) against a hand computation on three paths."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.config import config_from_dict
from simulator.model.metrics import METRICS
from simulator.model.sampling import param_dtype
from simulator.results import SimulationResult
from simulator.results.value import (
    cvar,
    exit_multiple,
    path_values,
    path_values_of,
    value_at_horizon,
)


def _three_paths() -> SimulationResult:
    """12 months. Path 0 earns $10k a month; path 1 runs out of cash and credit in
    month 8; path 2 loses $2k a month into its credit line."""
    cfg = config_from_dict({"simulation": {"months": 12}, "customers": {"seats": 10}})
    t = np.arange(13.0)
    m = {name: np.zeros((3, 13)) for name in METRICS}
    m["cash"][0] = 50_000 + 10_000 * t
    m["pretax_profit"][0, 1:] = 10_000
    m["revenue_managed"][0, 1:] = 40_000
    m["revenue_cloud"][0, 1:] = 2_000
    m["revenue_projects"][0, 1:] = 8_000
    m["customers"][0] = 20
    m["churned"][0, [6, 9]] = 1
    m["cash"][1] = [15_000, 5_000] + [-80_000] * 11
    m["pretax_profit"][1, 1:] = -10_000
    m["cash"][2] = 10_000 - 2_000 * t
    m["pretax_profit"][2, 1:] = -2_000
    m["revenue_managed"][2, 1:] = 5_000
    m["customers"][2] = 4
    m["mrr"][:] = m["revenue_managed"] + m["revenue_cloud"]
    params = np.zeros(3, dtype=param_dtype())
    params["finance_owner_pay_per_month"] = 10_000
    params["finance_credit_annual_rate"] = 0.12
    params["finance_discount_rate"] = 0.12
    params["finance_exit_multiple_factor"] = [1.2, 1.0, 1.0]
    return SimulationResult(config=cfg, seed=1, metrics=m, first_passage=np.full(3, -1),
                            params=params, insolvency_month=np.array([-1, 8, -1]))


def test_value_arithmetic_by_hand():
    v = path_values(_three_paths())
    assert v is not None
    d = 1.12 ** (-1 / 12)  # the monthly discount factor of 12% a year
    months = np.arange(1, 13)
    # path 0: adjusted EBITDA = 12 x $10k (no interest, the owner paid in full); recurring
    # 42/50 = 0.84 (+0.5 turn), churn 2/20 = 10% (-0.25), the largest of 20 equal clients
    # 5% (0); size under $250k: 3.5; (3.5 + 0.5 - 0.25) x 1.2 = 4.5
    assert v["adjusted_ebitda"][0] == pytest.approx(120_000)
    assert v["recurring_share"][0] == pytest.approx(0.84)
    assert v["annual_churn"][0] == pytest.approx(0.10)
    assert v["top_client_share"][0] == pytest.approx(0.05)
    assert v["exit_multiple"][0] == pytest.approx(4.5)
    assert v["enterprise_value"][0] == pytest.approx(540_000)
    owner0 = sum(10_000 * d**k for k in months) + (540_000 + 170_000) * d**12
    assert v["owner_value"][0] == pytest.approx(owner0, rel=1e-12)
    # path 1: paid $10k, then the $5k left, then nothing; insolvent: no sale
    assert v["enterprise_value"][1] == 0.0
    assert v["owner_value"][1] == pytest.approx(10_000 * d + 5_000 * d**2, rel=1e-12)
    # path 2: -$24k profit, interest 1% a month on 2k..12k drawn (+$420), the owner's pay
    # the cash could not cover (0+2+4+6+8+10 + 6 x 10 = $90k) normalised away
    assert v["adjusted_ebitda"][2] == pytest.approx(-24_000 + 420 - 90_000)
    assert v["enterprise_value"][2] == 0.0
    taken = [10_000, 8_000, 6_000, 4_000, 2_000] + [0] * 7
    owner2 = sum(x * d**k for x, k in zip(taken, months, strict=True))
    assert v["owner_value"][2] == pytest.approx(owner2)
    assert v["cash"].tolist() == [170_000, -80_000, -14_000]
    # the worst 10% of three paths is the worst path
    assert cvar(v["cash"]) == -80_000
    # the same numbers from a chunk's plain arrays (a run that keeps no trajectories)
    r = _three_paths()
    chunk = path_values_of(dict(r.metrics), r.params, r.insolvency_month, r.config)
    assert all(np.array_equal(chunk[k], v[k]) for k in v)
    block = value_at_horizon(_three_paths())
    assert block["cash_cvar10"] == -80_000
    assert block["owner_value_p50"] == pytest.approx(np.median(v["owner_value"]))
    assert block["enterprise_value_p90"] == pytest.approx(np.quantile(v["enterprise_value"],
                                                                      0.9))


def test_exit_multiple_table_moves_with_size_recurring_churn_and_concentration():
    base = exit_multiple(np.array([500_000.0]), 0.6, 0.08, 0.05)[0]
    assert base == pytest.approx(4.5)
    assert exit_multiple(np.array([3e6]), 0.9, 0.03, 0.05)[0] == pytest.approx(8.5)
    assert exit_multiple(np.array([100_000.0]), 0.3, 0.2, 0.3)[0] == pytest.approx(1.5)
    assert exit_multiple(np.array([500_000.0]), 0.6, 0.08, 0.05, factor=0.8)[0] == \
        pytest.approx(0.8 * base)


def test_the_exit_multiple_table_is_the_configs_value_section():
    """The [value] section is the table: its defaults are the numbers above, an edited
    table moves the multiple, and a bad one is one line naming key, value and allowed."""
    from simulator.config import ConfigError

    r = _three_paths()  # path 0: 3.5 + 0.5 - 0.25 + 0 turns, x 1.2 = 4.5 (above)
    richer = config_from_dict({"simulation": {"months": 12}, "customers": {"seats": 10},
                               "value": {"exit_size_bands": [[0, 5.0]],
                                         "exit_multiple_max": 6.0}})
    v = path_values_of(dict(r.metrics), r.params, r.insolvency_month, richer)
    assert v["exit_multiple"][0] == 6.0  # (5 + 0.5 - 0.25) x 1.2 = 6.3, clipped to 6
    assert exit_multiple(np.array([500_000.0]), 0.6, 0.08, 0.05, table=richer.value)[0] == 5.0
    for bad, shown in (({"exit_churn_turns": [[0.1, 0.5], [0.05, 0.0]]}, "ascending"),
                       ({"exit_multiple_max": 0.5}, "exit_multiple_min"),
                       ({"exit_size_bands": [[0, "x"]]}, "[from, value]")):
        with pytest.raises(ConfigError) as err:
            config_from_dict({"value": bad})
        text = str(err.value)
        key = next(iter(bad))
        assert text.count("\n") == 0 and f"value.{key}" in text and "allowed" in text, text
        assert shown in text
