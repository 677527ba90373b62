"""Learning paths as data: `content/lessons/<path>.yml`, each problem with its file and line.

    loaded = load_paths(Path("content"))
    loaded.paths          # the paths as they should serve (broken lessons left out or quiz-less)
    loaded.problems       # content/lessons/security.yml:42: lesson `phishing`: quiz `answer` …
    loaded.broken_paths   # path ids whose file is unusable: keep serving the last good version
    loaded.broken_lessons # {path id: {lesson id}}: keep serving those lessons' last good version

A path is an ordered list of micro-lessons. Each lesson is validated on its own, and its quiz
apart from the rest of it, so one typo never takes down more than it must: a lesson with a
broken quiz still goes out (without the quiz, unless a good version of it was stored before),
and the path's other lessons are untouched.

Three fields make a path adapt to the person (content/README.md explains them to authors):

- a lesson's `day:` (`3`, `day 3`, `week 2`) holds it back until that day of a journey,
  counted from the person's start (`LessonSubscription.anchor_day`);
- a lesson's `remedial:` names another lesson of the path, sent next only when this lesson's
  quiz is missed. A lesson named as a remedial is off the *main line*: it never comes
  otherwise, and it neither counts towards completion nor has a number in the path;
- a path's `placement:` opens it with a short check made of its own quiz items
  (`placement_items`): what the person answers right, they skip.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from bot.content.limits import KEY_LENGTH, MENU_LIMIT, SLUG, TITLE_LIMIT, URL_LIMIT, USER_ID
from bot.content.problems import Loc, Problem, line_of, list_items, nth, yaml_problem
from bot.content.yaml_text import parse_yaml

LESSONS_DIR = "lessons"
#: Slack's limit for a button's text.
OPTION_LIMIT = 75
#: Long enough for a rich micro-lesson, short enough to stay one Slack section.
BODY_LIMIT = 2500
QUESTION_LIMIT = 300
EXPLANATION_LIMIT = 1000
#: Items in a placement check given as `placement: true`; `placement: n` asks for n, up to
#: PLACEMENT_LIMIT (two blocks each: the message stays far below Slack's 50).
PLACEMENT_ITEMS = 5
PLACEMENT_LIMIT = 10
#: The furthest day a journey's lesson may wait for (a year from the person's start).
DAY_LIMIT = 366
#: `day 3`, `Day 3`, `week 2` (week n starts on day 7·(n−1)+1).
DAY_WORDS = re.compile(r"^(?P<unit>day|week)\s+(?P<n>\d{1,3})$", re.IGNORECASE)


@dataclass(frozen=True)
class Quiz:
    question: str
    options: tuple[str, ...]
    #: Index into `options` of the right one (files count from 1; this counts from 0).
    answer: int
    explanation: str = ""

    @property
    def right_option(self) -> str:
        return self.options[self.answer]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    minutes: int
    body: str
    link: str | None = None
    quiz: Quiz | None = None
    #: The day of a journey it waits for, counted from 1 (the person's start); None: it
    #: follows the lesson before it.
    day: int | None = None
    #: The lesson of the same path sent next when this one's quiz is missed.
    remedial: str | None = None


@dataclass(frozen=True)
class LearningPath:
    id: str
    title: str
    description: str = ""
    audience: tuple[str, ...] = ()
    lessons: tuple[Lesson, ...] = ()
    #: Slack user IDs of the people who may assign this path (besides community managers).
    owners: tuple[str, ...] = ()
    #: An onboarding journey: everyone who joins the workspace is enrolled, from their first
    #: working day.
    assign_on_join: bool = False
    #: How many quiz items its placement check asks (0: the path has none).
    placement: int = 0

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._by_id.get(lesson_id)

    @cached_property
    def _by_id(self) -> dict[str, Lesson]:
        return {lesson.id: lesson for lesson in self.lessons}

    @cached_property
    def remedial_ids(self) -> frozenset[str]:
        """Lessons some lesson of the path names as its remedial (and that exist)."""
        return frozenset(
            lesson.remedial
            for lesson in self.lessons
            if lesson.remedial and lesson.remedial != lesson.id and lesson.remedial in self._by_id
        )

    @cached_property
    def main_line(self) -> tuple[Lesson, ...]:
        """The lessons everyone goes through, in order: all but the remedial ones."""
        return tuple(lesson for lesson in self.lessons if lesson.id not in self.remedial_ids)

    @cached_property
    def _days(self) -> dict[str, int]:
        days, current = {}, 1
        for lesson in self.main_line:
            current = max(current, lesson.day or current)
            days[lesson.id] = current
        return days

    def day_of(self, lesson_id: str) -> int:
        """The journey day a main-line lesson waits for: its own `day`, else that of the
        nearest lesson before it that has one (1 when none does)."""
        return self._days.get(lesson_id, 1)

    def remedial_for(self, lesson_id: str) -> Lesson | None:
        """The first lesson that names `lesson_id` as its remedial."""
        return next((lesson for lesson in self.lessons if lesson.remedial == lesson_id), None)

    def number_of(self, lesson_id: str) -> int:
        """The lesson's place on the main line, counted from 1 (0 for a remedial lesson, or
        one no longer there)."""
        ids = [lesson.id for lesson in self.main_line]
        return ids.index(lesson_id) + 1 if lesson_id in ids else 0

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.main_line)

    def placement_items(self, skip: set[tuple[str, str]]) -> tuple[Lesson, ...]:
        """The lessons whose quizzes make up the placement check: main-line lessons with a
        quiz, but those in `skip` ((path, lesson) pairs the person has met already), spread
        evenly along the path when there are more than `placement`."""
        candidates = [
            lesson
            for lesson in self.main_line
            if lesson.quiz is not None and (self.id, lesson.id) not in skip
        ]
        wanted = min(self.placement, len(candidates))
        if wanted == len(candidates):
            return tuple(candidates)
        step = len(candidates) / wanted
        return tuple(candidates[int(step * (index + 0.5))] for index in range(wanted))


@dataclass
class PathsLoad:
    paths: list[LearningPath] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    broken_paths: set[str] = field(default_factory=set)
    broken_lessons: dict[str, set[str]] = field(default_factory=dict)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=SLUG.pattern, max_length=KEY_LENGTH)]
UserId = Annotated[str, StringConstraints(pattern=USER_ID.pattern, max_length=32)]


class _QuizModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: Annotated[Text, StringConstraints(max_length=QUESTION_LIMIT)]
    options: Annotated[
        list[Annotated[Text, StringConstraints(max_length=OPTION_LIMIT)]],
        Field(min_length=2, max_length=5),
    ]
    answer: int
    explanation: Annotated[str, StringConstraints(max_length=EXPLANATION_LIMIT)] | None = None

    def to_quiz(self) -> Quiz:
        return Quiz(
            question=self.question,
            options=tuple(self.options),
            answer=self.answer - 1,
            explanation=(self.explanation or "").strip(),
        )


class _LessonModel(BaseModel):
    """One lesson as written, without its quiz (validated on its own, see the module doc)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Slug
    title: Annotated[Text, StringConstraints(max_length=TITLE_LIMIT)]
    minutes: Annotated[int, Field(ge=1, le=5)]
    body: Annotated[Text, StringConstraints(max_length=BODY_LIMIT)]
    link: (
        Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=URL_LIMIT)] | None
    ) = None
    #: Read by `read_day` (a number, or words like `week 2`).
    day: int | str | None = None
    remedial: Slug | None = None


