"""``python -m simulator.cli``: the ``msp-sim`` command line."""

from . import console_main

console_main()
