"""Text reads right in Slack, through the front door: what people type is kept as typed and
escaped once where Eddy shows it, shortening and splitting never cut markup, nothing typed
pings anyone, and no control character reaches the database (SQLite and PostgreSQL).

Every test here (and in the whole suite) also passes the check of tests/conftest.py, which
reads everything Eddy sent (sandbox/mrkdwn.py)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from alembic import command
from sqlalchemy import text

from bot.clock import ManualClock
from handlers.blocks import (
    SECTION_TEXT_LIMIT,
    escape,
    mention,
    neutralise,
    sections,
    shorten,
    typed,
    unescape,
    when,
)
from sandbox import SlackStandIn
from sandbox.mrkdwn import mrkdwn_problems, text_problems
from store.db import Store, alembic_config
from tests.conftest import ALEX, EDDY, GENERAL, IT_HELP, KIM, SAM, Instance, shipped_content
from tests.test_ask import shown
from tests.test_networks import last_dm, send_to_experts

LAB = "Get into the R&D <lab>"
PATH_TITLE = "Feedback & <you>"
REASON_LIMIT = 500


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content with #it-help as IT's network channel, an entry whose title and
    body hold `&`, `<` and `>`, and a learning path titled with them."""
    folder = shipped_content(tmp_path)
    (folder / "knowledge" / "it" / "rd-lab.md").write_text(
        f"---\ntitle: {LAB}\nquestions:\n  - how do I get into the zorblax lab\n---\n"
        "Ask the R&D team for a badge & bring <your laptop>. A > B, always.\n",
        encoding="utf-8",
    )
    path_file = folder / "lessons" / "giving-feedback.yml"
    path = yaml.safe_load(path_file.read_text())
    path["title"] = PATH_TITLE
    path_file.write_text(yaml.safe_dump(path))
    return folder


@pytest.fixture
def eddy_on(
    request: pytest.FixtureRequest,
    slack: SlackStandIn,
    database_url: str,
    content: Path,
    clock: ManualClock,
) -> Iterator[Instance]:
    """Eddy on SQLite and on PostgreSQL (the `database_url` fixture's two parameters)."""
    slack.workspace.clock = clock
    eddy = Instance(slack, database_url, content, clock)
    slack.connect(eddy.target)
    yield eddy
    eddy.close()


def rows(eddy: Instance, query: str) -> list[tuple]:
    with eddy.runtime.store.session() as session:
        return [tuple(row) for row in session.execute(text(query)).all()]


# --- escaped once, where Eddy shows it -------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("/ask", "`/ask &lt;question&gt;`"),
        ("/learn", "`/learn start &lt;path&gt;`"),
        ("/experts", "`/experts join &lt;topic&gt;`"),
    ],
)
def test_help_shows_the_usage_lines_escaped_once(slack, instance, command, usage):
    slack.command(ALEX, GENERAL, f"{command} help")
    reply = slack.ephemerals(ALEX)[-1]
    assert usage in shown(reply)
    assert "<question>" not in shown(reply) and "&amp;lt;" not in shown(reply)


def test_a_title_with_ampersand_and_brackets_reads_right_in_the_answer_and_its_fallback(
    slack, instance
):
    slack.command(ALEX, GENERAL, "/ask how do I get into the zorblax lab")
    answer = slack.ephemerals(ALEX)[-1]
    assert answer.text.startswith("“Get into the R&amp;D &lt;lab&gt;”: Ask the R&amp;D team")
    assert "*Get into the R&amp;D &lt;lab&gt;*" in shown(answer)
    assert "bring &lt;your laptop&gt;. A &gt; B" in shown(answer)


def test_a_path_title_is_escaped_in_mrkdwn_and_left_alone_in_a_button(slack, instance):
    slack.command(SAM, GENERAL, "/learn paths")
    assert "*Feedback &amp; &lt;you&gt;*" in shown(slack.ephemerals(SAM)[-1])
    home = slack.open_home(SAM)
    labels = [
        element["text"]["text"]
        for block in home.blocks
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]
    assert f"Start: {PATH_TITLE}" in labels


