"""The content folder: reading it, and every problem in it with its file and line.

    loaded = load_knowledge(Path("content"))
    loaded.entries          # the good knowledge entries
    loaded.problems         # content/knowledge/it/vpn.md:3: unknown topic 'it' (…)
    loaded.broken           # slugs whose file is broken: keep serving their last good version

    networks = load_networks(Path("content"))
    networks.topics         # the good topics (None without networks.yml), defaults filled in
    networks.broken         # topic keys with problems: keep serving their last good version

    problems = check_content(Path("content"))   # everything `app.py content check` reports

Knowledge entries are `knowledge/**/*.md`: YAML front matter (split by python-frontmatter,
parsed by PyYAML, whose node marks give each key's line) and a Markdown body. The topics they
may name come from `networks.yml`; each topic is validated by a pydantic model, and each
pydantic error is retold in plain words at the line of the YAML node it is about.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from frontmatter import YAMLHandler
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from store.base import KEY_LENGTH, SLUG_LENGTH

KNOWLEDGE_DIR = "knowledge"
NETWORKS_FILE = "networks.yml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
ENTRY_FIELDS = {"title", "questions", "tags", "topic", "owner", "reviewed"}
#: Slack shows at most 150 characters in a header block.
TITLE_LIMIT = 150
#: Where content ends up, and the hard limit there:
#: - a content key (a topic's key, a learning path's or a lesson's id, a badge's id) is kept
#:   in columns of KEY_LENGTH (64) characters, and a topic key or path id is also an option's
#:   value in a form's menu, which Slack takes up to 150 characters long; an entry's slug (its
#:   file name) is kept in columns of SLUG_LENGTH (120) and rides in button values (2,000);
#: - a menu offers at most 100 options, so the 101st topic or path could never be chosen;
#: - an entry's answer and its other wordings are the initial text of the Edit form's inputs,
#:   which take at most 3,000 characters (more would be cut off when someone edits it);
#: - a lesson's link is a link button's URL: at most 3,000 characters.
#: Titles (headers: 150), quiz options (buttons: 75) have their own limits below and in
#: bot/lesson_paths.py.
MENU_LIMIT = 100
FORM_TEXT_LIMIT = 3000
URL_LIMIT = 3000


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


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


def yaml_problem(path: Path, error: yaml.YAMLError, line_offset: int = 0) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else 1 + line_offset
    reason = getattr(error, "problem", None) or str(error)
    return Problem(path, line, f"invalid YAML: {reason}")


#: Where a problem sits inside one topic, as pydantic reports it: ("escalation", 1, "notify").
Loc = tuple[int | str, ...]
NOTIFY_NETWORK = "network"
NOTIFY_MANAGERS = "managers"
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
#: More tiers than this is a schedule nobody can reason about; widen the circle instead.
MAX_ESCALATION_TIERS = 5
DEFAULT_EXPERTS_PER_QUESTION = 3
#: People write the channel's name; Slack needs its ID, and this says where to find it.
CHANNEL_HINT = (
    "a channel ID like C012AB3CD, not `{value}` "
    "(in Slack: open the channel's details, the ID is at the bottom)"
)


@dataclass(frozen=True)
class EscalationTier:
    """One step of a topic's escalation: `after` the question was routed, who gets nudged."""

    after: timedelta
    notify: str


#: Unanswered questions remind the network after 2 hours and reach the managers after a day.
DEFAULT_ESCALATION: tuple[EscalationTier, ...] = (
    EscalationTier(timedelta(hours=2), NOTIFY_NETWORK),
    EscalationTier(timedelta(hours=24), NOTIFY_MANAGERS),
)


@dataclass(frozen=True)
class Topic:
    """A subject-matter network: it owns knowledge entries and answers what the index can't.
    Without a `channel`, a question goes by DM to `experts_per_question` experts."""

    key: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    channel: str | None = None
    managers: tuple[str, ...] = ()
    experts_per_question: int = DEFAULT_EXPERTS_PER_QUESTION
    escalation: tuple[EscalationTier, ...] = DEFAULT_ESCALATION


@dataclass
class NetworksLoad:
    #: None when there is no networks.yml; otherwise only the topics without problems.
    topics: list[Topic] | None
    problems: list[Problem] = field(default_factory=list)
    #: Keys of topics that exist but have problems: their last good version should keep serving.
    broken: set[str] = field(default_factory=set)


