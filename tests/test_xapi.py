"""Learning records, through the front door: people ask, answer, resolve, contribute, learn,
answer quizzes, complete a path, earn a badge and give recognition in the Slack stand-in; then
`app.py export xapi` writes the statements, and every one of them is checked with ralph's
xAPI models (an implementation independent of Eddy's), kind by kind.

Also the analytics export (`app.py export analytics`): the console's figures as CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.concepts.verbs.adl_vocabulary import AnsweredVerb, AskedVerb
from ralph.models.xapi.concepts.verbs.scorm_profile import CompletedVerb

from bot import xapi
from bot.scheduler import run_jobs
from tests.conftest import ALEX, GENERAL, IT_HELP, KIM, RIO, SAM, shipped_content
from tests.test_ask import buttons, shown
from tests.test_badges import add_one_step_path
from tests.test_cli import eddy as eddy_cli

CONFIDENT = "how do I reset my VPN password?"
UNKNOWN = "how do I get a parking permit for the new office garage"
ANSWER = "Garage permits: fill in the *blue form* at the front desk."
ONE_STEP = "one-step"
CHECK, THUMBS = "white_check_mark", "+1"


def parking_and_one_step(tmp_path: Path) -> Path:
    """The shipped content, with #it-help as the IT help network's channel (parking is its
    business here) and a one-lesson path: what `everything_happens` needs."""
    folder = shipped_content(tmp_path, keywords={"it-help": ["parking", "garage"]})
    add_one_step_path(folder)
    return folder


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return parking_and_one_step(tmp_path)


def validate(statement: dict) -> BaseXapiStatement:
    """ralph's model of an xAPI statement: strict (no unknown or empty properties, IRIs,
    UUIDs, language maps, timestamps, interaction definitions)."""
    return BaseXapiStatement(**statement)


def export(database: str, tmp_path: Path, *args: str) -> list[dict]:
    """Run the CLI export. The test's clock moves forward from the pinned instant the CLI
    stands at, so the export ends in the far future unless told otherwise."""
    out = tmp_path / "statements.jsonl"
    if "--until" not in args:
        args = (*args, "--until", "2100-01-01")
    done = eddy_cli("export", "xapi", "--out", str(out), *args, cwd=tmp_path, DATABASE_URL=database)
    assert done.returncode == 0, done.stderr
    assert "Exported" in done.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


#: Every kind of statement Eddy makes, as `kind` names them.
KINDS = frozenset(
    {
        "asked",
        "answered question",
        "resolved",
        "authored",
        "experienced",
        "answered quiz",
        "completed",
        "earned",
        "gave",
        "voided",
    }
)


def kind(statement: dict) -> str:
    """Which of Eddy's events a statement records: its verb, and for shared verbs its object."""
    verb = statement["verb"]["display"]["en-US"]
    if verb == "answered":
        is_quiz = statement["object"]["definition"]["type"] == xapi.QUIZ_ITEM_TYPE
        return "answered quiz" if is_quiz else "answered question"
    return verb


def everything_happens(slack, instance, clock) -> None:
    """A morning at work: a question the index answers and one it cannot, which an expert
    answers and the asker resolves; the answer is saved and approved; a lesson by DM and one
    in a channel, quizzes right and wrong, a completed path and its badge; recognition given,
    and some taken back."""
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT}")
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
    slack.submit(SAM, {"experts_topic": "it-help"})
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    clock.advance(timedelta(minutes=20))
    slack.say(KIM, IT_HELP, ANSWER, thread_ts=post.ts)
    clock.advance(timedelta(minutes=5))
    slack.press(SAM, slack.dms(SAM)[-1], "Resolved")
    thread = slack.messages(IT_HELP, thread_ts=post.ts)
    save = next(m for m in reversed(thread) if "Save to knowledge index" in buttons(m))
    slack.press(KIM, save, "Save to knowledge index")
    slack.submit(KIM, {"entry_title": "Get a parking permit for the office garage"})
    slack.press(ALEX, slack.dms(ALEX)[-1], "Approve")

    slack.command(RIO, GENERAL, "/learn start one step")
    lesson = next(m for m in slack.dms(RIO) if "The only lesson" in shown(m))
    slack.press(RIO, lesson, "What the team needs daily")
    slack.command(SAM, GENERAL, "/learn start one step")
    lesson = next(m for m in slack.dms(SAM) if "The only lesson" in shown(m))
    slack.press(SAM, lesson, "Everything")
    soon = (clock.now() + timedelta(hours=1)).strftime("%H:%M")
    slack.command(
        ALEX, GENERAL, f"/learn schedule {ONE_STEP} <#{GENERAL}|general> {soon} daily UTC"
    )
    clock.advance(timedelta(hours=1, minutes=1))
    run_jobs(instance.runtime, clock.now())
    instance.runtime.work.wait_idle()
    channel_lesson = next(m for m in slack.messages(GENERAL) if "The only lesson" in shown(m))
    slack.press(KIM, channel_lesson, "What the team needs daily")

    tip = slack.say(SAM, GENERAL, "Tip: pin the runbook in #it-help.")
    slack.react(ALEX, tip, CHECK)
    slack.react(KIM, tip, THUMBS)
    clock.advance(timedelta(minutes=1))
    slack.react(KIM, tip, THUMBS, remove=True)
    instance.runtime.work.wait_idle()


