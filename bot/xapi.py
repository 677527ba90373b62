"""Eddy's learning events as xAPI 1.0.3 statements (the Experience API), for learning teams
who measure outside any LMS: who did what, when, with what result.

Statements are made from the rows the capabilities already keep (questions, routed
questions, drafts, lessons, quizzes, badges, points) by a recording pass (`record`), once per
event, and kept in the ledger (store/xapi.py) exactly as made: exports and the LRS forwarder
(bot/lrs.py) read the ledger, so the same event is the same statement in every export, on
every instance, after every retry, whatever changed since.

- **Ids no other event has.** A statement's id is a fresh UUID, made when it is recorded and
  kept: a second database for the same workspace (a move to PostgreSQL, a restored backup)
  never reuses one. So are a question's registration (and its activity IRI) and a person's
  registration in a path (`RecordIdentity`). Events recorded before the ledger existed keep
  the ids they were exported and forwarded with then (derived from their rows: `legacy`).
- **Names as they were.** A statement names entries, topics, paths, lessons and quizzes as
  they were when it was recorded. Every change of content records what happened before it
  first (`bot/content/catalogue.py`), and the scheduler records every minute, so that is when the
  event happened. (The very first pass, which takes on the history a database held before
  the ledger, is the scheduler's alone.)
- **Nobody forgotten.** A statement that would name a former member (`app.py forget user`)
  is never made; those already made are voided and dropped by the erasure (bot/privacy.py),
  and kept without the person where it was someone else's (`without_person`).

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

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from typing import Any, Protocol
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from sqlmodel import Session

from bot.content.lesson_paths import LearningPath, Lesson, path_from_spec
from bot.people import FORMER_MEMBER, PSEUDONYM
from store import Store
from store import xapi as rows
from store.privacy import Rewriter

Statement = dict[str, Any]


class AskedQuestion(Protocol):
    """What a statement about an asked question reads (the store's question log has it)."""

    @property
    def id(self) -> int | None: ...
    @property
    def user_id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def asked_at(self) -> datetime: ...
    @property
    def confident(self) -> bool: ...
    @property
    def hits(self) -> list[dict[str, Any]]: ...
    @property
    def surface(self) -> str: ...


class RoutedRecord(Protocol):
    """What statements about a question sent to the experts read (the store's routed
    questions have it)."""

    @property
    def id(self) -> int | None: ...
    @property
    def question_id(self) -> int | None: ...
    @property
    def question(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def asker_id(self) -> str: ...
    @property
    def answered_by(self) -> str | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...


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
#: The Tin Can registry's "skipped": a lesson not taken because the person showed they know it.
SKIPPED = Verb("http://id.tincanapi.com/verb/skipped", "skipped")
#: ADL's "registered": officially enrolled in a path someone assigned (or a journey).
REGISTERED = Verb("http://adlnet.gov/expapi/verbs/registered", "registered")
#: Activity Streams' "receive": the learner received a reminder of a lesson.
RECEIVED = Verb("http://activitystrea.ms/schema/1.0/receive", "received")

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
#: How far back each recording pass reads again: a row can commit a little after the time
#: it records (a slow request, another instance); the ledger keeps each event once.
OVERLAP = timedelta(hours=1)


class Identities:
    """Where the ids of one recording pass come from: fresh UUIDs, or (`legacy`) the ids
    derived from the rows, for events recorded before the ledger existed. UUIDs that tie
    statements together are kept (store/xapi.py `RecordIdentity`), so that later events of
    the same question or path share them: new ones are kept together (`flush`), before the
    statements that use them."""

    def __init__(
        self,
        session: Session,
        team_id: str,
        *,
        legacy: bool,
        known: dict[str, str] | None = None,
        complete: bool = False,
    ) -> None:
        self.session, self.team_id, self.legacy = session, team_id, legacy
        #: event → statement id, for the statements this pass made
        self.made: dict[str, str] = {}
        #: key → value, as kept or about to be (shared by a pass's windows); `complete` when
        #: it held every kept value as the pass began (a key it lacks is new, then)
        self.known: dict[str, str] = {} if known is None else known
        self.complete = complete
        #: key → value, new in this window
        self.new_values: dict[str, str] = {}

    def derived(self, *parts: object) -> str:
        return str(uuid5(NAMESPACE, "/".join([self.team_id, *map(str, parts)])))

    def new(self, *parts: object) -> str:
        return self.derived(*parts) if self.legacy else str(uuid4())

    def kept(self, key: str, new: str) -> str:
        """The value kept for `key`, or `new` (kept at the next `flush`)."""
        if key not in self.known:
            found = (
                None
                if self.complete
                else rows.identity(self.session, team_id=self.team_id, key=key)
            )
            if found is None:
                self.new_values[key] = found = new
            self.known[key] = found
        return self.known[key]

    def flush(self) -> bool:
        """Keep the new values; False when another instance kept one of them first (the
        statements made with it must be made again: they now get the winner's)."""
        lost = rows.keep_identities(self.session, team_id=self.team_id, values=self.new_values)
        for key in lost:
            winner = self._stored(key)
            assert winner is not None
            self.known[key] = winner
        self.new_values.clear()
        return not lost

    def _stored(self, key: str) -> str | None:
        return rows.identity(self.session, team_id=self.team_id, key=key)

    def statement_id(self, event: str) -> str:
        made = self.new(event)
        self.made[event] = made
        return made

    def recorded(self, event: str) -> str | None:
        """The id of the statement recording `event`, if there is one."""
        if event in self.made:
            return self.made[event]
        return rows.statement_for(self.session, team_id=self.team_id, event=event)

    def question(self, log_id: int | None, routed_id: int | None) -> tuple[str, str]:
        """A question's activity IRI (under the workspace's base) and its registration."""
        local = str(log_id) if log_id is not None else f"routed-{routed_id}"
        registration = self.kept(f"registration/question/{local}", self.new("question", local))
        legacy_iri = (
            f"questions/{log_id}" if log_id is not None else f"routed-questions/{routed_id}"
        )
        iri = self.kept(
            f"iri/question/{local}", legacy_iri if self.legacy else f"questions/{registration}"
        )
        return iri, registration

    def path_registration(self, user_id: str, path: str) -> str:
        return self.kept(f"registration/path/{user_id}/{path}", self.new("path", user_id, path))


@dataclass(frozen=True)
class Source:
    """One workspace's events and what names them."""

    team_id: str
    workspace_url: str
    names: rows.Names
    #: Set for a recording pass (statements are made only there).
    identities: Identities | None = field(default=None, compare=False)

    @property
    def ids(self) -> Identities:
        assert self.identities is not None, "statements are made by a recording pass"
        return self.identities

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


def question_activity(source: Source, text: str, iri: str) -> dict[str, Any]:
    return activity(f"{source.base}{iri}", text, QUESTION_TYPE)


def entry_activity(source: Source, slug: str, title: str | None = None) -> dict[str, Any]:
    title = title or source.names.entries.get(slug, slug)
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
    event: str,
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
        "id": source.ids.statement_id(event),
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


def voiding(
    source: Source, statement_id: str, at: datetime, *, by: str | None = None, made_id: str = ""
) -> Any:
    """A statement that voids another: by the person who undid what it recorded, or by Eddy
    (when a person is forgotten: its id derives from the one it voids, so erasing again
    queues nothing twice). It carries no platform: xAPI allows that only with an Activity as
    the object."""
    return {
        "id": made_id or str(uuid5(NAMESPACE, f"void/{statement_id}")),
        "actor": agent(source, by) if by else eddy_agent(source),
        "verb": VOIDED.to_json(),
        "object": {"objectType": "StatementRef", "id": statement_id},
        "timestamp": timestamp(at),
        "version": VERSION,
    }


def asked(source: Source, event: str, row: AskedQuestion) -> Statement:
    """Asked a question; `result.success` says whether the index answered it (Eddy was sure of
    an entry), and that entry is in the context.

    A statement is sent once and never changes, so it holds only what was known when the
    question was asked: what became of the question later (a rating, the experts) is in the
    statements that record those events."""
    assert row.id is not None
    answered_with = row.hits[0]["slug"] if row.confident and row.hits else None
    iri, registration = source.ids.question(row.id, None)
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=ASKED,
        target=question_activity(source, row.question, iri),
        at=row.asked_at,
        result={
            "success": row.confident,
            "extensions": {source.extension("answered-from-index"): row.confident},
        },
        registration=registration,
        other=[entry_activity(source, answered_with)] if answered_with else None,
        extensions={source.extension("surface"): row.surface},
    )


def _routed_context(source: Source, row: RoutedRecord) -> dict[str, Any]:
    assert row.id is not None
    iri, registration = source.ids.question(row.question_id, row.id)
    return {
        "target": question_activity(source, row.question, iri),
        "registration": registration,
        "grouping": [topic_activity(source, row.topic)],
    }


def answered_question(source: Source, event: str, row: RoutedRecord) -> Statement | None:
    if row.answered_by is None or row.answered_at is None:
        return None
    return statement(
        source,
        event=event,
        user_id=row.answered_by,
        verb=ANSWERED,
        at=row.answered_at,
        result={"response": row.answer} if row.answer and row.answer.strip() else None,
        **_routed_context(source, row),
    )


def resolved(source: Source, event: str, row: RoutedRecord) -> Statement | None:
    if row.resolved_at is None:
        return None
    return statement(
        source,
        event=event,
        user_id=row.asker_id,
        verb=RESOLVED,
        at=row.resolved_at,
        result={"success": True},
        **_routed_context(source, row),
    )


def contributed(source: Source, event: str, row: Any) -> Statement | None:
    """An entry accepted into the knowledge index, credited to whose words it is, named as
    it was approved."""
    author = row.owner or row.proposed_by
    if row.slug is None or row.reviewed_at is None:
        return None
    other = [activity(row.source_url, "Slack message", MESSAGE_TYPE)] if row.source_url else None
    return statement(
        source,
        event=event,
        user_id=author,
        verb=AUTHORED,
        target=entry_activity(source, row.slug, row.title),
        at=row.reviewed_at,
        grouping=[topic_activity(source, row.topic)] if row.topic else None,
        other=other,
    )


def lesson_experienced(source: Source, event: str, row: Any) -> Statement:
    """A lesson sent to a person's DM."""
    return experienced_lesson(
        source, event, user_id=row.recipient, path=row.path, lesson_id=row.lesson_id, at=row.sent_at
    )


def channel_lesson_experienced(source: Source, event: str, seen: Any) -> Statement:
    """A lesson in a channel, for someone who answered its quiz."""
    return experienced_lesson(
        source, event, user_id=seen.user_id, path=seen.path, lesson_id=seen.lesson_id, at=seen.at
    )


def experienced_lesson(
    source: Source, event: str, *, user_id: str, path: str, lesson_id: str, at: datetime
) -> Statement:
    return statement(
        source,
        event=event,
        user_id=user_id,
        verb=EXPERIENCED,
        target=lesson_activity(source, path, lesson_id),
        at=at,
        registration=source.ids.path_registration(user_id, path),
        parent=[path_activity(source, path)],
    )


def answered_quiz(source: Source, event: str, row: Any) -> Statement:
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=ANSWERED,
        target=quiz_activity(source, row.path, row.lesson_id),
        at=row.answered_at,
        result={"success": row.correct, "response": str(row.chosen + 1)},
        registration=source.ids.path_registration(row.user_id, row.path),
        parent=[lesson_activity(source, row.path, row.lesson_id)],
        grouping=[path_activity(source, row.path)],
        extensions={
            source.extension("review"): row.review,
            **({source.extension("placement"): True} if row.placement else {}),
        },
    )


