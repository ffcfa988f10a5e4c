"""``msp-sim plan``: the best combination and timing of levers under a budget."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..config import load_config
from .common import EXIT_OK, close, connect, default_out, flag_error
from .flags import SIMULATION, add_flags, config_overrides


def add_parser(sub: Any) -> None:
    """The ``plan`` subcommand and its flags."""
    plan = sub.add_parser(
        "plan", help="find the best combination and timing of levers under a budget",
        description="Search bundles of the standard levers and their timing and trigger "
                    "rules with common random numbers (screening, then the front-runners at "
                    "many paths with an OCBA allocation); report the best plan, its runner-"
                    "ups, P(correct selection), what each lever adds, the value of waiting "
                    "and what to measure first; writes plan.json, plan.html and plan.xlsx.")
    add_flags(plan, "config", "objective", "budget", "max_p_insolvent", "screen_paths",
              "finalists", *SIMULATION, "scheduler", "out", scheduler="every stage's bundles",
              out="results/plan-<config name>",
              paths={"help": "paths per finalist (default 2000)"})
    plan.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..analysis.plan import PlanSettings, check_limits, objective, plan_search
    from ..output import claim_out_dir
    from ..report.plan import PLAN_FILES, write_plan
    from ..runner.plan import check_chunk_size

    check_chunk_size(args.chunk_size)
    config = load_config(args.config, overrides=config_overrides(
        args, ("seed", "months", "overrides")))
    try:
        objective(args.objective, config.simulation.months)
    except ValueError as exc:
        raise flag_error("--objective", str(exc).partition(": ")[2]) from None
    p = args.max_p_insolvent
    check_limits(args.budget, p)
    for flag, value in (("--paths", args.paths), ("--screen-paths", args.screen_paths),
                        ("--finalists", args.finalists)):
        if value is not None and value < (2 if flag == "--finalists" else 10):
            raise flag_error(flag, f"out of range: got {value}; allowed: an integer >= "
                                   f"{2 if flag == '--finalists' else 10}")
    settings = PlanSettings(n_screen=args.screen_paths, finalists=args.finalists,
                            n_final=args.paths or PlanSettings.n_final)
    out = Path(args.out) if args.out is not None else default_out("plan",
                                                                   Path(args.config).stem)
    claim_out_dir(out, PLAN_FILES, need_bytes=2_000_000)
    print(f"planning for {args.objective} ({settings.n_screen} paths per bundle screened, "
          f"{settings.n_final:,} per finalist; seed {config.simulation.seed}) ...",
          file=sys.stderr)
    client = connect(args)
    start = time.perf_counter()
    try:
        try:
            result = plan_search(config, args.objective, budget=args.budget,
                                 max_p_insolvent=p, settings=settings,
                                 chunk_size=args.chunk_size, client=client)
        except ValueError as exc:
            raise flag_error(args.config, str(exc)) from None
    finally:
        close(client)
    elapsed = time.perf_counter() - start
    written = write_plan(result, out, args.title)
    print(result.format_summary())
    print(f"\n{result.runs} runs, {result.paths_simulated:,} paths in {elapsed:.1f} s; "
          f"wrote {written}/: {', '.join(sorted(p.name for p in written.iterdir()))}")
    return EXIT_OK
