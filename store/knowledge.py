"""Knowledge entries as served, learned wordings, and every question asked.

Entries from content files are copied here on each successful load, so that a file that
breaks later keeps serving its last good version (even across a restart); entries made in
Slack live only here. Learned wordings and the question log are what feedback and analytics
are made of; the questions Eddy could not answer well are the knowledge gaps managers close.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, and_, or_, update
from sqlalchemy import true as sa_true
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, col, select

from store.base import KEY_LENGTH, SLUG_LENGTH, TeamKeyed, TeamScoped, changed, utc_field
from store.networks import RoutedQuestion

#: How many ids one UPDATE … WHERE id IN (…) binds (well under SQLite's variable limit).
IDS_PER_STATEMENT = 500


class KnowledgeEntryRow(TeamKeyed, table=True):
    __tablename__ = "knowledge_entry"

    slug: str = Field(max_length=SLUG_LENGTH, primary_key=True)
    title: str = Field(max_length=200)
    body: str
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topic: str | None = Field(default=None, max_length=KEY_LENGTH)
    owner: str | None = Field(default=None, max_length=32)
    reviewed: date | None = None
    #: "file" (from the content folder), "slack" (made in Slack) or "import" (`app.py content
    #: import`).
    source: str = Field(max_length=16)
    #: The content file it came from, relative to the content folder.
    path: str | None = Field(default=None, max_length=500)
    helpful_count: int = 0
    not_helpful_count: int = 0
    flagged_at: datetime | None = utc_field(default=None, nullable=True)
    updated_at: datetime = utc_field(index=True)
    #: For a content file's entry edited in Slack: what the file said then (`file_fingerprint`
    #: in bot/content/catalogue.py). The edit stands until the file says something else.
    file_version: str | None = Field(default=None, max_length=64)


class LearnedQuestion(TeamScoped, table=True):
    """An asker's wording that Helpful feedback attached to an entry. A removed wording keeps
    its row (removed_at set), so that the same wording is not learned again."""

    __tablename__ = "learned_question"
    __table_args__ = (UniqueConstraint("team_id", "slug", "wording"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=SLUG_LENGTH, index=True)
    wording: str = Field(max_length=1000)
    learned_from: str | None = Field(default=None, max_length=32)
    created_at: datetime = utc_field()
    #: Whether it leads everyone to the entry; until then only the person who taught it.
    shared: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    #: How often others corroborated it (a Helpful on a similar wording, an expert's answer).
    confirmations: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: The manager who confirmed it, if one did.
    confirmed_by: str | None = Field(default=None, max_length=32)
    confirmed_at: datetime | None = utc_field(default=None, nullable=True)
    #: Not helpful votes on answers it produced.
    not_helpful: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    removed_at: datetime | None = utc_field(default=None, nullable=True)
    #: The manager who removed it; None when Not helpful votes did.
    removed_by: str | None = Field(default=None, max_length=32)


#: The surface of a question picked up in a help channel where Eddy listens.
CHANNEL = "channel"
#: The outcome of a question Eddy was sure of but did not answer in a help channel (its hourly
#: limit was reached, or a colleague was already answering).
HELD_BACK = "held_back"


class QuestionLog(TeamScoped, table=True):
    """One question asked, what Eddy found, and what became of it."""

    __tablename__ = "question_log"

    id: int | None = Field(default=None, primary_key=True)
    asked_at: datetime = utc_field(index=True)
    user_id: str = Field(max_length=32, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    #: "command", "mention", "dm", "home", or "channel" (picked up in a help channel).
    surface: str = Field(max_length=16)
    question: str
    #: [{"slug": …, "score": …}, …], best first.
    hits: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confident: bool
    answered_slug: str | None = Field(default=None, max_length=SLUG_LENGTH)
    #: "answered", "unsure", "helpful" or "not_helpful"; or HELD_BACK.
    outcome: str = Field(max_length=16)
    feedback_at: datetime | None = utc_field(default=None, nullable=True)
    #: The entry a manager wrote from this question's knowledge gap: the gap is closed, so the
    #: question leaves the gaps list (its outcome stays what the asker experienced).
    covered_slug: str | None = Field(default=None, max_length=SLUG_LENGTH)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


#: `session.info` key: per team, the slugs `entries` found in this unit of work, and those
#: `save_entry` wrote since (see `save_entry`).
STORED_SLUGS = "knowledge_entry_slugs"


def entries(session: Session, *, team_id: str) -> list[KnowledgeEntryRow]:
    """Every entry of the team. The unit of work remembers their slugs, so that `save_entry`
    can tell a new entry without asking the database."""
    found = list(
        session.exec(select(KnowledgeEntryRow).where(KnowledgeEntryRow.team_id == team_id))
    )
    session.info.setdefault(STORED_SLUGS, {})[team_id] = {row.slug for row in found}
    return found


def save_entry(
    session: Session,
    *,
    team_id: str,
    slug: str,
    title: str,
    body: str,
    questions: list[str],
    tags: list[str],
    topic: str | None,
    owner: str | None,
    reviewed: date | None,
    source: str,
    path: str | None,
    at: datetime,
    file_version: str | None = None,
) -> None:
    """Insert or replace an entry's content, keeping its feedback counts.

    After `entries` in the same unit of work, a slug it did not find (and that was not saved
    since) is new: its row is added without looking it up. Looking up each new entry made the
    content sync of a first start a SELECT and a one-row INSERT per file (the lookup flushed
    the row added before it): 10,000 files took 13 s; the rows are now inserted together when
    the unit of work ends. (Another instance inserting the same new slug meanwhile makes the
    commit fail, as the lookup's INSERT did when the two units of work overlapped.)"""
    content: dict[str, Any] = {
        "title": title,
        "body": body,
        "questions": questions,
        "tags": tags,
        "topic": topic,
        "owner": owner,
        "reviewed": reviewed,
        "source": source,
        "path": path,
        "updated_at": at,
        "file_version": file_version,
    }
    stored = session.info.get(STORED_SLUGS, {}).get(team_id)
    new = stored is not None and slug not in stored
    row = None if new else session.get(KnowledgeEntryRow, (team_id, slug))
    if row is None:
        row = KnowledgeEntryRow(team_id=team_id, slug=slug, **content)
    else:
        for name, value in content.items():
            setattr(row, name, value)
    session.add(row)
    if stored is not None:
        stored.add(slug)


def entry(session: Session, *, team_id: str, slug: str) -> KnowledgeEntryRow | None:
    return session.get(KnowledgeEntryRow, (team_id, slug))


def clear_flag(session: Session, *, team_id: str, slug: str) -> bool:
    """Take an entry off the Not-helpful list (reviewed or found fine); False if it was not on
    it."""
    statement = (
        update(KnowledgeEntryRow)
        .where(
            col(KnowledgeEntryRow.team_id) == team_id,
            col(KnowledgeEntryRow.slug) == slug,
            col(KnowledgeEntryRow.flagged_at).is_not(None),
        )
        .values(flagged_at=None)
    )
    return changed(session, statement)


def questions_by(session: Session, *, team_id: str, user_id: str, limit: int) -> list[QuestionLog]:
    """A person's latest questions, newest first."""
    query = (
        select(QuestionLog)
        .where(QuestionLog.team_id == team_id, QuestionLog.user_id == user_id)
        .order_by(col(QuestionLog.asked_at).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def delete_entry(session: Session, *, team_id: str, slug: str) -> bool:
    row = session.get(KnowledgeEntryRow, (team_id, slug))
    if row is None:
        return False
    session.delete(row)
    return True


def learn_question(
    session: Session,
    *,
    team_id: str,
    slug: str,
    wording: str,
    user_id: str | None,
    at: datetime,
    shared: bool = True,
) -> bool:
    """Attach `wording` to the entry; False if it already had it, even removed (safe under
    concurrency)."""
    statement = (
        _insert(session)(LearnedQuestion)
        .values(
            team_id=team_id,
            slug=slug,
            wording=wording,
            learned_from=user_id,
            created_at=at,
            shared=shared,
        )
        .on_conflict_do_nothing()
        .returning(col(LearnedQuestion.id))
    )
    return session.execute(statement).first() is not None


def learned_question(
    session: Session, *, team_id: str, slug: str, wording: str
) -> LearnedQuestion | None:
    query = select(LearnedQuestion).where(
        LearnedQuestion.team_id == team_id,
        LearnedQuestion.slug == slug,
        LearnedQuestion.wording == wording,
    )
    return session.exec(query).first()


def learned_by_id(session: Session, *, team_id: str, learned_id: int) -> LearnedQuestion | None:
    row = session.get(LearnedQuestion, learned_id)
    return row if row is not None and row.team_id == team_id else None


def learned_questions(
    session: Session, *, team_id: str, slug: str | None = None
) -> list[LearnedQuestion]:
    """Learned wordings (removed ones too) in the order they were learned."""
    query = select(LearnedQuestion).where(LearnedQuestion.team_id == team_id)
    if slug is not None:
        query = query.where(LearnedQuestion.slug == slug)
    return list(session.exec(query.order_by(col(LearnedQuestion.id))))


def confirm_learned(
    session: Session, *, team_id: str, ids: Sequence[int], by: str | None, at: datetime
) -> int:
    """Share these wordings with everyone and count a confirmation of each (`by` a manager, or
    None for a corroboration); removed ones stay removed. Returns how many changed."""
    if not ids:
        return 0
    values: dict[str, Any] = {
        "shared": True,
        "confirmations": LearnedQuestion.confirmations + 1,
    }
    if by is not None:
        values |= {"confirmed_by": by, "confirmed_at": at}
    statement = (
        update(LearnedQuestion)
        .where(
            col(LearnedQuestion.team_id) == team_id,
            col(LearnedQuestion.id).in_(list(ids)),
            col(LearnedQuestion.removed_at).is_(None),
        )
        .values(**values)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined]


def weaken_learned(
    session: Session, *, team_id: str, learned_id: int, unshare: bool, remove_at: int, at: datetime
) -> LearnedQuestion | None:
    """Count a Not helpful on an answer the wording produced: it stops leading everyone there
    when `unshare`, and is removed at `remove_at` votes. None if it is gone already."""
    row = learned_by_id(session, team_id=team_id, learned_id=learned_id)
    if row is None or row.removed_at is not None:
        return None
    row.not_helpful += 1
    if unshare:
        row.shared = False
    if row.not_helpful >= remove_at:
        row.removed_at = at
    session.add(row)
    return row


def remove_learned(
    session: Session, *, team_id: str, learned_id: int, by: str, at: datetime
) -> LearnedQuestion | None:
    """A manager removes a wording for good (its row stays, so it is not learned again)."""
    row = learned_by_id(session, team_id=team_id, learned_id=learned_id)
    if row is None or row.removed_at is not None:
        return None
    row.removed_at, row.removed_by = at, by
    session.add(row)
    return row


def flag_entry(session: Session, *, team_id: str, slug: str, at: datetime) -> None:
    """Put the entry in the review queue (its imported source page is gone)."""
    session.execute(
        update(KnowledgeEntryRow)
        .where(col(KnowledgeEntryRow.team_id) == team_id, col(KnowledgeEntryRow.slug) == slug)
        .values(flagged_at=at)
    )


def count_feedback(
    session: Session, *, team_id: str, slug: str, helpful: bool, at: datetime
) -> None:
    """Count a Helpful or Not helpful; Not helpful also flags the entry for review."""
    values: dict[str, Any] = (
        {"helpful_count": KnowledgeEntryRow.helpful_count + 1}
        if helpful
        else {"not_helpful_count": KnowledgeEntryRow.not_helpful_count + 1, "flagged_at": at}
    )
    session.execute(
        update(KnowledgeEntryRow)
        .where(col(KnowledgeEntryRow.team_id) == team_id, col(KnowledgeEntryRow.slug) == slug)
        .values(**values)
    )


def log_question(
    session: Session,
    *,
    team_id: str,
    asked_at: datetime,
    user_id: str,
    channel_id: str | None,
    surface: str,
    question: str,
    hits: list[dict[str, Any]],
    answered_slug: str | None,
) -> int:
    """Log a question with its hits; answered (confident) when it has an answered_slug."""
    row = QuestionLog(
        team_id=team_id,
        asked_at=asked_at,
        user_id=user_id,
        channel_id=channel_id,
        surface=surface,
        question=question,
        hits=hits,
        confident=answered_slug is not None,
        answered_slug=answered_slug,
        outcome="answered" if answered_slug else "unsure",
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def question(session: Session, *, team_id: str, question_id: int) -> QuestionLog | None:
    row = session.get(QuestionLog, question_id)
    return row if row is not None and row.team_id == team_id else None


def settle_question(
    session: Session,
    *,
    team_id: str,
    question_id: int,
    outcome: str,
    at: datetime,
    answered_slug: str | None = None,
) -> None:
    """Record what became of a question (feedback, or another entry chosen)."""
    values: dict[str, Any] = {"outcome": outcome, "feedback_at": at}
    if answered_slug is not None:
        values["answered_slug"] = answered_slug
    session.execute(
        update(QuestionLog)
        .where(col(QuestionLog.team_id) == team_id, col(QuestionLog.id) == question_id)
        .values(**values)
    )


def gap_questions(
    session: Session, *, team_id: str, since: datetime, limit: int
) -> list[QuestionLog]:
    """Questions asked at or after `since` that Eddy could not answer (not confident, and no
    candidate it offered was then rated Helpful) or whose answer was rated Not helpful, newest
    first, at most `limit`. Left out: gaps a manager has
    closed (covered_slug), and questions whose expert answer was saved into the index already
    (the routed question's saved_slug), since both have an entry now, and questions whose
    wording was erased with their asker (`app.py forget user`): there is nothing to read."""
    saved_from_experts = select(RoutedQuestion.id).where(
        RoutedQuestion.team_id == team_id,
        col(RoutedQuestion.question_id) == col(QuestionLog.id),
        col(RoutedQuestion.saved_slug).is_not(None),
    )
    query = (
        select(QuestionLog)
        .where(
            QuestionLog.team_id == team_id,
            col(QuestionLog.asked_at) >= since,
            col(QuestionLog.covered_slug).is_(None),
            col(QuestionLog.question) != "",
            or_(
                col(QuestionLog.outcome) == "not_helpful",
                and_(col(QuestionLog.confident).is_(False), col(QuestionLog.outcome) != "helpful"),
            ),
            ~saved_from_experts.exists(),
        )
        .order_by(col(QuestionLog.asked_at).desc(), col(QuestionLog.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def cover_questions(
    session: Session, *, team_id: str, question_ids: Sequence[int], slug: str
) -> int:
    """Close the gap these questions formed with the entry `slug`; returns how many were
    closed now. Questions already closed keep their entry, so when two managers close the
    same gap at once, the first one's entry stands and the second learns it changed nothing."""
    closed = 0
    for start in range(0, len(question_ids), IDS_PER_STATEMENT):
        statement = (
            update(QuestionLog)
            .where(
                col(QuestionLog.team_id) == team_id,
                col(QuestionLog.id).in_(question_ids[start : start + IDS_PER_STATEMENT]),
                col(QuestionLog.covered_slug).is_(None),
            )
            .values(covered_slug=slug)
        )
        closed += session.execute(statement).rowcount  # type: ignore[attr-defined]
    return closed
