"""Micro-lessons, through the front door: /learn, lessons arriving at 09:30 in each person's
own time zone (across midnight and DST), quizzes in DMs and channels, spaced repetition,
streaks and completion, people Slack cannot reach, and delivery exactly once — re-run,
killed mid-run, answered 429, and two processes on one PostgreSQL database."""

from __future__ import annotations

import copy
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.lessons import Progress, progress
from bot.scheduler import JOBS, run_job
from sandbox import SlackStandIn
from sandbox.render import Renderer
from sandbox.workspace import User
from tests.conftest import (
    ALEX,
    GENERAL,
    KIM,
    RIO,
    ROOT,
    SAM,
    SIGNING_SECRET,
    Instance,
)
from tests.test_ask import buttons, shown
from tests.test_cli import APP
from tests.test_cli import eddy as eddy_cli

DELIVER = next(job for job in JOBS if job.name == "deliver-lessons")
ZONES = {
    ALEX: "America/New_York",
    SAM: "Europe/Berlin",
    KIM: "Asia/Tokyo",
    RIO: "America/Sao_Paulo",
}
SLACK_PATH = "working-in-slack"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    return folder


def at(when: str) -> ManualClock:
    """A clock that starts at `when` (ISO-8601 with an offset) and moves only when told."""
    return ManualClock(datetime.fromisoformat(when))


@pytest.fixture
def clock() -> ManualClock:
    # Monday 23 November 2026, 00:00 UTC: Tokyo is at 09:00 already, New York on Sunday.
    return at("2026-11-23T00:00:00+00:00")


def learn(slack: SlackStandIn, user: str, text: str, channel: str = GENERAL) -> str:
    slack.command(user, channel, f"/learn {text}")
    return shown(slack.ephemerals(user)[-1])


def lessons_to(slack: SlackStandIn, user: str) -> list:
    """The lesson messages in a person's DM with Eddy."""
    return [m for m in slack.dms(user) if any(b.get("type") == "header" for b in m.blocks)]


def run_deliveries(
    instance: Instance, clock: ManualClock, hours: float, step_minutes: int = 15
) -> None:
    """Move the clock forward in steps, running the delivery job at each, as the scheduler does."""
    steps = int(hours * 60 / step_minutes)
    for _ in range(steps):
        clock.advance(timedelta(minutes=step_minutes))
        run_job(instance.runtime, DELIVER, clock.now())
    instance.runtime.work.wait_idle()


def local_arrival(message, tz: str) -> datetime:
    return datetime.fromtimestamp(float(message.ts), UTC).astimezone(ZoneInfo(tz))


def quiz_of(instance: Instance, path_id: str, number: int):
    path = instance.runtime.catalogue.paths[path_id]
    return path.lessons[number - 1].quiz


# --- /learn ------------------------------------------------------------------------------------


def test_help_empty_unknown_long_and_hostile_text_get_the_usage(slack, instance):
    for text in ("help", "", "dance", "start " + "x" * 1200):
        reply = learn(slack, SAM, text)
        assert "/learn start &lt;path&gt;" in reply, text
    hostile = learn(slack, SAM, "start <!channel> <@U0KIM0003|kim>")
    assert "I don't know a path called" in hostile
    assert "<!channel>" not in hostile and "<@U0KIM0003" not in hostile
    assert "@channel" in hostile and "/learn start &lt;path&gt;" in hostile


def test_learn_time_alone_shows_the_setting_and_how_to_change_it(slack, instance):
    usual = learn(slack, KIM, "time")
    assert "Your lessons come weekdays at " in usual and "(the usual time" in usual
    assert "`/learn time 08:30`" in usual
    assert "Your lessons will come Mon, Wed, Fri at 08:30" in learn(
        slack, KIM, "time 08:30 mon,wed,fri"
    )
    mine = learn(slack, KIM, "time")
    assert "Your lessons come Mon, Wed, Fri at 08:30" in mine and "usual" not in mine


