"""``msp-sim compare``: scenarios with common random numbers."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .common import (
    EXIT_OK,
    check_finite,
    close,
    connect,
    default_out,
    progress_flag,
)
from .flags import SIMULATION, add_flags, config_overrides


def add_parser(sub: Any) -> None:
    """The ``compare`` subcommand and its flags."""
    comp = sub.add_parser(
        "compare", help="compare scenarios with common random numbers",
        description="Simulate two or more scenarios with the same seed and paths (common "
                    "random numbers) and write comparison.json, report.html and figures. "
                    "Give config files, or one scenario file (base = \"config.toml\" plus "
                    "[[scenario]] tables with name and set).")
    add_flags(comp, "configs", "names", *SIMULATION, "scheduler", "out", scheduler="each scenario",
              out="results/compare-<names>")
    comp.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    from ..analysis.compare import compare, is_scenario_file
    from ..output import COMPARE_FILES, claim_out_dir
    from ..report.compare import write_comparison
    from ..runner.plan import check_chunk_size

    check_chunk_size(args.chunk_size)
    overrides = config_overrides(args)
    paths = [Path(c) for c in args.configs]
    scenario_files = [p for p in paths if is_scenario_file(p)]
    if scenario_files and len(paths) > 1:
        raise ConfigError(str(scenario_files[0]), [("", None, "a scenario file cannot be "
                          "combined with other configs; allowed: one scenario file alone, or "
                          "two or more config files")])
    if not scenario_files and len(paths) < 2:
        raise ConfigError(str(paths[0]), [("", None, "one config is not a comparison; "
                          "allowed: two or more configs, or a scenario file with base and "
                          "[[scenario]] tables")])
    source = paths[0] if scenario_files else paths
    from ..analysis.scenarios import resolve_scenarios

    scenarios = resolve_scenarios(source, args.names, overrides)
    if args.out is not None:
        out = Path(args.out)
    elif scenario_files:
        out = default_out(paths[0].stem)
    else:
        out = default_out("compare", *(p.stem for p in paths))
    first = scenarios[0].config.simulation
    from ..analysis.compare import compare_bytes
    from ..memory import check_memory

    check_memory(compare_bytes(len(scenarios), first.paths, first.months, args.chunk_size),
                 f"{len(scenarios)} scenarios x {first.paths:,} paths x {first.months} months")
    claim_out_dir(out, COMPARE_FILES, need_bytes=2_000_000)
    for s in scenarios[1:]:
        sim = s.config.simulation
        for key in ("paths", "seed"):
            if getattr(sim, key) != getattr(first, key):
                print(f'note: scenario "{s.name}" has simulation.{key} = '
                      f"{getattr(sim, key)}; every scenario runs with the first one's "
                      f"({getattr(first, key)}) so that they share their random numbers",
                      file=sys.stderr)
    print(f"simulating {len(scenarios)} scenarios x {first.paths:,} paths x {first.months} "
          f"months (seed {first.seed}, common random numbers) ...", file=sys.stderr)
    start = time.perf_counter()
    title = args.title
    if scenario_files and title is None:
        from ..analysis.scenarios import read_toml

        file_title = read_toml(paths[0]).get("title")
        title = file_title.strip() if isinstance(file_title, str) and file_title.strip() \
            else None
    client = connect(args)
    try:
        result = compare(scenarios, chunk_size=args.chunk_size, progress=progress_flag(args),
                         title=title, client=client)
    finally:
        close(client)
    for scenario, run in zip(result.scenarios, result.results, strict=True):
        check_finite(run, scenario.source)
    elapsed = time.perf_counter() - start
    written = write_comparison(result, out)
    print(result.format_summary())
    files = sorted(p.name for p in written.iterdir())
    print(f"\nsimulated in {elapsed:.1f} s; wrote {written}/: {', '.join(files)}")
    return EXIT_OK
