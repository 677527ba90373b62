"""Data rights, through the front door: Sam builds a history in Slack (questions, questions
for the experts asked and answered, an entry approved into the index, a lesson and its quiz,
reactions given and received, a badge, an expert network, the Home tab), then `export user`
writes all of it, `/learn me export` DMs it to Sam alone, and `forget user` leaves no row of
any table naming Sam, while the analytics, the knowledge index and everyone else's points
stay as they were."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot import analytics, badges, privacy
from bot.clock import ManualClock
from bot.people import is_former_member
from bot.settings import load_settings
from sandbox import SlackStandIn
from sandbox.console import open_sandbox
from store.db import normalise_url
from tests.conftest import (
    ALEX,
    GENERAL,
    IT_HELP,
    KIM,
    PINNED,
    RIO,
    ROOT,
    SAM,
    Instance,
    shipped_content,
)
from tests.test_ask import buttons, shown
from tests.test_cli import eddy as eddy_cli
from tests.test_cli import one_sentence
from tests.test_console import Terminal
from tests.test_networks import UNKNOWN, experts_say, last_dm, send_to_experts

VISITOR = "how do I get a visitor badge for my guest"
STILL_WAITING = "where is the spare key for the rooftop terrace kept"
SAMS_WORDING = "how do I reset my VPN password"
KIMS_QUESTION = f"does <@{SAM}|sam> know the vpn portal"
EXPORT_SECTIONS = (
    "questions",
    "routed_questions",
    "knowledge",
    "lessons",
    "quiz_results",
    "points",
    "badges",
    "expertise",
    "home",
)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content, with #it-help as the IT help network's channel."""
    return shipped_content(tmp_path)


@pytest.fixture
def start_eddy(
    slack: SlackStandIn, content: Path, clock: ManualClock
) -> Iterator[Callable[[str], Instance]]:
    """Starts Eddy on a database URL, wired to the stand-in (closed after the test)."""
    started: list[Instance] = []

    def start(url: str) -> Instance:
        slack.workspace.clock = clock
        instance = Instance(slack, url, content, clock)
        slack.connect(instance.target)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'eddy.db'}"


def routed_post(slack: SlackStandIn, question: str) -> Any:
    return next(
        m for m in reversed(slack.messages(IT_HELP)) if question[:30] in shown(m) and m.blocks
    )


def build_history(slack: SlackStandIn, eddy: Instance) -> None:
    """Everything Eddy can keep about Sam, made as people would make it."""
    experts_say(slack, SAM, "join it help")
    slack.command(SAM, GENERAL, f"/ask {SAMS_WORDING}")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Helpful")
    slack.command(KIM, GENERAL, f"/ask {KIMS_QUESTION}")
    # Sam asks the experts; Kim answers in the thread; Sam marks it resolved.
    send_to_experts(slack, SAM, UNKNOWN, "it-help")
    slack.say(KIM, IT_HELP, "Ask at the front desk.", thread_ts=routed_post(slack, UNKNOWN).ts)
    slack.press(SAM, last_dm(slack, SAM), "Resolved")
    # Rio asks; Sam answers and saves the answer; Alex approves it: an entry Sam keeps.
    send_to_experts(slack, RIO, VISITOR, "it-help")
    post = routed_post(slack, VISITOR)
    slack.say(SAM, IT_HELP, "Book it in the visitor app the day before.", thread_ts=post.ts)
    slack.press(RIO, last_dm(slack, RIO), "Resolved")
    thread = slack.messages(IT_HELP, thread_ts=post.ts)
    save = next(m for m in reversed(thread) if "Save to knowledge index" in buttons(m))
    slack.press(SAM, save, "Save to knowledge index")
    slack.submit(SAM, {"entry_title": "Get a visitor badge"})
    slack.press(ALEX, last_dm(slack, ALEX), "Approve")
    # A question of Sam's that no expert has answered yet.
    send_to_experts(slack, SAM, STILL_WAITING, "it-help")
    # A lesson and its quiz.
    slack.command(SAM, GENERAL, "/learn start security-basics")
    quiz = eddy.runtime.catalogue.paths["security-basics"].lessons[0].quiz
    assert quiz is not None
    lesson = next(m for m in slack.dms(SAM) if quiz.right_option in buttons(m))
    slack.press(SAM, lesson, quiz.right_option)
    # Reactions: Kim thanks Sam (Sam's first badge), Sam thanks Kim.
    tip = slack.say(SAM, GENERAL, "The visitor wifi code is on the fridge.")
    slack.react(KIM, tip, "white_check_mark")
    paper = slack.say(KIM, GENERAL, "Printer paper is in the cupboard by the door.")
    slack.react(SAM, paper, "pray")
    # A question in a help channel, answered in its thread.
    slack.command(ALEX, GENERAL, f"/ask listen <#{IT_HELP}|it-help>")
    slack.say(SAM, IT_HELP, "how do I reset my VPN password?")
    slack.open_home(SAM)
    eddy.runtime.work.wait_idle()


