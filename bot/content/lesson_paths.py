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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from bot.content.limits import KEY_LENGTH, MENU_LIMIT, SLUG, TITLE_LIMIT, URL_LIMIT, USER_ID
from bot.content.problems import Loc, Problem, line_of, list_items, nth, yaml_problem

LESSONS_DIR = "lessons"
#: Slack's limit for a button's text.
OPTION_LIMIT = 75
#: Long enough for a rich micro-lesson, short enough to stay one Slack section.
BODY_LIMIT = 2500
QUESTION_LIMIT = 300
EXPLANATION_LIMIT = 1000


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

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def number_of(self, lesson_id: str) -> int:
        """The lesson's place in the path, counted from 1 (0 when it is no longer there)."""
        ids = [lesson.id for lesson in self.lessons]
        return ids.index(lesson_id) + 1 if lesson_id in ids else 0

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


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


class _PathModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Slug | None = None
    title: Annotated[Text, StringConstraints(max_length=TITLE_LIMIT)]
    description: str | None = None
    audience: list[Annotated[Text, StringConstraints(max_length=40)]] | None = None
    lessons: Annotated[list[Any], Field(min_length=1)]
    owners: list[UserId] | None = None
    assign_on_join: bool | None = None


PATH_FIELDS = sorted(_PathModel.model_fields)
LESSON_FIELDS = sorted([*_LessonModel.model_fields, "quiz"])
QUIZ_FIELDS = sorted(_QuizModel.model_fields)


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
        root = yaml.compose(text)
        data = yaml.safe_load(text)
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
    loaded.paths.append(
        LearningPath(
            id=path_id,
            title=model.title,
            description=" ".join((model.description or "").split()),
            audience=tuple(dict.fromkeys(tag.lower() for tag in model.audience or ())),
            lessons=tuple(lessons),
            owners=tuple(dict.fromkeys(model.owners or ())),
            assign_on_join=bool(model.assign_on_join),
        )
    )


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
    lesson = Lesson(
        id=model.id,
        title=model.title,
        minutes=model.minutes,
        body=model.body.strip(),
        link=model.link,
        quiz=quiz,
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
    )