def test_a_question_is_repeated_as_typed_in_a_mention_and_a_dm(slack, instance):
    # Typed: is R&D's @channel wifi <open>? (Slack escapes what the person typed.)
    question = slack.say(SAM, GENERAL, f"<@{EDDY}> is R&amp;D's <!channel> wifi &lt;open&gt;?")
    reply = slack.messages(GENERAL, thread_ts=question.ts)[-1]
    assert "“is R&amp;D's @channel wifi &lt;open&gt;?”" in shown(reply)
    slack.say(SAM, slack.workspace.im_with(SAM).id, "is R&amp;D's <!here> wifi &lt;open&gt;?")
    answer = slack.dms(SAM)[-1]
    assert "“is R&amp;D's @here wifi &lt;open&gt;?”" in shown(answer)
    logged = rows(instance, "SELECT question FROM question_log ORDER BY id")
    assert logged == [("is R&D's @channel wifi <open>?",), ("is R&D's @here wifi <open>?",)]


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel|<!here>>",
        "<<!channel>>",
        "<!channel|x>",
        "<@U0KIM0003|<!everyone>>",
        "<!subteam^S1|<!here>>",
        "<!here",
        "!here> <",
        "<<<!everyone>|>>",
    ],
)
def test_broadcasts_in_a_question_stay_inert_however_nested(slack, eddy, hostile):
    slack.command(ALEX, GENERAL, f"/ask {hostile} zyxwvut")
    reply = slack.ephemerals(ALEX)[-1]
    everything = reply.text + str(reply.blocks)
    assert "<!" not in everything and "<@U0KIM" not in everything
    assert "zyxwvut" in reply.text  # the question is repeated (nothing answers it)


# --- shortening and splitting ----------------------------------------------------------------

LINKS = [f"https://intranet.example.com/guides/parking-{n}?zone=a&floor=b" for n in range(8)]


def test_a_long_question_with_links_and_mentions_is_shortened_between_words(slack, eddy):
    words = [
        f"see <{url}|guide {n}> and ask <@U0KIM0003|kim> about R&amp;D"
        for n, url in (enumerate(LINKS))
    ]
    slack.command(ALEX, GENERAL, "/ask zyxwvut " + " ".join(words))
    reply = slack.ephemerals(ALEX)[-1].text
    quoted = reply.split("“", 1)[1].split("”", 1)[0]
    assert quoted.endswith("…") and len(unescape(quoted)) <= 200  # cut as typed, then escaped
    for url in re.findall(r"https://\S+?(?=\)|…|$)", quoted):
        assert url in [escape(link) for link in LINKS], url  # no address is cut
    assert not re.search(r"&[a-z]*…", quoted)  # nor an entity


def test_a_long_answer_is_split_into_sections_between_words(slack, instance):
    send_to_experts(slack, SAM, "where do I park the zorblax", "it-help")
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    answer = " ".join(
        f"R&amp;D parking <{LINKS[n % 8]}|lot {n}> is behind gate {n}." for n in (range(200))
    )
    slack.say(KIM, IT_HELP, answer, thread_ts=post.ts)
    blocks = last_dm(slack, SAM).blocks
    pieces = [b["text"]["text"] for b in blocks[1:] if b["type"] == "section"]
    assert len(pieces) >= 3 and all(len(piece) <= SECTION_TEXT_LIMIT for piece in pieces)
    assert " ".join(pieces) == escape(typed(answer))  # nothing lost, nothing cut in a word
    stored = rows(instance, "SELECT answer FROM routed_question")
    assert stored == [(typed(answer),)]


# --- stored as typed, checked as typed: the rejection reason ------------------------------------


def reject_a_draft(slack: SlackStandIn, reason: str):
    """Sam saves a message of his; Alex (a community manager) rejects it from his DM card."""
    message = slack.say(SAM, GENERAL, "Lunch is at noon.")
    slack.shortcut(SAM, message, "save_to_eddy")
    slack.submit(SAM, {"entry_title": "Lunch"})
    card = next(m for m in reversed(slack.dms(ALEX)) if "for review" in m.text)
    slack.press(ALEX, card, "Reject")
    return slack.submit(ALEX, {"review_reason": reason})