class _PathModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Slug | None = None
    title: Annotated[Text, StringConstraints(max_length=TITLE_LIMIT)]
    description: str | None = None
    audience: list[Annotated[Text, StringConstraints(max_length=40)]] | None = None
    #: true (PLACEMENT_ITEMS items), false, or how many items.
    placement: bool | Annotated[int, Field(ge=1, le=PLACEMENT_LIMIT)] | None = None
    lessons: Annotated[list[Any], Field(min_length=1)]
    owners: list[UserId] | None = None
    assign_on_join: bool | None = None


PATH_FIELDS = sorted(_PathModel.model_fields)
LESSON_FIELDS = sorted([*_LessonModel.model_fields, "quiz"])
QUIZ_FIELDS = sorted(_QuizModel.model_fields)
DAY_HELP = "a day of the journey, like `day: 3`, `day: day 3` or `day: week 2`"


def read_day(value: int | str) -> int | None:
    """A lesson's `day:` as a day number from 1: `3`, `day 3`, `week 2` (day 8: week n starts
    on day 7·(n−1)+1); None when it is none of those, or past DAY_LIMIT."""
    if isinstance(value, int):
        day = value
    else:
        found = DAY_WORDS.match(value.strip())
        if found is None:
            return None
        number = int(found["n"])
        if number < 1:
            return None
        day = number if found["unit"].lower() == "day" else 7 * (number - 1) + 1
    return day if 1 <= day <= DAY_LIMIT else None


