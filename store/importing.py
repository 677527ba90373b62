"""Pages imported from a company's existing knowledge (a wiki export, a docs folder, an FAQ
spreadsheet), and the knowledge entry or review draft each became.

One row per (source, page key): importing the same source again finds its pages here, so a
changed page updates the same entry (its slug, its learned wordings and history stay), a new
one is added, and one that disappeared from the source is marked gone rather than deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, Session, col, select

from store.base import SLUG_LENGTH, TeamKeyed, utc_field

#: The longest source name and page key kept (longer ones are refused by the domain).
SOURCE_LENGTH = 200
KEY_LENGTH = 500


class ImportedPage(TeamKeyed, table=True):
    """A page of an imported source, and what it became in Eddy."""

    __tablename__ = "imported_page"

    #: The source's name: the folder, file or zip imported (or `--as NAME`).
    source: str = Field(max_length=SOURCE_LENGTH, primary_key=True)
    #: The page's (or section's) stable key within the source.
    key: str = Field(max_length=KEY_LENGTH, primary_key=True)
    title: str = Field(max_length=200)
    #: Where it came from, for people ("Handbook.docx › Expenses").
    origin: str = Field(max_length=KEY_LENGTH)
    link: str | None = Field(default=None, max_length=KEY_LENGTH)
    #: What the page said when last imported (a hash): unchanged pages are left alone.
    fingerprint: str = Field(max_length=64)
    #: The entry it became, once published (at once, or when its draft was approved).
    slug: str | None = Field(default=None, max_length=SLUG_LENGTH)
    #: Its draft, while it waits in the review queue.
    draft_id: int | None = Field(default=None)
    imported_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    #: When an import of its source no longer had it (None: it is there).
    gone_at: datetime | None = utc_field(default=None, nullable=True)


def pages(session: Session, *, team_id: str, source: str) -> dict[str, ImportedPage]:
    query = select(ImportedPage).where(
        col(ImportedPage.team_id) == team_id, col(ImportedPage.source) == source
    )
    return {row.key: row for row in session.exec(query)}


def save_page(session: Session, row: ImportedPage) -> None:
    """Insert the page, or change it where (source, key) is known."""
    session.merge(row)
    session.flush()


def published(session: Session, *, team_id: str, draft_id: int, slug: str) -> None:
    """The page's draft was approved as the entry `slug`."""
    session.execute(
        update(ImportedPage)
        .where(col(ImportedPage.team_id) == team_id, col(ImportedPage.draft_id) == draft_id)
        .values(slug=slug, draft_id=None)
    )


def gone_pages(session: Session, *, team_id: str) -> dict[str, str]:
    """Entries whose imported page disappeared from its source: slug → the source's name."""
    query = select(ImportedPage).where(
        col(ImportedPage.team_id) == team_id,
        col(ImportedPage.gone_at).is_not(None),
        col(ImportedPage.slug).is_not(None),
    )
    return {str(row.slug): row.source for row in session.exec(query)}


def forget_gone(session: Session, *, team_id: str, slug: str) -> bool:
    """Forget the gone page(s) that became the entry `slug` (its entry is being removed); False
    if it has none (it was kept, came back, or was removed already)."""
    query = select(ImportedPage).where(
        col(ImportedPage.team_id) == team_id,
        col(ImportedPage.slug) == slug,
        col(ImportedPage.gone_at).is_not(None),
    )
    found = list(session.exec(query))
    for row in found:
        session.delete(row)
    return bool(found)


def draft_sources(session: Session, *, team_id: str) -> dict[int, str]:
    """Drafts waiting from imports: draft id → the source's name."""
    query = select(ImportedPage).where(
        col(ImportedPage.team_id) == team_id, col(ImportedPage.draft_id).is_not(None)
    )
    return {int(row.draft_id or 0): row.source for row in session.exec(query)}
