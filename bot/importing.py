"""Importing a company's existing knowledge: the pages `bot.importers` reads from a wiki
export, a docs folder or an FAQ spreadsheet become knowledge entries, curated before they
answer and kept in sync with their source.

Each page is known by (source, key) in `store.importing`, so importing the same source again
updates what changed in place (the same entry: its slug, learned wordings and history stay),
adds what is new, leaves what is unchanged alone, and flags for review the entries whose page
disappeared from the source rather than deleting them. A new page that means the same as an
entry Eddy already has (its title is that entry's, or its meaning is that close to one of
the entry's wordings) is reported as a near-duplicate, not added twice.

With `review` (the default) new and changed pages wait in the review queue as drafts; without
it they answer at once. A dry run decides everything and writes nothing.

    read = read_source(Path("export.zip"))
    report = import_pages(runtime, read, source="export.zip", review=True)
    report.created, report.updated, report.unchanged, report.skipped, report.duplicates
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rapidfuzz import utils
from sqlmodel import Session

from bot import meaning
from bot.content.entries import KnowledgeEntry
from bot.content.limits import TITLE_LIMIT
from bot.importers import ImportedPage, Skipped, SourceRead
from bot.privacy import looks_like_user_id
from bot.review import free_slug
from bot.runtime import HomeChanged, Runtime
from store import importing as rows
from store import knowledge as entry_rows
from store import review as draft_rows

log = logging.getLogger(__name__)

#: The source of an entry that came from an import (`knowledge_entry.source`).
IMPORTED = "import"
IMPORT_DRAFT = draft_rows.IMPORT_DRAFT
#: A new page at least this close in meaning to one of an entry's wordings is that entry
#: again (sentence embeddings' cosine, bot/meaning.py): reported, not added.
SAME_MEANING = 0.92
#: ... and its text at least this close to the entry's text (the first BODY_CHARACTERS of each).
BODY_MEANING = 0.9
BODY_CHARACTERS = 1000


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), page by page."""

    source: str
    format: str
    review: bool
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: (the page's title, the title of the entry it repeats)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    #: Titles of pages gone from the source: their entries are kept and flagged for review.
    gone: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fingerprint(page: ImportedPage, topic: str | None, owner: str | None) -> str:
    """What a page says, in a few characters: an unchanged page is left alone."""
    said = [page.title, page.body, list(page.questions), list(page.tags), topic, owner, page.link]
    return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode()).hexdigest()


def import_pages(
    runtime: Runtime,
    read: SourceRead,
    *,
    source: str,
    topic: str | None = None,
    owner: str | None = None,
    review: bool = True,
    dry_run: bool = False,
    reviewer: str | None = None,
    progress: Callable[[], None] | None = None,
) -> ImportReport:
    """Bring the pages of one read source into Eddy (see the module). `topic` and `owner`
    apply to pages that name none; `reviewer` proposes the drafts (who the queue shows)."""
    report = ImportReport(
        source=source,
        format=read.format,
        review=review,
        dry_run=dry_run,
        skipped=list(read.skipped),
        notes=list(read.notes),
    )
    now = runtime.clock.now()
    with runtime.store.session() as session:
        known = rows.pages(session, team_id=runtime.team_id, source=source)
    seen: set[str] = set()
    #: The entries this source made (and slugs given out in this run): never repeats of one
    #: another, and never given twice.
    ours = {row.slug for row in known.values() if row.slug}
    #: Entries to publish, and what became of each page, written once every page is read.
    published: list[KnowledgeEntry] = []
    recorded: list[rows.ImportedPage] = []
    titles = {
        utils.default_process(entry.title): entry for entry in runtime.catalogue.index.entries
    }
    for page in read.pages:
        if progress is not None:
            progress()
        if page.key in seen:
            report.skipped.append(Skipped(page.source, "the same page twice in one source"))
            continue
        seen.add(page.key)
        chosen_topic = page.topic or topic
        if chosen_topic and chosen_topic not in runtime.catalogue.topics:
            chosen_topic = None
            report.notes.append(f"{page.source}: topic {page.topic!r} is not in networks.yml")
        chosen_owner = owner
        if page.owner and looks_like_user_id(page.owner):
            chosen_owner = page.owner
        elif page.owner:
            report.notes.append(
                f"{page.source}: owner {page.owner!r} is not a Slack member ID (like U012ABCDEF)"
            )
        said = fingerprint(page, chosen_topic, chosen_owner)
        row = known.get(page.key)
        if (
            row is not None
            and row.fingerprint == said
            and row.gone_at is None
            and (row.slug or row.draft_id)
        ):
            report.unchanged.append(page.title)
            continue
        entry_slug = row.slug if row is not None and row.slug else None
        if entry_slug is not None and runtime.catalogue.get(entry_slug) is None:
            entry_slug = None  # its entry was removed since: the page comes back as new
        draft_id = row.draft_id if row is not None and entry_slug is None else None
        if draft_id is not None and not _pending(runtime, draft_id):
            draft_id = None
        if entry_slug is None and draft_id is None:
            repeated = _repeats(runtime, page, titles, ours)
            if repeated is not None:
                report.duplicates.append((page.title, repeated.title))
                continue
        updating = entry_slug is not None or draft_id is not None
        (report.updated if updating else report.created).append(page.title)
        if dry_run:
            continue
        made = rows.ImportedPage(
            team_id=runtime.team_id,
            source=source,
            key=page.key,
            title=page.title[:TITLE_LIMIT],
            origin=page.source[: rows.KEY_LENGTH],
            link=(page.link or "")[: rows.KEY_LENGTH] or None,
            fingerprint=said,
            slug=entry_slug,
            draft_id=draft_id,
            imported_at=row.imported_at if row is not None else now,
            updated_at=now,
            gone_at=None,
        )
        entry_slug = _save(
            runtime,
            page,
            made,
            topic=chosen_topic,
            owner=chosen_owner,
            review=review,
            reviewer=reviewer or chosen_owner or "",
            taken=ours,
            published=published,
            recorded=recorded,
        )
        if entry_slug is not None:
            ours.add(entry_slug)
    # The entries and what became of their pages in one unit of work: an import stopped
    # half-way leaves no entry that its page does not name (the next run would add it twice).
    runtime.catalogue.publish_all(runtime, published, with_them=partial(_record, recorded))
    for key, row in known.items():
        if key in seen or row.gone_at is not None:
            continue
        report.gone.append(row.title)
        if dry_run:
            continue
        with runtime.store.session() as session:
            row.gone_at = now
            rows.save_page(session, row)
            if row.slug is not None:
                entry_rows.flag_entry(session, team_id=runtime.team_id, slug=row.slug, at=now)
    if not dry_run:
        runtime.notify(HomeChanged(managers=True))
    return report