def lesson_files(folder: Path) -> list[Path]:
    directory = folder / LESSONS_DIR
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def load_paths(folder: Path) -> PathsLoad:
    """Every learning path under `folder/lessons/`, and every problem with its line."""
    loaded = PathsLoad()
    files = lesson_files(folder)
    for path in files:
        _load_file(path, loaded)
    if len(files) > MENU_LIMIT:
        loaded.problems.append(
            Problem(
                files[MENU_LIMIT],
                1,
                f"{len(files)} learning paths: Slack's menus offer at most {MENU_LIMIT}, so this "
                "path and those after it could never be chosen in the schedule form",
            )
        )
    loaded.problems.sort(key=lambda problem: (str(problem.file), problem.line))
    return loaded


def _load_file(path: Path, loaded: PathsLoad) -> None:
    path_id = path.stem

    def report(line: int, message: str) -> None:
        loaded.problems.append(Problem(path, line, message))

    if not SLUG.match(path_id):
        report(1, "name the file with lowercase letters, digits and hyphens, like security.yml")
        return
    if len(path_id) > KEY_LENGTH:
        report(
            1,
            f"the file name (the path's id) is {len(path_id)} characters; keep it to at most "
            f"{KEY_LENGTH}",
        )
        loaded.broken_paths.add(path_id)
        return
    try:
        text = path.read_text(encoding="utf-8")
        parsed = parse_yaml(text)
        root, data = parsed.root, parsed.data
    except UnicodeDecodeError:
        report(1, "not UTF-8 text")
        loaded.broken_paths.add(path_id)
        return
    except yaml.YAMLError as error:
        loaded.problems.append(yaml_problem(path, error))
        loaded.broken_paths.add(path_id)
        return
    try:
        model = _PathModel.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            loc, message = _explain_path(detail)
            report(line_of(root, loc), message)
        loaded.broken_paths.add(path_id)
        return
    if model.id is not None and model.id != path_id:
        report(
            line_of(root, ("id",)),
            f"`id` is `{model.id}` but the file is {path.name}; make them the same (id: {path_id})",
        )
        loaded.broken_paths.add(path_id)
        return
    lessons: list[Lesson] = []
    nodes: dict[str, yaml.Node] = {}
    first_lines: dict[str, int] = {}
    for index, (raw, node) in enumerate(
        zip(model.lessons, list_items(root, "lessons"), strict=False)
    ):
        lesson, problems = _load_lesson(raw, node, index)
        lesson_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(lesson_id, str) and lesson_id in first_lines:
            problems.append(
                (
                    line_of(node, ("id",)),
                    f"lesson `{lesson_id}` is already defined at line {first_lines[lesson_id]}",
                )
            )
            lesson = None
        if isinstance(lesson_id, str):
            first_lines.setdefault(lesson_id, line_of(node, ("id",)))
        for line, message in problems:
            report(line, message)
        if problems and isinstance(lesson_id, str):
            loaded.broken_lessons.setdefault(path_id, set()).add(lesson_id)
        if lesson is not None:
            lessons.append(lesson)
            nodes[lesson.id] = node
    broken = loaded.broken_lessons.setdefault(path_id, set())
    lessons = _check_remedials(lessons, nodes, report, broken)
    lessons = _check_days(lessons, nodes, report, broken)
    if not broken:
        del loaded.broken_lessons[path_id]
    placement = _check_placement(model.placement, lessons, root, report)
    loaded.paths.append(
        LearningPath(
            id=path_id,
            title=model.title,
            description=" ".join((model.description or "").split()),
            audience=tuple(dict.fromkeys(tag.lower() for tag in model.audience or ())),
            lessons=tuple(lessons),
            owners=tuple(dict.fromkeys(model.owners or ())),
            assign_on_join=bool(model.assign_on_join),
            placement=placement,
        )
    )