def _number_as_text(value: Any) -> Any:
    """YAML reads `2024` or `365` as numbers; as a keyword they are still words."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _strictly_increasing(tiers: list[_TierModel]) -> list[_TierModel]:
    """A later tier that fires no later than the one before it would never make sense."""
    for number, (before, tier) in enumerate(itertools.pairwise(tiers), start=2):
        if tier.after_hours <= before.after_hours:
            raise PydanticCustomError(
                "tiers_out_of_order",
                "escalation tiers must have increasing after_hours",
                {"tier": number, "previous_hours": before.after_hours},
            )
    return tiers


Keyword = Annotated[str, BeforeValidator(_number_as_text)]
TopicKey = Annotated[str, StringConstraints(pattern=SLUG.pattern, max_length=KEY_LENGTH)]
UserId = Annotated[str, StringConstraints(pattern=USER_ID.pattern)]


class _TierModel(BaseModel):
    """The shape of one escalation tier as written in networks.yml."""

    model_config = ConfigDict(extra="forbid", strict=True)

    after_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    notify: Literal["network", "managers"]


class _TopicModel(BaseModel):
    """The shape of one topic as written in networks.yml. Strict: YAML's guesses (`yes` as
    true, `on` as a boolean) must not slip through as text or numbers. A field left empty
    (`channel:`) means its default, except `escalation`, where empty is ambiguous."""

    model_config = ConfigDict(extra="forbid", strict=True)

    key: TopicKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    description: str | None = None
    keywords: list[Keyword] | None = None
    tags: list[Keyword] | None = None
    channel: Annotated[str, StringConstraints(pattern=CHANNEL_ID.pattern)] | None = None
    managers: list[UserId] | None = None
    experts_per_question: Annotated[int, Field(ge=1, le=10)] | None = None
    escalation: Annotated[
        list[_TierModel],
        Field(max_length=MAX_ESCALATION_TIERS),
        AfterValidator(_strictly_increasing),
    ] = Field(default_factory=list)

    def to_topic(self) -> Topic:
        words = (w.strip().lower() for w in [*(self.keywords or ()), *(self.tags or ())])
        escalation = DEFAULT_ESCALATION
        if "escalation" in self.model_fields_set:
            escalation = tuple(
                EscalationTier(timedelta(hours=tier.after_hours), tier.notify)
                for tier in self.escalation
            )
        return Topic(
            key=self.key,
            name=self.name,
            description=(self.description or "").strip(),
            keywords=tuple(dict.fromkeys(w for w in words if w)),
            channel=self.channel,
            managers=tuple(dict.fromkeys(self.managers or ())),
            experts_per_question=self.experts_per_question or DEFAULT_EXPERTS_PER_QUESTION,
            escalation=escalation,
        )


TOPIC_FIELDS = sorted(_TopicModel.model_fields)
TIER_FIELDS = sorted(_TierModel.model_fields)


def load_networks(folder: Path) -> NetworksLoad:
    """The topics of `networks.yml`, each problem with its line, and which topics are broken.
    One bad topic never hides the others: they load, and it keeps its last good version."""
    path = folder / NETWORKS_FILE
    if not path.is_file():
        return NetworksLoad(topics=None)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return NetworksLoad(topics=[], problems=[Problem(path, 1, "not UTF-8 text")])
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        return NetworksLoad(topics=[], problems=[yaml_problem(path, error)])
    raw_topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(raw_topics, list):
        return NetworksLoad(topics=[], problems=[Problem(path, 1, "expected a `topics:` list")])
    nodes = list_items(root, "topics")
    good: list[Topic] = []
    problems_found: list[Problem] = []
    broken: set[str] = set()
    first_lines: dict[str, int] = {}
    for index, raw in enumerate(raw_topics):
        node = nodes[index] if index < len(nodes) else None
        key = raw.get("key") if isinstance(raw, dict) else None
        label = f"topic `{key}`" if isinstance(key, str) and SLUG.match(key) else None
        model, explained = _validate_topic(raw, label or f"topic {index + 1}")
        problems = [Problem(path, line_of(node, loc), message) for loc, message in explained]
        if label and isinstance(key, str):
            key_line = line_of(node, ("key",))
            if key in first_lines:
                problems.append(
                    Problem(
                        path, key_line, f"{label} is already defined at line {first_lines[key]}"
                    )
                )
            first_lines.setdefault(key, key_line)
            if problems:
                broken.add(key)
        if index == MENU_LIMIT:
            problems.append(
                Problem(
                    path,
                    line_of(node, ()),
                    f"{len(raw_topics)} topics: Slack's menus offer at most {MENU_LIMIT}, so this "
                    "topic and those after it could never be chosen in a form; merge some",
                )
            )
        problems_found += dict.fromkeys(problems)  # pydantic may say one thing twice
        if model is not None and not problems:
            good.append(model.to_topic())
    return NetworksLoad(
        topics=[topic for topic in good if topic.key not in broken],
        problems=sorted(problems_found, key=lambda problem: problem.line),
        broken=broken,
    )


def load_topics(folder: Path) -> tuple[set[str] | None, list[Problem]]:
    """The topic keys knowledge entries may name (None when `networks.yml` is absent), and the
    file's problems. A broken topic still counts: a typo in its escalation must not turn every
    entry of that topic into a problem too."""
    networks = load_networks(folder)
    if networks.topics is None:
        return None, networks.problems
    return {topic.key for topic in networks.topics} | networks.broken, networks.problems


def _validate_topic(raw: Any, label: str) -> tuple[_TopicModel | None, list[tuple[Loc, str]]]:
    """One topic's model, or each of its problems as (where in the topic, what to fix)."""
    try:
        return _TopicModel.model_validate(raw), []
    except ValidationError as error:
        return None, [_explain(detail, label) for detail in error.errors()]


