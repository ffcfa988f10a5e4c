"""What the commands share: the flags several take, the record files, the scheduler,
the one-line errors."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ..config import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
COMPILE_NOTICE = ("compiling the simulation engine (once after an install or update, "
                  "~10 s; cached afterwards) ...")

def fit_options(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``fit``/``backtest``: how to read the exports, the base config's table
    (``--config``) and the keys held by ``--set``, each checked."""
    from ..config import config_from_dict, parse_override
    from ..config.loader import read_toml_file
    from ..fit.tables import DATE_FORMATS, ReadOptions

    fmt = args.date_format
    if fmt is not None and fmt not in DATE_FORMATS:
        raise flag_error("--date-format", f"unknown format {fmt!r}; allowed: "
                                          + ", ".join(DATE_FORMATS))
    base = read_toml_file(args.base_config) if args.base_config else {}
    held = dict(parse_override(text) for text in args.overrides)
    config_from_dict(base, source=args.base_config or "--config", overrides=held)
    return ReadOptions(date_format=fmt, decimal_comma=args.decimal_comma), base, held


def error(message: str) -> None:
    from ..formatting import printable

    # one line per problem (ConfigError's values are escaped where they are shown)
    print(f"error: {printable(message, keep=chr(10))}", file=sys.stderr)


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