Report = Callable[[int, str], None]


def _check_remedials(
    lessons: list[Lesson], nodes: dict[str, yaml.Node], report: Report, broken: set[str]
) -> list[Lesson]:
    """Each `remedial:` names another lesson of the path, is named by a lesson with a quiz
    (it comes when that quiz is missed), and no chain of remedials goes round in a loop. A
    bad one is reported and dropped (the lesson keeps its last good version if it had one)."""
    ids = {lesson.id for lesson in lessons}
    kept: dict[str, Lesson] = {}
    for lesson in lessons:
        problem = None
        if lesson.remedial is None:
            pass
        elif lesson.remedial == lesson.id:
            problem = " names itself as its `remedial`; name another lesson of this path"
        elif lesson.remedial not in ids:
            problem = f": `remedial: {lesson.remedial}` names no lesson of this path"
        elif lesson.quiz is None:
            problem = (
                " has a `remedial` but no quiz: a remedial lesson comes when the quiz is "
                "missed, so give this lesson a quiz (or drop `remedial`)"
            )
        if problem is not None:
            report(line_of(nodes[lesson.id], ("remedial",)), f"lesson `{lesson.id}`{problem}")
            broken.add(lesson.id)
            lesson = replace(lesson, remedial=None)
        kept[lesson.id] = lesson
    for lesson_id, lesson in list(kept.items()):
        chain, current = [lesson_id], lesson.remedial
        while current is not None and current not in chain:
            chain.append(current)
            current = kept[current].remedial
        if current == lesson_id:
            loop = " → ".join(f"`{each}`" for each in [*chain, lesson_id])
            report(
                line_of(nodes[lesson_id], ("remedial",)),
                f"lesson `{lesson_id}`: its remedials go round in a loop ({loop}); a remedial "
                "chain must end",
            )
            broken.add(lesson_id)
            kept[lesson_id] = replace(lesson, remedial=None)
    return [kept[lesson.id] for lesson in lessons]


def _check_days(
    lessons: list[Lesson], nodes: dict[str, yaml.Node], report: Report, broken: set[str]
) -> list[Lesson]:
    """Days never go backwards along the main line, and a remedial lesson has none (it comes
    right after the quiz it helps with). A bad `day:` is reported and dropped."""
    path = LearningPath(id="", title="", lessons=tuple(lessons))
    checked: list[Lesson] = []
    latest, latest_id = 1, ""
    for lesson in lessons:
        problem = None
        if lesson.day is None:
            pass
        elif lesson.id in path.remedial_ids:
            named_by = path.remedial_for(lesson.id)
            problem = (
                f"is the remedial of `{named_by.id if named_by else '?'}`: it comes right "
                "after that quiz is missed, so it takes no `day`"
            )
        elif lesson.day < latest:
            problem = (
                f"comes on day {lesson.day}, before day {latest} of lesson `{latest_id}` above "
                "it: days must not go backwards along the path"
            )
        else:
            latest, latest_id = lesson.day, lesson.id
        if problem is not None:
            report(line_of(nodes[lesson.id], ("day",)), f"lesson `{lesson.id}` {problem}")
            broken.add(lesson.id)
            lesson = replace(lesson, day=None)
        checked.append(lesson)
    return checked


def _check_placement(
    asked: bool | int | None, lessons: list[Lesson], root: yaml.Node | None, report: Report
) -> int:
    """How many items the placement check asks: `true` is PLACEMENT_ITEMS; a path with no
    main-line quiz to ask from has none (reported)."""
    wanted = PLACEMENT_ITEMS if asked is True else 0 if asked in (None, False) else int(asked)
    path = LearningPath(id="", title="", lessons=tuple(lessons), placement=wanted)
    if wanted and not any(lesson.quiz is not None for lesson in path.main_line):
        report(
            line_of(root, ("placement",)),
            "`placement` asks the path's own quiz items, but none of its lessons (but "
            "remedial ones) has a quiz: add quizzes or drop `placement`",
        )
        return 0
    return wanted


