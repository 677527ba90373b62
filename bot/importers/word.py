"""Word documents (.docx), through mammoth: it writes a document's meaning as HTML (its
Heading styles as <h1>…<h6>, numbered and bulleted lists with their nesting, tables, links,
bold and italic), which then takes the same road to Markdown as a web page. python-docx
would hand over paragraphs and runs, leaving list numbering, nesting and links to be worked
out here; mammoth already does that, and is maintained for exactly this.

Images become their alt text (their bytes are never read), and files outside the document
are never fetched. The title is the paragraph in Word's Title style, else the only Heading 1,
else the file name made readable; a long document is split at its headings."""

from __future__ import annotations

import zipfile
from typing import Any
from xml.parsers.expat import ExpatError

import mammoth

from bot.importers.markup import parse, remove_unsafe, take_only_h1, text_of, to_markdown
from bot.importers.pages import Found, SourceFile, readable
from bot.importers.sections import Document, add_document

_STYLES = """
p[style-name='Title'] => h1.document-title:fresh
p[style-name='Subtitle'] => p:fresh
"""


def _no_image_bytes(image: Any) -> dict[str, str]:
    return {"src": ""}


def read_docx(file: SourceFile, found: Found) -> None:
    try:
        with file.path.open("rb") as stream:
            result = mammoth.convert_to_html(
                stream,
                style_map=_STYLES,
                convert_image=mammoth.images.img_element(_no_image_bytes),
                external_file_access=False,
            )
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, ExpatError):
        found.skip(file.shown, f"{file.path.name} is not a readable Word document (.docx).")
        return
    soup = parse(result.value)
    remove_unsafe(soup)
    title_tag = soup.select_one("h1.document-title")
    title = None
    if title_tag is not None and text_of(title_tag):
        title = text_of(title_tag)
        title_tag.decompose()
    title = title or take_only_h1(soup) or readable(file.path.stem)
    converted = to_markdown(soup, base=None)
    found.read_as("docx")
    add_document(
        Document(
            key=file.key, title=title, body=converted.markdown, source=file.shown, where=file.shown
        ),
        found,
    )
