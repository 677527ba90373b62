"""Team reports, through the front door: five people on Security basics (three who chose it,
two it was assigned to, one of them overdue), lessons delivered on their own schedules and
quizzes answered at pinned times; then the Home console's Learning tab for a manager (for
everyone, and for @support-team), refused to anyone else, and the same figures as CSV from
`app.py export learning`."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot import lessons
from bot.clock import ManualClock
from bot.learning_reports import lesson_days_between
from handlers import home as home_handlers
from handlers import learning_reports as report_handlers
from sandbox import SlackStandIn
from sandbox.workspace import User
from tests.conftest import ALEX, GENERAL, KIM, RIO, ROOT, SAM, Instance
from tests.test_cli import eddy as eddy_cli
from tests.test_cli import one_sentence
from tests.test_home import forge, seen
from tests.test_lessons import learn, lessons_to, run_deliveries

PATH = "security-basics"
LEE, MAY = "U0LEE0005", "U0MAY0006"
#: Monday 23 November 2026, 12:00 UTC.
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    return folder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def answer(slack: SlackStandIn, instance: Instance, user: str, number: int, right: bool) -> None:
    """`user` answers lesson `number`'s quiz in the latest lesson message that asks it."""
    lesson = instance.runtime.catalogue.paths[PATH].lessons[number - 1]
    assert lesson.quiz is not None
    wanted = lesson.quiz.answer if right else (lesson.quiz.answer + 1) % len(lesson.quiz.options)
    for message in reversed(lessons_to(slack, user)):
        for block, element in slack.elements(message.blocks):
            value = json.loads(element.get("value") or "{}") if element.get("value") else {}
            if value.get("l") == lesson.id and value.get("o") == wanted:
                slack.press_element(user, message, block, element)
                return
    raise AssertionError(f"{user} has no unanswered lesson {number}")


def assign(instance: Instance, user: str, tz: str, due_on: date, clock: ManualClock) -> None:
    """The path assigned to `user` (lessons from their next slot, a due date)."""
    path = instance.runtime.catalogue.paths[PATH]
    lessons.enrol(
        instance.runtime,
        user,
        path,
        tz=tz,
        now=clock.now(),
        origin=lessons.rows.ASSIGNED,
        due_on=due_on,
    )


@pytest.fixture
def learning(slack: SlackStandIn, instance: Instance, clock: ManualClock) -> Instance:
    """Four days of Security basics (Monday noon to Thursday noon, UTC):
    - Rio chose it on Monday and did every lesson by Tuesday noon (one day);
    - Lee chose it on Monday, had a lesson a day, did the rest on Thursday noon (three days);
    - Sam chose it on Monday and answered Monday's and Tuesday's lessons (and a review);
    - Kim (Tokyo, @support-team like Sam) was assigned it, due Friday: two lessons done;
    - May (London) was assigned it, due Tuesday: two lessons done, so overdue.
    Lesson 2's quiz is missed by four of five; lesson 1's by one of five."""
    for person in (
        User(LEE, "lee", "Lee Park", "Europe/Berlin"),
        User(MAY, "may", "May Jones", "Europe/London"),
    ):
        slack.workspace.add_user(person)
        slack.workspace.channels[GENERAL].members.add(person.id)
    for person in (SAM, LEE, RIO):
        learn(slack, person, f"start {PATH}")
    answer(slack, instance, SAM, 1, right=False)
    answer(slack, instance, LEE, 1, right=True)
    answer(slack, instance, RIO, 1, right=True)
    assign(instance, KIM, "Asia/Tokyo", date(2026, 11, 27), clock)
    assign(instance, MAY, "Europe/London", date(2026, 11, 24), clock)
    for number in range(2, 8):  # Rio asks for the rest, one every four hours
        run_deliveries(instance, clock, hours=4)
        assert "Your next lesson" in learn(slack, RIO, "next")
        answer(slack, instance, RIO, number, right=True)
    assert clock.now() == START + timedelta(days=1)
    answer(slack, instance, SAM, 1, right=True)  # the review of Monday's miss: not counted
    answer(slack, instance, SAM, 2, right=False)
    answer(slack, instance, LEE, 2, right=False)
    answer(slack, instance, KIM, 1, right=True)
    answer(slack, instance, MAY, 1, right=True)
    run_deliveries(instance, clock, hours=24)
    answer(slack, instance, KIM, 2, right=False)
    answer(slack, instance, MAY, 2, right=False)
    answer(slack, instance, LEE, 3, right=True)
    run_deliveries(instance, clock, hours=24)
    assert clock.now() == START + timedelta(days=3)
    answer(slack, instance, LEE, 4, right=True)
    for number in (5, 6, 7):
        learn(slack, LEE, "next")
        answer(slack, instance, LEE, number, right=True)
    return instance


