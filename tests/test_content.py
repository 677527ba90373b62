"""`content check` and the knowledge loader: every problem with its file and line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import frontmatter
import pytest
import yaml

from bot.content.badge_rules import load_badge_rules
from bot.content.check import check_content
from bot.content.entries import load_knowledge
from bot.content.lesson_paths import load_paths
from bot.content.networks import (
    DEFAULT_ESCALATION,
    NOTIFY_MANAGERS,
    NOTIFY_NETWORK,
    EscalationTier,
    Topic,
    load_networks,
)
from tests.conftest import ROOT

NETWORKS = """\
topics:
  - key: it-help
    name: IT help
  - key: people
    name: People team
"""
GOOD = """\
---
title: Reset your VPN password
questions:
  - vpn says my password expired
tags: [it, vpn]
topic: it-help
reviewed: 2026-10-01
---
Open the **IT portal** and choose *Reset password*.
"""


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def content(tmp_path: Path) -> Path:
    write(tmp_path, "networks.yml", NETWORKS)
    write(tmp_path, "knowledge/it/reset-vpn-password.md", GOOD)
    return tmp_path


def messages(folder: Path) -> list[str]:
    return [str(problem) for problem in check_content(folder)]


def test_a_good_entry_loads_with_every_field(content):
    loaded = load_knowledge(content)
    assert loaded.problems == []
    (entry,) = loaded.entries
    assert entry.slug == "reset-vpn-password"
    assert entry.title == "Reset your VPN password"
    assert entry.questions == ("vpn says my password expired",)
    assert entry.tags == ("it", "vpn")
    assert entry.topic == "it-help"
    assert entry.reviewed == date(2026, 10, 1)
    assert entry.body.startswith("Open the **IT portal**")


def test_bad_yaml_is_named_with_file_and_line(content):
    path = write(content, "knowledge/hr/time-off.md", "---\ntitle: Time off\ntags: [hr\n---\nBody")
    assert messages(content) == [
        f"{path}:4: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ] or messages(content)[0].startswith(f"{path}:")


def test_a_missing_title_is_named(content):
    path = write(
        content, "knowledge/hr/payslips.md", "---\ntags: [hr]\n---\nFind them in the HR system."
    )
    assert messages(content) == [f"{path}:1: missing title: add `title: …` to the front matter"]


def test_an_unknown_topic_points_at_its_line(content):
    path = write(
        content,
        "knowledge/hr/payslips.md",
        "---\ntitle: Payslips\ntags: [hr]\ntopic: payroll\n---\nIn the HR system.",
    )
    (message,) = messages(content)
    assert message.startswith(f"{path}:4: unknown topic `payroll`")
    assert "it-help, people" in message


def test_an_empty_body_points_below_the_front_matter(content):
    path = write(content, "knowledge/hr/payslips.md", "---\ntitle: Payslips\n---\n\n")
    assert messages(content) == [f"{path}:4: empty body: write the answer below the `---`"]


def test_a_duplicate_slug_names_both_files(content):
    first = content / "knowledge/it/reset-vpn-password.md"
    second = write(content, "knowledge/tools/reset-vpn-password.md", GOOD)
    (message,) = messages(content)
    assert message.startswith(f"{second}:1: duplicate slug `reset-vpn-password`")
    assert str(first) in message


def test_typos_in_field_names_and_bad_values_are_caught(content):
    path = write(
        content,
        "knowledge/it/wifi.md",
        "---\ntittle: Wifi\ntitle: Guest wifi\nowner: alex\nreviewed: last week\n---\nAsk.",
    )
    assert messages(content) == [
        f"{path}:2: unknown field `tittle` (known: owner, questions, reviewed, tags, title, topic)",
        f"{path}:4: owner `alex` is not a Slack user ID like U012ABCDEF",
        f"{path}:5: reviewed `last week` is not a date like 2026-10-01",
    ]


def test_a_broken_file_is_listed_as_broken_and_the_rest_still_loads(content):
    write(content, "knowledge/hr/payslips.md", "---\ntitle: [unclosed\n---\nBody")
    loaded = load_knowledge(content)
    assert [e.slug for e in loaded.entries] == ["reset-vpn-password"]
    assert loaded.broken == {"payslips"}


def test_a_topic_without_networks_yml_is_a_problem(tmp_path):
    path = write(tmp_path, "knowledge/it/reset-vpn-password.md", GOOD)
    (message,) = messages(tmp_path)
    assert message.startswith(
        f"{path}:6: unknown topic `it-help`: there is no networks.yml with topics"
    )


def test_content_check_on_the_command_line_lists_problems_and_exits_1(content):
    write(content, "knowledge/hr/payslips.md", "---\ntags: [hr]\n---\nIn the HR system.")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "content", "check", str(content)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "payslips.md:1: missing title" in result.stdout
    assert "1 problem in" in result.stdout


def test_the_shipped_content_is_clean():
    assert messages(ROOT / "content") == []


FULL_TOPIC = """\
topics:
  - key: it-help
    name: IT help
    description: Laptops, accounts and VPN.
    keywords: [Laptop, " VPN ", 2024]
    tags: [vpn, wifi]
    channel: C0ITHELP1
    managers: [U0ALEX001, W0SAM0002]
    experts_per_question: 5
    escalation:
      - after_hours: 0.5
        notify: network
      - after_hours: 4
        notify: managers
