"""The explorer's memory and threads over many page loads and browser sessions (issue 28).

Starts ``msp-sim explore configs/baseline.toml`` on a free port of 127.0.0.1 and reads
the server's resident memory and thread count from ``/proc``:

* page loads: ``GET /`` N times (each makes a Bokeh session that never connects); RSS
  after 10 and after N, then once the unconnected sessions have expired;
* browser sessions: headless Chromium (selenium, Debian's chromium-driver) opens a tab,
  waits for the first full run and closes it, K times; RSS and threads before (after one
  warm-up tab) and once the closed sessions have ended.

Usage: ``python benchmarks/explore_memory.py [PAGE_LOADS] [BROWSER_SESSIONS]``
(default 300 and 20). The test suite runs :func:`measure` with small counts
(tests/test_explore_limits.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "baseline.toml"
PATHS, DRAG_PATHS = 500, 200
SETTLE_S = 25.0
"""Long enough for an unconnected or closed session to end (15 s, checked every 2 s)."""


def _status(pid: int) -> tuple[float, int]:
    """``(RSS in MB, threads)`` of a process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def start(folder: Path, python: str = sys.executable, cwd: Path = ROOT
          ) -> tuple[subprocess.Popen, int]:
    """The explorer served from ``folder`` on a free port: the process and the port."""
    from simulator.explorer.app import free_port

    port = free_port()
    proc = subprocess.Popen(
        [python, "-m", "simulator.cli", "explore", str(CONFIG), "--port", str(port),
         "--no-browser", "--paths", str(PATHS), "--drag-paths", str(DRAG_PATHS)],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(cwd)})
    line = proc.stderr.readline()
    if f":{port}/" not in line:
        proc.kill()
        raise RuntimeError(f"the explorer did not start: {line}{proc.stderr.read()}")
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        stream.close()


def page_loads(proc: subprocess.Popen, port: int, n: int, settle_s: float = SETTLE_S
               ) -> dict[str, float]:
    """RSS (MB) after 10 and after ``n`` page loads, and once their sessions ended."""
    out: dict[str, float] = {}
    for i in range(1, n + 1):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as page:
            page.read()
        if i == min(10, n):
            out["rss_after_10_mb"], out["threads_after_10"] = _status(proc.pid)
    out["rss_after_n_mb"], out["threads_after_n"] = _status(proc.pid)
    time.sleep(settle_s)
    out["rss_settled_mb"], out["threads_settled"] = _status(proc.pid)
    return out


def _driver() -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")),
                            options=options)


_RAN = """
function find(root, sel) {
  const el = root.querySelector(sel);
  if (el) return el;
  for (const n of root.querySelectorAll('*')) {
    if (n.shadowRoot) { const r = find(n.shadowRoot, sel); if (r) return r; }
  }
  return null;
}
const e = find(document, '#run-info');
return e ? e.getAttribute('data-paths') : null;
"""


def browser_sessions(proc: subprocess.Popen, port: int, n: int, settle_s: float = SETTLE_S,
                     timeout_s: float = 180.0) -> dict[str, float]:
    """RSS (MB) and threads before ``n`` browser sessions (after one warm-up), and once
    they have closed and ended. Each tab waits for its first full run."""

    def one() -> None:
        driver = _driver()
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            end = time.monotonic() + timeout_s
            while driver.execute_script(_RAN) != str(PATHS):
                if time.monotonic() > end:
                    raise RuntimeError("timed out waiting for the first run")
                time.sleep(0.2)
        finally:
            driver.quit()

    one()
    time.sleep(settle_s)
    out: dict[str, float] = {}
    out["rss_before_mb"], out["threads_before"] = _status(proc.pid)
    for _ in range(n):
        one()
    out["rss_open_mb"], out["threads_open"] = _status(proc.pid)
    time.sleep(settle_s)
    out["rss_after_mb"], out["threads_after"] = _status(proc.pid)
    return out


def measure(page_load_count: int, session_count: int, python: str = sys.executable,
            cwd: Path = ROOT) -> dict[str, dict[str, float]]:
    """Both measurements on one fresh explorer."""
    with tempfile.TemporaryDirectory() as folder:
        proc, port = start(Path(folder), python, cwd)
        try:
            result = {"page_loads": page_loads(proc, port, page_load_count)}
            if session_count:
                result["browser_sessions"] = browser_sessions(proc, port, session_count)
            return result
        finally:
            stop(proc)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    loads = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(json.dumps({"page_loads": loads, "browser_sessions": sessions,
                      **measure(loads, sessions)}, indent=2))