def test_a_rejection_reason_of_the_longest_length_reaches_its_author_as_typed(slack, eddy_on):
    reason = ("R&D <team> " * 50)[:REASON_LIMIT]
    delivery = reject_a_draft(slack, reason)
    assert delivery.status == 200 and "errors" not in delivery.json()
    told = slack.dms(SAM)[-1].text
    assert f"Their reason: “{escape(reason)}”" in told
    assert rows(eddy_on, "SELECT decision_note FROM entry_draft") == [(reason,)]


def test_a_rejection_reason_past_the_limit_gets_a_clear_answer(slack, eddy_on):
    delivery = reject_a_draft(slack, "R&D <team> " * 50 + "!")
    assert delivery.status == 200
    assert "at most 500" in delivery.json()["errors"]["review_reason"]
    assert slack.modal(ALEX).title() == "Reject entry"  # open, with what was typed
    assert rows(eddy_on, "SELECT status, decision_note FROM entry_draft") == [("pending", None)]


def test_each_way_of_asking_is_checked_against_its_column_as_typed(slack, eddy_on):
    # Each line becomes a learned wording (at most 1,000 characters) once approved.
    message = slack.say(SAM, GENERAL, "Lunch is at noon.")
    slack.shortcut(SAM, message, "save_to_eddy")
    long_one = "when is lunch & <where> " * 42
    delivery = slack.submit(
        SAM, {"entry_title": "Lunch", "entry_questions": f"when is lunch\n{long_one}"}
    )
    assert "at most 1,000 characters" in delivery.json()["errors"]["entry_questions"]
    assert rows(eddy_on, "SELECT COUNT(*) FROM entry_draft") == [(0,)]


# --- control characters ------------------------------------------------------------------------

CONTROLS = "\x00\x01\x07\x1b\x7f\x85"


def test_control_characters_never_reach_the_database_from_any_door(slack, eddy_on):
    slack.command(SAM, GENERAL, f"/ask where\x00 do I park\x07 the zorblax\r\nthing{CONTROLS}")
    assert "“where do I park the zorblax\nthing”" in slack.ephemerals(SAM)[-1].text
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
    slack.submit(SAM, {"experts_question": "where do I\x00 park?\x1b", "experts_topic": "it-help"})
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    slack.press(KIM, post, "Answer")
    slack.submit(KIM, {"experts_answer": "Behind\x00 gate 3.\x07"})
    assert "Behind gate 3." in shown(last_dm(slack, SAM))
    reject_a_draft(slack, "Not\x00 a knowledge entry\x01.")
    stored = rows(
        eddy_on,
        "SELECT question FROM question_log UNION ALL SELECT question FROM routed_question "
        "UNION ALL SELECT answer FROM routed_question UNION ALL SELECT decision_note FROM "
        "entry_draft",
    )
    assert sorted(value for (value,) in stored if value) == sorted(
        [
            "where do I park the zorblax\nthing",
            "where do I park?",
            "Behind gate 3.",
            "Not a knowledge entry.",
        ]
    )


