"""Where the code lives, in figures: files and lines per layer, the imports that cross
layers, import cycles between modules (imports made only for type hints left out), and the
largest modules. ARCHITECTURE.md says what each layer owns.

    uv run python bench/layout.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "handlers", "store", "sandbox")


def python_files(layer: str) -> list[Path]:
    return [f for f in (ROOT / layer).rglob("*.py") if "migrations" not in f.parts]


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import one another (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            group.append(module)
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bot.text import plural  # the project is importable once it is on the path

    present = [layer for layer in LAYERS if (ROOT / layer).is_dir()]
    graph = grimp.build_graph(
        *present, include_external_packages=False, exclude_type_checking_imports=True
    )
    for layer in present:
        files = python_files(layer)
        print(f"{layer}: {len(files)} files, {sum(map(lines, files)):,} lines")
    crossing: dict[tuple[str, str], int] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            pair = (module.split(".")[0], imported.split(".")[0])
            if pair[0] != pair[1]:
                crossing[pair] = crossing.get(pair, 0) + 1
    for (importer, imported), count in sorted(crossing.items()):
        print(f"  {importer} -> {imported}: {plural(count, 'module import')}")
    found = cycles(graph)
    print(f"import cycles: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
    largest = sorted(
        ((lines(f), f.relative_to(ROOT)) for layer in present for f in python_files(layer)),
        reverse=True,
    )[:6]
    print("largest: " + ", ".join(f"{path} {count:,}" for count, path in largest))


if __name__ == "__main__":
    main()