def _load_lesson(
    raw: Any, node: yaml.Node, index: int
) -> tuple[Lesson | None, list[tuple[int, str]]]:
    """The lesson (None when unusable; without its quiz when only the quiz is broken) and
    its problems as (line, message)."""
    label = f"lesson {index + 1}"
    if not isinstance(raw, dict):
        return None, [
            (
                line_of(node, ()),
                f"{label} must be `id: …`, `title: …`, `minutes: …` and `body: …` lines",
            )
        ]
    if isinstance(raw.get("id"), str) and SLUG.match(raw["id"]):
        label = f"lesson `{raw['id']}`"
    problems: list[tuple[int, str]] = []
    try:
        model = _LessonModel.model_validate({k: v for k, v in raw.items() if k != "quiz"})
    except ValidationError as error:
        for detail in error.errors():
            loc, message = _explain_lesson(detail, label)
            problems.append((line_of(node, loc), message))
        return None, problems
    quiz = None
    if raw.get("quiz") is not None:
        quiz, quiz_problems = _load_quiz(raw["quiz"], label)
        problems += [(line_of(node, ("quiz", *loc)), message) for loc, message in quiz_problems]
    day = read_day(model.day) if model.day is not None else None
    if model.day is not None and day is None:
        problems.append(
            (
                line_of(node, ("day",)),
                f"{label}: `day: {model.day}` is not {DAY_HELP} (from day 1 to {DAY_LIMIT})",
            )
        )
    lesson = Lesson(
        id=model.id,
        title=model.title,
        minutes=model.minutes,
        body=model.body.strip(),
        link=model.link,
        quiz=quiz,
        day=day,
        remedial=model.remedial,
    )
    return lesson, problems


def _load_quiz(raw: Any, label: str) -> tuple[Quiz | None, list[tuple[Loc, str]]]:
    try:
        model = _QuizModel.model_validate(raw)
    except ValidationError as error:
        return None, [_explain_quiz(detail, label) for detail in error.errors()]
    if not 1 <= model.answer <= len(model.options):
        return None, [
            (
                ("answer",),
                f"{label}: quiz `answer` is {model.answer}, but there are "
                f"{len(model.options)} options; give the number of the right one "
                f"(1 to {len(model.options)})",
            )
        ]
    if len(set(model.options)) != len(model.options):
        return None, [(("options",), f"{label}: quiz options must all be different")]
    return model.to_quiz(), []


def _explain_path(error: ErrorDetails) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if not loc:
        return loc, "a path must be `title: …` and `lessons:` lines (see content/README.md)"
    name = str(loc[0])
    if kind == "extra_forbidden":
        return loc, f"unknown field `{name}` (known: {', '.join(PATH_FIELDS)})"
    if name == "id":
        return loc, "`id` must be lowercase letters, digits and hyphens, like security-basics"
    if name == "title":
        return loc, f"the path needs a `title`, a text of at most {TITLE_LIMIT} characters"
    if name == "description":
        return loc, "`description` must be text"
    if name == "audience":
        return loc, "`audience` must be a list of short tags like [everyone, engineering]"
    if name == "owners":
        return loc, (
            "`owners` must be a list of Slack user IDs like [U012ABCDEF]: the people who may "
            "assign this path"
        )
    if name == "assign_on_join":
        return loc, (
            "`assign_on_join` must be true or false (true: everyone who joins the workspace "
            "gets this path)"
        )
    if name == "placement":
        return loc, (
            "`placement` must be true, false, or how many quiz items the check asks "
            f"(1 to {PLACEMENT_LIMIT})"
        )
    return loc, "the path needs `lessons:`, a list of at least one lesson"


