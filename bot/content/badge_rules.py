"""Reaction badge rules as data: `content/badges.yml`, each problem with its file and line.

    loaded = load_badge_rules(Path("content"))
    loaded.rules       # the rules as they should serve (broken items left out), None: no file
    loaded.problems    # content/badges.yml:31: badge `helper`: `when` needs one measure …
    loaded.broken      # keys ("points:pray", "badge:helper", "setting:daily_budget") whose last
                       # good version keeps serving, or {"file"} when nothing could be read

Every points rule, every badge and every setting is validated on its own, so one typo never
takes down more than it must: a broken badge keeps its last good version (see `merge_last_good`),
and the other rules are untouched.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from bot.content.limits import CHANNEL_HINT, CHANNEL_ID, KEY_LENGTH, SLUG
from bot.content.problems import Loc, Problem, line_of, list_items, yaml_problem
from bot.content.yaml_text import parse_yaml

BADGES_FILE = "badges.yml"
#: The skin tone Slack appends to a reaction's name (`+1::skin-tone-3`) is the same emoji.
SKIN_TONE = re.compile(r"::skin-tone-\d$")
DEFAULT_BUDGET = 20
DEFAULT_TIMEZONE = "UTC"
DESCRIPTION_LIMIT = 200

#: What a badge can count, and how to say it to a person (`{n}` is the threshold).
MEASURES: dict[str, tuple[str, str]] = {
    "points": ("{n} points from reactions", "{n} points from :{emoji}:"),
    "expert_answers": ("{n} answers to routed questions", ""),
    "entries_accepted": ("{n} entries accepted into the knowledge index", ""),
    "paths_completed": ("{n} learning paths completed", ""),
    "streak_days": ("a {n}-day learning streak", ""),
}
ONE_OF_EACH = {
    "points": "your first point from a colleague's reaction",
    "expert_answers": "your first answer to a routed question",
    "entries_accepted": "your first entry accepted into the knowledge index",
    "paths_completed": "your first learning path completed",
}


#: Names Slack knows for the same emoji, as the one name its reaction events carry (a person
#: may type either; the console and content files may say either).
ALIASES = {"thumbsup": "+1", "thumbsdown": "-1"}


def emoji_name(raw: str) -> str:
    """A reaction's name as the rules know it: no colons, no skin tone, lowercase, Slack's
    own name for an alias (`:thumbsup:` is `:+1:`)."""
    name = SKIN_TONE.sub("", raw.strip().strip(":").lower())
    return ALIASES.get(name, name)


@dataclass(frozen=True)
class PointRule:
    """Reactions with any of `emoji` give the message's author `points`."""

    emoji: tuple[str, ...]
    points: int
    means: str = ""

    @property
    def key(self) -> str:
        return self.emoji[0]


@dataclass(frozen=True)
class Badge:
    id: str
    name: str
    emoji: str
    description: str
    #: One of MEASURES, and how much of it earns the badge.
    measure: str
    threshold: int
    #: For `points` only: count only the points given with this rule's emoji.
    of_emoji: str | None = None

    def criterion(self) -> str:
        """The criterion in words: "25 points from reactions", "a 5-day learning streak"."""
        if self.threshold == 1 and self.measure in ONE_OF_EACH and not self.of_emoji:
            return ONE_OF_EACH[self.measure]
        overall, by_emoji = MEASURES[self.measure]
        text = by_emoji if self.of_emoji else overall
        return text.format(n=f"{self.threshold:,}", emoji=self.of_emoji)


@dataclass(frozen=True)
class BadgeRules:
    timezone: str = DEFAULT_TIMEZONE
    daily_budget: int = DEFAULT_BUDGET
    shout_out_channel: str | None = None
    points: tuple[PointRule, ...] = ()
    badges: tuple[Badge, ...] = ()

    def rule_for(self, reaction: str) -> PointRule | None:
        name = emoji_name(reaction)
        return next((rule for rule in self.points if name in rule.emoji), None)

    def badge(self, badge_id: str) -> Badge | None:
        return next((badge for badge in self.badges if badge.id == badge_id), None)


@dataclass
class BadgeRulesLoad:
    rules: BadgeRules | None = None
    problems: list[Problem] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EmojiName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^:?[a-z0-9_+\-']+:?$")
]


