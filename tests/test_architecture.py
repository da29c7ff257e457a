"""The shape of the code: no import cycle between top-level packages, and no
service located by name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from fastapi.dependencies.models import Dependant

import storefront
from storefront.context import get_session
from storefront.kit.routing import JSONRoute
from storefront.main import DOMAIN_ROUTERS

ROOT = Path(storefront.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Top-level package (or module) of storefront -> those it imports."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        if "versions" in path.parts:
            continue
        source = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("storefront."):
                    names = [node.module.split(".")[1]]
                elif node.module == "storefront":
                    names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("storefront.")]
            edges[source].update(name for name in names if name != source)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_top_level_packages() -> None:
    assert _cycles(_imports()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]


def test_no_service_is_looked_up_by_name() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        for needle in ('session.info["database"]', "session.info.get(", "app.state.database", "getattr(database"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def _depends_on(dependant: Dependant, call: object) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def test_a_route_writes_exactly_when_it_declares_a_write_session() -> None:
    """The transaction kind comes from the declared dependencies; every route
    that changes things (any method but GET) declares `WriteSession`."""
    session_routes = [
        route
        for router in DOMAIN_ROUTERS
        for route in router.routes
        if isinstance(route, JSONRoute) and _depends_on(route.dependant, get_session)
    ]
    misdeclared = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in session_routes
        if route.writes != bool((route.methods or set()) - {"GET", "HEAD"})
    ]

    assert len(session_routes) > 30
    assert misdeclared == []
