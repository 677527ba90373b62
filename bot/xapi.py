"""Eddy's learning events as xAPI 1.0.3 statements (the Experience API), for learning teams
who measure outside any LMS: who did what, when, with what result.

Nothing is recorded twice for this: every statement is made from the rows the capabilities
already keep (questions, routed questions, drafts, lessons, quizzes, badges, points), so an
export can cover any stretch of the past and the LRS forwarder (bot/lrs.py) can re-read a
window without harm. A statement's id is a UUID derived from the row it comes from, so the
same event is the same statement in every export, on every instance, after every retry.

What each statement says:

| event                         | verb (IRI)                          | object            |
|-------------------------------|-------------------------------------|-------------------|
| asked a question              | adlnet asked                        | the question      |
| answered a routed question    | adlnet answered                     | the question      |
| resolved (the asker)          | activitystrea.ms resolve            | the question      |
| contributed a knowledge entry | activitystrea.ms author             | the entry         |
| experienced a lesson          | adlnet experienced                  | the lesson        |
| answered a quiz item          | adlnet answered (`result.success`)  | the quiz item     |
| completed a path              | adlnet completed                    | the path          |
| earned a badge                | tincanapi earned                    | the badge         |
| gave recognition (reaction)   | activitystrea.ms give               | the Slack message |

A reaction taken back voids the recognition it gave (adlnet voided, with a StatementRef).
Actors are Slack accounts: `account.homePage` is the workspace's URL and `account.name` the
user ID. Activity IRIs live under `<workspace URL>eddy/`; messages are their Slack permalinks.
Registrations group a question's life (asked, answered, resolved) and a person's way through a
path (lessons, quiz items, completion). People forgotten with `app.py forget user` are in no
statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid5

from bot.lesson_paths import LearningPath, Lesson, path_from_spec
from bot.people import is_former_member
from store import Store
from store import xapi as rows
from store.knowledge import QuestionLog
from store.networks import RoutedQuestion

Statement = dict[str, Any]

VERSION = "1.0.3"
PLATFORM = "Eddy"
LANGUAGE = "en-US"
#: The namespace of every statement and registration UUID (any constant works; it must never
#: change, or the same event would get a new id).
NAMESPACE: UUID = uuid5(NAMESPACE_URL, "eddy:xapi")
#: Eddy's own account name, as the actor of statements about statements (voiding).
EDDY_ACCOUNT = "eddy"


@dataclass(frozen=True)
class Verb:
    iri: str
    display: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.iri, "display": {LANGUAGE: self.display}}


ASKED = Verb("http://adlnet.gov/expapi/verbs/asked", "asked")
ANSWERED = Verb("http://adlnet.gov/expapi/verbs/answered", "answered")
RESOLVED = Verb("http://activitystrea.ms/schema/1.0/resolve", "resolved")
AUTHORED = Verb("http://activitystrea.ms/schema/1.0/author", "authored")
EXPERIENCED = Verb("http://adlnet.gov/expapi/verbs/experienced", "experienced")
COMPLETED = Verb("http://adlnet.gov/expapi/verbs/completed", "completed")
EARNED = Verb("http://id.tincanapi.com/verb/earned", "earned")
GAVE = Verb("http://activitystrea.ms/schema/1.0/give", "gave")
VOIDED = Verb("http://adlnet.gov/expapi/verbs/voided", "voided")

QUESTION_TYPE = "http://adlnet.gov/expapi/activities/question"
ENTRY_TYPE = "http://activitystrea.ms/schema/1.0/article"
LESSON_TYPE = "http://adlnet.gov/expapi/activities/lesson"
QUIZ_ITEM_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"
PATH_TYPE = "http://adlnet.gov/expapi/activities/course"
TOPIC_TYPE = "http://id.tincanapi.com/activitytype/category"
BADGE_TYPE = "http://activitystrea.ms/schema/1.0/badge"
MESSAGE_TYPE = "https://w3id.org/xapi/acrossx/activities/message"

#: Longest activity name: a question's wording can be long, a name is for lists.
NAME_LIMIT = 200


@dataclass(frozen=True)
class Source:
    """One workspace's events and what names them."""

    team_id: str
    workspace_url: str
    names: rows.Names

    @cached_property
    def paths(self) -> dict[str, LearningPath]:
        """The learning paths, read from their specs once."""
        return {key: path_from_spec(spec) for key, spec in self.names.paths.items()}

    @property
    def base(self) -> str:
        return f"{self.workspace_url}eddy/"

    def extension(self, name: str) -> str:
        return f"{self.base}extensions/{name}"