class _PointModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    emoji: Annotated[list[EmojiName], Field(min_length=1, max_length=10)]
    points: Annotated[int, Field(ge=1, le=10)]
    means: Annotated[str, StringConstraints(max_length=80)] | None = None


class _WhenModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    points: Annotated[int, Field(ge=1)] | None = None
    emoji: EmojiName | None = None
    expert_answers: Annotated[int, Field(ge=1)] | None = None
    entries_accepted: Annotated[int, Field(ge=1)] | None = None
    paths_completed: Annotated[int, Field(ge=1)] | None = None
    streak_days: Annotated[int, Field(ge=1)] | None = None


class _BadgeModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, StringConstraints(pattern=SLUG.pattern, max_length=KEY_LENGTH)]
    name: Annotated[Text, StringConstraints(max_length=60)]
    emoji: EmojiName
    description: Annotated[Text, StringConstraints(max_length=DESCRIPTION_LIMIT)]
    when: dict[str, Any]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    timezone: Any = None
    daily_budget: Any = None
    shout_out_channel: Any = None
    points: list[Any] | None = None
    badges: list[Any] | None = None


POINT_FIELDS = sorted(_PointModel.model_fields)
WHEN_FIELDS = sorted(_WhenModel.model_fields)
BADGE_FIELDS = sorted(_BadgeModel.model_fields)
FILE_FIELDS = sorted(_FileModel.model_fields)


def load_badge_rules(folder: Path) -> BadgeRulesLoad:
    """The rules of `folder/badges.yml` and every problem with its line."""
    path = folder / BADGES_FILE
    loaded = BadgeRulesLoad()
    if not path.is_file():
        return loaded

    def report(line: int, message: str) -> None:
        loaded.problems.append(Problem(path, line, message))

    try:
        text = path.read_text(encoding="utf-8")
        parsed = parse_yaml(text)
        root, data = parsed.root, parsed.data or {}
    except UnicodeDecodeError:
        report(1, "not UTF-8 text")
        loaded.broken.add("file")
        return loaded
    except yaml.YAMLError as error:
        loaded.problems.append(yaml_problem(path, error))
        loaded.broken.add("file")
        return loaded
    try:
        model = _FileModel.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            if detail["type"] == "extra_forbidden":
                message = f"unknown setting `{loc[0]}` (known: {', '.join(FILE_FIELDS)})"
            elif loc:
                message = f"`{loc[0]}` must be a list (see content/README.md)"
            else:
                message = "badges.yml must be `points:` and `badges:` lists and a few settings"
            report(line_of(root, loc), message)
        loaded.broken.add("file")
        return loaded
    settings = _settings(model, root, report, loaded.broken)
    _commented_channel(text, report)
    points = _point_rules(model.points or [], list_items(root, "points"), report, loaded.broken)
    known = {name for rule in points for name in rule.emoji}
    badges = _badges(model.badges or [], list_items(root, "badges"), known, report, loaded.broken)
    loaded.rules = replace(settings, points=tuple(points), badges=tuple(badges))
    loaded.problems.sort(key=lambda problem: problem.line)
    return loaded


def _settings(
    model: _FileModel, root: yaml.Node | None, report: Any, broken: set[str]
) -> BadgeRules:
    rules = BadgeRules()
    if model.timezone is not None:
        if _is_zone(model.timezone):
            rules = replace(rules, timezone=model.timezone)
        else:
            report(
                line_of(root, ("timezone",)),
                f"`timezone` must be a time zone name like Europe/Berlin or UTC, "
                f"not `{model.timezone}`",
            )
            broken.add("setting:timezone")
    if model.daily_budget is not None:
        budget = model.daily_budget
        if isinstance(budget, int) and not isinstance(budget, bool) and 1 <= budget <= 1000:
            rules = replace(rules, daily_budget=budget)
        else:
            report(
                line_of(root, ("daily_budget",)),
                "`daily_budget` must be a whole number of points from 1 to 1000",
            )
            broken.add("setting:daily_budget")
    if model.shout_out_channel is not None:
        channel = model.shout_out_channel
        if isinstance(channel, str) and CHANNEL_ID.match(channel):
            rules = replace(rules, shout_out_channel=channel)
        else:
            report(
                line_of(root, ("shout_out_channel",)),
                "`shout_out_channel` must be " + CHANNEL_HINT.format(value=channel),
            )
            broken.add("setting:shout_out_channel")
    return rules


