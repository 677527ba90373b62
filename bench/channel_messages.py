"""Help channels under load: 200 messages a minute across channels, on SQLite and PostgreSQL.

Starts `app.py run --mode http` in its own process against the local Slack stand-in, once per
database (a SQLite file in a temporary folder; a fresh database on the PostgreSQL server at
`--database-url`, dropped afterwards). A manager (EDDY_MANAGERS) turns listening on through the
front door, `/ask listen <#C…|name> limit 200`, in `--channels` help channels, and with
`limit 5` in one more channel, to show that the hourly limit holds: the run starts with
`--burst` answerable questions posted there at the same moment (handled concurrently, which
is when a limit can be overrun), and that channel gets its share of the traffic after. One
further channel has Eddy in it but not listening.

Then people post `--rate` messages a minute, in real time, for `--minutes` (arrivals at random,
as a Poisson process, so there are bursts): questions Eddy answers with confidence (the shipped
content's titles and curated questions, as people type them), questions it cannot answer,
chatter ("thanks!", "fyi …"), questions addressed to a colleague, replies in threads, other
bots' messages, and messages in the channel Eddy does not listen in. About one event in ten is
delivered again as Slack retries it (same event_id, `X-Slack-Retry-Num`, 0.2–3 s later, some a
second time), and one message in thirty again as a new event (a fresh event_id, up to a second
later, often while the first is still being handled). Neither may bring a second reply.

When the traffic is sent, the bench waits until Eddy's work settles (replies in Slack and the
`channel_question` rows unchanged for `--settle` seconds), then checks every message against
what the stand-in shows and what Eddy recorded:

- expected replies: the messages Eddy claimed and logged as confident, except those it held
  back at the limited channel's limit; the bench also predicts them itself (the question
  detector, and a `KnowledgeIndex` over the same content) and counts any disagreement;
- lost: an expected reply missing from the message's thread, or a question (as the detector
  reads it) that was never claimed; doubled: a thread with more than one reply from Eddy;
  unexpected: a reply anywhere else (chatter, threads, bots, the channel it does not listen in).

It prints, per database: what was sent, the rate achieved, the ack latency (from sending the
HTTP request to Eddy's answer; questions and other messages apart, against the time from
sending a question to its reply in the thread: the ack never waits for the search), Eddy's
CPU per request (/proc), and the counts above. It exits 1 when a reply was lost, doubled or
unexpected, or the limit was exceeded. Nothing is asserted about time.

Eddy runs on a pinned clock (EDDY_CLOCK), as in every bench: for Eddy the whole run is one
instant, so the hourly limit counts every answer of the run (keep each help channel's
confident questions under 200: the bench says when they are not).

    uv run python bench/channel_messages.py [--rate 200] [--minutes 3] [--channels 6]
        [--limit 5] [--burst 20] [--databases sqlite,postgresql]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import heapq
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from bot.knowledge import KnowledgeIndex  # noqa: E402
from bot.question_detector import is_question  # noqa: E402
from handlers.blocks import searchable  # noqa: E402
from handlers.listening import ADDRESSED  # noqa: E402
from sandbox import HttpTarget, SlackStandIn  # noqa: E402
from sandbox.workspace import Channel, Message, User  # noqa: E402
from store import Store  # noqa: E402
from store.knowledge import QuestionLog  # noqa: E402
from store.listening import HELD, ChannelQuestion  # noqa: E402
from tests.conftest import PINNED  # noqa: E402
from tests.deployed import HttpEddy  # noqa: E402

SECRET = "bench-signing-secret"
MANAGER = "U0ALEX001"  # in the stand-in's workspace; EDDY_MANAGERS names them
GENERAL = "C0GENERAL"
HIGH_LIMIT = 200  # the most `/ask listen … limit N` allows
OTHER_BOT = "B0OTHERBOT"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMITED_CHANNEL = "C0LIMITED1"  # listening, at a low hourly limit
QUIET_CHANNEL = "C0QUIET001"  # Eddy is in it, not listening

# What people post, and how often (shares of the messages).
ANSWERABLE = "question Eddy can answer"
UNKNOWN = "question it can't answer"
CHATTER = "chatter"
ADDRESSED_Q = "question to a colleague"
THREAD = "reply in a thread"
BOT = "another bot's message"
ELSEWHERE = "in a channel Eddy doesn't listen in"
MIX = {
    ANSWERABLE: 0.36,
    UNKNOWN: 0.14,
    CHATTER: 0.17,
    ADDRESSED_Q: 0.03,
    THREAD: 0.15,
    BOT: 0.07,
    ELSEWHERE: 0.08,
}
RETRY_SHARE = 0.10  # events Slack delivers again (same event_id)
SECOND_RETRY_SHARE = 0.3  # of those, retried a second time
DUPLICATE_SHARE = 1 / 30  # messages delivered again as a new event (new event_id)

UNKNOWN_QUESTIONS = (
    "how do I get a parking permit for the new office garage?",
    "what time does the cafeteria close on fridays?",
    "anyone know a good dentist near the office?",
    "is the team offsite still happening in june?",
    "does anyone have a spare hdmi cable I could borrow?",
    "who won the quiz last week?",
    "where can I buy concert tickets for saturday?",
    "can someone water my plants while I'm away?",
    "which pizza place did we order from last time?",
    "is the coffee machine on floor 2 fixed yet?",
)
CHATTER_LINES = (
    "thanks!",
    "thanks, that worked",
    "fyi the wifi is down on floor 3",
    "good morning everyone",
    "lunch?",
    "great, all sorted now",
    "heads up: the printer on 4 is out of toner",
    "nice one",
    "ok will do",
    "brb",
)
THREAD_LINES = (
    "thanks, that worked",
    "same problem here",
    "+1",
    "how do I reset my VPN password?",
    "did you try restarting it?",
    "ok, asking IT now",
)


@dataclass
class Original:
    """A message a person (or a bot) posts, planned; `ts`, `event` and `event_id` once sent."""

    at: float
    kind: str
    channel: str
    user: str
    text: str
    parent: int | None = None  # the message a thread reply answers (index into the plan)
    burst: bool = False  # one of the questions posted at once in the limited channel
    ts: str = ""
    event: dict[str, Any] = field(default_factory=dict)
    event_id: str = ""
    sent_at: float = 0.0


@dataclass(frozen=True)
class Resend:
    """The same message delivered again: a Slack retry (retry_num > 0) or a new event."""

    at: float
    original: int
    retry_num: int


@dataclass
class Sent:
    """What the senders measured."""

    acks: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, group: str, seconds: float, status: int) -> None:
        with self.lock:
            self.acks.setdefault(group, []).append(seconds)
            self.statuses[status] += 1


@dataclass
class Result:
    """One database's run, as printed."""

    database: str
    figures: dict[str, str]
    ok: bool


# --- what people say ---------------------------------------------------------------------


def wordings(index: KnowledgeIndex) -> tuple[list[str], list[str]]:
    """Questions as people type them: the content's titles and curated questions that the
    question detector takes for questions and the index answers with confidence, and the
    unknown ones that it takes for questions and the index does not answer."""
    answerable = []
    for entry in index.entries:
        for wording in (entry.title, *entry.questions):
            typed = wording[0].upper() + wording[1:]
            typed = typed if typed.endswith("?") else typed + "?"
            hits = index.search(searchable(typed), limit=4)
            if is_question(typed) and hits and hits[0].confident:
                answerable.append(typed)
    unknown = []
    for question in UNKNOWN_QUESTIONS:
        hits = index.search(searchable(question), limit=4)
        if is_question(question) and not (hits and hits[0].confident):
            unknown.append(question)
    return answerable, unknown


def plan(
    rng: random.Random,
    *,
    messages: int,
    rate: float,
    helping: list[str],
    quiet: str,
    people: list[str],
    answerable: list[str],
    unknown: list[str],
    burst: int,
) -> tuple[list[Original], list[Resend]]:
    """The messages (Poisson arrivals at `rate` a minute, the first `burst` of them
    answerable questions in the limited channel all at once) and the events sent again."""
    kinds, weights = list(MIX), list(MIX.values())
    originals: list[Original] = []
    by_channel: dict[str, list[int]] = {channel: [] for channel in helping}
    for n in range(burst):
        line = rng.choice(answerable)
        user = rng.choice(people)
        originals.append(Original(0.0, ANSWERABLE, LIMITED_CHANNEL, user, line, burst=True))
        by_channel[LIMITED_CHANNEL].append(n)
    at = 0.0
    for n in range(burst, messages):
        if n > burst:
            at += rng.expovariate(rate / 60)
        kind = rng.choices(kinds, weights)[0]
        channel = quiet if kind == ELSEWHERE else rng.choice(helping)
        parent = None
        if kind == THREAD and not by_channel[channel]:
            kind = CHATTER  # nothing to reply to yet
        if kind == THREAD:
            parent = rng.choice(by_channel[channel][-40:])
            line = rng.choice(THREAD_LINES)
        elif kind in (ANSWERABLE, BOT, ELSEWHERE):
            line = rng.choice(answerable)
        elif kind == UNKNOWN:
            line = rng.choice(unknown)
        elif kind == ADDRESSED_Q:
            line = f"<@{rng.choice(people)}> {rng.choice(answerable).lower()}"
        else:
            line = rng.choice(CHATTER_LINES)
        user = "" if kind == BOT else rng.choice(people)
        originals.append(Original(at, kind, channel, user, line, parent))
        if kind != THREAD and channel in by_channel:
            by_channel[channel].append(n)
    resends = []
    for n, original in enumerate(originals):
        if rng.random() < RETRY_SHARE:
            resends.append(Resend(original.at + rng.uniform(0.2, 3.0), n, 1))
            if rng.random() < SECOND_RETRY_SHARE:
                resends.append(Resend(original.at + rng.uniform(3.0, 8.0), n, 2))
        if rng.random() < DUPLICATE_SHARE:
            resends.append(Resend(original.at + rng.uniform(0.0, 1.0), n, 0))
    return originals, resends


