"""The layering of natgrad's package tree, checked on the source (AST, nothing imported).

Three rules that keep the folder tree readable as the architecture:

* no import cycle among natgrad's modules, counting imports inside functions (they run when
  the function does, so they are part of the dependency graph) but not those under
  ``if TYPE_CHECKING:`` (never executed);
* `natgrad.boosting` imports no concrete family: learners ask a family for gradients and
  Fisher blocks through the `Distribution` interface only;
* no module imports the private (underscore) modules or names of another subpackage: a
  subpackage's public surface is what its ``__init__`` exports. Root-level private modules
  (``natgrad._validation`` and the like) are the shared internals of the whole package and
  may be imported anywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "natgrad"


@dataclass(frozen=True)
class Import:
    """One import statement's target: a module and, for ``from m import n``, the name n."""

    importer: str
    line: int
    module: str
    name: str | None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def _imports(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out += [Import(name, node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out += [Import(name, node.lineno, module, alias.name) for alias in node.names]
    return [imp for imp in out if imp.module == "natgrad" or imp.module.startswith("natgrad.")]


def _target(imp: Import, modules: dict[str, Path]) -> str:
    """The natgrad module an import runs: ``from a import b`` names module a.b if there is one."""
    if imp.name is not None and f"{imp.module}.{imp.name}" in modules:
        return f"{imp.module}.{imp.name}"
    module = imp.module
    while module not in modules:
        module = module.rpartition(".")[0]
    return module


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[Import]]:
    modules = _modules()
    imports = [imp for name, path in modules.items() for imp in _imports(name, path)]
    return modules, imports


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return found


def test_the_checker_sees_the_tree(graph):
    modules, imports = graph
    assert "natgrad.boosting" in modules and "natgrad.distributions.normal" in modules
    assert len(imports) > 100  # the parser reads the imports, also those inside functions


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"], ["d"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_type_checking_imports_are_not_counted(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from natgrad.a import X\nelse:\n    import natgrad.b\n"
        "def f():\n    from natgrad.c import _y\n"
    )
    found = {(imp.module, imp.name) for imp in _imports("natgrad.mod", path)}
    assert found == {("natgrad.b", None), ("natgrad.c", "_y")}


def test_no_import_cycle(graph):
    modules, imports = graph
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for imp in imports:
        edges[imp.importer].add(_target(imp, modules))
    cycles = _cycles(edges)
    where = {(imp.importer, _target(imp, modules)): f"{imp.importer}:{imp.line}" for imp in imports}
    details = [
        " -> ".join(c) + "  (" + ", ".join(where[(a, b)] for a in c for b in c if (a, b) in where)
        for c in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(d + ")" for d in details)


def _families(modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The concrete family modules and classes, read from the registry of
    `natgrad.distributions` (its ``_FAMILIES`` table: name -> (module, class))."""
    tree = ast.parse(modules["natgrad.distributions"].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and "_FAMILIES" in ast.unparse(
            node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        ):
            table = ast.literal_eval(node.value)
            break
    else:
        raise AssertionError("natgrad.distributions has no _FAMILIES table to read")
    module_names = {f"natgrad.distributions.{module}" for module, _ in table.values()}
    return module_names, {cls for _, cls in table.values()}


def _family_imports(
    modules: dict[str, Path], imports: list[Import], family: tuple[set[str], set[str]]
) -> list[str]:
    family_modules, family_classes = family
    return [
        f"{imp.importer}:{imp.line} imports {imp.module}" + (f".{imp.name}" if imp.name else "")
        for imp in imports
        if (imp.importer == "natgrad.boosting" or imp.importer.startswith("natgrad.boosting."))
        and (
            _target(imp, modules) in family_modules
            or (imp.module == "natgrad.distributions" and imp.name in family_classes)
        )
    ]


def test_boosting_imports_no_concrete_family(graph):
    modules, imports = graph
    family = _families(modules)
    assert "natgrad.distributions.normal" in family[0] and "Normal" in family[1]
    bad = _family_imports(modules, imports, family)
    assert not bad, "natgrad.boosting must not import a concrete family:\n" + "\n".join(bad)


def _top(module: str) -> str:
    """The top-level part of natgrad a module belongs to (``natgrad.boosting._x`` -> boosting)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _private_imports(modules: dict[str, Path], imports: list[Import]) -> list[str]:
    """Imports of a private module or name of a subpackage other than the importer's own."""
    subpackages = {_top(name) for name, path in modules.items() if path.name == "__init__.py"}
    subpackages.discard("")
    bad = []
    for imp in imports:
        target = _target(imp, modules)
        owner = _top(target)
        if owner not in subpackages or owner == _top(imp.importer):
            continue
        inner = target.split(".")[2:]
        if imp.name is not None and target != f"{imp.module}.{imp.name}":
            inner.append(imp.name)
        if any(_private(part) for part in inner):
            shown = imp.module + (f" import {imp.name}" if imp.name else "")
            bad.append(f"{imp.importer}:{imp.line} imports {shown}")
    return sorted(bad)


def test_the_rules_catch_what_they_forbid():
    modules = {
        name: Path(name.replace(".", "/") + ("/__init__.py" if init else ".py"))
        for name, init in [
            ("natgrad", True),
            ("natgrad._validation", False),
            ("natgrad.boosting", True),
            ("natgrad.boosting._a", False),
            ("natgrad.boosting._b", False),
            ("natgrad.distributions", True),
            ("natgrad.distributions._base", False),
            ("natgrad.distributions.normal", False),
            ("natgrad.metrics", True),
        ]
    }
    imports = [
        Import("natgrad.boosting._a", 1, "natgrad.distributions._base", "Distribution"),
        Import("natgrad.boosting._a", 2, "natgrad.distributions", "_base"),
        Import("natgrad.metrics", 3, "natgrad.boosting", "_helper"),
        Import("natgrad.boosting._a", 4, "natgrad.distributions.normal", "Normal"),
        Import("natgrad.boosting._a", 5, "natgrad.distributions", "Normal"),
        Import("natgrad.boosting._a", 6, "natgrad.boosting._b", "_x"),  # own package
        Import("natgrad.boosting._a", 7, "natgrad._validation", "describe"),  # shared root
        Import("natgrad.metrics", 8, "natgrad.distributions", "Distribution"),  # public
    ]
    private = _private_imports(modules, imports)
    assert [line.split(" ")[0] for line in private] == [
        "natgrad.boosting._a:1",
        "natgrad.boosting._a:2",
        "natgrad.metrics:3",
    ]
    family = ({"natgrad.distributions.normal"}, {"Normal"})
    found = _family_imports(modules, imports, family)
    assert [line.split(" ")[0] for line in found] == [
        "natgrad.boosting._a:4",
        "natgrad.boosting._a:5",
    ]


def test_no_cross_package_import_of_private_names(graph):
    modules, imports = graph
    bad = _private_imports(modules, imports)
    assert not bad, (
        "private names of another subpackage (import its public names instead):\n" + "\n".join(bad)
    )
