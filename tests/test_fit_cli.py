"""msp-sim fit: round trip, bad data, PSA aliases and column maps (issue 10)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from simulator.cli import main
from simulator.config import load_config
from simulator.config.schema import param_specs
from simulator.fit import fit_files
from simulator.fit.synthetic import history, write_csv

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    return write_csv(history(np.random.default_rng(2026), months=24), folder)


def _fit(data, tmp_path, *extra):
    return main(["fit", "--clients", str(data["clients"]), "--pipeline", str(data["pipeline"]),
                 "--tickets", str(data["tickets"]), "--pnl", str(data["pnl"]),
                 "--owner", "Owner", "--out", str(tmp_path / "mine.toml"),
                 "--report", str(tmp_path / "fit"), *extra])


def test_fit_writes_a_valid_config_that_runs(data, tmp_path, capsys):
    assert _fit(data, tmp_path) == 0
    out = capsys.readouterr().out
    assert "churn.annual_rate = " in out and "cancellations in" in out
    text = (tmp_path / "mine.toml").read_text()
    assert "# fitted from clients.csv:" in text
    # every fittable key came from the four tables, but the escalator (one row a client)
    assert [line for line in text.splitlines() if "not fitted (needs" in line] == [
        "# price_escalator: not fitted (needs clients with several agreement rows per "
        "client); the calibrated default 0.03 (uncertain: triangular(low=0, mode=0.04, "
        "high=0.05), drawn per path) applies"]
    config = load_config(tmp_path / "mine.toml")
    assert config.churn.annual_rate.dist == "beta"
    assert main(["validate", str(tmp_path / "mine.toml")]) == 0
    assert main(["run", str(tmp_path / "mine.toml"), "--paths", "200", "--months", "12",
                 "--no-levers", "--no-progress", "--out", str(tmp_path / "run")]) == 0
    report = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert {f["key"] for f in report["fitted"]} >= {"churn.annual_rate", "sales.close_rate"}
    # the log prints money in dollars, nothing in e-notation (issue 26)
    assert not re.search(r"\d[eE][+-]?\d", out), out
    assert re.search(r"start\.legacy_product_revenue = \$[\d,]+: ", out)
    # the defaults the fit kept, which no export gives, are listed (issue 26)
    assert {"start.cash", "finance.credit_limit", "staff.tech_cost_per_month"} <= set(
        report["not_fitted"])
    assert "# cash: not fitted (no export gives it" in text
    # the run's report and workbook give the fit, and which file, as the source of each
    # fitted value, never the default's source (issue 26)
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td>churn\.annual_rate</td>.*?</tr>", page, re.S).group(0)
    assert "msp-sim fit, fitted from clients.csv" in row and "(mine.toml)" in row, row
    assert "seed 003" not in row
    inputs = {r[0].value: r[3].value for r in
              openpyxl.load_workbook(tmp_path / "run" / "results.xlsx")["Inputs"].iter_rows()}
    for key in ("churn.annual_rate", "sales.close_rate", "tickets.hours_reactive",
                "start.book"):
        assert inputs[key].startswith("msp-sim fit, fitted from "), (key, inputs[key])
    assert inputs["finance.tools_share"] == param_specs()["finance.tools_share"].source
    page = (tmp_path / "fit" / "fit.html").read_text(encoding="utf-8")
    assert "What your data say" in page and page.count("data:image/png;base64,") == 2


def test_fit_keeps_defaults_it_cannot_fit_and_says_so(data, tmp_path):
    assert main(["fit", "--clients", str(data["clients"]), "--out",
                 str(tmp_path / "c.toml"), "--report", str(tmp_path / "r")]) == 0
    text = (tmp_path / "c.toml").read_text()
    assert "# close_rate: not fitted (needs pipeline); the calibrated default" in text
    # left out, it is uncertain around the calibrated 0.35 (issue 24), not set by the fit
    kept = load_config(tmp_path / "c.toml")
    assert kept.sales.close_rate.mean() == pytest.approx(0.35)
    assert "close_rate" not in kept.sales.model_fields_set


def test_more_clients_give_a_narrower_churn_distribution(tmp_path):
    sd = []
    for clients in (20, 200):
        # no tickets: only clients.csv is read, and the tickets are drawn after the
        # clients, so the clients (and sd) are the same bytes as with them (123,000
        # tickets for the 200 clients, ~2.7 s of CPU to draw and write)
        paths = write_csv(history(np.random.default_rng(3), months=36, start_clients=clients,
                                  meetings_per_month=0.0, tickets_per_endpoint=0.0),
                          tmp_path / str(clients))
        sd.append(fit_files(clients=paths["clients"]).get("churn.annual_rate").value["sd"])
    assert sd[1] < 0.5 * sd[0]


CLIENTS = ("client,start_date,end_date,seats,endpoints,monthly_fee\n"
           "Acme,2022-01-01,,20,24,2400\nBeta,2021-05-01,2023-02-01,10,12,1200\n")


@pytest.mark.parametrize("name, text, where", [
    ("missing.csv", None, "not found"),
    ("empty.csv", "", "empty"),
    ("binary.csv", "\x00\x01\x02", "binary content"),
    ("notes.pdf", "x", 'unknown file type ".pdf"'),
    ("nocol.csv", "client,start_date,seats,monthly_fee\nA,2022-01-01,3,100\n",
     "column end_date: missing"),
    ("baddate.csv", CLIENTS.replace("2022-01-01", "2022-13-01"),
     'row 2, column start_date = "2022-13-01": not a date'),
    ("backwards.csv", CLIENTS.replace("2023-02-01", "2020-02-01"),
     'row 3, column end_date = "2020-02-01": before start_date 2021-05-01'),
    ("negative.csv", CLIENTS.replace(",2400", ",-5"), "row 2, column monthly_fee = -5"),
])
def test_bad_clients_file_is_one_clear_line(tmp_path, capsys, name, text, where):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    rc = main(["fit", "--clients", str(path), "--out", str(tmp_path / "x.toml"),
               "--report", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and where in err and name in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.toml").exists() and not (tmp_path / "r").exists()


def test_bad_tickets_negative_hours_and_unknown_client(tmp_path, capsys):
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS)
    for body, where in (("2023-01-05,2023-01-05,Acme,-1,Tech 1\n",
                         "row 2, column hours = -1: out of range"),
                        ("2023-01-05,2023-01-05,Nobody,1,Tech 1\n",
                         'row 2, column client = "Nobody": not in the clients table')):
        tickets = tmp_path / "tickets.csv"
        tickets.write_text("created,closed,client,hours,resource\n" + body)
        rc = main(["fit", "--clients", str(clients), "--tickets", str(tickets), "--out",
                   str(tmp_path / "x.toml"), "--report", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert rc == 2 and where in err and "tickets.csv" in err, err
        assert not (tmp_path / "x.toml").exists()


PSA_HEADERS = [
    ("Ticket #", "Company", "Date Entered", "Closed Date", "Actual Hours", "Resource"),
    ("Ticket Number", "Account", "Create Date", "Complete Date", "Hours Worked",
     "Primary Resource"),
    ("Ticket ID", "Client", "Date Occurred", "Date Closed", "Time Taken", "Agent"),
]


@pytest.mark.parametrize("header", PSA_HEADERS, ids=["connectwise", "autotask", "other"])
def test_psa_aliases(tmp_path, header):
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS)
    tickets = tmp_path / "tickets.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for k in range(30):
        sheet.append([k, "Acme", f"2023-0{1 + k % 9}-1{k % 9}", None, 1.0 + (k % 3) / 2,
                      "Owner" if k % 5 == 0 else "Tech 1"])
    book.save(tickets)
    result = fit_files(clients=clients, tickets=tickets, owner="Owner")
    assert result.get("tickets.hours_reactive").estimate == pytest.approx(1.5)
    assert result.get("staff.escalation_share").estimate == pytest.approx(
        6 * 1.5 / (30 * 1.5), rel=0.2)


def test_column_map(tmp_path):
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS)
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("When,Who,Hrs,Tech\n" + "".join(
        f"2023-02-0{1 + k % 9},Acme,{1 + k % 2},T{k % 2}\n" for k in range(20)))
    columns = tmp_path / "map.toml"
    columns.write_text('[tickets]\n"When" = "created"\n"Who" = "client"\n"Hrs" = "hours"\n'
                       '"Tech" = "resource"\n')
    result = fit_files(clients=clients, tickets=tickets, columns=columns)
    assert result.get("tickets.hours_reactive").estimate == pytest.approx(1.5)
    columns.write_text('[tickets]\n"Hrs" = "hourz"\n')
    with pytest.raises(Exception, match='tickets.Hrs = "hourz": unknown column'):
        fit_files(clients=clients, tickets=tickets, columns=columns)


def test_the_worked_example_is_what_its_script_writes(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("synthetic_msp",
                                                  root / "examples" / "synthetic_msp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "__file__", str(tmp_path / "synthetic_msp.py"))
    module.main()
    for name in ("clients", "pipeline", "tickets", "pnl"):
        assert (tmp_path / "synthetic_msp" / f"{name}.csv").read_bytes() == \
            (root / "examples" / "synthetic_msp" / f"{name}.csv").read_bytes(), name


def test_exact_book_month_0_is_the_client_list(data, tmp_path):
    from simulator.api import simulate
    from simulator.fit import fitted_config
    from simulator.fit.records import clients_of
    from simulator.fit.tables import read_table
    from simulator.model.metrics import METRICS
    from simulator.model.reference import simulate_reference
    from simulator.model.sampling import draw_parameters, path_seeds, prepare

    result = fit_files(clients=data["clients"])
    active = [c for c in clients_of(read_table(data["clients"], "clients"))
              if c.end is None or c.end > result.as_of]
    config = fitted_config(result)
    assert config.start.customers == len(active) == len(config.start.book)
    fees = sum(c.monthly_fee for c in active)
    run = simulate(config, n_paths=300, seed=4, progress=False, keep_paths=True)
    np.testing.assert_allclose(run["mrr_managed"][:, 0], fees, rtol=1e-12)
    np.testing.assert_array_equal(run["customers"][:, 0], len(active))
    params = draw_parameters(config, 4, 0, 5)
    metrics, _, _ = simulate_reference(params, path_seeds(4, 0, 5), prepare(config))
    np.testing.assert_allclose(metrics[:, METRICS.index("mrr_managed"), 0], fees, rtol=1e-12)
    # the written config holds the same book: what validate and run read
    assert main(["fit", "--clients", str(data["clients"]), "--out", str(tmp_path / "b.toml"),
                 "--report", str(tmp_path / "r")]) == 0
    assert load_config(tmp_path / "b.toml").start.book == config.start.book


def test_book_and_customers_must_agree():
    from simulator.config import ConfigError, config_from_dict

    book = [{"client": "A", "seats": 20, "monthly_fee": 2400, "contract_month": 7}]
    assert config_from_dict({"start": {"book": book}}).start.customers == 1
    with pytest.raises(ConfigError, match="start.customers = 3: start.book lists 1 clients"):
        config_from_dict({"start": {"book": book, "customers": 3}}, "x.toml")


def test_psa_exports_fit_replay_and_backtest_with_a_held_key(tmp_path, capsys):
    """A generated business exported as ConnectWise would (US dates, agreement rows with
    a re-papered price rise, opportunity stages, an internal ticket): fit, replay
    printed, the held key kept; the backtest follows --set (issue 29)."""
    from msp_generator import VARIANTS, Business, write_exports

    business = Business(VARIANTS["heterogeneous"], np.random.default_rng(4))
    business.run(36)
    paths = write_exports(business.history(), tmp_path / "cw", "connectwise")
    files = ["--clients", str(paths["clients"]), "--pipeline", str(paths["pipeline"]),
             "--tickets", str(paths["tickets"]), "--pnl", str(paths["pnl"]),
             "--owner", "Owner"]
    out = tmp_path / "cw.toml"
    assert main(["fit", *files, "--set", "tickets.hours_reactive=0.9", "--out", str(out),
                 "--report", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr()
    assert "does the model hold your past?" in printed.out
    assert "first meetings" in printed.out and "left out of the reactive" in printed.err
    config = load_config(out)
    assert config.tickets.hours_reactive == 0.9
    assert 130 <= config.customers.price_per_seat.mean() <= 150  # after the rise (140)
    report = json.loads((tmp_path / "r" / "fit.json").read_text())
    assert report["replay"]["totals"]["meetings"]["actual"] > 0
    # a correction held fixed moves the backtest: churn held at 60% a year empties the book
    bt = tmp_path / "bt"
    assert main(["backtest", *files, "--set", "churn.annual_rate=0.6", "--paths", "200",
                 "--holdout", "12", "--out", str(bt)]) == 0
    capsys.readouterr()
    clients = json.loads((bt / "backtest.json").read_text())["series"]["customers"]
    assert clients["q50"][-1] < 0.75 * clients["actual"][0]
