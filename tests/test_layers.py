"""The package's layers, written down and held (issue 22).

The import graph of ``simulator/`` (module-level and function-local imports;
``TYPE_CHECKING`` blocks left out) has no cycle, and no module imports one of a
higher layer, except the one-line doors from a result into the report layer
(``.plot()``, ``.write()``: the xarray accessor pattern), listed by name below.
The engine is called from one place (:func:`simulator.runner.plan.run_paths`).
"""

from __future__ import annotations

import ast
from pathlib import Path

SIMULATOR = Path(__file__).resolve().parents[1] / "simulator"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("simulator.version", "simulator.formatting", "simulator.private", "simulator.model.metrics",
     "simulator.model.inputs", "simulator.model.mechanisms", "simulator.model.reference"),
    ("simulator.config", "simulator.engine", "simulator.model"),
    ("simulator.results", "simulator.memory"),
    ("simulator.runner",),
    ("simulator.api", "simulator.analysis", "simulator.fit", "simulator.output"),
    ("simulator.report",),
    ("simulator.explorer", "simulator.cli", "simulator.console", "simulator"),
)
"""Lowest first; a module belongs to the layer of the longest prefix naming it, and may
import its own layer or lower ones."""

DOORS = {
    ("simulator.results.result", "SimulationResult.plot"),
    ("simulator.analysis.compare", "ComparisonResult.plot"),
    ("simulator.analysis.compare", "ComparisonResult.write"),
    ("simulator.analysis.scan", "LeverScanResult.plot"),
    ("simulator.analysis.goal", "GoalResult.plot"),
    ("simulator.analysis.goal", "GoalResult.write"),
    ("simulator.analysis.sensitivity", "SensitivityResult.plot"),
    ("simulator.analysis.sensitivity", "SensitivityResult.write"),
    ("simulator.analysis.portfolio", "PortfolioResult.plot"),
}
"""(module, method) of each result's door into the report layer."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in SIMULATOR.rglob("*.py"):
        parts = list(path.relative_to(SIMULATOR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _layer(module: str) -> int:
    best, level = -1, -1
    for k, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, level = len(name), k
    assert level >= 0, f"{module} is in no layer"
    return level


def _target(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges() -> list[tuple[str, str, str, ast.AST]]:
    """(importer, imported, enclosing function's qualified name, node) of every import
    of a ``simulator`` module."""
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

        def visit(node: ast.AST, scope: tuple[str, ...], module: str = module,
                  package: list[str] = package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                inner = scope
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    inner = (*scope, child.name)
                names = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = package[:len(package) - child.level + 1] if child.level else []
                    source = ".".join(base + ([child.module] if child.module else []))
                    # ``from package import module`` imports the module, else the package
                    names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES
                             else source for a in child.names]
                for name in names:
                    target = _target(name) if name.startswith("simulator") else None
                    if target and target != module:
                        edges.append((module, target, ".".join(scope), child))
                visit(child, inner)

        visit(tree, ())
    return edges


def test_every_module_is_in_a_layer():
    assert len(MODULES) > 50
    for module in MODULES:
        _layer(module)


def test_no_module_imports_a_higher_layer_except_the_result_doors():
    upward, doors_used = [], set()
    for importer, imported, scope, _ in _edges():
        if _layer(imported) <= _layer(importer):
            continue
        if (importer, scope) in DOORS:
            doors_used.add((importer, scope))
        else:
            upward.append(f"{importer} ({scope or 'module level'}) imports {imported}")
    assert upward == []
    assert doors_used == DOORS  # the list names every door, and only doors


def test_the_doors_are_one_liners():
    """A door only imports the drawing or writing function and calls it."""
    for module, qualname in DOORS:
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        cls, method = qualname.split(".")
        found = [f for c in tree.body if isinstance(c, ast.ClassDef) and c.name == cls
                 for f in c.body if isinstance(f, ast.FunctionDef) and f.name == method]
        assert len(found) == 1, f"{module}.{qualname} is not there"
        body = [s for s in found[0].body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert len(body) <= 3, f"{module}.{qualname} does more than open a door"


def test_no_import_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, imported, scope, _ in _edges():
        if (importer, scope) not in DOORS:
            graph[importer].add(imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strong(v)
    assert cycles == []


def test_the_engine_is_called_from_one_place():
    callers = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "run_chunk":
                callers.add(module)
    assert callers == {"simulator.runner.plan"}
