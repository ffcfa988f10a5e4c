"""The one table from parameter names to command-line flags.

Each entry names a parameter (the ``args`` attribute a command reads, and the
name the library gives it: ``chunk_size``, ``paths``), its flag and its
argparse options, and the config key the flag overrides where it is a
shorthand for ``--set`` (``--paths`` for ``simulation.paths``). Commands add
their flags from here (:func:`add_flags`) instead of repeating argparse blocks;
a library error that names a parameter (as its source or key, or in its text in
backquotes: ```range```) is shown with its flag (:func:`as_flags`,
:func:`with_flags`), and the shorthands become overrides in one place
(:func:`config_overrides`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..config import ConfigError

__all__ = ["FLAGS", "RECORDS", "SIMULATION", "Flag", "add_flags", "as_flags",
           "config_overrides", "flag_of", "with_flags"]

SET_HELP = ("override a config key, e.g. --set churn.annual_rate=0.12 or "
            "--set 'churn.annual_rate={dist=\"uniform\", low=0.08, high=0.12}' "
            "(value parsed as TOML; repeatable)")


class Flag(NamedTuple):
    """A parameter's flag (or positional name), its argparse options (a ``{}`` in the
    help is filled per command), the config key it overrides, if any, and whether the
    library names the parameter in its errors (shown with the flag here)."""

    flag: str
    options: Mapping[str, Any]
    key: str | None = None
    named: bool = False


def _flag(flag: str, key: str | None = None, named: bool = False, **options: Any) -> Flag:
    return Flag(flag, options, key, named)


FLAGS: dict[str, Flag] = {
    # what a command reads
    "config": _flag("config", metavar="CONFIG", help="TOML config file"),
    "configs": _flag("configs", nargs="+", metavar="CONFIG",
                     help="config files, or one scenario file"),
    # the simulation's shorthands and how to run it
    "paths": _flag("--paths", "simulation.paths", named=True, type=int, metavar="N",
                   help="paths per simulation (overrides simulation.paths)"),
    "chunk_size": _flag("--chunk-size", named=True, type=int, metavar="N",
                        help="paths simulated per chunk (default: automatic)"),
    "seed": _flag("--seed", "simulation.seed", type=int, metavar="S",
                  help="seed (overrides simulation.seed)"),
    "months": _flag("--months", "simulation.months", type=int, metavar="M",
                    help="horizon in months (overrides simulation.months)"),
    "tolerance": _flag("--tolerance", named=True, type=float, metavar="T",
                       help="with --paths auto: target half-width of the 95%% CI of P(break "
                            "by the horizon) (default 0.005)"),
    "max_paths": _flag("--max-paths", named=True, type=int, metavar="N",
                       help="with --paths auto: the most paths to simulate (default 100,000)"),
    "overrides": _flag("--set", named=True, action="append", default=[], metavar="KEY=VALUE",
                       help=SET_HELP),
    "no_progress": _flag("--no-progress", action="store_true", help="no progress bar"),
    "scheduler": _flag("--scheduler", named=True, metavar="local:N|tcp://HOST:PORT",
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
    # run
    "by": _flag("--by", type=int, action="append", default=[], metavar="MONTH",
                help="also report the chance to break the threshold by MONTH (repeatable; "
                     "12, 36 and the horizon are always reported)"),
    "no_levers": _flag("--no-levers", action="store_true",
                       help="skip the lever scan (by default every run also simulates the "
                            "standard levers with the same random numbers; [levers] in the "
                            "config adds or leaves out levers)"),
    "lever_paths": _flag("--lever-paths", type=int, metavar="N",
                         help="paths per lever in the scan (default: the run's paths, at "
                              "most 10,000)"),
    "save_paths": _flag("--save-paths", action=argparse.BooleanOptionalAction, default=None,
                        help="keep and write every path's trajectories to paths.npz "
                             "(default: for runs of at most 200,000 paths; larger runs keep "
                             "per-month statistics and write first-passage months only)"),
    # compare
    "names": _flag("--name", named=True, action="append", metavar="NAME",
                   help="scenario names, one per scenario in order (default: the file "
                        "names, or the scenario file's names)"),
    # goal
    "vary": _flag("--vary", named=True, required=True, metavar="KEY",
                  help="the lever: a numeric key, e.g. sales.meetings_per_selling_hour"),
    "target": _flag("--target", named=True, required=True, metavar="EXPR",
                    help="e.g. 'p_break_by_36>=0.8', 'p_mrr_above_60>=0.5', "
                         "'mrr_p50_36>=100000', 'customers_mean_60>=40' (>= or <=)"),
    "range": _flag("--range", named=True, metavar="LO:HI",
                   help="search range of the lever (default: its distribution's support, "
                        "or +-50%% of its value, within the allowed values)"),
    "xtol": _flag("--xtol", type=float, metavar="X",
                  help="tolerance on the lever (default 0.1%% of the range; integer keys: "
                       "exact)"),
    # plan
    "objective": _flag("--objective", default="owner-value", metavar="NAME",
                       help="what the plan maximizes: owner-value (default: pay taken, "
                            "distributions and the exit value, discounted), cum-profit, "
                            "final-cash, p-solvent, p-break-by:MONTH"),
    "budget": _flag("--budget", named=True, type=float, metavar="USD",
                    help="$/month the plan's levers may cost together (a lever costing "
                         "more is never chosen)"),
    "max_p_insolvent": _flag("--max-p-insolvent", named=True, type=float, metavar="P",
                             help="the largest P(out of cash and credit by the horizon) a "
                                  "plan may have, e.g. 0.05 (checked on the final paths)"),
    "screen_paths": _flag("--screen-paths", type=int, metavar="N", default=200,
                          help="paths per bundle while screening (default 200)"),
    "finalists": _flag("--finalists", type=int, metavar="K", default=6,
                       help="bundles re-run at --paths paths (default 6)"),
    # sensitivity
    "n_base": _flag("--n-base", type=int, default=256, metavar="N",
                    help="rows of each Sobol' matrix, a power of 2 >= 8 (default 256)"),
    "paths_per_point": _flag("--paths-per-point", type=int, default=16, metavar="N",
                             help="paths averaged at each design point (default 16)"),
    "tornado_paths": _flag("--tornado-paths", type=int, default=2000, metavar="N",
                           help="paths at each tornado point (default 2000)"),
    "outcomes": _flag("--outcome", action="append", metavar="NAME",
                      help="an outcome to analyse (repeatable; default all)"),
    "parameters": _flag("--parameter", action="append", metavar="KEY",
                        help="an uncertain key to analyse (repeatable; default all)"),
    "all_assumptions": _flag("--all-assumptions", action="store_true",
                             help="also scan every assumption the config fixes (escalation "
                                  "share, owner hours, turnover, ...), each uniform over its "
                                  "sourced plausible range (docs/calibration.md)"),
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


_NAMED_IN_TEXT = re.compile(r"`([a-z_]+)`")
"""A parameter a library message names in its text: ```range```."""


def with_flags(text: str) -> str:
    """``text`` with each parameter named in backquotes (```range```, ```out```) shown as
    its flag (``--range``, ``--out``); other backquoted words are left as they are."""
    return _NAMED_IN_TEXT.sub(
        lambda m: FLAGS[m.group(1)].flag if m.group(1) in FLAGS else m.group(0), text)


def as_flags(exc: ConfigError) -> str:
    """``exc``'s message with each parameter the library names (the error's source, or a
    problem's key: ``chunk_size``, ``tolerance``; or in backquotes in its text) shown as
    its flag (``--chunk-size: out of range: got 0; ...``): the library names parameters,
    the command line flags."""
    source = exc.source
    if FLAGS.get(source) is not None and FLAGS[source].named:
        source = FLAGS[source].flag
    lines = []
    for key, value, message in exc.problems:
        named = FLAGS.get(key) if key else None
        if named is not None and named.named:
            lines.append(f"{named.flag}: {message}")
        else:
            lines.append(str(ConfigError(source, [(key, value, message)])))
    return with_flags("\n".join(lines))


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
