"""The command line as an operator meets it: settings problems, the database, content checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PINNED, ROOT

APP = str(ROOT / "app.py")


def eddy(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`app.py ARGS` in its own process, with only the settings given (and its clock pinned at
    the tests' instant unless `EDDY_CLOCK` says otherwise)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "EDDY_", "DATABASE_URL", "PORT"))
    } | {"EDDY_CLOCK": PINNED.isoformat()}
    return subprocess.run(
        [sys.executable, APP, *args],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def one_sentence(result: subprocess.CompletedProcess[str], lead: str = "Eddy cannot start") -> str:
    """The operator's answer: exit 2 and one sentence at the end, never a traceback; `lead`
    says what happened (only a command that starts Eddy says it cannot start)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert [line for line in lines if f"{lead}:" in line] == lines[-1:], result.stderr
    assert lead == "Eddy cannot start" or "cannot start" not in result.stderr
    return lines[-1]


@pytest.mark.parametrize(
    ("env", "named", "advice"),
    [
        ({}, "SLACK_BOT_TOKEN is not set", "OAuth & Permissions"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set", "Basic Information"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_BOT_TOKEN is not valid",
            "must start with xoxb-",
        ),
        ({"PORT": "eighty"}, "PORT is not valid (got 'eighty')", "between 1 and 65535"),
        ({"PORT": "70000"}, "PORT is not valid (got '70000')", "between 1 and 65535"),
        ({"EDDY_MANAGERS": "U012AB,alex"}, "EDDY_MANAGERS is not valid", "'alex' is not a Slack"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL is not valid", "postgresql://"),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL is not valid", "http(s) URL"),
        ({"EDDY_LOG_LEVEL": "chatty"}, "EDDY_LOG_LEVEL is not valid", "DEBUG, INFO"),
    ],
)
def test_a_bad_setting_stops_eddy_with_one_sentence(tmp_path, env, named, advice):
    sentence = one_sentence(eddy("run", "--mode", "http", cwd=tmp_path, **env))
    assert named in sentence
    assert advice in sentence


def test_secrets_are_never_repeated(tmp_path):
    sentence = one_sentence(
        eddy("run", "--mode", "http", cwd=tmp_path, SLACK_BOT_TOKEN="xoxp-very-secret-123")
    )
    assert "very-secret" not in sentence
    sentence = one_sentence(eddy("run", cwd=tmp_path, DATABASE_URL="mysql://u:hunter2@db/x"))
    assert "hunter2" not in sentence


def test_settings_come_from_dot_env_too(tmp_path):
    (tmp_path / ".env").write_text("# Eddy\nPORT=not-a-port\n")
    assert "PORT is not valid" in one_sentence(eddy("run", "--mode", "http", cwd=tmp_path))


def test_socket_mode_needs_its_app_token(tmp_path):
    sentence = one_sentence(eddy("run", "--mode", "socket", cwd=tmp_path))
    assert "SLACK_APP_TOKEN is not set" in sentence


def test_auto_mode_with_an_app_token_chooses_socket_mode(tmp_path):
    sentence = one_sentence(eddy("run", cwd=tmp_path, SLACK_APP_TOKEN="xapp-1-A1-2-abc"))
    assert "SLACK_BOT_TOKEN is not set" in sentence


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is not set"),
    ],
)
def test_auto_mode_with_any_slack_setting_means_slack_not_the_sandbox(tmp_path, env, named):
    """Issue 19: a half-configured Slack app is named, never quietly swapped for the
    console sandbox (which would exit 0 as if all were well)."""
    assert named in one_sentence(eddy(cwd=tmp_path, **env))
    assert named in one_sentence(eddy("run", cwd=tmp_path, **env))


def test_a_token_slack_refuses_stops_eddy_with_one_sentence(tmp_path, slack):
    sentence = one_sentence(
        eddy(
            "run",
            "--mode",
            "http",
            cwd=tmp_path,
            SLACK_BOT_TOKEN="xoxb-revoked",
            SLACK_SIGNING_SECRET="s",
            SLACK_API_URL=slack.api_url,
        )
    )
    assert "Slack refused SLACK_BOT_TOKEN" in sentence
    assert "invalid_auth" in sentence


def test_slack_out_of_reach_stops_eddy_with_one_sentence(tmp_path):
    sentence = one_sentence(
        eddy(
            "run",
            "--mode",
            "http",
            cwd=tmp_path,
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            SLACK_API_URL="http://127.0.0.1:9/api/",
        )
    )
    assert "Could not reach Slack at http://127.0.0.1:9/api/" in sentence


def test_a_database_out_of_reach_stops_eddy_with_one_sentence(tmp_path):
    sentence = one_sentence(
        eddy("db", "upgrade", cwd=tmp_path, DATABASE_URL="postgresql://eddy:pw@127.0.0.1:9/eddy"),
        "Nothing was done",
    )
    assert "Could not prepare the database" in sentence
    assert "check DATABASE_URL" in sentence
    assert ":pw@" not in sentence


def test_db_upgrade_creates_the_default_sqlite_file_under_data(tmp_path):
    result = eddy("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "eddy.db").is_file()
    assert "Database is up to date" in result.stderr


def test_content_check_names_file_and_line_and_fails(tmp_path):
    content = tmp_path / "content"
    (content / "lessons").mkdir(parents=True)
    (content / "good.yml").write_text("name: fine\n")
    (content / "lessons" / "broken.yml").write_text("title: ok\nquiz:\n  - a: 1\n   b: 2\n")
    result = eddy("content", "check", str(content), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{content / 'lessons' / 'broken.yml'}:4: invalid YAML" in result.stdout
    assert "good.yml" not in result.stdout


def test_content_check_passes_on_the_shipped_content(tmp_path):
    result = eddy("content", "check", str(ROOT / "content"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "all content is valid" in result.stdout


def test_importing_eddy_builds_no_app_and_calls_no_slack(slack, tmp_path):
    code = "import app, handlers, bot.scheduler, handlers.serve; print('imported')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"SLACK_API_URL": slack.api_url},
    )
    assert result.stdout.strip() == "imported", result.stderr
    assert slack.calls() == []