"""


def networks(folder: Path, text: str) -> tuple[Path, list[str]]:
    """Write networks.yml and return it with the messages `content check` gives for it."""
    path = write(folder, "networks.yml", text)
    return path, messages(folder)


def test_a_fully_specified_topic_loads_with_every_field(tmp_path):
    write(tmp_path, "networks.yml", FULL_TOPIC)
    loaded = load_networks(tmp_path)
    assert loaded.problems == []
    assert loaded.broken == set()
    assert loaded.topics == [
        Topic(
            key="it-help",
            name="IT help",
            description="Laptops, accounts and VPN.",
            keywords=("laptop", "vpn", "2024", "wifi"),
            channel="C0ITHELP1",
            managers=("U0ALEX001", "W0SAM0002"),
            experts_per_question=5,
            escalation=(
                EscalationTier(timedelta(minutes=30), NOTIFY_NETWORK),
                EscalationTier(timedelta(hours=4), NOTIFY_MANAGERS),
            ),
        )
    ]


def test_a_minimal_topic_gets_the_defaults(tmp_path):
    write(tmp_path, "networks.yml", "topics:\n  - key: people\n    name: People team\n")
    (topic,) = load_networks(tmp_path).topics or []
    assert topic == Topic(key="people", name="People team")
    assert topic.experts_per_question == 3
    assert (
        topic.escalation
        == DEFAULT_ESCALATION
        == (
            EscalationTier(timedelta(hours=2), "network"),
            EscalationTier(timedelta(hours=24), "managers"),
        )
    )


def test_an_empty_escalation_list_means_never_escalate(tmp_path):
    write(tmp_path, "networks.yml", NETWORKS + "    escalation: []\n")
    loaded = load_networks(tmp_path)
    assert loaded.problems == []
    assert [t.escalation for t in loaded.topics or []] == [DEFAULT_ESCALATION, ()]


def test_without_networks_yml_there_are_no_topics(tmp_path):
    assert load_networks(tmp_path).topics is None


@pytest.mark.parametrize(
    ("field", "line", "message"),
    [
        (
            "channel: '#it-help'",
            4,
            "topic `it-help`: `channel` needs a channel ID like C012AB3CD, not `#it-help` "
            "(in Slack: open the channel's details, the ID is at the bottom)",
        ),
        (
            "experts_per_question: 0",
            4,
            "topic `it-help`: `experts_per_question` must be a whole number from 1 to 10",
        ),
        (
            "owner: U0ALEX001",
            4,
            "topic `it-help`: unknown field `owner` (known: channel, description, escalation, "
            "experts_per_question, key, keywords, managers, name, tags)",
        ),
        (
            "keywords: [vpn, yes]",
            4,
            "topic `it-help`: `keywords` item 2 must be a short text (put it in quotes)",
        ),
        (
            "escalation:",
            4,
            "topic `it-help`: `escalation` must be a list of tiers "
            "(`escalation: []` never escalates)",
        ),
    ],
)
def test_a_bad_topic_field_points_at_its_line(tmp_path, field, line, message):
    path, found = networks(
        tmp_path, NETWORKS.replace("    name: IT help\n", f"    name: IT help\n    {field}\n")
    )
    assert found == [f"{path}:{line}: {message}"]


def test_a_bad_manager_id_points_at_its_item(tmp_path):
    path, found = networks(
        tmp_path,
        "topics:\n  - key: people\n    name: People\n    managers:\n"
        "      - U0ALEX001\n      - alex\n",
    )
    assert found == [
        f"{path}:6: topic `people`: manager `alex` is not a Slack user ID like U012ABCDEF"
    ]


ESCALATION = """\
topics:
  - key: security
    name: Security
    escalation:
      - after_hours: {first}
        notify: {notify}
      - after_hours: {second}
        notify: managers
