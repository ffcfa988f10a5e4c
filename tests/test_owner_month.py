"""Where the owner's month goes: the owner-hour metrics add up (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.api import simulate
from simulator.config import load_config

PARTS = ("owner_escalation_hours", "owner_management_hours", "owner_account_hours",
         "owner_overflow_hours")


@pytest.fixture(scope="module")
def run():
    cfg = load_config("configs/baseline.toml")
    return simulate(cfg, n_paths=400, seed=9, progress=False, keep_paths=True)


def test_owner_hours_add_up_and_selling_is_what_remains(run):
    owner = run.params["staff_owner_hours_per_month"][:, None]
    sales_max = run.params["staff_owner_sales_hours_per_month"][:, None]
    taken = sum(run[name][:, 1:] for name in PARTS)
    selling = run["owner_sales_hours"][:, 1:]
    assert np.all(taken + selling <= owner + 1e-9)
    for name in PARTS:
        assert np.all(run[name] >= 0.0)
    months = np.arange(1, run.months + 1)[None, :]
    closed = (run.insolvency_month[:, None] >= 0) & (months >= run.insolvency_month[:, None])
    expected = np.minimum(np.maximum(owner - taken, 0.0), sales_max)
    np.testing.assert_allclose(selling[~closed], np.broadcast_to(expected, selling.shape)[~closed],
                               rtol=0, atol=1e-9)
    # the mechanism is live: escalations take time every month, overflow in some
    assert np.all(run["owner_escalation_hours"][:, 1:].mean(axis=0) > 0)
    assert run["owner_overflow_hours"][:, 1:].max() > 0
    for name in PARTS:  # month 0 is the starting state, no activity
        assert np.all(run[name][:, 0] == 0.0), name


def test_owner_month_in_the_report(run, tmp_path):
    from simulator.report import write_outputs

    out = write_outputs(run, tmp_path / "run", save_paths=False)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Where the owner&#39;s month goes" in page
    assert "of your month" in page and "meetings" in page
