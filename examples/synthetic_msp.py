"""Write the worked example's records: a SYNTHETIC MSP, not a real business.

``python examples/synthetic_msp.py`` writes ``examples/synthetic_msp/`` (clients,
pipeline, tickets and P&L as CSV in msp-sim's native format), four years of
history of a shop of about 25 clients, drawn with plain numpy from the known
parameters of ``simulator.fit.synthetic.TRUTH`` (churn 12% a year, 3 first
meetings a month, half of them proposals, 35% of proposals won, 0.9 tickets per
endpoint a month of about an hour, the owner taking 20% of the ticket hours).
Then::

    msp-sim fit --clients examples/synthetic_msp/clients.csv \\
        --pipeline examples/synthetic_msp/pipeline.csv \\
        --tickets examples/synthetic_msp/tickets.csv --pnl examples/synthetic_msp/pnl.csv \\
        --owner Owner --out my_msp.toml

recovers those parameters, each with the uncertainty four years of records leave.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.fit.synthetic import TRUTH, history, write_csv

SEED = 2026


def main() -> None:
    folder = Path(__file__).resolve().parent / "synthetic_msp"
    records = history(np.random.default_rng(SEED), months=48,
                      **{k: v for k, v in TRUTH.items() if k != "seats_median"},
                      seats_median=12.0)
    paths = write_csv(records, folder)
    active = sum(c.end is None for c in records.clients)
    print(f"SYNTHETIC MSP (seed {SEED}): {len(records.clients)} clients ({active} active on "
          f"{records.as_of}), {len(records.deals)} first meetings, {len(records.tickets)} "
          f"tickets; wrote {', '.join(str(p) for p in paths.values())}")


if __name__ == "__main__":
    main()