def skipped_lesson(source: Source, event: str, row: Any) -> Statement:
    """A lesson the person skipped as known (its placement item answered right, or I know
    this): its quiz comes back as a review, so `success` says they know it for now."""
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=SKIPPED,
        target=lesson_activity(source, row.path, row.lesson_id),
        at=row.done_at,
        result={"success": True},
        registration=source.ids.path_registration(row.user_id, row.path),
        parent=[path_activity(source, row.path)],
    )


def registered(source: Source, event: str, row: Any) -> Statement:
    """A person enrolled in a path assigned to them (told of it): who assigned it is the
    context's instructor (none for an onboarding journey, which the path's file starts); to
    whom it was assigned and by when are extensions."""
    made = statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=REGISTERED,
        target=path_activity(source, row.path),
        at=row.told_at,
        registration=source.ids.path_registration(row.user_id, row.path),
        extensions={
            source.extension("assigned-to"): row.target_name or row.kind,
            **({source.extension("due"): row.due_on.isoformat()} if row.due_on else {}),
        },
    )
    if row.assigned_by:
        made["context"]["instructor"] = agent(source, row.assigned_by)
    return made


def received_reminder(source: Source, event: str, row: Any) -> Statement:
    """A reminder of a lesson left unanswered, by DM: a Slack message (which one is not kept),
    about the lesson, in its path; which of the lesson's reminders it was is an extension."""
    lesson = _lesson(source, row.path, row.lesson_id)
    title = lesson.title if lesson else row.lesson_id
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=RECEIVED,
        target=activity(
            f"{lesson_iri(source, row.path, row.lesson_id)}/reminders/{row.step}",
            f"Reminder: {title}",
            MESSAGE_TYPE,
        ),
        at=row.sent_at,
        registration=source.ids.path_registration(row.user_id, row.path),
        parent=[lesson_activity(source, row.path, row.lesson_id)],
        grouping=[path_activity(source, row.path)],
        extensions={source.extension("reminder"): row.step},
    )