def test_paths_lists_every_shipped_path_with_a_start_button(slack, instance):
    slack.command(SAM, GENERAL, "/learn paths")
    listing = slack.ephemerals(SAM)[-1]
    for title in (
        "Working well in Slack",
        "Security basics",
        "Giving feedback",
        "Your first weeks",
    ):
        assert title in shown(listing)
    assert buttons(listing).count("Start") == 4
    seen_before = copy.deepcopy(listing)
    slack.press(SAM, listing, "Start")
    assert len(lessons_to(slack, SAM)) == 1
    # The list is drawn again: it no longer offers the path Sam is on.
    assert buttons(listing).count("Start") == 3
    assert shown(listing).count("✅ You're on this path.") == 1
    slack.press(SAM, seen_before, "Start")  # a stale copy of the list
    assert "You're already on *Your first weeks*" in shown(slack.ephemerals(SAM)[-1])
    assert len(lessons_to(slack, SAM)) == 1


def test_start_with_a_typo_sends_the_first_lesson_now_and_says_when_the_next_comes(slack, instance):
    reply = learn(slack, SAM, "start secrity basics")
    assert "(I took “secrity basics” to mean *Security basics*.)" in reply
    assert "weekdays at 09:30 (Europe/Berlin)" in reply
    [lesson] = lessons_to(slack, SAM)
    text = shown(lesson)
    assert "Security basics · lesson 1 of 7" in text
    # Four options, "Read more" and "I know this".
    assert "Quiz" in text and len(buttons(lesson)) == 4 + 2
    assert "Next lesson" in text and "/learn stop security-basics" in text
    assert "already on" in learn(slack, SAM, "start security-basics")
    assert len(lessons_to(slack, SAM)) == 1


def test_lessons_arrive_at_half_past_nine_in_each_persons_own_zone(slack, instance, clock):
    for person in ZONES:
        learn(slack, person, f"start {SLACK_PATH}")
    firsts = {person: len(lessons_to(slack, person)) for person in ZONES}
    assert set(firsts.values()) == {1}
    run_deliveries(instance, clock, hours=72)  # Monday 00:00 UTC to Thursday 00:00 UTC
    for person, tz in ZONES.items():
        scheduled = lessons_to(slack, person)[1:]
        days = [local_arrival(m, tz) for m in scheduled]
        assert all(d.hour == 9 and 30 <= d.minute < 45 for d in days), (person, days)
        assert len({d.date() for d in days}) == len(days), "never twice on one day"
    # Across midnight in four zones: Monday 00:00 UTC is already 09:00 on Monday in Tokyo,
    # where the first lesson counted as Monday's; in New York and São Paulo it is still Sunday.
    assert weekdays(slack, KIM) == ["Tue", "Wed"]
    assert weekdays(slack, ALEX) == ["Mon", "Tue", "Wed"]
    assert weekdays(slack, SAM) == ["Tue", "Wed"]
    assert weekdays(slack, RIO) == ["Mon", "Tue", "Wed"]


def weekdays(slack: SlackStandIn, person: str) -> list[str]:
    """The local weekdays of a person's scheduled lessons (after the first, sent at start)."""
    return [local_arrival(m, ZONES[person]).strftime("%a") for m in lessons_to(slack, person)[1:]]


def test_never_twice_on_one_day(slack, instance, clock):
    clock.advance(timedelta(hours=7))  # 08:00 in Berlin
    learn(slack, SAM, f"start {SLACK_PATH}")  # the first lesson counts as today's
    run_deliveries(instance, clock, hours=12)
    assert len(lessons_to(slack, SAM)) == 1
    assert "Your next lesson" in learn(slack, SAM, "next")  # asked for: a second one today
    assert len(lessons_to(slack, SAM)) == 2
    learn(slack, SAM, "time 21:00")  # later today, but today's lesson went out already
    run_deliveries(instance, clock, hours=3)
    assert len(lessons_to(slack, SAM)) == 2
    run_deliveries(instance, clock, hours=24)
    tuesday = lessons_to(slack, SAM)[2:]
    assert [local_arrival(m, ZONES[SAM]).strftime("%a %H") for m in tuesday] == ["Tue 21"]


