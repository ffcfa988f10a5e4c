"""The ``msp-sim`` command line.

``msp-sim run CONFIG`` validates a config, simulates it and writes the output
directory; ``msp-sim validate CONFIG`` prints the resolved config. Every user
mistake ends with ``error: <message>`` on stderr and exit status 2, with
nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .config import ConfigError, load_config

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _version() -> str:
    from .results import package_version

    return package_version()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msp-sim",
        description="Monte Carlo revenue-growth simulator for managed IT service providers.",
    )
    parser.add_argument("--version", action="version", version=f"msp-sim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    set_help = ("override a config key, e.g. --set churn.annual_rate=0.12 or "
                "--set 'churn.annual_rate={dist=\"uniform\", low=0.08, high=0.12}' "
                "(value parsed as TOML; repeatable)")

    run = sub.add_parser("run", help="simulate a config and write the outputs",
                         description="Simulate a config and write summary.json, paths.npz, "
                                     "quantiles.csv and report.html into the output directory.")
    run.add_argument("config", metavar="CONFIG", help="TOML config file")
    run.add_argument("--paths", type=int, metavar="N", help="number of paths "
                     "(overrides simulation.paths)")
    run.add_argument("--seed", type=int, metavar="S", help="run seed (overrides simulation.seed)")
    run.add_argument("--months", type=int, metavar="M", help="horizon in months "
                     "(overrides simulation.months)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help=set_help)
    run.add_argument("--out", metavar="DIR", help="output directory "
                     "(default: results/<config name>); replaced if it holds an earlier run")
    run.add_argument("--chunk-size", type=int, metavar="N",
                     help="paths simulated per chunk (default: automatic)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--save-paths", action=argparse.BooleanOptionalAction, default=None,
                     help="write paths.npz (default: only for runs of at most 200,000 paths)")
    run.set_defaults(handler=_cmd_run)

    validate = sub.add_parser("validate", help="check a config and print every resolved key",
                              description="Validate a config and print every section and "
                                          "key with its value, unit and source.")
    validate.add_argument("config", metavar="CONFIG", help="TOML config file")
    validate.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="KEY=VALUE", help=set_help)
    validate.set_defaults(handler=_cmd_validate)
    return parser


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import describe_config

    config = load_config(args.config, overrides=args.overrides)
    print(describe_config(config), end="")
    print(f"\n{args.config}: OK")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from .output import check_out_dir, write_outputs

    overrides = list(args.overrides)
    for flag, key in (("paths", "paths"), ("seed", "seed"), ("months", "months")):
        value = getattr(args, flag)
        if value is not None:
            overrides.append(f"simulation.{key}={value}")
    config = load_config(args.config, overrides=overrides)
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ConfigError("--chunk-size", [("", None, f"out of range: got {args.chunk_size}; "
                                                      "allowed: an integer >= 1")])
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    check_out_dir(out)

    from .api import simulate

    sim = config.simulation
    print(f"simulating {sim.paths:,} paths x {sim.months} months (seed {sim.seed}) ...",
          file=sys.stderr)
    start = time.perf_counter()
    result = simulate(config, chunk_size=args.chunk_size,
                      progress=False if args.no_progress else None)
    elapsed = time.perf_counter() - start
    written = write_outputs(result, out, save_paths=args.save_paths)
    print(result.format_summary())
    files = sorted(p.name for p in written.iterdir())
    print(f"\nsimulated in {elapsed:.1f} s; wrote {written}/: {', '.join(files)}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``msp-sim`` command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).
    """
    from .output import OutputDirError

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return args.handler(args)
    except (ConfigError, OutputDirError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        _error(str(exc))
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