def completed_path(source: Source, event: str, row: Any) -> Statement:
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=COMPLETED,
        target=path_activity(source, row.path),
        at=row.completed_at,
        result={"completion": True},
        registration=source.ids.path_registration(row.user_id, row.path),
    )


def earned_badge(source: Source, event: str, row: Any) -> Statement:
    return statement(
        source,
        event=event,
        user_id=row.user_id,
        verb=EARNED,
        target=badge_activity(source, row.badge, row.name, row.reason),
        at=row.awarded_at,
    )


def gave_recognition(source: Source, event: str, row: Any) -> Statement:
    """Points given with a reaction: the points are the score; who received them and with
    which emoji are extensions (the receiver only while they are a member)."""
    return statement(
        source,
        event=event,
        user_id=row.giver,
        verb=GAVE,
        target=message_activity(source, row.channel, row.message_ts),
        at=row.at,
        result={
            "score": {"raw": row.points},
            "extensions": {source.extension("emoji"): row.emoji},
        },
        extensions=None
        if PSEUDONYM.fullmatch(row.receiver)
        else {source.extension("recipient"): agent(source, row.receiver)},
    )


def took_back(source: Source, event: str, found: tuple[Any, int]) -> Statement | None:
    """A reaction removed: its giver voids the recognition it gave (none if that was never
    recorded)."""
    taken, given_id = found
    target = source.ids.recorded(recognition_event(given_id))
    if target is None:
        return None
    made_id = str(uuid5(NAMESPACE, f"void/{target}")) if source.ids.legacy else str(uuid4())
    source.ids.made[event] = made_id
    return voiding(source, target, taken.at, by=taken.giver, made_id=made_id)


