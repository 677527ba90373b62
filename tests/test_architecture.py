"""Where things live: the direction of imports between the layers (the import-linter
contracts in pyproject.toml) and that no module outside store/ imports a table class.
ARCHITECTURE.md is the map these checks keep true."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_imports_go_one_way_between_the_layers():
    # In a process of its own: import-linter configures logging for the whole process (it
    # would silence the loggers other tests read).
    linted = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports; "
            "raise SystemExit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def table_classes() -> dict[str, set[str]]:
    """For each store module, the names of the SQLModel tables it defines."""
    tables: dict[str, set[str]] = {}
    for source in (ROOT / "store").glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        tables[f"store.{source.stem}"] = {
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any(
                keyword.arg == "table"
                and isinstance(keyword.value, ast.Constant)
                and keyword.value.value is True
                for keyword in node.keywords
            )
        }
    return tables


def test_only_the_store_imports_table_classes():
    tables = table_classes()
    assert sum(map(len, tables.values())) > 20, "the check found the tables"
    sources = [ROOT / "app.py"]
    for package in ("bot", "handlers", "sandbox"):
        sources += sorted((ROOT / package).rglob("*.py"))
    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in tables:
                found += [
                    f"{os.path.relpath(source, ROOT)}:{node.lineno} imports {alias.name}"
                    for alias in node.names
                    if alias.name in tables[node.module]
                ]
    assert not found, "tables are the store's own: ask it through a function"


def test_no_module_imports_itself_through_others():
    """An import cycle between modules (a base that imports its users back, inside a
    function) makes the order of loading matter: none is left. Imports made only for type
    hints don't count; they are not run."""
    graph = grimp.build_graph(
        "bot", "handlers", "store", "sandbox", exclude_type_checking_imports=True
    )
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles
