"""Every kind of report in a real browser: headless Chromium loads it, error-free.

One test per kind (run, comparison, sensitivity, goal seek), each written
by the report layer from a real (small) analysis whose user-given text (the
title; a comparison's scenario names and descriptions) is hostile:
``<script>``, an ``<img onerror=...>``, quotes. The rendered DOM must show
that text as text: no script or event-handler attribute of its own, no
image that is not an embedded PNG, and the title's text exactly as given.

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
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from simulator import report
from simulator.analysis import Scenario, compare, goal_seek, parse_target, sensitivity
from simulator.config.loader import config_from_dict
from simulator.model.metrics import METRICS
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
HOSTILE = ("""<script>console.error("ran")</script><img src=x onerror=console.error('y')> """
           """"dq" 'sq' & $5k""")
"""User text that would run a script, load an image or break an attribute if not escaped
(a script that ran would also print to the console; no alert(), which blocks headless)."""


class _Dom(HTMLParser):
    """Tags, attributes and the title's text of a rendered DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title_text = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in_title = tag == "h1" and attributes.get("id") == "title"

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title_text += data


def assert_inert(dom: str) -> _Dom:
    """The page's own elements only: the check script, embedded images, no handlers."""
    parsed = _Dom()
    parsed.feed(dom)
    scripts = [a for tag, a in parsed.tags if tag == "script"]
    assert len(scripts) == 1, "a script besides the image check"
    for tag, attributes in parsed.tags:
        handlers = [k for k in attributes if k.startswith("on")]
        assert not handlers, (tag, attributes)
        if tag == "img":
            assert (attributes.get("src") or "").startswith("data:image/png;base64,"), attributes
    return parsed


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


def check_page(chromium: str, page: Path, tmp_path: Path, images_expected: int) -> str:
    """Load a written page: self-contained, no console line, every image decoded,
    the hostile title shown as text. Returns the DOM."""
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()  # self-contained: no scripts, nothing fetched
    assert not re.search(r'(src|href)="(?!data:)', text)
    dom, console, (images, broken) = render(chromium, page, tmp_path)
    assert console == []
    assert images == text.count("data:image/png;base64,") == images_expected and broken == 0
    assert assert_inert(dom).title_text == HOSTILE
    return dom


def test_report_loads_without_console_errors_and_shows_the_headline(chromium, tmp_path):
    result = _result()
    out = report.write_outputs(result, tmp_path / "run", save_paths=False, title=HOSTILE)
    page = out / "report.html"
    dom = check_page(chromium, page, tmp_path, 7)
    shown = re.search(r'<p class="headline" id="headline">(.*?)</p>', dom, re.S)
    assert shown and html.unescape(shown.group(1)) == report.headline(result)
    assert "chance to break $100k MRR (sustained 6 months) within 36 months" in report.headline(
        result)
    assert "median" in report.headline(result)
    for title in ("Where the owner's month goes", "Revenue mix",
                  "Tickets, utilization and headcount", "Profit and cash", "Convergence",
                  "Inputs"):
        assert f"<h2>{title}</h2>" in dom, title


def _small_config(**extra):
    data = {"simulation": {"months": 24, "paths": 200, "seed": 7, "threshold_mrr": 60_000},
            "start": {"customers": 16, "techs": 4}}
    data.update(extra)
    return config_from_dict(data)


def test_run_report_with_the_lever_scan(chromium, tmp_path):
    from simulator.analysis.scan import lever_scan
    from simulator.api import simulate

    config = _small_config()
    result = simulate(config, progress=False)
    scan = lever_scan(config, n_paths=200)
    out = report.write_outputs(result, tmp_path / "run", save_paths=False, title=HOSTILE,
                               levers=scan)
    dom = check_page(chromium, out / "report.html", tmp_path, 7)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    assert "Which lever gets you out" in text
    assert "Where the owner's month goes" in text and "of your month" in text
    assert '<table id="levers">' in dom
    for e in scan.to_dict()["levers"]:
        assert e["name"] in text
    for line in scan.lines(3):
        assert line in text


