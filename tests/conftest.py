"""Fixtures: each test gets Eddy on a fresh database, wired to a fresh Slack stand-in.

def test_something(slack, eddy):
    slack.command(ALEX, GENERAL, "/ask help")
    assert "Usage" in slack.ephemerals(ALEX)[-1].text
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings, load_settings
from handlers import create_app
from sandbox import BoltTarget, SlackStandIn
from sandbox.mrkdwn import sent_text_problems

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
SHARED = ROOT.parent / "shared"
SIGNING_SECRET = "sandbox-signing-secret-for-tests"

# The people and channels of the stand-in's sandbox workspace.
ALEX, SAM, KIM, RIO = "U0ALEX001", "U0SAM0002", "U0KIM0003", "U0RIO0004"
EDDY = "U0EDDYBOT"
GENERAL, IT_HELP, RANDOM = "C0GENERAL", "C0ITHELP1", "C0RANDOM1"
MANAGER = ALEX

#: The instant every test starts at (a Wednesday morning, UTC). Tests never read the wall
#: clock: what they check must not depend on the day they run, and a test that needs time to
#: pass moves its `clock` itself.
PINNED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def clock() -> ManualClock:
    """The test's clock, shared by Eddy and the stand-in: it stands at PINNED until moved."""
    return ManualClock(PINNED)


@pytest.fixture
def slack(clock: ManualClock) -> Iterator[SlackStandIn]:
    """A fresh Slack stand-in following manifest.yml, serving its Web API on localhost; its
    messages are stamped by the test's clock."""
    with SlackStandIn.from_manifest(
        MANIFEST, signing_secret=SIGNING_SECRET, clock=clock
    ) as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def text_reads_right(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that drives the stand-in, everything Eddy sent must read right in
    Slack: escaped once, no markup cut in half, no live broadcast, nothing escaped in
    plain_text (sandbox/mrkdwn.py). Real Slack refuses none of it, so this is the
    project's own check; a failure names the call and quotes the text."""
    slack = request.getfixturevalue("slack") if "slack" in request.fixturenames else None
    yield
    if slack is None:
        return
    problems = sent_text_problems(slack)
    if problems:
        listed = "\n".join(f"- {problem}" for problem in problems[:20])
        more = f"\n…and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(f"Eddy sent text that would read wrong in Slack:\n{listed}{more}")


def shipped_content(
    tmp_path: Path,
    *,
    topics: dict[str, dict[str, Any]] | None = None,
    keywords: dict[str, Sequence[str]] | None = None,
    more_topics: Sequence[dict[str, Any]] = (),
) -> Path:
    """A copy of the shipped content for one test to change: #it-help is the IT help network's
    channel; `topics` sets fields of topics by key, `keywords` adds to a topic's keywords, and
    `more_topics` are appended."""
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    data = yaml.safe_load((folder / "networks.yml").read_text())
    changes = {"it-help": {"channel": IT_HELP}} | (topics or {})
    for topic in data["topics"]:
        topic.update(changes.get(topic["key"], {}))
        topic["keywords"] = [*topic.get("keywords", []), *(keywords or {}).get(topic["key"], [])]
    data["topics"] += list(more_topics)
    (folder / "networks.yml").write_text(yaml.safe_dump(data))
    return folder


def make_settings(slack: SlackStandIn, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": "",
        "slack_api_url": slack.api_url,
        "database_url": database_url,
        "eddy_managers": [MANAGER],
        "eddy_content_dir": ROOT / "content",
    }
    return load_settings(env_file=None, **(values | overrides))


@pytest.fixture
def settings(slack: SlackStandIn, tmp_path: Path) -> Settings:
    return make_settings(slack, f"sqlite:///{tmp_path / 'eddy.db'}")


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_runtime(settings, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def eddy(runtime: Runtime, slack: SlackStandIn) -> App:
    """Eddy's Bolt app, connected to the stand-in (requests go through `app.dispatch`)."""
    app = create_app(runtime)
    slack.connect(BoltTarget(app, runtime.work))
    return app


def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards.

    Skips with the reason when no server is reachable, except under CI (CI=true), where the
    PostgreSQL tests must run and an unreachable server fails them.
    """
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"eddy_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (set TEST_DATABASE_URL)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: {error}")
        pytest.skip(reason)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from postgres_database()


class Instance:
    """One Eddy process: its runtime and Bolt app (several can share one database)."""

    def __init__(
        self,
        slack: SlackStandIn,
        database_url: str,
        content: Path,
        clock: ManualClock,
        **overrides: object,
    ) -> None:
        settings = make_settings(slack, database_url, eddy_content_dir=content, **overrides)
        self.runtime: Runtime = open_runtime(settings, clock=clock)
        self.app: App = create_app(self.runtime)
        self.target = BoltTarget(self.app, self.runtime.work)

    def close(self) -> None:
        self.runtime.close()


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'eddy.db'}"


@pytest.fixture
def instance(slack, database, content, clock) -> Iterator[Instance]:
    """Eddy on `database` with the test module's `content` folder and a movable clock (which
    the stand-in's workspace shares, so message timestamps follow it)."""
    slack.workspace.clock = clock
    eddy = Instance(slack, database, content, clock)
    slack.connect(eddy.target)
    yield eddy
    eddy.close()
