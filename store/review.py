"""The review side of knowledge entries: when someone last confirmed an entry is still true,
and when its owner was last reminded.

Kept apart from `knowledge_entry`, whose rows a content sync rewrites from the files: a
confirmation made in Slack must survive that. A reminder is claimed with one conditional
upsert, so that several Eddy instances running the reminder job remind an owner once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Field, Session, col, select

from store.base import SLUG_LENGTH, TeamKeyed, changed, insert_for, utc_field


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
