"""``msp-sim goal``: the value of one lever that meets a target."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..config import load_config
from .common import (
    EXIT_FAILURE,
    EXIT_OK,
    close,
    connect,
    default_out,
    error,
    flag_error,
)
from .flags import SIMULATION, add_flags, config_overrides, with_flags


def add_parser(sub: Any) -> None:
    """The ``goal`` subcommand and its flags."""
    goal = sub.add_parser(
        "goal", help="find the value of one lever that meets a target",
        description="Find the smallest (or largest, by the target's direction) value of one "
                    "config key that meets a target, by root finding with common random "
                    "numbers; writes goal.json, goal.html and goal.png.")
    add_flags(goal, "config", "vary", "target", "range", "xtol", *SIMULATION, "scheduler", "out",
              scheduler="each evaluation's chunks of paths",
              out="results/goal-<config name>-<key>")
    goal.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..analysis.goal import (
        GoalUnreachable,
        default_range,
        goal_seek,
        lever_spec,
        parse_range,
        parse_target,
    )
    from ..output import GOAL_FILES, claim_out_dir
    from ..report.goal import write_goal
    from ..runner.plan import check_chunk_size

    check_chunk_size(args.chunk_size)
    config = load_config(args.config, overrides=config_overrides(args))
    key = args.vary.strip()
    lever_spec(key)
    target = parse_target(args.target, config.simulation.months)
    lo, hi = default_range(config, key) if args.range is None else parse_range(args.range, key)
    if args.xtol is not None and not (math.isfinite(args.xtol) and args.xtol > 0):
        raise flag_error("--xtol", f"out of range: got {args.xtol:g}; allowed: a number > 0")
    out = (Path(args.out) if args.out is not None
           else default_out("goal", Path(args.config).stem, key))
    sim = config.simulation
    from ..memory import check_memory, run_bytes

    check_memory(run_bytes(sim.paths, sim.months, False, args.chunk_size),
                 f"{sim.paths:,} paths x {sim.months} months per evaluation")
    claim_out_dir(out, GOAL_FILES, need_bytes=2_000_000)
    print(f"seeking {key} in [{lo:g}, {hi:g}] for {target.text} with {sim.paths:,} paths x "
          f"{sim.months} months per evaluation (seed {sim.seed}) ...", file=sys.stderr)
    client = connect(args)
    start = time.perf_counter()
    try:
        result = goal_seek(config, key, target, range=None if args.range is None else (lo, hi),
                           xtol=args.xtol, chunk_size=args.chunk_size, progress=False,
                           client=client)
    except GoalUnreachable as exc:  # an answer, not a usage mistake: exit status 1
        error(with_flags(f"{exc}; nothing written"))
        return EXIT_FAILURE
    finally:
        close(client)
    elapsed = time.perf_counter() - start
    written = write_goal(result, out, args.title)
    print(result.format_summary())
    files = sorted(p.name for p in written.iterdir())
    print(f"\nsearched in {elapsed:.1f} s; wrote {written}/: {', '.join(files)}")
    return EXIT_OK
