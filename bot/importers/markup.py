"""HTML to Markdown, the one road every format takes: HTML pages and Confluence pages as they
are, Word documents through mammoth's HTML, Markdown files through markdown-it-py's HTML (so
that one set of rules decides links, images and scripts for all of them).

BeautifulSoup (with Python's own html.parser: nothing to compile) cleans the page first:
scripts, styles, frames and forms are removed, never kept or run; navigation, headers,
footers and breadcrumbs go; images become their alt text ("[image: the VPN client's
settings]"); a relative link becomes absolute when the page names its URL (a <base> or a
canonical link) and plain text when it does not (it would lead nowhere from Slack).
markdownify then writes the Markdown: headings, lists, tables, links, code blocks with their
language, bold and italic.

    page = convert_page(html_text)
    page.title, page.markdown, page.link"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from markdown_it import MarkdownIt
from markdownify import ATX, MarkdownConverter

from bot.importers.pages import tidy_markdown

#: Never kept: what runs, what draws, what asks for input. (A <form> keeps its text: some
#: sites wrap whole pages in one.)
UNSAFE = (
    "script, style, noscript, template, iframe, frame, frameset, object, embed, applet, "
    "svg, canvas, audio, video, input, button, select, textarea, link, meta"
)
#: A site's chrome, not the page's content.
CHROME = (
    "nav, header, footer, [role=navigation], [role=banner], [role=contentinfo], "
    "[role=search], [id*=breadcrumb], [class*=breadcrumb]"
)
#: Where a page's content is, most specific first.
MAIN = ("#main-content", "main", "[role=main]", "article", "body")
LINK_SCHEMES = ("http", "https", "mailto")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass
class Converted:
    """A page as Markdown. `anchors` maps a heading's text (lowercased, spaces collapsed) to
    its id in the page, for links to a section; `nav_only` is true when the page holds
    nothing but links to other pages (a Notion or Confluence parent page)."""

    markdown: str
    title: str | None = None
    link: str | None = None
    anchors: dict[str, str] = field(default_factory=dict)
    nav_only: bool = False


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def text_of(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def attr(tag: Tag, name: str) -> str:
    """An attribute as one string ("" when absent; a class list joined by spaces)."""
    value = tag.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


def heading_key(text: str) -> str:
    return " ".join(text.split()).lower()


def canonical_link(soup: BeautifulSoup) -> str | None:
    """The page's own URL when it names one: a canonical link or an og:url."""
    for tag, name in (
        (soup.select_one("link[rel~=canonical][href]"), "href"),
        (soup.select_one("meta[property='og:url'][content]"), "content"),
    ):
        if tag is not None and _web_url(attr(tag, name).strip()):
            return attr(tag, name).strip()
    return None


def base_url(soup: BeautifulSoup, link: str | None) -> str | None:
    """What relative links are relative to: the page's <base>, else its canonical URL."""
    base = soup.select_one("base[href]")
    if base is not None:
        joined = urljoin(link or "", attr(base, "href").strip())
        if _web_url(joined):
            return joined
    return link


def remove_unsafe(soup: BeautifulSoup) -> None:
    """Scripts and the like out, and comments (which may hide markup)."""
    for tag in soup.select(UNSAFE):
        tag.decompose()
    for form in soup.select("form"):
        form.unwrap()
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()


def remove_chrome(root: Tag) -> None:
    for tag in root.select(CHROME):
        tag.decompose()


def main_of(soup: BeautifulSoup) -> Tag:
    for selector in MAIN:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return soup


def take_only_h1(root: Tag) -> str | None:
    """The text of the page's only <h1>, taken out of it (it is the page's title); None when
    there are none or several (then they are sections)."""
    h1s = root.select("h1")
    if len(h1s) != 1 or not text_of(h1s[0]):
        return None
    title = text_of(h1s[0])
    h1s[0].decompose()
    return title


def to_markdown(
    root: Tag, *, base: str | None, page: str | None = None, markdown_links: bool = False
) -> Converted:
    """The Markdown of `root` (changed in place: links, images), with its headings' ids.
    Relative links are made absolute against `base`, links within the page (`#part`) against
    the `page`'s own URL, or become text. `markdown_links`: links to other Markdown files
    become text even when there is a base (they name a source file, not the site's page)."""
    for head in root.select("head, title"):
        head.decompose()
    anchors: dict[str, str] = {}
    for heading in root.select(", ".join(HEADINGS)):
        anchor = attr(heading, "id") or _inner_anchor(heading)
        if anchor:
            anchors.setdefault(heading_key(text_of(heading)), anchor)
    nav_only = _links_only(root)
    _rewrite_links(root, base, page, markdown_links=markdown_links)
    _images_as_text(root)
    markdown = _Converter(
        heading_style=ATX,
        bullets="-",
        escape_asterisks=False,
        escape_underscores=False,
        table_infer_header=True,
        wrap=True,
        wrap_width=None,
        code_language_callback=_code_language,
    ).convert_soup(root)
    return Converted(markdown=tidy_markdown(markdown), anchors=anchors, nav_only=nav_only)


