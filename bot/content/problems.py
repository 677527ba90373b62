"""Problems in content, each with its file and line, as every content kind reports them: the
`Problem` itself, a YAML error retold, and the line of the YAML node a problem is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def yaml_problem(path: Path, error: yaml.YAMLError, line_offset: int = 0) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else 1 + line_offset
    reason = getattr(error, "problem", None) or str(error)
    return Problem(path, line, f"invalid YAML: {reason}")


#: Where a problem sits inside one topic, as pydantic reports it: ("escalation", 1, "notify").
Loc = tuple[int | str, ...]


def nth(index: int | str) -> int:
    """People count list items from 1."""
    return int(index) + 1


def line_of(node: yaml.Node | None, loc: Loc) -> int:
    """The line of the most specific YAML node along `loc` (a mapping key's own line, or a list
    item's); where the path ends (a missing field) the deepest node reached stands in."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def list_items(root: yaml.Node | None, key: str) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key_node, value in root.value:
        if key_node.value == key and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []
