"""Importers: what a person bringing a Confluence space, a Notion export, a docs folder, a FAQ
spreadsheet or a Word handbook into Eddy would see — titles, bodies, where each page came
from, keys that survive a re-export, what was skipped and why, and the bad inputs refused.

The exports are small fictional ones in tests/fixtures/imports/ (its make_fixtures.py makes
the binary ones); tests that change an export copy it to a temporary folder first."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest

from bot.importers import (
    FORMATS,
    ImportedPage,
    Skipped,
    SourceProblem,
    SourceRead,
    read_source,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def titled(read: SourceRead, title: str) -> ImportedPage:
    """The page titled `title`, or the section headed so (whose title names its document
    first, "Your first week: Monday")."""
    matches = [
        page for page in read.pages if page.title == title or page.title.endswith(f": {title}")
    ]
    assert len(matches) == 1, f"{title!r} in {[page.title for page in read.pages]}"
    return matches[0]


def keys(read: SourceRead) -> dict[str, str]:
    return {page.key: page.title for page in read.pages}


def zip_folder(folder: Path, archive: Path, *, under: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                out.write(file, f"{under}{file.relative_to(folder).as_posix()}")
    return archive


# Markdown ---------------------------------------------------------------------------------


def test_markdown_titles_come_from_front_matter_then_heading_then_file_name():
    read = read_source(FIXTURES / "markdown")
    assert read.format == "markdown"
    assert titled(read, "Set up a new laptop").key == "it/laptop-setup.md"
    printing = titled(read, "Printing at the office")
    assert not printing.body.startswith("#"), "the heading that is the title leaves the body"
    assert titled(read, "Reset vpn password").source == "reset-vpn_password.md"


def test_markdown_front_matter_gives_questions_tags_topic_owner_and_link():
    page = titled(read_source(FIXTURES / "markdown"), "Set up a new laptop")
    assert page.questions == ("my new laptop is stuck on setup", "which apps come on the laptop")
    assert page.tags == ("it", "laptop")
    assert (page.topic, page.owner) == ("it-help", "U0MIRA001")
    assert page.link == "https://docs.larkspur.example/it/laptop-setup"


def test_markdown_bodies_keep_tables_code_and_lists_but_not_scripts():
    read = read_source(FIXTURES / "markdown")
    setup = titled(read, "Set up a new laptop").body
    assert "| Fernlink | the VPN |" in setup
    assert "```shell\nlarkspur-setup status\n```" in setup
    assert "the standard apps on its own" in setup, "soft-wrapped lines are joined"
    # A link to another Markdown file names a source file, not a page: it stays as text.
    assert "see the troubleshooting page." in setup
    printing = titled(read, "Printing at the office").body
    assert "- Jobs you do not release are deleted after a day." in printing
    assert "**Larkspur-Print**" in printing
    assert "Large posters go through the design team." in printing
    assert "[image: The release screen on a printer]" in printing
    assert "alert" not in printing and "script" not in printing


def test_a_long_markdown_document_becomes_a_page_per_section():
    read = read_source(FIXTURES / "markdown")
    week = [page for page in read.pages if page.key.startswith("onboarding.md")]
    assert [page.title for page in week] == [
        "Your first week",
        "Your first week: Monday",
        "Your first week: Tuesday",
        "Your first week: Wednesday",
        "Your first week: Thursday and Friday",
        "Your first week: Who to ask",
    ]
    monday = titled(read, "Monday")
    assert monday.key == "onboarding.md#monday"
    assert monday.source == "onboarding.md › Your first week › Monday"
    assert monday.link == "https://docs.larkspur.example/onboarding#monday"
    assert monday.tags == ("onboarding",), "the document's tags go with every section"
    assert monday.body.startswith("Come to reception at 09:30.")
    assert titled(read, "Your first week").body.startswith("Welcome to Larkspur Labs.")


def test_a_short_document_with_headings_stays_one_page(tmp_path):
    (tmp_path / "wifi.md").write_text(
        "# Wi-Fi\n\n## At the office\n\nUse Larkspur.\n\n## At home\n\nUse yours.\n"
    )
    read = read_source(tmp_path)
    assert [page.title for page in read.pages] == ["Wi-Fi"]
    assert "## At home" in read.pages[0].body


def test_headings_in_code_blocks_do_not_split_and_a_later_heading_is_not_the_title(tmp_path):
    part = "Lorem ipsum dolor sit amet, the same words again. " * 16
    (tmp_path / "vpn_howto.md").write_text(
        "Read this first.\n\n"
        + "".join(
            f"## Step {n}\n\n{part}\n\n```sh\n# step {n}, not a heading\n```\n\n" for n in (1, 2)
        )
    )
    read = read_source(tmp_path)
    assert [(page.title, page.key) for page in read.pages] == [
        ("Vpn howto", "vpn_howto.md"),
        ("Vpn howto: Step 1", "vpn_howto.md#step-1"),
        ("Vpn howto: Step 2", "vpn_howto.md#step-2"),
    ]
    assert "```sh\n# step 1, not a heading\n```" in read.pages[1].body


def test_markdown_with_broken_front_matter_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n")
    read = read_source(tmp_path)
    assert read.pages == []
    assert read.skipped == [
        Skipped("broken.md", "its front matter (between the `---` lines) is not valid YAML.")
    ]


def test_titles_are_one_line_of_at_most_200_characters(tmp_path):
    (tmp_path / "long.md").write_text("# " + "very long title " * 30 + "\n\nBody.\n")
    title = read_source(tmp_path).pages[0].title
    assert len(title) <= 200 and title.endswith("…") and "\n" not in title


# HTML -------------------------------------------------------------------------------------


def test_html_pages_lose_their_chrome_and_scripts_and_keep_their_content():
    read = read_source(FIXTURES / "html")
    assert read.format == "html"
    wifi = titled(read, "Office Wi-Fi")
    assert wifi.key == "office-wifi.html"
    assert wifi.link == "https://docs.larkspur.example/office/wifi.html"
    body = wifi.body
    assert "| Larkspur-Guest | Visitors, phones | on the screen at reception |" in body
    assert "```shell\nlarkspur-cert renew --network Larkspur\n```" in body
    assert "[image: A ceiling access point with a green light]" in body
    # A relative link made absolute against the page's canonical URL; absolute ones kept.
    assert "[certificates](https://docs.larkspur.example/it/certificates.html)" in body
    assert "[#it-help](https://larkspur.slack.example/archives/C0ITHELP1)" in body
    for chrome in ("Search", "Breadcrumb", "Privacy", "Larkspur Docs", "Home /"):
        assert chrome not in body
    for script in ("track", "fetch", "cookie", "analytics", "margin"):
        assert script not in body


def test_html_without_a_canonical_url_keeps_relative_links_as_text():
    parking = titled(read_source(FIXTURES / "html"), "Parking and bikes")
    assert parking.link is None
    assert "ask at reception for a locker key" in parking.body
    assert "](" not in parking.body
    assert "Docs >" not in parking.body, "the breadcrumb is chrome"


def test_html_keeps_a_form_s_text_and_drops_links_that_lead_nowhere(tmp_path):
    (tmp_path / "old.html").write_text(
        "<html><head><title>Holidays</title></head><body><form action='x'>"
        "<p>The office closes on <a href='#dates'>these dates</a>; "
        "<a href='javascript:void(0)'>print</a> them.</p><input name='q' value='secret'>"
        "</form></body></html>"
    )
    page = read_source(tmp_path).pages[0]
    assert (page.title, page.body) == ("Holidays", "The office closes on these dates; print them.")


def test_long_html_pages_split_at_headings_with_links_to_their_anchors():
    read = read_source(FIXTURES / "html")
    phishing = titled(read, "Suspicious messages")
    assert phishing.key == "security-basics.html#suspicious-messages"
    assert phishing.source == "security-basics.html › Suspicious messages"
    # The anchor is the heading's own id in the page, not one made up from its text.
    assert phishing.link == "https://docs.larkspur.example/security/basics.html#phishing"
    assert '- Gift card requests from "the CEO" are always fraud.' in phishing.body
    assert "[security@larkspur.example](mailto:security@larkspur.example)" in phishing.body
    assert titled(read, "Security basics").link == (
        "https://docs.larkspur.example/security/basics.html"
    )


# Confluence -------------------------------------------------------------------------------


def test_a_confluence_space_reads_as_pages_with_their_breadcrumbs():
    read = read_source(FIXTURES / "confluence")
    assert read.format == "confluence"
    reset = titled(read, "Reset your VPN password")
    assert reset.key == "reset-your-vpn-password_65539.html"
    assert reset.source == (
        "IT Help Desk › IT Help Desk Home › Network and VPN › Reset your VPN password"
    )
    assert titled(read, "IT Help Desk Home").source == "IT Help Desk › IT Help Desk Home"
    assert not any(page.title.startswith("IT Help Desk :") for page in read.pages)


def test_confluence_bodies_keep_tables_code_lists_and_alt_text_without_scripts():
    read = read_source(FIXTURES / "confluence")
    reset = titled(read, "Reset your VPN password").body
    assert "| Fernlink for Windows | System tray > Fernlink > Reset session |" in reset
    assert "```bash\nfernlink session --clear\nfernlink connect --profile office\n```" in reset
    assert "1. Open [the identity portal](https://id.larkspur.example/reset) from a browser." in (
        reset
    )
    assert "Mira Okafor" not in reset, "the page's metadata line is left out"
    assert "Document generated by Confluence" not in reset
    assert "Attachments" not in reset
    settings = titled(read, "VPN client settings").body
    assert "- Server: `vpn.larkspur.example`" in settings
    assert "[image: Fernlink settings window with WireGuard selected]" in settings
    assert "See Reset your VPN password when it stops" in settings
    assert "cookie" not in settings and "localStorage" not in settings and "color" not in settings


def test_confluence_attachments_are_noted_and_listing_pages_skipped():
    read = read_source(FIXTURES / "confluence")
    assert (
        "IT Help Desk › IT Help Desk Home › Network and VPN › Reset your VPN password: "
        "1 attachment not imported (fernlink-reset-guide.pdf)"
    ) in read.notes
    assert "index.html is the list of the space's pages (IT Help Desk); not a page" in read.notes
    assert (
        Skipped(
            "Office-Wi-Fi-map_65542.html",
            "the page holds only attachments, which are not imported.",
        )
        in read.skipped
    )
    assert (
        Skipped("Network-and-VPN_65538.html", "the page only lists links to other pages.")
        in read.skipped
    )
    assert not any("attachments/" in item.where for item in read.skipped)


def test_a_long_confluence_page_splits_and_keeps_sub_headings_in_its_sections():
    read = read_source(FIXTURES / "confluence")
    first = titled(read, "First login")
    assert first.key == "laptop-handbook_65541.html#first-login"
    assert first.source == "IT Help Desk › IT Help Desk Home › Laptop handbook › First login"
    assert "### If setup stalls" in first.body
    assert titled(read, "Laptop handbook").body.startswith("Every new starter gets a laptop")


def test_a_confluence_page_moved_in_a_later_export_keeps_its_key(tmp_path):
    before = read_source(FIXTURES / "confluence")
    shutil.copytree(FIXTURES / "confluence", tmp_path / "again")
    page = tmp_path / "again" / "IT" / "Reset-your-VPN-password_65539.html"
    html = page.read_text()
    moved = html.replace(
        '<li><span><a href="Network-and-VPN_65538.html">Network and VPN</a></span></li>', ""
    )
    assert moved != html
    page.write_text(moved)
    after = read_source(tmp_path / "again")
    assert keys(after) == keys(before)
    assert titled(after, "Reset your VPN password").source == (
        "IT Help Desk › IT Help Desk Home › Reset your VPN password"
    )


def test_a_zipped_confluence_space_reads_as_the_folder_does(tmp_path):
    archive = zip_folder(FIXTURES / "confluence", tmp_path / "IT-space.zip")
    assert read_source(archive) == read_source(FIXTURES / "confluence")


# Notion -----------------------------------------------------------------------------------


def test_notion_pages_lose_their_ids_everywhere():
    read = read_source(FIXTURES / "notion")
    assert read.format == "notion"
    for page in read.pages:
        for value in (page.key, page.title, page.source, page.body):
            assert not HEX_ID.search(value), value
    leave = titled(read, "Parental leave")
    assert leave.key == "larkspur wiki/people/parental leave.md"
    assert leave.source == "Larkspur Wiki › People › Parental leave"
    assert "| Three months before | Tell your manager and the People team |" in leave.body
    assert "See the Expense policy for claiming childcare" in leave.body
    assert "[image: Calendar showing leave spread over a year]" in leave.body


def test_a_notion_page_listing_only_its_sub_pages_is_skipped_and_long_ones_split():
    read = read_source(FIXTURES / "notion")
    assert Skipped("Larkspur Wiki/People.md", "it only lists links to other pages.") in (
        read.skipped
    )
    travel = titled(read, "Travel")
    assert travel.key == "larkspur wiki/people/expense policy.md#travel"
    assert travel.source == "Larkspur Wiki › People › Expense policy › Travel"
    assert "### Per diem" in travel.body


def test_a_notion_database_gives_a_page_per_row_with_its_properties():
    read = read_source(FIXTURES / "notion")
    parcels = titled(read, "Where do parcels for me go?")
    assert parcels.key == "larkspur wiki/team faq.csv#where-do-parcels-for-me-go"
    assert parcels.body.startswith("Parcels go to reception")
    assert (parcels.owner, parcels.topic, parcels.tags) == (
        "Jonas Berg",
        "Office",
        ("office", "post"),
    )
    assert parcels.questions == ("Can I get packages delivered to work?",)
    phone = titled(read, "Who pays for my phone?")
    assert phone.topic == "People", "a relation to another page keeps its name only"
    assert phone.questions == ("Is my phone plan reimbursed?", "Phone allowance")
    # The row's own page is its body, without the property lines Notion writes under it.
    room = titled(read, "How do I book a meeting room")
    assert room.body.startswith("Rooms on the second floor are booked from your calendar")
    assert "Owner:" not in room.body
    assert room.owner == "Priya Nair"
    dress_code = "'Dress code' has no text besides its title."
    assert Skipped("Larkspur Wiki/Team FAQ.csv › row 5", dress_code) in read.skipped
    assert (
        "Larkspur Wiki/Team FAQ.csv: took column 'Name' as the title, 'Answer' as the answer, "
        "'Also asked' as other wordings of the question, 'Owner' as the owner, 'Category' as "
        "the topic, 'Tags' as tags; left out 'Created'"
    ) in read.notes
    assert len([p for p in read.pages if p.title == "How do I book a meeting room"]) == 1


def test_a_notion_re_export_with_new_ids_keeps_every_key(tmp_path):
    before = read_source(FIXTURES / "notion")
    again = tmp_path / "again"

    def new_id(match: re.Match[str]) -> str:
        return match.group(0)[::-1]

    for file in sorted((FIXTURES / "notion").rglob("*")):
        if file.is_file():
            target = again / HEX_ID.sub(new_id, file.relative_to(FIXTURES / "notion").as_posix())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(HEX_ID.sub(new_id, file.read_text(encoding="utf-8")).encode())
    assert not (again / "Larkspur Wiki 8f1c2a7e9b3d4c5fa6e7d8c9b0a1f2e3.md").exists()
    after = read_source(again)
    assert [page.key for page in after.pages] == [page.key for page in before.pages]
    assert after.pages == before.pages


def test_a_notion_export_zip_reads_as_its_folder():
    assert read_source(FIXTURES / "notion-export.zip") == read_source(FIXTURES / "notion")


# Spreadsheets -----------------------------------------------------------------------------


def test_a_messy_faq_workbook_finds_its_header_under_a_title_row():
    read = read_source(FIXTURES / "faq-messy.xlsx")
    assert read.format == "xlsx"
    assert (
        "faq-messy.xlsx › IT FAQ: took column 'Q' as the question, 'A' as the answer, "
        "'Also asked' as other wordings of the question, 'Owner' as the owner, 'Topic' as the "
        "topic (header on row 3)"
    ) in read.notes
    vpn = titled(read, "How do I reset my VPN password?")
    assert vpn.key == "faq-messy.xlsx#it-faq/how-do-i-reset-my-vpn-password"
    assert vpn.source == "faq-messy.xlsx › IT FAQ › row 4"
    assert vpn.body.startswith("Open the identity portal")
    assert vpn.questions == ("vpn says credentials rejected", "my vpn password expired")
    assert vpn.owner == "Mira Okafor"


def test_merged_cells_count_for_every_cell_they_cover():
    read = read_source(FIXTURES / "faq-messy.xlsx")
    # 'Topic' is one cell merged down over the three network questions.
    for title in (
        "How do I reset my VPN password?",
        "Why is the Wi-Fi slow in the Heron room?",
        "Can I use my own phone for work email?",
    ):
        assert titled(read, title).topic == "Network"
    # The answer's header is merged over two columns: both are the answer.
    assert titled(read, "Why is the Wi-Fi slow in the Heron room?").body == (
        "The Heron room has its own access point, which struggles with more than 30 laptops."
        "\n\nPlug in at the desk sockets during all-hands."
    )


def test_rows_without_an_answer_and_sheets_without_a_header_are_skipped_with_reasons():
    read = read_source(FIXTURES / "faq-messy.xlsx")
    assert read.skipped == [
        Skipped(
            "faq-messy.xlsx › IT FAQ › row 8", "'Who replaces a broken charger?' has no answer."
        ),
        Skipped(
            "faq-messy.xlsx › Scratch",
            "no header row names a question column and an answer column (looked for headers "
            "like 'Question' and 'Answer' in the first 30 rows).",
        ),
    ]
    assert "faq-messy.xlsx › Lookups: a hidden sheet; not read" in read.notes
    assert len(read.pages) == 4


def test_sorting_a_workbook_keeps_its_keys(tmp_path):
    before = read_source(FIXTURES / "faq-messy.xlsx")
    book = openpyxl.load_workbook(FIXTURES / "faq-messy.xlsx")
    sheet = book["IT FAQ"]
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row > 3:
            sheet.unmerge_cells(str(merged))
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4, max_row=12)]
    rows = [row for row in rows if any(row)][::-1]
    sheet.delete_rows(4, 20)
    sheet.insert_rows(4, 2)  # two rows more above the questions
    for at, row in enumerate(rows, start=6):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=at, column=column, value=value)
    book.save(tmp_path / "faq-messy.xlsx")
    after = read_source(tmp_path / "faq-messy.xlsx")
    assert sorted(keys(after).items()) == sorted(keys(before).items())
    assert (
        titled(after, "How do I reset my VPN password?").source
        != titled(before, "How do I reset my VPN password?").source
    )


def test_a_windows_csv_is_read_as_cp1252_with_a_note():
    read = read_source(FIXTURES / "faq-cp1252.csv")
    assert read.format == "csv"
    assert "faq-cp1252.csv: not UTF-8; read it as Windows-1252" in read.notes
    coffee = titled(read, "Where can I buy a coffee?")
    assert coffee.key == "faq-cp1252.csv#where-can-i-buy-a-coffee"
    assert coffee.body == "The café on the ground floor opens at 08:00; a flat white costs 2,10 €."
    assert coffee.questions == ("Is there a café?", "Where is the coffee machine?")
    assert coffee.tags == ("food", "café")
    assert coffee.link == "https://intranet.larkspur.example/cafe"
    assert read.skipped == [
        Skipped("faq-cp1252.csv › row 6", "'Who waters the plants?' has no answer.")
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_csv_files_with_a_byte_order_mark_are_read_without_a_note(tmp_path, encoding):
    (tmp_path / "faq.csv").write_bytes(
        "Frage?,Answer\nQuestion,Answer\nWhere is the café?,Ground floor.\n".encode(encoding)
    )
    read = read_source(tmp_path / "faq.csv")
    assert titled(read, "Where is the café?").body == "Ground floor."
    assert not any("UTF-8" in note for note in read.notes)


def test_reordered_csv_rows_keep_their_keys(tmp_path):
    rows = [["Question", "Answer"], ["Where is the café?", "Ground floor."], ["Dogs?", "Fridays."]]
    for name, ordered in (("a.csv", rows), ("b.csv", [rows[0], *rows[:0:-1], ["", ""]])):
        out = io.StringIO()
        csv.writer(out).writerows(ordered)
        (tmp_path / name).write_text(out.getvalue())
    first, second = read_source(tmp_path / "a.csv"), read_source(tmp_path / "b.csv")
    assert [p.key.split("#")[1] for p in first.pages] == ["where-is-the-cafe", "dogs"]
    assert sorted(p.key.split("#")[1] for p in second.pages) == sorted(
        p.key.split("#")[1] for p in first.pages
    )


def test_a_sheet_without_question_and_answer_columns_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "list.csv").write_text("Name,Email\nMira,mira@larkspur.example\n")
    read = read_source(tmp_path / "list.csv")
    assert read.pages == []
    assert read.skipped[0].where == "list.csv"
    assert "no header row names a question column and an answer column" in read.skipped[0].reason


# Word -------------------------------------------------------------------------------------


def test_a_word_handbook_becomes_a_page_per_section():
    read = read_source(FIXTURES / "handbook.docx")
    assert read.format == "docx"
    assert [page.title for page in read.pages] == [
        "Larkspur Labs Employee Handbook",
        "Larkspur Labs Employee Handbook: Working hours",
        "Larkspur Labs Employee Handbook: Expenses",
        "Expenses: Travel",
        "Expenses: Meals",
        "Expenses: Equipment",
        "Expenses: Mileage",
        "Larkspur Labs Employee Handbook: Leave",
    ]
    travel = titled(read, "Travel")
    assert travel.key == "handbook.docx#travel"
    # Expenses is longer than an answer may be: its own sub-headings split it again.
    assert travel.source == "handbook.docx › Larkspur Labs Employee Handbook › Expenses › Travel"
    assert "- Taxis: when there is no public transport, or after 22:00." in travel.body
    assert titled(read, "Expenses").body.startswith("Spend the company's money")


def test_a_word_handbook_keeps_tables_lists_emphasis_and_links():
    read = read_source(FIXTURES / "handbook.docx")
    assert "| Full day or more | 45 euros | not needed |" in titled(read, "Meals").body
    hours = titled(read, "Working hours").body
    assert "**10:00 to 16:00**" in hours and "*nobody expects answers in the evening*" in hours
    leave = titled(read, "Leave").body
    assert "2. Request them in the People app at least two weeks ahead." in leave
    assert "[the People handbook](https://people.larkspur.example/leave)" in leave


# A folder of several kinds, keys, and what is never read ----------------------------------


def test_a_folder_may_mix_formats_and_each_file_is_read_by_its_kind(tmp_path):
    shutil.copy(FIXTURES / "markdown" / "reset-vpn_password.md", tmp_path)
    shutil.copy(FIXTURES / "html" / "parking.html", tmp_path)
    shutil.copy(FIXTURES / "faq-cp1252.csv", tmp_path)
    shutil.copy(FIXTURES / "handbook.docx", tmp_path)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4\n")
    read = read_source(tmp_path)
    assert read.format == "mixed"
    assert read.notes[0] == (
        "a folder of several kinds: read 1 csv file, 1 docx file, 1 html file, 1 markdown file"
    )
    assert {
        "Reset vpn password",
        "Parking and bikes",
        "Where can I buy a coffee?",
        "Larkspur Labs Employee Handbook",
    } <= {page.title for page in read.pages}
    assert (
        Skipped(
            "slides.pdf",
            "PDF files are not imported; export the text as Word, HTML or Markdown.",
        )
        in read.skipped
    )
    assert any("1 picture, style and attachment file not imported" in n for n in read.notes)


def test_a_format_named_reads_only_that_kind(tmp_path):
    shutil.copy(FIXTURES / "markdown" / "reset-vpn_password.md", tmp_path)
    shutil.copy(FIXTURES / "html" / "parking.html", tmp_path)
    read = read_source(tmp_path, format="markdown")
    assert read.format == "markdown"
    assert [page.title for page in read.pages] == ["Reset vpn password"]
    assert read.skipped == [
        Skipped("parking.html", "not a markdown file (read with --format markdown).")
    ]
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        read_source(tmp_path, format="pdf")
    assert "auto" in FORMATS


def test_reading_twice_gives_the_same_pages_and_keys_are_unique():
    for source in ("confluence", "notion", "markdown", "html", "faq-messy.xlsx", "handbook.docx"):
        first, second = read_source(FIXTURES / source), read_source(FIXTURES / source)
        assert first == second
        assert len({page.key for page in first.pages}) == len(first.pages)
        assert all(page.body.strip() and page.title for page in first.pages)


# Bad input --------------------------------------------------------------------------------


def test_a_corrupt_zip_is_refused_naming_it():
    with pytest.raises(SourceProblem, match=r"^corrupt\.zip is not a readable zip file"):
        read_source(FIXTURES / "corrupt.zip")


def test_a_zip_with_a_damaged_member_is_refused(tmp_path):
    archive = zip_folder(FIXTURES / "markdown", tmp_path / "docs.zip")
    data = bytearray(archive.read_bytes())
    start = data.index(b"When Fernlink")
    data[start : start + 4] = b"XXXX"
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceProblem, match=r"docs\.zip is not a readable zip file"):
        read_source(archive)


def test_a_missing_path_is_refused_naming_it(tmp_path):
    with pytest.raises(SourceProblem, match=r"nowhere\.zip does not exist"):
        read_source(tmp_path / "nowhere.zip")


def test_a_zip_never_writes_outside_its_temporary_folder(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    archive = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("../escaped.md", "# Escaped\n\nShould never land.\n")
        out.writestr("/etc/absolute.md", "# Absolute\n\nNor this.\n")
        out.writestr("docs/fine.md", "# Fine\n\nThis one is read.\n")
    read = read_source(archive)
    assert [page.title for page in read.pages] == ["Fine"]
    assert [item.where for item in read.skipped] == [
        "sneaky.zip › ../escaped.md",
        "sneaky.zip › /etc/absolute.md",
    ]
    assert all("outside the zip" in item.reason for item in read.skipped)
    assert not (tmp_path / "escaped.md").exists()
    assert list(scratch.iterdir()) == [], "the temporary folder is removed"


def test_a_zip_that_unpacks_too_big_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("big.md", "a" * 200_000)
    with pytest.raises(SourceProblem, match=r"^bomb\.zip unpacks to 195 KB; at most 100 KB"):
        read_source(archive, max_total_bytes=100 * 1024)


def test_a_file_over_the_size_limit_is_skipped_with_its_size(tmp_path):
    (tmp_path / "huge.md").write_text("# Huge\n\n" + "text " * 1000)
    (tmp_path / "small.md").write_text("# Small\n\nFits.\n")
    read = read_source(tmp_path, max_file_bytes=2048)
    assert [page.title for page in read.pages] == ["Small"]
    assert read.skipped == [
        Skipped("huge.md", "huge.md is 5 KB; files over 2 KB are not imported.")
    ]
    archive = zip_folder(tmp_path, tmp_path.parent / "both.zip")
    zipped = read_source(archive, max_file_bytes=2048)
    assert zipped.skipped == [
        Skipped("both.zip › huge.md", "huge.md is 5 KB; files over 2 KB are not imported.")
    ]


def test_sizes_read_as_people_say_them():
    from bot.importers.pages import size_text

    assert size_text(200 * 1024 * 1024) == "200 MB"
    assert size_text(50 * 1024 * 1024) == "50 MB"
    assert size_text(900) == "900 bytes"


def test_an_undecodable_file_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "faq.csv").write_bytes(b"Question,Answer\nWhy \x81\x8d?,Because.\n")
    (tmp_path / "page.md").write_bytes(b"# Binary\x00\x01\x02")
    read = read_source(tmp_path)
    assert read.pages == []
    assert read.skipped == [
        Skipped(
            "faq.csv",
            "faq.csv could not be read: its text encoding is not UTF-8, UTF-16 or "
            "Windows-1252; save it as UTF-8.",
        ),
        Skipped("page.md", "page.md could not be read: it holds binary data, not text."),
    ]


def test_a_broken_workbook_or_document_is_skipped_not_fatal(tmp_path):
    (tmp_path / "faq.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "handbook.docx").write_bytes(b"not a document")
    read = read_source(tmp_path)
    assert read.skipped == [
        Skipped("faq.xlsx", "faq.xlsx is not a readable Excel workbook (.xlsx)."),
        Skipped("handbook.docx", "handbook.docx is not a readable Word document (.docx)."),
    ]


def test_fixtures_stay_small():
    for file in FIXTURES.rglob("*"):
        if file.is_file():
            assert file.stat().st_size < 50 * 1024, file
