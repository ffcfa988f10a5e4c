"""The report layer's seams: analyses only compute, pages come from templates.

* no module under ``simulator/analysis/`` imports matplotlib or writes a file
  (their ``.plot()`` and ``.write()`` reach the report layer at call time);
* no module of ``simulator/`` builds HTML in Python strings: markup lives in
  ``simulator/report/templates/``;
* the pages' environment escapes every value (checked on each kind's
  template with a hostile value, without a browser; the browser tests in
  ``test_report_browser.py`` check the rendered DOM).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.report import pages

ROOT = Path(__file__).resolve().parents[1] / "simulator"
ANALYSIS = sorted((ROOT / "analysis").glob("*.py"))
WRITING_CALLS = {"open", "write_text", "write_bytes", "savefig", "mkdir", "write_directory",
                 "write_report", "staged_directory", "write_text_atomic", "rmtree"}
MARKUP = re.compile(r"<\s*(!DOCTYPE|html|head|body|table|tr|td|th|p|h[1-6]|figure|img|div|span"
                    r"|style|ul|li)\b", re.IGNORECASE)


def _module_level_imports(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("path", ANALYSIS, ids=[p.name for p in ANALYSIS])
def test_analysis_neither_draws_nor_writes(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports = _module_level_imports(tree)
    assert not [n for n in imports if n.split(".")[0] == "matplotlib"], imports
    assert not [n for n in imports if n.lstrip(".") in {"output", "simulator.output"}], imports
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            calls.add(name)
    assert not calls & WRITING_CALLS, sorted(calls & WRITING_CALLS)


def test_the_seam_test_sees_a_writer():
    # Negative control: a module that opens a file and imports pyplot is caught.
    tree = ast.parse("import matplotlib.pyplot as plt\n"
                     "def f(p):\n    open(p, 'w').write('x')\n    plt.savefig(p)\n")
    assert "matplotlib.pyplot" in _module_level_imports(tree)
    calls = {getattr(n.func, "attr", getattr(n.func, "id", "")) for n in ast.walk(tree)
             if isinstance(n, ast.Call)}
    assert {"open", "savefig"} <= calls & WRITING_CALLS


def _strings(tree: ast.Module) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_html_in_python_strings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [(line, text[:60]) for line, text in _strings(tree) if MARKUP.search(text)]
    assert not found, f"{path.relative_to(ROOT)} builds markup in Python: {found}"


def test_templates_hold_the_markup():
    templates = ROOT / "report" / "templates"
    kinds = {p.stem for p in templates.glob("*.html")}
    assert {"base", "_macros", "run", "compare", "sensitivity", "goal"} <= kinds
    assert MARKUP.search((templates / "base.html").read_text(encoding="utf-8"))


HOSTILE = """<script>x()</script><img src=x onerror=y()> "dq" 'sq' &"""


@pytest.mark.parametrize("template", ["run.html", "compare.html", "sensitivity.html",
                                      "goal.html"])
def test_environment_escapes_every_value(template):
    env = pages.environment()
    assert env.autoescape is True
    base = env.get_template("base.html").render(title=HOSTILE, version=HOSTILE)
    assert "<script>" not in base and "<img" not in base
    assert "&lt;script&gt;x()&lt;/script&gt;&lt;img src=x onerror=y()&gt; &#34;dq&#34; " \
           "&#39;sq&#39; &amp;" in base
    # every kind extends the base layout, so its title goes through the same escaping
    source = env.loader.get_source(env, template)[0]
    assert source.startswith('{% extends "base.html" %}')


def _package_imports(path: Path, package: list[str]) -> set[str]:
    """Modules of ``package`` that ``path`` imports at module level (relative resolved)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            if node.module:
                names.add(".".join(base + [node.module]))
            else:
                names |= {".".join(base + [a.name]) for a in node.names}
    return names


def test_config_modules_import_no_circle():
    config = ROOT / "config"
    graph = {f"simulator.config.{p.stem}": _package_imports(p, ["simulator", "config"])
             for p in config.glob("*.py") if p.stem != "__init__"}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            assert seen.get(nxt) != 1, "import circle: " + " -> ".join(path + [nxt])
            if nxt not in seen:
                visit(nxt, path + [nxt])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [node])
    assert "simulator.config.errors" in graph["simulator.config.loader"]
    assert "simulator.config.errors" in graph["simulator.config.correlations"]


def test_importing_the_report_layer_imports_no_analysis_and_no_matplotlib():
    code = ("import sys, simulator.report, simulator.output; "
            "print(sorted(m for m in sys.modules if m.startswith(('simulator.analysis', "
            "'matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_every_page_explains_its_words_and_names_its_sources():
    from simulator.config.sources import SOURCES, cite
    from simulator.report.glossary import TERMS

    templates = ROOT / "report" / "templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r'm\.term\("([^"]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(TERMS), used - set(TERMS)
    assert cite("seed 003: 8-15% a year") == f"{SOURCES['003']}: 8-15% a year"
    assert cite("seeds 004 and 002") .startswith(SOURCES["004"])
    assert cite("no seed here") == "no seed here"


REPORT = sorted((ROOT / "report").rglob("*.py"))


def test_every_figure_function_takes_ax():
    """Every drawing function (``@styled``) takes ``ax=None``: a caller can draw it into
    axes of its own (PyMC-Marketing's clv plots)."""
    found = []
    for path in REPORT:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and any(
                    getattr(d, "id", None) == "styled" for d in node.decorator_list):
                found.append(node.name)
                args = {a.arg: a for a in node.args.args + node.args.kwonlyargs}
                assert "ax" in args, f"{path.name}: {node.name} takes no ax"
    assert len(found) >= 15, found


def test_a_run_figure_draws_into_given_axes():
    import numpy as np
    from matplotlib.figure import Figure

    from simulator.config.loader import config_from_dict
    from simulator.model.metrics import METRICS
    from simulator.results import SimulationResult

    rng = np.random.default_rng(2)  # a made-up run: the drawing is what is tested
    config = config_from_dict({"simulation": {"months": 12, "paths": 64, "seed": 2}})
    result = SimulationResult(config=config, seed=2,
                              metrics={m: rng.random((64, 13)) for m in METRICS},
                              first_passage=rng.integers(-1, 13, 64))
    for kind, panels in (("mrr", 1), ("mix", 2), ("operations", 3)):
        host = Figure()
        axes = host.subplots(1, panels)
        assert result.plot(kind, ax=list(axes) if panels > 1 else axes) is host
        assert len(host.axes) == panels  # nothing added beside the caller's axes
    with pytest.raises(ValueError, match="kind must be one of"):
        result.plot("pie")
    with pytest.raises(ValueError, match="draws on 2 axes"):
        result.plot("mix", ax=[Figure().add_subplot()])
