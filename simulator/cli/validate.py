"""``msp-sim validate``: check a config and print every resolved key."""

from __future__ import annotations

import argparse
from typing import Any

from ..config import load_config
from .common import EXIT_OK
from .flags import add_flags


def add_parser(sub: Any) -> None:
    """The ``validate`` subcommand and its flags."""
    validate = sub.add_parser("validate", help="check a config and print every resolved key",
                              description="Validate a config and print every section and "
                                          "key with its value, unit and source.")
    add_flags(validate, "config", "overrides")
    validate.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..config import describe_config
    from ..month_one import month_one

    config = load_config(args.config, overrides=args.overrides)
    print(describe_config(config), end="")
    print("\n* = set in your config (or by --set); every other value is msp-sim's default, "
          "with its source (docs/calibration.md)")
    print(month_one(config).line())
    print(f"{args.config}: OK")
    return EXIT_OK
