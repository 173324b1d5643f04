"""The layers hold: the import graph of our packages, read from the source (AST), has no upward
import and no cycle.

Every import counts: at module level, inside functions, and under `if TYPE_CHECKING:`. A
function-level import hides a cycle from the interpreter, not from a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("router", "adapters", "routing_rules", "kefu_common")

# (importer prefix, forbidden import prefixes): what a layer must never reach up to.
FORBIDDEN = (
    ("adapters", ("router.web", "router.runtime")),
    ("routing_rules", ("router",)),
    ("kefu_common", ("router", "adapters", "routing_rules")),
)


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name to file, for every module of our packages under `root`."""
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _is_ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `name` imports anywhere in its file, and their packages. `from pkg import x` is an
    edge to pkg.x when x is a module, else to pkg; a name that is no module (yet) is kept as
    written, so an upward import shows even before its target exists."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    here = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_ours(alias.name):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            if not _is_ours(base):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: a package's own imports are part of
    # every import of its modules. The importer's own packages are already running, so not an edge.
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
    for target in list(found):
        parts = target.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found - own


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad: list[str] = []
    for importer, targets in sorted(graph.items()):
        for layer, forbidden in FORBIDDEN:
            if importer != layer and not importer.startswith(layer + "."):
                continue
            for target in sorted(targets):
                if any(target == f or target.startswith(f + ".") for f in forbidden):
                    bad.append(f"{importer} imports {target}")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_upward_imports() -> None:
    assert upward_imports(import_graph()) == []


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "\n".join(" <-> ".join(c) for c in found)


# The checker itself must be able to fail: the same walk over a small tree that has each fault.
@pytest.mark.parametrize(("files", "expect_upward", "expect_cycle"), [
    ({"adapters/x.py": "def f():\n    from router.web.api import principal\n"}, True, False),
    ({"adapters/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from router.runtime import R\n"},
     True, False),
    ({"routing_rules/x.py": "import router.models\n"}, True, False),
    ({"kefu_common/x.py": "from adapters import base\n", "adapters/base.py": ""}, True, False),
    ({"router/a.py": "from router import b\n", "router/b.py": "def f():\n    from router.a import x\n"},
     False, True),
    ({"router/a.py": "from . import b\n", "router/b.py": "from .a import x\n"}, False, True),
    # A package whose __init__ imports a module that imports back into the package.
    ({"router/p/__init__.py": "from router.q import f\n", "router/p/k.py": "",
      "router/q.py": "from router.p.k import K\n"}, False, True),
    ({"router/a.py": "from router import b\n", "router/b.py": "", "adapters/x.py": "import router.a\n"},
     False, False),
])
def test_checker_finds_faults(tmp_path: Path, files: dict[str, str], expect_upward: bool,
                              expect_cycle: bool) -> None:
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_graph(tmp_path)
    assert bool(upward_imports(graph)) is expect_upward
    assert bool(cycles(graph)) is expect_cycle