# --- recording them ------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A learning event found in the rows: what it is ("asked/17"), when it happened, and how
    to make its statement (None when there is none to make)."""

    key: str
    at: datetime
    make: Callable[[], Statement | None]


def names_former_member(made: Statement) -> bool:
    """True for a statement that would name someone who was forgotten (their pseudonym stands
    in the rows): it is never made. Any role counts: actor, recipient, or anywhere else."""
    return PSEUDONYM.search(json.dumps(made)) is not None


def recognition_event(ledger_id: int) -> str:
    return f"recognition/{ledger_id}"


@dataclass(frozen=True)
class Kind:
    """One kind of learning event: how to read it from the rows of a window, what names each
    one in the ledger, when it happened, and how its statement is made."""

    read: Callable[..., list[Any]]
    key: Callable[[Any], str]
    at: Callable[[Any], datetime]
    make: Callable[[Source, str, Any], Statement | None]


#: Every kind, givings before what takes them back (a voiding names the statement it voids).
KINDS: tuple[Kind, ...] = (
    Kind(rows.questions_asked, lambda row: f"asked/{row.id}", lambda row: row.asked_at, asked),
    Kind(
        rows.questions_answered,
        lambda row: f"answered/{row.id}",
        lambda row: row.answered_at,
        answered_question,
    ),
    Kind(
        rows.questions_resolved,
        lambda row: f"resolved/{row.id}",
        lambda row: row.resolved_at,
        resolved,
    ),
    Kind(
        rows.entries_contributed,
        lambda row: f"contributed/{row.id}",
        lambda row: row.reviewed_at,
        contributed,
    ),
    Kind(
        rows.lessons_sent,
        lambda row: f"experienced/{row.id}",
        lambda row: row.sent_at,
        lesson_experienced,
    ),
    Kind(
        rows.channel_lessons_seen,
        lambda seen: f"experienced/{seen.delivery_id}/{seen.user_id}",
        lambda seen: seen.at,
        channel_lesson_experienced,
    ),
    Kind(
        rows.quiz_answers, lambda row: f"quiz/{row.id}", lambda row: row.answered_at, answered_quiz
    ),
    Kind(
        rows.assignments_told,
        lambda row: f"assigned/{row.assignment_id}/{row.user_id}",
        lambda row: row.told_at,
        registered,
    ),
    Kind(
        rows.reminders_sent,
        lambda row: f"reminded/{row.delivery_id}/{row.step}",
        lambda row: row.sent_at,
        received_reminder,
    ),
    Kind(
        rows.lessons_known,
        lambda row: f"known/{row.user_id}/{row.path}/{row.lesson_id}",
        lambda row: row.done_at,
        skipped_lesson,
    ),
    Kind(
        rows.paths_completed,
        lambda row: f"completed/{row.user_id}/{row.path}",
        lambda row: row.completed_at,
        completed_path,
    ),
    Kind(
        rows.badges_earned,
        lambda row: f"badge/{row.user_id}/{row.badge}",
        lambda row: row.awarded_at,
        earned_badge,
    ),
    Kind(
        rows.recognition_given,
        lambda row: recognition_event(row.id),
        lambda row: row.at,
        gave_recognition,
    ),
    Kind(
        rows.recognition_taken_back,
        lambda found: f"void-recognition/{found[0].id}",
        lambda found: found[0].at,
        took_back,
    ),
)


def events_in(session: Session, source: Source, window: rows.Window) -> list[Event]:
    """Every learning event that happened in `window`, in time order (givings before what
    takes them back, at the same instant)."""
    found: list[tuple[datetime, int, Event]] = []
    for order, kind in enumerate(KINDS):
        for row in kind.read(session, team_id=source.team_id, window=window):
            key = kind.key(row)
            event = Event(key, kind.at(row), partial(kind.make, source, key, row))
            found.append((event.at, order, event))
    return [event for _, _, event in sorted(found, key=lambda item: item[:2])]


def record_window(session: Session, source: Source, window: rows.Window, now: datetime) -> int:
    """Make and keep the statements of the events in `window` that the ledger does not have
    yet; how many were kept. Events recorded with the ids they had before the ledger count as
    recorded when they happened: the LRS outbox had queued them by then."""
    events = events_in(session, source, window)
    known = rows.recorded_events(session, team_id=source.team_id, events=[e.key for e in events])
    new = [event for event in events if event.key not in known]
    while True:
        made: list[rows.NewRecord] = []
        for event in new:
            statement = event.make()
            if statement is not None and not names_former_member(statement):
                at = event.at if source.ids.legacy else now
                made.append(rows.NewRecord(event.key, statement, event.at, at))
        if source.ids.flush():
            break
        source.ids.made.clear()
    return len(rows.add_records(session, team_id=source.team_id, records=made))


def record(store: Store, team_id: str, now: datetime) -> int | None:
    """Record the statements of every event not in the ledger yet, with the names content
    gives things now; how many, or None when Eddy never learnt the workspace's address (it
    names every actor).

    Each pass reads again from a little before where the last one stopped (`OVERLAP`) to the
    last event, a day at a time, one transaction per day; the first pass reads from the first
    event. Run every minute by the scheduler, before every change of content
    (`record_before_change`), before an export and before an erasure."""
    source = source_for(store, team_id)
    if source is None:
        return None
    with store.session() as session:
        place = rows.workspace(session, team_id=team_id)
        span = rows.event_span(session, team_id=team_id)
    if place is None:
        return 0
    if span is None:  # nothing happened yet: the ledger starts now
        with store.session() as session:
            rows.advance_recording(session, team_id=team_id, to=now)
        return 0
    legacy = place.legacy_ids and place.recorded_until is None
    start = span[0] if place.recorded_until is None else place.recorded_until - OVERLAP
    end = max(span[1] + timedelta(milliseconds=1), start)
    # The first pass takes on the whole history: it reads every kept value at once.
    complete = place.recorded_until is None
    with store.session() as session:
        known = rows.identities(session, team_id=team_id) if complete else {}
    kept = 0
    for window in windows(start, end):
        with store.session() as session:
            ids = Identities(session, team_id, legacy=legacy, known=known, complete=complete)
            kept += record_window(session, replace(source, identities=ids), window, now)
            if window[1] == end:
                rows.advance_recording(session, team_id=team_id, to=end)
    if start == end:
        with store.session() as session:
            rows.advance_recording(session, team_id=team_id, to=end)
    return kept


def record_before_change(store: Store, team_id: str, now: datetime) -> None:
    """Before content changes: record what happened so far, under the names it happened
    with. Not the first pass, which takes on the whole history (a minute or more for a busy
    quarter, once, after an upgrade): that is the scheduler's, off the start-up path."""
    with store.session() as session:
        place = rows.workspace(session, team_id=team_id)
    if place is not None and place.recorded_until is not None:
        record(store, team_id, now)