def test_every_kind_of_statement_is_valid_xapi_and_says_what_happened(
    slack, instance, clock, database, tmp_path
):
    everything_happens(slack, instance, clock)
    statements = export(database, tmp_path)
    for statement in statements:
        validate(statement)  # raises on anything invalid
    kinds = Counter(kind(s) for s in statements)
    assert kinds == {
        "asked": 2,
        "answered question": 1,
        "resolved": 1,
        "authored": 1,
        "experienced": 3,  # Rio's and Sam's DMs, and Kim in the channel
        "answered quiz": 3,
        # Answering a lesson's quiz completes it, right or wrong: Rio's, Sam's and Kim's (the
        # channel lesson was the path's only lesson).
        "completed": 3,
        "earned": 6,
        "gave": 2,
        "voided": 1,
    }
    by_kind: dict[str, list[dict]] = {}
    for statement in statements:
        by_kind.setdefault(kind(statement), []).append(statement)
        assert statement["version"] == "1.0.3"
        assert statement["timestamp"].endswith("+00:00")
        assert statement["actor"]["account"]["homePage"] == slack.workspace.url
        if statement["object"].get("objectType") == "Activity":
            assert statement["context"]["platform"] == "Eddy"
            assert statement["object"]["id"].startswith(slack.workspace.url)
            assert statement["object"]["definition"]["name"]["en-US"]
    assert [s["timestamp"] for s in statements] == sorted(s["timestamp"] for s in statements)

    # Asked: who, what, and whether the index answered.
    for asked in by_kind["asked"]:
        AskedVerb(**asked["verb"])
    confident, unknown = sorted(by_kind["asked"], key=lambda s: s["actor"]["account"]["name"])
    assert confident["actor"]["account"]["name"] == KIM
    assert confident["object"]["definition"]["name"]["en-US"] == CONFIDENT
    assert confident["result"]["success"] is True
    [offered] = confident["context"]["contextActivities"]["other"]
    assert offered["id"].endswith("/eddy/entries/reset-vpn-password")
    assert offered["definition"]["name"]["en-US"] == "Reset your VPN password"
    assert unknown["actor"]["account"]["name"] == SAM
    assert unknown["result"]["success"] is False
    assert "contextActivities" not in unknown["context"]

    # The question's life shares one registration and one object.
    [answered] = by_kind["answered question"]
    [resolved] = by_kind["resolved"]
    AnsweredVerb(**answered["verb"])
    assert answered["actor"]["account"]["name"] == KIM
    assert answered["result"]["response"] == ANSWER
    assert resolved["actor"]["account"]["name"] == SAM
    assert resolved["verb"]["id"] == "http://activitystrea.ms/schema/1.0/resolve"
    lifecycle = {unknown["context"]["registration"], answered["context"]["registration"]}
    assert lifecycle == {resolved["context"]["registration"]}
    assert unknown["object"]["id"] == answered["object"]["id"] == resolved["object"]["id"]
    for routed in (answered, resolved):
        [topic] = routed["context"]["contextActivities"]["grouping"]
        assert topic["id"].endswith("/eddy/topics/it-help")
        assert topic["definition"]["name"]["en-US"] == "IT help"

    # The saved answer is Kim's contribution.
    [authored] = by_kind["authored"]
    assert authored["actor"]["account"]["name"] == KIM
    assert authored["object"]["definition"]["name"]["en-US"] == (
        "Get a parking permit for the office garage"
    )

    # Lessons, quiz items and paths: one registration per person and path.
    quizzes = {q["actor"]["account"]["name"]: q for q in by_kind["answered quiz"]}
    assert quizzes[RIO]["result"] == {"success": True, "response": "2"}
    assert quizzes[SAM]["result"] == {"success": False, "response": "1"}
    assert quizzes[KIM]["result"]["success"] is True
    definition = quizzes[RIO]["object"]["definition"]
    assert definition["interactionType"] == "choice"
    assert definition["correctResponsesPattern"] == ["2"]
    assert [c["id"] for c in definition["choices"]] == ["1", "2"]
    rio = [s for s in statements if s["actor"]["account"]["name"] == RIO]
    rio_path = [s for s in rio if kind(s) in {"experienced", "answered quiz", "completed"}]
    assert len(rio_path) == 3
    assert len({s["context"]["registration"] for s in rio_path}) == 1
    for completed in by_kind["completed"]:
        CompletedVerb(**completed["verb"])
        assert completed["object"]["id"].endswith(f"/eddy/paths/{ONE_STEP}")
        assert completed["result"] == {"completion": True}
    assert {s["actor"]["account"]["name"] for s in by_kind["experienced"]} == {RIO, SAM, KIM}

    # Badges: each as Slack announced it, by whom it was earned.
    earned = {
        (s["actor"]["account"]["name"], s["object"]["definition"]["name"]["en-US"])
        for s in by_kind["earned"]
    }
    assert earned == {
        (KIM, "First responder"),  # her answer to Sam's question
        (KIM, "Knowledge builder"),  # that answer, approved into the index
        (KIM, "Path finder"),  # the channel lesson completed the one-lesson path
        (RIO, "Path finder"),
        (SAM, "Path finder"),
        (SAM, "First thanks"),  # Alex's reaction to his tip
    }

    # Recognition: the points are the score; the reaction taken back is voided by its giver.
    gave = {s["actor"]["account"]["name"]: s for s in by_kind["gave"]}
    assert gave[ALEX]["result"]["score"]["raw"] > 0
    recipient = next(iter(gave[ALEX]["context"]["extensions"].values()))
    assert recipient["account"]["name"] == SAM
    [voided] = by_kind["voided"]
    assert voided["actor"]["account"]["name"] == KIM
    assert voided["object"] == {"objectType": "StatementRef", "id": gave[KIM]["id"]}
    assert "context" not in voided

    # A statement never changes once made: what became of a question later (here, a rating)
    # leaves its statement as it was, and exporting again gives the same statements.
    answer = next(m for m in slack.ephemerals(KIM) if "Helpful" in buttons(m))
    slack.press(KIM, answer, "Helpful")
    assert export(database, tmp_path) == statements


