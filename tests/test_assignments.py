"""Assigned learning, through the front door: a community manager (or a path's owner)
assigns a path to a person, a user group or a channel's members with `/learn assign` or from
the console; each person is told once by DM (also when Slack retries, and with two Eddy
instances on one database) and their lessons start at their own lesson time; people who join
the group or channel later get it too; unassigning; `/learn me` shows assigned paths apart;
onboarding journeys (`assign_on_join`) welcome whoever joins the workspace."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.clock import ManualClock
from bot.scheduler import JOBS, run_job
from sandbox import SlackStandIn
from sandbox.render import Renderer
from sandbox.workspace import User
from store import lessons as lesson_rows
from tests.conftest import (
    ALEX,
    EDDY,
    GENERAL,
    KIM,
    RANDOM,
    RIO,
    ROOT,
    SAM,
    Instance,
    postgres_database,
)
from tests.test_ask import shown
from tests.test_cli import eddy as eddy_cli
from tests.test_home import labels, open_tab, seen
from tests.test_lessons import lessons_to, local_arrival, run_deliveries
from tests.test_xapi import export, validate

SUPPORT = "S0SUPPORT1"
SUPPORT_LINK = f"<!subteam^{SUPPORT}|@support-team>"
REFRESH = next(job for job in JOBS if job.name == "refresh-assignments")
WHY = "We move to the new ticket flow in January; this keeps customers' data safe."
USAGE = "/learn assign &lt;path&gt;"
ONBOARDING = "welcome-aboard"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content; Sam owns Giving feedback; and an onboarding journey."""
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    feedback = folder / "lessons" / "giving-feedback.yml"
    data = yaml.safe_load(feedback.read_text())
    feedback.write_text(yaml.safe_dump({**data, "owners": [SAM]}, sort_keys=False))
    (folder / "lessons" / f"{ONBOARDING}.yml").write_text(
        yaml.safe_dump(
            {
                "title": "Welcome aboard",
                "assign_on_join": True,
                "lessons": [
                    {
                        "id": f"day-{number}",
                        "title": f"Your day {number}",
                        "minutes": 2,
                        "body": f"What day {number} at the company is like.",
                    }
                    for number in (1, 2)
                ],
            }
        )
    )
    return folder


@pytest.fixture
def clock() -> ManualClock:
    # Monday 23 November 2026, 10:00 UTC: 11:00 in Berlin (today's 09:30 has passed), 19:00
    # in Tokyo, 07:00 in São Paulo, 05:00 in New York.
    return ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


def learn(slack: SlackStandIn, user: str, text: str, channel: str = GENERAL) -> str:
    slack.command(user, channel, f"/learn {text}")
    return shown(slack.ephemerals(user)[-1])


def replies(slack: SlackStandIn, user: str, count: int) -> list[str]:
    """The last `count` notes only `user` saw (a command's answer, and what followed)."""
    return [shown(m) for m in slack.ephemerals(user)[-count:]]


def told(slack: SlackStandIn, user: str, path_title: str = "Security basics") -> list[str]:
    """The DMs that told `user` about a path (assigned, or their welcome): not its lessons,
    which open with a header."""
    return [
        shown(m)
        for m in slack.dms(user)
        if f"*{path_title}*" in shown(m) and not any(b.get("type") == "header" for b in m.blocks)
    ]


def read_by(slack: SlackStandIn, user: str, text: str) -> str:
    return Renderer(slack.workspace, viewer=user).mrkdwn(text).plain


def add_person(slack: SlackStandIn, user_id: str, tz: str = "Europe/Berlin", **flags) -> User:
    return slack.workspace.add_user(
        User(user_id, user_id.lower(), f"Person {user_id}", tz, **flags)
    )


# --- a person, a group, a channel ------------------------------------------------------------