def statements_in(
    store: Store, team_id: str, window: rows.Window, *, recorded: bool = False
) -> list[Statement]:
    """The kept statements whose events happened (or, with `recorded`, that were recorded)
    in `window`, in the order they happened."""
    with store.session() as session:
        found = rows.records_in(session, team_id=team_id, window=window, recorded=recorded)
        return [row.statement for row in found]


def names_person(made: Statement, user_id: str) -> bool:
    """True when the statement names the person anywhere: as an agent, or in someone's words
    (a mention, or the bare ID)."""
    return (
        re.search(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])", json.dumps(made))
        is not None
    )


def statements_naming(
    store: Store, team_id: str, user_id: str, *, recorded_before: datetime | None = None
) -> list[Statement]:
    """Every kept statement that names the person (recorded before `recorded_before`, if
    given), in the order they happened."""
    with store.session() as session:
        found = rows.records_naming(session, team_id=team_id, user_id=user_id)
        return [
            row.statement
            for row in found
            if names_person(row.statement, user_id)
            and (recorded_before is None or row.recorded_at < recorded_before)
        ]


def forget_in_ledger(
    session: Session, *, team_id: str, user_id: str, pseudonym: str, now: datetime
) -> tuple[int, int]:
    """Drop every kept statement that names the person, in the caller's transaction (the
    erasure's, which gives their rows `pseudonym`). Someone else's statement that named them
    (a question mentioning them, points given to them) is kept without them, as a new
    statement that the LRS receives in turn: it is still that person's learning. A statement
    its giver took back stays dropped, and so do theirs: those events are never recorded
    again (under the pseudonym their rows will hold). Returns how many were dropped, and how
    many of those were kept without them."""
    found = [
        row
        for row in rows.records_naming(session, team_id=team_id, user_id=user_id)
        if names_person(row.statement, user_id)
    ]
    ids = [row.statement_id for row in found]
    voided = rows.voided_ids(session, team_id=team_id, ids=ids)
    kept = [
        rows.NewRecord(row.event, without_person(row.statement, user_id), row.happened_at, now)
        for row in found
        if row.actor != user_id and row.voids is None and row.statement_id not in voided
    ]
    rows.drop_records(session, ids=ids)
    rows.add_records(session, team_id=team_id, records=kept)
    gone = {row.event for row in found} - {record.event for record in kept}
    rows.erase_events(
        session,
        team_id=team_id,
        events=sorted(re.sub(rf"\b{re.escape(user_id)}\b", pseudonym, event) for event in gone),
    )
    return len(ids), len(kept)