def learning_tab(slack: SlackStandIn, user: str = ALEX):
    home = slack.open_home(user)
    slack.press(user, home, "Learning")
    return slack.home(user)


def lines_of(view) -> str:
    return seen(view)


def test_a_manager_sees_the_paths_figures_hardest_items_first_and_the_funnel(slack, learning):
    view = learning_tab(slack)
    text = lines_of(view)
    assert "*Security basics* · everyone" in text
    assert "*Enrolled:* 5 (2 assigned · 3 chose it)" in text
    assert "*Completed:* 2 (40%) · *On track:* 1 · *Behind:* 1 · *Overdue:* 1" in text
    assert "*Median time to complete:* 2.0 days" in text
    assert f"*Overdue:* <@{MAY}>" in text and f"*Behind:* <@{KIM}>" in text
    items = [line for line in text.splitlines() if "lesson " in line and "“" in line]
    # Lesson 2 is the hardest (one right of five), then lesson 1 (four of five; Sam's right
    # review is not a first answer), then the items too few people answered.
    assert items[0].startswith("`▰▱▱▱▱` *20%* right of 5 answers · lesson 2,")
    assert items[1].startswith("`▰▰▰▰▱` *80%* right of 5 answers · lesson 1,")
    assert all(line.startswith("_too few answers to judge (2)_") for line in items[2:])
    assert len(items) == 7
    funnel = [line for line in text.splitlines() if " done · " in line]
    assert [line.split("` ")[1].split(" ·")[0] for line in funnel] == [
        "5 of 5 done",
        "5 of 5 done",
        "2 of 5 done",
        "2 of 5 done",
        "2 of 5 done",
        "2 of 5 done",
        "2 of 5 done",
    ]


def test_a_team_narrows_every_figure_to_its_members(slack, learning):
    view = learning_tab(slack)
    slack.enter(ALEX, view, report_handlers.REPORT_TEAM, "@support-team")
    text = lines_of(slack.home(ALEX))
    assert "*Security basics* · @support-team (2 members)" in text
    assert "*Enrolled:* 2 (1 assigned · 1 chose it)" in text
    assert "*Completed:* 0 (0%) · *On track:* 1 · *Behind:* 1 · *Overdue:* 0" in text
    assert "*Median time to complete:* — (none yet)" in text
    assert "20%" not in text  # too few of the team answered lesson 2 to judge it
    assert "_too few answers to judge (2)_ · lesson 1," in text
    calls = [call.method for call in slack.calls() if call.method.startswith("usergroups.")]
    assert calls == ["usergroups.list", "usergroups.users.list"]

    slack.enter(ALEX, slack.home(ALEX), report_handlers.REPORT_TEAM, "#random")
    assert "*Security basics* · #random (4 members)" in lines_of(slack.home(ALEX))
    assert "*Enrolled:* 3 (1 assigned · 2 chose it)" in lines_of(slack.home(ALEX))

    slack.enter(ALEX, slack.home(ALEX), report_handlers.REPORT_TEAM, "@nobody-here")
    assert "I found no team “@nobody-here”" in lines_of(slack.home(ALEX))
    slack.press(ALEX, slack.home(ALEX), "Everyone")
    assert "*Enrolled:* 5" in lines_of(slack.home(ALEX))


