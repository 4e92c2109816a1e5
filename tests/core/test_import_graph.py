"""No package imports itself in a circle: the modules of each stage form a layered graph.

A circle inside a package (``a`` imports ``b`` imports ``a``) means neither module can be
read, tested or moved without the other, and it only works by import-order luck, by an
import deferred into a function, or by one hidden under ``if TYPE_CHECKING:``. The last two
are exactly where the circles this check was written for lived (console ``auth`` →
``users`` → ``context`` → ``auth`` under ``TYPE_CHECKING``; ingest ``source`` →
``file_source`` → ``source`` through an import inside ``open_source``; vigil ``roles`` →
``hub`` → ``roles`` inside ``run_role``), so this check counts *every* import statement a
module holds: at module level, inside functions and under ``TYPE_CHECKING``. A type-only
or deferred edge is still a dependency a reader has to follow; excusing it would let the
same circles back in. Imports across packages are not this check's business.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "ingest", "analytics", "alerts", "console", "vigil")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` (sub-packages included) by dotted name."""
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))
            if "__pycache__" not in p.parts}


def imported(path: Path, name: str) -> Iterator[str]:
    """Every dotted name an import statement anywhere in the module names, made absolute
    (``from x import y`` yields ``x.y``: a module, or a name whose module is ``x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports (the longest known prefix)."""
    known = modules(package)
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for target in imported(path, name):
            parts = target.split(".")
            found = next((".".join(parts[:n]) for n in range(len(parts), 0, -1)
                          if ".".join(parts[:n]) in known), None)
            if found is not None and found != name:
                targets.add(found)
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(package: str) -> None:
    edges = graph(package)
    assert len(edges) > 1, f"found no modules in {package}/"
    circles = cycles(edges)
    assert not circles, "\n".join(
        f"{package}/ imports in a circle: " + ", ".join(
            f"{m} → {sorted(edges[m] & set(c))}" for m in c) for c in circles)


def test_the_check_sees_deferred_and_type_only_imports(tmp_path: Path) -> None:
    """The hiding places the old circles used are seen, relative imports made absolute."""
    module = tmp_path / "a.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from pkg.b import Thing\n\n\ndef f() -> None:\n"
                      "    from pkg import c\n    import pkg.e.f\n\n\nfrom . import d\n")
    assert set(imported(module, "pkg.a")) == {
        "typing.TYPE_CHECKING", "pkg.b.Thing", "pkg.c", "pkg.e.f", "pkg.d"}


def test_the_check_finds_a_circle_and_only_the_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