def _explain(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    """Turn one pydantic error into a sentence a community manager can act on, and the place
    in the topic it belongs to (sometimes deeper than pydantic's `loc`, for a sharper line)."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    context = error.get("ctx") or {}
    if not loc:
        return loc, f"{label} must be `key: …` and `name: …` lines"
    name = str(loc[0])
    if kind == "extra_forbidden" and len(loc) == 1:
        return loc, f"{label}: unknown field `{name}` (known: {', '.join(TOPIC_FIELDS)})"
    if name == "key":
        if kind == "missing":
            return loc, f"{label} needs a `key` like it-help"
        if kind == "string_too_long":
            return loc, (
                f"topic key is {len(str(value))} characters; keep it to at most {KEY_LENGTH}"
            )
        return (
            loc,
            f"topic key `{value}` must be lowercase letters, digits and hyphens, like it-help",
        )
    if name == "name":
        return loc, f"{label} needs a `name`, a short text like IT help"
    if name == "description":
        return loc, f"{label}: `description` must be text"
    if name in ("keywords", "tags"):
        if len(loc) > 1:
            return (
                loc,
                f"{label}: `{name}` item {nth(loc[1])} must be a short text (put it in quotes)",
            )
        return loc, f"{label}: `{name}` must be a list of short texts like [laptop, vpn]"
    if name == "channel":
        return loc, f"{label}: `channel` needs {CHANNEL_HINT.format(value=value)}"
    if name == "managers":
        if len(loc) > 1:
            return loc, f"{label}: manager `{value}` is not a Slack user ID like U012ABCDEF"
        return loc, f"{label}: `managers` must be a list of Slack user IDs like U012ABCDEF"
    if name == "experts_per_question":
        return loc, f"{label}: `experts_per_question` must be a whole number from 1 to 10"
    if name == "escalation":
        return _explain_escalation(loc, kind, value, context, label)
    return loc, f"{label}: `{name}` is not valid"


def _explain_escalation(
    loc: Loc, kind: str, value: Any, context: dict[str, Any], label: str
) -> tuple[Loc, str]:
    """Escalation problems sit up to two levels deep, so they name the tier (counted from 1)
    and point at its line; ordering and length problems point at the tier that breaks them."""
    if kind == "too_long":
        return (
            (*loc, MAX_ESCALATION_TIERS),
            f"{label}: `escalation` has {context['actual_length']} tiers; "
            f"keep it to at most {MAX_ESCALATION_TIERS}",
        )
    if kind == "tiers_out_of_order":
        number = context["tier"]
        return (
            (*loc, number - 1, "after_hours"),
            f"{label}: escalation tier {number} `after_hours` must be greater than "
            f"tier {number - 1}'s {context['previous_hours']:g} hours",
        )
    if len(loc) == 1:
        return (
            loc,
            f"{label}: `escalation` must be a list of tiers (`escalation: []` never escalates)",
        )
    tier = f"{label}: escalation tier {nth(loc[1])}"
    if len(loc) == 2:
        return loc, f"{tier} must be `after_hours: …` and `notify: …` lines"
    field_name = str(loc[2])
    if kind == "extra_forbidden":
        return loc, f"{tier} has an unknown field `{field_name}` (known: {', '.join(TIER_FIELDS)})"
    if field_name == "after_hours":
        if kind == "missing":
            return loc, f"{tier} needs `after_hours`, a number of hours greater than 0"
        return loc, f"{tier} `after_hours` must be a number of hours greater than 0"
    if kind == "missing":
        return loc, f"{tier} needs `notify`: `{NOTIFY_NETWORK}` or `{NOTIFY_MANAGERS}`"
    return loc, f"{tier} `notify` must be `{NOTIFY_NETWORK}` or `{NOTIFY_MANAGERS}`, not `{value}`"


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
        root = yaml.compose(front)
        meta = yaml.safe_load(front)
    except yaml.YAMLError as error:
        return None, [yaml_problem(path, error, offset)]
    if not isinstance(meta, dict):
        return None, [Problem(path, offset + 1, "front matter must be `key: value` lines")]
    lines = _key_lines(root, offset)
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


def check_content(folder: Path) -> list[Problem]:
    """Every problem in the content folder; an empty list means it is all good."""
    if not folder.is_dir():
        return [Problem(folder, 0, "the content folder does not exist (set EDDY_CONTENT_DIR)")]
    from bot.badge_rules import BADGES_FILE, load_badge_rules  # they build on this module
    from bot.lesson_paths import LESSONS_DIR, load_paths
    from bot.small_talk import SMALL_TALK_FILE, load_small_talk

    problems: list[Problem] = []
    for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
        if path.name in (NETWORKS_FILE, BADGES_FILE, SMALL_TALK_FILE) and path.parent == folder:
            continue  # checked with the knowledge, as badge rules and as small talk, below
        if path.parent == folder / LESSONS_DIR:
            continue  # checked as learning paths, below
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
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