def test_a_person_is_told_once_who_assigned_it_and_why_and_lessons_come_at_their_time(
    slack, instance, clock
):
    learn(slack, ALEX, f"assign security <@{SAM}|sam> by 2026-12-18 why: {WHY}")
    ack, after = replies(slack, ALEX, 2)
    assert "(I took “security” to mean *Security basics*.)" in ack
    assert f"Assigned *Security basics* to <@{SAM}>, to finish by Fri 18 Dec 2026." in ack
    assert "1 person newly reached, 1 told by DM" in after
    [dm] = told(slack, SAM)
    assert f"<@{ALEX}> assigned you a learning path: *Security basics* (7 lessons" in dm
    assert f"*Why it matters:* {WHY}" in dm
    assert "*Please finish it by* Friday 18 December 2026." in dm
    assert "weekdays at 09:30 (Europe/Berlin)" in dm and "/learn time" in dm
    assert "the first arrives tomorrow at 09:30 (your time)" in read_by(slack, SAM, dm)
    assert lessons_to(slack, SAM) == []  # not at once: at his own lesson time
    run_deliveries(instance, clock, hours=24)  # to Tuesday 10:00 UTC
    [first] = lessons_to(slack, SAM)
    assert local_arrival(first, "Europe/Berlin").strftime("%a %H:%M")[:8] == "Tue 09:3"
    assert "Security basics · lesson 1 of 7" in shown(first)
    # Assigned again (a new due date): nobody is told twice.
    renewed = learn(slack, ALEX, f"assign security-basics <@{SAM}|sam> by 2026-12-31")
    assert "It was assigned to" in renewed and "the due date and why you gave replace" in renewed
    assert len(told(slack, SAM)) == 1
    assert "due Thu 31 Dec" in learn(slack, SAM, "me")


def test_a_group_reaches_its_members_and_whoever_joins_later_once_even_when_slack_retries(
    slack, instance, clock
):
    bot = add_person(slack, "U0BOT0009", is_bot=True)
    slack.workspace.groups[SUPPORT].users.append(bot.id)
    learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK} by 2026-12-18")
    ack, after = replies(slack, ALEX, 2)
    assert "to @support-team (3 members), to finish by Fri 18 Dec 2026" in ack
    assert "2 people newly reached, 2 told by DM; 1 member left out" in after
    assert len(told(slack, SAM)) == len(told(slack, KIM)) == 1
    assert told(slack, RIO) == [] and slack.dms(bot.id) == []
    sent = slack.change_group(SUPPORT, add=[RIO])
    assert sent is not None
    assert len(told(slack, RIO)) == 1
    slack.redeliver(sent)  # Slack's retry of the same event
    slack.change_group(SUPPORT, add=[RIO])  # nothing changes: the same people
    run_job(instance.runtime, REFRESH, clock.now() + timedelta(hours=1))
    assert [len(told(slack, person)) for person in (SAM, KIM, RIO)] == [1, 1, 1]
    assert "3 people reached · 0 completed · 0 overdue" in learn(slack, ALEX, "assigned")


def test_a_channel_reaches_its_people_not_eddy_and_newcomers_when_they_join(slack, instance, clock):
    learn(slack, ALEX, f"assign giving-feedback <#{GENERAL}|general>")
    ack, after = replies(slack, ALEX, 2)
    assert f"Assigned *Giving feedback* to <#{GENERAL}> (5 members)." in ack
    assert "4 people newly reached, 4 told by DM; 1 member left out" in after
    for person in (ALEX, SAM, KIM, RIO):
        assert len(told(slack, person, "Giving feedback")) == 1, person
    assert slack.dms(EDDY) == []
    newcomer = add_person(slack, "U0NEW0006", "Asia/Tokyo")
    slack.invite(KIM, GENERAL, newcomer.id)  # Slack's member_joined_channel
    [dm] = told(slack, newcomer.id, "Giving feedback")
    assert "no due date" not in dm and "Please finish" not in dm
    run_deliveries(instance, clock, hours=24)
    arrivals = [local_arrival(m, "Asia/Tokyo") for m in lessons_to(slack, newcomer.id)]
    assert [a.strftime("%a %H:%M")[:8] for a in arrivals] == ["Tue 09:3"]


def test_a_channel_eddy_is_not_in_is_listed_again_by_the_scheduled_refresh(slack, instance, clock):
    learn(slack, ALEX, f"assign security-basics <#{RANDOM}|random>")
    assert len(told(slack, KIM)) == 1
    newcomer = add_person(slack, "U0NEW0007")
    slack.workspace.channels[RANDOM].members.add(newcomer.id)  # Eddy is not there: no event
    run_job(instance.runtime, REFRESH, clock.now() + timedelta(minutes=10))
    assert told(slack, newcomer.id) == []  # listed 10 minutes ago: not yet again
    run_job(instance.runtime, REFRESH, clock.now() + timedelta(minutes=40))
    assert len(told(slack, newcomer.id)) == 1


