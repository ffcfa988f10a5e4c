"""The engine depends on plain records only: no config layer, no pydantic (issue 17)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "simulator" / "engine"
FORBIDDEN = ("simulator.config", "simulator.model.sampling", "pydantic")


def _imports(path: Path) -> list[str]:
    """Absolute module names a file imports (relative imports resolved)."""
    package = ["simulator", "engine"]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names += [module] + [f"{module}.{a.name}" for a in node.names]
    return names


def test_no_engine_module_imports_the_config_layer():
    files = sorted(ENGINE.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        for name in _imports(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_importing_the_engine_does_not_import_sampling():
    code = "import sys, simulator.engine; print('simulator.model.sampling' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


SIMULATOR = ENGINE.parent


def test_no_module_imports_another_modules_private_name():
    """``from x import _name`` and ``module._name`` across modules: what is shared has a
    public home (issue 17). A module's own names, dunders and the numba-cache-keyed
    private kernel module (``engine._kernel``, imported by name) are fine, and so are
    the standard library's documented ones (``os._exit``, the way a forked child leaves)."""
    found = []
    for path in sorted(SIMULATOR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # every name bound by an import (modules, and names taken from them)
        modules = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                   if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(SIMULATOR)}: from {node.module} import {a.name}"
                          for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.attr.startswith("_") and not node.attr.startswith("__")
                  and node.value.id in modules
                  and node.value.id not in sys.stdlib_module_names):  # os._exit: documented
                found.append(f"{path.relative_to(SIMULATOR)}: {node.value.id}.{node.attr}")
    assert not found, "\n".join(found)
