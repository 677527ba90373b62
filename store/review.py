"""The review queue's tables: entries proposed in Slack (drafts) until a reviewer decides,
and the review side of live knowledge entries (when someone last confirmed an entry is still
true, and when its owner was last reminded).

A review decision is a single conditional UPDATE: when two reviewers decide at once, the
database lets exactly one of them match, and the caller learns from the row count whether it
won. The review side of live entries is kept apart from `knowledge_entry`, whose rows a
content sync rewrites from the files: a confirmation made in Slack must survive that. A
reminder is claimed with one conditional upsert, so that several Eddy instances running the
reminder job remind an owner once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, func, or_, update
from sqlmodel import Field, Session, col, select

from store.base import (
    KEY_LENGTH,
    SLUG_LENGTH,
    TeamKeyed,
    TeamScoped,
    changed,
    insert_for,
    utc_field,
)

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
ANSWER_DRAFT, MESSAGE_DRAFT = "answer", "message"
#: A page of an imported source (`bot.importing`): when it changes an entry the import made
#: earlier, its `slug` is that entry's from the start, and approving it updates the entry.
IMPORT_DRAFT = "import"
#: Not a proposal but the record of an entry a manager wrote directly (from a knowledge gap):
#: approved as it is written, so the history of who contributed what stays in one place.
WRITTEN_ENTRY = "written"
#: The longest reason a reviewer may give for a rejection, and the longest link to the message
#: a draft came from (both counted as typed; the handlers refuse longer ones kindly).
REASON_LIMIT = 500
SOURCE_URL_LIMIT = 500


class EntryDraft(TeamScoped, table=True):
    """A knowledge entry proposed in Slack (from a resolved answer, or any message saved with
    the "Save to Eddy" shortcut), in the review queue until a reviewer decides."""

    __tablename__ = "entry_draft"

    id: int | None = Field(default=None, primary_key=True)
    routed_id: int | None = Field(default=None, index=True)
    title: str = Field(max_length=200)
    body: str
    topic: str | None = Field(default=None, max_length=KEY_LENGTH)
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str | None = Field(default=None, max_length=32)
    proposed_by: str = Field(max_length=32)
    proposed_at: datetime = utc_field()
    #: "pending", "approved" or "rejected".
    status: str = Field(max_length=16, index=True)
    reviewed_by: str | None = Field(default=None, max_length=32)
    reviewed_at: datetime | None = utc_field(default=None, nullable=True)
    slug: str | None = Field(default=None, max_length=SLUG_LENGTH)
    #: "answer" (a routed question's answer), "message" (saved with the shortcut) or
    #: "written" (a manager's new entry, recorded as approved).
    kind: str = Field(default=ANSWER_DRAFT, max_length=16)
    #: A link back to the Slack message it was saved from.
    source_url: str | None = Field(default=None, max_length=SOURCE_URL_LIMIT)
    #: Why the reviewer rejected it (the author is told).
    decision_note: str | None = Field(default=None, max_length=REASON_LIMIT)


class EntryReview(TeamKeyed, table=True):
    __tablename__ = "entry_review"

    slug: str = Field(max_length=SLUG_LENGTH, primary_key=True)
    #: The day someone confirmed in Slack that the entry is still true (counts as a review).
    confirmed_on: date | None = None
    confirmed_by: str | None = Field(default=None, max_length=32)
    #: When the owner was last sent a reminder to review it.
    reminded_at: datetime | None = utc_field(default=None, nullable=True)


def reviews(session: Session, *, team_id: str) -> dict[str, EntryReview]:
    query = select(EntryReview).where(EntryReview.team_id == team_id)
    return {row.slug: row for row in session.exec(query)}


def confirm(session: Session, *, team_id: str, slug: str, user_id: str, on: date) -> None:
    """Record that `user_id` confirmed the entry on `on`; the reminder clock starts again."""
    statement = insert_for(session)(EntryReview).values(
        team_id=team_id, slug=slug, confirmed_on=on, confirmed_by=user_id, reminded_at=None
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "slug"],
            set_={"confirmed_on": on, "confirmed_by": user_id, "reminded_at": None},
        )
    )


def claim_reminder(
    session: Session, *, team_id: str, slug: str, now: datetime, not_since: datetime
) -> bool:
    """Take the right to remind the entry's owner now: True unless a reminder went out at or
    after `not_since` (by this instance or another)."""
    statement = insert_for(session)(EntryReview).values(team_id=team_id, slug=slug, reminded_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", "slug"],
        set_={"reminded_at": now},
        where=or_(
            col(EntryReview.reminded_at).is_(None),
            col(EntryReview.reminded_at) < not_since,
        ),
    )
    return changed(session, statement)


# --- drafts ---------------------------------------------------------------------------------


def add_draft(
    session: Session, *, team_id: str, at: datetime, status: str = PENDING, **fields: Any
) -> EntryDraft:
    row = EntryDraft(team_id=team_id, proposed_at=at, status=status, **fields)
    session.add(row)
    session.flush()
    return row


def draft(session: Session, *, team_id: str, draft_id: int) -> EntryDraft | None:
    row = session.get(EntryDraft, draft_id)
    return row if row is not None and row.team_id == team_id else None


def drafts(
    session: Session, *, team_id: str, status: str | None = None, routed_id: int | None = None
) -> list[EntryDraft]:
    query = select(EntryDraft).where(EntryDraft.team_id == team_id)
    if status is not None:
        query = query.where(EntryDraft.status == status)
    if routed_id is not None:
        query = query.where(EntryDraft.routed_id == routed_id)
    return list(session.exec(query.order_by(col(EntryDraft.id))))


def decide_draft(
    session: Session,
    *,
    team_id: str,
    draft_id: int,
    status: str,
    reviewer: str,
    at: datetime,
    fields: dict[str, Any] | None = None,
) -> bool:
    """Approve or reject a pending draft (with the reviewer's edits); one decision wins."""
    values = {"status": status, "reviewed_by": reviewer, "reviewed_at": at, **(fields or {})}
    return changed(session, _while_pending(team_id, draft_id).values(**values))


def revise_draft(session: Session, *, team_id: str, draft_id: int, fields: dict[str, Any]) -> bool:
    """Change a draft while it waits (its source page changed); False once it was decided."""
    return changed(session, _while_pending(team_id, draft_id).values(**fields))


def _while_pending(team_id: str, draft_id: int) -> Any:
    """An UPDATE of the draft that matches only while it waits: one decision wins."""
    return update(EntryDraft).where(
        col(EntryDraft.team_id) == team_id,
        col(EntryDraft.id) == draft_id,
        col(EntryDraft.status) == PENDING,
    )


def entries_accepted(session: Session, *, team_id: str, user_id: str) -> int:
    """Approved drafts whose answer is this person's (its owner; else who proposed it)."""
    author = func.coalesce(EntryDraft.owner, EntryDraft.proposed_by)
    query = (
        select(func.count())
        .select_from(EntryDraft)
        .where(EntryDraft.team_id == team_id, EntryDraft.status == APPROVED, author == user_id)
    )
    return int(session.exec(query).one())