def test_someone_already_on_the_path_keeps_their_progress_and_is_told_so(slack, instance):
    learn(slack, SAM, "start security-basics")
    [lesson] = lessons_to(slack, SAM)
    right = instance.runtime.catalogue.paths["security-basics"].lessons[0].quiz.right_option
    slack.press(SAM, lesson, right)
    learn(slack, ALEX, f"assign security-basics <@{SAM}|sam>")
    [dm] = told(slack, SAM)
    assert "You've done 1 of its 7 lessons already: your progress stays." in dm
    assert "the next arrives" in dm
    assert "1/7 · running · assigned by" in learn(slack, SAM, "me")


def test_members_of_a_channel_are_listed_page_by_page(slack, instance):
    people = [add_person(slack, f"U0MANY{n:04d}").id for n in range(1234)]
    slack.workspace.channels[GENERAL].members.update(people)
    listed = instance.runtime.assignment_slack.members("channel", GENERAL)
    assert len(listed.user_ids) == 1234 + 5
    pages = [c for c in slack.calls("conversations.members")]
    assert len(pages) == 2 and pages[1].args.get("cursor")


def test_guests_bots_and_people_who_left_are_never_enrolled(slack, instance):
    guest = add_person(slack, "U0GUEST01", is_ultra_restricted=True)
    gone = add_person(slack, "U0GONE001", deleted=True)
    visitor = add_person(slack, "U0MULTI01", is_restricted=True)
    slack.workspace.groups[SUPPORT].users += [guest.id, gone.id, visitor.id]
    learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK}")
    assert "3 people newly reached, 3 told by DM; 2 members left out" in replies(slack, ALEX, 1)[0]
    assert slack.dms(guest.id) == [] and slack.dms(gone.id) == []
    assert len(told(slack, visitor.id)) == 1  # a multi-channel guest the manager named


# --- exactly once -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        yield from postgres_database()


def test_two_instances_telling_at_once_tell_each_newcomer_once(
    slack, content, clock, shared_database
):
    """Twenty people join the group while Slack refuses to let Eddy message them; once it
    lets it, two instances try to tell them at the same moment: each is told once."""
    slack.workspace.clock = clock
    first = Instance(slack, shared_database, content, clock)
    second = Instance(slack, shared_database, content, clock)
    try:
        slack.connect(first.target)
        learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK}")
        newcomers = [add_person(slack, f"U0JOIN{n:04d}").id for n in range(20)]
        for person in newcomers:
            slack.workspace.users[person].messages_tab_disabled = True
        slack.change_group(SUPPORT, add=newcomers)  # reached, but nobody could be told
        assert [told(slack, person) for person in newcomers] == [[]] * len(newcomers)
        for person in newcomers:
            slack.workspace.users[person].messages_tab_disabled = False
        later = clock.now() + timedelta(minutes=10)
        barrier = threading.Barrier(2)

        def refresh(eddy: Instance) -> None:
            barrier.wait()
            run_job(eddy.runtime, REFRESH, later)
            eddy.runtime.work.wait_idle()

        threads = [threading.Thread(target=refresh, args=(eddy,)) for eddy in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for eddy in (first, second):  # and again, an hour later: nothing new
            run_job(eddy.runtime, REFRESH, later + timedelta(hours=1))
        assert [len(told(slack, person)) for person in newcomers] == [1] * len(newcomers)
        assert len(told(slack, SAM)) == 1
    finally:
        first.close()
        second.close()


def test_a_person_slack_would_not_let_eddy_message_is_told_on_a_later_pass(slack, instance, clock):
    slack.workspace.users[KIM].messages_tab_disabled = True
    learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK}")
    assert "1 told by DM" in replies(slack, ALEX, 1)[0]
    assert "1 person to tell later" in replies(slack, ALEX, 1)[0]
    slack.workspace.users[KIM].messages_tab_disabled = False
    run_job(instance.runtime, REFRESH, clock.now() + timedelta(minutes=10))
    assert len(told(slack, KIM)) == 1
    run_job(instance.runtime, REFRESH, clock.now() + timedelta(hours=1))
    assert len(told(slack, KIM)) == len(told(slack, SAM)) == 1