def _record(recorded: list[rows.ImportedPage], session: Session) -> None:
    for made in recorded:
        rows.save_page(session, made)


def _pending(runtime: Runtime, draft_id: int) -> bool:
    with runtime.store.session() as session:
        found = draft_rows.draft(session, team_id=runtime.team_id, draft_id=draft_id)
        return found is not None and found.status == draft_rows.PENDING


def _repeats(
    runtime: Runtime,
    page: ImportedPage,
    titles: dict[str, KnowledgeEntry],
    ours: set[str],
) -> KnowledgeEntry | None:
    """The entry a new page repeats: one with the same title, or one that means the same in
    both its title (as close as SAME_MEANING to one of its wordings) and its text (BODY_MEANING).
    Entries of the same source (`ours`: other sections of one document, say) are not
    repeats: they were imported side by side."""
    same = titles.get(utils.default_process(page.title))
    if same is not None and same.slug not in ours:
        return same
    hits = [
        hit for hit in runtime.catalogue.index.search(page.title, limit=3) if hit.slug not in ours
    ]
    if not hits:
        return None
    title_vector, body_vector = meaning.embed([page.title, page.body[:BODY_CHARACTERS]])
    for hit in hits:
        entry = runtime.catalogue.get(hit.slug)
        if entry is None:
            continue
        title_close = float(runtime.catalogue.index.closeness(hit.slug, title_vector[None, :])[0])
        if title_close < SAME_MEANING:
            continue
        (entry_body,) = meaning.embed([entry.body[:BODY_CHARACTERS]])
        if float(body_vector @ entry_body) >= BODY_MEANING:
            return entry
    return None


def _save(
    runtime: Runtime,
    page: ImportedPage,
    made: rows.ImportedPage,
    *,
    topic: str | None,
    owner: str | None,
    review: bool,
    reviewer: str,
    taken: set[str],
    published: list[KnowledgeEntry],
    recorded: list[rows.ImportedPage],
) -> str | None:
    """Put the page in the review queue, or make its entry (added to `published`, which the
    caller publishes at once); the entry's slug it has, if any. `made` is what the import
    records of the page (`slug` and `draft_id` as they were): completed here, and saved with
    its draft in one unit of work, or added to `recorded` to be saved with its entry. `taken`
    are the slugs this import gave out already."""
    title = page.title[:TITLE_LIMIT]
    body = page.body
    if page.link:
        label = page.source.replace("[", "(").replace("]", ")")
        body = f"{body}\n\n_From [{label}]({page.link})_"
    if review:
        fields: dict[str, Any] = {
            "title": title,
            "body": body,
            "topic": topic,
            "questions": list(page.questions),
            "owner": owner,
            "source_url": page.link if page.link and len(page.link) <= 500 else None,
        }
        with runtime.store.session() as session:
            if made.draft_id is not None:
                draft_rows.revise_draft(
                    session, team_id=runtime.team_id, draft_id=made.draft_id, fields=fields
                )
            else:
                made.draft_id = draft_rows.add_draft(
                    session,
                    team_id=runtime.team_id,
                    at=runtime.clock.now(),
                    kind=IMPORT_DRAFT,
                    proposed_by=reviewer,
                    slug=made.slug,
                    **fields,
                ).id
            rows.save_page(session, made)
        return made.slug
    entry = KnowledgeEntry(
        slug=made.slug or free_slug(runtime, title, taken=taken),
        title=title,
        body=body,
        questions=page.questions,
        tags=page.tags,
        topic=topic,
        owner=owner,
        reviewed=runtime.clock.now().date(),
        source=IMPORTED,
    )
    published.append(entry)
    made.slug = entry.slug
    recorded.append(made)
    return entry.slug