# --- sending -----------------------------------------------------------------------------


def post(slack: SlackStandIn, original: Original, thread_ts: str | None) -> None:
    """Put the message in Slack and build the event Slack sends for it."""
    workspace = slack.workspace
    message = Message(
        channel=original.channel,
        ts=workspace.next_ts(),
        text=original.text,
        user=original.user,
        thread_ts=thread_ts,
        bot_id=OTHER_BOT if original.kind == BOT else None,
    )
    event: dict[str, Any] = {
        "type": "message",
        "channel_type": "channel",
        "channel": original.channel,
        "text": original.text,
        "ts": message.ts,
        "team": workspace.team_id,
    }
    if original.kind == BOT:
        event |= {"subtype": "bot_message", "bot_id": OTHER_BOT, "username": "deploybot"}
    else:
        event["user"] = original.user
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    workspace.add_message(message)
    original.ts, original.event, original.event_id = message.ts, event, workspace.next_id("Ev")


def traffic(
    slack: SlackStandIn,
    originals: list[Original],
    resends: list[Resend],
    sent: Sent,
    senders: int,
) -> tuple[float, float, float]:
    """Send everything at its time (open loop: a slow ack does not hold back the next
    message); returns the perf_counter of the start, of the last message and of the last
    request (a resend may come after the last message)."""
    actions: list[tuple[float, int, int, int]] = []  # (at, order, original, retry_num or -1)
    for n, original in enumerate(originals):
        actions.append((original.at, 2 * n, n, -1))
    for n, resend in enumerate(resends):
        actions.append((resend.at, 2 * n + 1, resend.original, resend.retry_num))
    heapq.heapify(actions)

    def deliver(original: Original, group: str, event_id: str, retry_num: int) -> None:
        started = time.perf_counter()
        delivery = slack.event(original.event, event_id=event_id, retry_num=retry_num)
        sent.record(group, time.perf_counter() - started, delivery.status)

    start = time.perf_counter()
    last = last_request = start
    with ThreadPoolExecutor(max_workers=senders) as pool:
        while actions:
            at, _, n, retry_num = heapq.heappop(actions)
            delay = start + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            original = originals[n]
            last_request = time.perf_counter()
            if retry_num == -1:
                parent = original.parent
                post(slack, original, originals[parent].ts if parent is not None else None)
                original.sent_at = last = time.perf_counter()
                question = original.kind in (ANSWERABLE, UNKNOWN)
                group = "burst" if original.burst else "question" if question else "other"
                pool.submit(deliver, original, group, original.event_id, 0)
            elif retry_num == 0:
                pool.submit(deliver, original, "resend", slack.workspace.next_id("Ev"), 0)
            else:
                pool.submit(deliver, original, "resend", original.event_id, retry_num)
    return start, last, last_request


