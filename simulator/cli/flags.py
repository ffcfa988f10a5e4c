"""The one table from parameter names to command-line flags.

Each entry names a parameter (the ``args`` attribute a command reads, and the
name the library gives it: ``chunk_size``, ``paths``), its flag and its
argparse options, and the config key the flag overrides where it is a
shorthand for ``--set`` (``--paths`` for ``simulation.paths``). Commands add
their flags from here (:func:`add_flags`) instead of repeating argparse blocks;
a library error that names a parameter is shown with its flag
(:func:`as_flags`), and the shorthands become overrides in one place
(:func:`config_overrides`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..config import ConfigError

__all__ = ["FLAGS", "RECORDS", "SIMULATION", "Flag", "add_flags", "as_flags",
           "config_overrides", "flag_of"]

SET_HELP = ("override a config key, e.g. --set churn.annual_rate=0.12 or "
            "--set 'churn.annual_rate={dist=\"uniform\", low=0.08, high=0.12}' "
            "(value parsed as TOML; repeatable)")


class Flag(NamedTuple):
    """A parameter's flag (or positional name), its argparse options (a ``{}`` in the
    help is filled per command) and the config key it overrides, if any."""

    flag: str
    options: Mapping[str, Any]
    key: str | None = None


def _flag(flag: str, key: str | None = None, **options: Any) -> Flag:
    return Flag(flag, options, key)


FLAGS: dict[str, Flag] = {
    # what a command reads
    "config": _flag("config", metavar="CONFIG", help="TOML config file"),
    "configs": _flag("configs", nargs="+", metavar="CONFIG",
                     help="config files, or one scenario file"),
    # the simulation's shorthands and how to run it
    "paths": _flag("--paths", "simulation.paths", type=int, metavar="N",
                   help="paths per simulation (overrides simulation.paths)"),
    "chunk_size": _flag("--chunk-size", type=int, metavar="N",
                        help="paths simulated per chunk (default: automatic)"),
    "seed": _flag("--seed", "simulation.seed", type=int, metavar="S",
                  help="seed (overrides simulation.seed)"),
    "months": _flag("--months", "simulation.months", type=int, metavar="M",
                    help="horizon in months (overrides simulation.months)"),
    "overrides": _flag("--set", action="append", default=[], metavar="KEY=VALUE",
                       help=SET_HELP),
    "no_progress": _flag("--no-progress", action="store_true", help="no progress bar"),
    "scheduler": _flag("--scheduler", metavar="local:N|tcp://HOST:PORT",
                       help="run {} as Dask tasks: N local worker processes, or a running "
                            "scheduler (results bit-identical to a local run; needs "
                            "msp-sim[dask])"),
    # what a command writes
    "title": _flag("--title", metavar="TEXT", help="title of the HTML report (default: the "
                   "scenario file's title, or one naming the analysis)"),
    "out": _flag("--out", metavar="DIR", help="output directory (default: {})"),
    # a business's records (fit, backtest)
    "clients": _flag("--clients", metavar="FILE", help="client list: client, start_date, "
                     "end_date, seats, [endpoints], monthly_fee"),
    "pipeline": _flag("--pipeline", metavar="FILE", help="first meetings: date, prospect, "
                      "proposal, outcome, close_date"),
    "tickets": _flag("--tickets", metavar="FILE", help="tickets: created, closed, client, "
                     "hours, resource (PSA headers recognised)"),
    "pnl": _flag("--pnl", metavar="FILE", help="monthly P&L: month, revenue_products, "
                 "revenue_projects, overhead"),
    "owner": _flag("--owner", metavar="NAME",
                   help="the owner's resource name in the tickets (escalation share)"),
    "columns": _flag("--columns", metavar="MAP.toml",
                     help='header mapping: [tickets] "Hrs" = "hours" (any table)'),
    "as_of": _flag("--as-of", metavar="DATE",
                   help="the date the records end (default: the latest date in them)"),
    "selling_hours": _flag("--selling-hours", type=float, metavar="H",
                           help="hours a month the owner means to sell (default: 40)"),
    "date_format": _flag("--date-format", metavar="FORMAT",
                         help="the exports' date order when it is ambiguous, e.g. %%m/%%d/%%Y "
                              "(US) or %%d/%%m/%%Y"),
    "decimal_comma": _flag("--decimal-comma", action="store_true",
                           help="numbers are written 1.234,56 (otherwise a decimal comma is "
                                "refused)"),
    "base_config": _flag("--config", metavar="CONFIG",
                         help="a config giving the values the fit does not (default: the "
                              "calibrated defaults)"),
    "held": _flag("--set", dest="overrides", action="append", default=[],
                  metavar="KEY=VALUE", help="hold a key as given instead of fitting it, "
                                            "e.g. --set tickets.hours_reactive=0.8"),
}
"""Every shared parameter: its flag, argparse options and the config key it overrides."""

SIMULATION = ("paths", "chunk_size", "seed", "months", "overrides", "no_progress", "title")
"""The flags of a command that simulates a config."""

RECORDS = ("clients", "pipeline", "tickets", "pnl", "owner", "columns", "as_of",
           "selling_hours", "date_format", "decimal_comma", "base_config", "held")
"""The flags of a command that reads a business's records."""


def add_flags(parser: argparse.ArgumentParser, *names: str,
              **changes: str | Mapping[str, Any]) -> None:
    """Add the flags of the parameters ``names`` to ``parser``, in order.

    ``changes[name]``: a text filling the ``{}`` of the table's help (or replacing
    a help without one), or a mapping of argparse options that replace the
    table's for this command (a default, a type, a help).
    """
    for name in names:
        flag = FLAGS[name]
        options = dict(flag.options)
        change = changes.get(name)
        if isinstance(change, str):
            help_text = options.get("help", "")
            options["help"] = help_text.format(change) if "{}" in help_text else change
        elif change is not None:
            options.update(change)
        if flag.flag.startswith("-"):
            options.setdefault("dest", name)
            parser.add_argument(flag.flag, **options)
        else:
            parser.add_argument(name, **options)


def flag_of(parameter: str) -> str:
    """The flag of a parameter name (``chunk_size`` -> ``--chunk-size``)."""
    flag = FLAGS.get(parameter)
    return flag.flag if flag is not None else "--" + parameter.replace("_", "-")


def as_flags(exc: ConfigError) -> ConfigError:
    """``exc`` with its source shown as the flag when it names a parameter of the table
    (the library names parameters; the command line shows flags)."""
    flag = FLAGS.get(exc.source)
    if flag is None or not flag.flag.startswith("-"):
        return exc
    return ConfigError(flag.flag, exc.problems)


def config_overrides(args: argparse.Namespace, names: Sequence[str] = SIMULATION
                     ) -> list[str]:
    """``--set`` plus the shorthands among ``names`` that were given (``--paths``,
    ``--seed``, ``--months``) as overrides of their config keys."""
    overrides = list(args.overrides)
    for name in names:
        key = FLAGS[name].key
        value = getattr(args, name, None)
        if key is not None and value is not None and value != "auto":
            overrides.append(f"{key}={value}")
    return overrides
