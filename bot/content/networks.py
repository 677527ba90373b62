"""The subject-matter networks in `networks.yml`: each topic validated by a pydantic model,
each pydantic error retold in plain words at the line of the YAML node it is about.

    networks = load_networks(Path("content"))
    networks.topics         # the good topics (None without networks.yml), defaults filled in
    networks.broken         # topic keys with problems: keep serving their last good version"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
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

from bot.content.limits import CHANNEL_HINT, CHANNEL_ID, MENU_LIMIT, SLUG, USER_ID
from bot.content.problems import Loc, Problem, line_of, list_items, nth, yaml_problem
from bot.content.yaml_text import parse_yaml
from store.base import KEY_LENGTH

NETWORKS_FILE = "networks.yml"

NOTIFY_NETWORK = "network"
NOTIFY_MANAGERS = "managers"
#: More tiers than this is a schedule nobody can reason about; widen the circle instead.
MAX_ESCALATION_TIERS = 5
DEFAULT_EXPERTS_PER_QUESTION = 3


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
        parsed = parse_yaml(text)
        root, data = parsed.root, parsed.data or {}
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