class ReplyWatch:
    """Notes when each of Eddy's replies appears in the stand-in (for the reply latency)."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self.first_reply: dict[tuple[str, str], float] = {}
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        workspace = self.slack.workspace
        while not self._stop.wait(0.02):
            with workspace.lock:
                new = workspace.messages[self._seen :]
                self._seen += len(new)
            now = time.perf_counter()
            for message in new:
                if message.user == workspace.bot.id and message.thread_ts:
                    self.first_reply.setdefault((message.channel, message.thread_ts), now)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --- the databases -----------------------------------------------------------------------


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server at `admin_url`, dropped afterwards (as
    tests/conftest.py's postgres_database does); raises OperationalError when unreachable."""
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"eddy_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def claimed(store: Store, team_id: str) -> dict[tuple[str, str], tuple[str, bool | None, bool]]:
    """(channel, message ts) → (state, logged as confident, reply recorded) for every
    channel_question row."""
    with store.session() as session:
        rows = session.exec(
            select(ChannelQuestion, QuestionLog.confident)
            .join(QuestionLog, col(QuestionLog.id) == ChannelQuestion.question_id, isouter=True)
            .where(col(ChannelQuestion.team_id) == team_id)
        ).all()
        return {
            (row.channel_id, row.message_ts): (row.state, confident, row.reply_ts is not None)
            for row, confident in rows
        }


def eddy_replies(slack: SlackStandIn) -> Counter[tuple[str, str]]:
    """Eddy's replies in Slack now: (channel, thread_ts) → how many."""
    workspace = slack.workspace
    with workspace.lock:
        return Counter(
            (m.channel, m.thread_ts)
            for m in workspace.messages
            if m.user == workspace.bot.id
            and m.thread_ts
            and not m.deleted
            and m.ephemeral_to is None
        )


def settle(
    slack: SlackStandIn, store: Store, team_id: str, quiet_for: float, timeout: float
) -> tuple[float, bool]:
    """Wait until Eddy's replies and its channel_question rows stop changing for `quiet_for`
    seconds with every claimed question searched; returns when the last change was seen and
    whether it settled before `timeout`."""
    deadline = time.perf_counter() + timeout
    last_change = time.perf_counter()
    previous: tuple[Any, ...] = ()
    while time.perf_counter() < deadline:
        rows = claimed(store, team_id)
        pending = sum(1 for state, confident, _ in rows.values() if confident is None)
        snapshot = (sum(eddy_replies(slack).values()), tuple(sorted(rows.items())))
        if snapshot != previous:
            previous, last_change = snapshot, time.perf_counter()
        elif not pending and time.perf_counter() - last_change >= quiet_for:
            return last_change, True
        time.sleep(0.25)
    return last_change, False


# --- one run -----------------------------------------------------------------------------


def help_channels(channels: int) -> list[str]:
    """The help channels at limit 200."""
    return [f"C0HELP{n:03d}" for n in range(1, channels + 1)]


def workspace_for(slack: SlackStandIn, channels: int, people: int) -> list[str]:
    """People, `channels` help channels, the limited help channel and the quiet channel,
    Eddy and everyone in all of them; returns the help channels at limit 200."""
    workspace = slack.workspace
    ids = []
    for n in range(people):
        user = User(f"U0P{n:06d}", f"person{n}", f"Person {n}", "Europe/Berlin")
        workspace.add_user(user)
        ids.append(user.id)
    members = {*ids, workspace.bot.id, MANAGER}
    helping = help_channels(channels)
    for n, channel_id in enumerate(helping, start=1):
        workspace.channels[channel_id] = Channel(channel_id, f"help-{n}", set(members))
    workspace.channels[LIMITED_CHANNEL] = Channel(LIMITED_CHANNEL, "help-limited", set(members))
    workspace.channels[QUIET_CHANNEL] = Channel(QUIET_CHANNEL, "water-cooler", set(members))
    return helping


def listen(slack: SlackStandIn, channel: str, limit: int) -> str | None:
    """`/ask listen <#channel|name> limit N` as the manager; None when Eddy confirmed it."""
    name = slack.workspace.channels[channel].name
    slack.command(MANAGER, GENERAL, f"/ask listen <#{channel}|{name}> limit {limit}")
    reply = slack.ephemerals(MANAGER)[-1].text
    confirmed = f"listening in <#{channel}>" in reply and f"at most {limit} an hour" in reply
    return None if confirmed else reply


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(len(ordered) * share) - 1))]


