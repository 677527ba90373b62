"""Micro-lessons, through the front door: /learn, lessons arriving at 09:30 in each person's
own time zone (across midnight and DST), quizzes in DMs and channels, spaced repetition,
streaks and completion, people Slack cannot reach, and delivery exactly once — re-run,
killed mid-run, answered 429, and two processes on one PostgreSQL database."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.clock import ManualClock
from bot.sandbox import SlackStandIn
from bot.sandbox.workspace import User
from bot.scheduler import JOBS, run_job
from tests.conftest import (
    ALEX,
    GENERAL,
    KIM,
    RANDOM,
    RIO,
    ROOT,
    SAM,
    SIGNING_SECRET,
    Instance,
    postgres_database,
)
from tests.test_ask import buttons, shown
from tests.test_cli import APP
from tests.test_cli import eddy as eddy_cli

DELIVER = next(job for job in JOBS if job.name == "deliver-lessons")
ZONES = {ALEX: "America/New_York", SAM: "Europe/Berlin", KIM: "Asia/Tokyo", RIO: "America/Sao_Paulo"}
SLACK_PATH = "working-in-slack"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    return folder


def at(when: str) -> ManualClock:
    """A clock that starts at `when` (ISO-8601 with an offset) and moves only when told."""
    clock = ManualClock(datetime.fromisoformat(when) - datetime.now(UTC))
    return clock


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


def run_deliveries(instance: Instance, clock: ManualClock, hours: float, step_minutes: int = 15) -> None:
    """Move the clock forward in steps, running the delivery job at each, as the scheduler does."""
    steps = int(hours * 60 / step_minutes)
    for _ in range(steps):
        clock.advance(timedelta(minutes=step_minutes))
        run_job(instance.runtime, DELIVER, clock.now())
    instance.runtime.work.wait_idle()


def local_arrival(message, tz: str) -> datetime:
    return datetime.fromtimestamp(float(message.ts), UTC).astimezone(ZoneInfo(tz))


def press_option(slack: SlackStandIn, user: str, message, option: str):
    return slack.press(user, message, option)


def quiz_of(instance: Instance, path_id: str, number: int):
    path = instance.runtime.knowledge.paths[path_id]
    return path.lessons[number - 1].quiz


# --- /learn ------------------------------------------------------------------------------------


def test_help_empty_unknown_long_and_hostile_text_get_the_usage(slack, instance):
    for text in ("help", "", "dance", "start " + "x" * 1200):
        reply = learn(slack, SAM, text)
        assert "/learn start <path>" in reply, text
    hostile = learn(slack, SAM, "start <!channel> <@U0KIM0003|kim>")
    assert "I don't know a path called" in hostile
    assert "<!channel>" not in hostile and "<@U0KIM0003" not in hostile
    assert "@channel" in hostile and "/learn start <path>" in hostile


def test_paths_lists_every_shipped_path_with_a_start_button(slack, instance):
    slack.command(SAM, GENERAL, "/learn paths")
    listing = slack.ephemerals(SAM)[-1]
    for title in ("Working well in Slack", "Security basics", "Giving feedback"):
        assert title in shown(listing)
    assert buttons(listing).count("Start") == 3
    slack.press(SAM, listing, "Start")
    assert len(lessons_to(slack, SAM)) == 1


def test_start_with_a_typo_sends_the_first_lesson_now_and_says_when_the_next_comes(slack, instance):
    reply = learn(slack, SAM, "start secrity basics")
    assert "(I took “secrity basics” to mean *Security basics*.)" in reply
    assert "weekdays at 09:30 (Europe/Berlin)" in reply
    [lesson] = lessons_to(slack, SAM)
    text = shown(lesson)
    assert "Security basics · lesson 1 of 7" in text
    assert "Quiz" in text and len(buttons(lesson)) == 4 + 1  # four options and "Read more"
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
