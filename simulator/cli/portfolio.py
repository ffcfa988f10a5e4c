"""``msp-sim portfolio``: many MSPs at once."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .common import EXIT_OK, close, connect, default_out, flag_error
from .flags import add_flags


def add_parser(sub: Any) -> None:
    """The ``portfolio`` subcommand and its flags."""
    port = sub.add_parser(
        "portfolio", help="many MSPs at once: how many break the threshold, and when",
        description="Simulate every MSP of a portfolio file (CSV or XLSX: an msp column, and "
                    "config keys as columns or a config column naming a file each) with "
                    "common random numbers; writes portfolio.json, portfolio.html and "
                    "portfolio.xlsx.")
    port.add_argument("portfolio_file", metavar="PORTFOLIO", help="CSV or XLSX file")
    port.add_argument("--base", metavar="CONFIG",
                      help="the config every row starts from (default: the defaults)")
    add_flags(port, "paths", "seed", paths={"help": "paths per MSP (default: the base "
                                            "config's simulation.paths, at most 2,000)"},
              seed={"help": "seed (default: the base's)"})
    port.add_argument("--levers", action="store_true",
                      help="also scan the standard levers of every MSP: how many more MSPs "
                           "each would take past the threshold")
    add_flags(port, "scheduler", "title", "out", "no_progress", scheduler="each MSP",
              title="title of portfolio.html", out="results/portfolio-<file name>",
              no_progress="no progress line")
    port.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..analysis.portfolio import load_portfolio, portfolio
    from ..output import PORTFOLIO_FILES, claim_out_dir
    from ..report.portfolio import write_portfolio

    path = Path(args.portfolio_file)
    out = Path(args.out) if args.out else default_out("portfolio", path.stem)
    if args.paths is not None and not 1 <= args.paths <= 1_000_000:
        raise flag_error("--paths", f"out of range: got {args.paths}; allowed: 1 to "
                                     "1,000,000 paths per MSP")
    if args.seed is not None and args.seed < 0:
        raise flag_error("--seed", f"out of range: got {args.seed}; allowed: an integer >= 0")
    msps = load_portfolio(path, args.base)
    n_paths = args.paths if args.paths is not None else min(
        2000, msps[0].config.simulation.paths)
    from ..analysis.portfolio import portfolio_bytes
    from ..memory import check_memory

    months = msps[0].config.simulation.months
    check_memory(portfolio_bytes(len(msps), n_paths, months, args.levers),
                 f"{len(msps)} MSPs x {n_paths:,} paths x {months} months"
                 + (" with their lever scans (each lever's trajectories kept)"
                    if args.levers else ""),
                 hint="fewer --paths" + (", or no --levers" if args.levers else ""))
    claim_out_dir(out, PORTFOLIO_FILES, need_bytes=2_000_000)
    print(f"simulating {len(msps)} MSPs x {n_paths:,} paths"
          + (" with their levers" if args.levers else "") + " ...", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if not args.no_progress and sys.stderr.isatty():
            print(f"\r{done}/{total} MSPs", end="", file=sys.stderr, flush=True)

    # finished MSPs are kept beside the output until it is written: a rerun after Ctrl-C
    # or a crash takes them from there
    from ..output import Checkpoint

    checkpoint = Checkpoint(Path(out).absolute().parent / f".{Path(out).name}.checkpoint")
    checkpoint.check()
    client = connect(args)
    start = time.perf_counter()
    try:
        result = portfolio(msps, n_paths=n_paths, seed=args.seed, levers=args.levers,
                           progress=progress, client=client, checkpoint=checkpoint)
    finally:
        close(client)
    elapsed = time.perf_counter() - start
    written = write_portfolio(result, out, args.title)
    checkpoint.remove()
    data = result.to_dict()
    counts = data["portfolio"]
    low, high = counts["breaking_by_month_ci95"][-1]
    print(f"{len(msps)} MSPs: {counts['expected_breaking_by_month'][-1]:.1f} expected past the "
          f"threshold by month {result.months} (95% interval {low:.0f} to {high:.0f})")
    for row in data.get("levers", [])[:3]:
        print(f"  {row['name']}: {row['additional_msps_breaking']:+.1f} MSPs "
              f"[{row['ci95'][0]:+.1f}, {row['ci95'][1]:+.1f}]")
    print(f"\nsimulated in {elapsed:.1f} s; wrote {written}/: portfolio.json, "
          "portfolio.html, portfolio.xlsx, portfolio.png")
    return EXIT_OK