# --- quizzes and spaced repetition ------------------------------------------------------------


def read_by(slack: SlackStandIn, user: str, message) -> str:
    """A message as `user` reads it in Slack: dates in their own time zone."""
    return Renderer(slack.workspace, viewer=user).mrkdwn(shown(message)).plain


def test_a_wrong_answer_in_a_dm_shows_why_and_comes_back_until_it_is_right(slack, instance, clock):
    learn(slack, SAM, "start security-basics")
    quiz = quiz_of(instance, "security-basics", 1)
    wrong = next(option for option in quiz.options if option != quiz.right_option)
    first = lessons_to(slack, SAM)[0]
    slack.press(SAM, first, wrong)
    redrawn = shown(first)
    assert f"You chose “{wrong}”" in redrawn and quiz.right_option in redrawn
    assert quiz.explanation.split()[0] in redrawn
    assert "I'll ask you again with your lesson tomorrow at 09:30 (your time)" in read_by(
        slack, SAM, first
    )
    assert buttons(first) == ["Read more"]  # the options are gone: one answer counts

    run_deliveries(instance, clock, hours=36, step_minutes=30)  # to Tuesday noon UTC
    tuesday = lessons_to(slack, SAM)[-1]
    assert local_arrival(tuesday, ZONES[SAM]).strftime("%a") == "Tue"
    assert "Review" in shown(tuesday) and quiz.question in shown(tuesday)
    slack.press(SAM, tuesday, quiz.right_option)  # right now: box 2, back in three days
    assert "I'll ask you again with your lesson Fri 27 Nov at 09:30 (your time)" in read_by(
        slack, SAM, tuesday
    )
    run_deliveries(instance, clock, hours=84, step_minutes=30)  # to Saturday 00:00 UTC
    later = {local_arrival(m, ZONES[SAM]).strftime("%a"): m for m in lessons_to(slack, SAM)[2:]}
    assert list(later) == ["Wed", "Thu", "Fri"]
    assert quiz.question not in shown(later["Wed"]) and quiz.question not in shown(later["Thu"])
    assert quiz.question in shown(later["Fri"])


def test_a_review_comes_back_on_a_lesson_day(slack, instance, clock):
    clock.advance(timedelta(days=3, hours=12))  # Thursday 26 November, noon UTC
    learn(slack, SAM, "start security-basics")
    quiz = quiz_of(instance, "security-basics", 1)
    first = lessons_to(slack, SAM)[0]
    slack.press(SAM, first, quiz.right_option)  # box 2: three days on is a Sunday
    assert "I'll ask you again with your lesson Mon 30 Nov at 09:30 (your time)" in read_by(
        slack, SAM, first
    )


