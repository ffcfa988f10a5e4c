"""Exports as they come (issue 29 part 3, issue 28 items 5, 9, 10): each quirk read
right, or refused with one line naming the file, row, column, value and what is
allowed, with nothing written."""

from __future__ import annotations

import datetime
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.config import ConfigError
from simulator.fit import read_records
from simulator.fit.estimate import fit_records
from simulator.fit.tables import ReadOptions, read_column_map, read_table

openpyxl = pytest.importorskip("openpyxl")
d = datetime.date
TODAY = ReadOptions(today=d(2026, 12, 6))


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _refused(call, *needles):
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


# -- dates ------------------------------------------------------------------------------


def test_us_day_first_times_and_excel_serials(tmp_path):
    us = _write(tmp_path, "us.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,01/08/2024,,10,1000
        Beta,01/13/2024,03/02/2025,5,500
        """)
    clients = read_records(us)["clients"]
    assert [c.start for c in clients] == [d(2024, 1, 8), d(2024, 1, 13)]
    assert clients[1].end == d(2025, 3, 2)
    eu = _write(tmp_path, "eu.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,08/01/2024 09:30,,10,1000
        Beta,13/01/2024 17:05,,5,500
        """)
    assert [c.start for c in read_records(eu)["clients"]] == [d(2024, 1, 8), d(2024, 1, 13)]
    serial = _write(tmp_path, "serial.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,45292,,10,1000
        """)
    assert read_records(serial)["clients"][0].start == d(2024, 1, 1)


def test_ambiguous_dates_need_a_date_format(tmp_path):
    path = _write(tmp_path, "amb.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,01/08/2024,,10,1000
        Beta,02/03/2024,,5,500
        """)
    _refused(lambda: read_records(path), "amb.csv", "row 2, column start_date",
             '"01/08/2024"', "ambiguous date", "`date_format`")
    clients = read_records(path, options=ReadOptions(date_format="%d/%m/%Y"))["clients"]
    assert clients[0].start == d(2024, 8, 1)
    # day and month alike in every slashed date: either order reads the same (the fuzz
    # found 01/01/2015 refused as "not a date")
    same = _write(tmp_path, "same.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,01/01/2024,03/03/2025,10,1000
        """)
    (acme,) = read_records(same)["clients"]
    assert (acme.start, acme.end) == (d(2024, 1, 1), d(2025, 3, 3))


@pytest.mark.parametrize("cell, needle", [("2024-01", "not a date"),
                                          ("2024-01-05xyz", "not a date"),
                                          ("05/01/2024 garbage", "not a date")])
def test_partial_dates_and_trailing_garbage_refused(tmp_path, cell, needle):
    path = _write(tmp_path, "bad.csv", f"""
        client,start_date,end_date,seats,monthly_fee
        Acme,{cell},,10,1000
        """)
    _refused(lambda: read_records(path), "bad.csv", "row 2, column start_date", needle,
             "allowed:")


# -- numbers ----------------------------------------------------------------------------


def test_decimal_commas_refused_unless_asked_for(tmp_path):
    path = _write(tmp_path, "eu.csv", """
        created;client;hours;resource
        2024-01-05;Acme;1,5;Ann
        2024-01-06;Acme;1.234,5;Ann
        """)
    _refused(lambda: read_records(tickets=path), "row 2, column hours", '"1,5"',
             "a decimal comma", "`decimal_comma`")
    tickets = read_records(tickets=path, options=ReadOptions(decimal_comma=True))["tickets"]
    assert [t.hours for t in tickets] == [1.5, 1234.5]
    money = _write(tmp_path, "us.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,2024-01-05,,10,"$1,234.50"
        """)
    assert read_records(money)["clients"][0].monthly_fee == 1234.5