def latency(values: list[float]) -> str:
    if not values:
        return "—"
    ms = [value * 1000 for value in values]
    return f"{statistics.median(ms):.1f} / {percentile(ms, 0.99):.1f} / {max(ms):.1f} ms"


def run_once(
    console: Console,
    database: str,
    url: str | None,
    *,
    originals: list[Original],
    resends: list[Resend],
    channels: int,
    people: int,
    limit: int,
    senders: int,
    quiet_for: float,
) -> Result:
    """Eddy on one database: the workspace, listening turned on, the traffic, the checks."""
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(
            ROOT / "manifest.yml", signing_secret=SECRET, clock=ManualClock(PINNED)
        ) as slack,
    ):
        content = Path(folder) / "content"
        shutil.copytree(ROOT / "content", content)
        helping = workspace_for(slack, channels, people)
        limited = LIMITED_CHANNEL
        sqlite_file = Path(folder) / "eddy.db"
        database_url = url or f"sqlite:///{sqlite_file}"
        env = {"EDDY_CONTENT_DIR": str(content), "EDDY_MANAGERS": MANAGER}
        if url is not None:
            env["DATABASE_URL"] = url
        console.print(f"[bold]{database}[/]: starting Eddy (app.py run --mode http)")
        eddy = HttpEddy(slack, sqlite_file, **env)
        try:
            slack.connect(HttpTarget(eddy.url + "/slack/events"))
            for channel in helping:
                refused = listen(slack, channel, HIGH_LIMIT)
                if refused:
                    raise SystemExit(f"/ask listen in {channel} was refused: {refused}")
            refused = listen(slack, limited, limit)
            if refused:
                raise SystemExit(f"/ask listen in {limited} was refused: {refused}")
            store = Store.connect(database_url)
            team_id = slack.workspace.team_id
            console.print(
                f"[bold]{database}[/]: listening in {channels + 1} channels; sending "
                f"{len(originals):,} messages and {len(resends):,} events again "
                f"over {originals[-1].at / 60:.1f} minutes"
            )
            sent = Sent()
            watch = ReplyWatch(slack)
            cpu_before = process_cpu(eddy.process.pid)
            start, last_sent, last_request = traffic(slack, originals, resends, sent, senders)
            last_change, settled = settle(slack, store, team_id, quiet_for, timeout=300)
            eddy_cpu = process_cpu(eddy.process.pid) - cpu_before
            watch.stop()
            rows = claimed(store, team_id)
            replies = eddy_replies(slack)
            store.close()
        finally:
            code, log = eddy.stop()
    return judge(
        database,
        originals=originals,
        resends=resends,
        sent=sent,
        rows=rows,
        replies=replies,
        first_reply=watch.first_reply,
        helping=helping,
        limited=limited,
        limit=limit,
        timings=(start, last_sent, last_request, last_change),
        settled=settled,
        eddy_cpu=eddy_cpu,
        log=log,
        exit_code=code,
    )


