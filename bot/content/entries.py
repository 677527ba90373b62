"""Knowledge entries: `knowledge/**/*.md`, YAML front matter (split by python-frontmatter,
parsed once by PyYAML, with libyaml's C parser where installed (see `yaml_text`), whose node
marks give each key's line) and a Markdown body. The topics they may name come from
`networks.yml`.

    loaded = load_knowledge(Path("content"))
    loaded.entries          # the good knowledge entries
    loaded.problems         # content/knowledge/it/vpn.md:3: unknown topic 'it' (…)
    loaded.broken           # slugs whose file is broken: keep serving their last good version"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from frontmatter import YAMLHandler

from bot.content.limits import FORM_TEXT_LIMIT, SLUG, TITLE_LIMIT, USER_ID
from bot.content.networks import NETWORKS_FILE, load_topics
from bot.content.problems import Problem, yaml_problem
from bot.content.yaml_text import parse_yaml
from store.base import SLUG_LENGTH

KNOWLEDGE_DIR = "knowledge"
ENTRY_FIELDS = {"title", "questions", "tags", "topic", "owner", "reviewed"}


@dataclass(frozen=True)
class KnowledgeEntry:
    """One curated answer: from `content/knowledge/**/*.md` (source "file") or made in Slack
    (source "slack"). `learned` holds askers' wordings that Helpful feedback attached to it."""

    slug: str
    title: str
    body: str
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    topic: str | None = None
    owner: str | None = None
    reviewed: date | None = None
    learned: tuple[str, ...] = ()
    source: str = "file"
    path: Path | None = field(default=None, compare=False)


@dataclass
class KnowledgeLoad:
    entries: list[KnowledgeEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Slugs of files that exist but could not be read: their last good version should serve.
    broken: set[str] = field(default_factory=set)


def knowledge_files(folder: Path) -> Iterator[Path]:
    yield from sorted((folder / KNOWLEDGE_DIR).rglob("*.md"))


def load_knowledge(folder: Path) -> KnowledgeLoad:
    """Read every knowledge entry under `folder`; a broken file is reported, never dropped
    silently, and its slug is listed in `broken`."""
    topics, problems = load_topics(folder)
    loaded = KnowledgeLoad(problems=list(problems))
    seen: dict[str, Path] = {}
    for path in knowledge_files(folder):
        slug = path.stem
        entry, entry_problems = read_entry(path, topics)
        if slug in seen:
            entry_problems.append(
                Problem(path, 1, f"duplicate slug `{slug}`: {seen[slug]} has the same file name")
            )
        seen.setdefault(slug, path)
        if entry_problems or entry is None:
            loaded.problems += entry_problems
            loaded.broken.add(slug)
        else:
            loaded.entries.append(entry)
    return loaded


def read_entry(path: Path, topics: set[str] | None) -> tuple[KnowledgeEntry | None, list[Problem]]:
    """One knowledge entry and its problems (the entry is None when it cannot be built)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(path, 1, "not UTF-8 text")]
    handler = YAMLHandler()
    if not handler.detect(text):
        return None, [Problem(path, 1, "no front matter: start the file with a `---` line")]
    try:
        front, body = handler.split(text)
    except ValueError:
        return None, [Problem(path, 1, "front matter is not closed with a `---` line")]
    offset = text[: text.index(front)].count("\n")
    body_line = offset + front.count("\n") + 2
    try:
        parsed = parse_yaml(front)
    except yaml.YAMLError as error:
        return None, [yaml_problem(path, error, offset)]
    meta = parsed.data
    if not isinstance(meta, dict):
        return None, [Problem(path, offset + 1, "front matter must be `key: value` lines")]
    lines = _key_lines(parsed.root, offset)
    problems = _entry_problems(path, meta, lines, topics, offset)
    if not body.strip():
        problems.append(Problem(path, body_line, "empty body: write the answer below the `---`"))
    elif len(body.strip()) > FORM_TEXT_LIMIT:
        problems.append(
            Problem(
                path,
                body_line,
                f"the answer is {len(body.strip()):,} characters; keep it to at most "
                f"{FORM_TEXT_LIMIT:,} (Slack's Edit form takes no more, and would cut it off)",
            )
        )
    slug = path.stem
    if not SLUG.match(slug):
        problems.append(
            Problem(path, 1, f"file name `{slug}` must be lowercase letters, digits and hyphens")
        )
    elif len(slug) > SLUG_LENGTH:
        problems.append(
            Problem(
                path,
                1,
                f"the file name (the entry's slug) is {len(slug)} characters; keep it to at "
                f"most {SLUG_LENGTH}",
            )
        )
    if problems:
        return None, problems
    return KnowledgeEntry(
        slug=slug,
        title=meta["title"].strip(),
        body=body.strip(),
        questions=tuple(q.strip() for q in meta.get("questions") or () if q.strip()),
        tags=tuple(str(t).strip().lower() for t in meta.get("tags") or ()),
        topic=meta.get("topic"),
        owner=meta.get("owner"),
        reviewed=meta.get("reviewed"),
        path=path,
    ), []


def _key_lines(root: yaml.Node | None, offset: int) -> dict[str, int]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + 1 + offset for key, _ in root.value}


def _entry_problems(
    path: Path, meta: dict[str, Any], lines: dict[str, int], topics: set[str] | None, offset: int
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(path, lines.get(key, offset + 1), message))

    for key in meta.keys() - ENTRY_FIELDS:
        problem(str(key), f"unknown field `{key}` (known: {', '.join(sorted(ENTRY_FIELDS))})")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", "missing title: add `title: …` to the front matter")
    elif len(title) > TITLE_LIMIT:
        problem("title", f"title is {len(title)} characters; keep it under {TITLE_LIMIT}")
    for key in ("questions", "tags"):
        value = meta.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str | int) for v in value)
        ):
            problem(key, f"`{key}` must be a list of short texts")
    questions = meta.get("questions")
    if isinstance(questions, list):
        shown = "\n".join(str(q).strip() for q in questions)
        if len(shown) > FORM_TEXT_LIMIT:
            problem(
                "questions",
                f"`questions` come to {len(shown):,} characters; keep them to at most "
                f"{FORM_TEXT_LIMIT:,} in all (Slack's Edit form takes no more)",
            )
    topic = meta.get("topic")
    if topic is not None:
        if topics is None:
            problem("topic", f"unknown topic `{topic}`: there is no {NETWORKS_FILE} with topics")
        elif topic not in topics:
            known = ", ".join(sorted(topics)) or "none"
            problem("topic", f"unknown topic `{topic}` (topics in {NETWORKS_FILE}: {known})")
    owner = meta.get("owner")
    if owner is not None and not (isinstance(owner, str) and USER_ID.match(owner)):
        problem("owner", f"owner `{owner}` is not a Slack user ID like U012ABCDEF")
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, date):
        problem("reviewed", f"reviewed `{reviewed}` is not a date like 2026-10-01")
    return problems