def test_fractional_seats_refused(tmp_path):
    path = _write(tmp_path, "c.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,2024-01-05,,2.5,1000
        """)
    _refused(lambda: read_records(path), "row 2, column seats", "2.5", "a whole number")


# -- tables -----------------------------------------------------------------------------


def test_quoted_newlines_and_duplicate_headers(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('client,start_date,end_date,seats,monthly_fee\n"Acme\nEast",2024-01-05,,'
                    '10,1000\n', encoding="utf-8")
    assert read_records(path)["clients"][0].name == "Acme\nEast"
    dup = _write(tmp_path, "dup.csv", """
        client,Company,start_date,end_date,seats,monthly_fee
        Acme,Acme Ltd,2024-01-05,,10,1000
        """)
    _refused(lambda: read_records(dup), "dup.csv", "column Company", "repeats the column",
             "allowed: each column once")


def _workbook(path, rows, *, hidden_first=False, merge=None, formula=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    if hidden_first:
        ws.title = "notes"
        ws.append(["this sheet is hidden"])
        ws.sheet_state = "hidden"
        ws = wb.create_sheet("clients")
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    if formula:
        ws[formula[0]] = formula[1]
    wb.save(path)
    return path


ROWS = [["client", "start_date", "end_date", "seats", "monthly_fee"],
        ["Acme", datetime.datetime(2024, 1, 5), None, 10, 1000],
        ["Beta", datetime.datetime(2024, 2, 5), None, 5, 500]]


def test_workbooks_first_visible_sheet_merged_cells_and_formulas(tmp_path):
    hidden = _workbook(tmp_path / "hidden.xlsx", ROWS, hidden_first=True)
    assert [c.name for c in read_records(hidden)["clients"]] == ["Acme", "Beta"]
    merged = _workbook(tmp_path / "merged.xlsx", ROWS, merge="A2:A3")
    _refused(lambda: read_records(merged), "merged.xlsx", "A2:A3", "merged cells")
    formula = _workbook(tmp_path / "formula.xlsx", ROWS, formula=("E3", "=E2/2"))
    _refused(lambda: read_records(formula), "formula.xlsx", "row 3, column 5", "=E2/2",
             "a formula without a saved value")


def test_agreement_rows_price_rise_and_a_client_who_came_back(tmp_path):
    path = _write(tmp_path, "agreements.csv", """
        Company,Agreement Start,Agreement End,Quantity,Monthly Amount
        Acme,01/05/2022,06/30/2024,10,1000
        Acme,07/01/2024,,10,1200
        Acme Backup,01/05/2022,,10,100
        Beta,02/01/2022,03/31/2023,5,500
        Beta,09/01/2023,,6,700
        """)
    clients = read_records(path, options=TODAY)["clients"]
    acme = next(c for c in clients if c.name == "Acme")
    assert acme.start == d(2022, 1, 5) and acme.end is None and acme.monthly_fee == 1200
    assert acme.fee_at(d(2023, 1, 1)) == 1000 and acme.fee_at(d(2025, 1, 1)) == 1200
    betas = sorted((c for c in clients if c.name == "Beta"), key=lambda c: c.start)
    assert [(b.start, b.end) for b in betas] == [(d(2022, 2, 1), d(2023, 3, 31)),
                                                (d(2023, 9, 1), None)]
    fit = fit_records(clients, as_of=d(2025, 1, 31))
    assert fit.get("start.customers").value == 3
    assert fit.get("churn.annual_rate").count == 1  # Beta left once


def test_opportunity_stages_and_ticket_types(tmp_path):
    pipe = _write(tmp_path, "opps.csv", """
        Created Date,Company Name,Stage,Close Date
        2024-01-05,A,Closed Won,2024-02-01
        2024-01-09,B,Closed Lost,2024-02-10
        2024-01-12,C,No Decision,2024-03-01
        2024-02-01,D,Proposal,
        2024-02-03,E,Qualification,
        """)
    deals = read_records(pipeline=pipe)["deals"]
    assert [(x.proposal, x.outcome) for x in deals] == [
        (True, "won"), (True, "lost"), (False, "lost"), (True, "open"), (False, "open")]
    _refused(lambda: read_records(pipeline=_write(tmp_path, "st.csv", """
        Created Date,Company Name,Stage
        2024-01-05,A,Maybe
        """)), "row 2, column Stage", '"maybe"', "unknown stage")
    tickets = _write(tmp_path, "t.csv", """
        Ticket #,Company,Date Entered,Actual Hours,Primary Resource,Board
        1,Acme,2024-01-05,1.0,Ann,Service Desk
        2,Acme,2024-01-06,2.0,Ann,Internal
        3,Acme,2024-01-07,3.0,Bob,Break-Fix
        4,Acme,2024-01-08,4.0,Bob,Projects
        """)
    records = read_records(tickets=tickets)
    assert [t.hours for t in records["tickets"]] == [1.0]
    assert any("3 rows of internal, break-fix or project types" in w
               for w in records["warnings"])


def test_time_entries_instead_of_tickets(tmp_path):
    path = _write(tmp_path, "time.csv", """
        Charge To,Company,Date Start,Hours Actual,Member
        T100,Acme,2024-01-05,0.5,Ann
        T100,Acme,2024-01-06,1.5,Bob
        T100,Acme,2024-01-07,0.5,Bob
        T101,Acme,2024-01-09,1.0,Ann
        ,Acme,2024-01-09,3.0,Bob
        """)
    records = read_records(tickets=path)
    tickets = records["tickets"]
    assert [(t.created, t.hours, t.resource) for t in tickets] == [
        (d(2024, 1, 5), 2.5, "Bob"), (d(2024, 1, 9), 1.0, "Ann")]
    assert [(w.hours, w.resource) for w in records["work"]] == [(3.0, "Bob")]


def test_a_file_of_exactly_5000_rows_is_warned(tmp_path):
    lines = ["created,client,hours,resource"]
    lines += [f"2024-01-{1 + k % 28:02d},Acme,1,Ann" for k in range(5000)]
    path = tmp_path / "capped.csv"
    path.write_text("\n".join(lines) + "\n")
    assert any("exactly 5,000 rows" in w for w in read_records(tickets=path)["warnings"])
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert not any("5,000" in w for w in read_records(tickets=path)["warnings"])


# -- the P&L as accounting packages export it ---------------------------------------------


QUICKBOOKS = """
    Acme IT Services
    Profit and Loss by Month
    January - March 2024
    ,Jan 2024,Feb 2024,Mar 2024,Total
    Income,,,,
    Managed Services,"20,000.00","20,500.00","21,000.00","61,500.00"
    Product Sales,"8,000.00","7,500.00","9,000.00","24,500.00"
    Project Revenue,"4,000.00","12,000.00","3,000.00","19,000.00"
    Total Income,"32,000.00","40,000.00","33,000.00","105,000.00"
    Expenses,,,,
    Rent,"3,000.00","3,000.00","3,000.00","9,000.00"
    Total Expenses,"11,000.00","11,500.00","12,000.00","34,500.00"
    Net Income,"21,000.00","28,500.00","21,000.00","70,500.00"
    """

XERO = """
    Profit and Loss
    Acme IT Services Ltd
    For the 3 months ended 31 March 2024
    Account,Jan-24,Feb-24,Mar-24
    Trading Income,,,
    Sales - Products,8000.00,7500.00,9000.00
    Sales - Projects,4000.00,12000.00,3000.00
    Total Trading Income,12000.00,19500.00,12000.00
    Operating Expenses,,,
    Total Operating Expenses,11000.00,11500.00,12000.00
    Net Profit,1000.00,8000.00,0.00
    """


@pytest.mark.parametrize("text", [QUICKBOOKS, XERO], ids=["quickbooks", "xero"])
def test_accounting_pnl_by_month(tmp_path, text):
    path = _write(tmp_path, "pnl.csv", text)
    pnl = read_records(pnl=path)["pnl"]
    assert [m.month for m in pnl] == [d(2024, 1, 1), d(2024, 2, 1), d(2024, 3, 1)]
    assert [m.revenue_products for m in pnl] == [8000, 7500, 9000]
    assert [m.revenue_projects for m in pnl] == [4000, 12000, 3000]
    assert [m.overhead for m in pnl] == [11000, 11500, 12000]


def test_monthly_pnl_with_title_total_and_month_labels(tmp_path):
    path = _write(tmp_path, "pnl.csv", """
        Acme IT Services - P&L
        Period,revenue_products,revenue_projects,overhead
        Dec 2023,8000,4000,11000
        Jan 2024,7500,12000,11500
        Total,15500,16000,22500
        """)
    records = read_records(pnl=path)
    assert [m.month for m in records["pnl"]] == [d(2023, 12, 1), d(2024, 1, 1)]
    assert any("above the header skipped" in w for w in records["warnings"])


# -- the PSA header sets ------------------------------------------------------------------


HEADER_SETS = {
    "connectwise": ("Ticket #,Company,Date Entered,Closed Date,Actual Hours,Primary Resource,"
                    "Board\n1001,Acme,01/15/2024 9:12 AM,01/16/2024,1.25,Ann,Service Desk\n"),
    "autotask": ("Ticket Number,Account Name,Create Date,Complete Date,Hours Worked,"
                 "Assigned Resource,Ticket Type\nT20240115.0001,Acme,2024-01-15 09:12,"
                 "2024-01-16 10:00,1.25,Ann,Service Request\n"),
    "halopsa": ("Request ID,Client Name,Date Logged,Date Closed,Time Taken,Agent,Request Type\n"
                "5001,Acme,15/01/2024 09:12,16/01/2024 10:00,1.25,Ann,Incident\n"),
}


@pytest.mark.parametrize("psa", list(HEADER_SETS))
def test_psa_header_sets(tmp_path, psa):
    path = tmp_path / f"{psa}.csv"
    path.write_text(HEADER_SETS[psa])
    (t,) = read_records(tickets=path)["tickets"][0:1]
    assert (t.created, t.client, t.hours, t.resource) == (d(2024, 1, 15), "Acme", 1.25, "Ann")


# -- the present is never in the future ---------------------------------------------------


def test_a_future_row_leaves_as_of_and_the_fit_unchanged(tmp_path):
    base = """
        client,start_date,end_date,seats,monthly_fee
        Acme,2021-01-05,,10,1000
        Beta,2021-02-05,2023-03-01,5,500
        Gamma,2022-03-05,2024-06-01,8,900
        Delta,2022-07-01,,12,1500
        Epsilon,2024-09-30,,6,700
        """
    future = base + "        Zeta,2029-01-01,,9,900\n"
    a = read_records(_write(tmp_path, "a.csv", base), options=TODAY)
    b = read_records(_write(tmp_path, "b.csv", future), options=TODAY)
    fa = fit_records(a["clients"])
    fb = fit_records(b["clients"])
    assert fa.as_of == fb.as_of == d(2024, 9, 30)
    assert [(f.key, f.estimate) for f in fa.fitted] == [(f.key, f.estimate) for f in fb.fitted]
    assert b["warnings"] == ["b.csv row 7, column start_date: 2029-01-01 is after today "
                             "(2026-12-06); the row is left out (not yet a client)"]
    # a contract end after today: the client is active, and as-of stays put
    c = read_records(_write(tmp_path, "c.csv", base.replace("Delta,2022-07-01,,",
                                                            "Delta,2022-07-01,2029-06-30,")),
                     options=TODAY)
    assert fit_records(c["clients"]).as_of == d(2024, 9, 30)
    assert "read as active" in c["warnings"][0] and "row 5, column end_date" in c["warnings"][0]


def test_as_of_before_the_records_is_refused(tmp_path, capsys):
    path = _write(tmp_path, "c.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,2022-01-05,,10,1000
        """)
    assert main(["fit", "--clients", str(path), "--as-of", "2020-01-01", "--out",
                 str(tmp_path / "x.toml"), "--report", str(tmp_path / "r")]) == 2
    assert "before the records begin" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists() and not (tmp_path / "r").exists()


