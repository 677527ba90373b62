"""Everything `app.py content check` reports: every problem in the content folder, of every
content kind, with its file and line.

    problems = check_content(Path("content"))   # [] when it is all good"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.badge_rules import BADGES_FILE, load_badge_rules
from bot.content.entries import load_knowledge
from bot.content.lesson_paths import LESSONS_DIR, load_paths
from bot.content.networks import NETWORKS_FILE
from bot.content.problems import Problem, yaml_problem
from bot.content.small_talk import SMALL_TALK_FILE, load_small_talk
from bot.content.yaml_text import load_yaml


def check_content(folder: Path) -> list[Problem]:
    """Every problem in the content folder; an empty list means it is all good."""
    if not folder.is_dir():
        return [Problem(folder, 0, "the content folder does not exist (set EDDY_CONTENT_DIR)")]

    problems: list[Problem] = []
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
        if path.name in (NETWORKS_FILE, BADGES_FILE, SMALL_TALK_FILE) and path.parent == folder:
            continue  # checked with the knowledge, as badge rules and as small talk, below
        if path.parent == folder / LESSONS_DIR:
            continue  # checked as learning paths, below
        try:
            load_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            problems.append(yaml_problem(path, error))
        except UnicodeDecodeError:
            problems.append(Problem(path, 1, "not UTF-8 text"))
    return (
        problems
        + load_knowledge(folder).problems
        + load_paths(folder).problems
        + load_badge_rules(folder).problems
        + load_small_talk(folder)[1]
    )
