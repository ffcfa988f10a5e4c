"""``msp-sim sensitivity``: rank the uncertain inputs."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import ConfigError, load_config
from .common import (
    EXIT_OK,
    close,
    connect,
    default_out,
    flag_error,
    progress_flag,
)
from .flags import add_flags, config_overrides


def add_parser(sub: Any) -> None:
    """The ``sensitivity`` subcommand and its flags."""
    sens = sub.add_parser(
        "sensitivity", help="rank the uncertain inputs (Sobol' indices, tornado chart)",
        description="Variance-based sensitivity indices of P(break by the horizon), median "
                    "MRR at the horizon and the time to the threshold with respect to the "
                    "config's uncertain inputs, plus a tornado chart; writes "
                    "sensitivity.json, sensitivity.html and figures.")
    add_flags(sens, "config", "seed", "months", "overrides", "no_progress", "title", "n_base",
              "paths_per_point", "tornado_paths", "outcomes", "parameters", "all_assumptions",
              "scheduler", "out", scheduler="the design's points, about 65,536 paths a task",
              out="results/sensitivity-<config name>")
    sens.set_defaults(handler=command)


MAX_N_BASE = 2**20


def command(args: argparse.Namespace) -> int:
    from ..analysis.sensitivity import OUTCOMES, sensitivity
    from ..output import SENSITIVITY_FILES, claim_out_dir
    from ..report.sensitivity import write_sensitivity

    config = load_config(args.config, overrides=config_overrides(args))
    if args.all_assumptions:
        from ..config.starter import assumptions_uncertain

        config, widened = assumptions_uncertain(config)
        print(f"--all-assumptions: {len(widened)} fixed assumptions made uniform over their "
              f"plausible ranges: {', '.join(widened) or '(none)'}", file=sys.stderr)
    n_base = args.n_base
    if n_base < 8 or n_base & (n_base - 1) or n_base > MAX_N_BASE:
        raise flag_error("--n-base", f"out of range: got {n_base}; allowed: a power of 2 "
                                      f"from 8 to {MAX_N_BASE:,} (e.g. 64, 256, 1024)")
    for flag, value in (("--paths-per-point", args.paths_per_point),
                        ("--tornado-paths", args.tornado_paths)):
        if not 1 <= value <= 1_000_000:
            raise flag_error(flag, f"out of range: got {value}; allowed: an integer >= 1 "
                                    "(at most 1,000,000)")
    for name in args.outcomes or []:
        if name not in OUTCOMES:
            raise flag_error("--outcome", f'unknown outcome "{name}"; allowed: '
                                           f"{', '.join(OUTCOMES)}")
    if args.parameters:
        from ..config import param_specs

        uncertain = [k for k in param_specs(per_unit=False)
                     if not isinstance(config.get(k), int | float)]
        for key in args.parameters:
            if key not in uncertain:
                raise flag_error("--parameter", f'"{key}" is not an uncertain per-path key '
                                                 f"of {args.config}; allowed: "
                                                 f"{', '.join(uncertain) or '(none)'}")
    out = (Path(args.out) if args.out is not None
           else default_out("sensitivity", Path(args.config).stem))
    from ..config import param_specs as _specs
    from ..memory import check_memory

    d = len(args.parameters or []) or len(_specs(per_unit=False))
    design = n_base * (d + 2) * args.paths_per_point
    check_memory(24 * design + 8 * 2 * n_base * args.paths_per_point * (d + 2),
                 f"--n-base {n_base} x {d + 2} x --paths-per-point {args.paths_per_point} "
                 f"({design:,} paths)", source="--n-base",
                 hint="a smaller --n-base or --paths-per-point")
    claim_out_dir(out, SENSITIVITY_FILES, need_bytes=2_000_000)
    # finished tasks are kept beside the output until it is written: a rerun after
    # Ctrl-C or a crash takes them from there
    from ..output import Checkpoint

    checkpoint = Checkpoint(out.absolute().parent / f".{out.name}.checkpoint")
    checkpoint.check()
    client = connect(args)
    print(f"computing sensitivity indices of {args.config} (n_base {n_base}, "
          f"{args.paths_per_point} paths per point) ...", file=sys.stderr)
    start = time.perf_counter()
    try:
        with _points_bar(args) as progress:
            result = sensitivity(config, n_base=n_base, paths_per_point=args.paths_per_point,
                                 tornado_paths=args.tornado_paths, outcomes=args.outcomes,
                                 parameters=args.parameters, client=client,
                                 checkpoint=checkpoint, progress=progress)
    except ConfigError as exc:  # e.g. no uncertain input: name the user's file
        raise ConfigError(args.config, exc.problems) from None
    finally:
        close(client)
    elapsed = time.perf_counter() - start
    written = write_sensitivity(result, out, args.title)
    checkpoint.remove()
    for line in result.headlines():
        print(line)
    files = sorted(p.name for p in written.iterdir())
    print(f"\ncomputed in {elapsed:.1f} s; wrote {written}/: {', '.join(files)}")
    return EXIT_OK


@contextlib.contextmanager
def _points_bar(args: argparse.Namespace) -> Iterator[Any]:
    """A progress bar of design points for ``progress(done, total)`` callbacks
    (:func:`simulator.api.progress_bar`: only when stderr is a terminal, and not with
    --no-progress)."""
    from ..api import progress_bar

    bar = progress_bar(None, progress_flag(args), desc="design points", unit="point")
    shown = 0

    def update(done: int, total: int) -> None:
        nonlocal shown
        bar.total = total
        bar.update(done - shown)
        shown = done

    try:
        yield update
    finally:
        bar.close()
