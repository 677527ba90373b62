"""Markdown files, with or without YAML front matter (split by python-frontmatter's handler,
parsed by PyYAML, as Eddy's own entries are).

The title is the front matter's `title`, else the heading that opens the file (taken out of
the body; a heading further down names a section, not the page), else the file name made
readable (`reset-vpn_password.md` → "Reset vpn
password"). Front matter may also give `questions`, `tags`, `topic`, `owner` and the page's
`link` (or `url`); relative links become absolute against that link, else plain text."""

from __future__ import annotations

from typing import Any

import yaml
from frontmatter import YAMLHandler

from bot.content.yaml_text import load_yaml
from bot.importers.decoding import UndecodableError, decode
from bot.importers.markup import MARKDOWN, convert_markdown, headings
from bot.importers.pages import Found, SourceFile, readable, split_list
from bot.importers.sections import Document, add_document

_FRONT = "its front matter (between the `---` lines) "


class NotReadableError(ValueError):
    """The file's text cannot be read as a page: the message says why."""


def read_markdown(file: SourceFile, found: Found) -> None:
    text = read_text(file, found)
    if text is None:
        return
    try:
        document = markdown_document(
            text, key=file.key, name=file.path.stem, source=file.shown, where=file.shown
        )
    except NotReadableError as problem:
        found.skip(file.shown, str(problem))
        return
    found.read_as("markdown")
    add_document(document, found)


def read_text(file: SourceFile, found: Found) -> str | None:
    """The file's text (a note when it was not UTF-8), or None and a skip."""
    try:
        decoded = decode(file.path.read_bytes())
    except UndecodableError as problem:
        found.skip(file.shown, f"{file.path.name} could not be read: {problem}.")
        return None
    if decoded.fallback:
        found.note(f"{file.shown}: not UTF-8; read it as {decoded.fallback}")
    return decoded.text


def markdown_document(text: str, *, key: str, name: str, source: str, where: str) -> Document:
    """A Markdown file as a Document; NotReadableError when its front matter is broken or it
    only lists links to other pages."""
    meta, body = _front_matter(text)
    title = _text(meta.get("title"))
    if title is None:
        title, body = _first_heading(body)
    link = _text(meta.get("link")) or _text(meta.get("url"))
    if link is not None and not link.startswith(("http://", "https://")):
        link = None
    converted = convert_markdown(body, base=link)
    if converted.nav_only:
        raise NotReadableError("it only lists links to other pages.")
    tags = meta.get("tags")
    questions = meta.get("questions")
    return Document(
        key=key,
        title=title or readable(name),
        body=converted.markdown,
        source=source,
        where=where,
        link=link,
        slug_anchors=True,
        questions=tuple(str(q).strip() for q in questions if str(q).strip())
        if isinstance(questions, list)
        else (),
        topic=_text(meta.get("topic")),
        owner=_text(meta.get("owner")),
        tags=_tags(tags),
    )


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    handler = YAMLHandler()
    if not handler.detect(text):
        return {}, text
    try:
        front, body = handler.split(text)
        meta = load_yaml(front)
    except (ValueError, yaml.YAMLError) as error:
        raise NotReadableError(_FRONT + "is not valid YAML.") from error
    if meta is None:
        return {}, body
    if not isinstance(meta, dict):
        raise NotReadableError(_FRONT + "is not `key: value` lines.")
    return meta, body


def _first_heading(body: str) -> tuple[str | None, str]:
    """The first heading's text and the body without it, when it opens the file (only HTML
    such as comments or badges before it); else no title."""
    tokens = MARKDOWN.parse(body)
    first = next((at for at, token in enumerate(tokens) if token.type == "heading_open"), None)
    if first is None or any(token.type != "html_block" for token in tokens[:first]):
        return None, body
    found = headings(body)[0]
    if not found.text:
        return None, body
    lines = body.split("\n")
    return found.text, "\n".join(lines[: found.start] + lines[found.end :])


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and str(value).strip():
        return " ".join(str(value).split())
    return None


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(tag).strip().lower() for tag in value if str(tag).strip())
    if isinstance(value, str):
        return tuple(tag.lower() for tag in split_list(value))
    return ()