def _commented_channel(text: str, report: Any) -> None:
    """`shout_out_channel: #kudos` reads as empty: in YAML, `#` starts a comment."""
    found = re.search(r"^shout_out_channel:[ \t]+#", text, re.MULTILINE)
    if found is not None:
        report(
            text.count("\n", 0, found.start()) + 1,
            "`shout_out_channel` must be a channel ID like C012AB3CD, not a #name (in YAML, "
            "`#` starts a comment); in Slack: open the channel's details, the ID is at the "
            "bottom",
        )


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _point_rules(
    raw_rules: list[Any], nodes: list[yaml.Node], report: Any, broken: set[str]
) -> list[PointRule]:
    rules: list[PointRule] = []
    first_lines: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        node = nodes[index] if index < len(nodes) else None
        names = raw.get("emoji") if isinstance(raw, dict) else None
        first = (
            emoji_name(names[0])
            if isinstance(names, list) and names and isinstance(names[0], str)
            else None
        )
        label = f"points rule :{first}:" if first else None
        label = label or f"points rule {index + 1}"
        problems: list[tuple[Loc, str]] = []
        try:
            model = _PointModel.model_validate(raw)
        except ValidationError as error:
            problems = [_explain_points(detail, label) for detail in error.errors()]
            model = None
        if model is not None:
            emoji = tuple(dict.fromkeys(emoji_name(name) for name in model.emoji))
            for position, name in enumerate(emoji):
                line = line_of(node, ("emoji", position))
                if name in first_lines:
                    problems.append(
                        (
                            ("emoji", position),
                            f"{label}: :{name}: already gives points at line {first_lines[name]}",
                        )
                    )
                first_lines.setdefault(name, line)
            if not problems:
                rules.append(PointRule(emoji, model.points, (model.means or "").strip()))
        for loc, message in dict.fromkeys(problems):
            report(line_of(node, loc), message)
        if problems and first:
            broken.add(f"points:{first}")
    return rules


POINT_PROBLEMS = {
    "emoji": ": `emoji` must be a list of emoji names without colons, like [pray, bulb]",
    "points": ": `points` must be a whole number from 1 to 10",
    "means": ": `means` must be a short text (at most 80 characters)",
}


