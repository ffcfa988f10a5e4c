"""``msp-sim backtest``: how well the fitted model predicts your last months."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import EXIT_OK, default_out, fit_options, flag_error, record_tables
from .flags import RECORDS, add_flags


def add_parser(sub: Any) -> None:
    """The ``backtest`` subcommand and its flags."""
    back = sub.add_parser(
        "backtest", help="how well the fitted model predicts your last months",
        description="Fit on your records before the last --holdout months, simulate those "
                    "months from the business as it was then, and compare with what "
                    "happened (managed MRR, clients, tickets): predictive bands, coverage "
                    "and PIT values in backtest.json, a chart in backtest.html.")
    add_flags(back, *RECORDS)
    back.add_argument("--holdout", type=int, default=12, metavar="MONTHS",
                      help="months held out at the end (default 12)")
    add_flags(back, "paths", "seed", "out", out="results/backtest",
              paths={"default": 2000, "help": "simulated futures (default 2000)"},
              seed={"default": 20261123, "help": "seed"})
    back.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..fit import read_records
    from ..fit.backtest import backtest
    from ..output import BACKTEST_FILES, claim_out_dir
    from ..report.fit import write_backtest

    tables, as_of = record_tables(args)
    if not tables["clients"]:
        raise flag_error("--clients", "missing; allowed: a backtest needs the client list "
                                       "(and any of the other records)")
    if not 1 <= args.holdout <= 60:
        raise flag_error("--holdout", f"out of range: got {args.holdout}; allowed: 1 to 60 "
                                       "months")
    if not 1 <= args.paths <= 100_000:
        raise flag_error("--paths", f"out of range: got {args.paths}; allowed: 1 to 100,000")
    out = Path(args.out) if args.out else default_out("backtest")
    read_options, base, held = fit_options(args)
    records = read_records(**tables, owner=args.owner, columns=args.columns,
                           options=read_options)
    options = {} if args.selling_hours is None else {"selling_hours": args.selling_hours}
    try:
        result = backtest(**records, holdout=args.holdout, as_of=as_of, n_paths=args.paths,
                          seed=args.seed, owner=args.owner, fit_options=options, base=base,
                          overrides=held)
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise flag_error("--holdout", str(exc)) from None
    claim_out_dir(out, BACKTEST_FILES, need_bytes=2_000_000)
    written = write_backtest(result, out)
    for line in [*result.verdict(), *result.lines()]:
        print(line)
    print(f"\nwrote {written}/: backtest.json, backtest.html, backtest.png")
    return EXIT_OK
