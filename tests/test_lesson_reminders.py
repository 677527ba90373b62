"""Reminders that respect people, through the front door: an unanswered lesson is mentioned
once later that day in the learner's own zone, never outside their lesson window or on a day
off; lessons pause after a few unanswered ones, with Resume; a streak about to break is
mentioned once; the managers see who is paused; each reminder is sent once, also by two
instances on one database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.clock import ManualClock
from bot.scheduler import JOBS, run_job
from sandbox.workspace import User
from store.lessons import LessonDelivery
from tests.conftest import ALEX, SAM, Instance
from tests.test_ask import shown
from tests.test_home import open_tab, seen
from tests.test_lessons import (
    SLACK_PATH,
    content,  # noqa: F401 (the fixture: a copy of the shipped content)
    learn,
    lessons_to,
    quiz_of,
)
from tests.test_xapi import export, validate

DELIVER = next(job for job in JOBS if job.name == "deliver-lessons")
REMIND = next(job for job in JOBS if job.name == "remind-learners")
BERLIN = ZoneInfo("Europe/Berlin")
#: A second learner in Sam's zone (the stand-in's workspace has one person per zone).
NIA = "U0NIA0005"


@pytest.fixture
def clock() -> ManualClock:
    # Monday 23 November 2026, 07:00 UTC: 08:00 in Berlin, Sam's zone.
    return ManualClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))


def run(
    instances: list[Instance], clock: ManualClock, hours: float, step_minutes: int = 15
) -> None:
    """Move the clock on, running delivery and reminders at each step as the scheduler does
    (on every instance given)."""
    for _ in range(int(hours * 60 / step_minutes)):
        clock.advance(timedelta(minutes=step_minutes))
        for eddy in instances:
            run_job(eddy.runtime, DELIVER, clock.now())
            run_job(eddy.runtime, REMIND, clock.now())
    for eddy in instances:
        eddy.runtime.work.wait_idle()


def reminders_to(slack, user: str) -> list:
    return [m for m in slack.dms(user) if "is still waiting" in m.text]


def local(message) -> datetime:
    return datetime.fromtimestamp(float(message.ts), UTC).astimezone(BERLIN)


def answer(slack, instance: Instance, message, number: int) -> None:
    slack.press(SAM, message, quiz_of(instance, SLACK_PATH, number).right_option)


def test_an_unanswered_lesson_is_mentioned_once_later_that_day(slack, instance, clock):
    learn(slack, SAM, f"start {SLACK_PATH}")  # Monday's lesson, asked for: no reminder
    run([instance], clock, hours=24)  # to Tuesday 07:00 UTC
    assert reminders_to(slack, SAM) == []
    run([instance], clock, hours=14)  # Tuesday: 09:30 lesson, 13:30 reminder, to 22:00
    tuesday = lessons_to(slack, SAM)[-1]
    assert local(tuesday).strftime("%a %H") == "Tue 09"
    (reminder,) = reminders_to(slack, SAM)
    assert local(reminder).strftime("%a %H:%M") == "Tue 13:30"
    title = instance.runtime.catalogue.paths[SLACK_PATH].lessons[1].title
    assert title in shown(reminder) and "from earlier today" in shown(reminder)
    assert "<https://" in shown(reminder)  # a link to the lesson message
    # Marked, like the lesson message, with the delivery it is about and which reminder.
    lesson_delivery = tuesday.metadata["event_payload"]["delivery_id"]
    assert reminder.metadata == {
        "event_type": "eddy_lesson_reminder",
        "event_payload": {"delivery_id": lesson_delivery, "step": 1},
    }


def test_an_answered_lesson_gets_no_reminder(slack, instance, clock):
    learn(slack, SAM, f"start {SLACK_PATH}")
    run([instance], clock, hours=27)  # Tuesday 10:00 in Berlin: the lesson is there
    answer(slack, instance, lessons_to(slack, SAM)[-1], 2)
    run([instance], clock, hours=12)
    assert reminders_to(slack, SAM) == []


def test_no_reminder_outside_the_lesson_window_or_on_a_day_off(slack, instance, clock):
    learn(slack, SAM, f"start {SLACK_PATH}")
    learn(slack, SAM, "time 20:00")  # the window would run past midnight
    run([instance], clock, hours=48)
    # Monday's lesson was the first, at the start; Tuesday's comes at 20:00.
    assert [local(m).strftime("%a %H") for m in lessons_to(slack, SAM)[1:]] == ["Tue 20"]
    assert reminders_to(slack, SAM) == []  # 00:00 is another day: never then

    learn(slack, SAM, "time 09:30")
    clock.advance(datetime(2026, 11, 27, 7, 0, tzinfo=UTC) - clock.now())  # Friday morning
    run([instance], clock, hours=72)  # Friday, the weekend, to Monday morning
    days = [local(m).strftime("%a") for m in reminders_to(slack, SAM)]
    assert "Sat" not in days and "Sun" not in days


def test_lessons_pause_after_three_unanswered_and_resume(slack, instance, clock):
    learn(slack, SAM, f"start {SLACK_PATH}")
    run([instance], clock, hours=24 * 3 + 12)  # Tue, Wed, Thu unanswered; to Thursday 19:00
    paused = next(m for m in slack.dms(SAM) if "paused your lessons" in m.text)
    assert local(paused).strftime("%a %H:%M") == "Thu 17:30"  # the end of Thursday's window
    assert "the last 3 lessons in a row went unanswered" in shown(paused)
    assert "Lessons are paused" in learn(slack, SAM, "me")
    console = open_tab(slack, ALEX, "Schedules")
    assert "Paused learners" in seen(console) and "went unanswered" in seen(console)

    sent = len(lessons_to(slack, SAM))
    run([instance], clock, hours=24)  # Friday: nothing new piles up
    assert len(lessons_to(slack, SAM)) == sent

    slack.press(SAM, paused, "Resume lessons")
    assert "Lessons resumed" in shown(paused)
    run([instance], clock, hours=72)  # the weekend, then Monday 09:30
    assert local(lessons_to(slack, SAM)[-1]).strftime("%a %H") == "Mon 09"
    assert "Paused learners" not in seen(open_tab(slack, ALEX, "Schedules"))
    # The lessons unanswered before the pause do not count again: Monday's alone pauses nothing
    # (the one pause message says "resumed" now).
    assert not any("paused your lessons" in m.text for m in slack.dms(SAM))


def test_pausing_weighs_each_persons_own_lessons(slack, content, clock, database_url):  # noqa: F811
    """Two people in one zone: their last checks come in one run of the reminder job, which
    reads everyone's recent lessons at once. The one who left their last three unanswered
    pauses; the one who answered one of them does not."""
    slack.workspace.clock = clock
    slack.workspace.add_user(User(NIA, "nia", "Nia Berg", "Europe/Berlin"))
    eddy = Instance(slack, database_url, content, clock)
    slack.connect(eddy.target)
    try:
        for person in (SAM, NIA):
            learn(slack, person, f"start {SLACK_PATH}")
        run([eddy], clock, hours=24 + 27)  # to Wednesday 11:00 in Berlin
        wednesday = lessons_to(slack, NIA)[-1]
        assert local(wednesday).strftime("%a %H") == "Wed 09"
        slack.press(NIA, wednesday, quiz_of(eddy, SLACK_PATH, 3).right_option)
        run([eddy], clock, hours=33)  # past Thursday's last checks (17:30), both in one run
        assert [local(m).strftime("%a %H:%M") for m in paused_notes(slack, SAM)] == ["Thu 17:30"]
        assert paused_notes(slack, NIA) == []
        assert len(lessons_to(slack, NIA)) == len(lessons_to(slack, SAM)) == 4
    finally:
        eddy.close()


def test_no_reminder_in_the_run_that_pauses(slack, instance, clock):
    """After the reminder job was down for a day, one run finds Thursday's last check and
    Friday's reminder both due: the check pauses the lessons, so Friday's reminder is not
    sent, and nothing more is due for them."""
    learn(slack, SAM, f"start {SLACK_PATH}")
    run([instance], clock, hours=24 * 3 + 9)  # to Thursday 17:00 in Berlin
    assert len(reminders_to(slack, SAM)) == 3  # Tuesday's, Wednesday's and Thursday's
    for _ in range(21 * 4):  # the reminder job is down until Friday 14:00 in Berlin
        clock.advance(timedelta(minutes=15))
        run_job(instance.runtime, DELIVER, clock.now())
    assert local(lessons_to(slack, SAM)[-1]).strftime("%a %H") == "Fri 09"
    run_job(instance.runtime, REMIND, clock.now())
    instance.runtime.work.wait_idle()
    assert [local(m).strftime("%a %H:%M") for m in paused_notes(slack, SAM)] == ["Fri 14:00"]
    assert len(reminders_to(slack, SAM)) == 3
    with instance.runtime.store.session() as session:
        waiting = session.exec(
            select(LessonDelivery).where(col(LessonDelivery.remind_at).is_not(None))
        ).all()
    assert waiting == []


def paused_notes(slack, user: str) -> list:
    return [m for m in slack.dms(user) if "paused your lessons" in m.text]


def test_a_streak_about_to_break_is_mentioned_once(slack, content, clock, tmp_path):  # noqa: F811
    slack.workspace.clock = clock
    eddy = Instance(
        slack, f"sqlite:///{tmp_path / 'eddy.db'}", content, clock, eddy_lesson_reminders=2
    )
    slack.connect(eddy.target)
    try:
        learn(slack, SAM, f"start {SLACK_PATH}")
        answer(slack, eddy, lessons_to(slack, SAM)[0], 1)  # Monday
        run([eddy], clock, hours=27)
        answer(slack, eddy, lessons_to(slack, SAM)[-1], 2)  # Tuesday: a 2-day streak
        run([eddy], clock, hours=14)  # to Wednesday 00:00 in Berlin
        assert reminders_to(slack, SAM) == []
        run([eddy], clock, hours=24)  # Wednesday, unanswered: two reminders
        first, second = reminders_to(slack, SAM)
        assert "keep your 2-day streak going" in shown(first)
        assert "streak" not in shown(second)
    finally:
        eddy.close()


def test_two_instances_send_each_reminder_once(slack, content, clock, database_url):  # noqa: F811
    slack.workspace.clock = clock
    first = Instance(slack, database_url, content, clock)
    second = Instance(slack, database_url, content, clock)
    try:
        slack.connect(first.target)
        learn(slack, SAM, f"start {SLACK_PATH}")
        run([first, second], clock, hours=24 + 14)
        assert len(reminders_to(slack, SAM)) == 1
    finally:
        first.close()
        second.close()


def test_a_reminder_is_a_learning_record(slack, instance, clock, database, tmp_path):
    learn(slack, SAM, f"start {SLACK_PATH}")
    run([instance], clock, hours=24 + 14)
    assert len(reminders_to(slack, SAM)) == 1
    (reminded,) = [
        s for s in export(database, tmp_path) if s["verb"]["display"]["en-US"] == "received"
    ]
    validate(reminded)
    assert reminded["verb"]["id"] == "http://activitystrea.ms/schema/1.0/receive"
    assert reminded["actor"]["account"]["name"] == SAM
    lesson = instance.runtime.catalogue.paths[SLACK_PATH].lessons[1]
    assert reminded["object"]["definition"]["name"]["en-US"] == f"Reminder: {lesson.title}"
    assert reminded["context"]["contextActivities"]["parent"][0]["id"].endswith(
        f"/lessons/{lesson.id}"
    )
    assert local_iso(reminded["timestamp"]) == "Tue 13:30"


def local_iso(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(BERLIN).strftime("%a %H:%M")