def _explain_lesson(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    name = str(loc[0]) if loc else ""
    if kind == "extra_forbidden":
        return loc, f"{label}: unknown field `{name}` (known: {', '.join(LESSON_FIELDS)})"
    if name == "id":
        return (
            loc,
            f"{label} needs an `id` of lowercase letters, digits and hyphens, like use-threads",
        )
    if name == "title":
        return loc, f"{label} needs a `title`, a text of at most {TITLE_LIMIT} characters"
    if name == "minutes":
        return loc, f"{label}: `minutes` must be a whole number from 1 to 5"
    if name == "body":
        return loc, f"{label} needs a `body`: Markdown text of at most {BODY_LIMIT:,} characters"
    if name == "day":
        return loc, f"{label}: `day` must be {DAY_HELP}"
    if name == "remedial":
        return loc, f"{label}: `remedial` must be the `id` of another lesson of this path"
    if kind == "string_too_long":
        return loc, (
            f"{label}: `link` is longer than {URL_LIMIT:,} characters, more than Slack takes "
            "for a button's link"
        )
    return loc, f"{label}: `link` must be a web address starting with https://"


def _explain_quiz(error: ErrorDetails, label: str) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    name = str(loc[0]) if loc else ""
    quiz = f"{label}: quiz"
    if not loc:
        return loc, f"{quiz} must be `question: …`, `options:`, `answer: …` lines"
    if kind == "extra_forbidden":
        return loc, f"{quiz} has an unknown field `{name}` (known: {', '.join(QUIZ_FIELDS)})"
    if name == "question":
        return loc, f"{quiz} needs a `question` of at most {QUESTION_LIMIT} characters"
    if name == "options":
        if len(loc) > 1:
            return loc, (
                f"{quiz} option {nth(loc[1])} must be a text of 1 to {OPTION_LIMIT} characters "
                "(it becomes a button)"
            )
        return loc, f"{quiz} needs `options`: a list of 2 to 5 answers"
    if name == "answer":
        return loc, f"{quiz} needs `answer`: the number of the right option, counted from 1"
    return loc, f"{quiz}: `explanation` must be text of at most {EXPLANATION_LIMIT:,} characters"


# --- stored form (the database keeps each path's last good version as JSON) -----------------


def path_spec(path: LearningPath) -> dict[str, Any]:
    return asdict(path)


def path_from_spec(spec: dict[str, Any]) -> LearningPath:
    lessons = []
    for raw in spec.get("lessons", []):
        quiz = raw.get("quiz")
        lessons.append(
            Lesson(
                id=raw["id"],
                title=raw["title"],
                minutes=raw["minutes"],
                body=raw["body"],
                link=raw.get("link"),
                quiz=Quiz(
                    question=quiz["question"],
                    options=tuple(quiz["options"]),
                    answer=quiz["answer"],
                    explanation=quiz.get("explanation", ""),
                )
                if quiz
                else None,
                day=raw.get("day"),
                remedial=raw.get("remedial"),
            )
        )
    return LearningPath(
        id=spec["id"],
        title=spec["title"],
        description=spec.get("description", ""),
        audience=tuple(spec.get("audience", ())),
        lessons=tuple(lessons),
        owners=tuple(spec.get("owners", ())),
        assign_on_join=bool(spec.get("assign_on_join", False)),
        placement=spec.get("placement", 0),
    )


def merge_last_good(
    fresh: LearningPath, stored: LearningPath | None, broken: set[str]
) -> LearningPath:
    """The path to serve: the file's lessons in the file's order, where each broken lesson is
    its last good (stored) version when there is one, else what survived of it (the lesson
    without its quiz), else left out."""
    if stored is None or not broken:
        return fresh
    lessons = []
    fresh_ids = {lesson.id for lesson in fresh.lessons}
    for lesson in fresh.lessons:
        if lesson.id in broken and stored.lesson(lesson.id) is not None:
            lessons.append(stored.lesson(lesson.id) or lesson)
        else:
            lessons.append(lesson)
    # A lesson so broken it did not load at all still serves its stored version, in its place.
    for position, lesson in enumerate(stored.lessons):
        if lesson.id in broken and lesson.id not in fresh_ids:
            lessons.insert(min(position, len(lessons)), lesson)
    return LearningPath(
        id=fresh.id,
        title=fresh.title,
        description=fresh.description,
        audience=fresh.audience,
        lessons=tuple(lessons),
        owners=fresh.owners,
        assign_on_join=fresh.assign_on_join,
        placement=fresh.placement,
    )
