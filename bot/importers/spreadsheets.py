"""FAQ spreadsheets: a .csv (the standard library's csv, with the encodings in
`decoding`) or a .xlsx workbook (openpyxl: it reads merged cells and the values formulas
last computed, and needs no Excel), one page per row that has a question and an answer.

Sheets made by people are messy: a title row or two, blank rows, merged cells. The header
is the first of the first 30 rows that names a question column and an answer column
(`Question`/`Q`/`FAQ`/`Title`…, `Answer`/`A`/`Response`/`Body`…); other columns are taken
by their names too: owner, topic, tags, link, and other wordings of the question
("Other questions", "Also asked"). A merged cell counts for every cell it covers, so a
topic merged down over five rows is the topic of all five, and an answer header merged over
two columns takes both. The notes say which columns were taken; a sheet with no such header
is skipped with the reason, and so is each row with a question but no answer (by its row
number, as the spreadsheet shows it). Blank rows are passed over.

A row's key is the file, the sheet and its question's text normalised: sorting the sheet or
adding rows above keeps every key."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from bot.importers.decoding import UndecodableError, decode
from bot.importers.pages import SEP, Found, ImportedPage, SourceFile, clean_title, slug, split_list

#: Header names for each column a page uses, most telling first. Exact names are tried
#: before names found as words in a longer header ("Question (EN)").
ROLES: dict[str, tuple[str, ...]] = {
    "also": (
        "other questions",
        "also asked",
        "alternative questions",
        "alternate questions",
        "similar questions",
        "other wordings",
        "alternatives",
        "variants",
        "synonyms",
        "paraphrases",
    ),
    "question": ("question", "questions", "q", "faq", "title", "subject", "query", "name"),
    "answer": (
        "answer",
        "answers",
        "a",
        "response",
        "reply",
        "body",
        "solution",
        "resolution",
        "content",
        "text",
        "description",
        "details",
        "explanation",
        "summary",
    ),
    "owner": (
        "owner",
        "owned by",
        "expert",
        "contact",
        "point of contact",
        "assignee",
        "maintainer",
        "responsible",
    ),
    "topic": ("topic", "category", "area", "team", "department", "section"),
    "tags": ("tags", "tag", "labels", "label", "keywords"),
    "link": ("link", "url", "source url", "source link", "more info", "reference"),
}
ROLE_NAMES = {
    "question": "the question",
    "answer": "the answer",
    "also": "other wordings of the question",
    "owner": "the owner",
    "topic": "the topic",
    "tags": "tags",
    "link": "the link",
}
HEADER_SEARCH = 30
DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Table:
    """A sheet's cells as text. `where` names it for people ("FAQ.xlsx › IT"), `key` for
    keys ("faq.xlsx#it"); `rows[0]` is row 1."""

    where: str
    key: str
    rows: list[list[str]]


def find_columns(header: Sequence[str]) -> dict[str, list[int]]:
    """Which columns play which role, by their header's name. A role takes its column and
    the ones right after it with the same header (a merged header cell)."""
    names = [_normal(cell) for cell in header]
    taken: dict[str, list[int]] = {}
    used: set[int] = set()
    for exact in (True, False):
        for role, wanted in ROLES.items():
            if role in taken:
                continue
            for name in wanted:
                at = next(
                    (
                        i
                        for i, cell in enumerate(names)
                        if i not in used and cell and _matches(cell, name, exact=exact)
                    ),
                    None,
                )
                if at is not None:
                    span = [at]
                    while span[-1] + 1 < len(names) and header[span[-1] + 1] == header[at]:
                        span.append(span[-1] + 1)
                    taken[role] = span
                    used.update(span)
                    break
    return taken


def columns_note(
    where: str, header: Sequence[str], columns: dict[str, list[int]], *, question: str = ""
) -> str:
    """Which columns were taken, and which left out; `question` renames the question's role
    ("the title" for a database)."""
    names = {**ROLE_NAMES, **({"question": question} if question else {})}
    taken = [
        f"'{header[columns[role][0]]}' as {names[role]}" for role in ROLE_NAMES if role in columns
    ]
    used = {i for cols in columns.values() for i in cols}
    left = [f"'{cell}'" for i, cell in enumerate(header) if cell and i not in used]
    note = f"{where}: took column {', '.join(taken)}"
    return note + (f"; left out {', '.join(left)}" if left else "")


def cell(row: Sequence[str], columns: dict[str, list[int]], role: str) -> str:
    """A role's text in a row: its columns' values, each once, a blank line between."""
    values: list[str] = []
    for i in columns.get(role, ()):
        value = row[i] if i < len(row) else ""
        if value and value not in values:
            values.append(value)
    return "\n\n".join(values)


def read_csv(file: SourceFile, found: Found) -> None:
    table = csv_table(file, found, where=file.shown, key=file.key)
    if table is not None and read_faq(table, found):
        found.read_as("csv")


def csv_table(file: SourceFile, found: Found, *, where: str, key: str) -> Table | None:
    """The rows of a CSV file (its delimiter sniffed), or None and a skip."""
    try:
        decoded = decode(file.path.read_bytes())
    except UndecodableError as problem:
        found.skip(where, f"{file.path.name} could not be read: {problem}.")
        return None
    if decoded.fallback:
        found.note(f"{where}: not UTF-8; read it as {decoded.fallback}")
    text = decoded.text
    try:
        sniffed: str | None = csv.Sniffer().sniff(text[:20000], delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    tables = []
    # The sniffed delimiter first; when its rows have no header, the usual others (a title
    # line or commas inside answers can mislead the sniffer).
    for delimiter in dict.fromkeys([sniffed or ",", *DELIMITERS]):
        try:
            rows = [
                [value.strip() for value in row]
                for row in csv.reader(io.StringIO(text), delimiter=delimiter)
            ]
        except csv.Error as error:
            found.skip(where, f"{file.path.name} is not a readable CSV file ({error}).")
            return None
        tables.append(Table(where=where, key=key, rows=rows))
        if _header(rows)[0] is not None:
            return tables[-1]
    return tables[0]


def read_xlsx(file: SourceFile, found: Found) -> None:
    try:
        workbook = openpyxl.load_workbook(file.path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError):
        found.skip(file.shown, f"{file.path.name} is not a readable Excel workbook (.xlsx).")
        return
    read_any = False
    for sheet in workbook.worksheets:
        where = f"{file.shown}{SEP}{sheet.title}"
        if sheet.sheet_state != "visible":
            found.note(f"{where}: a hidden sheet; not read")
            continue
        rows = [
            [_text(value) for value in row]
            for row in sheet.iter_rows(
                min_row=1, max_row=sheet.max_row, max_col=sheet.max_column, values_only=True
            )
        ]
        for merged in sheet.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                for c in range(merged.min_col - 1, merged.max_col):
                    rows[r][c] = value
        if not any(any(row) for row in rows):
            continue
        table = Table(where=where, key=f"{file.key}#{slug(sheet.title)}", rows=rows)
        read_any = read_faq(table, found) or read_any
    workbook.close()
    if read_any:
        found.read_as("xlsx")


def read_faq(table: Table, found: Found) -> bool:
    """Each row with a question and an answer a page; False when the table has no header
    naming both (and it is skipped)."""
    header_at, columns = _header(table.rows)
    if header_at is None:
        found.skip(
            table.where,
            "no header row names a question column and an answer column "
            f"(looked for headers like 'Question' and 'Answer' in the first {HEADER_SEARCH} "
            "rows).",
        )
        return False
    header = table.rows[header_at]
    found.note(columns_note(table.where, header, columns) + f" (header on row {header_at + 1})")
    for at in range(header_at + 1, len(table.rows)):
        row = table.rows[at]
        number = at + 1
        if not any(row):
            continue
        question, answer = cell(row, columns, "question"), cell(row, columns, "answer")
        if not question:
            found.skip(f"{table.where}{SEP}row {number}", "it has an answer but no question.")
            continue
        if not answer:
            found.skip(
                f"{table.where}{SEP}row {number}", f"'{clean_title(question)}' has no answer."
            )
            continue
        found.page(row_page(table, number, question, answer, row, columns))
    return True


def row_page(
    table: Table,
    number: int,
    question: str,
    answer: str,
    row: Sequence[str],
    columns: dict[str, list[int]],
) -> ImportedPage:
    """A row as a page: the question its title, the other columns by their roles."""
    title = clean_title(question)
    also = [q for q in split_list(cell(row, columns, "also"), ";|\n") if q != question]
    if title != " ".join(question.split()):
        also.insert(0, question)
    link = cell(row, columns, "link").split()
    return ImportedPage(
        key=row_key(table.key, question),
        title=title,
        body=answer,
        source=f"{table.where}{SEP}row {number}",
        link=link[0] if link and link[0].startswith(("http://", "https://")) else None,
        questions=tuple(also),
        topic=cell(row, columns, "topic") or None,
        owner=cell(row, columns, "owner") or None,
        tags=tuple(tag.lower() for tag in split_list(cell(row, columns, "tags"))),
    )


def row_key(table_key: str, question: str) -> str:
    """`faq.csv#how-do-i-reset-my-vpn-password`, `faq.xlsx#it/how-do-i-…`."""
    joint = "/" if "#" in table_key else "#"
    return f"{table_key}{joint}{slug(question, limit=100)}"


def _header(rows: list[list[str]]) -> tuple[int | None, dict[str, list[int]]]:
    for at, row in enumerate(rows[:HEADER_SEARCH]):
        if len({value for value in row if value}) < 2:
            continue
        columns = find_columns(row)
        if "question" in columns and "answer" in columns:
            return at, columns
    return None, {}


def _normal(header: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", header.lower()).split())


def _matches(cell: str, name: str, *, exact: bool) -> bool:
    if exact:
        return cell == name
    return len(name) > 2 and re.search(rf"\b{re.escape(name)}s?\b", cell) is not None


def _text(value: Any) -> str:
    """A cell as people see it: 3 not 3.0, a date as 2026-10-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()