# --- unassigning, leaving -------------------------------------------------------------------


def test_unassigning_keeps_who_began_on_the_path_and_stops_it_for_who_had_not(
    slack, instance, clock
):
    clock.advance(timedelta(hours=10))  # Monday 20:00 UTC
    learn(slack, ALEX, f"assign security-basics <@{SAM}|sam> <@{RIO}|rio> by 2026-12-18")
    run_deliveries(instance, clock, hours=14)  # Tuesday 10:00 UTC: 11:00 Berlin, 07:00 Rio
    assert len(lessons_to(slack, SAM)) == 1 and lessons_to(slack, RIO) == []
    said = learn(slack, ALEX, f"unassign security-basics <@{SAM}|sam> <@{RIO}|rio> <@{KIM}|k>")
    assert f"Unassigned *Security basics* from <@{SAM}> and <@{RIO}>." in said
    assert "1 person who had begun it keeps it as their own choice" in said
    assert "1 person who hadn't begun it won't get its lessons" in said
    assert f"isn't assigned to <@{KIM}>" in said
    assert "is no longer assigned to you" in shown(slack.dms(RIO)[-1])
    run_deliveries(instance, clock, hours=24)
    assert len(lessons_to(slack, SAM)) == 2 and lessons_to(slack, RIO) == []
    me = learn(slack, SAM, "me")
    assert "Assigned to you" not in me and "Security basics* ▱▱▱▱▱▱▱ 0/7 · running" in me
    assert "Nothing is assigned yet" in learn(slack, ALEX, "assigned")
    learn(slack, ALEX, f"assign security-basics <@{RIO}|rio>")  # assigned anew: told anew
    assert len([dm for dm in told(slack, RIO) if "assigned you" in dm]) == 2
    run_deliveries(instance, clock, hours=24)
    assert len(lessons_to(slack, RIO)) == 1


def test_someone_who_leaves_the_group_keeps_their_progress_and_it_is_no_longer_assigned(
    slack, instance, clock
):
    learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK} by 2026-12-18")
    run_deliveries(instance, clock, hours=24)
    slack.change_group(SUPPORT, remove=[SAM])
    me = learn(slack, SAM, "me")
    assert "Assigned to you" not in me and "0/7 · running" in me
    assert "1 person reached" in learn(slack, ALEX, "assigned")
    slack.change_group(SUPPORT, add=[SAM])  # back: assigned again, not told again
    assert "Assigned to you" in learn(slack, SAM, "me")
    assert len(told(slack, SAM)) == 1


# --- who may, and what they typed ---------------------------------------------------------


def test_only_community_managers_and_the_paths_owners_assign_it(slack, instance, caplog):
    with caplog.at_level(logging.WARNING):
        refused = learn(slack, RIO, f"assign security-basics <@{KIM}|kim>")
    assert "Only community managers, and a path's owners, can assign it" in refused
    assert USAGE in refused and "Refused" in caplog.text
    assert slack.dms(KIM) == []
    assert "Only community managers" in learn(slack, SAM, f"assign security-basics <@{KIM}|kim>")
    learn(slack, SAM, f"assign giving-feedback <@{KIM}|kim>")  # Sam owns this one
    mine = replies(slack, SAM, 2)[0]
    assert f"Assigned *Giving feedback* to <@{KIM}>" in mine
    assert len(told(slack, KIM, "Giving feedback")) == 1
    assert "Giving feedback" in learn(slack, SAM, "assigned")
    assert "Security basics" not in learn(slack, SAM, "assigned")
    assert "Giving feedback* · by <@U0SAM0002>" in learn(slack, KIM, "assigned")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("help", "*/learn assign*"),
        ("", "Which path, and to whom?"),
        ("no-such-path <@U0SAM0002|sam>", "I don't know a path called “no-such-path”"),
        ("security-basics", "Whom to?"),
        ("security-basics <!subteam^S0NOPE0001|@nobody>", "I can't find the user group @nobody"),
        ("security-basics @nobody", "I can't find @nobody"),
        ("security-basics <!channel>", "not to @channel"),
        ("security-basics <@U0SAM0002|sam> by 2026-13-40", "There is no day 2026-13-40"),
        ("security-basics <@U0SAM0002|sam> by 31/12/2026", "“31/12/2026” is not a date"),
        ("security-basics <@U0SAM0002|sam> by 2026-11-20", "2026-11-20 is in the past"),
        ("security-basics <@U0SAM0002|sam> why:", "Say why it matters after `why:`"),
        ("security-basics <@U0SAM0002|sam> why: " + "x" * 301, "keep it to 300 or fewer"),
    ],
)
def test_bad_input_gets_a_sentence_and_the_usage(text, words, slack, instance):
    said = learn(slack, ALEX, f"assign {text}".strip())
    assert words in said, said
    assert USAGE in said
    assert slack.dms(SAM) == []