def test_comparison_report(chromium, tmp_path):
    base = _small_config()
    other = _small_config(alignment={"enabled": True, "start_month": 3})
    names = [HOSTILE + " A", HOSTILE + " B"]
    comp = compare([Scenario(names[0], base), Scenario(names[1], other, HOSTILE)],
                   title=HOSTILE, progress=False)
    out = report.write_comparison(comp, tmp_path / "cmp")
    dom = check_page(chromium, out / "report.html", tmp_path, 2)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    for name in names:
        assert f"{name}: " in text  # the headline names each scenario as given
    assert f"{names[1]}: {HOSTILE}" in text  # the description
    for title in ("Scenarios", "Against the reference", "Figures", "Inputs that differ"):
        assert title in text, title


def test_sensitivity_report(chromium, tmp_path):
    config = _small_config(customers={"price_per_seat": {"dist": "uniform", "low": 60,
                                                         "high": 240}})
    result = sensitivity(config, n_base=8, paths_per_point=2, tornado_paths=50,
                         parameters=["customers.price_per_seat"], n_resamples=50)
    out = report.write_sensitivity(result, tmp_path / "sens", title=HOSTILE)
    dom = check_page(chromium, out / "sensitivity.html", tmp_path, 2)
    assert "customers.price_per_seat" in dom and "Inputs analysed" in dom


def test_goal_report(chromium, tmp_path):
    config = _small_config()
    target = parse_target("p_break_by_24>=0.3", 24)
    result = goal_seek(config, "customers.price_per_seat", target, range=(50, 400),
                       n_paths=200, progress=False)
    out = report.write_goal(result, tmp_path / "goal", title=HOSTILE)
    dom = check_page(chromium, out / "goal.html", tmp_path, 1)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    assert f"customers.price_per_seat = {result.value_text(result.value)} meets" in text
    assert "Evaluations" in text and "Inputs" in text


def test_fit_and_backtest_reports(chromium, tmp_path):
    from simulator.fit.backtest import backtest
    from simulator.fit.estimate import fit_records
    from simulator.fit.synthetic import history

    h = history(np.random.default_rng(3), months=30, seats_median=6.0)
    fit = fit_records(h.clients, h.deals, h.tickets, h.pnl, owner=h.owner, as_of=h.as_of,
                      sources={"clients": HOSTILE})
    out = report.fit.write_fit_report(fit, tmp_path / "fit", title=HOSTILE)
    dom = check_page(chromium, out / "fit.html", tmp_path, 2)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    assert "What your data say" in text and "churn.annual_rate" in text
    assert f"fitted from {HOSTILE}:" in text  # a hostile file name, shown as text
    result = backtest(h.clients, h.deals, h.tickets, h.pnl, holdout=6, n_paths=200,
                      as_of=h.as_of)
    out = report.fit.write_backtest(result, tmp_path / "bt", title=HOSTILE)
    dom = check_page(chromium, out / "backtest.html", tmp_path, 1)
    assert "Predicted and actual" in dom and "inside the 90% band" in dom


def test_portfolio_report(chromium, tmp_path):
    from simulator.analysis.portfolio import Msp, portfolio

    msps = [Msp(HOSTILE + f" {k}", _small_config(start={"customers": 10 + 4 * k, "techs": 3}),
                k + 2) for k in range(3)]
    result = portfolio(msps, n_paths=200, levers=True)
    out = report.portfolio.write_portfolio(result, tmp_path / "pf", title=HOSTILE)
    dom = check_page(chromium, out / "portfolio.html", tmp_path, 1)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    assert f"{HOSTILE} 2" in text and "Which lever moves the most MSPs" in text


def test_hostile_text_would_be_caught(chromium, tmp_path):
    # Negative control: the same text pasted unescaped runs, loads and is reported.
    bad = tmp_path / "unescaped.html"
    bad.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                   f'<body><h1 id="title">{HOSTILE}</h1></body></html>', encoding="utf-8")
    dom, console, _images = render(chromium, bad, tmp_path)
    with pytest.raises(AssertionError):
        assert_inert(dom)
    assert any("ran" in line for line in console), console  # the injected script ran


def test_the_checks_catch_a_broken_page(chromium, tmp_path):
    # Negative control: a script error and an undecodable image must both be seen.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
                   '<body><p id="headline">x</p><img alt="" src="data:image/png;base64,AAAA">'
                   "<script>no_such_function();</script></body></html>", encoding="utf-8")
    _dom, console, (images, broken) = render(chromium, bad, tmp_path)
    assert any("no_such_function" in line for line in console), console
    assert (images, broken) == (1, 1)
