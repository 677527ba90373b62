"""Lessons that adapt to the person, through the front door: a journey's lessons wait for
their day of the person's start (in their zone), a placement check skips what they know and
files it for review, "I know this" skips a lesson and its quiz comes back, a missed quiz
brings its remedial lesson next, and completion, streaks and `/learn me` count known lessons
fairly. Broken `day:`, `remedial:` and `placement:` are named with file and line."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import lessons
from bot.clock import ManualClock
from sandbox import SlackStandIn
from store.lessons import JOURNEY
from tests.conftest import ALEX, GENERAL, KIM, RIO, ROOT, SAM, Instance
from tests.test_ask import buttons, shown
from tests.test_cli import eddy as eddy_cli
from tests.test_lessons import learn, lessons_to, local_arrival, read_by, run_deliveries
from tests.test_xapi import export, validate

#: Monday 23 November 2026, 00:00 UTC: 09:00 on Monday in Tokyo, Sunday evening in New York.
MONDAY = date(2026, 11, 23)
ZONES = {
    KIM: "Asia/Tokyo",
    SAM: "Europe/Berlin",
    ALEX: "America/New_York",
    RIO: "America/Sao_Paulo",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, tzinfo=UTC))


def lesson(lesson_id: str, *, quiz: str | None = None, **fields: Any) -> dict[str, Any]:
    """A lesson for a test path; `quiz` names its options: "<quiz> right", "<quiz> wrong"."""
    made: dict[str, Any] = {
        "id": lesson_id,
        "title": lesson_id.replace("-", " ").capitalize(),
        "minutes": 2,
        "body": f"What {lesson_id} teaches.",
        **fields,
    }
    if quiz is not None:
        made["quiz"] = {
            "question": f"Question {quiz}?",
            "options": [f"{quiz} right", f"{quiz} wrong"],
            "answer": 1,
            "explanation": f"Because of {quiz}.",
        }
    return made


def write_path(folder: Path, path_id: str, title: str, lessons_: list[dict], **fields: Any) -> None:
    data = {"title": title, **fields, "lessons": lessons_}
    (folder / "lessons" / f"{path_id}.yml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content and three test paths: a journey, one with a placement check, one
    with a remedial lesson."""
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    write_path(
        folder,
        "journey",
        "Journey",
        [
            lesson("hello", day=1),
            lesson("meet-the-team", day="day 3"),
            lesson("follow-on"),
            lesson("saturday-lesson", day=6),  # a Saturday: it comes on Monday
            lesson("second-week", day="week 2"),
        ],
    )
    write_path(
        folder,
        "placed",
        "Placed",
        [lesson(name, quiz=name) for name in ("one", "two", "three", "four")],
        placement=3,
    )
    write_path(
        folder,
        "helped",
        "Helped",
        [
            lesson("tricky", quiz="tricky", remedial="tricky-again"),
            lesson("tricky-again", quiz="again"),
            lesson("next-step", quiz="next"),
        ],
    )
    return folder


def enrol_on_journey(instance: Instance, user: str, path_id: str, clock: ManualClock) -> None:
    """What a journey's enrolment does when someone joins (no Slack surface of its own yet)."""
    runtime = instance.runtime
    lessons.enrol(
        runtime,
        user,
        lessons.paths(runtime)[path_id],
        tz=ZONES[user],
        now=clock.now(),
        origin=JOURNEY,
        anchor_day=MONDAY,
    )


def arrivals(slack: SlackStandIn, user: str) -> list[tuple[str, str]]:
    """(local weekday and date, lesson title) of each lesson message in a person's DM."""
    return [
        (local_arrival(message, ZONES[user]).strftime("%a %d"), message.blocks[1]["text"]["text"])
        for message in lessons_to(slack, user)
    ]


def me(slack: SlackStandIn, user: str) -> str:
    return learn(slack, user, "me")


# --- journeys ----------------------------------------------------------------------------------