def judge(
    database: str,
    *,
    originals: list[Original],
    resends: list[Resend],
    sent: Sent,
    rows: dict[tuple[str, str], tuple[str, bool | None, bool]],
    replies: Counter[tuple[str, str]],
    first_reply: dict[tuple[str, str], float],
    helping: list[str],
    limited: str,
    limit: int,
    timings: tuple[float, float, float, float],
    settled: bool,
    eddy_cpu: float,
    log: str,
    exit_code: int,
) -> Result:
    """Every message against what Slack shows and what Eddy recorded."""
    start, last_sent, last_request, last_change = timings
    listened = {*helping, limited}
    keys = {(o.channel, o.ts): o for o in originals}
    # What the bench predicts: a top-level message from a person in a listening channel that
    # the detector takes for a question (and that names nobody) is claimed; those planned as
    # answerable are answered, but for the limited channel's limit.
    predicted_claims = {
        key
        for key, o in keys.items()
        if o.channel in listened
        and o.kind not in (THREAD, BOT)
        and not ADDRESSED.search(o.text)
        and is_question(o.text)
    }
    # What Eddy decided: a claimed question logged as confident gets a reply, unless it was
    # held back by the limit.
    expected = {key for key, (state, confident, _) in rows.items() if confident and state != HELD}
    lost = sorted(key for key in expected if replies[key] == 0)
    unclaimed = sorted(key for key in predicted_claims if key not in rows)
    claimed_otherwise = sorted(key for key in rows if key not in predicted_claims)
    doubled = sorted(key for key, count in replies.items() if count > 1)
    unexpected = sorted(key for key in replies if key not in expected)
    confident_predicted = {key for key in predicted_claims if keys[key].kind == ANSWERABLE}
    disagree = sum(
        1
        for key in predicted_claims & rows.keys()
        if bool(rows[key][1]) != (key in confident_predicted)
    )
    held_elsewhere = sum(
        1 for (channel, _), (state, _, _) in rows.items() if state == HELD and channel != limited
    )
    limited_answers = sum(count for (channel, _), count in replies.items() if channel == limited)
    limited_confident = sum(
        1 for (channel, _), (_, confident, _) in rows.items() if channel == limited and confident
    )
    per_channel = Counter(channel for channel, _ in expected if channel != limited)
    busiest = max(per_channel.values(), default=0)

    acks = [seconds for group in sent.acks.values() for seconds in group]
    reply_latency = [
        first_reply[key] - keys[key].sent_at
        for key in expected
        if key in first_reply and not keys[key].burst
    ]
    burst_replies = [
        first_reply[key] - keys[key].sent_at
        for key in expected
        if key in first_reply and keys[key].burst
    ]
    requests = len(acks)
    clean = exit_code == -signal.SIGTERM and "Stopped cleanly" in log
    errors = sum(1 for line in log.splitlines() if " ERROR " in line or "Traceback" in line)
    warnings = sum(1 for line in log.splitlines() if " WARNING " in line)
    kinds = Counter(o.kind for o in originals)
    retries = sum(1 for r in resends if r.retry_num > 0)
    duplicates = sum(1 for r in resends if r.retry_num == 0)
    non_200 = sum(n for status, n in sent.statuses.items() if status != 200)
    limit_held = limited_answers <= limit and limited_answers == min(limit, limited_confident)
    ok = (
        settled
        and not lost
        and not unclaimed
        and not doubled
        and not unexpected
        and not claimed_otherwise
        and limit_held
        and not held_elsewhere
        and non_200 == 0
        and not errors
        and clean
    )
    figures = {
        "messages sent": f"{len(originals):,}",
        **{f"  {kind}": f"{kinds[kind]:,}" for kind in MIX},
        "Slack retries sent (same event_id)": f"{retries:,}",
        "duplicate deliveries (new event_id)": f"{duplicates:,}",
        "HTTP requests": f"{requests:,}",
        "messages/min sent (achieved)": f"{(len(originals) - 1) / (last_sent - start) * 60:,.0f}",
        "questions claimed": f"{len(rows):,}",
        "  claimed as the detector predicts": "yes"
        if not unclaimed and not claimed_otherwise
        else f"NO ({len(unclaimed)} unclaimed, {len(claimed_otherwise)} extra)",
        "  confident as the bench's index predicts": "yes"
        if not disagree
        else f"{disagree} differ",
        "replies expected": f"{len(expected):,}",
        "replies posted": f"{sum(replies.values()):,}",
        "lost (expected, missing)": f"{len(lost):,}",
        "doubled (>1 reply in a thread)": f"{len(doubled):,}",
        "unexpected (reply where none was due)": f"{len(unexpected):,}",
        "held back by the limit in the 200/h channels": f"{held_elsewhere:,}",
        "busiest 200/h channel: answers": f"{busiest:,}",
        "limited channel: answers / limit": f"{limited_answers} / {limit} "
        f"({limited_confident} confident questions there)",
        "ack p50 / p99 / max, all": latency(acks),
        "ack p50 / p99 / max, questions (not the burst)": latency(sent.acks.get("question", [])),
        "ack p50 / p99 / max, other messages": latency(sent.acks.get("other", [])),
        "ack p50 / p99 / max, retries and duplicates": latency(sent.acks.get("resend", [])),
        "ack p50 / p99 / max, the burst at the limited channel": latency(
            sent.acks.get("burst", [])
        ),
        "question sent → reply in its thread p50 / p99 / max": latency(reply_latency),
        "  the burst's answered questions": latency(burst_replies),
        "non-200 answers": f"{non_200:,}",
        "Eddy done after the last request": f"{max(0.0, last_change - last_request):.1f} s"
        + ("" if settled else " (DID NOT SETTLE)"),
        "Eddy's CPU per request": f"{eddy_cpu / requests * 1000:.2f} ms"
        f" ({eddy_cpu / (last_change - start) * 100:.0f} % of a core)",
        "errors / warnings in Eddy's log": f"{errors} / {warnings}",
        "Eddy stopped cleanly (SIGTERM)": "yes" if clean else f"NO (exit status {exit_code})",
    }
    if busiest >= HIGH_LIMIT:
        figures["note"] = "a 200/h channel reached its limit: use more --channels or fewer minutes"
    for name, found in (
        ("lost", lost),
        ("unclaimed", unclaimed),
        ("doubled", doubled),
        ("unexpected", unexpected),
    ):
        for key in found[:5]:
            o = keys.get(key)
            figures[f"{name}: {key[0]} {key[1]}"] = f"{o.kind}: {o.text!r}" if o else "?"
    return Result(database, figures, ok)


