"""msp-sim backtest: fit before the holdout, predict it, compare (issue 10)."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from simulator.cli import main
from simulator.fit.backtest import _actual, backtest
from simulator.fit.records import Client, Ticket
from simulator.fit.synthetic import history, write_csv


@pytest.fixture(scope="module")
def records():
    return history(np.random.default_rng(11), months=36, seats_median=8.0)


def test_backtest_structure_and_bands(records):
    result = backtest(records.clients, records.deals, records.tickets, records.pnl,
                      holdout=6, n_paths=400, owner=records.owner, as_of=records.as_of)
    data = result.to_dict()
    assert data["holdout_months"] == 6 and set(data["series"]) == {"mrr_managed", "customers",
                                                                 "tickets"}
    for s in data["series"].values():
        assert len(s["actual"]) == len(s["pit"]) == len(s["months"]) == 6
        q = np.array([s["q05"], s["q25"], s["q50"], s["q75"], s["q95"]])
        assert np.all(np.diff(q, axis=0) >= 0)
        assert all(0 <= p <= 1 for p in s["pit"])
        inside90 = np.mean((q[0] <= s["actual"]) & (np.array(s["actual"]) <= q[4]))
        assert s["coverage90"] == pytest.approx(inside90)
    # the fit saw nothing after the cutoff: its as-of is the cutoff
    assert result.fit.as_of == result.cutoff < records.as_of
    json.dumps(data, allow_nan=False)
    assert len(result.lines()) == 3


def test_actual_series_count_what_happened():
    d = datetime.date
    clients = [Client("A", d(2020, 1, 1), None, 10, 12, 1000.0, 2),
               Client("B", d(2020, 1, 1), d(2021, 2, 15), 5, 6, 500.0, 3),
               Client("C", d(2021, 3, 10), None, 4, 5, 400.0, 4)]
    tickets = [Ticket(d(2021, 1, 5), None, "A", 1.0, "T", 2),
               Ticket(d(2021, 2, 5), None, "A", 1.0, "T", 3),
               Ticket(d(2021, 2, 28), None, "B", 1.0, "T", 4)]
    actual = _actual(clients, tickets, d(2020, 12, 31), 3)
    np.testing.assert_array_equal(actual["mrr_managed"], [1500, 1000, 1400])
    np.testing.assert_array_equal(actual["customers"], [2, 1, 2])
    np.testing.assert_array_equal(actual["tickets"], [1, 2, 0])


def test_backtest_cli_and_too_short_history(records, tmp_path, capsys):
    paths = write_csv(records, tmp_path / "data")
    out = tmp_path / "bt"
    assert main(["backtest", "--clients", str(paths["clients"]), "--tickets",
                 str(paths["tickets"]), "--holdout", "6", "--paths", "300", "--out",
                 str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"backtest.json", "backtest.html",
                                               "backtest.png"}
    assert "inside the 90% band" in capsys.readouterr().out
    page = (out / "backtest.html").read_text(encoding="utf-8")
    assert 'id="headline">Verdict: the model' in page and "Next step: " in page
    young = tmp_path / "young.csv"
    young.write_text("client,start_date,end_date,seats,monthly_fee\n"
                     "A,2025-06-01,,10,1000\nB,2025-09-01,2026-05-01,5,500\n")
    assert main(["backtest", "--clients", str(young), "--holdout", "12",
                 "--out", str(tmp_path / "short")]) == 2
    err = capsys.readouterr().err
    assert "at least 12 months before the holdout" in err and not (tmp_path / "short").exists()


def test_the_verdict_says_what_held_or_missed_and_the_next_step(records):
    """A verdict sentence and a next step (issue 26): a forecast whose PITs sit high is
    called too low and sends the reader to the inputs behind that series."""
    import dataclasses

    result = backtest(records.clients, records.deals, records.tickets, records.pnl,
                      holdout=6, n_paths=200, owner=records.owner, as_of=records.as_of)
    verdict, step = result.verdict()
    assert verdict.startswith("Verdict: the model") and step.startswith("Next step: ")
    assert result.to_dict()["verdict"] == [verdict, step]
    held = {name: {**s, "pit": [0.5] * 6, "coverage90": 1.0}
            for name, s in result.series.items()}
    verdict, step = dataclasses.replace(result, series=held).verdict()
    assert "held" in verdict and "msp-sim fit" in step
    missed = {**held, "mrr_managed": {**held["mrr_managed"], "pit": [0.95] * 6}}
    verdict, step = dataclasses.replace(result, series=missed).verdict()
    assert "missed" in verdict and "managed MRR came in above" in verdict
    assert "churn.annual_rate" in step and "rerun the backtest" in step