def test_a_journey_holds_each_lesson_back_until_its_day_in_the_persons_zone(slack, instance, clock):
    for person in (KIM, ALEX):
        enrol_on_journey(instance, person, "journey", clock)
    assert lessons_to(slack, KIM) == []  # a journey starts at the person's lesson time
    run_deliveries(instance, clock, hours=24 + 12, step_minutes=30)  # to Tuesday noon UTC
    told = learn(slack, KIM, "next")  # Tuesday evening in Tokyo: day 2 of Kim's journey
    assert "No lesson is waiting right now: *Meet the team* (Journey) comes" in told
    assert "on its day of your journey" in told
    assert "comes tomorrow at 09:30 (your time)" in read_by(slack, KIM, slack.ephemerals(KIM)[-1])
    run_deliveries(instance, clock, hours=24 * 8 + 12, step_minutes=30)  # to Thu 3 Dec
    expected = [
        ("Mon 23", "*Hello* · 2 min"),
        ("Wed 25", "*Meet the team* · 2 min"),  # day 3
        ("Thu 26", "*Follow on* · 2 min"),  # no day: follows the one before
        ("Mon 30", "*Saturday lesson* · 2 min"),  # day 6 is a Saturday: the next lesson day
        ("Tue 01", "*Second week* · 2 min"),  # week 2 (day 8, Monday) is taken: the next day
    ]
    assert arrivals(slack, KIM) == expected
    assert arrivals(slack, ALEX) == expected  # the same days in New York
    for person in (KIM, ALEX):
        times = {local_arrival(m, ZONES[person]).strftime("%H") for m in lessons_to(slack, person)}
        assert times == {"09"}, person
    assert "Journey* ▱▱▱▱▱ 0/5 · running" in me(slack, KIM)


def test_a_path_started_by_choice_ignores_journey_days(slack, instance, clock):
    learn(slack, SAM, "start journey")  # by choice: one lesson per lesson day
    run_deliveries(instance, clock, hours=24 * 3)
    assert [title for _, title in arrivals(slack, SAM)] == [
        "*Hello* · 2 min",
        "*Meet the team* · 2 min",
        "*Follow on* · 2 min",
    ]


def test_the_shipped_journey_opens_with_its_check_and_unanswered_items_stay_lessons(
    slack, instance, clock
):
    enrol_on_journey(instance, RIO, "first-week", clock)
    run_deliveries(instance, clock, hours=14)  # Monday 09:30 in São Paulo is 12:30 UTC
    [check] = lessons_to(slack, RIO)
    assert "Your first weeks · what do you know already?" in shown(check)
    assert "5 quick questions" in shown(check)
    path = instance.runtime.catalogue.paths["first-week"]
    profile = path.lesson("help-people-reach-you").quiz
    slack.press(RIO, check, profile.right_option)
    assert "✅ Right: you know this; its lesson is skipped." in shown(check)
    assert len(lessons_to(slack, RIO)) == 1  # four questions still open: no lesson yet
    run_deliveries(instance, clock, hours=24)  # Tuesday's slot closes the check
    tuesday = lessons_to(slack, RIO)[-1]
    assert "Your first weeks · lesson 1 of 6" in shown(tuesday)  # day 1's lesson, now
    slack.press(RIO, check, path.lesson("look-back").quiz.right_option)  # too late
    assert "That placement check has closed" in shown(slack.ephemerals(RIO)[-1])
    assert shown(check).count("Not answered: it comes as a lesson.") == 4
    assert "Your first weeks* ▰▱▱▱▱▱ 1/6 (1 known)" in me(slack, RIO)


# --- placement ---------------------------------------------------------------------------------