def test_a_channel_lesson_shows_each_result_only_to_the_person_who_answered(slack, instance, clock):
    refused = learn(slack, SAM, "schedule security-basics <#C0GENERAL|general> 09:00")
    assert "Only community managers" in refused
    outside = learn(slack, ALEX, "schedule security-basics <#C0RANDOM1|random> 09:00")
    assert "I'm not in <#C0RANDOM1> yet" in outside
    scheduled = learn(
        slack, ALEX, "schedule securty <#C0GENERAL|general> 09:00 mon,wed,fri Europe/Berlin"
    )
    assert "Scheduled: *Security basics* in <#C0GENERAL>" in scheduled
    assert "Mon, Wed, Fri at 09:00 (Europe/Berlin)" in scheduled
    assert "Security basics" in learn(slack, KIM, "schedules")

    run_deliveries(instance, clock, hours=9)  # Monday 09:00 in Berlin is 08:00 UTC
    [post] = [m for m in slack.messages(GENERAL) if "lesson 1 of 7" in shown(m)]
    quiz = quiz_of(instance, "security-basics", 1)
    wrong = next(option for option in quiz.options if option != quiz.right_option)
    slack.press(SAM, post, wrong)
    slack.press(KIM, post, quiz.right_option)
    slack.press(SAM, post, quiz.right_option)  # a second try does not count
    sam_notes = [shown(m) for m in slack.ephemerals(SAM)]
    kim_notes = [shown(m) for m in slack.ephemerals(KIM)]
    assert f"You chose “{wrong}”" in sam_notes[-2]
    assert "You answered this one already; your first answer counts." in sam_notes[-1]
    assert f"You chose “{wrong}”" in sam_notes[-1]
    assert "✅ *Right:*" in kim_notes[-1]
    assert not any("You chose" in note for note in kim_notes)
    assert len([b for b in buttons(post) if b in quiz.options]) == 4  # others can still answer
    # Sam met the path in a channel: he never started it, so he never stopped it either.
    assert "Security basics* ▰▱▱▱▱▱▱ 1/7 · not started" in learn(slack, SAM, "me")

    run_deliveries(instance, clock, hours=24)  # Sam's miss comes back in his own DM
    [review] = lessons_to(slack, SAM)
    assert "Quick review" in shown(review) and quiz.question in shown(review)
    assert local_arrival(review, ZONES[SAM]).strftime("%a %H:%M")[:8] == "Tue 09:3"
    assert lessons_to(slack, KIM) == []  # right first time: nothing due yet


def test_streaks_and_a_completed_path_show_in_learn_me(slack, instance, clock):
    learn(slack, RIO, "start giving-feedback")
    assert "weekdays at 10:00 (America/Sao_Paulo)" in learn(slack, RIO, "time 10am")
    assert "every day at 10:00" in learn(slack, RIO, "time daily")
    path = instance.runtime.catalogue.paths["giving-feedback"]
    for day in range(len(path.lessons)):
        message = lessons_to(slack, RIO)[-1]
        slack.press(RIO, message, path.lessons[day].quiz.right_option)
        if day < len(path.lessons) - 1:
            run_deliveries(instance, clock, hours=24, step_minutes=60)
    assert "🎓 You completed *Giving feedback*" in shown(slack.dms(RIO)[-1])
    me = learn(slack, RIO, "me")
    assert "Giving feedback* ▰▰▰▰▰▰▰ 7/7 · 🎓 completed" in me
    assert "🔥 7-day streak (best 7)" in me and "7/7 quiz answers right" in me
    earned = [m.text for m in slack.dms(RIO) if "You earned the" in m.text]
    assert [text.split("*")[1] for text in earned] == ["Steady habit", "Path finder"]
    run_deliveries(instance, clock, hours=72, step_minutes=60)  # reviews come; none answered
    me = learn(slack, RIO, "me")
    assert "No streak running (best 7)" in me


# --- broken content -----------------------------------------------------------------------------


def break_second_quiz(folder: Path) -> int:
    """Give lesson 2 of security-basics an answer that is not one of its options; return the
    line of that `answer:`."""
    path = folder / "lessons" / "security-basics.yml"
    lines = path.read_text().splitlines()
    answers = [number for number, line in enumerate(lines) if line.strip().startswith("answer:")]
    lines[answers[1]] = lines[answers[1]].split("answer:")[0] + "answer: 9"
    path.write_text("\n".join(lines) + "\n")
    return answers[1] + 1