def test_since_until_and_bad_dates(slack, instance, clock, database, tmp_path):
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT}")
    clock.advance(timedelta(days=3))
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    cut = (clock.now() - timedelta(days=1)).date().isoformat()
    later = export(database, tmp_path, "--since", cut)
    assert [s["actor"]["account"]["name"] for s in later] == [SAM]
    earlier = export(database, tmp_path, "--until", f"{cut}T00:00:00+00:00")
    assert [s["actor"]["account"]["name"] for s in earlier] == [KIM]
    wrong = eddy_cli(
        "export", "xapi", "--since", "last tuesday", cwd=tmp_path, DATABASE_URL=database
    )
    assert wrong.returncode == 2
    assert "--since 'last tuesday' is not a date like 2026-11-01" in " ".join(wrong.stderr.split())
    assert "Traceback" not in wrong.stderr


def test_an_export_before_eddy_met_its_workspace_says_what_to_do(tmp_path):
    done = eddy_cli("export", "xapi", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/new.db")
    assert done.returncode == 2
    assert "start it once" in " ".join(done.stderr.split())


def test_the_validator_is_not_a_rubber_stamp():
    """The checks above mean something: ralph refuses what xAPI refuses."""
    ids = xapi.Identities(None, "T1", legacy=False)  # type: ignore[arg-type]  # no session needed
    source = xapi.Source("T1", "https://acme.slack.com/", names=_no_names(), identities=ids)
    good = xapi.statement(
        source,
        event="test/1",
        user_id="U1",
        verb=xapi.ASKED,
        target=xapi.activity("https://acme.slack.com/eddy/questions/1", "Why?", xapi.QUESTION_TYPE),
        at=datetime(2026, 11, 23, 8, tzinfo=UTC),
    )
    validate(good)
    empty_name = json.loads(json.dumps(good))
    empty_name["object"]["definition"]["name"]["en-US"] = ""
    not_an_iri = json.loads(json.dumps(good)) | {"verb": {"id": "asked"}}
    unknown_property = good | {"mood": "curious"}
    platform_on_a_reference = good | {"object": {"objectType": "StatementRef", "id": good["id"]}}
    for broken in (empty_name, not_an_iri, unknown_property, platform_on_a_reference):
        with pytest.raises(ValidationError):
            validate(broken)


def _no_names():
    from store.xapi import Names

    return Names(paths={}, topics={}, entries={})


def test_the_analytics_export_is_the_consoles_figures_as_csv(
    slack, instance, clock, database, tmp_path
):
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT}")
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    later = clock.advance(timedelta(minutes=1))  # a report covers up to the moment it is made
    done = eddy_cli(
        *("export", "analytics", "--days", "30"),
        cwd=tmp_path,
        DATABASE_URL=database,
        EDDY_CLOCK=later.isoformat(),
    )
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    header, rows = table[0], {row[2]: row for row in table[1:]}
    assert header[:5] == ["workspace", "figure", "key", "unit", "last 30 days"]
    assert len(header) == 5 + 5  # five weeks of trend for 30 days
    assert header[5].startswith("week of 2026-")
    assert rows["asked"][1:5] == ["Questions asked", "asked", "count", "2"]
    assert rows["confident"][4] == "1"
    assert rows["helpful_rate"][3:5] == ["share (0-1)", ""]  # nobody rated an answer
    assert rows["asked"][0] == slack.workspace.team_id
    assert sum(int(cell or 0) for cell in rows["asked"][5:]) == 2
    refused = eddy_cli("export", "analytics", "--days", "0", cwd=tmp_path, DATABASE_URL=database)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