def test_a_placement_check_skips_known_lessons_and_files_them_for_review(slack, instance, clock):
    clock.advance(timedelta(hours=7))  # Monday 08:00 in Berlin
    started = learn(slack, SAM, "start placed")
    assert "First, a few quick questions are in your DMs" in started
    [check] = lessons_to(slack, SAM)
    assert "Placed · what do you know already?" in shown(check)
    # Three of the four items, spread along the path: one, three and four.
    assert [b for b in buttons(check)] == [
        "one right",
        "one wrong",
        "three right",
        "three wrong",
        "four right",
        "four wrong",
    ]
    slack.press(SAM, check, "one right")
    slack.press(SAM, check, "three wrong")
    assert len(lessons_to(slack, SAM)) == 1
    slack.press(SAM, check, "four right")
    text = read_by(slack, SAM, check)
    assert "You already know 2 of 3: I'll skip those lessons." in text
    assert "✅ Right: you know this; its lesson is skipped. It comes back Thu 26 Nov" in text
    assert "❌ Not this time: it comes as a lesson." in text
    assert buttons(check) == []
    first = lessons_to(slack, SAM)[-1]  # the first lesson not known follows at once
    assert "Placed · lesson 2 of 4" in shown(first)
    assert "2/4 (2 known) · running" in me(slack, SAM)
    assert "🔥 1-day streak" in me(slack, SAM)
    slack.press(SAM, first, "two right")
    run_deliveries(instance, clock, hours=26)  # Tuesday: the lesson missed in the check
    tuesday = lessons_to(slack, SAM)[-1]
    assert "Placed · lesson 3 of 4" in shown(tuesday)
    slack.press(SAM, tuesday, "three right")
    assert "🎓 You completed *Placed*" in shown(slack.dms(SAM)[-1])
    assert "4/4 (2 known) · 🎓 completed" in me(slack, SAM)
    reviewed = set()
    for hours in (48, 24):  # Thursday and Friday: the known items come back, two at a time
        run_deliveries(instance, clock, hours=hours)
        review = lessons_to(slack, SAM)[-1]
        assert "Quick review" in shown(review)
        assert local_arrival(review, ZONES[SAM]).strftime("%a") in ("Thu", "Fri")
        for name in ("one", "two", "three", "four"):
            if f"Question {name}?" in shown(review):
                reviewed.add(name)
                slack.press(SAM, review, f"{name} right")
    assert {"one", "four"} <= reviewed


def test_a_placement_button_pressed_by_someone_else_changes_nothing(slack, instance):
    learn(slack, SAM, "start placed")
    [check] = lessons_to(slack, SAM)
    before = shown(check)
    slack.press(KIM, check, "one right")
    assert "This placement check was sent to someone else." in shown(slack.dms(KIM)[-1])
    assert shown(check) == before


# --- I know this ------------------------------------------------------------------------------


def test_i_know_this_skips_the_lesson_and_its_quiz_comes_back_as_a_review(slack, instance, clock):
    clock.advance(timedelta(hours=7))  # Monday 08:00 in Berlin
    learn(slack, SAM, "start security-basics")
    path = instance.runtime.catalogue.paths["security-basics"]
    monday = lessons_to(slack, SAM)[0]
    slack.press(SAM, monday, path.lessons[0].quiz.right_option)
    run_deliveries(instance, clock, hours=26)  # Tuesday's lesson
    tuesday = lessons_to(slack, SAM)[-1]
    assert "I know this" in buttons(tuesday)
    slack.press(SAM, tuesday, "I know this")
    text = read_by(slack, SAM, tuesday)
    assert "🙌 Skipped: you know this one." in text
    assert "Its quiz comes back with your lesson Fri 27 Nov at 09:30 (your time)" in text
    assert buttons(tuesday) == ["Read more"]  # no quiz, nothing to skip again
    assert path.lessons[1].quiz.question not in shown(tuesday)
    assert len(lessons_to(slack, SAM)) == 2  # the next lesson is not sent early
    progress = me(slack, SAM)
    assert "2/7 (1 known)" in progress
    assert "🔥 2-day streak" in progress  # Tuesday counts: a lesson known is a lesson done
    run_deliveries(instance, clock, hours=24 * 3)  # to Friday
    friday = lessons_to(slack, SAM)[-1]
    assert local_arrival(friday, ZONES[SAM]).strftime("%a") == "Fri"
    assert "Review" in shown(friday) and path.lessons[1].quiz.question in shown(friday)


