"""report.html in a real browser: headless Chromium loads it, error-free, headline shown.

Chromium prints every console message of the page (errors, failed loads,
uncaught exceptions) to stderr as ``...:CONSOLE...] "message", source: ...``
when run with ``--enable-logging=stderr --v=1``; the report has no
JavaScript of its own, so any such line is a failure. A copy of the page gets
a small script that records, after the load event, how many images there
are and how many failed to decode, so broken embedded figures fail too. A
negative control shows that both checks catch a broken page.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skips, saying so, only
where no Chromium executable can be found.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from simulator import output, report
from simulator.config.loader import config_from_dict
from simulator.metrics import METRICS
from simulator.results import SimulationResult

BROWSERS = ("chromium", "chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=1",
         "--virtual-time-budget=10000"]
IMAGE_CHECK = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute("data-images", imgs.length + " " + broken.length);
});
</script>"""
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium not found (looked for chromium, chromium-browser on PATH): install "
                "Debian's chromium (apt-get install chromium), as .ci/run does")


def render(chromium: str, page: Path, tmp_path: Path) -> tuple[str, list[str], tuple[int, int]]:
    """Load ``page`` in headless Chromium: the DOM, the console lines and (images, broken)."""
    checked = page.with_name(page.stem + ".checked.html")
    checked.write_text(page.read_text(encoding="utf-8").replace("</body>",
                                                               IMAGE_CHECK + "</body>"),
                       encoding="utf-8")
    profile = tmp_path / f"profile-{page.stem}"
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                           checked.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [m.group(1) for m in CONSOLE.finditer(proc.stderr)]
    match = re.search(r'<body[^>]*data-images="(\d+) (\d+)"', proc.stdout)
    assert match, "the page never fired its load event: " + proc.stdout[:500]
    return proc.stdout, console, (int(match.group(1)), int(match.group(2)))


def _result(n=400, months=36, seed=2):
    """A synthetic run (no engine needed) that breaks the threshold in most paths."""
    config = config_from_dict({"simulation": {"months": months, "paths": n, "seed": seed}})
    rng = np.random.default_rng(seed)
    t = np.arange(months + 1)
    metrics = {name: rng.random((n, months + 1)) * 10 for name in METRICS}
    metrics["mrr"] = 55_000 + rng.normal(2_000, 700, size=(n, 1)) * t
    for name, base in (("revenue_products", 30_000), ("revenue_projects", 20_000),
                       ("revenue_managed", 55_000), ("revenue_cloud", 600)):
        metrics[name] = base * (1 + 0.01 * t) * rng.uniform(0.8, 1.2, size=(n, months + 1))
    metrics["pretax_profit"] = rng.normal(5_000, 8_000, size=(n, months + 1))
    metrics["cash"] = 100_000 + np.cumsum(metrics["pretax_profit"], axis=1)
    above = metrics["mrr"] >= 100_000
    fp = np.where(above.any(axis=1), above.argmax(axis=1), -1).astype(np.int64)
    result = SimulationResult(config=config, seed=seed, metrics=metrics, first_passage=fp)
    hits = np.cumsum(fp >= 0)
    result.convergence = [{"paths": k, "estimate": hits[k - 1] / k,
                           "half_width": 1.96 * np.sqrt(0.25 / k)} for k in (50, 100, 200, 400)]
    return result


def test_report_loads_without_console_errors_and_shows_the_headline(chromium, tmp_path):
    result = _result()
    out = output.write_outputs(result, tmp_path / "run", save_paths=False)
    page = out / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()  # self-contained: no scripts, nothing fetched
    assert not re.search(r'(src|href)="(?!data:)', text)
    dom, console, (images, broken) = render(chromium, page, tmp_path)
    assert console == []
    assert images == text.count("data:image/png;base64,") == 6 and broken == 0
    shown = re.search(r'<p class="headline" id="headline">(.*?)</p>', dom, re.S)
    assert shown and html.unescape(shown.group(1)) == report.headline(result)
    assert "chance to break $100k MRR within 36 months" in report.headline(result)
    assert "median" in report.headline(result)
    for title in ("Revenue mix", "Tickets, utilization and headcount", "Profit and cash",
                  "Convergence", "Inputs"):
        assert f"<h2>{title}</h2>" in dom, title


def test_the_checks_catch_a_broken_page(chromium, tmp_path):
    # Negative control: a script error and an undecodable image must both be seen.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                   '<body><p id="headline">x</p><img alt="" src="data:image/png;base64,AAAA">'
                   "<script>no_such_function();</script></body></html>", encoding="utf-8")
    _dom, console, (images, broken) = render(chromium, bad, tmp_path)
    assert any("no_such_function" in line for line in console), console
    assert (images, broken) == (1, 1)
