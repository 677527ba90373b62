"""`content check` and the knowledge loader: every problem with its file and line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.content import check_content, load_knowledge
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
    assert "1 problem(s)" in result.stdout


def test_the_shipped_content_is_clean():
    assert messages(ROOT / "content") == []
