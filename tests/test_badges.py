"""Reaction badges, through the front door: reactions from the stand-in's people give points
under fair rules (no self or bot reactions, once per person, message and emoji, removal takes
back exactly what was given, a daily budget on each giver's own calendar, Slack retries and
simultaneous duplicates count once), badges are awarded once with a DM and a shout-out, other
capabilities' events earn badges too, and /badges shows standings and leaderboards."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot import badges
from bot.clock import ManualClock
from bot.content.check import check_content
from bot.scheduler import JOBS, run_job
from sandbox import SlackStandIn
from sandbox.render import Renderer
from tests.conftest import (
    ALEX,
    EDDY,
    GENERAL,
    IT_HELP,
    KIM,
    RIO,
    ROOT,
    SAM,
    Instance,
    postgres_database,
)
from tests.test_ask import buttons, shown
from tests.test_cli import eddy as eddy_cli

CHECK, BULB, PRAY, THUMBS = "white_check_mark", "bulb", "pray", "+1"
REFRESH = next(job for job in JOBS if job.name == "refresh-knowledge")


def at(when: str) -> ManualClock:
    return ManualClock(datetime.fromisoformat(when))


@pytest.fixture
def clock() -> ManualClock:
    # Wednesday 25 November 2026, noon UTC.
    return at("2026-11-25T12:00:00+00:00")


def with_rules(folder: Path, **settings: object) -> Path:
    """badges.yml with its settings changed (the rest as shipped)."""
    path = folder / "badges.yml"
    data = yaml.safe_load(path.read_text())
    data.update(settings)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    return with_rules(folder, shout_out_channel=GENERAL)


def badges_say(slack: SlackStandIn, user: str, text: str = "") -> str:
    slack.command(user, IT_HELP, f"/badges {text}".strip())
    return shown(slack.ephemerals(user)[-1])


def points_of(slack: SlackStandIn, user: str) -> int:
    """The points a person sees for themselves in /badges."""
    match = re.search(r"Your points: ([\d,]+)\*", badges_say(slack, user))
    assert match, badges_say(slack, user)
    return int(match.group(1).replace(",", ""))


def badge_dms(slack: SlackStandIn, user: str) -> list[str]:
    return [shown(m) for m in slack.dms(user) if "You earned the" in m.text]


def shout_outs(slack: SlackStandIn) -> list[str]:
    return [m.text for m in slack.messages(GENERAL) if " earned *" in m.text]


def post(slack: SlackStandIn, user: str, text: str = "Here's how: restart the agent."):
    return slack.say(user, GENERAL, text)


# --- points -----------------------------------------------------------------------------------


def test_a_reaction_gives_the_author_points_and_removing_it_takes_exactly_that_back(
    slack, instance
):
    answer = post(slack, SAM)
    slack.react(ALEX, answer, CHECK)
    assert points_of(slack, SAM) == 3
    slack.react(KIM, answer, THUMBS)
    slack.react(KIM, answer, BULB)
    assert points_of(slack, SAM) == 6
    slack.react(ALEX, answer, CHECK, remove=True)
    assert points_of(slack, SAM) == 3
    slack.react(KIM, answer, BULB, remove=True)
    slack.react(KIM, answer, THUMBS, remove=True)
    assert points_of(slack, SAM) == 0
    assert points_of(slack, ALEX) == 0 and points_of(slack, KIM) == 0


def test_farming_by_removing_and_adding_again_yields_nothing(slack, instance):
    answer = post(slack, SAM)
    for _ in range(5):
        slack.react(ALEX, answer, CHECK)
        slack.react(ALEX, answer, CHECK, remove=True)
    slack.react(ALEX, answer, CHECK)
    assert points_of(slack, SAM) == 3
    # Each add spent ALEX's budget (20 a day): six adds of 3 cost 18; a seventh would not fit.
    another = post(slack, SAM, "And the second step.")
    slack.react(ALEX, another, CHECK)
    assert points_of(slack, SAM) == 3
    assert "You've given your 20 points for today" in shown(slack.ephemerals(ALEX)[-1])
    assert len(badge_dms(slack, SAM)) == 1  # First thanks, once


def test_no_points_for_your_own_message_a_bot_an_unknown_author_or_an_emoji_not_in_the_rules(
    slack, instance
):
    mine = post(slack, SAM)
    slack.react(SAM, mine, CHECK)
    from_eddy = slack.api.post_as_bot(GENERAL, "Today's lesson", [])
    slack.react(SAM, from_eddy, CHECK)
    webhook = slack.post_from_integration(GENERAL, "Build 1234 passed")
    sent = slack.react(SAM, webhook, CHECK)
    assert sent is not None and "item_user" not in sent.event
    theirs = post(slack, KIM)
    slack.react(SAM, theirs, "joy")
    slack.react(SAM, theirs, "joy", remove=True)
    # A message by someone Slack no longer knows (users.info: user_not_found).
    gone = {
        "type": "reaction_added",
        "user": SAM,
        "reaction": CHECK,
        "item_user": "U0GONE999",
        "item": {"type": "message", "channel": GENERAL, "ts": theirs.ts},
        "event_ts": f"{instance.runtime.clock.now().timestamp():.6f}",
    }
    assert slack.event(gone).status == 200
    assert points_of(slack, SAM) == 0 and points_of(slack, KIM) == 0
    assert badges.audit(instance.runtime.store) == {}
    assert slack.ephemerals(SAM)[-1].text.startswith("*Your points: 0*")  # no error notes


def test_skin_tones_and_aliases_are_the_same_reaction(slack, instance):
    answer = post(slack, SAM)
    slack.react(ALEX, answer, "+1::skin-tone-3")
    assert points_of(slack, SAM) == 1
    slack.react(ALEX, answer, THUMBS)  # the same emoji without the tone: already counted
    assert points_of(slack, SAM) == 1
    slack.react(ALEX, answer, "+1::skin-tone-3", remove=True)
    assert points_of(slack, SAM) == 0
    # `thumbsup` is Slack's other name for `+1`: one emoji, counted once, shown as one.
    slack.react(ALEX, answer, THUMBS, remove=True)
    slack.react(ALEX, answer, "thumbsup")
    assert points_of(slack, SAM) == 1
    mine = badges_say(slack, SAM, "me")
    assert "*By reaction:* :+1: 1" in mine and "thumbsup" not in mine


def test_a_slack_retry_of_the_same_event_counts_once(slack, instance):
    answer = post(slack, SAM)
    sent = slack.react(ALEX, answer, CHECK)
    assert sent is not None
    assert slack.redeliver(sent, retry_num=1).status == 200
    assert slack.redeliver(sent, retry_num=2).status == 200
    assert points_of(slack, SAM) == 3


def test_a_late_retry_of_an_add_that_was_since_removed_gives_nothing(slack, instance, clock):
    answer = post(slack, SAM)
    # The add's first delivery fails (here: Eddy refuses it), so Slack will retry it later.
    added = slack.react(ALEX, answer, CHECK, signed=False)
    assert added is not None and added.delivery is not None and added.delivery.status == 401
    clock.advance(timedelta(seconds=5))
    slack.react(ALEX, answer, CHECK, remove=True)
    # The retry arrives after the removal, but the add happened before it: nothing changes.
    assert slack.redeliver(added).status == 200
    assert points_of(slack, SAM) == 0
    assert all(not each.mismatches for each in badges.audit(instance.runtime.store).values())


def deliver_at_once(slack: SlackStandIn, event: dict, event_ids: list[str]) -> list[int]:
    """Deliver `event` once per id, all at the same moment, as two instances might get it."""
    barrier = threading.Barrier(len(event_ids))
    statuses: list[int] = []

    def deliver(event_id: str) -> None:
        barrier.wait()
        statuses.append(slack.event(event, event_id=event_id, settle=False).status)

    threads = [threading.Thread(target=deliver, args=(each,)) for each in event_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slack.target.settle()  # type: ignore[union-attr]
    return statuses


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        yield from postgres_database()


def test_the_same_reaction_delivered_twice_at_once_counts_once(
    slack, content, clock, shared_database
):
    """Two instances on one database each get the same event (a retry racing the original)
    and duplicates with their own event IDs: each reaction counts once."""
    slack.workspace.clock = clock
    first = Instance(slack, shared_database, content, clock)
    second = Instance(slack, shared_database, content, clock)
    targets = [first.target, second.target]
    turn = iter(range(10**6))

    class Both:
        def deliver(self, body, headers):
            return targets[next(turn) % 2].deliver(body, headers)

        def settle(self):
            for target in targets:
                target.settle()

    slack.connect(Both())
    try:
        for n in range(8):
            message = post(slack, SAM, f"Tip number {n}")
            event = {
                "type": "reaction_added",
                "user": [ALEX, KIM][n % 2],
                "reaction": CHECK,
                "item_user": SAM,
                "item": {"type": "message", "channel": GENERAL, "ts": message.ts},
                "event_ts": f"{clock.now().timestamp():.6f}",
            }
            ids = [f"EvSame{n}", f"EvSame{n}"] if n % 2 else [f"EvA{n}", f"EvB{n}", f"EvC{n}"]
            assert deliver_at_once(slack, event, ids) == [200] * len(ids)
            clock.advance(timedelta(seconds=1))
        assert points_of(slack, SAM) == 8 * 3
        (audit,) = badges.audit(first.runtime.store).values()
        assert audit.ledger_rows == 8 and audit.mismatches == {}
        assert len(badge_dms(slack, SAM)) == 2  # First thanks and Problem solver, each once
    finally:
        first.close()
        second.close()


def test_the_daily_budget_resets_at_midnight_in_each_givers_own_time_zone(slack, content, tmp_path):
    # 14:50 UTC on Wed 25 Nov: 23:50 in Tokyo (KIM), 11:50 in São Paulo (RIO).
    clock = at("2026-11-25T14:50:00+00:00")
    slack.workspace.clock = clock
    eddy = Instance(
        slack, f"sqlite:///{tmp_path / 'eddy.db'}", with_rules(content, daily_budget=5), clock
    )
    slack.connect(eddy.target)
    try:
        tips = [post(slack, SAM, f"Tip {n}") for n in range(8)]
        for giver in (KIM, RIO):
            slack.react(giver, tips[0], CHECK)  # 3 of 5
            slack.react(giver, tips[1], CHECK)  # would be 6: over budget, told once
            slack.react(giver, tips[2], PRAY)  # 2 more: 5 of 5
            slack.react(giver, tips[3], THUMBS)  # over budget, not told again
        assert points_of(slack, SAM) == 2 * 5
        for giver in (KIM, RIO):
            notes = [m for m in slack.ephemerals(giver) if "points for today" in m.text]
            assert len(notes) == 1 and "You've given your 5 points for today" in notes[0].text
        clock.advance(timedelta(minutes=15))  # 00:05 in Tokyo, 12:05 in São Paulo
        slack.react(KIM, tips[4], CHECK)
        slack.react(RIO, tips[4], CHECK)
        assert points_of(slack, SAM) == 10 + 3  # only KIM's new day has begun
        clock.advance(timedelta(hours=11, minutes=50))  # 11:55 in Tokyo, 23:55 in São Paulo
        slack.react(RIO, tips[5], CHECK)
        assert points_of(slack, SAM) == 13
        clock.advance(timedelta(minutes=10))  # 00:05 in São Paulo
        slack.react(RIO, tips[6], CHECK)
        assert points_of(slack, SAM) == 16
        # A removal takes back what was given without refunding the budget.
        slack.react(RIO, tips[6], CHECK, remove=True)
        slack.react(RIO, tips[7], CHECK)
        assert points_of(slack, SAM) == 13
    finally:
        eddy.close()


# --- badges -----------------------------------------------------------------------------------


def test_badges_are_awarded_once_with_a_dm_and_a_shout_out(slack, instance):
    tips = [post(slack, SAM, f"Tip {n}") for n in range(9)]
    for tip in tips[:6]:
        slack.react(ALEX, tip, CHECK)  # 18 points from ALEX (budget 20)
    first = badge_dms(slack, SAM)
    assert len(first) == 2
    assert ":seedling: You earned the *First thanks* badge" in first[0]
    assert "your first point from a colleague's reaction" in first[0]
    # What it means, not the criterion again in other words.
    assert "reaction. Someone noticed your help, the first of many times" in first[0]
    assert ":white_check_mark: You earned the *Problem solver* badge" in first[1]
    assert "15 points from :white_check_mark:" in first[1]
    for tip in tips[6:]:
        slack.react(KIM, tip, CHECK)  # 27 in all: Helping hand at 25
    assert ":handshake: You earned the *Helping hand* badge" in badge_dms(slack, SAM)[-1]
    assert shout_outs(slack) == [
        f":seedling: <@{SAM}> earned *First thanks*: Someone noticed your help, the first of "
        "many times, we hope.",
        f":white_check_mark: <@{SAM}> earned *Problem solver*: Five times your message was the "
        "answer someone needed.",
        f":handshake: <@{SAM}> earned *Helping hand*: Your messages keep making colleagues' "
        "work easier.",
    ]
    # Points taken back and given again never award a badge twice, and a badge is kept.
    for tip in tips[6:]:
        slack.react(KIM, tip, CHECK, remove=True)
    slack.react(RIO, tips[0], CHECK)
    assert len(badge_dms(slack, SAM)) == 3 and len(shout_outs(slack)) == 3
    mine = badges_say(slack, SAM)
    assert "*Your points: 21*" in mine
    assert "*Badges (3):* :seedling: First thanks · :white_check_mark: Problem solver · " in mine


def test_answering_a_routed_question_and_an_approved_entry_earn_badges(
    slack, content, clock, tmp_path
):
    from tests.test_networks import UNKNOWN, last_dm, send_to_experts

    network = yaml.safe_load((content / "networks.yml").read_text())
    for topic in network["topics"]:
        if topic["key"] == "it-help":
            topic["channel"] = IT_HELP
    (content / "networks.yml").write_text(yaml.safe_dump(network))
    slack.workspace.clock = clock
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'eddy.db'}", content, clock)
    slack.connect(eddy.target)
    try:
        send_to_experts(slack, SAM, UNKNOWN, "it-help")
        question = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
        slack.say(KIM, IT_HELP, "Ask at the front desk for the blue form.", thread_ts=question.ts)
        assert (
            ":rescue_worker_helmet: You earned the *First responder* badge"
            in badge_dms(slack, KIM)[-1]
        )
        slack.press(SAM, last_dm(slack, SAM), "Resolved")
        thread = slack.messages(IT_HELP, thread_ts=question.ts)
        save = next(m for m in reversed(thread) if "Save to knowledge index" in buttons(m))
        slack.press(KIM, save, "Save to knowledge index")
        slack.submit(KIM, {"entry_title": "Get a parking permit"})
        assert len(badge_dms(slack, KIM)) == 1  # not yet: the entry is waiting for review
        slack.press(ALEX, last_dm(slack, ALEX), "Approve")
        assert ":books: You earned the *Knowledge builder* badge" in badge_dms(slack, KIM)[-1]
        assert "*Badges (2):*" in badges_say(slack, KIM)
    finally:
        eddy.close()


def add_one_step_path(content: Path) -> None:
    """A path of one lesson, whose quiz's right answer is "What the team needs daily"."""
    (content / "lessons" / "one-step.yml").write_text(
        yaml.safe_dump(
            {
                "title": "One step",
                "lessons": [
                    {
                        "id": "only",
                        "title": "The only lesson",
                        "minutes": 1,
                        "body": "Pin the messages your team needs every day.",
                        "quiz": {
                            "question": "What do you pin?",
                            "options": ["Everything", "What the team needs daily"],
                            "answer": 2,
                        },
                    }
                ],
            }
        )
    )


