"""HTML pages (a docs site saved as files): one page per file, split at headings when long.

The title is the page's only <h1>, else its <title>, else the file name made readable; the
link is its canonical URL when it names one (and relative links are made absolute against
it, or its <base>)."""

from __future__ import annotations

from bot.importers.markdown_files import read_text
from bot.importers.markup import convert_page
from bot.importers.pages import Found, SourceFile, readable
from bot.importers.sections import Document, add_document


def read_html(file: SourceFile, found: Found) -> None:
    text = read_text(file, found)
    if text is None:
        return
    converted = convert_page(text)
    if converted.nav_only:
        found.skip(file.shown, "it only lists links to other pages.")
        return
    found.read_as("html")
    add_document(
        Document(
            key=file.key,
            title=converted.title or readable(file.path.stem),
            body=converted.markdown,
            source=file.shown,
            where=file.shown,
            link=converted.link,
            anchors=converted.anchors,
        ),
        found,
    )
