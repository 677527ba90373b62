"""A Notion export ("Markdown & CSV"): a page is `Page Name 1a2b…(32 hex).md`, its
sub-pages sit in a folder of the same name, and a database is `Name <id>.csv` (newer exports
add `Name <id>_all.csv`, all its rows, which is the one read) with its rows' own pages in the
folder beside it.

The 32-hex ids are taken out of titles, file names, keys and link text: a page's key is its
path without them, so exporting the workspace again (new ids when it was duplicated) keeps
every key. A page's first heading is its title; links to other pages of the export become
their text; a page that only lists its sub-pages is skipped.

A database's row is a page when it has a title (the `Name` column, or one named like a
question or title) and some text: a column named like an answer or description, or the row's
own page. Columns named owner, topic (or category, team), tags and other questions fill
those fields; the notes say which were taken."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bot.importers.markdown_files import NotReadableError, markdown_document, read_text
from bot.importers.markup import convert_markdown, headings
from bot.importers.pages import SEP, Found, ImportedPage, SourceFile, clean_title, slug, split_list
from bot.importers.sections import add_document
from bot.importers.spreadsheets import cell, columns_note, csv_table, find_columns, row_key

#: The id at the end of a Notion file or folder name (and the `_all` of a database's file).
_ID = re.compile(r"\s*\b[0-9a-f]{32}(_all)?$")
#: An id inside a link or path: `IT%20Help%201a2b….md`, `IT Help 1a2b…/`.
_INNER_ID = re.compile(r"(?:%20|\s|-)[0-9a-f]{32}(?=(?:_all)?\.(?:md|csv)\b|/|%2F|\]|\))")
#: A relation to another page in a database cell: `Reset VPN (Reset%20VPN%201a2b….md)`.
_RELATION = re.compile(r"\s*\([^()]*[0-9a-f]{32}\.md\)")
#: The property lines Notion writes under a database row's title: `Owner: Priya Nair`.
_PROPERTY = re.compile(r"^[^:\n]{1,60}:\s.*$")


def has_notion_id(name: str) -> bool:
    """Whether a file or folder name (without its extension) ends in a Notion id."""
    return _ID.search(name) is not None


def without_id(name: str) -> str:
    return _ID.sub("", name).strip() or name


def without_ids(text: str) -> str:
    return _INNER_ID.sub("", text)


def clean_path(relative: PurePosixPath) -> PurePosixPath:
    """The path with every name's Notion id taken out: `Wiki 1a2b…/FAQ 3c4d….md` →
    `Wiki/FAQ.md`."""
    parts = [without_id(part) for part in relative.parent.parts]
    return PurePosixPath(*parts, without_id(relative.stem) + relative.suffix)


def read_notion(files: list[SourceFile], found: Found) -> None:
    """The pages and databases of an export, each database's row pages read with its rows."""
    databases = [f for f in files if f.path.suffix.lower() == ".csv"]
    pages = [f for f in files if f.path.suffix.lower() != ".csv"]
    everything = {f.relative.with_suffix(""): f for f in databases}
    consumed: set[PurePosixPath] = set()
    for database in databases:
        stem = database.relative.with_suffix("")
        if not stem.name.endswith("_all") and stem.with_name(stem.name + "_all") in everything:
            found.note(
                f"{clean_path(database.relative)}: read from its _all file, which has every row"
            )
            continue
        folder = stem.with_name(stem.name.removesuffix("_all"))
        rows = {
            slug(without_id(page.path.stem)): page
            for page in pages
            if page.relative.parent == folder
        }
        consumed |= read_database(database, rows, found)
    for page in pages:
        if page.relative not in consumed:
            read_page(page, found)


def read_page(file: SourceFile, found: Found) -> None:
    text = read_text(file, found)
    if text is None:
        return
    path = clean_path(file.relative)
    try:
        document = markdown_document(
            text,
            key=str(path).lower(),
            name=path.stem,
            source="",
            where=str(path),
        )
    except NotReadableError as problem:
        found.skip(str(path), str(problem))
        return
    document.title = without_id(without_ids(document.title))
    document.body = without_ids(document.body)
    document.source = SEP.join([*path.parent.parts, document.title])
    found.read_as("notion")
    add_document(document, found)


def read_database(
    file: SourceFile, row_pages: dict[str, SourceFile], found: Found
) -> set[PurePosixPath]:
    """The database's rows as pages; the row pages it took (so they are not read again)."""
    path = clean_path(file.relative)
    name = PurePosixPath(str(path).removesuffix(path.suffix))
    table = csv_table(file, found, where=str(path), key=str(path).lower())
    if table is None:
        return set()
    rows = table.rows
    header_at = next((at for at, row in enumerate(rows) if any(row)), None)
    if header_at is None:
        found.skip(str(path), "the database has no rows.")
        return set()
    header = rows[header_at]
    columns = find_columns(header)
    columns.setdefault("question", [0])
    found.note(columns_note(str(path), header, columns, question="the title"))
    taken: set[PurePosixPath] = set()
    read_any = False
    for at in range(header_at + 1, len(rows)):
        row = [_RELATION.sub("", value) for value in rows[at]]
        where = f"{path}{SEP}row {at + 1}"
        title = without_ids(cell(row, columns, "question"))
        if not title:
            if any(row):
                found.skip(where, "the row has no title.")
            continue
        text = cell(row, columns, "answer")
        page_file = row_pages.get(slug(title))
        if page_file is not None:
            taken.add(page_file.relative)
            page_text = read_text(page_file, found)
            if page_text:
                text = "\n\n".join(part for part in (text, _row_page_body(page_text)) if part)
        if not text.strip():
            found.skip(where, f"'{clean_title(title)}' has no text besides its title.")
            continue
        read_any = True
        also = [q for q in split_list(cell(row, columns, "also"), ";|\n") if q != title]
        link = cell(row, columns, "link").split()
        found.page(
            ImportedPage(
                key=row_key(table.key, title),
                title=clean_title(title),
                body=without_ids(text.strip()),
                source=SEP.join([*name.parts, title]),
                link=link[0] if link and link[0].startswith(("http://", "https://")) else None,
                questions=tuple(also),
                topic=cell(row, columns, "topic") or None,
                owner=cell(row, columns, "owner") or None,
                tags=tuple(tag.lower() for tag in split_list(cell(row, columns, "tags"))),
            )
        )
    if read_any:
        found.read_as("notion")
    return taken


def _row_page_body(text: str) -> str:
    """A row page's own text: without its title heading and the property lines under it."""
    lines = text.split("\n")
    found = headings(text)
    if found and not any(line.strip() for line in lines[: found[0].start]):
        lines = lines[found[0].end :]
    while lines and not lines[0].strip():
        lines.pop(0)
    properties = 0
    while properties < len(lines) and _PROPERTY.match(lines[properties]):
        properties += 1
    if properties and (properties == len(lines) or not lines[properties].strip()):
        lines = lines[properties:]
    return convert_markdown("\n".join(lines), base=None).markdown
