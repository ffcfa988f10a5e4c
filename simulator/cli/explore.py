"""``msp-sim explore``: the interactive explorer."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .common import EXIT_OK, flag_error
from .flags import add_flags


def add_parser(sub: Any) -> None:
    """The ``explore`` subcommand and its flags."""
    expl = sub.add_parser(
        "explore", help="move the inputs and levers and see the answer change (a local web app)",
        description="Serve an interactive explorer of a config at http://127.0.0.1:PORT/: "
                    "controls for the inputs and levers, live results with common random "
                    "numbers, 'Save as config' and 'Compare'. Needs the explore extra: "
                    "pip install 'msp-sim[explore]'.")
    add_flags(expl, "config")
    expl.add_argument("--port", type=int, default=5006, metavar="N",
                      help="port to listen on (default 5006; 0: a free one)")
    expl.add_argument("--address", default="127.0.0.1", metavar="HOST",
                      help="address to bind (default 127.0.0.1: this computer only)")
    expl.add_argument("--paths", type=int, metavar="N",
                      help="paths per run when a control rests (default 5,000)")
    expl.add_argument("--drag-paths", type=int, metavar="N",
                      help="paths per run while a slider moves (default 1,000)")
    expl.add_argument("--max-sessions", type=int, default=8, metavar="N",
                      help="browser tabs served at once (default 8; another tab is asked "
                           "to close one)")
    add_flags(expl, "overrides")
    expl.add_argument("--no-browser", action="store_true",
                      help="do not open a browser tab")
    expl.set_defaults(handler=command)


def system_malloc_argv(orig_argv: Sequence[str], environ: Mapping[str, str],
                       platform: str = sys.platform) -> list[str] | None:
    """The command line to run the explorer again with ``PYTHONMALLOC=malloc``, or
    ``None`` to go on as it is.

    Python's own allocator keeps 1 MiB arenas that a single live object pins, so a server
    whose 20 tabs ran at once kept +29% to +34% RSS after they closed (issue 28 asks
    10%); with the C library's allocator, whose free pages ``malloc_trim`` hands back,
    it kept +4.5% (docs/testing.md). Only on Linux (glibc), only when ``PYTHONMALLOC`` is
    not set (``PYTHONMALLOC=pymalloc`` keeps Python's), and only for ``msp-sim explore``
    run as a program (never a test or notebook calling ``main`` in its own process)."""
    if not platform.startswith("linux") or "PYTHONMALLOC" in environ or not orig_argv:
        return None
    argv = list(orig_argv)
    script = os.path.basename(argv[1]) if len(argv) > 1 else ""
    as_module = argv[1:3] == ["-m", "simulator.cli"]
    if script not in ("msp-sim", "msp_sim") and not as_module:
        return None
    return argv


def command(args: argparse.Namespace) -> int:
    for flag, value in (("--paths", args.paths), ("--drag-paths", args.drag_paths),
                        ("--max-sessions", args.max_sessions)):
        if value is not None and value < 1:
            raise flag_error(flag, f"out of range: got {value}; allowed: an integer >= 1")
    if not 0 <= args.port <= 65535:
        raise flag_error("--port", f"out of range: got {args.port}; allowed: an integer "
                                    "with 0 <= value <= 65535")
    try:
        from ..explorer.app import serve
    except ImportError as exc:
        raise flag_error("explore", f"needs Panel ({exc}); allowed: after "
                                     "pip install 'msp-sim[explore]'") from None
    again = system_malloc_argv(getattr(sys, "orig_argv", []), os.environ)
    if again is not None:  # the same process (pid, pipes), its memory handed back
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, again, {**os.environ, "PYTHONMALLOC": "malloc"})
    try:
        serve(args.config, args.overrides, port=args.port, address=args.address,
              show=not args.no_browser, paths=args.paths, drag_paths=args.drag_paths,
              max_sessions=args.max_sessions)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    return EXIT_OK
