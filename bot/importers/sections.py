"""Long documents become one page per section, since an entry answers one question.

A document of SHORT_DOCUMENT characters or more is split at the top heading level that has
at least two headings (a lone title heading above them does not count); sub-headings stay
inside their section. A section still longer than Eddy's answers may be (FORM_TEXT_LIMIT) is
split again at its own sub-headings, so a handbook's "Expenses › Travel" becomes a page of
its own. Text before the first heading is a page under the document's (or the parent
section's) title; empty sections are left out.

    pages, notes = document_pages(Document(key="handbook.docx", title="Handbook",
                                           body=markdown, source="Handbook.docx"))"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.content.limits import FORM_TEXT_LIMIT
from bot.importers.markup import Heading, heading_key, headings
from bot.importers.pages import (
    SEP,
    Found,
    ImportedPage,
    clean_title,
    readable,
    slug,
    tidy_markdown,
)

#: Under this many characters a document stays one page, headings or not.
SHORT_DOCUMENT = 1500


@dataclass
class Document:
    """A document read from one file, as Markdown, before it is split into pages.

    `anchors` maps a heading's text to its id in the original page (from HTML), so a
    section's link can point at it; `slug_anchors` says the original's renderer makes ids
    from heading text (Markdown sites do), when there are no ids to read."""

    key: str
    title: str
    body: str
    source: str
    where: str
    link: str | None = None
    anchors: dict[str, str] = field(default_factory=dict)
    slug_anchors: bool = False
    questions: tuple[str, ...] = ()
    topic: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()


@dataclass
class _Part:
    heading: Heading
    body: str


def add_document(document: Document, found: Found, *, empty: str = "it has no text.") -> None:
    """The document's pages into `found`, or a skip with `empty` when it has no text."""
    pages, notes = document_pages(document)
    if not pages:
        found.skip(document.where, empty)
        return
    for page in pages:
        found.page(page)
    for note in notes:
        found.note(note)


def document_pages(document: Document) -> tuple[list[ImportedPage], list[str]]:
    """The document as pages (one, or one per section), and notes on pages too long."""
    pages: list[ImportedPage] = []
    notes: list[str] = []
    used: set[str] = set()

    def emit(key: str, title: str, body: str, source: str, link: str | None) -> None:
        if not _has_text(body):
            return
        if len(body) > FORM_TEXT_LIMIT:
            notes.append(
                f"{source}: {len(body):,} characters with no headings to split it at; "
                f"Eddy's answers hold at most {FORM_TEXT_LIMIT:,}"
            )
        pages.append(
            ImportedPage(
                key=key,
                title=clean_title(title) or clean_title(document.title),
                body=body,
                source=source,
                link=link,
                questions=() if pages else document.questions,
                topic=document.topic,
                owner=document.owner,
                tags=document.tags,
            )
        )

    def walk(text: str, key: str, title: str, source: str, link: str | None, context: str) -> None:
        """Emit `text` as pages; `context` names it in its sections' titles."""
        split = _split(text)
        if split is None:
            emit(key, title, text, source, link)
            return
        preamble, parts = split
        emit(key, title, preamble, source, link)
        for part in parts:
            part_slug = _unique(slug(part.heading.text), used)
            part_key = f"{document.key}#{part_slug}"
            part_source = f"{_context(source, context)}{SEP}{part.heading.text}"
            part_link = _section_link(document, part.heading.text)
            shown = _section_title(context, part.heading.text)
            if len(part.body) > FORM_TEXT_LIMIT:
                walk(part.body, part_key, shown, part_source, part_link, part.heading.text)
            else:
                emit(part_key, shown, part.body, part_source, part_link)

    body = tidy_markdown(document.body)
    if len(body) < SHORT_DOCUMENT:
        emit(document.key, document.title, body, document.source, document.link)
    else:
        walk(body, document.key, document.title, document.source, document.link, document.title)
    return pages, notes


#: A section heading of at most this many words names its section only within its document
#: ("Monday", "Returning it"): its title says which document too.
SHORT_HEADING_WORDS = 3


def _section_title(parent: str, heading: str) -> str:
    """A section's title as an entry's: its heading, after its document's (or parent
    section's) title when the heading alone would not say what it is about."""
    if len(heading.split()) > SHORT_HEADING_WORDS or not parent.strip():
        return heading
    return f"{clean_title(parent)}: {heading}"


def _split(text: str) -> tuple[str, list[_Part]] | None:
    """The text before the first section, and the sections; None when no heading level
    has two headings."""
    found = headings(text)
    levels = sorted({heading.level for heading in found})
    level = next((n for n in levels if sum(h.level == n for h in found) >= 2), None)
    if level is None:
        return None
    cuts = [heading for heading in found if heading.level <= level]
    lines = text.split("\n")
    preamble = tidy_markdown("\n".join(lines[: cuts[0].start]))
    parts = []
    for at, heading in enumerate(cuts):
        end = cuts[at + 1].start if at + 1 < len(cuts) else len(lines)
        parts.append(_Part(heading, tidy_markdown("\n".join(lines[heading.end : end]))))
    return preamble, parts


def _context(source: str, title: str) -> str:
    """What a section's source starts with: the document's, and its title when the source
    does not already say it ("onboarding.md › Your first week › Monday")."""
    last = source.rsplit(SEP, 1)[-1]
    if title in (last, readable(PurePosixPath(last).stem)):
        return source
    return f"{source}{SEP}{title}"


def _has_text(body: str) -> bool:
    """Something besides headings."""
    return bool(re.sub(r"(?m)^#{1,6}\s.*$", "", body).strip())


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}-{n}"
    used.add(candidate)
    return candidate


def _section_link(document: Document, heading: str) -> str | None:
    if document.link is None:
        return None
    anchor = document.anchors.get(heading_key(heading))
    if anchor is None and document.slug_anchors:
        anchor = re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")
    if not anchor:
        return document.link
    return f"{document.link.split('#', 1)[0]}#{anchor}"
