"""The house rules that lint-imports does not check: no import circles inside the
app, no module over ~400 lines, and all SQL in app/store."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def _cycles(graph, prefix: str) -> list[list[str]]:
    modules = [m for m in graph.modules if m.startswith(prefix)]
    # a module importing itself (a `__main__` block running the imported copy) is no circle
    edges = {m: [d for d in graph.find_modules_directly_imported_by(m)
                 if d.startswith(prefix) and d != m]
             for m in modules}
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        path.append(module)
        for dep in edges.get(module, []):
            if state.get(dep) == 1:
                found.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path)
        path.pop()
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module, [])
    return found


def test_no_import_circles_in_the_app():
    graph = grimp.build_graph("app", "widgets", "training")   # function-level imports included
    assert _cycles(graph, "app") == []
    assert _cycles(graph, "widgets") == []
    assert _cycles(graph, "training") == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"app.a", "app.b", "app.c"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}}[m]
    assert _cycles(Graph, "app")


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for folder in ("app", "widgets", "training", "resources",
                                                       "tests")
            for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


SQL = re.compile(r"\b(sqlite3|\.execute(many)?\()|\b(SELECT|INSERT|UPDATE|DELETE)\s+\w")


# SQLite that is not the project's: Qdrant local mode's own file, tuned for bulk writes
NOT_THE_PROJECTS = {"app/search/stores/qdrant.py"}


def test_all_sql_lives_in_the_store():
    outside = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
               if "store" not in p.relative_to(ROOT / "app").parts[:1]
               and str(p.relative_to(ROOT)) not in NOT_THE_PROJECTS
               and SQL.search(p.read_text(encoding="utf-8"))]
    assert outside == []
