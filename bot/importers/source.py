"""A source as a list of files, each read by the reader of its kind: a folder, a single file,
or a zip unpacked (safely) into a temporary folder that is removed once it has been read.

A zip's or folder's lone top folder is stepped into (`export.zip` holding `Acme IT/…` reads
as `Acme IT/` would), so zipping a folder or not gives the same keys. Hidden files, macOS's
`__MACOSX`, and links to other files are never read."""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from bot.importers.confluence import looks_like_confluence, read_confluence
from bot.importers.html_files import read_html
from bot.importers.markdown_files import read_markdown
from bot.importers.notion import has_notion_id, read_notion
from bot.importers.pages import (
    FORMATS,
    SEP,
    Found,
    SourceFile,
    SourceProblem,
    SourceRead,
    size_text,
)
from bot.importers.spreadsheets import read_csv, read_xlsx
from bot.importers.word import read_docx

MARKDOWN = {".md", ".markdown", ".mdown", ".mkd", ".txt"}
HTML = {".html", ".htm"}
#: What each format reads, by file extension.
EXTENSIONS = {
    "markdown": MARKDOWN,
    "html": HTML,
    "confluence": HTML,
    "notion": MARKDOWN | {".csv"},
    "csv": {".csv"},
    "xlsx": {".xlsx", ".xlsm"},
    "docx": {".docx"},
}
#: Files that go with pages (pictures, styles): counted in a note, never imported.
ASSETS = {
    ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico", ".tif", ".tiff",
    ".heic", ".css", ".js", ".map", ".woff", ".woff2", ".ttf", ".eot", ".mp4", ".mov",
    ".webm", ".mp3", ".wav", ".json", ".xml",
}  # fmt: skip
#: Why a known kind of file is not read.
NOT_READ = {
    ".pdf": "PDF files are not imported; export the text as Word, HTML or Markdown",
    ".doc": "this is the old Word format; save it as .docx",
    ".xls": "this is the old Excel format; save it as .xlsx",
    ".zip": "a zip inside the source is not opened; unzip it first",
    ".pptx": "presentations are not imported",
}
#: The folder of a Confluence export that holds the pages' attachments (of any kind).
ATTACHMENTS = "attachments"
HEAD_BYTES = 64 * 1024
MAX_MEMBERS = 50_000
Reader = Callable[[SourceFile, Found], None]
READERS: dict[str, Reader] = {
    "markdown": read_markdown,
    "html": read_html,
    "confluence": read_confluence,
    "csv": read_csv,
    "xlsx": read_xlsx,
    "docx": read_docx,
}


def read_source(
    path: Path,
    *,
    format: str = "auto",
    max_file_bytes: int = 50 * 1024 * 1024,
    max_total_bytes: int = 1024 * 1024 * 1024,
) -> SourceRead:
    """Every page in a folder, a file or a zip; what was skipped and why; notes.

        read = read_source(Path("confluence-export.zip"))
        read.format                     # "confluence"
        read.pages[0].title, read.pages[0].source
        read.skipped                    # [Skipped("FAQ.xlsx › IT › row 9", "… has no answer.")]

    `format` forces one reader ("auto" picks each file's); files over `max_file_bytes` are
    skipped; a zip that unpacks to more than `max_total_bytes` is refused. SourceProblem
    when the whole source cannot be read."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")
    if not path.exists():
        raise SourceProblem(f"{path} does not exist.")
    found = Found()
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="eddy-import-") as folder:
            unpack(path, Path(folder), found, max_file_bytes, max_total_bytes)
            _read_folder(_root(Path(folder)), found, format, max_file_bytes)
    elif path.is_dir():
        _read_folder(_root(path), found, format, max_file_bytes)
    elif path.is_file():
        file = SourceFile(path, PurePosixPath(path.name))
        kind = format if format != "auto" else _kind(file, "auto")
        if kind == "asset":
            kind = f"skip:Eddy does not import {path.suffix.lower()} files."
        _read_files([(file, kind)], found, max_file_bytes)
    else:
        raise SourceProblem(f"{path} is neither a file nor a folder.")
    return _result(found, format)


def unpack(
    archive_path: Path, into: Path, found: Found, max_file_bytes: int, max_total_bytes: int
) -> None:
    """Unpack a zip: only regular files, only inside `into`, at most `max_total_bytes` in
    all (counted as written, whatever the zip declares). A zip of zips (as Notion makes
    for large exports) has its inner zips unpacked too."""
    name = archive_path.name
    if archive_path.stat().st_size > max_total_bytes:
        raise SourceProblem(
            f"{name} is {size_text(archive_path.stat().st_size)}; "
            f"zips over {size_text(max_total_bytes)} are not imported."
        )
    written = 0
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > MAX_MEMBERS:
                raise SourceProblem(
                    f"{name} holds {len(members):,} files; at most {MAX_MEMBERS:,} are imported."
                )
            declared = sum(m.file_size for m in members)
            if declared > max_total_bytes:
                raise SourceProblem(
                    f"{name} unpacks to {size_text(declared)}; "
                    f"at most {size_text(max_total_bytes)} is imported."
                )
            for member in members:
                relative = _safe_member(member.filename)
                where = f"{name}{SEP}{member.filename}"
                if relative is None:
                    found.skip(where, "its path leads outside the zip, so it was not unpacked.")
                    continue
                if stat.S_ISLNK(member.external_attr >> 16):
                    found.skip(where, "it is a link to another file, so it was not unpacked.")
                    continue
                if member.file_size > max_file_bytes:
                    found.skip(where, _too_big(relative.name, member.file_size, max_file_bytes))
                    continue
                target = into.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, target.open("wb") as copy:
                    while chunk := source.read(1024 * 1024):
                        written += len(chunk)
                        if written > max_total_bytes:
                            raise SourceProblem(
                                f"{name} unpacks to more than {size_text(max_total_bytes)}; "
                                "it is not imported."
                            )
                        copy.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise SourceProblem(
            f"{name} is not a readable zip file (it may be damaged or incomplete)."
        ) from error
    except RuntimeError as error:
        raise SourceProblem(f"{name} could not be unpacked ({error}).") from error
    inner = [p for p in into.iterdir() if not _hidden(p.name)]
    if inner and all(p.is_file() and p.suffix.lower() == ".zip" for p in inner):
        for zipped in inner:
            unpack(zipped, into / zipped.stem, found, max_file_bytes, max_total_bytes - written)
            zipped.unlink()


def _safe_member(filename: str) -> PurePosixPath | None:
    """The member's path inside the zip, or None when it would land outside it."""
    path = PurePosixPath(filename.replace("\\", "/"))
    parts = [part for part in path.parts if part not in ("", ".")]
    if path.is_absolute() or not parts or ".." in parts or ":" in parts[0]:
        return None
    return PurePosixPath(*parts)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _root(folder: Path) -> Path:
    """The folder, or the folder inside it when it holds nothing else."""
    while True:
        entries = [entry for entry in folder.iterdir() if not _hidden(entry.name)]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return folder
        folder = entries[0]