def test_completing_a_path_earns_a_badge(slack, content, clock, tmp_path):
    add_one_step_path(content)
    slack.workspace.clock = clock
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'eddy.db'}", content, clock)
    slack.connect(eddy.target)
    try:
        slack.command(RIO, GENERAL, "/learn start one step")
        lesson = next(m for m in slack.dms(RIO) if "The only lesson" in shown(m))
        slack.press(RIO, lesson, "What the team needs daily")
        assert ":world_map: You earned the *Path finder* badge" in badge_dms(slack, RIO)[-1]
        assert f":world_map: <@{RIO}> earned *Path finder*" in shout_outs(slack)[-1]
    finally:
        eddy.close()


# --- /badges ----------------------------------------------------------------------------------


def test_badges_shows_points_badges_the_next_one_and_how_it_works(slack, instance):
    empty = badges_say(slack, KIM)
    assert "*Your points: 0* (0 this week)" in empty and "*Badges:* none yet" in empty
    assert "*Next within reach:* :seedling: *First thanks*" in empty
    assert "React to a helpful message to give its author points: :white_check_mark: 3" in empty
    assert "Everyone can give 20 points a day" in empty
    tip = post(slack, KIM)
    slack.react(SAM, tip, BULB)
    slack.react(ALEX, tip, BULB)
    mine = badges_say(slack, KIM, "me")
    assert "*Your points: 4* (4 this week) · #1 of 1 in the workspace" in mine
    assert "*Next within reach:* :bulb: *Bright spark* — 20 points from :bulb:" in mine
    assert "▰▰▱▱▱▱▱▱▱▱ 4/20" in mine and "*By reaction:* :bulb: 4" in mine
    theirs = badges_say(slack, SAM, f"<@{KIM}|kim>")
    assert f"*<@{KIM}>'s points: 4*" in theirs and ":seedling: First thanks" in theirs
    assert "is a bot; bots don't collect points" in badges_say(slack, SAM, f"<@{EDDY}|eddy>")
    assert "I can't find that person" in badges_say(slack, SAM, "<@U0NOBODY1>")
    two = badges_say(slack, SAM, f"<@{KIM}|kim> <@{RIO}|rio>")
    assert "One person at a time" in two and "U0KIM0003" not in two