def test_a_team_slack_will_not_show_is_explained(slack, learning):
    slack.api.scopes = set(slack.api.scopes or ()) - {"usergroups:read"}  # an old install
    slack.enter(ALEX, learning_tab(slack), report_handlers.REPORT_TEAM, "@support-team")
    text = lines_of(slack.home(ALEX))
    assert "Eddy needs Slack's usergroups:read permission" in text and "manifest.yml" in text
    assert "*Security basics* · everyone" in text


def test_another_path_is_chosen_from_the_select(slack, learning):
    view = learning_tab(slack)
    slack.choose(ALEX, view, report_handlers.REPORT_PATH, "Giving feedback")
    text = lines_of(slack.home(ALEX))
    assert "*Giving feedback* · everyone" in text and "Nobody is on this path yet." in text


def test_nobody_else_sees_the_report_or_any_of_it(slack, learning):
    for person in (SAM, RIO):
        home = slack.open_home(person)
        assert "Learning" not in [b["text"]["text"] for _, b in slack.buttons(home.blocks)]
        text = lines_of(home)
        assert "Enrolled" not in text and f"<@{MAY}>" not in text
    for action, value in (
        (home_handlers.TAB, "learning"),
        (report_handlers.REPORT_PATH, PATH),
        (report_handlers.REPORT_TEAM, "@support-team"),
        (report_handlers.REPORT_EVERYONE, "all"),
    ):
        forge(slack, SAM, action, value)
        text = lines_of(slack.home(SAM))
        assert home_handlers.CONSOLE_ONLY in text, action
        assert "Enrolled" not in text and f"<@{MAY}>" not in text
    assert not [c for c in slack.calls() if c.method.startswith("usergroups.")]
    # Sam's own record stays his to see.
    assert "Security basics* ▰▰▱▱▱▱▱ 2/7" in learn(slack, SAM, "me")


def test_a_long_path_stays_within_slacks_limits(slack, instance, content, clock):
    """Sixty lessons with long titles and questions: every lesson and item is shown, in
    sections Slack takes (the stand-in refuses a section over 3,000 characters)."""
    lessons_file = content / "lessons" / "long-path.yml"
    lessons_file.write_text(
        yaml.safe_dump(
            {
                "title": "A long path",
                "lessons": [
                    {
                        "id": f"lesson-{number}",
                        "title": f"Lesson {number} " + "with a long title " * 7,
                        "minutes": 1,
                        "body": "Read this.",
                        "quiz": {
                            "question": f"Question {number}? " + "Think it over. " * 18,
                            "options": ["This one", "That one"],
                            "answer": 1,
                        },
                    }
                    for number in range(1, 61)
                ],
            }
        )
    )
    instance.runtime.catalogue.refresh(instance.runtime)
    learn(slack, SAM, "start long-path")
    view = learning_tab(slack)
    assert len(view.blocks) < 100
    text = lines_of(view)
    assert "*A long path* · everyone" in text and "*Enrolled:* 1 (1 chose it)" in text
    assert text.count("_too few answers to judge") == 60
    assert "60. `" in text and " 0 of 1 done · Lesson 60 " in text


# --- CSV ----------------------------------------------------------------------------------------


def export(tmp_path: Path, database: str, clock: ManualClock, *args: str, **env: str):
    return eddy_cli(
        "export",
        "learning",
        *args,
        cwd=tmp_path,
        DATABASE_URL=database,
        EDDY_CLOCK=clock.now().isoformat(),
        **env,
    )