# -- bounded: bombs, huge files, pipes ----------------------------------------------------


def _bounded_reads(workdir: Path) -> dict:
    return dict(args=[sys.executable, str(Path(__file__).with_name("bounded_reads.py")),
                      str(workdir)], timeout=600)


BACKGROUND = {"bounded_reads": _bounded_reads}
"""Started once the session's tests are collected (tests/conftest.py): the bomb and the
CSV built and each read in a child of its own (tests/bounded_reads.py) while the other
tests run."""


@pytest.mark.background("bounded_reads")
def test_zip_bomb_and_a_50mb_csv_stay_under_1gb(background):
    res, _ = background("bounded_reads")
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["bomb_bytes"] < 2_000_000
    rc, out = got["bomb"]
    assert rc == 0 and "REFUSED" in out and "unpacks to" in out, out
    assert int(out.split()[-1]) < 1024, out
    assert got["csv_bytes"] > 49_000_000
    rc, out = got["csv"]
    assert rc == 0 and int(out.split()[-1]) < 1024, out


def test_a_fifo_or_dev_zero_as_columns_is_refused(tmp_path):
    fifo = tmp_path / "map.toml"
    os.mkfifo(fifo)
    _refused(lambda: read_column_map(fifo), "not a regular file")
    _refused(lambda: read_column_map("/dev/zero"), "not a regular file")
    _refused(lambda: read_table("/dev/zero.csv", "clients"), "not found")