def test_an_empty_leaderboard_reads_as_a_sentence(slack, instance):
    assert "Nobody has received points yet." in badges_say(slack, SAM, "top all")
    assert "Nobody has received points this month yet." in badges_say(slack, SAM, "top month")


def test_the_leaderboard_counts_weeks_and_months_in_the_workspace_time_zone(
    slack, content, tmp_path
):
    # Sunday 29 November 2026, 23:30 in Berlin (22:30 UTC).
    clock = at("2026-11-29T22:30:00+00:00")
    slack.workspace.clock = clock
    folder = with_rules(content, timezone="Europe/Berlin")
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'eddy.db'}", folder, clock)
    slack.connect(eddy.target)
    try:
        for giver in (ALEX, KIM, RIO):
            slack.react(giver, post(slack, SAM, f"Tip from Sam for {giver}"), CHECK)
        slack.react(ALEX, post(slack, KIM), BULB)
        week = badges_say(slack, RIO, "top")

        def read(user: str, text: str) -> str:
            return Renderer(slack.workspace, viewer=user).mrkdwn(text).plain

        # The week starts at midnight in Berlin: Rio reads it in São Paulo, four hours earlier.
        assert "Top helpers this week, since Sun 22 Nov at 20:00 (your time)" in read(RIO, week)
        assert "since Mon 23 Nov at 00:00 (your time)" in read(SAM, badges_say(slack, SAM, "top"))
        assert f":first_place_medal: <@{SAM}> — 9 points" in week
        assert f":second_place_medal: <@{KIM}> — 2 points" in week
        clock.advance(timedelta(hours=1))  # 00:30 on Monday 30 Nov in Berlin, 23:30 UTC Sunday
        slack.react(SAM, post(slack, RIO), PRAY)
        week = badges_say(slack, RIO, "top week")
        assert "since today at 20:00 (your time)" in read(RIO, week)  # Sunday evening for Rio
        assert f":first_place_medal: <@{RIO}> — 2 points" in week and f"<@{SAM}>" not in week
        month = badges_say(slack, RIO, "top month")
        assert "Top helpers this month, since Sat 31 Oct at 20:00 (your time)" in read(RIO, month)
        assert f"<@{SAM}> — 9 points" in month
        clock.advance(timedelta(days=1))  # December in Berlin
        december = badges_say(slack, RIO, "top month")
        assert "since today at 20:00 (your time)" in read(RIO, december)
        assert f"<@{RIO}>" not in december.split("\n", 1)[1].split("React to")[0]
        everyone = badges_say(slack, KIM, "top all")
        assert "*Top helpers of all time*" in everyone and f"<@{SAM}> — 9 points" in everyone
        assert "`/badges top` takes `week`, `month` or `all`" in badges_say(slack, KIM, "top year")
    finally:
        eddy.close()