"""


@pytest.mark.parametrize(
    ("first", "notify", "second", "line", "message"),
    [
        (
            8,
            "network",
            8,
            7,
            "topic `security`: escalation tier 2 `after_hours` must be greater than "
            "tier 1's 8 hours",
        ),
        (
            1,
            "team",
            8,
            6,
            "topic `security`: escalation tier 1 `notify` must be `network` or `managers`, "
            "not `team`",
        ),
        (
            1,
            "network",
            0,
            7,
            "topic `security`: escalation tier 2 `after_hours` must be a number of hours "
            "greater than 0",
        ),
        (
            "two",
            "network",
            8,
            5,
            "topic `security`: escalation tier 1 `after_hours` must be a number of hours "
            "greater than 0",
        ),
    ],
)
def test_a_bad_escalation_tier_points_at_its_line(tmp_path, first, notify, second, line, message):
    text = ESCALATION.format(first=first, notify=notify, second=second)
    path, found = networks(tmp_path, text)
    assert found == [f"{path}:{line}: {message}"]


def test_more_than_five_tiers_points_at_the_sixth(tmp_path):
    tiers = "".join(f"      - {{after_hours: {hours}, notify: network}}\n" for hours in range(1, 7))
    path, found = networks(
        tmp_path, f"topics:\n  - key: security\n    name: Security\n    escalation:\n{tiers}"
    )
    assert found == [f"{path}:10: topic `security`: `escalation` has 6 tiers; keep it to at most 5"]


def test_every_problem_of_a_topic_is_listed_in_line_order(tmp_path):
    path, found = networks(
        tmp_path,
        "topics:\n"
        "  - key: security\n"
        "    channel: security\n"
        "    escalation:\n"
        "      - {after_hours: 1, notify: network, when: weekdays}\n"
        "      - notify: managers\n"
        "  - key: Security Team\n"
        "    name: Security\n"
        "  - just a string\n",
    )
    assert found == [
        f"{path}:2: topic `security` needs a `name`, a short text like IT help",
        f"{path}:3: topic `security`: `channel` needs a channel ID like C012AB3CD, not "
        "`security` (in Slack: open the channel's details, the ID is at the bottom)",
        f"{path}:5: topic `security`: escalation tier 1 has an unknown field `when` "
        "(known: after_hours, notify)",
        f"{path}:6: topic `security`: escalation tier 2 needs `after_hours`, a number of hours "
        "greater than 0",
        f"{path}:7: topic key `Security Team` must be lowercase letters, digits and hyphens, "
        "like it-help",
        f"{path}:9: topic 3 must be `key: …` and `name: …` lines",
    ]


def test_a_duplicate_topic_is_named_with_the_first_line(tmp_path):
    path, found = networks(tmp_path, NETWORKS + "  - key: it-help\n    name: IT again\n")
    assert found == [f"{path}:6: topic `it-help` is already defined at line 2"]
    loaded = load_networks(tmp_path)
    assert [t.key for t in loaded.topics or []] == ["people"]
    assert loaded.broken == {"it-help"}


def test_a_broken_topic_is_listed_as_broken_and_the_rest_still_load(content):
    write(content, "networks.yml", NETWORKS + "    experts_per_question: 0\n")
    loaded = load_networks(content)
    assert [t.key for t in loaded.topics or []] == ["it-help"]
    assert loaded.broken == {"people"}


def test_entries_of_a_broken_topic_are_not_problems(content):
    path = write(
        content,
        "networks.yml",
        NETWORKS.replace("name: IT help", "name: IT help\n    colour: blue"),
    )
    loaded = load_knowledge(content)
    assert [e.slug for e in loaded.entries] == ["reset-vpn-password"]
    assert [str(p) for p in loaded.problems] == [
        f"{path}:4: topic `it-help`: unknown field `colour` (known: channel, description, "
        "escalation, experts_per_question, key, keywords, managers, name, tags)"
    ]
    assert messages(content) == [str(p) for p in loaded.problems]


def test_invalid_yaml_in_networks_yml_makes_every_topic_unusable(tmp_path):
    path, found = networks(tmp_path, "topics:\n  - key: it-help\n    name: [IT\n")
    (message,) = found
    assert message.startswith(f"{path}:4: invalid YAML:")
    loaded = load_networks(tmp_path)
    assert (loaded.topics, loaded.broken) == ([], set())


@pytest.mark.parametrize("text", ["- key: it-help\n", "topics: it-help\n", ""])
def test_networks_yml_without_a_topics_list_is_one_problem_at_line_1(tmp_path, text):
    path, found = networks(tmp_path, text)
    assert found == [f"{path}:1: expected a `topics:` list"]


def test_content_check_on_the_command_line_names_a_networks_problem(content):
    path = write(content, "networks.yml", NETWORKS + "    channel: '#people'\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "content", "check", str(content)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{path}:6: topic `people`: `channel` needs a channel ID like C012AB3CD" in result.stdout
    assert "1 problem in" in result.stdout


# --- learning paths ---------------------------------------------------------------------------

GOOD_PATH = """\
title: Tiny path
description: Two lessons.
audience: [everyone]
lessons:
  - id: one
    title: First
    minutes: 2
    body: Read this.
    quiz:
      question: Which?
      options: [This, That]
      answer: 1
      explanation: Because.
  - id: two
    title: Second
    minutes: 1
    body: And this.