def test_the_csv_has_a_row_per_enrolled_person_and_the_same_standings(
    slack, learning, database, clock, tmp_path
):
    result = export(tmp_path, database, clock, "--path", PATH)
    assert result.returncode == 0, result.stderr
    rows = {row["user_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert set(rows) == {SAM, LEE, RIO, KIM, MAY}
    assert rows[MAY]["overdue"] == "yes" and rows[MAY]["due"] == "2026-11-24"
    assert rows[MAY]["origin"] == "assigned" and rows[SAM]["origin"] == "self"
    assert [rows[p]["standing"] for p in (RIO, LEE, SAM, KIM)] == [
        "completed",
        "completed",
        "on track",
        "behind",
    ]
    assert rows[RIO]["completed_at"] == "2026-11-24T12:00:00+00:00"
    assert (rows[LEE]["lessons_done"], rows[LEE]["lessons_total"]) == ("7", "7")
    assert rows[SAM]["lessons_done"] == "2" and rows[SAM]["quiz_accuracy"] == "0.00"
    assert rows[LEE]["quiz_accuracy"] == "0.86"  # six of seven first answers right
    assert rows[SAM]["name"] == ""  # no Slack token: names are not looked up

    items = export(tmp_path, database, clock, "--path", "Security basics", "--items")
    assert items.returncode == 0, items.stderr
    found = list(csv.DictReader(io.StringIO(items.stdout)))
    assert [(row["number"], row["accuracy"]) for row in found if row["kind"] == "item"][:2] == [
        ("2", "0.20"),
        ("1", "0.80"),
    ]
    assert [row["done"] for row in found if row["kind"] == "funnel"] == ["5", "5"] + ["2"] * 5


def test_the_csv_for_a_group_asks_slack_who_is_in_it(slack, learning, database, clock, tmp_path):
    slack_env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url}
    result = export(
        tmp_path, database, clock, "--path", PATH, "--group", "@support-team", **slack_env
    )
    assert result.returncode == 0, result.stderr
    rows = {row["user_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert set(rows) == {SAM, KIM}
    assert rows[SAM]["name"] == "Sam Okafor" and rows[KIM]["standing"] == "behind"
    channel = export(tmp_path, database, clock, "--path", PATH, "--channel", "#random", **slack_env)
    assert {row["user_id"] for row in csv.DictReader(io.StringIO(channel.stdout))} == {
        SAM,
        KIM,
        RIO,
    }


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (("--path", "cooking"), {}, "No learning path called 'cooking'"),
        (("--path", PATH, "--group", "@support-team"), {}, "needs SLACK_BOT_TOKEN"),
        (
            ("--path", PATH, "--group", "@support-team", "--channel", "#random"),
            {},
            "either --group or --channel",
        ),
        (("--path", PATH, "--group", "support-team"), {}, "like @support-team"),
    ],
)
def test_the_csv_explains_what_it_cannot_do_in_one_sentence(
    slack, learning, database, clock, tmp_path, args, env, said
):
    assert said in one_sentence(export(tmp_path, database, clock, *args, **env), "Nothing was done")


def test_the_csv_for_an_unknown_group_or_without_a_database_says_so(
    slack, learning, database, clock, tmp_path
):
    slack_env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url}
    unknown = export(tmp_path, database, clock, "--path", PATH, "--group", "@nobody", **slack_env)
    assert "Slack knows no user group @nobody" in one_sentence(unknown, "Nothing was done")
    empty = export(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", clock, "--path", PATH)
    assert "has not met its Slack workspace yet" in one_sentence(empty, "Nothing was done")


def test_lesson_days_are_counted_on_the_persons_own_weekdays():
    weekdays = frozenset(range(5))
    monday, friday = date(2026, 11, 23), date(2026, 11, 27)
    assert lesson_days_between(weekdays, monday, friday) == 4
    assert lesson_days_between(weekdays, monday, friday + timedelta(days=14)) == 14
    assert lesson_days_between(frozenset({0}), monday, monday + timedelta(days=21)) == 3
    assert lesson_days_between(weekdays, friday, monday) == 0