def test_the_store_cleans_every_string_it_writes_orm_core_and_json(database_url):
    """What the handlers clean, the store cleans again: content files, the CLI, anything."""
    store = Store.connect(database_url)
    store.upgrade()
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with store.session() as session:
        session.execute(
            text(
                "INSERT INTO question_log (team_id, user_id, asked_at, surface, question, hits, "
                "confident, outcome) VALUES (:team, :user, :at, 'cli', :question, :hits, "
                ":confident, 'open')"
            ),
            {
                "team": "T1\x00",
                "user": "U1",
                "at": now.replace(tzinfo=None),
                "question": "a\x00b\r\nc\x1bd",
                "hits": '[{"slug": "x"}]',
                "confident": False,
            },
        )
    from store.knowledge import learn_question, save_entry

    with store.session() as session:
        save_entry(
            session,
            team_id="T1",
            slug="s",
            title="Ti\x00tle",
            body="Bo\x00dy\x07",
            questions=["q\x00one"],
            tags=[],
            topic=None,
            owner=None,
            reviewed=None,
            source="file",
            path="content/knowledge/s.md",
            at=now,
        )
        learn_question(session, team_id="T1", slug="s", wording="w\x00x", user_id=None, at=now)
    with store.engine.connect() as connection:
        found = connection.execute(text("SELECT team_id, question FROM question_log")).one()
        entry = connection.execute(text("SELECT title, body, questions FROM knowledge_entry")).one()
        wording = connection.execute(text("SELECT wording FROM learned_question")).scalar()
    store.close()
    assert tuple(found) == ("T1", "ab\ncd")
    assert entry[0] == "Title" and entry[1] == "Body" and "q\\u0000one" not in str(entry[2])
    assert wording == "wx"


# --- the migration of text stored before this revision -------------------------------------------


def test_the_migration_turns_stored_slack_text_into_typed_text(database_url):
    store = Store.connect(database_url)
    with store.engine.begin() as connection:
        config = alembic_config(store.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).replace(tzinfo=None)
        connection.execute(
            text(
                "INSERT INTO question_log (team_id, user_id, asked_at, surface, question, hits, "
                "confident, outcome) VALUES ('T1', 'U1', :at, 'command', :question, '[]', "
                ":confident, 'open')"
            ),
            [
                {
                    "at": now,
                    "question": "is &lt;R&amp;D&gt; <!channel> ok for <@U0SAM0002|sam>?",
                    "confident": False,
                },
                {"at": now, "question": "plain, as it was", "confident": False},
            ],
        )
        connection.execute(
            text(
                "INSERT INTO entry_draft (team_id, title, body, questions, proposed_by, "
                "proposed_at, status, kind, decision_note) VALUES ('T1', 't', 'b', '[]', 'U1', "
                ":at, 'rejected', 'message', :note)"
            ),
            {"at": now, "note": "R&amp;D &lt;team&gt;"},
        )
        connection.execute(
            text(
                "INSERT INTO learned_question (team_id, slug, wording, created_at) VALUES "
                "('T1', 's', 'r&amp;d lab', :at), ('T1', 's', 'r&d lab', :at)"
            ),
            {"at": now},
        )
    store.upgrade()
    with store.engine.connect() as connection:
        questions = connection.execute(text("SELECT question FROM question_log ORDER BY id")).all()
        note = connection.execute(text("SELECT decision_note FROM entry_draft")).scalar()
        wordings = connection.execute(text("SELECT wording FROM learned_question")).all()
    store.close()
    assert [q for (q,) in questions] == [
        "is <R&D> @channel ok for @U0SAM0002?",
        "plain, as it was",
    ]
    assert note == "R&D <team>"
    assert [w for (w,) in wordings] == ["r&d lab"]


# --- the text functions, over many generated strings ----------------------------------------------

FRAGMENTS = [
    "<",
    ">",
    "|",
    "&",
    "&amp;",
    "&lt;",
    "&gt;",
    "!",
    "@",
    "#",
    "^",
    " ",
    "\n",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!channel|",
    "<!subteam^S1|@x>",
    "<@U0KIM0003>",
    "<@U0KIM0003|kim>",
    "<#C0GENERAL|general>",
    "<https://x.dev/a?b=1&amp;c=2|",
    "<https://x.dev>",
    "<mailto:a@b.c|a@b.c>",
    "<!date^1700000000^{date}|today>",
    "*",
    "_",
    "`",
    "```",
    "\x00",
    "\x07",
    "\r",
    "word",
    "R&amp;D",
    "é",
    "\ud800",
]


def generated(seed: int, count: int, longest: int) -> Iterator[str]:
    """Strings built from the fragments that break Slack text, deterministic per seed."""
    chance = random.Random(seed)
    for _ in range(count):
        yield "".join(chance.choice(FRAGMENTS) for _ in range(chance.randint(0, longest)))


