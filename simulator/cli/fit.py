"""``msp-sim fit``: a config of your business fitted from your records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, default_out, fit_options, flag_error, record_tables
from .flags import RECORDS, add_flags


def add_parser(sub: Any) -> None:
    """The ``fit`` subcommand and its flags."""
    fit = sub.add_parser(
        "fit", help="write a config of your business fitted from your records",
        description="Fit the model to your exports (CSV or XLSX, each optional; docs/fit.md "
                    "gives the columns): every rate as a distribution that carries the "
                    "uncertainty of your data, a comment on each value saying where it comes "
                    "from. Writes the config and a fit report (fit.json, fit.html).")
    add_flags(fit, *RECORDS)
    fit.add_argument("--out", default="my_msp.toml", metavar="FILE.toml",
                     help="the config to write (default: my_msp.toml); never overwritten "
                          "unless --force")
    fit.add_argument("--report", metavar="DIR",
                     help="the fit report's directory (default: results/fit-<config name>)")
    fit.add_argument("--force", action="store_true", help="overwrite the config if it exists")
    fit.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..fit import config_text, fit_files, fitted_config
    from ..output import FIT_FILES, claim_out_dir, write_text_atomic
    from ..report.fit import write_fit_report

    tables, as_of = record_tables(args)
    out = Path(args.out)
    if out.suffix != ".toml":
        raise flag_error("--out", f"{args.out}: not a .toml name; allowed: a path ending in "
                                   ".toml")
    if out.exists() and not args.force:
        raise flag_error("--out", f"{args.out}: exists; allowed: a new file, or --force to "
                                   "overwrite it")
    report = Path(args.report) if args.report else default_out("fit", out.stem)
    options, base, held = fit_options(args)
    try:
        result = fit_files(**tables, owner=args.owner, columns=args.columns, as_of=as_of,
                           selling_hours=args.selling_hours, options=options, base=base,
                           overrides=held)
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise flag_error("--as-of", str(exc)) from None
    fitted_config(result, str(out))  # the config is valid before anything is written
    text = config_text(result)  # and both outputs are made before either is written
    _check_writable_file(out)
    claim_out_dir(report, FIT_FILES, need_bytes=2_000_000)
    written = write_fit_report(result, report)
    write_text_atomic(out, text)
    for f in result.fitted:
        print(f.line())
    if result.replay is not None:
        print(f"\ndoes the model hold your past? the fitted model run from your book of "
              f"{result.replay.start.isoformat()}:")
        print(f"  {'':<22} {'history':>12}   {'model median':>12}   [90% band]")
        for line in result.replay.lines():
            print(line)
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"\nwrote {out} and {written}/ (fit.html); check it with `msp-sim validate {out}`, "
          f"run it with `msp-sim run {out}`")
    return EXIT_OK


def _check_writable_file(path: Path) -> None:
    """Refuse, before anything is written, a file that cannot be written: its nearest
    existing folder is not a writable directory."""
    import os

    from ..output import OutputDirError

    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputDirError(f"{path}: cannot write it ({folder} is not a directory you can "
                             "write to); nothing written; allowed: a path in a directory you "
                             "can write to")