def test_there_is_no_i_know_this_in_a_channel(slack, instance, clock):
    learn(slack, ALEX, "schedule security-basics <#C0GENERAL|general> 09:00 Europe/Berlin")
    run_deliveries(instance, clock, hours=9)
    [post] = [m for m in slack.messages(GENERAL) if "lesson 1 of 7" in shown(m)]
    assert "I know this" not in buttons(post)


# --- remedial lessons -------------------------------------------------------------------------


def test_a_missed_quiz_brings_its_remedial_lesson_next_and_only_then(slack, instance, clock):
    for person in (SAM, KIM):
        learn(slack, person, "start helped")
    sams, kims = lessons_to(slack, SAM)[0], lessons_to(slack, KIM)[0]
    assert "Helped · lesson 1 of 2" in shown(sams)  # the remedial is not counted
    slack.press(SAM, sams, "tricky wrong")
    slack.press(KIM, kims, "tricky right")
    run_deliveries(instance, clock, hours=36)  # Tuesday, in both zones
    again = lessons_to(slack, SAM)[-1]
    assert "Helped · another look" in shown(again)
    assert "The quiz of “Tricky” didn't land" in shown(again)
    assert "*Tricky again* · 2 min" in shown(again)
    assert "Helped · lesson 2 of 2" in shown(lessons_to(slack, KIM)[-1])  # no detour for Kim
    slack.press(KIM, lessons_to(slack, KIM)[-1], "next right")
    assert "🎓 You completed *Helped*" in shown(slack.dms(KIM)[-1])  # without the remedial
    slack.press(SAM, again, "again right")
    run_deliveries(instance, clock, hours=24)
    assert "Helped · lesson 2 of 2" in shown(lessons_to(slack, SAM)[-1])
    assert "1/2" in me(slack, SAM) and "2/2" in me(slack, KIM)


# --- content check ----------------------------------------------------------------------------


def test_content_check_names_file_and_line_of_bad_days_remedials_and_placement(content, tmp_path):
    write_path(
        content,
        "broken",
        "Broken",
        [
            lesson("first", quiz="first", day=5),
            lesson("backwards", quiz="b", day="day 2"),
            lesson("odd-day", day="fortnight"),
            lesson("self-help", quiz="s", remedial="self-help"),
            lesson("nowhere", quiz="n", remedial="no-such-lesson"),
            lesson("quizless", remedial="first"),
            lesson("with-help", quiz="w", remedial="helper"),
            lesson("helper", day=9),
        ],
        placement=11,
    )
    write_path(content, "no-quizzes", "No quizzes", [lesson("a"), lesson("b")], placement=True)
    checked = eddy_cli("content", "check", str(content), cwd=tmp_path)
    assert checked.returncode == 1
    out = checked.stdout
    broken = content / "lessons" / "broken.yml"
    lines = broken.read_text().splitlines()

    def line(text: str, after: str = "") -> int:
        start = next(i for i, each in enumerate(lines) if after in each) if after else 0
        return next(i for i, each in enumerate(lines) if i >= start and text in each) + 1

    assert f"{broken}:{line('placement:')}: `placement` must be true, false, or how many" in out
    # The path's field is wrong: the file is refused whole; fix it and the lessons are checked.
    broken.write_text(broken.read_text().replace("placement: 11", "placement: 2"))
    out = eddy_cli("content", "check", str(content), cwd=tmp_path).stdout
    assert (
        f"{broken}:{line('day: day 2')}: lesson `backwards` comes on day 2, before day 5 of "
        "lesson `first` above it: days must not go backwards along the path"
    ) in out
    assert f"{broken}:{line('day: fortnight')}: lesson `odd-day`: `day: fortnight` is not" in out
    assert (
        f"{broken}:{line('remedial: self-help')}: lesson `self-help` names itself as its `remedial`"
    ) in out
    assert (
        f"{broken}:{line('remedial: no-such-lesson')}: lesson `nowhere`: `remedial: "
        "no-such-lesson` names no lesson of this path"
    ) in out
    assert (
        f"{broken}:{line('remedial: first')}: lesson `quizless` has a `remedial` but no quiz"
    ) in out
    assert (
        f"{broken}:{line('day: 9')}: lesson `helper` is the remedial of `with-help`: it comes "
        "right after that quiz is missed, so it takes no `day`"
    ) in out
    quizless = content / "lessons" / "no-quizzes.yml"
    others = quizless.read_text().splitlines()
    at = next(i for i, each in enumerate(others) if "placement:" in each) + 1
    assert f"{quizless}:{at}: `placement` asks the path's own quiz items, but none" in out