def _explain_points(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    shape = "`emoji: [...]` and `points: …` lines"
    return _explain(error, label, shape, POINT_FIELDS, POINT_PROBLEMS)


def _explain(
    error: ErrorDetails, label: str, shape: str, known: list[str], problems: dict[str, str]
) -> tuple[Loc, str]:
    """One pydantic error as a sentence: `problems` says, per field, what to fix."""
    loc: Loc = tuple(error["loc"])
    name = str(loc[0]) if loc else ""
    if not loc:
        return loc, f"{label} must be {shape}"
    if error["type"] == "extra_forbidden":
        return loc, f"{label}: unknown field `{name}` (known: {', '.join(known)})"
    return loc, label + problems[name]


def _badges(
    raw_badges: list[Any],
    nodes: list[yaml.Node],
    known_emoji: set[str],
    report: Any,
    broken: set[str],
) -> list[Badge]:
    badges: list[Badge] = []
    first_lines: dict[str, int] = {}
    for index, raw in enumerate(raw_badges):
        node = nodes[index] if index < len(nodes) else None
        badge_id = raw.get("id") if isinstance(raw, dict) else None
        valid_id = isinstance(badge_id, str) and bool(SLUG.match(badge_id))
        label = f"badge `{badge_id}`" if valid_id else f"badge {index + 1}"
        badge, problems = _badge(raw, label, known_emoji)
        if valid_id and isinstance(badge_id, str):
            id_line = line_of(node, ("id",))
            if badge_id in first_lines:
                problems.append(
                    (("id",), f"{label} is already defined at line {first_lines[badge_id]}")
                )
            first_lines.setdefault(badge_id, id_line)
            if problems:
                broken.add(f"badge:{badge_id}")
        for loc, message in dict.fromkeys(problems):
            report(line_of(node, loc), message)
        if badge is not None and not problems:
            badges.append(badge)
    return badges


def _badge(
    raw: Any, label: str, known_emoji: set[str]
) -> tuple[Badge | None, list[tuple[Loc, str]]]:
    try:
        model = _BadgeModel.model_validate(raw)
    except ValidationError as error:
        return None, [_explain_badge(detail, label) for detail in error.errors()]
    try:
        when = _WhenModel.model_validate(model.when)
    except ValidationError as error:
        return None, [_explain_when(detail, label) for detail in error.errors()]
    chosen = [name for name in MEASURES if getattr(when, name) is not None]
    if len(chosen) != 1:
        return None, [
            (
                ("when",),
                f"{label}: `when` needs exactly one of {', '.join(MEASURES)}, like `when: "
                "{points: 25}`",
            )
        ]
    measure = chosen[0]
    of_emoji = emoji_name(when.emoji) if when.emoji else None
    if of_emoji and measure != "points":
        return None, [(("when", "emoji"), f"{label}: `emoji` only goes with `points`")]
    if of_emoji and of_emoji not in known_emoji:
        return None, [
            (
                ("when", "emoji"),
                f"{label}: :{of_emoji}: gives no points in `points:`; name an emoji from there",
            )
        ]
    badge = Badge(
        id=model.id,
        name=model.name,
        emoji=emoji_name(model.emoji),
        description=model.description,
        measure=measure,
        threshold=int(getattr(when, measure)),
        of_emoji=of_emoji,
    )
    return badge, []


BADGE_PROBLEMS = {
    "id": " needs an `id` of lowercase letters, digits and hyphens, like helper",
    "name": " needs a `name` of at most 60 characters",
    "emoji": " needs an `emoji`: a name without colons, like star",
    "description": f" needs a `description` of at most {DESCRIPTION_LIMIT} characters",
    "when": " needs `when:` with one measure, like `when: {points: 25}`",
}


def _explain_badge(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    shape = "`id`, `name`, `emoji`, `description` and `when` lines"
    return _explain(error, label, shape, BADGE_FIELDS, BADGE_PROBLEMS)


def _explain_when(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    loc: Loc = ("when", *error["loc"])
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        return (
            loc,
            f"{label}: `when` has an unknown measure `{name}` (known: {', '.join(WHEN_FIELDS)})",
        )
    if name == "emoji":
        return loc, f"{label}: `when` `emoji` must be an emoji name without colons, like bulb"
    return loc, f"{label}: `when` `{name}` must be a whole number of at least 1"


# --- stored form (the database keeps the last good rules as JSON) ----------------------------


def rules_spec(rules: BadgeRules) -> dict[str, Any]:
    return asdict(rules)


def rules_from_spec(spec: dict[str, Any]) -> BadgeRules:
    return BadgeRules(
        timezone=spec.get("timezone") or DEFAULT_TIMEZONE,
        daily_budget=int(spec.get("daily_budget") or DEFAULT_BUDGET),
        shout_out_channel=spec.get("shout_out_channel"),
        points=tuple(
            PointRule(tuple(rule["emoji"]), int(rule["points"]), rule.get("means", ""))
            for rule in spec.get("points", [])
        ),
        badges=tuple(Badge(**badge) for badge in spec.get("badges", [])),
    )


def merge_last_good(fresh: BadgeRules, stored: BadgeRules | None, broken: set[str]) -> BadgeRules:
    """The rules to serve: the file's, where each broken item is its last good (stored)
    version when there is one (in its old place), else left out."""
    if stored is None or not broken:
        return fresh
    merged = fresh
    for name in ("timezone", "daily_budget", "shout_out_channel"):
        if f"setting:{name}" in broken:
            merged = replace(merged, **{name: getattr(stored, name)})
    points = list(merged.points)
    for position, rule in enumerate(stored.points):
        if f"points:{rule.key}" in broken and not merged.rule_for(rule.key):
            points.insert(min(position, len(points)), rule)
    badges = list(merged.badges)
    for position, badge in enumerate(stored.badges):
        if f"badge:{badge.id}" in broken and merged.badge(badge.id) is None:
            badges.insert(min(position, len(badges)), badge)
    return replace(merged, points=tuple(points), badges=tuple(badges))