def convert_page(html: str) -> Converted:
    """A whole HTML page: its content as Markdown, its title (the only <h1>, else <title>)
    and its URL (canonical link) when it has one."""
    soup = parse(html)
    link = canonical_link(soup)
    base = base_url(soup, link)
    title_tag = soup.select_one("title")
    page_title = text_of(title_tag) if title_tag is not None else ""
    remove_unsafe(soup)
    main = main_of(soup)
    title = take_only_h1(main)
    if title is None and main is not soup and not main.select("h1"):
        body = soup.select_one("body")
        title = take_only_h1(body) if body is not None else None
    remove_chrome(main)
    converted = to_markdown(main, base=base, page=link)
    converted.title = title or page_title or None
    converted.link = link
    return converted


MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def convert_markdown(text: str, *, base: str | None) -> Converted:
    """Markdown (CommonMark with tables) through HTML, so that raw HTML in it is cleaned and
    links and images follow the same rules as a web page's."""
    soup = parse(MARKDOWN.render(text))
    remove_unsafe(soup)
    return to_markdown(soup, base=base, page=base, markdown_links=True)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    #: The lines it takes: [start, end).
    start: int
    end: int


def headings(text: str) -> list[Heading]:
    """The headings of a Markdown text, in order (none from inside code blocks)."""
    found = []
    tokens = MARKDOWN.parse(text)
    for at, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            inline = tokens[at + 1]
            words = "".join(
                child.content
                for child in inline.children or ()
                if child.type in ("text", "code_inline", "softbreak")
            )
            found.append(Heading(int(token.tag[1]), " ".join(words.split()), *token.map))
    return found


class _Converter(MarkdownConverter):
    def convert_br(self, el: Any, text: str, parent_tags: set[str]) -> str:
        """A line break is a new line (Slack shows it), a space inside a table cell."""
        return " " if "_inline" in parent_tags else "\n"


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _inner_anchor(heading: Tag) -> str:
    inner = heading.select_one("a[id], a[name]")
    return "" if inner is None else attr(inner, "id") or attr(inner, "name")


def _links_only(root: Tag) -> bool:
    """True when the text outside headings is all in links to other pages of the export."""
    links = {id(a) for a in root.select("a[href]") if not _absolute(attr(a, "href"))}
    if not links:
        return False
    words = "".join(
        str(text)
        for text in root.find_all(string=True)
        if not any(parent.name in HEADINGS or id(parent) in links for parent in text.parents)
    )
    return not words.strip()


def _absolute(href: str) -> bool:
    return urlsplit(href.strip()).scheme in LINK_SCHEMES


def _rewrite_links(root: Tag, base: str | None, page: str | None, *, markdown_links: bool) -> None:
    for link in root.select("a"):
        href = attr(link, "href").strip()
        if not href or (link.select_one("img") is not None and not text_of(link)):
            link.unwrap()
            continue
        scheme = urlsplit(href).scheme
        if scheme in LINK_SCHEMES:
            continue
        source_file = urlsplit(href).path.lower().endswith((".md", ".markdown"))
        if href.startswith("#") and page is not None:
            link["href"] = urljoin(page, href)
        elif (
            not scheme
            and not href.startswith("#")
            and base is not None
            and not (markdown_links and source_file)
        ):
            link["href"] = urljoin(base, href)
        else:
            link.unwrap()


def _images_as_text(root: Tag) -> None:
    for image in root.select("img"):
        alt = " ".join(attr(image, "alt").split())
        if alt:
            image.replace_with(NavigableString(f"[image: {alt}]"))
        else:
            image.decompose()


def _code_language(pre: Tag) -> str | None:
    """The language of a code block: `class="language-python"`, or Confluence's
    `data-syntaxhighlighter-params="brush: bash; …"`."""
    brush = re.search(r"brush:\s*([\w+#-]+)", attr(pre, "data-syntaxhighlighter-params"))
    if brush:
        return brush.group(1)
    for tag in (pre, pre.select_one("code")):
        if tag is None:
            continue
        for name in attr(tag, "class").split():
            if name.startswith(("language-", "lang-")):
                return name.split("-", 1)[1]
    return None