"""


def assert_problem_at(folder: Path, path: Path, line: int, message: str) -> None:
    """`content check` of `folder` names `message` at `path`:`line`."""
    problems = [str(p) for p in check_content(folder)]
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems


def write_path(folder: Path, text: str, name: str = "tiny.yml") -> Path:
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    path = folder / "lessons" / name
    path.write_text(text)
    return path


def test_a_good_path_loads_with_its_lessons_and_quiz(tmp_path):
    write_path(tmp_path, GOOD_PATH)
    loaded = load_paths(tmp_path)
    assert loaded.problems == []
    [path] = loaded.paths
    assert (path.id, path.title, path.audience, path.minutes) == (
        "tiny",
        "Tiny path",
        ("everyone",),
        3,
    )
    quiz = path.lessons[0].quiz
    assert quiz is not None and quiz.right_option == "This" and path.lessons[1].quiz is None


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("minutes: 2", "minutes: 9", 7, "lesson `one`: `minutes` must be a whole number"),
        ("    body: Read this.\n", "", 5, "lesson `one` needs a `body`"),
        ("    minutes: 1", "    minute: 1", 16, "lesson `two`: unknown field `minute`"),
        ("id: two", "id: one", 14, "lesson `one` is already defined at line 5"),
        ("answer: 1", "answer: 3", 12, "quiz `answer` is 3, but there are 2 options"),
        ("[This, That]", "[This]", 11, "quiz needs `options`: a list of 2 to 5 answers"),
        ("[This, That]", "[This, This]", 11, "quiz options must all be different"),
        ("title: Tiny path", "title:", 1, "the path needs a `title`"),
        ("description: Two lessons.", "id: other", 2, "`id` is `other` but the file is tiny.yml"),
        ("    quiz:", "    quiz: [", 10, "invalid YAML"),
    ],
)
def test_a_bad_lesson_or_quiz_points_at_its_line(tmp_path, old, new, line, message):
    assert old in GOOD_PATH
    path = write_path(tmp_path, GOOD_PATH.replace(old, new))
    assert_problem_at(tmp_path, path, line, message)


def test_a_broken_quiz_leaves_the_lesson_and_the_rest_of_the_path(tmp_path):
    write_path(tmp_path, GOOD_PATH.replace("answer: 1", "answer: 7"))
    loaded = load_paths(tmp_path)
    [path] = loaded.paths
    assert [lesson.id for lesson in path.lessons] == ["one", "two"]
    assert path.lessons[0].quiz is None and loaded.broken_lessons == {"tiny": {"one"}}


# --- badge rules ------------------------------------------------------------------------------

GOOD_BADGES = """\
timezone: Europe/Berlin
daily_budget: 12
shout_out_channel: C0KUDOS01
points:
  - emoji: [white_check_mark, heavy_check_mark]
    points: 3
    means: this answered my question
  - emoji: [":pray:"]
    points: 2
