"""Importing existing knowledge, through the front door: `app.py content import` on a docs
folder, an export or a spreadsheet, then `/ask` in Slack gets the imported answer; curated in
the review queue first unless published; importing again updates in place."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import ALEX, GENERAL, MANAGER, ROOT, SAM
from tests.test_ask import shown
from tests.test_cli import eddy as eddy_cli
from tests.test_home import open_tab, seen

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
BIKES = "Where do I park my bike at the office?"


def import_source(runtime, source: Path, *args: str):
    """`app.py content import SOURCE ARGS` on Eddy's database; then the scheduler's refresh
    (within a minute in a running Eddy) brings what it saved into the running index."""
    done = eddy_cli(
        "content",
        "import",
        str(source),
        *args,
        cwd=source.parent,
        DATABASE_URL=runtime.settings.database_url,
        EDDY_MANAGERS=MANAGER,
        EDDY_CONTENT_DIR=str(runtime.settings.eddy_content_dir),
    )
    runtime.catalogue.refresh(runtime)
    return done


def asked(slack, question: str, user: str = SAM) -> str:
    slack.command(user, GENERAL, f"/ask {question}")
    return shown(slack.ephemerals(user)[-1])


def docs(tmp_path: Path, pages: dict[str, str]) -> Path:
    folder = tmp_path / "handbook"
    folder.mkdir(exist_ok=True)
    for name, text in pages.items():
        (folder / name).write_text(text)
    return folder


BIKE_PAGE = (
    "# Bike parking\n\nBikes go in the courtyard rack behind building B. "
    "Ask reception for a locker key.\n"
)


def test_a_published_markdown_folder_answers_at_once(slack, eddy, runtime, tmp_path):
    folder = docs(tmp_path, {"bike-parking.md": BIKE_PAGE})
    done = import_source(runtime, folder, "--publish")
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "Import of handbook" in done.stdout
    answer = asked(slack, BIKES)
    assert "*Bike parking*" in answer and "courtyard rack" in answer


def test_imported_pages_wait_for_review_and_a_second_import_updates_in_place(
    slack, eddy, runtime, tmp_path
):
    folder = docs(tmp_path, {"bike-parking.md": BIKE_PAGE})
    done = import_source(runtime, folder)
    assert done.returncode == 0, done.stderr
    assert "waiting in the review queue" in done.stdout
    assert "courtyard rack" not in asked(slack, BIKES)  # not before it is approved
    queue = open_tab(slack, ALEX, "Review queue")
    assert "Bike parking" in seen(queue)
    slack.press(ALEX, queue, "Approve")
    assert "courtyard rack" in asked(slack, BIKES)

    again = import_source(runtime, folder)
    assert "unchanged" in again.stdout
    (folder / "bike-parking.md").write_text(BIKE_PAGE.replace("building B", "building C"))
    changed = import_source(runtime, folder)
    assert changed.returncode == 0, changed.stderr
    queue = open_tab(slack, ALEX, "Review queue")
    slack.press(ALEX, queue, "Approve")
    runtime.catalogue.refresh(runtime)
    answer = asked(slack, BIKES)
    assert "building C" in answer and "building B" not in answer
    titles = [entry.title for entry in runtime.catalogue.index.entries]
    assert titles.count("Bike parking") == 1  # the same entry, updated


def test_a_page_gone_from_the_source_is_kept_and_flagged(slack, eddy, runtime, tmp_path):
    folder = docs(
        tmp_path,
        {"bike-parking.md": BIKE_PAGE, "desks.md": "# Hot desks\n\nBook a desk in the app.\n"},
    )
    import_source(runtime, folder, "--publish")
    (folder / "desks.md").unlink()
    done = import_source(runtime, folder, "--publish")
    assert "gone from the source" in done.stdout and "Hot desks" in done.stdout
    assert "Book a desk" in asked(slack, "how do I book a hot desk")
    assert "Hot desks" in seen(open_tab(slack, ALEX, "Review queue"))


def gone_desks(runtime, tmp_path: Path) -> Path:
    """Two pages imported and published; then one is gone from the next import."""
    desks = "# Hot desks\n\nBook a desk in the app.\n"
    folder = docs(tmp_path, {"bike-parking.md": BIKE_PAGE, "desks.md": desks})
    import_source(runtime, folder, "--publish")
    (folder / "desks.md").unlink()
    import_source(runtime, folder, "--publish")
    return folder


def test_a_manager_removes_an_entry_whose_page_is_gone(slack, eddy, runtime, tmp_path):
    folder = gone_desks(runtime, tmp_path)
    queue = open_tab(slack, ALEX, "Review queue")
    slack.press(ALEX, queue, "Remove")
    assert "Removed *Hot desks*: it no longer answers anyone" in seen(slack.home(ALEX))
    assert "Book a desk" not in asked(slack, "how do I book a hot desk")
    assert "Hot desks" not in seen(open_tab(slack, ALEX, "Review queue"))
    assert "courtyard rack" in asked(slack, BIKES)  # the rest of the import stays

    (folder / "desks.md").write_text("# Hot desks\n\nBook a desk in the app.\n")
    back = import_source(runtime, folder, "--publish")  # the page is back: a new entry
    assert back.returncode == 0, back.stderr
    assert "Book a desk" in asked(slack, "how do I book a hot desk")


def test_a_manager_keeps_an_entry_whose_page_is_gone(slack, eddy, runtime, tmp_path):
    gone_desks(runtime, tmp_path)
    slack.press(ALEX, open_tab(slack, ALEX, "Review queue"), "Keep it")
    assert "Hot desks" not in seen(open_tab(slack, ALEX, "Review queue"))
    assert "Book a desk" in asked(slack, "how do I book a hot desk")


def test_a_near_duplicate_of_an_entry_is_reported_not_added(slack, eddy, runtime, tmp_path):
    folder = docs(tmp_path, {"vpn.md": "# Reset your VPN password\n\nCall the help desk.\n"})
    done = import_source(runtime, folder, "--publish")
    assert done.returncode == 0, done.stderr
    assert "near-duplicates" in done.stdout and "Reset your VPN password" in done.stdout
    assert "Call the help desk" not in asked(slack, "how do I reset my VPN password?")


def test_a_dry_run_changes_nothing(slack, eddy, runtime, tmp_path):
    folder = docs(tmp_path, {"bike-parking.md": BIKE_PAGE})
    done = import_source(runtime, folder, "--publish", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Dry run: nothing was changed." in done.stdout
    assert "courtyard rack" not in asked(slack, BIKES)


def test_a_corrupt_zip_is_named_and_nothing_is_imported(slack, eddy, runtime, tmp_path):
    broken = tmp_path / "export.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    done = import_source(runtime, broken, "--publish")
    assert done.returncode == 2
    assert "export.zip" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("fixture", "question", "words"),
    [
        ("confluence", "how do I return my laptop when I leave?", "bring the laptop"),
        ("notion-export.zip", "who pays for my phone bill?", "30 euros"),
        ("faq-messy.xlsx", "why is the wifi so slow in the heron room", "access point"),
        ("faq-cp1252.csv", "can I bring my dog to the office?", "Fridays"),
        ("handbook.docx", "what are the core working hours at Larkspur?", "10:00 to 16:00"),
        ("html", "where can I park my bike?", "locked room"),
        ("markdown", "what happens on my first monday?", "reception at 09:30"),
    ],
)
def test_each_kind_of_export_answers_after_import(
    slack, eddy, runtime, tmp_path, fixture, question, words
):
    source = FIXTURES / fixture
    done = import_source(runtime, source, "--publish")
    assert done.returncode == 0, done.stderr
    assert words in asked(slack, question)


def test_a_zip_of_a_docs_folder_imports_like_the_folder(slack, eddy, runtime, tmp_path):
    folder = docs(tmp_path, {"bike-parking.md": BIKE_PAGE})
    packed = tmp_path / "handbook.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(folder / "bike-parking.md", "handbook/bike-parking.md")
    done = import_source(runtime, packed, "--publish")
    assert done.returncode == 0, done.stderr
    assert "courtyard rack" in asked(slack, BIKES)


def test_the_messy_spreadsheet_says_what_it_took_and_what_it_skipped(slack, eddy, runtime):
    done = import_source(runtime, FIXTURES / "faq-messy.xlsx", "--publish")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "as the question" in out and "as the answer" in out  # the columns it took
    assert "skipped │ 2" in out and "no answer" in out


def test_a_topic_that_is_not_in_networks_yml_is_refused_before_anything(slack, eddy, runtime):
    done = import_source(runtime, FIXTURES / "markdown", "--publish", "--topic", "nowhere")
    assert done.returncode == 2
    assert "--topic 'nowhere' is not a topic in networks.yml" in done.stderr
    assert "Traceback" not in done.stderr
    assert "reception at 09:30" not in asked(slack, "what happens on my first monday?")


def test_an_imported_answer_links_to_its_source_page_and_section(slack, eddy, runtime):
    import_source(runtime, FIXTURES / "markdown", "--publish")
    answer = asked(slack, "what happens on monday in my first week?")
    assert "reception at 09:30" in answer
    assert "<https://docs.larkspur.example/onboarding#monday|" in answer


def test_two_pages_with_one_title_in_one_import_become_two_entries(slack, eddy, runtime, tmp_path):
    folder = docs(
        tmp_path,
        {
            "berlin.md": "# Parking permits\n\nIn Berlin, ask the front desk for a permit.\n",
            "lisbon.md": "# Parking permits\n\nIn Lisbon, park in the street behind the office.\n",
        },
    )
    done = import_source(runtime, folder, "--publish")
    assert done.returncode == 0, done.stderr
    permits = [e for e in runtime.catalogue.index.entries if e.title == "Parking permits"]
    assert sorted(entry.slug for entry in permits) == ["parking-permits", "parking-permits-2"]
