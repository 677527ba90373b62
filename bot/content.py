"""Checking the content folder: every problem with its file and line, nothing dropped silently.

problems = check_content(Path("content"))
for problem in problems:
    print(problem)            # content/badges.yml:12: mapping values are not allowed here
"""

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


def yaml_problem(path: Path, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    reason = getattr(error, "problem", None) or str(error)
    return Problem(path, line, f"invalid YAML: {reason}")


def check_content(folder: Path) -> list[Problem]:
    """Every problem in the content folder; an empty list means it is all good."""
    if not folder.is_dir():
        return [Problem(folder, 0, "the content folder does not exist (set EDDY_CONTENT_DIR)")]
    problems: list[Problem] = []
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            problems.append(yaml_problem(path, error))
        except UnicodeDecodeError:
            problems.append(Problem(path, 1, "not UTF-8 text"))
    return problems
