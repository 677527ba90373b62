"""Importers: a company's existing knowledge (a Confluence space, a Notion export, a docs
folder of Markdown or HTML, a FAQ spreadsheet, a Word handbook) read into pages that can
become Eddy's knowledge entries. Reading only: no database and no Slack here; the
`content import` command, the sync and the review queue are built on this.

    read = read_source(Path("acme-it-confluence.zip"))        # a folder, a file or a zip
    for page in read.pages:
        page.key, page.title, page.source                      # "acme-it/vpn_65541.html", …
    read.skipped   # [Skipped("FAQ.xlsx › IT › row 9", "'Who approves travel?' has no answer.")]
    read.notes     # ["FAQ.xlsx › IT: took column 'Q' as the question, 'A' as the answer …"]

`read_source` picks a reader per file (`format="auto"`) or uses the one named; a folder may
mix kinds. Every format ends as Markdown the same way (`markup`): HTML cleaned, then
written as Markdown; long documents are split into a page per section (`sections`).

The libraries, each maintained and widely used, so that no parser is written here:
- beautifulsoup4 (with the standard library's html.parser): cleans HTML before it is
  converted, removing scripts, styles and a site's navigation, and reads Confluence's
  breadcrumbs and titles;
- markdownify: HTML to Markdown (tables, lists, links, code blocks), on BeautifulSoup;
- markdown-it-py: reads Markdown files' headings for splitting, and turns them into HTML
  so that their links, images and any raw HTML follow the same rules as web pages;
- python-frontmatter and PyYAML (already Eddy's): Markdown front matter;
- openpyxl: .xlsx workbooks, with merged cells and formulas' values;
- mammoth: .docx to semantic HTML (`word` says why rather than python-docx);
- the standard library's csv and zipfile: CSV files and zips.
Nothing is downloaded at run time, and nothing is written but a temporary folder for an
unpacked zip, removed once read.
"""

from __future__ import annotations

from bot.importers.pages import FORMATS, ImportedPage, Skipped, SourceProblem, SourceRead
from bot.importers.source import read_source

__all__ = ["FORMATS", "ImportedPage", "Skipped", "SourceProblem", "SourceRead", "read_source"]