def test_a_why_line_is_kept_as_typed_and_shown_without_pinging_anyone(slack, instance):
    learn(slack, ALEX, f"assign security-basics <@{SAM}|sam> why: <!channel> R&D asks <@{KIM}>")
    [dm] = told(slack, SAM)
    assert "*Why it matters:* @channel R&amp;D asks @U0KIM0003" in dm
    assert "<!channel>" not in dm and f"<@{KIM}>" not in dm


def test_unassign_refuses_others_and_explains_bad_input(slack, instance, caplog):
    learn(slack, ALEX, f"assign security-basics {SUPPORT_LINK}")
    with caplog.at_level(logging.WARNING):
        refused = learn(slack, RIO, f"unassign security-basics {SUPPORT_LINK}")
    assert "Only community managers" in refused and "Refused" in caplog.text
    assert "Whom to?" in learn(slack, ALEX, "unassign security-basics")
    assert "@support-team" in learn(slack, ALEX, "assigned")


# --- what people see --------------------------------------------------------------------------


def test_learn_me_and_home_show_assigned_paths_apart_from_chosen_ones(slack, instance, clock):
    learn(slack, SAM, "start working-in-slack")
    learn(slack, ALEX, f"assign security-basics <@{SAM}|sam> by 2026-12-18")
    me = learn(slack, SAM, "me")
    assigned, own = me.split("*Your own choice*")
    assert "*Assigned to you*" in assigned and "Security basics" in assigned
    assert f"assigned by <@{ALEX}> · due Fri 18 Dec" in assigned
    assert "Working well in Slack" in own and "assigned by" not in own
    home = seen(slack.open_home(SAM))
    assert home.index("Assigned to you") < home.index("Security basics")
    assert home.index("Your own choice") < home.index("Working well in Slack")
    clock.advance(timedelta(days=30))
    assert "⏰ overdue: it was due Fri 18 Dec" in learn(slack, SAM, "me")
    assert "1 overdue" in learn(slack, ALEX, "assigned")


# --- onboarding journeys ----------------------------------------------------------------------


def test_whoever_joins_the_workspace_is_welcomed_once_and_starts_on_their_first_working_day(
    slack, instance, clock
):
    newcomer = User("U0NEW0001", "nia", "Nia Obi", "Europe/Berlin")
    sent = slack.join_workspace(newcomer)  # Monday 11:00 in Berlin: today's slot has passed
    [welcome] = told(slack, newcomer.id, "Welcome aboard")
    assert "Welcome aboard! To help you find your feet" in welcome
    assert "starting on your first working day" in welcome
    assert "the first arrives tomorrow at 09:30 (your time)" in read_by(slack, newcomer.id, welcome)
    slack.redeliver(sent)
    assert len(told(slack, newcomer.id, "Welcome aboard")) == 1
    with instance.runtime.store.session() as session:
        row = lesson_rows.subscription(
            session, team_id=instance.runtime.team_id, user_id=newcomer.id, path=ONBOARDING
        )
        assert (row.origin, row.anchor_day) == ("journey", date(2026, 11, 24))
    run_deliveries(instance, clock, hours=24)
    [first] = lessons_to(slack, newcomer.id)
    assert local_arrival(first, "Europe/Berlin").strftime("%a %H:%M")[:8] == "Tue 09:3"
    assert "your onboarding" in learn(slack, newcomer.id, "me")
    assert "everyone who joins the workspace (an onboarding journey) (on)" in learn(
        slack, ALEX, "assigned"
    )