def test_typed_text_from_any_slack_text_is_shown_without_markup_or_a_broadcast():
    for slack_text in generated(seed=17, count=3000, longest=30):
        shown_text = neutralise(slack_text)
        assert mrkdwn_problems(shown_text) == [], (slack_text, shown_text)
        assert "<" not in shown_text and "\x00" not in typed(slack_text)


def test_shortened_mrkdwn_never_cuts_markup_or_an_entity():
    for number, slack_text in enumerate(generated(seed=5, count=1500, longest=60)):
        composed = (
            f"{mention('U0SAM0002')} asked “{escape(typed(slack_text))}” "
            f"<https://x.dev/q?a=1&amp;b=2|the thread> {when(datetime(2026, 1, 1, tzinfo=UTC))}"
        )
        limit = 10 + number % 150
        short = shorten(composed, limit)
        assert len(short) <= limit
        assert mrkdwn_problems(short) == [], (composed, short)


def test_long_mrkdwn_is_split_into_sections_outside_markup_and_code():
    for slack_text in generated(seed=11, count=40, longest=2500):
        mrkdwn = escape(typed(slack_text)) + " <https://x.dev|docs> ```code R&amp;D``` " * 40
        pieces = [block.text.text for block in sections(mrkdwn)]
        balanced = mrkdwn.count("```") % 2 == 0
        for piece in pieces:
            assert len(piece) <= SECTION_TEXT_LIMIT
            assert mrkdwn_problems(piece) == [], piece
            assert piece.count("```") % 2 == 0 or not balanced, piece


def test_the_check_finds_what_would_read_wrong():
    """The conftest check, on the mistakes it exists for (and on right text, nothing)."""
    wrong = {
        "R&amp;amp;D": "escaped twice",
        "/ask <question>": "markup Slack does not know",
        "see <https://x.dev|the do": "opens no markup",
        "R&D": "a bare `&`",
        "a > b": "a bare `>`",
        "<!here> look": "a live broadcast",
        "nul\x00": "a control character",
    }
    for sent, problem in wrong.items():
        found = text_problems({"text": sent})
        assert len(found) == 1 and problem in found[0], (sent, found)
    header = {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "R&amp;D"}}]}
    assert "entity in plain_text" in text_problems(header)[0]
    right = "> quoted R&amp;D &lt;x&gt; <@U0SAM0002> <#C0GENERAL> <https://x.dev|docs>"
    assert text_problems({"text": right}) == []


def test_what_eddy_sends_is_checked_for_wording_a_form_would_use():
    """The check run after every test (tests/conftest.py) refuses "(s)" plurals, a word said
    twice and doubled punctuation in what Eddy says, and leaves quoted code alone."""

    def problems(text: str) -> list[str]:
        return text_problems({"text": text}, wording=True)

    assert "a form's plural" in problems("Sent to 2 expert(s).")[0]
    assert "a word said twice" in problems("security-basics: paused: paused by a manager")[0]
    assert "doubled punctuation" in problems("weekdays at 09:30 (UTC))")[0]
    assert "doubled punctuation" in problems("Paused ((by a manager))")[0]
    assert problems("Approve it; it's fine. Wait... `a(s)` and :tada::tada:") == []
    assert problems("Sent to 1 expert; 2 experts at a time.") == []


def test_no_message_in_the_code_counts_with_a_form_plural():
    """Not only what reaches Slack (the stand-in checks that): the CLI, the logs and the
    errors operators read count with `bot.text.plural` too. A string in the project's code
    with a form's "(s)" fails here, whoever reads it (docstrings may name the mistake)."""
    import ast

    root = Path(__file__).resolve().parent.parent
    sources = [root / "app.py", *sorted(root.glob("bot/**/*.py")), *root.glob("handlers/*.py")]
    form = re.compile(r"[a-z]\((?:s|es)\)")
    found = []
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        docstrings = {
            id(body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and (body := node.body)
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        }
        found += [
            f"{source.relative_to(root)}:{node.lineno}: {match[0]}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            for match in form.finditer(node.value.replace("http(s)", ""))
        ]
    assert not found