badges:
  - id: first
    name: First thanks
    emoji: seedling
    description: Someone found you helpful.
    when: {points: 1}
  - id: solver
    name: Problem solver
    emoji: white_check_mark
    description: Answers people needed.
    when: {points: 9, emoji: heavy_check_mark}
  - id: helmet
    name: First responder
    emoji: rescue_worker_helmet
    description: An answer to a routed question.
    when: {expert_answers: 1}
"""


def write_badges(folder: Path, text: str) -> Path:
    path = folder / "badges.yml"
    path.write_text(text)
    return path


def test_good_badge_rules_load_with_every_setting(tmp_path):
    write_badges(tmp_path, GOOD_BADGES)
    loaded = load_badge_rules(tmp_path)
    assert loaded.problems == [] and loaded.rules is not None
    rules = loaded.rules
    assert (rules.timezone, rules.daily_budget, rules.shout_out_channel) == (
        "Europe/Berlin",
        12,
        "C0KUDOS01",
    )
    assert rules.rule_for(":pray:") == rules.rule_for("pray") and rules.rule_for("joy") is None
    check = rules.rule_for("heavy_check_mark::skin-tone-2")
    assert check is not None and check.points == 3 and check.key == "white_check_mark"
    assert [badge.criterion() for badge in rules.badges] == [
        "your first point from a colleague's reaction",
        "9 points from :heavy_check_mark:",
        "your first answer to a routed question",
    ]


def test_without_badges_yml_there_are_no_rules(tmp_path):
    assert load_badge_rules(tmp_path).rules is None


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("timezone: Europe/Berlin", "timezone: Mars/Olympus", 1, "`timezone` must be a time zone"),
        ("daily_budget: 12", "daily_budget: lots", 2, "`daily_budget` must be a whole number"),
        ("C0KUDOS01", "#kudos", 3, "`shout_out_channel` must be a channel ID like C012AB3CD"),
        ("    points: 3", "    points: 30", 6, "points rule :white_check_mark:: `points` must be"),
        ('[":pray:"]', '["two words"]', 8, "`emoji` must be a list of emoji names"),
        (
            '[":pray:"]',
            "[heavy_check_mark]",
            8,
            ":heavy_check_mark: already gives points at line 5",
        ),
        ("    means: this", "    meaning: this", 7, "unknown field `meaning` (known: emoji, means"),
        ("{points: 1}", "{points: 1, streak_days: 3}", 15, "`when` needs exactly one of points"),
        ("{points: 1}", "{karma: 1}", 15, "`when` has an unknown measure `karma`"),
        ("emoji: heavy_check_mark}", "emoji: tada}", 20, ":tada: gives no points"),
        ("{expert_answers: 1}", "{expert_answers: 0}", 25, "`when` `expert_answers` must be"),
        ("id: helmet", "id: first", 21, "badge `first` is already defined at line 11"),
        ("    name: Problem solver\n", "", 16, "badge `solver` needs a `name`"),
        ("badges:", "badgez:", 10, "unknown setting `badgez`"),
        ("points:\n  - emoji", "points: [\n  - emoji", 5, "invalid YAML"),
    ],
)
def test_a_bad_badge_rule_points_at_its_line(tmp_path, old, new, line, message):
    assert old in GOOD_BADGES
    path = write_badges(tmp_path, GOOD_BADGES.replace(old, new))
    assert_problem_at(tmp_path, path, line, message)


def test_a_broken_badge_is_left_out_and_the_rest_load(tmp_path):
    write_badges(tmp_path, GOOD_BADGES.replace("{points: 9, emoji", "{points: -1, emoji"))
    loaded = load_badge_rules(tmp_path)
    assert loaded.rules is not None
    assert [badge.id for badge in loaded.rules.badges] == ["first", "helmet"]
    assert loaded.broken == {"badge:solver"} and len(loaded.rules.points) == 2


def test_the_shipped_badge_rules_are_clean():
    loaded = load_badge_rules(ROOT / "content")
    assert loaded.problems == [] and loaded.rules is not None
    assert len(loaded.rules.badges) >= 10
    measures = {badge.measure for badge in loaded.rules.badges}
    assert measures == {
        "points",
        "expert_answers",
        "entries_accepted",
        "paths_completed",
        "streak_days",
    }


def dates_in(node: object) -> list[object]:
    """Every date or time a parsed YAML document holds, however deep."""
    if isinstance(node, date):
        return [node]
    if isinstance(node, dict):
        return [found for value in node.values() for found in dates_in(value)]
    if isinstance(node, list):
        return [found for item in node for found in dates_in(item)]
    return []


def test_shipped_content_carries_no_date_that_expires():
    """A company may install Eddy years after its starter content was written: nothing in it
    may be dated (a `reviewed:` date would put every entry in the review queue on day one;
    content/README.md says how a shipped entry's review clock starts)."""
    dated = {}
    for path in sorted((ROOT / "content").rglob("*")):
        if path.suffix == ".md" and path.name != "README.md":
            document = frontmatter.loads(path.read_text(encoding="utf-8")).metadata
        elif path.suffix in (".yml", ".yaml"):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            continue
        if found := dates_in(document):
            dated[str(path.relative_to(ROOT))] = found
    assert dated == {}


# --- content that must fit where Eddy puts it in Slack ------------------------------------------


def test_a_topic_key_longer_than_eddy_keeps_points_at_its_line(tmp_path):
    """A topic key is kept in 64-character columns (and is an option value in the
    Ask-the-experts form, which Slack takes up to 150)."""
    longest, too_long = "k" * 64, "k" * 65
    path, found = networks(
        tmp_path, f"topics:\n  - key: {longest}\n    name: Fits\n  - key: {too_long}\n    name: X\n"
    )
    assert found == [f"{path}:4: topic key is 65 characters; keep it to at most 64"]
    assert [topic.key for topic in load_networks(tmp_path).topics or []] == [longest]


def test_a_hundred_and_first_topic_points_at_its_line(tmp_path):
    topics = "".join(f"  - key: t{number}\n    name: Topic {number}\n" for number in range(101))
    path, found = networks(tmp_path, "topics:\n" + topics)
    assert found == [
        f"{path}:202: 101 topics: Slack's menus offer at most 100, so this topic and those after "
        "it could never be chosen in a form; merge some"
    ]


def test_a_path_id_longer_than_eddy_keeps_is_refused(tmp_path):
    """A path's id (its file name) is kept in 64-character columns (and is an option value
    in the schedule form's path menu)."""
    write_path(tmp_path, GOOD_PATH, name="p" * 64 + ".yml")
    path = write_path(tmp_path, GOOD_PATH, name="p" * 65 + ".yml")
    assert messages(tmp_path) == [
        f"{path}:1: the file name (the path's id) is 65 characters; keep it to at most 64"
    ]
    assert [p.id for p in load_paths(tmp_path).paths] == ["p" * 64]


def test_an_entry_slug_longer_than_eddy_keeps_is_refused(content):
    """An entry's slug (its file name) is kept in 120-character columns."""
    write(content, f"knowledge/it/{'s' * 120}.md", GOOD)
    long_name = write(content, f"knowledge/it/{'s' * 121}.md", GOOD)
    assert messages(content) == [
        f"{long_name}:1: the file name (the entry's slug) is 121 characters; keep it to at most 120"
    ]
    assert len(load_knowledge(content).entries) == 2


def test_a_hundred_and_first_path_is_named(tmp_path):
    for number in range(101):
        write_path(tmp_path, GOOD_PATH, name=f"path-{number:03d}.yml")
    assert messages(tmp_path) == [
        f"{tmp_path / 'lessons' / 'path-100.yml'}:1: 101 learning paths: Slack's menus offer at "
        "most 100, so this path and those after it could never be chosen in the schedule form"
    ]


def test_a_lesson_link_longer_than_a_button_url_points_at_its_line(tmp_path):
    link = "https://example.com/" + "a" * 2981
    path = write_path(
        tmp_path,
        GOOD_PATH.replace("    body: Read this.\n", f"    body: Read this.\n    link: {link}\n"),
    )
    assert_problem_at(
        tmp_path,
        path,
        9,
        "lesson `one`: `link` is longer than 3,000 characters, more than Slack takes for a "
        "button's link",
    )
    path.write_text(
        GOOD_PATH.replace(
            "    body: Read this.\n", f"    body: Read this.\n    link: {link[:-1]}\n"
        )
    )
    assert messages(tmp_path) == []


def test_an_answer_or_wordings_longer_than_the_edit_form_are_named(content):
    """An entry's answer and its other wordings fill the Edit form's inputs (3,000 at most);
    longer, an edit in Slack would cut them off."""
    fits = write(
        content, "knowledge/it/fits.md", GOOD.replace("Open the", "x" * 2948 + " Open the")
    )
    assert len(load_knowledge(content).entries) == 2 and fits.exists()
    long_body = write(
        content, "knowledge/it/long.md", GOOD.replace("Open the", "x" * 2949 + " Open the")
    )
    wordings = "".join(f"  - {'w' * 99} {number}\n" for number in range(30))
    many = write(
        content,
        "knowledge/it/many.md",
        GOOD.replace("  - vpn says my password expired\n", wordings),
    )
    assert messages(content) == [
        f"{long_body}:9: the answer is 3,001 characters; keep it to at most 3,000 (Slack's Edit "
        "form takes no more, and would cut it off)",
        f"{many}:3: `questions` come to 3,079 characters; keep them to at most 3,000 in all "
        "(Slack's Edit form takes no more)",
    ]
