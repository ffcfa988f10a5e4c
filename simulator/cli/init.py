"""``msp-sim init``: write a commented starter config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .common import EXIT_OK


def add_parser(sub: Any) -> None:
    """The ``init`` subcommand and its flags."""
    init = sub.add_parser("init", help="write a commented starter config of your own business",
                          description="Write a starter config: the [start] values of your "
                                      "business to fill in (as written, the baseline business, "
                                      "which it reproduces), and every assumption commented "
                                      "out with its default, unit, plausible range and source.")
    init.add_argument("path", nargs="?", default="my_msp.toml", metavar="PATH",
                      help="the file to write (default: my_msp.toml); never overwritten "
                           "unless --force")
    init.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    init.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..config.starter import starter_toml
    from ..output import write_text_atomic

    path = Path(args.path)
    if path.exists() and not args.force:
        raise ConfigError(str(path), [("", None, "the file exists and was left as it is; "
                                                 "allowed: a new path, or --force to "
                                                 "overwrite it")])
    if path.suffix != ".toml":
        raise ConfigError(str(path), [("", None, f'not a .toml file name: got "{path.name}"; '
                                                 "allowed: a path ending in .toml")])
    write_text_atomic(path, starter_toml())
    print(f"wrote {path}: fill in [start] with your business today, then "
          f"`msp-sim validate {path}` and `msp-sim run {path}`")
    return EXIT_OK