def test_someone_joining_on_a_saturday_starts_on_monday_and_guests_and_bots_get_nothing(
    slack, instance, clock
):
    clock.advance(timedelta(days=5, hours=2))  # Saturday 28 November, 12:00 UTC
    slack.join_workspace(User("U0NEW0002", "lou", "Lou Ama", "America/New_York"))
    with instance.runtime.store.session() as session:
        row = lesson_rows.subscription(
            session, team_id=instance.runtime.team_id, user_id="U0NEW0002", path=ONBOARDING
        )
        assert row.anchor_day == date(2026, 11, 30)
    slack.join_workspace(User("U0GST0003", "gus", "Gus Tee", is_restricted=True))
    slack.join_workspace(User("U0BOT0004", "robo", "Robo", is_bot=True, bot_id="B0ROBO"))
    assert slack.dms("U0GST0003") == [] and slack.dms("U0BOT0004") == []


# --- the console ------------------------------------------------------------------------------


def test_managers_assign_from_the_console_and_unassign_with_a_confirm(slack, instance):
    tab = open_tab(slack, ALEX, "Assigned")
    assert "Nothing is assigned yet" in seen(tab)
    slack.press(ALEX, tab, "Assign a path")
    form = slack.modal(ALEX)
    assert form is not None and form.title() == "Assign a path"
    refused = slack.submit(ALEX, {"assign_path": "security-basics"})
    assert refused.json()["errors"] == {"assign_people": "Choose people, user groups or channels."}
    slack.submit(
        ALEX,
        {
            "assign_path": "security-basics",
            "assign_people": [RIO],
            "assign_groups": "@support-team",
            "assign_due": "2026-12-18",
            "assign_why": WHY,
        },
    )
    notice = seen(slack.home(ALEX))
    assert "3 people newly reached, 3 told by DM" in notice
    for person in (SAM, KIM, RIO):
        assert len(told(slack, person)) == 1
    tab = open_tab(slack, ALEX, "Assigned")
    assert "@support-team" in seen(tab) and "due Fri 18 Dec 2026" in seen(tab)
    assert labels(tab).count("Unassign") == 2
    slack.press(ALEX, tab, "Unassign")
    assert "Unassigned *Security basics*" in seen(slack.home(ALEX))
    assert labels(slack.home(ALEX)).count("Unassign") == 1


def test_content_check_catches_a_bad_assign_on_join_and_owners(content, tmp_path):
    path = content / "lessons" / f"{ONBOARDING}.yml"
    lines = path.read_text().splitlines()
    lines = [
        "assign_on_join: yes please" if line.startswith("assign_on_join") else line
        for line in lines
    ]
    lines.insert(1, "owners: [sam, U0SAM0002]")
    path.write_text("\n".join(lines) + "\n")
    checked = eddy_cli("content", "check", str(content), cwd=tmp_path)
    assert checked.returncode == 1
    out = checked.stdout
    assert f"{ONBOARDING}.yml:2: `owners` must be a list of Slack user IDs" in out
    number = next(n for n, line in enumerate(lines, 1) if line.startswith("assign_on_join"))
    assert f"{ONBOARDING}.yml:{number}: `assign_on_join` must be true or false" in out


# --- learning records --------------------------------------------------------------------------


def test_an_assignment_and_a_journey_are_learning_records(slack, instance, database, tmp_path):
    learn(slack, ALEX, f"assign security-basics <@{SAM}|sam> by 2026-12-18 why: {WHY}")
    slack.join_workspace(User("U0NEW0001", "nia", "Nia Obi", "Europe/Berlin"))
    found = [s for s in export(database, tmp_path) if s["verb"]["display"]["en-US"] == "registered"]
    for statement in found:
        validate(statement)
    by_actor = {s["actor"]["account"]["name"]: s for s in found}
    assert set(by_actor) == {SAM, "U0NEW0001"}
    sam = by_actor[SAM]
    assert sam["verb"]["id"] == "http://adlnet.gov/expapi/verbs/registered"
    assert sam["object"]["id"].endswith("/paths/security-basics")
    assert sam["context"]["instructor"]["account"]["name"] == ALEX
    extensions = {
        key.rsplit("/", 1)[-1]: value for key, value in sam["context"]["extensions"].items()
    }
    assert extensions == {"assigned-to": "person", "due": "2026-12-18"}
    journey = by_actor["U0NEW0001"]
    assert journey["object"]["id"].endswith(f"/paths/{ONBOARDING}")
    assert "instructor" not in journey["context"]  # the path's file started it, not a person