def without_person(made: Statement, user_id: str) -> Statement:
    """Someone else's statement with the person taken out, as a new statement: agents naming
    them (a reaction's receiver) left out, their mentions reading "former member"."""
    rewrite = Rewriter(user_id, FORMER_MEMBER, FORMER_MEMBER)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: strip(item)
                for key, item in value.items()
                if not (isinstance(item, dict) and item.get("account", {}).get("name") == user_id)
            }
        if isinstance(value, list):
            return [strip(item) for item in value]
        return rewrite.text(value) if isinstance(value, str) else value

    kept: Statement = strip(made)
    context = kept.get("context", {})
    if context.get("extensions") == {}:
        del context["extensions"]
    kept["id"] = str(uuid4())
    return kept


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
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Statement]:
    """Every statement from `since` (or the first event) until `until`, day by day, in time
    order; `progress(done, total)` after each day. Events not in the ledger yet are recorded
    first."""
    record(store, source.team_id, now)
    with store.session() as session:
        span = rows.record_span(session, team_id=source.team_id)
    if span is None:
        return
    first, last = span
    days = windows(since or first, min(until, last + timedelta(milliseconds=1)))
    for done, window in enumerate(days, start=1):
        yield from statements_in(store, source.team_id, window)
        if progress is not None:
            progress(done, len(days))