def test_cli_refuses_a_bad_export_and_writes_nothing(tmp_path, capsys):
    path = _write(tmp_path, "c.csv", """
        client,start_date,end_date,seats,monthly_fee
        Acme,2024-01-05,,"1,5",1000
        """)
    out = tmp_path / "mine.toml"
    assert main(["fit", "--clients", str(path), "--out", str(out), "--report",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "c.csv: row 2, column seats" in err[0], err
    assert not out.exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize("table, text", [
    ("pipeline", "date,prospect,proposal,outcome,close_date\n2024-01-05,A,yes,won,2024-02-01\n"
                 "2024-01-09,B,yes,lost,2024-02-10\n2024-02-12,C,no,lost,2024-03-01\n"),
    ("tickets", "created,client,hours,resource\n2024-01-05,Acme,1.5,Ann\n"
                "2024-02-06,Acme,0.5,Bob\n"),
    ("pnl", "month,revenue_products,revenue_projects,overhead\n2024-01,8000,4000,11000\n"
            "2024-02,7500,12000,11500\n"),
])
def test_fit_without_clients_writes_a_valid_config(tmp_path, capsys, table, text):
    path = tmp_path / f"{table}.csv"
    path.write_text(text)
    out = tmp_path / "mine.toml"
    assert main(["fit", f"--{table}", str(path), "--out", str(out), "--report",
                 str(tmp_path / "r")]) == 0
    assert main(["validate", str(out)]) == 0
    capsys.readouterr()