# --- Slack's rules ----------------------------------------------------------------------------


def test_a_long_placement_check_and_a_lesson_with_every_button_pass_slacks_rules(
    slack, content, tmp_path, clock
):
    long = "x" * 70
    write_path(
        content,
        "big",
        " ".join(f"Word{n}" for n in range(18)),
        [
            {
                **lesson(f"item-{n}", link="https://example.com/more"),
                "quiz": {
                    "question": f"Question {n} " + "q" * 280,
                    "options": [f"{n}{k} {long}"[:75] for k in range(5)],
                    "answer": 1,
                },
            }
            for n in range(12)
        ],
        placement=10,
    )
    slack.workspace.clock = clock
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'big.db'}", content, clock)
    slack.connect(eddy.target)
    try:
        learn(slack, SAM, "start big")
        [check] = lessons_to(slack, SAM)
        assert len([b for b in check.blocks if b["type"] == "actions"]) == 10
        for block in check.blocks:
            if block["type"] == "actions":
                slack.press_element(SAM, check, block, block["elements"][0])
        first = lessons_to(slack, SAM)[-1]
        assert "I know this" in buttons(first) and "Read more" in buttons(first)
        posts = slack.calls("chat.postMessage") + slack.calls("chat.update")
        assert posts and all(call.ok for call in posts), [c.response for c in posts]
    finally:
        eddy.close()


# --- learning records --------------------------------------------------------------------------


def test_placement_answers_and_lessons_known_are_learning_records(
    slack, instance, clock, database, tmp_path
):
    clock.advance(timedelta(hours=7))  # Monday 08:00 in Berlin
    learn(slack, SAM, "start placed")
    [check] = lessons_to(slack, SAM)
    for choice in ("one right", "three wrong", "four right"):
        slack.press(SAM, check, choice)
    first = lessons_to(slack, SAM)[-1]  # lesson two: known with I know this
    slack.press(SAM, first, "I know this")
    statements = export(database, tmp_path)
    for statement in statements:
        validate(statement)
    placement = [
        s
        for s in statements
        if s["verb"]["display"]["en-US"] == "answered"
        and any(key.endswith("/placement") for key in s["context"].get("extensions", {}))
    ]
    assert sorted(
        (s["object"]["id"].split("/lessons/")[1], s["result"]["success"]) for s in placement
    ) == [("four/quiz", True), ("one/quiz", True), ("three/quiz", False)]
    skipped = [s for s in statements if s["verb"]["display"]["en-US"] == "skipped"]
    assert {s["verb"]["id"] for s in skipped} == {"http://id.tincanapi.com/verb/skipped"}
    assert sorted(s["object"]["id"].split("/lessons/")[1] for s in skipped) == [
        "four",
        "one",
        "two",
    ]
    assert all(s["actor"]["account"]["name"] == SAM for s in skipped)
