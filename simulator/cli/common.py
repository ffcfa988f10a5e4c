"""What the commands share: the flags several take, the record files, the scheduler,
the one-line errors."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
COMPILE_NOTICE = ("compiling the simulation engine (once after an install or update, "
                  "~10 s; cached afterwards) ...")

SET_HELP = ("override a config key, e.g. --set churn.annual_rate=0.12 or "
            "--set 'churn.annual_rate={dist=\"uniform\", low=0.08, high=0.12}' "
            "(value parsed as TOML; repeatable)")


def record_files(p: argparse.ArgumentParser) -> None:
    for table, what in (("clients", "client list: client, start_date, end_date, seats, "
                         "[endpoints], monthly_fee"),
                        ("pipeline", "first meetings: date, prospect, proposal, outcome, "
                         "close_date"),
                        ("tickets", "tickets: created, closed, client, hours, resource "
                         "(PSA headers recognised)"),
                        ("pnl", "monthly P&L: month, revenue_products, revenue_projects, "
                         "overhead")):
        p.add_argument(f"--{table}", metavar="FILE", help=what)
    p.add_argument("--owner", metavar="NAME",
                   help="the owner's resource name in the tickets (escalation share)")
    p.add_argument("--columns", metavar="MAP.toml",
                   help='header mapping: [tickets] "Hrs" = "hours" (any table)')
    p.add_argument("--as-of", dest="as_of", metavar="DATE",
                   help="the date the records end (default: the latest date in them)")
    p.add_argument("--selling-hours", dest="selling_hours", type=float, metavar="H",
                   help="hours a month the owner sold in the history (default: 40)")


def common_flags(p: argparse.ArgumentParser, paths: bool = True) -> None:
    if paths:
        p.add_argument("--paths", type=int, metavar="N",
                       help="paths per simulation (overrides simulation.paths)")
        p.add_argument("--chunk-size", type=int, metavar="N",
                       help="paths simulated per chunk (default: automatic)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="seed (overrides simulation.seed)")
    p.add_argument("--months", type=int, metavar="M", help="horizon in months "
                   "(overrides simulation.months)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--title", metavar="TEXT", help="title of the HTML report (default: "
                   "the scenario file's title, or one naming the analysis)")


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def record_tables(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """The record files of ``fit`` and ``backtest``, checked; and ``--as-of``."""
    import datetime

    tables = {t: getattr(args, t) for t in ("clients", "pipeline", "tickets", "pnl")}
    if not any(tables.values()):
        raise flag_error(args.command, "no records given; allowed: at least one of "
                                        "--clients, --pipeline, --tickets, --pnl")
    as_of = None
    if args.as_of is not None:
        try:
            as_of = datetime.date.fromisoformat(args.as_of)
        except ValueError:
            raise flag_error("--as-of", f"not a date: got {args.as_of!r}; allowed: a date "
                                         "YYYY-MM-DD") from None
    if args.selling_hours is not None and not (math.isfinite(args.selling_hours)
                                               and args.selling_hours > 0):
        raise flag_error("--selling-hours", f"out of range: got {args.selling_hours:g}; "
                                             "allowed: a number of hours > 0")
    return tables, as_of


def scheduler_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--scheduler", metavar="local:N|tcp://HOST:PORT",
                        help=f"run {what} as Dask tasks: N local worker processes, or a "
                             "running scheduler (results bit-identical to a local run; "
                             "needs msp-sim[dask])")


def connect(args: argparse.Namespace) -> Any:
    """The Dask client of ``--scheduler``, or None; a bad or unreachable scheduler is a
    one-line error (exit 2) here, before any work."""
    if args.scheduler is None:
        return None
    from ..runner.dask import connect

    return connect(args.scheduler)


def close(client: Any) -> None:
    if client is not None:
        from ..runner.dask import close

        close(client)


def flag_error(flag: str, message: str) -> ConfigError:
    return ConfigError(flag, [("", None, message)])


def config_overrides(args: argparse.Namespace, flags: Sequence[str]) -> list[str]:
    """``--set`` plus the shorthands (``--paths``, ``--seed``, ``--months``) as overrides."""
    overrides = list(args.overrides)
    for flag in flags:
        value = getattr(args, flag, None)
        if value is not None and value != "auto":
            overrides.append(f"simulation.{flag}={value}")
    return overrides


def check_chunk_size(args: argparse.Namespace) -> None:
    if getattr(args, "chunk_size", None) is not None and args.chunk_size < 1:
        raise ConfigError("--chunk-size", [("", None, f"out of range: got {args.chunk_size}; "
                                                      "allowed: an integer >= 1")])


def progress_flag(args: argparse.Namespace) -> bool | None:
    return False if args.no_progress else None


def default_out(*parts: str) -> Path:
    name = "-".join(p for p in parts if p)
    return Path("results") / name[:120]


def check_finite(result: Any, source: str) -> None:
    """Refuse a run whose values overflowed (inputs of extreme magnitude)."""
    import numpy as np

    for name in result.metric_names:
        try:
            means = result.mean(name)
        except (KeyError, ValueError):  # pragma: no cover
            continue
        bad = np.flatnonzero(~np.isfinite(means))
        if bad.size:
            raise ConfigError(source, [("", None, f"the simulation overflowed: {name} is not "
                                        f"a finite number from month {int(bad[0])} on "
                                        "(inputs of extreme magnitude, e.g. a cost of 1e300 "
                                        "or hours near 0); nothing written; allowed: values "
                                        "of the size a business has")])
