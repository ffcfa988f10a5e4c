"""``msp-sim run``: simulate a config and write the outputs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..config import load_config
from .common import (
    COMPILE_NOTICE,
    EXIT_OK,
    check_finite,
    close,
    connect,
    flag_error,
    progress_flag,
)
from .flags import add_flags, config_overrides


def add_parser(sub: Any) -> None:
    """The ``run`` subcommand and its flags."""
    run = sub.add_parser("run", help="simulate a config and write the outputs",
                         description="Simulate a config and write summary.json, paths.npz, "
                                     "quantiles.csv and report.html into the output directory.")
    add_flags(run, "config", "paths", paths={
        "type": _paths_arg, "metavar": "N|auto", "help": "number of paths (overrides "
        "simulation.paths); 'auto' adds paths until the 95%% CI of P(break by the horizon) "
        "is narrower than --tolerance"})
    add_flags(run, "tolerance", "max_paths", "seed", "months", "overrides", "out", "chunk_size",
              "no_progress", "by", "no_levers", "lever_paths", "scheduler", "title",
              "save_paths",
              out={"help": "output directory (default: results/<config name>); replaced "
                           "if it holds an earlier run"},
              scheduler="the chunks of paths, and the lever scan's scenarios",
              title='title of report.html (default: "msp-sim: MRR growth simulation")')
    run.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..output import claim_out_dir
    from ..results import KEEP_PATHS_LIMIT as KEEP_PATHS

    auto = args.paths == "auto"
    config = load_config(args.config,
                         overrides=config_overrides(args))
    # the engine's imports (numba, scipy.stats: seconds) only once the config is good
    from ..runner.plan import check_chunk_size

    check_chunk_size(args.chunk_size)
    tolerance, max_paths = 0.0, 0
    if not auto:
        for flag, value in (("--tolerance", args.tolerance), ("--max-paths", args.max_paths)):
            if value is not None:
                raise flag_error(flag, f"given without --paths auto; allowed: {flag} only "
                                        "with --paths auto")
    else:
        from ..analysis.convergence import (
            DEFAULT_MAX_PATHS,
            DEFAULT_TOLERANCE,
            check_sampling,
            check_tolerance,
        )

        tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
        max_paths = DEFAULT_MAX_PATHS if args.max_paths is None else args.max_paths
        check_tolerance(tolerance, max_paths)  # the library's rules, shown with the flags
        check_sampling(config, args.config)
    for month in args.by:
        if not 0 <= month <= config.simulation.months:
            raise flag_error("--by", f"out of range: got {month}; allowed: a month with 0 <= "
                                      f"value <= {config.simulation.months} (the horizon)")
    out = Path(args.out) if args.out is not None else Path("results") / Path(args.config).stem
    levers = None
    lever_paths = 0
    if config.levers.scan and not args.no_levers:
        from ..analysis.levers import resolve_levers
        from ..analysis.scan import DEFAULT_SCAN_PATHS
        from ..results import KEEP_PATHS_LIMIT

        levers = resolve_levers(config, args.config)  # a bad [levers] stops here, exit 2
        lever_paths = (min(DEFAULT_SCAN_PATHS, config.simulation.paths)
                       if args.lever_paths is None else args.lever_paths)
        if not 1 <= lever_paths <= KEEP_PATHS_LIMIT:
            raise flag_error("--lever-paths", f"out of range: got {lever_paths}; allowed: an "
                                               f"integer with 1 <= value <= {KEEP_PATHS_LIMIT} "
                                               "(the scan pairs every path's values)")
    elif args.lever_paths is not None:
        raise flag_error("--lever-paths", "given with --no-levers (or levers.scan = false); "
                                           "allowed: --lever-paths only with a lever scan")
    from ..memory import check_memory, run_bytes

    n = max_paths if auto else config.simulation.paths
    kept = True if auto else (args.save_paths if args.save_paths is not None
                              else n <= KEEP_PATHS)
    need = run_bytes(n, config.simulation.months, kept, args.chunk_size)
    # the lever scan runs while the run's result is held: one lever's trajectories at a time
    scan_need = run_bytes(lever_paths, config.simulation.months, True, args.chunk_size) \
        if levers else 0
    check_memory(need + scan_need, f"{n:,} paths x {config.simulation.months} months"
                 + (" with every trajectory kept" if kept else "")
                 + (f" and a lever scan of {lever_paths:,} paths" if levers else ""),
                 hint="fewer paths" + (", or --no-save-paths" if kept and not auto else "")
                 + (", or --no-levers" if levers else ""))
    disk = 0 if args.save_paths is False else (need if kept else 16 * n)
    if args.scheduler is not None and auto:
        raise flag_error("--scheduler", "given with --paths auto; allowed: --scheduler "
                                         "with a number of paths")
    claim_out_dir(out, need_bytes=disk + 2_000_000)
    client = connect(args)  # an unreachable scheduler stops here, exit 2
    try:
        return _run_simulation(args, config, auto, tolerance, max_paths, levers, lever_paths,
                               out, client)
    finally:
        close(client)


def _run_simulation(args: argparse.Namespace, config: Any, auto: bool, tolerance: float,
                    max_paths: int, levers: list[Any] | None, lever_paths: int, out: Path,
                    client: Any) -> int:
    """``msp-sim run`` once its inputs are checked and its output claimed."""
    from ..api import engine_ready, simulate
    from ..month_one import month_one
    from ..report import write_outputs

    month1 = month_one(config)
    if not month1.steady:
        print(month1.line(), file=sys.stderr)
    engine_ready(lambda: print(COMPILE_NOTICE, file=sys.stderr))
    sim = config.simulation
    start = time.perf_counter()
    if auto:
        from ..analysis.convergence import simulate_to_precision

        print(f"simulating {sim.months} months (seed {sim.seed}) until the 95% CI of "
              f"P(break by month {sim.months}) is within +-{tolerance:g} "
              f"(at most {max_paths:,} paths) ...", file=sys.stderr)
        result = simulate_to_precision(config, tolerance=tolerance, max_paths=max_paths,
                                       chunk_size=args.chunk_size, progress=progress_flag(args))
    else:
        print(f"simulating {sim.paths:,} paths x {sim.months} months (seed {sim.seed}) ...",
              file=sys.stderr)
        result = simulate(config, chunk_size=args.chunk_size, progress=progress_flag(args),
                          keep_paths=args.save_paths, client=client)
    elapsed = time.perf_counter() - start
    check_finite(result, args.config)
    scan = None
    if levers:
        from ..analysis.scan import lever_scan

        print(f"scanning {len(levers)} levers with {lever_paths:,} paths each (same random "
              "numbers; --no-levers skips it) ...", file=sys.stderr)
        scan_start = time.perf_counter()
        scan = lever_scan(config, n_paths=lever_paths, levers=levers,
                          chunk_size=args.chunk_size, progress=progress_flag(args), client=client)
        elapsed_scan = time.perf_counter() - scan_start
    from ..config.describe import config_sources

    written = write_outputs(result, out, save_paths=args.save_paths is not False,
                            title=args.title, levers=scan, by=args.by,
                            sources=config_sources(args.config, args.overrides))
    print(result.format_summary(args.by))
    _print_uncertainty(written)
    if scan is not None:
        print("\nLevers (same random numbers; the top three by the owner's value; every lever in "
              "report.html and summary.json):")
        for line in scan.lines(3):
            print(f"  {line}")
    if auto:
        trace = result.convergence
        steps = " -> ".join(f"{e['paths']:,}" for e in trace)
        last = trace[-1]
        state = (f"below the tolerance {tolerance:g}" if result.converged
                 else f"NOT below the tolerance {tolerance:g}: stopped at --max-paths")
        print(f"\npaths auto: {steps} paths; 95% CI half-width {last['half_width']:.4f}, "
              f"{state}")
    files = sorted(p.name for p in written.iterdir())
    scanned = "" if scan is None else f", levers scanned in {elapsed_scan:.1f} s"
    print(f"\nsimulated in {elapsed:.1f} s{scanned}; wrote {written}/: {', '.join(files)}")
    return EXIT_OK


def _print_uncertainty(written: Path) -> None:
    """The run's two kinds of uncertainty in owner words, from the summary.json just
    written (the report's first screen says the same)."""
    import json

    from ..analysis.uncertainty import describe
    from ..output import SUMMARY_JSON

    block = json.loads((written / SUMMARY_JSON).read_text(encoding="utf-8")).get("uncertainty")
    if block and block.get("headlines"):
        print("\nLuck against what you haven't measured (the assumptions drawn per path):")
        for line in describe(block):
            print(f"  {line}")


def _paths_arg(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of paths or 'auto', got {text!r}") from None
