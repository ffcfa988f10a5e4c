"""``msp-sim explore`` in a real browser: headless Chromium driven by selenium.

The test starts ``msp-sim explore configs/baseline.toml`` on a free port of
127.0.0.1, loads the page, waits for the first full run and checks the
displayed P(break by the horizon) is the value :func:`simulator.simulate`
gives for the same config, paths and seed; then ticks "Standardization
program" and waits until the displayed value is the API's value with
``alignment.enabled = true``; then types a bad value into a field and checks
the page shows the config's message. The browser's console must hold no
error.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
both); selenium is told the driver's path, so selenium-manager never
downloads anything. Skips, saying so, only where either cannot be found.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simulator
from simulator.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "baseline.toml"
PATHS, DRAG_PATHS = 2000, 500
FIND = """
function find(root, sel) {
  const el = root.querySelector(sel);
  if (el) return el;
  for (const n of root.querySelectorAll('*')) {
    if (n.shadowRoot) { const r = find(n.shadowRoot, sel); if (r) return r; }
  }
  return null;
}
"""
"""Panel renders each component in its own shadow root: search them all."""


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        missing = " and ".join(n for n, p in (("chromium", chromium),
                                               ("chromedriver", driver)) if not p)
        pytest.skip(f"no {missing} on PATH (Debian: apt-get install chromium chromium-driver; "
                    ".ci/run installs both)")
    return chromium, driver


def _wait(what, check, timeout=120.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"msp-sim explore exited: {proc.stderr.read()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_explore_in_chromium(tmp_path):
    chromium, driver_path = _browser()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    from simulator.explorer import Explorer
    from simulator.explorer.app import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "explore", str(CONFIG), "--port", str(port),
         "--no-browser", "--paths", str(PATHS), "--drag-paths", str(DRAG_PATHS)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = None
    try:
        line = _wait("the server", proc.stderr.readline, proc=proc)
        assert f"http://127.0.0.1:{port}/" in line
        driver = webdriver.Chrome(service=Service(executable_path=driver_path),
                                  options=options)

        def attr(selector: str, name: str) -> str | None:
            return driver.execute_script(
                FIND + "const e = find(document, arguments[0]);"
                "return e ? e.getAttribute(arguments[1]) : null;", selector, name)

        def shown(expected: float) -> bool:
            return (attr("#run-info", "data-paths") == str(PATHS)
                    and attr("#p-break-by-60", "data-value") == repr(expected))

        seed = load_config(CONFIG).simulation.seed
        before = simulator.simulate(load_config(CONFIG), n_paths=PATHS, seed=seed,
                                    progress=False).p_break_by(60).value
        after = simulator.simulate(load_config(CONFIG, {"alignment.enabled": True}),
                                   n_paths=PATHS, seed=seed, progress=False
                                   ).p_break_by(60).value
        assert after != before
        driver.get(f"http://127.0.0.1:{port}/")
        _wait("the first run", lambda: shown(before), proc=proc)

        # every control's number box shows its whole value (issue 26: boxes squeezed by
        # long labels showed nothing, or a clipped value under the spinner)
        boxes = driver.execute_script(
            "const out = []; const ctx = document.createElement('canvas').getContext('2d');"
            "(function walk(root, host) {"
            "  root.querySelectorAll('input').forEach(b => {"
            "    if (!host || !host.classList.contains('slider-edit')) return;"
            "    const st = getComputedStyle(b); ctx.font = st.font;"
            "    out.push({value: b.value, client: b.clientWidth, scroll: b.scrollWidth,"
            "              text: ctx.measureText(b.value).width"
            "                    + parseFloat(st.paddingLeft) + parseFloat(st.paddingRight)});"
            "  });"
            "  root.querySelectorAll('*').forEach(n => n.shadowRoot && walk(n.shadowRoot, n));"
            "})(document, null); return out;")
        sliders = [c for c in Explorer(CONFIG).controls if c.kind != "toggle"]
        assert len(boxes) == len(sliders)
        spinner = 24  # the up/down arrows drawn over the box's right end [px]
        for box, control in zip(boxes, sliders, strict=True):
            assert box["value"] != "", control.key
            assert float(box["value"]) == pytest.approx(Explorer(CONFIG).value(control.key))
            assert box["scroll"] <= box["client"], (control.key, box)
            assert box["text"] + spinner <= box["client"], (control.key, box)
        # P(break) by 12, 24, 36 and the horizon, and the rule for closed businesses
        assert attr("#p-break-by-24", "data-value") == repr(
            simulator.simulate(load_config(CONFIG), n_paths=PATHS, seed=seed,
                               progress=False).p_break_by(24).value)
        assert attr("#insolvent-rule", "id")

        # tick the standardization program: the displayed P(break) becomes the API's
        driver.execute_script(
            FIND + "for (const host of [document]) {"
            "  const boxes = []; (function walk(root) {"
            "    root.querySelectorAll('input[type=checkbox]').forEach(b => boxes.push(b));"
            "    root.querySelectorAll('*').forEach(n => n.shadowRoot && walk(n.shadowRoot));"
            "  })(host); boxes[0].click(); }")
        _wait("the run with the program", lambda: shown(after), proc=proc)
        assert attr("#p-break-by-60-diff", "id")

        # a bad value typed into a field: the config's message
        box = driver.execute_script(
            FIND + "const boxes = []; (function walk(root) {"
            "  root.querySelectorAll('input[type=text]').forEach(b => boxes.push(b));"
            "  root.querySelectorAll('*').forEach(n => n.shadowRoot && walk(n.shadowRoot));"
            "})(document); return boxes.find(b => b.value === '100000');")
        assert box is not None, "the threshold_mrr field"
        # (in a folded section: typed as a person's edit ends, with a change event)
        driver.execute_script("arguments[0].value = '-5';"
                              "arguments[0].dispatchEvent(new Event('change'));", box)
        with pytest.raises(ConfigError) as exc:
            load_config(CONFIG, {"simulation.threshold_mrr": -5})
        expected = str(exc.value).replace(" (with `overrides`)", "")
        _wait("the message", lambda: driver.execute_script(
            FIND + "const e = find(document, '.explore-message');"
            "return e && e.textContent === arguments[0];", expected))

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        if driver is not None:
            driver.quit()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