def test_the_ledger_audit_on_the_command_line_matches_the_totals(
    slack, instance, database, tmp_path
):
    tip = post(slack, SAM)
    slack.react(ALEX, tip, CHECK)
    slack.react(KIM, tip, BULB)
    slack.react(KIM, tip, BULB, remove=True)
    result = eddy_cli("badges", "audit", cwd=tmp_path, DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    assert "3 ledger rows, 1 people with points" in result.stdout
    assert "The totals match the ledger." in result.stdout


def test_a_broken_badge_keeps_its_last_good_version_while_the_rest_update(
    slack, instance, content, clock
):
    rules = content / "badges.yml"
    data = yaml.safe_load(rules.read_text())
    for badge in data["badges"]:
        if badge["id"] == "first-thanks":
            badge["when"] = {"points": "one"}
        if badge["id"] == "problem-solver":
            badge["name"] = "Answer hero"
    rules.write_text(yaml.safe_dump(data, sort_keys=False))
    clock.advance(timedelta(minutes=1))
    run_job(instance.runtime, REFRESH, clock.now())
    problems = [str(problem) for problem in check_content(content)]
    assert any(f"{rules}:" in p and "badge `first-thanks`: `when` `points`" in p for p in problems)
    tips = [post(slack, SAM, f"Tip {n}") for n in range(5)]
    for tip in tips:
        slack.react(ALEX, tip, CHECK)
    earned = badge_dms(slack, SAM)
    assert ":seedling: You earned the *First thanks* badge" in earned[0]  # its last good version
    assert "*Answer hero* badge" in earned[1]  # the fixed-up rest took effect