def rows_naming(url: str, user_id: str) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every value, in every row of every table, that contains
    `user_id`: read with plain SQL, whatever the models say."""
    engine = create_engine(normalise_url(url))
    found = []
    try:
        with engine.connect() as connection:
            for table in SQLModel.metadata.sorted_tables:
                for row in connection.execute(text(f'SELECT * FROM "{table.name}"')).mappings():
                    found += [
                        (table.name, column, value)
                        for column, value in row.items()
                        if user_id in str(value)
                    ]
    finally:
        engine.dispose()
    return found


def figures(eddy: Instance) -> list[tuple[str, Any, Any]]:
    report = analytics.report(eddy.runtime, days=30, now=eddy.runtime.clock.now())
    return [(figure.key, figure.value, figure.trend) for figure in report.figures]


def cli(url: str, content: Path, cwd: Path, *args: str) -> Any:
    return eddy_cli(*args, cwd=cwd, DATABASE_URL=url, EDDY_CONTENT_DIR=str(content))


# --- export -----------------------------------------------------------------------------------


def test_export_user_writes_every_section_and_nobody_elses_words(
    slack, start_eddy, sqlite_url, content, tmp_path
):
    eddy = start_eddy(sqlite_url)
    build_history(slack, eddy)
    result = cli(sqlite_url, content, tmp_path, "export", "user", SAM, "--out", "sam.json")
    assert result.returncode == 0, result.stderr
    assert f"Exported what Eddy keeps about {SAM}" in result.stderr
    document = json.loads((tmp_path / "sam.json").read_text())
    header = document["export"]
    assert header["user_id"] == SAM and header["workspace"] == "T0SANDBOX"
    assert set(EXPORT_SECTIONS) <= set(header["sections"])
    for section in EXPORT_SECTIONS:
        assert document[section], f"{section} is empty"
    asked = [row["question"] for row in document["questions"]["question_log"]]
    assert SAMS_WORDING in asked and UNKNOWN in asked
    assert all("vpn portal" not in wording for wording in asked), "Kim's words are Kim's"
    assert document["mentioned_by_others"] == {"question_log": 1}
    routed = document["routed_questions"]["routed_question"]
    assert {row["asker_id"] for row in routed} == {SAM, RIO}
    assert any(row["answered_by"] == SAM for row in routed)
    assert [row["owner"] for row in document["knowledge"]["knowledge_entry"]] == [SAM]
    assert document["lessons"]["lesson_subscription"][0]["path"] == "security-basics"
    assert document["quiz_results"]["quiz_answer"][0]["correct"] is True
    assert document["points"]["point_total"][0]["points"] == 3
    ledger = document["points"]["point_ledger"]
    assert {(row["giver"], row["receiver"]) for row in ledger} == {(KIM, SAM), (SAM, KIM)}
    badges_earned = {row["badge"] for row in document["badges"]["badge_award"]}
    assert {"first-thanks", "first-responder"} <= badges_earned
    assert document["expertise"]["network_member"][0]["topic"] == "it-help"
    assert document["home"]["home_state"][0]["user_id"] == SAM
    verbs = {statement["verb"]["display"]["en-US"] for statement in document["learning_records"]}
    assert {"asked", "answered", "resolved", "authored", "experienced", "earned"} <= verbs


# --- forget -----------------------------------------------------------------------------------


def test_forget_user_leaves_no_row_naming_them_and_the_figures_as_they_were(
    slack, start_eddy, database_url, content, tmp_path
):
    eddy = start_eddy(database_url)  # SQLite, then PostgreSQL
    build_history(slack, eddy)
    before = figures(eddy)
    kim_before = badges.standing(eddy.runtime, KIM).points
    named = {table for table, _, _ in rows_naming(database_url, SAM)}
    assert {
        "question_log",
        "routed_question",
        "routed_step",
        "entry_draft",
        "knowledge_entry",
        "lesson_delivery",
        "quiz_answer",
        "point_ledger",
        "badge_award",
        "network_member",
        "home_state",
        "channel_question",
    } <= named, "the history names Sam in every capability's tables"

    result = cli(database_url, content, tmp_path, "forget", "user", SAM, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"Forgot {SAM} in workspace T0SANDBOX" in result.stdout
    assert "The erasure is recorded" in result.stdout

    assert rows_naming(database_url, SAM) == []
    assert figures(eddy) == before
    assert badges.standing(eddy.runtime, KIM).points == kim_before
    with eddy.runtime.store.session() as session:
        (changes,) = session.execute(text("SELECT changes FROM erasure")).scalars()
    changes = json.loads(changes) if isinstance(changes, str) else changes
    assert changes["learner"] == {"deleted": 1}  # what and how many; whom, nowhere
    assert changes["question_log"] == {"anonymised": 4, "mentions replaced": 1}
    assert changes["channel_question"] == {"deleted": 1}


def test_after_forgetting_knowledge_answers_by_a_former_member_and_others_keep_theirs(
    slack, start_eddy, sqlite_url, content, tmp_path
):
    eddy = start_eddy(sqlite_url)
    build_history(slack, eddy)
    slack.command(RIO, GENERAL, f"/ask {VISITOR}")
    assert "Kept by Sam Okafor" in shown(slack.ephemerals(RIO)[-1])
    waiting = routed_post(slack, STILL_WAITING)

    forgotten = privacy.forget_person(
        eddy.runtime.store, "T0SANDBOX", SAM, now=eddy.runtime.clock.now()
    )
    assert forgotten.changes["learner"] == {"deleted": 1}
    assert forgotten.changes["question_log"]["anonymised"] == 4
    eddy.runtime.catalogue.refresh(eddy.runtime)  # the scheduler's job, within a minute

    slack.command(RIO, GENERAL, f"/ask {VISITOR}")
    answer = shown(slack.ephemerals(RIO)[-1])
    assert "Get a visitor badge" in answer and "Kept by former member" in answer
    slack.command(KIM, GENERAL, "/badges top")
    board = shown(slack.ephemerals(KIM)[-1])
    assert f"<@{KIM}> — 2 points" in board and "former" not in board
    assert "*Your points: 2*" in shown_badges(slack, KIM)
    slack.press(KIM, waiting, "Claim")
    assert "no longer open" in slack.ephemerals(KIM)[-1].text
    audit = cli(sqlite_url, content, tmp_path, "badges", "audit")
    assert audit.returncode == 0 and "The totals match the ledger" in audit.stdout
    with eddy.runtime.store.session() as session:
        wordings = session.execute(
            text("SELECT user_id, question FROM question_log ORDER BY id")
        ).all()
    assert (KIM, "does former member know the vpn portal") in wordings
    assert [question for who, question in wordings if is_former_member(who)] == ["", "", "", ""]


def shown_badges(slack: SlackStandIn, user: str) -> str:
    slack.command(user, GENERAL, "/badges")
    return shown(slack.ephemerals(user)[-1])


def test_forgetting_without_an_lrs_voids_nothing_and_nothing_left_names_them(
    slack, start_eddy, sqlite_url
):
    """No LRS ever saw these statements: they are dropped, and nothing is voided (with an
    LRS: tests/test_learning_records.py)."""
    eddy = start_eddy(sqlite_url)
    build_history(slack, eddy)
    store = eddy.runtime.store
    assert privacy.learning_records(store, "T0SANDBOX", SAM, now=eddy.runtime.clock.now())
    forgotten = privacy.forget_person(store, "T0SANDBOX", SAM, now=eddy.runtime.clock.now())
    assert forgotten.voided == 0
    with store.session() as session:
        assert session.execute(text("SELECT count(*) FROM lrs_outbox")).scalar() == 0
        (voided,) = session.execute(text("SELECT voided FROM erasure")).scalars()
    assert voided == 0
    assert rows_naming(sqlite_url, SAM) == []
    assert privacy.learning_records(store, "T0SANDBOX", SAM, now=eddy.runtime.clock.now()) == []


def test_the_command_line_refuses_a_bad_id_an_unconfirmed_erasure_and_an_unknown_workspace(
    slack, start_eddy, sqlite_url, content, tmp_path
):
    start_eddy(sqlite_url)
    for bad in ("alex", "former-0123abcd", "<@U0SAM0002>"):
        result = cli(sqlite_url, content, tmp_path, "forget", "user", bad, "--yes")
        assert result.returncode == 2 and "is not a Slack member ID" in result.stderr
    result = cli(sqlite_url, content, tmp_path, "forget", "user", SAM)
    assert result.returncode == 1 and "Nothing was erased" in result.stderr
    result = cli(sqlite_url, content, tmp_path, "export", "user", SAM, "--team", "T0NOPE")
    assert "holds no workspace 'T0NOPE'" in one_sentence(result, "Nothing was done")


def test_exporting_someone_eddy_never_met_is_an_error_not_an_empty_file(
    slack, start_eddy, sqlite_url, content, tmp_path
):
    """Issue 19: an unknown person (no row names them in the workspace) is not exported as
    an empty document with exit 0; and a command's mistake never says Eddy cannot start."""
    start_eddy(sqlite_url)
    result = cli(sqlite_url, content, tmp_path, "export", "user", "U0NOBODY1", "--out", "n.json")
    sentence = one_sentence(result, "Nothing was done")
    assert "Eddy keeps nothing about U0NOBODY1 in workspace T0SANDBOX" in sentence
    assert not (tmp_path / "n.json").exists()
    bad = cli(sqlite_url, content, tmp_path, "lessons", "deliver", "--at", "soon")
    assert "is not an ISO-8601 time" in one_sentence(bad, "Nothing was done")


