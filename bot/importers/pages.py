"""What reading a source gives: pages, what was skipped and why, notes; and the small rules
every reader shares (a readable title from a file name, a slug for keys, sizes for people)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

FORMATS = ("auto", "markdown", "html", "confluence", "notion", "csv", "xlsx", "docx")
#: A page's title, at most (a header block shows 150; the review queue shortens further).
TITLE_MAX = 200
#: How the parts of a page's `source` are joined: "Handbook.docx › Expenses › Travel".
SEP = " › "


@dataclass(frozen=True)
class ImportedPage:
    """One page (or one section of a long document) read from the source.

    `key` is its identity within the source, the same in a later export of the same source:
    the path relative to the source's root, lowercased (with "#" and the section's slug for a
    section; Notion's id suffixes removed), or for a spreadsheet's row the file, the sheet and
    the question's text normalised, so that moving rows keeps keys. `body` is Markdown."""

    key: str
    title: str
    body: str
    source: str
    link: str | None = None
    questions: tuple[str, ...] = ()
    topic: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """Something not imported: `where` names the file (and row or section), `reason` says why
    in one plain sentence."""

    where: str
    reason: str


@dataclass
class SourceRead:
    """All a source gave. `format` is the one used: one of FORMATS but "auto", or "mixed"
    when a folder held several kinds (the notes count them)."""

    format: str
    pages: list[ImportedPage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class SourceProblem(Exception):  # noqa: N818 (the name the importer CLI catches)
    """The whole source cannot be read (a missing path, a corrupt or oversized zip); the
    message is one sentence that names the file."""


@dataclass
class Found:
    """What the readers found so far, shared by all of them while one source is read."""

    pages: list[ImportedPage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The kind each file that gave something was read as.
    kinds: dict[str, int] = field(default_factory=dict)
    #: The kinds files were given to a reader as, whether or not they gave anything.
    tried: set[str] = field(default_factory=set)
    _keys: set[str] = field(default_factory=set)

    def page(self, page: ImportedPage) -> None:
        """Add a page, keeping keys unique: a second page with a key already taken (two
        Notion pages of the same name side by side) gets "~2" and a note."""
        key, n = page.key, 1
        while key in self._keys:
            n += 1
            key = f"{page.key}~{n}"
        if key != page.key:
            self.notes.append(
                f"{page.source}: another page has the same name in the same place; "
                f"its key is {key!r}"
            )
            page = replace(page, key=key)
        self._keys.add(key)
        self.pages.append(page)

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append(Skipped(where, reason))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def read_as(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


@dataclass(frozen=True)
class SourceFile:
    """A file of the source: where it is on disk and where it is within the source."""

    path: Path
    relative: PurePosixPath

    @property
    def shown(self) -> str:
        """The file as people name it: its path within the source."""
        return str(self.relative)

    @property
    def key(self) -> str:
        return str(self.relative).lower()


def readable(name: str) -> str:
    """A title from a file name: `reset-vpn_password` → "Reset vpn password"."""
    words = " ".join(re.sub(r"[_\-\s]+", " ", name).split())
    return words[:1].upper() + words[1:] if words else "Untitled"


def clean_title(text: str) -> str:
    """One line of at most TITLE_MAX characters, cut at a word with "…" when longer."""
    line = " ".join(text.split())
    if len(line) <= TITLE_MAX:
        return line
    cut = line[: TITLE_MAX - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def slug(text: str, *, limit: int = 80) -> str:
    """Lowercase letters, digits and hyphens (accents dropped): for keys and anchors."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return words[:limit].rstrip("-") or "section"


def size_text(size: int) -> str:
    """A size for people: "200 MB", "12 KB", "900 bytes"."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    mb = size / (1024 * 1024)
    return f"{mb:.1f} MB" if mb < 10 and mb != int(mb) else f"{mb:.0f} MB"


def tidy_markdown(text: str) -> str:
    """Trailing spaces off every line, at most one blank line in a row, no blank ends."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def split_list(text: str, separators: str = ",;|\n") -> tuple[str, ...]:
    """The items of a cell like "vpn, remote; network", stripped, empty ones dropped."""
    items = re.split("[" + re.escape(separators) + "]", text)
    return tuple(item.strip() for item in items if item.strip())