def timestamp(at: datetime) -> str:
    """UTC with its offset, to the millisecond: `2026-11-22T09:30:00.000+00:00`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def stable_id(source: Source, *parts: object) -> str:
    """The same UUID for the same event, every time."""
    return str(uuid5(NAMESPACE, "/".join([source.team_id, *map(str, parts)])))


def agent(source: Source, user_id: str) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": source.workspace_url, "name": user_id},
    }


def eddy_agent(source: Source) -> dict[str, Any]:
    """Eddy itself, as the actor of statements about statements (voiding)."""
    return {
        "objectType": "Agent",
        "name": PLATFORM,
        "account": {"homePage": source.workspace_url, "name": EDDY_ACCOUNT},
    }


def _shorten(text: str) -> str:
    text = " ".join(text.split()) or "(empty)"
    return text if len(text) <= NAME_LIMIT else text[: NAME_LIMIT - 1] + "…"


def activity(
    iri: str, name: str, kind: str, *, description: str = "", **definition: Any
) -> dict[str, Any]:
    described = {"name": {LANGUAGE: _shorten(name)}, "type": kind, **definition}
    if description.strip():
        described["description"] = {LANGUAGE: description.strip()}
    return {"objectType": "Activity", "id": iri, "definition": described}


# --- activities -----------------------------------------------------------------------------


def question_activity(
    source: Source, text: str, *, log_id: int | None, routed_id: int | None = None
) -> dict[str, Any]:
    """A question, named by its first logging (routed questions from before questions were
    logged by their routing)."""
    path = f"questions/{log_id}" if log_id is not None else f"routed-questions/{routed_id}"
    return activity(f"{source.base}{path}", text, QUESTION_TYPE)


def entry_activity(source: Source, slug: str) -> dict[str, Any]:
    title = source.names.entries.get(slug, slug)
    return activity(f"{source.base}entries/{quote(slug, safe='')}", title, ENTRY_TYPE)


def topic_activity(source: Source, topic: str) -> dict[str, Any]:
    name = str(source.names.topics.get(topic, {}).get("name") or topic)
    return activity(f"{source.base}topics/{quote(topic, safe='')}", name, TOPIC_TYPE)


def _path(source: Source, key: str) -> LearningPath | None:
    return source.paths.get(key)


def path_activity(source: Source, key: str) -> dict[str, Any]:
    path = _path(source, key)
    return activity(
        f"{source.base}paths/{quote(key, safe='')}",
        path.title if path else key,
        PATH_TYPE,
        description=path.description if path else "",
    )


def _lesson(source: Source, path: str, lesson_id: str) -> Lesson | None:
    found = _path(source, path)
    return found.lesson(lesson_id) if found else None


def lesson_iri(source: Source, path: str, lesson_id: str) -> str:
    return f"{source.base}paths/{quote(path, safe='')}/lessons/{quote(lesson_id, safe='')}"


def lesson_activity(source: Source, path: str, lesson_id: str) -> dict[str, Any]:
    lesson = _lesson(source, path, lesson_id)
    return activity(
        lesson_iri(source, path, lesson_id), lesson.title if lesson else lesson_id, LESSON_TYPE
    )


def quiz_activity(source: Source, path: str, lesson_id: str) -> dict[str, Any]:
    """A quiz item as a multiple-choice interaction; choice ids count from 1, as in the
    content files."""
    lesson = _lesson(source, path, lesson_id)
    iri = f"{lesson_iri(source, path, lesson_id)}/quiz"
    if lesson is None or lesson.quiz is None:
        return activity(iri, f"Quiz: {lesson_id}", QUIZ_ITEM_TYPE, interactionType="choice")
    quiz = lesson.quiz
    return activity(
        iri,
        quiz.question,
        QUIZ_ITEM_TYPE,
        interactionType="choice",
        correctResponsesPattern=[str(quiz.answer + 1)],
        choices=[
            {"id": str(number), "description": {LANGUAGE: _shorten(option)}}
            for number, option in enumerate(quiz.options, start=1)
        ],
    )


def badge_activity(source: Source, badge: str, name: str, reason: str) -> dict[str, Any]:
    return activity(
        f"{source.base}badges/{quote(badge, safe='')}", name, BADGE_TYPE, description=reason
    )


def message_activity(source: Source, channel: str, ts: str) -> dict[str, Any]:
    """A Slack message, named by its permalink."""
    iri = f"{source.workspace_url}archives/{channel}/p{ts.replace('.', '')}"
    return activity(iri, f"Slack message {channel} {ts}", MESSAGE_TYPE)


# --- statements -----------------------------------------------------------------------------


def statement(
    source: Source,
    *,
    key: tuple[object, ...],
    user_id: str,
    verb: Verb,
    target: dict[str, Any],
    at: datetime,
    result: dict[str, Any] | None = None,
    registration: str | None = None,
    parent: list[dict[str, Any]] | None = None,
    grouping: list[dict[str, Any]] | None = None,
    other: list[dict[str, Any]] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Statement:
    context: dict[str, Any] = {"platform": PLATFORM, "language": LANGUAGE}
    if registration:
        context["registration"] = registration
    related = {"parent": parent, "grouping": grouping, "other": other}
    if any(related.values()):
        context["contextActivities"] = {name: found for name, found in related.items() if found}
    if extensions:
        context["extensions"] = extensions
    made: Statement = {
        "id": stable_id(source, *key),
        "actor": agent(source, user_id),
        "verb": verb.to_json(),
        "object": target,
        "context": context,
        "timestamp": timestamp(at),
        "version": VERSION,
    }
    if result:
        made["result"] = result
    return made


def voiding(source: Source, statement_id: str, at: datetime, *, by: str | None = None) -> Any:
    """A statement that voids another: by the person who undid what it recorded, or by Eddy
    (when a person is forgotten). It carries no platform: xAPI allows that only with an
    Activity as the object."""
    return {
        "id": str(uuid5(NAMESPACE, f"void/{statement_id}")),
        "actor": agent(source, by) if by else eddy_agent(source),
        "verb": VOIDED.to_json(),
        "object": {"objectType": "StatementRef", "id": statement_id},
        "timestamp": timestamp(at),
        "version": VERSION,
    }


def question_registration(source: Source, log_id: int | None, routed_id: int | None) -> str:
    return stable_id(source, "question", log_id if log_id is not None else f"routed-{routed_id}")


def path_registration(source: Source, user_id: str, path: str) -> str:
    return stable_id(source, "path", user_id, path)


def asked(source: Source, row: QuestionLog) -> Statement:
    """Asked a question; `result.success` says whether the index answered it (Eddy was sure of
    an entry), and that entry is in the context.

    A statement is sent once and never changes, so it holds only what was known when the
    question was asked: what became of the question later (a rating, the experts) is in the
    statements that record those events."""
    assert row.id is not None
    answered_with = row.hits[0]["slug"] if row.confident and row.hits else None
    return statement(
        source,
        key=("asked", row.id),
        user_id=row.user_id,
        verb=ASKED,
        target=question_activity(source, row.question, log_id=row.id),
        at=row.asked_at,
        result={
            "success": row.confident,
            "extensions": {source.extension("answered-from-index"): row.confident},
        },
        registration=question_registration(source, row.id, None),
        other=[entry_activity(source, answered_with)] if answered_with else None,
        extensions={source.extension("surface"): row.surface},
    )


def _routed_context(source: Source, row: RoutedQuestion) -> dict[str, Any]:
    assert row.id is not None
    return {
        "target": question_activity(source, row.question, log_id=row.question_id, routed_id=row.id),
        "registration": question_registration(source, row.question_id, row.id),
        "grouping": [topic_activity(source, row.topic)],
    }


def answered_question(source: Source, row: RoutedQuestion) -> Statement | None:
    if row.answered_by is None or row.answered_at is None:
        return None
    return statement(
        source,
        key=("answered", row.id),
        user_id=row.answered_by,
        verb=ANSWERED,
        at=row.answered_at,
        result={"response": row.answer} if row.answer and row.answer.strip() else None,
        **_routed_context(source, row),
    )


def resolved(source: Source, row: RoutedQuestion) -> Statement | None:
    if row.resolved_at is None:
        return None
    return statement(
        source,
        key=("resolved", row.id),
        user_id=row.asker_id,
        verb=RESOLVED,
        at=row.resolved_at,
        result={"success": True},
        **_routed_context(source, row),
    )


def contributed(source: Source, row: Any) -> Statement | None:
    """An entry accepted into the knowledge index, credited to whose words it is."""
    author = row.owner or row.proposed_by
    if row.slug is None or row.reviewed_at is None:
        return None
    other = [activity(row.source_url, "Slack message", MESSAGE_TYPE)] if row.source_url else None
    return statement(
        source,
        key=("contributed", row.id),
        user_id=author,
        verb=AUTHORED,
        target=entry_activity(source, row.slug),
        at=row.reviewed_at,
        grouping=[topic_activity(source, row.topic)] if row.topic else None,
        other=other,
    )


def experienced_lesson(
    source: Source, *, key: object, user_id: str, path: str, lesson_id: str, at: datetime
) -> Statement:
    return statement(
        source,
        key=("experienced", key),
        user_id=user_id,
        verb=EXPERIENCED,
        target=lesson_activity(source, path, lesson_id),
        at=at,
        registration=path_registration(source, user_id, path),
        parent=[path_activity(source, path)],
    )


def answered_quiz(source: Source, row: Any) -> Statement:
    return statement(
        source,
        key=("quiz", row.id),
        user_id=row.user_id,
        verb=ANSWERED,
        target=quiz_activity(source, row.path, row.lesson_id),
        at=row.answered_at,
        result={"success": row.correct, "response": str(row.chosen + 1)},
        registration=path_registration(source, row.user_id, row.path),
        parent=[lesson_activity(source, row.path, row.lesson_id)],
        grouping=[path_activity(source, row.path)],
        extensions={source.extension("review"): row.review},
    )


def completed_path(source: Source, row: Any) -> Statement:
    return statement(
        source,
        key=("completed", row.user_id, row.path),
        user_id=row.user_id,
        verb=COMPLETED,
        target=path_activity(source, row.path),
        at=row.completed_at,
        result={"completion": True},
        registration=path_registration(source, row.user_id, row.path),
    )


def earned_badge(source: Source, row: Any) -> Statement:
    return statement(
        source,
        key=("badge", row.user_id, row.badge),
        user_id=row.user_id,
        verb=EARNED,
        target=badge_activity(source, row.badge, row.name, row.reason),
        at=row.awarded_at,
    )


def gave_recognition(source: Source, row: Any) -> Statement:
    """Points given with a reaction: the points are the score; who received them and with
    which emoji are extensions."""
    return statement(
        source,
        key=("recognition", row.id),
        user_id=row.giver,
        verb=GAVE,
        target=message_activity(source, row.channel, row.message_ts),
        at=row.at,
        result={
            "score": {"raw": row.points},
            "extensions": {source.extension("emoji"): row.emoji},
        },
        extensions={source.extension("recipient"): agent(source, row.receiver)},
    )


# --- reading them ---------------------------------------------------------------------------


def _names_somebody(made: Statement) -> bool:
    """False for statements about people who were forgotten (their pseudonym stands in the
    rows): those are never emitted."""
    actors = [made["actor"], made.get("context", {}).get("extensions", {}).get("recipient")]
    return not any(
        is_former_member(found.get("account", {}).get("name"))
        for found in actors
        if isinstance(found, dict)
    )


def statements_in(
    store: Store, source: Source, window: rows.Window, *, user_id: str | None = None
) -> list[Statement]:
    """Every statement whose event happened in `window` (of `user_id` only, if given), in
    time order."""
    made: list[Statement | None] = []
    team = source.team_id

    def read(reader: Callable[..., list[Any]]) -> list[Any]:
        return reader(session, team_id=team, window=window, user_id=user_id)

    with store.session() as session:
        made += [asked(source, row) for row in read(rows.questions_asked)]
        made += [answered_question(source, row) for row in read(rows.questions_answered)]
        made += [resolved(source, row) for row in read(rows.questions_resolved)]
        made += [contributed(source, row) for row in read(rows.entries_contributed)]
        made += [
            experienced_lesson(
                source,
                key=row.id,
                user_id=row.recipient,
                path=row.path,
                lesson_id=row.lesson_id,
                at=row.sent_at,
            )
            for row in read(rows.lessons_sent)
        ]
        made += [
            experienced_lesson(
                source,
                key=f"{seen.delivery_id}/{seen.user_id}",
                user_id=seen.user_id,
                path=seen.path,
                lesson_id=seen.lesson_id,
                at=seen.at,
            )
            for seen in read(rows.channel_lessons_seen)
        ]
        made += [answered_quiz(source, row) for row in read(rows.quiz_answers)]
        made += [completed_path(source, row) for row in read(rows.paths_completed)]
        made += [earned_badge(source, row) for row in read(rows.badges_earned)]
        made += [gave_recognition(source, row) for row in read(rows.recognition_given)]
        made += [
            voiding(source, stable_id(source, "recognition", given_id), taken.at, by=taken.giver)
            for taken, given_id in read(rows.recognition_taken_back)
        ]
    kept = [found for found in made if found is not None and _names_somebody(found)]
    return sorted(kept, key=lambda found: found["timestamp"])


def remember_workspace(store: Store, team_id: str, url: str, at: datetime) -> None:
    """Keep the workspace's URL (from auth.test at start-up): it names every actor, also in
    exports run where Slack cannot be reached."""
    with store.session() as session:
        rows.remember_workspace(session, team_id=team_id, url=url, at=at)


def known_workspaces(store: Store) -> list[str]:
    """The team IDs of every workspace Eddy has served from this database."""
    with store.session() as session:
        return sorted(rows.workspaces(session))


def source_for(store: Store, team_id: str) -> Source | None:
    """The workspace's source, or None when Eddy never learnt its URL (it does when it
    starts and Slack answers auth.test)."""
    with store.session() as session:
        url = rows.workspaces(session).get(team_id)
        if url is None:
            return None
        return Source(
            team_id=team_id, workspace_url=url, names=rows.names(session, team_id=team_id)
        )


def windows(
    start: datetime, end: datetime, step: timedelta = timedelta(days=1)
) -> list[rows.Window]:
    """[start, end) cut into steps."""
    cuts: list[rows.Window] = []
    while start < end:
        cuts.append((start, min(start + step, end)))
        start += step
    return cuts


def export(
    store: Store,
    source: Source,
    *,
    since: datetime | None,
    until: datetime,
    user_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Statement]:
    """Every statement from `since` (or the first event) until `until`, day by day, in time
    order; `progress(done, total)` after each day."""
    with store.session() as session:
        span = rows.event_span(session, team_id=source.team_id)
    if span is None:
        return
    first, last = span
    days = windows(since or first, min(until, last + timedelta(milliseconds=1)))
    for done, window in enumerate(days, start=1):
        yield from statements_in(store, source, window, user_id=user_id)
        if progress is not None:
            progress(done, len(days))
