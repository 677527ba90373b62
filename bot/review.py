"""The review queue: what community managers keep true in the knowledge index, and the one
home of drafts (entries proposed in Slack) from their proposal to their review.

Three kinds of work wait there: drafts (an expert's resolved answer, saved with "Save to
knowledge index", or any message saved with the "Save to Eddy" shortcut), entries someone
found Not helpful, and entries nobody has reviewed for `EDDY_REVIEW_AFTER_DAYS` (their owners
are reminded by DM, again every REMIND_AGAIN while the entry stays overdue).

Who may do what is decided here, whatever the caller showed (a forged request changes
nothing, is logged, and gets NOT_ALLOWED):

- draft a resolved answer: who may save it (`bot.networks.savable`: the expert who answered,
  the asker, managers); save a message: anyone who can read it (`may_quote`).
- review a draft (view, edit, approve, reject): the topic's managers and community managers;
  when two decide at once the first one wins.
- edit a live entry: its owner or a community manager; the rest: community managers.

This module uses the networks (a draft's topic and its managers, the routed question an
answer's draft came from, which `bot.networks.drafted` and `saved` keep up to date), never the
other way round.

    outcome, draft = propose(runtime, routed_id=7, user_id="U2", title="…", body="…", …)
    outcome, draft = review(runtime, draft_id=draft.id, reviewer="U9", approve=True)
    found = queue(runtime, now=clock.now())          # drafts, flagged and overdue entries
    outcome = revise(runtime, slug="reset-vpn-password", editor="U1", fields={...})
    reminders = remind_owners(runtime, now)          # the scheduled job; notices to DM
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot import badges, gaps, networks, xapi
from bot.content.catalogue import file_fingerprint, to_entry
from bot.content.entries import KnowledgeEntry
from bot.networks import Outcome
from bot.people import is_former_member
from bot.runtime import HomeChanged, Runtime
from store import importing as import_rows
from store import knowledge as entry_rows
from store import review as rows

log = logging.getLogger(__name__)

#: An owner who has not reviewed an overdue entry hears again after this long.
REMIND_AGAIN = timedelta(days=14)
#: Entries listed in one reminder DM (the rest are in the review queue).
ENTRIES_PER_REMINDER = 10
#: The longest slug made from a new entry's title (before a number that keeps it free).
SLUG_LIMIT = 80
#: The longest rejection reason, and the longest link to a draft's message, as typed.
REASON_LIMIT, SOURCE_URL_LIMIT = rows.REASON_LIMIT, rows.SOURCE_URL_LIMIT


@dataclass(frozen=True)
class Draft:
    """A knowledge entry proposed in Slack, as the review queue holds it."""

    id: int
    title: str
    body: str
    topic: str | None
    questions: tuple[str, ...]
    proposed_by: str
    status: str
    routed_id: int | None = None
    owner: str | None = None
    slug: str | None = None
    reviewed_by: str | None = None
    #: "answer" (from a routed question) or "message" (saved with the shortcut).
    kind: str = rows.ANSWER_DRAFT
    source_url: str | None = None
    decision_note: str | None = None
    proposed_at: datetime | None = None


@dataclass(frozen=True)
class AnswerDraftChanged:
    """The draft of a routed question's answer was proposed or decided: the question's posts,
    which offered to save it, are to be redrawn (the review handlers hand it to
    `runtime.notify`; the networks' handlers redraw them)."""

    routed_id: int


@dataclass(frozen=True)
class Learned:
    """A wording Helpful clicks attached to an entry, as managers see it."""

    id: int
    slug: str
    wording: str
    taught_by: str | None
    taught_at: datetime
    #: Whether it leads everyone to the entry (else only the person who taught it).
    shared: bool
    #: How often others corroborated it.
    confirmations: int
    confirmed_by: str | None
    #: Not helpful votes on answers it gave.
    not_helpful: int
    removed_at: datetime | None
    removed_by: str | None


@dataclass(frozen=True)
class Flagged:
    """A live entry someone rated Not helpful since its last review."""

    entry: KnowledgeEntry
    not_helpful: int
    helpful: int
    flagged_at: datetime
    #: Its learned wordings that gave answers rated Not helpful (the flag they caused).
    learned: tuple[Learned, ...] = ()
    #: The imported source whose page it came from disappeared (`app.py content import`).
    gone_from: str | None = None


@dataclass(frozen=True)
class Overdue:
    """A live entry past its review date."""

    entry: KnowledgeEntry
    #: Its last review: the `reviewed` date in its file, or a confirmation made in Slack.
    last_reviewed: date | None
    due_on: date
    reminded_at: datetime | None


@dataclass(frozen=True)
class ImportBatch:
    """The drafts one import of a source left waiting, reviewed together (`approve_batch`)."""

    source: str
    drafts: tuple[Draft, ...]


@dataclass(frozen=True)
class Queue:
    drafts: tuple[Draft, ...]
    flagged: tuple[Flagged, ...]
    overdue: tuple[Overdue, ...]
    imports: tuple[ImportBatch, ...] = ()

    def __len__(self) -> int:
        batches = sum(len(batch.drafts) for batch in self.imports)
        return len(self.drafts) + len(self.flagged) + len(self.overdue) + batches


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
        taught = entry_rows.learned_questions(session, team_id=runtime.team_id)
        gone = import_rows.gone_pages(session, team_id=runtime.team_id)
        batch_of = import_rows.draft_sources(session, team_id=runtime.team_id)
    blamed: dict[str, list[Learned]] = {}
    for question in taught:
        if question.not_helpful:
            blamed.setdefault(question.slug, []).append(_learned(question))
    flagged = [
        Flagged(
            to_entry(row),
            row.not_helpful_count,
            row.helpful_count,
            row.flagged_at,
            tuple(blamed.get(row.slug, ())),
            gone.get(row.slug),
        )
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
    proposed: list[Draft] = []
    batches: dict[str, list[Draft]] = {}
    for found in pending_drafts(runtime):
        source = batch_of.get(found.id) if found.kind == rows.IMPORT_DRAFT else None
        if source is None:
            proposed.append(found)
        else:
            batches.setdefault(source, []).append(found)
    imports = tuple(ImportBatch(source, tuple(items)) for source, items in batches.items())
    return Queue(tuple(proposed), tuple(flagged), tuple(overdue), imports)


def approve_batch(runtime: Runtime, *, source: str, reviewer: str) -> tuple[int, int]:
    """Approve every draft an import of `source` left waiting (after a look at some): (how
    many were published, how many the reviewer may not review). Each draft is authorised as
    when approved one by one."""
    with runtime.store.session() as session:
        waiting = import_rows.draft_sources(session, team_id=runtime.team_id)
    approved = refused = 0
    for draft_id in sorted(found for found, name in waiting.items() if name == source):
        outcome, _ = review(runtime, draft_id=draft_id, reviewer=reviewer, approve=True)
        approved += outcome is Outcome.DONE
        refused += outcome is Outcome.NOT_ALLOWED
    return approved, refused


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


# --- drafts from a resolved answer, and their review -----------------------------------------


def pending_draft(runtime: Runtime, routed_id: int) -> Draft | None:
    with runtime.store.session() as session:
        found = rows.drafts(session, team_id=runtime.team_id, routed_id=routed_id)
    for row in found:
        if row.status in (rows.PENDING, rows.APPROVED):
            return draft_from_row(row)
    return None


def propose(
    runtime: Runtime,
    *,
    routed_id: int,
    user_id: str,
    title: str,
    body: str,
    topic_key: str | None,
    questions: list[str],
) -> tuple[Outcome, Draft | None]:
    """Put an entry drafted from a resolved answer in the review queue."""
    outcome, current = networks.savable(runtime, routed_id=routed_id, user_id=user_id)
    if outcome is not Outcome.DONE or current is None:
        return (Outcome.GONE if outcome is Outcome.UNRESOLVED else outcome), None
    earlier = pending_draft(runtime, routed_id)
    if earlier is not None:
        return Outcome.ALREADY, earlier
    now = runtime.clock.now()
    with runtime.store.session() as session:
        row = rows.add_draft(
            session,
            team_id=runtime.team_id,
            at=now,
            routed_id=routed_id,
            title=title,
            body=body,
            topic=topic_key,
            questions=questions,
            owner=current.answered_by,
            proposed_by=user_id,
        )
        networks.drafted(runtime, session, routed_id, user_id=user_id, draft_id=_id(row), at=now)
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE, draft_from_row(row)


def draft(runtime: Runtime, draft_id: int) -> Draft | None:
    with runtime.store.session() as session:
        row = rows.draft(session, team_id=runtime.team_id, draft_id=draft_id)
    return draft_from_row(row) if row is not None else None


def pending_drafts(runtime: Runtime) -> list[Draft]:
    with runtime.store.session() as session:
        return [
            draft_from_row(row)
            for row in rows.drafts(session, team_id=runtime.team_id, status=rows.PENDING)
        ]


def draft_to_review(
    runtime: Runtime, *, draft_id: int, reviewer: str
) -> tuple[Outcome, Draft | None]:
    """The pending draft `reviewer` wants to view, edit or reject: DONE with it; NOT_ALLOWED
    for anyone but the topic's managers and community managers; ALREADY (reviewed, with the
    draft); GONE."""
    found = draft(runtime, draft_id)
    if found is None:
        return Outcome.GONE, None
    chosen = networks.topic(runtime, found.topic) if found.topic else None
    if not networks.may_manage(runtime, reviewer, chosen):
        log.warning("Refused draft %s to %s, not a reviewer", draft_id, reviewer)
        return Outcome.NOT_ALLOWED, None
    if found.status != rows.PENDING:
        return Outcome.ALREADY, found
    return Outcome.DONE, found


def reviewers(runtime: Runtime, draft: Draft) -> tuple[str, ...]:
    chosen = networks.topic(runtime, draft.topic) if draft.topic else None
    return (
        networks.managers_of(runtime, chosen) if chosen else tuple(runtime.settings.eddy_managers)
    )


def review(
    runtime: Runtime,
    *,
    draft_id: int,
    reviewer: str,
    approve: bool,
    edits: dict[str, Any] | None = None,
    reason: str | None = None,
) -> tuple[Outcome, Draft | None]:
    """Approve (publish, searchable at once) or reject a draft (with the `reason` its author
    is told); only managers may, and when two decide at once the first one wins."""
    found = draft(runtime, draft_id)
    if found is None:
        return Outcome.GONE, None
    chosen = networks.topic(runtime, found.topic) if found.topic else None
    if not networks.may_manage(runtime, reviewer, chosen):
        log.warning("Refused a review of draft %s by %s, not a reviewer", draft_id, reviewer)
        return Outcome.NOT_ALLOWED, None
    fields = dict(edits or {})
    now = runtime.clock.now()
    if not approve:
        with runtime.store.session() as session:
            won = rows.decide_draft(
                session,
                team_id=runtime.team_id,
                draft_id=draft_id,
                status=rows.REJECTED,
                reviewer=reviewer,
                at=now,
                fields={"decision_note": reason} if reason else None,
            )
        if won:
            runtime.notify(HomeChanged(managers=True))
        return (Outcome.DONE if won else Outcome.ALREADY), draft(runtime, draft_id)
    merged = {**_draft_fields(found), **fields}
    slug = found.slug or free_slug(runtime, merged["title"])
    with runtime.store.session() as session:
        won = rows.decide_draft(
            session,
            team_id=runtime.team_id,
            draft_id=draft_id,
            status=rows.APPROVED,
            reviewer=reviewer,
            at=now,
            fields={**fields, "slug": slug},
        )
        if won and found.kind == rows.IMPORT_DRAFT:
            import_rows.published(session, team_id=runtime.team_id, draft_id=draft_id, slug=slug)
        if won and found.routed_id is not None:
            networks.saved(
                runtime,
                session,
                found.routed_id,
                slug=slug,
                reviewer=reviewer,
                credit=found.owner,
                at=now,
            )
    if not won:
        return Outcome.ALREADY, draft(runtime, draft_id)
    imported = found.kind == rows.IMPORT_DRAFT
    entry = KnowledgeEntry(
        slug=slug,
        title=merged["title"],
        body=merged["body"],
        # An imported page's questions are its source's own, curated like a file's.
        questions=tuple(merged["questions"]) if imported else (),
        topic=merged["topic"],
        owner=found.owner,
        reviewed=now.date(),
        source="import" if imported else "slack",
    )
    asked = [] if imported else list(merged["questions"])
    runtime.catalogue.publish(runtime, entry, wordings=asked, learned_from=found.proposed_by)
    if not imported:
        badges.recognise(runtime, found.owner or found.proposed_by, badges.ENTRIES_ACCEPTED)
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE, draft(runtime, draft_id)


def _draft_fields(found: Draft) -> dict[str, Any]:
    return {
        "title": found.title,
        "body": found.body,
        "topic": found.topic,
        "questions": list(found.questions),
    }


def free_slug(runtime: Runtime, title: str, *, taken: Collection[str] = ()) -> str:
    """A slug for a new entry from its title, not taken by another entry (nor in `taken`:
    slugs given out for entries not published yet)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:SLUG_LIMIT].strip("-")
    base = base or "answer"
    slug, number = base, 2
    while slug in taken or runtime.catalogue.get(slug) is not None or _drafted_slug(runtime, slug):
        slug, number = f"{base}-{number}", number + 1
    return slug


def _drafted_slug(runtime: Runtime, slug: str) -> bool:
    with runtime.store.session() as session:
        return any(
            row.slug == slug
            for row in rows.drafts(session, team_id=runtime.team_id, status=rows.APPROVED)
        )


def draft_from_row(row: Any) -> Draft:
    return Draft(
        id=_id(row),
        title=row.title,
        body=row.body,
        topic=row.topic,
        questions=tuple(row.questions),
        proposed_by=row.proposed_by,
        status=row.status,
        routed_id=row.routed_id,
        owner=row.owner,
        slug=row.slug,
        reviewed_by=row.reviewed_by,
        kind=row.kind,
        source_url=row.source_url,
        decision_note=row.decision_note,
        proposed_at=row.proposed_at,
    )


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)


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
        found = draft_from_row(row)
    runtime.notify(HomeChanged(managers=True))
    return found


def may_quote(user_id: str, *, public: bool, members: Collection[str]) -> bool:
    """Whether someone may save a message from a conversation into the review queue: one
    they can read (a public channel, or one they are in), so that saving never shows them
    a thread they could not see."""
    return public or user_id in members


# --- live entries ---------------------------------------------------------------------------


def entry(runtime: Runtime, slug: str) -> KnowledgeEntry | None:
    return runtime.catalogue.get(slug)


def editable(runtime: Runtime, *, slug: str, editor: str) -> tuple[Outcome, KnowledgeEntry | None]:
    """Whether `editor` may edit a live entry (its owner, or a community manager): DONE
    with the entry, NOT_ALLOWED, or GONE."""
    current = runtime.catalogue.get(slug)
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
    runtime.catalogue.publish(runtime, revised, wordings=[], learned_from=None, based_on=based_on)
    _reviewed(runtime, slug, editor)
    return Outcome.DONE, runtime.catalogue.get(slug)


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
        slug=free_slug(runtime, fields["title"]),
        title=fields["title"],
        body=fields["body"],
        topic=fields.get("topic"),
        owner=author,
        reviewed=now.date(),
        source="slack",
    )
    runtime.catalogue.publish(
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
    return Outcome.DONE, runtime.catalogue.get(written.slug)


def _learned(row: Any) -> Learned:
    assert row.id is not None
    return Learned(
        row.id,
        row.slug,
        row.wording,
        row.learned_from,
        row.created_at,
        row.shared,
        row.confirmations,
        row.confirmed_by,
        row.not_helpful,
        row.removed_at,
        row.removed_by,
    )


def learned_wordings(runtime: Runtime, slug: str) -> tuple[Learned, ...]:
    """Every wording learned for an entry, removed ones too, in the order learned."""
    with runtime.store.session() as session:
        taught = entry_rows.learned_questions(session, team_id=runtime.team_id, slug=slug)
    return tuple(_learned(row) for row in taught)


def confirm_wording(runtime: Runtime, *, learned_id: int, manager: str) -> Outcome:
    """A community manager confirms a learned wording for everyone."""
    if not runtime.is_manager(manager):
        log.warning("Refused to confirm learned wording %s for %s", learned_id, manager)
        return Outcome.NOT_ALLOWED
    slug = runtime.catalogue.confirm_wording(runtime, learned_id=learned_id, by=manager)
    if slug is None:
        return Outcome.GONE
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE


def remove_wording(runtime: Runtime, *, learned_id: int, manager: str) -> Outcome:
    """A community manager removes a learned wording for good."""
    if not runtime.is_manager(manager):
        log.warning("Refused to remove learned wording %s for %s", learned_id, manager)
        return Outcome.NOT_ALLOWED
    slug = runtime.catalogue.remove_wording(runtime, learned_id=learned_id, by=manager)
    if slug is None:
        return Outcome.ALREADY
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE


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


def remove_gone(runtime: Runtime, *, slug: str, manager: str) -> Outcome:
    """A manager decided that an entry whose imported page disappeared from its source goes
    too: it no longer answers, here at once and on other instances at their next refresh.
    ALREADY when it was kept, came back in a later import, or is removed already."""
    if not runtime.is_manager(manager):
        log.warning("Refused to remove %s for %s, not a manager", slug, manager)
        return Outcome.NOT_ALLOWED
    xapi.record_before_change(runtime.store, runtime.team_id, runtime.clock.now())
    with runtime.store.session() as session:
        entry = entry_rows.entry(session, team_id=runtime.team_id, slug=slug)
        if entry is None or entry.flagged_at is None:
            return Outcome.ALREADY
        if not import_rows.forget_gone(session, team_id=runtime.team_id, slug=slug):
            return Outcome.ALREADY
        entry_rows.delete_entry(session, team_id=runtime.team_id, slug=slug)
    runtime.catalogue.forget(slug)
    log.info("Knowledge entry %s, gone from its imported source, was removed by %s", slug, manager)
    runtime.notify(HomeChanged(managers=True))
    return Outcome.DONE


def confirm(runtime: Runtime, *, slug: str, user_id: str) -> Outcome:
    """Someone says the entry is still true: its owner (from the reminder) or a manager."""
    current = runtime.catalogue.get(slug)
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
