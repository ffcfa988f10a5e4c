"""Report writing for a 10k-path run: ``python benchmarks/report_writing.py``.

Set-up outside the timed part: one 10,000-path run of the baseline config
(statistics only, as ``msp-sim run`` keeps them) and one warm-up write, so
matplotlib's fonts, the template cache and the numba kernels are loaded.
Timed, best of 5, interleaved:

- ``figures``: drawing every figure of the run report to PNG bytes;
- ``page``: turning the result, its summary and those PNGs into the HTML
  page (the templates' share; the figures are passed in);
- ``write``: the whole output directory without ``paths.npz`` (summary,
  quantiles, figures, page), what ``msp-sim run`` writes after simulating.

``page_over_figures`` is the page's cost as a share of drawing the figures,
measured in the same run. Prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from _common import BASELINE, git_commit

import simulator
from simulator import report


def main(paths: int = 10_000, repeats: int = 5) -> dict:
    config = simulator.load_config(BASELINE)
    result = simulator.simulate(config, n_paths=paths, progress=False, keep_paths=False)
    summary = result.summary()
    figures = report.run_figures(result)
    with tempfile.TemporaryDirectory() as tmp:
        report.write_outputs(result, Path(tmp) / "warm", save_paths=False)
        times: dict[str, list[float]] = {"figures": [], "page": [], "write": []}
        for k in range(repeats):
            t0 = time.perf_counter()
            report.run_figures(result)
            t1 = time.perf_counter()
            report.render_run(result, figures, summary)
            t2 = time.perf_counter()
            report.write_outputs(result, Path(tmp) / f"out{k}", save_paths=False)
            t3 = time.perf_counter()
            times["figures"].append(t1 - t0)
            times["page"].append(t2 - t1)
            times["write"].append(t3 - t2)
    best = {k: min(v) for k, v in times.items()}
    fig = {
        "paths": paths,
        "figures_s": best["figures"],
        "page_s": best["page"],
        "write_s": best["write"],
        "page_over_figures": best["page"] / best["figures"],
        "commit": git_commit(),
        "python": platform.python_version(),
    }
    print(f"report writing, {paths:,} paths, best of {repeats}:")
    print(f"  figures (PNG)  {best['figures']:.3f} s")
    print(f"  page (HTML)    {best['page'] * 1e3:.1f} ms  "
          f"({100 * fig['page_over_figures']:.1f}% of the figures)")
    print(f"  whole write    {best['write']:.3f} s (no paths.npz)")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fig.items()}))
    return fig


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