# --- /learn me export -------------------------------------------------------------------------


def file_messages(slack: SlackStandIn, user: str) -> list[Any]:
    return [m for m in slack.dms(user) if m.files]


def test_learn_me_export_dms_a_json_file_to_the_person_who_asked_only(
    slack, start_eddy, sqlite_url
):
    eddy = start_eddy(sqlite_url)
    build_history(slack, eddy)
    slack.command(SAM, GENERAL, "/learn me export")
    assert "It arrives as a JSON file in your DM" in slack.ephemerals(SAM)[-1].text
    (message,) = file_messages(slack, SAM)
    assert "Here's everything Eddy keeps about you" in message.text
    (shared,) = message.files
    assert shared.name.startswith(f"eddy-data-{SAM}-") and shared.name.endswith(".json")
    assert shared.title == "Everything Eddy keeps about you"
    assert shared.channels == [slack.workspace.im_with(SAM).id]
    document = json.loads(shared.content)
    assert document["export"]["user_id"] == SAM
    assert SAMS_WORDING in [row["question"] for row in document["questions"]["question_log"]]
    assert [c.method for c in slack.calls() if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert file_messages(slack, KIM) == []

    slack.command(KIM, GENERAL, f"/learn me export <@{SAM}|sam>")
    assert "only your own data" in shown(slack.ephemerals(KIM)[-1])
    assert file_messages(slack, KIM) == []
    slack.command(KIM, GENERAL, "/learn me export")
    (kims,) = file_messages(slack, KIM)
    theirs = json.loads(kims.files[0].content)
    assert theirs["export"]["user_id"] == KIM
    assert SAMS_WORDING not in json.dumps(theirs["questions"])
    assert len(file_messages(slack, SAM)) == 1


def test_learn_me_export_once_every_few_minutes_and_a_refused_dm_is_explained(
    slack, start_eddy, sqlite_url, clock
):
    start_eddy(sqlite_url)
    slack.workspace.users[SAM].messages_tab_disabled = True
    slack.command(SAM, GENERAL, "/learn me export")
    assert "I couldn't send you the file" in slack.ephemerals(SAM)[-1].text
    assert "messages_tab_disabled" in slack.ephemerals(SAM)[-1].text
    slack.workspace.users[SAM].messages_tab_disabled = False
    slack.command(SAM, GENERAL, "/learn me export")  # a refused export does not count
    assert len(file_messages(slack, SAM)) == 1
    slack.command(SAM, GENERAL, "/learn me export")
    repeat = slack.ephemerals(SAM)[-1].text
    assert "on its way" not in repeat, "issue 19: the file has already arrived"
    assert "I sent your export <!date^" in repeat and "it's the JSON file in your DM" in repeat
    assert "You can ask for a new one in 5 minutes" in repeat
    clock.advance(timedelta(minutes=3))
    slack.command(SAM, GENERAL, "/learn me export")
    assert "You can ask for a new one in 2 minutes" in slack.ephemerals(SAM)[-1].text
    assert len(file_messages(slack, SAM)) == 1
    clock.advance(timedelta(minutes=2))
    slack.command(SAM, GENERAL, "/learn me export")
    assert len(file_messages(slack, SAM)) == 2


@pytest.mark.parametrize("text", ["frobnicate", "<!channel>", "<@U0KIM0003|kim>", "x" * 900])
def test_learn_me_with_anything_but_export_answers_with_the_usage(
    slack, start_eddy, sqlite_url, text
):
    start_eddy(sqlite_url)
    slack.command(ALEX, GENERAL, f"/learn me {text}")
    reply = slack.ephemerals(ALEX)[-1]
    everything = reply.text + json.dumps(reply.blocks)
    assert "for `/learn me`" in reply.text and "/learn me [export]" in everything
    assert "<!" not in everything and "<@" not in everything
    assert file_messages(slack, ALEX) == []


def test_the_console_shows_the_export_arriving_as_a_file(tmp_path):
    settings = load_settings(env_file=None, eddy_content_dir=ROOT / "content")
    with open_sandbox(
        settings, database_url=f"sqlite:///{tmp_path / 'sandbox.db'}", clock=ManualClock(PINNED)
    ) as sandbox:
        screen = Terminal(sandbox).type("/learn me export")
    assert "It arrives as a JSON file in your DM" in screen
    assert "📎 Everything Eddy keeps about you  eddy-data-U0ALEX001-" in screen