def test_a_broken_quiz_is_reported_and_its_lesson_still_goes_out(slack, content, tmp_path, clock):
    line = break_second_quiz(content)
    checked = eddy_cli("content", "check", str(content), cwd=tmp_path)
    assert checked.returncode == 1
    assert (
        f"security-basics.yml:{line}: lesson `password-managers`: quiz `answer` is 9, but there "
        "are 4 options; give the number of the right one (1 to 4)"
    ) in checked.stdout
    slack.workspace.clock = clock
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'broken.db'}", content, clock)
    slack.connect(eddy.target)
    try:
        learn(slack, SAM, "start security-basics")
        run_deliveries(eddy, clock, hours=72, step_minutes=60)
        _, second, third = lessons_to(slack, SAM)
        assert "lesson 2 of 7" in shown(second) and "Quiz" not in shown(second)
        slack.press(SAM, second, "Mark as done")
        assert "✅ Done. Nice work." in shown(second)
        assert "lesson 3 of 7" in shown(third) and "Quiz" in shown(third)
        assert "7 lessons" in shown(
            slack.command(SAM, GENERAL, "/learn paths") and slack.ephemerals(SAM)[-1]
        )
    finally:
        eddy.close()


def test_a_quiz_broken_later_keeps_serving_its_last_good_version(slack, instance, content, clock):
    learn(slack, SAM, "start security-basics")
    break_second_quiz(content)
    for job in JOBS:
        if job.name == "refresh-knowledge":
            run_job(instance.runtime, job, clock.now())
    run_deliveries(instance, clock, hours=36, step_minutes=60)
    second = lessons_to(slack, SAM)[1]
    assert "Quiz" in shown(second)
    right = quiz_of(instance, "security-basics", 2).right_option
    slack.press(SAM, second, right)
    assert "✅ *Right:*" in shown(second)


# --- people Slack cannot reach ------------------------------------------------------------------


def post_attempts_to(slack: SlackStandIn, user: str) -> list:
    return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == user]


def test_a_person_who_leaves_the_workspace_gets_nothing_more(slack, instance, clock):
    learn(slack, SAM, "start security-basics")
    slack.deactivate(SAM)  # Slack sends user_change; Eddy stops at once
    run_deliveries(instance, clock, hours=72, step_minutes=60)
    assert len(post_attempts_to(slack, SAM)) == 1  # the first lesson, before they left
    progress = lessons_progress(instance, SAM, clock)
    assert progress.stopped_reason == "they left the workspace"


def test_a_person_who_turned_off_dms_is_tried_once_and_told_when_they_come_back(
    slack, instance, clock
):
    learn(slack, KIM, "start security-basics")
    slack.workspace.users[KIM].messages_tab_disabled = True
    run_deliveries(instance, clock, hours=24 * 4, step_minutes=60)
    refused = [c for c in post_attempts_to(slack, KIM) if not c.ok]
    assert [c.response["error"] for c in refused] == ["messages_tab_disabled"]  # no retry storm
    me = learn(slack, KIM, "me")
    assert "Lessons are paused: they turned off direct messages from apps" in me
    slack.workspace.users[KIM].messages_tab_disabled = False
    learn(slack, KIM, "next")
    assert len(lessons_to(slack, KIM)) == 2
    run_deliveries(instance, clock, hours=73, step_minutes=60)  # to Monday 10:00 in Tokyo
    assert len(lessons_to(slack, KIM)) == 3  # back on schedule (Friday's was the one asked for)


def lessons_progress(instance: Instance, user: str, clock: ManualClock) -> Progress:
    """What Eddy recorded about a learner (someone who left can't run /learn me)."""
    return progress(instance.runtime, user, now=clock.now())


# --- time zones ----------------------------------------------------------------------------------


@pytest.fixture
def autumn() -> ManualClock:
    # Thursday 29 October 2026, 23:00 UTC; New York leaves summer time on Sunday 1 November.
    return at("2026-10-29T23:00:00+00:00")


