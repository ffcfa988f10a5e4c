"""The explorer's memory and threads over many page loads and browser sessions (issue 28).

Starts ``msp-sim explore configs/baseline.toml`` on a free port of 127.0.0.1 and reads
the server's resident memory and thread count from ``/proc``:

* page loads: ``GET /`` N times (each makes a Bokeh session that never connects), the
  session cap raised through ``--max-sessions`` above N so that every load is a whole
  explorer page (never the short "too many tabs" page); RSS after 10 and after N, then
  once the unconnected sessions have expired;
* browser sessions: headless Chromium (selenium, Debian's chromium-driver) opens K tabs
  in batches, each batch's tabs loading at once, all K open together, each waiting for
  its first full run; then every tab closes. RSS and threads before (after one warm-up
  tab), with the K tabs open, and once the closed sessions have ended.

Usage: ``python benchmarks/explore_memory.py [PAGE_LOADS] [BROWSER_SESSIONS] [BATCH]
[ROUNDS]`` (default 300, 20, 5 and 1; ROUNDS opens and closes the K tabs that many
times on one server, RSS after each). Runs outside the suite (minutes); the suite checks that a
closed page is garbage and that the cap holds (tests/test_explore_limits.py).
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
"""Long enough for an unconnected session to end (15 s, checked every 2 s)."""
CLOSE_WAIT_S = 180.0
"""The longest wait for closed tabs' sessions to end (15 s after the socket closes,
checked every 2 s; longer on a loaded machine) and the server's RSS to settle."""
ENDED_S = 60.0
"""The least wait after the last tab closed: 15 s + a 2 s check + the 2 s release delay,
tripled for a loaded machine (at load 15 on 2 CPUs 20 closed sessions had not ended
26 s after closing)."""
STEADY_READINGS, STEADY_EVERY_S, STEADY_MB = 6, 2.0, 2.0
"""RSS is steady when this many readings this far apart are within this many MB."""


def _status(pid: int) -> tuple[float, int]:
    """``(RSS in MB, threads)`` of a process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def start(folder: Path, python: str = sys.executable, cwd: Path = ROOT,
          max_sessions: int = 8) -> tuple[subprocess.Popen, int]:
    """The explorer served from ``folder`` on a free port: the process and the port."""
    from simulator.explorer.app import free_port

    port = free_port()
    proc = subprocess.Popen(
        [python, "-m", "simulator.cli", "explore", str(CONFIG), "--port", str(port),
         "--no-browser", "--paths", str(PATHS), "--drag-paths", str(DRAG_PATHS),
         "--max-sessions", str(max_sessions)],
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
    began = time.monotonic()
    for i in range(1, n + 1):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as page:
            page.read()
        if i == min(10, n):
            out["rss_after_10_mb"], out["threads_after_10"] = _status(proc.pid)
    out["rss_after_n_mb"], out["threads_after_n"] = _status(proc.pid)
    out["seconds_per_load"] = round((time.monotonic() - began) / n, 2)
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


def _wait_run(driver: object, timeout_s: float) -> None:
    """Until the page in ``driver``'s current tab shows its first full run."""
    end = time.monotonic() + timeout_s
    while driver.execute_script(_RAN) != str(PATHS):
        if time.monotonic() > end:
            raise RuntimeError("timed out waiting for the first run")
        time.sleep(0.2)


def _until_ended(proc: subprocess.Popen, least_s: float = ENDED_S) -> float:
    """Wait until closed tabs' sessions have ended and been cleaned: at least
    ``least_s`` (a closed tab's session ends 15 s after its socket closed, checked every
    2 s, and its freed heap is handed back 2 s after its last run), then until the
    server's RSS is steady (:data:`STEADY_READINGS` readings :data:`STEADY_EVERY_S`
    apart within :data:`STEADY_MB` of each other), at most :data:`CLOSE_WAIT_S` in all;
    the seconds waited. (The server's threads no longer tell: every tab shares the same
    worker threads, made once.)"""
    closed = time.monotonic()
    time.sleep(least_s)
    readings = [_status(proc.pid)[0]]
    while time.monotonic() - closed < CLOSE_WAIT_S:
        time.sleep(STEADY_EVERY_S)
        readings = [*readings[-(STEADY_READINGS - 1):], _status(proc.pid)[0]]
        if len(readings) == STEADY_READINGS and max(readings) - min(readings) <= STEADY_MB:
            break
    return round(time.monotonic() - closed, 1)


def browser_sessions(proc: subprocess.Popen, port: int, n: int, batch: int = 5,
                     timeout_s: float = 300.0, rounds: int = 1) -> dict[str, float]:
    """RSS (MB) and threads before ``n`` browser sessions (after one warm-up tab), with
    all ``n`` open (opened ``batch`` at a time, each batch's tabs loading together),
    and once they have closed and their sessions ended; ``rounds`` times on the same
    server (RSS flat from one round to the next: the allocator keeping freed memory;
    RSS climbing by as much each round: a leak)."""
    url = f"http://127.0.0.1:{port}/"
    driver = _driver()
    try:
        driver.get(url)
        _wait_run(driver, timeout_s)
    finally:
        driver.quit()
    _until_ended(proc)
    out: dict[str, float] = {}
    out["rss_before_mb"], out["threads_before"] = _status(proc.pid)
    for round_ in range(1, rounds + 1):
        tag = "" if rounds == 1 else f"_round{round_}"
        drivers = []
        try:
            for first in range(0, n, batch):
                driver = _driver()
                drivers.append(driver)
                driver.set_page_load_timeout(timeout_s)
                tabs = []
                for k in range(min(batch, n - first)):
                    if k:
                        driver.switch_to.new_window("tab")
                    driver.execute_script("window.location.href = arguments[0];", url)
                    tabs.append(driver.current_window_handle)
                for tab in tabs:
                    driver.switch_to.window(tab)
                    _wait_run(driver, timeout_s)
            out[f"tabs_open{tag}"] = sum(len(d.window_handles) for d in drivers)
            out[f"rss_open_mb{tag}"], out[f"threads_open{tag}"] = _status(proc.pid)
        finally:
            for driver in drivers:
                driver.quit()
        out[f"seconds_to_end{tag}"] = _until_ended(proc)
        out[f"rss_after_mb{tag}"], out[f"threads_after{tag}"] = _status(proc.pid)
        out[f"rss_after_vs_before{tag}"] = round(
            out[f"rss_after_mb{tag}"] / out["rss_before_mb"] - 1, 3)
        print(json.dumps({k: v for k, v in out.items() if k.endswith(tag)}),
              file=sys.stderr, flush=True)  # each round as it ends
    return out


def measure(page_load_count: int, session_count: int, batch: int = 5,
            python: str = sys.executable, cwd: Path = ROOT, rounds: int = 1
            ) -> dict[str, dict[str, float]]:
    """Each measurement on its own fresh explorer, its session cap above the count (so
    the cap masks nothing)."""
    result = {}
    for name, count in (("page_loads", page_load_count), ("browser_sessions", session_count)):
        if not count:
            continue
        with tempfile.TemporaryDirectory() as folder:
            proc, port = start(Path(folder), python, cwd, max_sessions=count + 10)
            try:
                result[name] = (page_loads(proc, port, count) if name == "page_loads"
                                else browser_sessions(proc, port, count, batch, rounds=rounds))
            finally:
                stop(proc)
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    loads = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    print(json.dumps({"page_loads": loads, "browser_sessions": sessions, "batch": batch,
                      "rounds": rounds, **measure(loads, sessions, batch, rounds=rounds)},
                     indent=2), flush=True)
