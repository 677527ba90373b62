"""The review queue: what community managers keep true in the knowledge index.

Three kinds of work wait there: entries proposed in Slack (an expert's answer, or any message
saved with the "Save to Eddy" shortcut), entries someone found Not helpful, and entries nobody
has reviewed for `EDDY_REVIEW_AFTER_DAYS` (their owners are reminded by DM, again every
REMIND_AGAIN while the entry stays overdue).

Drafts are the networks' (`bot.networks.review` approves and rejects them); this module adds
the shortcut's drafts, the live entries' side and the reminders. Every change is checked
against `runtime.is_manager` here, whatever the caller showed: a forged request changes
nothing.

    found = queue(runtime, now=clock.now())          # drafts, flagged and overdue entries
    outcome = revise(runtime, slug="reset-vpn-password", editor="U1", fields={...})
    reminders = remind_owners(runtime, now)          # the scheduled job; notices to DM
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot import gaps, networks
from bot.content import KnowledgeEntry
from bot.library import file_fingerprint, to_entry
from bot.networks import Draft, Outcome
from bot.people import is_former_member
from bot.runtime import HomeChanged, Runtime
from store import knowledge as entry_rows
from store import review as rows

log = logging.getLogger(__name__)

#: An owner who has not reviewed an overdue entry hears again after this long.
REMIND_AGAIN = timedelta(days=14)
#: Entries listed in one reminder DM (the rest are in the review queue).
ENTRIES_PER_REMINDER = 10


@dataclass(frozen=True)
class Flagged:
    """A live entry someone rated Not helpful since its last review."""

    entry: KnowledgeEntry
    not_helpful: int
    helpful: int
    flagged_at: datetime


@dataclass(frozen=True)
class Overdue:
    """A live entry past its review date."""

    entry: KnowledgeEntry
    #: Its last review: the `reviewed` date in its file, or a confirmation made in Slack.
    last_reviewed: date | None
    due_on: date
    reminded_at: datetime | None


@dataclass(frozen=True)
class Queue:
    drafts: tuple[Draft, ...]
    flagged: tuple[Flagged, ...]
    overdue: tuple[Overdue, ...]

    def __len__(self) -> int:
        return len(self.drafts) + len(self.flagged) + len(self.overdue)


@dataclass(frozen=True)
class ReviewReminder:
    """An owner to remind of their overdue entries (handed to `runtime.notify`)."""

    owner: str
    entries: tuple[Overdue, ...]
    #: How many more of theirs are overdue than the reminder lists.
    more: int = 0


def queue(runtime: Runtime, *, now: datetime) -> Queue:
    """Everything waiting for a reviewer: drafts oldest first, flagged entries most recently
    flagged first, overdue entries longest overdue first."""
    with runtime.store.session() as session:
        stored = entry_rows.entries(session, team_id=runtime.team_id)
        confirmed = rows.reviews(session, team_id=runtime.team_id)
    flagged = [
        Flagged(to_entry(row), row.not_helpful_count, row.helpful_count, row.flagged_at)
        for row in stored
        if row.flagged_at is not None
    ]
    flagged.sort(key=lambda item: item.flagged_at, reverse=True)
    overdue = [
        item
        for row in stored
        if (item := _overdue(runtime, row, confirmed.get(row.slug), now)) is not None
    ]
    overdue.sort(key=lambda item: (item.due_on, item.entry.slug))
    return Queue(tuple(networks.pending_drafts(runtime)), tuple(flagged), tuple(overdue))


def _overdue(
    runtime: Runtime, row: Any, review: rows.EntryReview | None, now: datetime
) -> Overdue | None:
    """The entry as overdue, or None while it is not. An entry never reviewed counts from
    the day Eddy first served it in this form."""
    reviews = [day for day in (row.reviewed, review and review.confirmed_on) if day]
    last = max(reviews) if reviews else None
    since = last or row.updated_at.date()
    due_on = since + timedelta(days=runtime.settings.eddy_review_after_days)
    if due_on > now.date():
        return None
    return Overdue(to_entry(row), last, due_on, review.reminded_at if review else None)


# --- drafts from any message --------------------------------------------------------------


def suggest(
    runtime: Runtime,
    *,
    user_id: str,
    author: str | None,
    title: str,
    body: str,
    topic_key: str | None,
    questions: list[str],
    source_url: str | None,
) -> Draft:
    """Put a message someone saved with the shortcut in the review queue. Its `author` (a
    person, not a bot) gets the credit when it is approved."""
    with runtime.store.session() as session:
        row = rows.add_draft(
            session,
            team_id=runtime.team_id,
            at=runtime.clock.now(),
            title=title,
            body=body,
            topic=topic_key,
            questions=questions,
            owner=author,
            proposed_by=user_id,
            kind=rows.MESSAGE_DRAFT,
            source_url=source_url,
        )
        found = networks.draft_from_row(row)
    runtime.notify(HomeChanged(managers=True))
    return found


def may_quote(user_id: str, *, public: bool, members: Collection[str]) -> bool:
    """Whether someone may save a message from a conversation into the review queue: one
    they can read (a public channel, or one they are in), so that saving never shows them
    a thread they could not see."""
    return public or user_id in members


# --- live entries ---------------------------------------------------------------------------


def entry(runtime: Runtime, slug: str) -> KnowledgeEntry | None:
    return runtime.knowledge.get(slug)


def editable(runtime: Runtime, *, slug: str, editor: str) -> tuple[Outcome, KnowledgeEntry | None]:
    """Whether `editor` may edit a live entry (its owner, or a community manager): DONE
    with the entry, NOT_ALLOWED, or GONE."""
    current = runtime.knowledge.get(slug)
    if current is None:
        return Outcome.GONE, None
    if editor != current.owner and not runtime.is_manager(editor):
        log.warning("Refused an edit of %s by %s, neither owner nor manager", slug, editor)
        return Outcome.NOT_ALLOWED, None
    return Outcome.DONE, current


def revise(
    runtime: Runtime, *, slug: str, editor: str, fields: dict[str, Any]
) -> tuple[Outcome, KnowledgeEntry | None]:
    """An edit of a live entry by a manager or its owner: searchable at once, its flag
    cleared, and counted as its review. An entry from a content file keeps the edit until
    that file changes (then the file wins again: it is where the company keeps content)."""
    outcome, current = editable(runtime, slug=slug, editor=editor)
    if outcome is not Outcome.DONE or current is None:
        return outcome, None
    revised = replace(
        current,
        title=fields["title"],
        body=fields["body"],
        topic=fields.get("topic"),
        questions=tuple(fields.get("questions", ())),
        reviewed=runtime.clock.now().date(),
    )
    based_on = None
    if current.source == "file":
        with runtime.store.session() as session:
            row = entry_rows.entry(session, team_id=runtime.team_id, slug=slug)
            based_on = (row.file_version if row else None) or file_fingerprint(current)
    runtime.knowledge.publish(runtime, revised, wordings=[], learned_from=None, based_on=based_on)
    _reviewed(runtime, slug, editor)
    return Outcome.DONE, runtime.knowledge.get(slug)


def may_write(runtime: Runtime, user_id: str) -> bool:
    """Only community managers write an entry from a knowledge gap (published at once)."""
    if runtime.is_manager(user_id):
        return True
    log.warning("Refused a new entry by %s, who is not a community manager", user_id)
    return False


def write_entry(
    runtime: Runtime, *, author: str, fields: dict[str, Any], gap_id: int | None = None
) -> tuple[Outcome, KnowledgeEntry | None]:
    """A manager writes a missing entry (from a knowledge gap): published at once, with the
    gap's wordings learned, and the gap's questions leave the list."""
    if not may_write(runtime, author):
        return Outcome.NOT_ALLOWED, None
    now = runtime.clock.now()
    written = KnowledgeEntry(
        slug=networks.free_slug(runtime, fields["title"]),
        title=fields["title"],
        body=fields["body"],
        topic=fields.get("topic"),
        owner=author,
        reviewed=now.date(),
        source="slack",
    )
    runtime.knowledge.publish(
        runtime, written, wordings=list(fields.get("questions", ())), learned_from=author
    )
    with runtime.store.session() as session:
        rows.add_draft(
            session,
            team_id=runtime.team_id,
            at=now,
            status=rows.APPROVED,
            kind=rows.WRITTEN_ENTRY,
            title=written.title[:200],
            body=written.body,
            topic=written.topic,
            questions=list(fields.get("questions", ())),
            owner=author,
            proposed_by=author,
            reviewed_by=author,
            reviewed_at=now,
            slug=written.slug,
        )
    if gap_id is not None:
        gaps.close(runtime, question_id=gap_id, slug=written.slug, now=now)
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE, runtime.knowledge.get(written.slug)


def dismiss_flag(runtime: Runtime, *, slug: str, manager: str) -> Outcome:
    """A manager looked at a Not-helpful flag and found the entry fine."""
    if not runtime.is_manager(manager):
        log.warning("Refused to clear the flag of %s for %s, not a manager", slug, manager)
        return Outcome.NOT_ALLOWED
    with runtime.store.session() as session:
        cleared = entry_rows.clear_flag(session, team_id=runtime.team_id, slug=slug)
    if cleared:
        runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE if cleared else Outcome.ALREADY


def confirm(runtime: Runtime, *, slug: str, user_id: str) -> Outcome:
    """Someone says the entry is still true: its owner (from the reminder) or a manager."""
    current = runtime.knowledge.get(slug)
    if current is None:
        return Outcome.GONE
    if user_id != current.owner and not runtime.is_manager(user_id):
        log.warning("Refused a review of %s by %s, neither owner nor manager", slug, user_id)
        return Outcome.NOT_ALLOWED
    _reviewed(runtime, slug, user_id)
    return Outcome.DONE


def _reviewed(runtime: Runtime, slug: str, user_id: str) -> None:
    with runtime.store.session() as session:
        rows.confirm(
            session,
            team_id=runtime.team_id,
            slug=slug,
            user_id=user_id,
            on=runtime.clock.now().date(),
        )
        entry_rows.clear_flag(session, team_id=runtime.team_id, slug=slug)
    runtime.notify(HomeChanged(managers=True))


# --- reminders ------------------------------------------------------------------------------


def remind_owners(runtime: Runtime, now: datetime) -> list[ReviewReminder]:
    """Remind each owner of their overdue entries: once when an entry comes due, then every
    REMIND_AGAIN until someone reviews it. Safe on several instances at once: each entry's
    reminder is claimed in the database before anyone is told. An entry whose owner was
    forgotten has nobody to remind: it waits in the managers' review queue."""
    overdue = queue(runtime, now=now).overdue
    by_owner: dict[str, list[Overdue]] = {}
    for item in overdue:
        if item.entry.owner and not is_former_member(item.entry.owner):
            by_owner.setdefault(item.entry.owner, []).append(item)
    reminders = []
    for owner, items in sorted(by_owner.items()):
        claimed = []
        with runtime.store.session() as session:
            for item in items:
                if rows.claim_reminder(
                    session,
                    team_id=runtime.team_id,
                    slug=item.entry.slug,
                    now=now,
                    not_since=now - REMIND_AGAIN,
                ):
                    claimed.append(item)
        if claimed:
            shown = tuple(claimed[:ENTRIES_PER_REMINDER])
            reminders.append(ReviewReminder(owner, shown, len(claimed) - len(shown)))
    for reminder in reminders:
        runtime.notify(reminder)
    return reminders