def test_lessons_keep_their_local_time_across_a_dst_change(slack, content, tmp_path, autumn):
    slack.workspace.clock = autumn
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'dst.db'}", content, autumn)
    slack.connect(eddy.target)
    try:
        learn(slack, ALEX, f"start {SLACK_PATH}")
        run_deliveries(eddy, autumn, hours=24 * 5, step_minutes=15)
        arrivals = lessons_to(slack, ALEX)[1:]
        local = [local_arrival(m, ZONES[ALEX]).strftime("%a %H:%M")[:8] for m in arrivals]
        utc = [datetime.fromtimestamp(float(m.ts), UTC).strftime("%H:%M")[:4] for m in arrivals]
        assert local == ["Fri 09:3", "Mon 09:3", "Tue 09:3"]
        assert utc == ["13:3", "14:3", "14:3"]  # the same local time, an hour later in UTC
    finally:
        eddy.close()


def test_a_new_time_zone_moves_the_next_lesson(slack, instance, clock):
    learn(slack, KIM, f"start {SLACK_PATH}")
    slack.change_timezone(KIM, "Europe/London")  # Slack sends user_change
    run_deliveries(instance, clock, hours=36, step_minutes=15)
    # Monday's lesson went out in Tokyo already (never twice a day); Tuesday's comes at 09:30
    # in London, not at 09:30 in Tokyo (which would be 00:30 in London).
    [tuesday] = lessons_to(slack, KIM)[1:]
    assert local_arrival(tuesday, "Europe/London").strftime("%a %H:%M")[:8] == "Tue 09:3"


# --- exactly once -------------------------------------------------------------------------

BERLIN_TUESDAY = datetime(2026, 11, 24, 8, 31, tzinfo=UTC)  # 09:31 in Berlin


def add_people(slack: SlackStandIn, count: int, tz: str = "Europe/Berlin") -> list[str]:
    people = [f"U0TEST{n:04d}" for n in range(count)]
    for person in people:
        slack.workspace.add_user(User(person, person.lower(), f"Learner {person}", tz))
    return people


def lesson_days(slack: SlackStandIn, person: str, tz: str = "Europe/Berlin") -> Counter:
    return Counter(local_arrival(m, tz).date() for m in lessons_to(slack, person))


def test_re_runs_429s_server_errors_and_dropped_connections_send_each_lesson_once(
    slack, instance, clock
):
    people = [SAM, *add_people(slack, 5)]
    for person in people:
        learn(slack, person, f"start {SLACK_PATH}")
    clock.advance(BERLIN_TUESDAY - clock.now())
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)  # waited out
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable")  # unknown
    slack.fail_next("chat.postMessage", status=0)  # the connection drops: unknown too
    for _ in range(3):
        run_job(instance.runtime, DELIVER, clock.now())  # re-runs at the same instant
    clock.advance(timedelta(minutes=1))
    run_job(instance.runtime, DELIVER, clock.now())  # the two unknowns are checked, then sent
    instance.runtime.work.wait_idle()
    for person in people:
        assert set(lesson_days(slack, person).values()) == {1}, person
        assert len(lessons_to(slack, person)) == 2, person
    assert [c.status for c in slack.calls("chat.postMessage")].count(429) == 2
    assert any(c.method == "conversations.history" for c in slack.calls())