def _walk(root: Path, found: Found) -> Iterator[SourceFile]:
    for here, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not _hidden(f))
        for name in sorted(files):
            if _hidden(name):
                continue
            path = Path(here) / name
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_symlink():
                found.skip(str(relative), "it is a link to another file, which is not followed.")
                continue
            yield SourceFile(path, relative)


def _read_folder(root: Path, found: Found, format: str, max_file_bytes: int) -> None:
    files: list[tuple[SourceFile, str]] = []
    assets = 0
    for file in _walk(root, found):
        kind = _kind(file, format)
        if kind == "asset":
            assets += 1
        elif kind.startswith("skip:"):
            found.skip(file.shown, kind.removeprefix("skip:"))
        else:
            files.append((file, kind))
    if not files and not assets and not found.skipped:
        found.note(f"{root.name}: no files to read")
    if assets:
        found.note(
            f"{assets} picture, style and attachment file{'s' * (assets > 1)} not imported "
            "(Eddy keeps the pages' text, and pictures' alt text)"
        )
    _read_files(files, found, max_file_bytes)


def _read_files(files: list[tuple[SourceFile, str]], found: Found, max_file_bytes: int) -> None:
    readable: list[tuple[SourceFile, str]] = []
    for file, kind in files:
        if kind.startswith("skip:"):
            found.skip(file.shown, kind.removeprefix("skip:"))
            continue
        size = file.path.stat().st_size
        if size > max_file_bytes:
            found.skip(file.shown, _too_big(file.path.name, size, max_file_bytes))
            continue
        readable.append((file, kind))
        found.tried.add(kind)
    notion = [file for file, kind in readable if kind == "notion"]
    if notion:
        read_notion(notion, found)
    for file, kind in readable:
        if kind in READERS:
            READERS[kind](file, found)


def _kind(file: SourceFile, format: str) -> str:
    """The reader for a file: a format, "asset", or "skip:" and the reason."""
    suffix = file.path.suffix.lower()
    parts = file.relative.parts
    if any(part.lower() == ATTACHMENTS for part in parts[:-1]) or suffix in ASSETS:
        return "asset"
    if format != "auto":
        if suffix in EXTENSIONS[format]:
            return format
        return f"skip:not a {format} file (read with --format {format})."
    if suffix in MARKDOWN or suffix == ".csv":
        names = [*parts[:-1], file.path.stem]
        if any(has_notion_id(name) for name in names):
            return "notion"
        return "markdown" if suffix in MARKDOWN else "csv"
    if suffix in HTML:
        with file.path.open("rb") as stream:
            head = stream.read(HEAD_BYTES).decode("utf-8", "replace")
        return "confluence" if looks_like_confluence(head) else "html"
    for kind in ("xlsx", "docx"):
        if suffix in EXTENSIONS[kind]:
            return kind
    if suffix in NOT_READ:
        return f"skip:{NOT_READ[suffix]}."
    return f"skip:Eddy does not import {suffix or 'extension-less'} files."


def _too_big(name: str, size: int, limit: int) -> str:
    return f"{name} is {size_text(size)}; files over {size_text(limit)} are not imported."


def _result(found: Found, format: str) -> SourceRead:
    kinds = found.kinds
    if len(kinds) > 1:
        used = "mixed"
        counts = ", ".join(f"{n} {kind} file{'s' * (n > 1)}" for kind, n in sorted(kinds.items()))
        found.notes.insert(0, f"a folder of several kinds: read {counts}")
    elif kinds:
        used = next(iter(kinds))
    elif len(found.tried) == 1:
        used = next(iter(found.tried))
    else:
        used = format
    return SourceRead(format=used, pages=found.pages, skipped=found.skipped, notes=found.notes)