def main(
    rate: float = typer.Option(200, help="Messages a minute (real time)."),
    minutes: float = typer.Option(3, help="How long the traffic lasts."),
    channels: int = typer.Option(6, help="Help channels at limit 200 (plus one limited)."),
    limit: int = typer.Option(5, help="The hourly limit of the limited channel."),
    burst: int = typer.Option(
        20, help="Answerable questions posted at once in the limited channel, first."
    ),
    people: int = typer.Option(60, help="People posting."),
    senders: int = typer.Option(32, help="Sending threads (the load is open loop)."),
    databases: str = typer.Option("sqlite,postgresql", help="Which databases, in order."),
    database_url: str = typer.Option(
        POSTGRES, help="A PostgreSQL admin URL: a fresh database is made there."
    ),
    settle_seconds: float = typer.Option(
        5, "--settle", help="Eddy has settled when nothing changed for this long."
    ),
    seed: int = 20,
) -> None:
    console = Console(width=120)
    rng = random.Random(seed)
    console.print("Predicting answers with a KnowledgeIndex over the shipped content…")
    index = KnowledgeIndex.from_dir(ROOT / "content")
    answerable, unknown = wordings(index)
    del index
    console.print(f"{len(answerable)} answerable wordings, {len(unknown)} unknown questions")
    messages = max(burst + 2, round(rate * minutes))
    originals, resends = plan(
        rng,
        messages=messages,
        rate=rate,
        helping=[*help_channels(channels), LIMITED_CHANNEL],
        quiet=QUIET_CHANNEL,
        people=[f"U0P{n:06d}" for n in range(people)],
        answerable=answerable,
        unknown=unknown,
        burst=burst,
    )
    results: list[Result] = []
    skipped: list[str] = []
    for database in (name.strip() for name in databases.split(",") if name.strip()):
        common: dict[str, Any] = {
            "originals": originals,
            "resends": resends,
            "channels": channels,
            "people": people,
            "limit": limit,
            "senders": senders,
            "quiet_for": settle_seconds,
        }
        if database == "sqlite":
            results.append(run_once(console, "SQLite", None, **common))
        elif database == "postgresql":
            try:
                with fresh_postgres(database_url) as url:
                    results.append(run_once(console, "PostgreSQL", url, **common))
            except OperationalError as error:
                reason = str(error).splitlines()[0]
                line = f"PostgreSQL skipped: not reachable at {database_url} ({reason})"
                console.print(f"[yellow]{line}[/]")
                skipped.append(line)
        else:
            raise typer.BadParameter(f"unknown database {database!r} (sqlite, postgresql)")

    table = Table(
        title=f"Help-channel messages at {rate:g}/min for {minutes:g} min over HTTP "
        f"({channels} channels at limit {HIGH_LIMIT}, 1 at limit {limit} that gets {burst} "
        "questions at once first, 1 not listened in)"
    )
    table.add_column("figure")
    for result in results:
        table.add_column(result.database, justify="right")
    names = list(dict.fromkeys(name for result in results for name in result.figures))
    for name in names:
        table.add_row(name, *(result.figures.get(name, "") for result in results))
    verdicts = ("yes" if result.ok else "NO" for result in results)
    table.add_row("no reply lost, doubled or unexpected; limit held", *verdicts)
    if results:
        console.print(table)
    for line in skipped:
        console.print(line)
    if not all(result.ok for result in results):
        raise typer.Exit(code=1)


if __name__ == "__main__":
    typer.run(main)