def deliver_cli(
    slack: SlackStandIn, database: str, content: Path, instant: datetime, cwd: Path
) -> subprocess.Popen[str]:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database,
        "EDDY_CONTENT_DIR": str(content),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.Popen(
        [sys.executable, APP, "lessons", "deliver", "--at", instant.isoformat()],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_delivery_killed_after_slack_posted_is_found_not_sent_again(
    slack, instance, database, content, clock, tmp_path
):
    people = [SAM, *add_people(slack, 2)]
    for person in people:
        learn(slack, person, f"start {SLACK_PATH}")
    clock.advance(BERLIN_TUESDAY - clock.now())  # Slack's own clock, for message timestamps
    release = slack.hold("chat.postMessage", nth=2)  # Slack posts the second, then we die
    first = deliver_cli(slack, database, content, BERLIN_TUESDAY, tmp_path)
    try:
        slack.wait_for(lambda: sum(len(lessons_to(slack, p)) for p in people) == 5, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        release.set()
    again = deliver_cli(slack, database, content, BERLIN_TUESDAY, tmp_path)
    out, _ = again.communicate(timeout=60)
    assert "0 planned, 0 sent" in out  # the dead run's claims are still leased
    later = deliver_cli(slack, database, content, BERLIN_TUESDAY + timedelta(minutes=10), tmp_path)
    out, _ = later.communicate(timeout=60)
    # Nothing of the dead run's batch was recorded: both messages it posted are found in
    # Slack by their metadata, and only the third is posted now.
    assert "1 sent, 2 found already sent, 0 failed" in out
    for person in people:
        assert list(lesson_days(slack, person).values()) == [1, 1], person
    done = deliver_cli(slack, database, content, BERLIN_TUESDAY + timedelta(minutes=20), tmp_path)
    out, _ = done.communicate(timeout=60)
    assert "0 planned, 0 sent, 0 found already sent, 0 failed" in out


def test_two_processes_delivering_at_once_send_each_lesson_once(
    slack, content, clock, database_url
):
    slack.workspace.clock = clock
    first = Instance(slack, database_url, content, clock)
    second = Instance(slack, database_url, content, clock)
    try:
        slack.connect(first.target)
        people = add_people(slack, 120)
        for person in people:
            slack.command(person, GENERAL, f"/learn start {SLACK_PATH}")
        clock.advance(BERLIN_TUESDAY - clock.now())
        slack.rate_limit_every("chat.postMessage", 50)
        barrier = threading.Barrier(2)

        def run(eddy: Instance) -> None:
            barrier.wait()
            run_job(eddy.runtime, DELIVER, clock.now())

        threads = [threading.Thread(target=run, args=(eddy,)) for eddy in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        days = Counter()
        for person in people:
            days.update(lesson_days(slack, person).values())
        assert days == Counter({1: 2 * len(people)})  # Monday's and Tuesday's, once each
    finally:
        first.close()
        second.close()


def test_the_cli_refuses_a_time_it_cannot_read(tmp_path):
    result = eddy_cli(
        "lessons", "deliver", "--at", "next tuesday", cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-1"
    )
    assert result.returncode == 2
    assert "is not an ISO-8601 time" in result.stderr
    assert "Traceback" not in result.stderr


def test_stopping_keeps_progress_and_starting_again_picks_up(slack, instance, clock):
    learn(slack, SAM, f"start {SLACK_PATH}")
    assert "Your progress is kept" in learn(slack, SAM, "stop working in slack")
    assert "You're not on" in learn(slack, SAM, "stop security-basics")
    learn(slack, SAM, "start security-basics")
    assert "Stopped all your lessons and reviews" in learn(slack, SAM, "stop all")
    assert "Lessons are paused: you stopped them" in learn(slack, SAM, "me")
    run_deliveries(instance, clock, hours=48, step_minutes=60)
    assert len(lessons_to(slack, SAM)) == 2  # the two first lessons, nothing since
    learn(slack, SAM, f"start {SLACK_PATH}")
    assert "lesson 2 of 7" in shown(lessons_to(slack, SAM)[-1])  # where it left off


def test_a_channel_that_stops_accepting_lessons_pauses_and_the_managers_hear_why(
    slack, instance, clock
):
    learn(slack, ALEX, "schedule security-basics <#C0GENERAL|general> 09:00 Europe/Berlin")
    slack.workspace.channels[GENERAL].members.discard(slack.workspace.bot.id)  # Eddy removed
    run_deliveries(instance, clock, hours=48, step_minutes=60)
    refused = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == GENERAL]
    assert [c.response["error"] for c in refused] == ["not_in_channel"]  # tried once
    told = shown(slack.dms(ALEX)[-1])
    assert "I paused the *Security basics* lessons in <#C0GENERAL>" in told
    assert "Eddy is not in the channel (invite @Eddy there)" in told
    assert "paused: Eddy is not in the channel" in learn(slack, ALEX, "schedules")


def test_a_forged_quiz_button_gets_a_plain_answer_and_changes_nothing(slack, instance):
    learn(slack, SAM, "start security-basics")
    lesson = lessons_to(slack, SAM)[0]
    block, element = next(
        (b, e) for b, e in slack.buttons(lesson.blocks) if e["action_id"] == "lessons_answer_0"
    )
    for value in ('{"d": "x", "p": 1, "l": 2, "o": "?"}', "not json"):
        slack.press_element(SAM, lesson, block, {**element, "value": value})
        note = shown(slack.ephemerals(SAM)[-1])
        assert "can't be used any more" in note or "no longer in Eddy's lessons" in note
        assert "invalid literal" not in note and "Traceback" not in note
    slack.press_element(KIM, lesson, block, element)  # a press in someone else's DM
    assert "This lesson was sent to someone else." in shown(slack.dms(KIM)[-1])
    assert (
        len([b for b in buttons(lesson) if b in quiz_of(instance, "security-basics", 1).options])
        == 4
    )  # still unanswered


def test_a_second_answer_counts_once_and_the_badge_comes_once_on_either_database(
    slack, content, clock, database_url
):
    """The first answer wins, and a badge is awarded once, also on PostgreSQL (where the
    database reports no row count for an INSERT … ON CONFLICT: the store asks RETURNING)."""
    from tests.test_badges import add_one_step_path

    add_one_step_path(content)
    slack.workspace.clock = clock
    eddy = Instance(slack, database_url, content, clock)
    slack.connect(eddy.target)
    try:
        soon = (clock.now() + timedelta(hours=1)).strftime("%H:%M")
        learn(slack, ALEX, f"schedule one-step <#{GENERAL}|general> {soon} daily UTC")
        run_deliveries(eddy, clock, hours=1.25)
        lesson = next(m for m in slack.messages(GENERAL) if "The only lesson" in shown(m))
        slack.press(RIO, lesson, "What the team needs daily")
        slack.press(RIO, lesson, "Everything")
        assert "You answered this one already" in shown(slack.ephemerals(RIO)[-1])
        earned = [m.text for m in slack.dms(RIO) if "You earned the" in m.text]
        assert len(earned) == len(set(earned)) >= 1
        assert "1/1 quiz answers right" in learn(slack, RIO, "me")
    finally:
        eddy.close()


def test_only_a_community_manager_changes_a_channels_lessons_whoever_calls_the_domain(
    slack, instance, clock
):
    """The rule lives in bot/lessons.py, not in the handlers that call it: a caller that forgot
    to check still changes nothing for someone who is not a community manager."""
    from bot import lessons

    runtime = instance.runtime
    path = lessons.paths(runtime)["security-basics"]
    schedule = lessons.Schedule("Europe/Berlin")
    change = {"channel": GENERAL, "path_id": path.id}
    assert (
        lessons.schedule_channel(
            runtime, manager=SAM, channel=GENERAL, path=path, schedule=schedule, now=clock.now()
        )
        is lessons.ScheduleChange.NOT_ALLOWED
    )
    assert lessons.channel_plans(runtime) == []
    assert (
        lessons.schedule_channel(
            runtime, manager=ALEX, channel=GENERAL, path=path, schedule=schedule, now=clock.now()
        )
        is lessons.ScheduleChange.CREATED
    )
    for stop in (lessons.pause_channel, lessons.unschedule_channel):
        assert stop(runtime, **change, manager=SAM) is lessons.ScheduleChange.NOT_ALLOWED
    assert [plan.status for plan in lessons.channel_plans(runtime)] == ["active"]
    assert lessons.pause_channel(runtime, **change, manager=ALEX) is lessons.ScheduleChange.PAUSED
    assert (
        lessons.unschedule_channel(runtime, **change, manager=ALEX)
        is lessons.ScheduleChange.REMOVED
    )
