"""Reaction events: a burst of 5,000 over HTTP to Eddy in HTTP mode on SQLite (issue 6).

Starts `app.py run --mode http` in its own process against the local Slack stand-in, with 400
people in four channels and 1,000 messages (a few of them Eddy's own, a few from an incoming
webhook). Sixteen senders then fire reaction events as fast as Eddy acknowledges them: people
add reactions (emoji from the rules and some that are not), remove some of them again, react
to their own messages and to the bot's, and Slack retries some events (same event_id).
Each sender drives its own people, so what Slack shows stays consistent, while Eddy handles
everything after the ack in its worker pool, in whatever order.

Budgets are raised to 1,000 points a day here, so that the right final totals follow from
Slack's own record of who reacted with what (the budget is the tests' business): every
listed emoji on a person's message from someone else gives its points. The bench waits until
Eddy's totals reach that, then prints events/s (from the first send until the last total was
right), the ack latencies, and whether the totals equal both that expectation and a
recomputation from Eddy's ledger (`uv run app.py badges audit` does the same).

    uv run python bench/reaction_events.py [--events 5000] [--senders 16] [--people 400]
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.badges import audit  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.content.badge_rules import load_badge_rules  # noqa: E402
from sandbox import Delivery, HttpTarget, SlackStandIn  # noqa: E402
from sandbox.slack import SentEvent  # noqa: E402
from sandbox.workspace import Channel, Message, User  # noqa: E402
from store import Store  # noqa: E402
from store.badges import stored_totals  # noqa: E402
from tests.conftest import PINNED  # noqa: E402
from tests.deployed import HttpEddy  # noqa: E402

SECRET = "bench-signing-secret"
ZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Sao_Paulo", "UTC")
#: Emoji from different rules of the shipped badges.yml, and two that give nothing.
LISTED = ("white_check_mark", "bulb", "pray", "+1", "clap")
UNLISTED = ("joy", "eyes")


class TimedTarget(HttpTarget):
    """Eddy's HTTP endpoint, timing each request until its answer (the ack)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.acks: list[float] = []
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        started = time.perf_counter()
        delivery = super().deliver(body, headers)
        elapsed = time.perf_counter() - started
        with self._lock:
            self.acks.append(elapsed)
            self.statuses[delivery.status] += 1
        return delivery


def populate(slack: SlackStandIn, people: int, messages: int, rng: random.Random) -> list[str]:
    """People in four busy channels, and the messages they react to (setup: Eddy is not told)."""
    workspace = slack.workspace
    ids = []
    for n in range(people):
        user = User(f"U0B{n:06d}", f"person{n}", f"Person {n}", ZONES[n % len(ZONES)])
        workspace.add_user(user)
        ids.append(user.id)
    channels = []
    for n in range(4):
        channel = Channel(f"C0BENCH{n:02d}", f"team-{n}", {*ids, workspace.bot.id})
        workspace.channels[channel.id] = channel
        channels.append(channel.id)
    for n in range(messages):
        channel = channels[n % len(channels)]
        if n % 50 == 0:
            workspace.add_message(
                Message(channel, workspace.next_ts(), "Today's lesson", workspace.bot.id)
            )
        elif n % 50 == 1:
            slack.post_from_integration(channel, f"Build {n} passed")
        else:
            author = rng.choice(ids)
            workspace.add_message(Message(channel, workspace.next_ts(), f"Tip {n}", author))
    return ids


def plan(
    slack: SlackStandIn, givers: list[str], events: int, rng: random.Random
) -> list[tuple[str, ...]]:
    """One sender's actions, consistent with what Slack will show: (kind, giver, ...)."""
    messages = [m for m in slack.workspace.messages if m.channel.startswith("C0BENCH")]
    own = {giver: [m for m in messages if m.user == giver] for giver in givers}
    present: list[tuple[str, Message, str]] = []
    actions: list[tuple] = []
    while len(actions) < events:
        roll = rng.random()
        giver = rng.choice(givers)
        if roll < 0.15 and present:
            actions.append(("remove", *present.pop(rng.randrange(len(present)))))
            continue
        if roll < 0.25 and actions:
            actions.append(("retry",))
            continue
        # About one in twelve is a reaction to the giver's own message.
        message = rng.choice(own[giver] if roll < 0.33 and own[giver] else messages)
        emoji = rng.choice(UNLISTED if roll > 0.95 else LISTED)
        if giver in message.reactions.get(emoji, []) or any(
            (g, m.ts, e) == (giver, message.ts, emoji) for g, m, e in present
        ):
            continue
        present.append((giver, message, emoji))
        actions.append(("add", giver, message, emoji))
    return actions


def send(slack: SlackStandIn, actions: list[tuple]) -> int:
    """Perform the actions in order; returns the number of events sent."""
    sent: list[SentEvent] = []
    for action in actions:
        if action[0] == "retry":
            slack.redeliver(sent[-1], retry_num=1)
        else:
            _, giver, message, emoji = action
            event = slack.react(giver, message, emoji, remove=action[0] == "remove")
            assert event is not None
            sent.append(event)
    return len(actions)


def expected_totals(slack: SlackStandIn, ids: set[str]) -> dict[tuple[str, str], int]:
    """What Eddy's totals must be, from Slack's own record of reactions."""
    rules = load_badge_rules(ROOT / "content").rules
    assert rules is not None
    totals: Counter[tuple[str, str]] = Counter()
    for message in slack.workspace.messages:
        if message.user not in ids:
            continue  # Eddy's messages and webhooks' give nobody points
        for emoji, users in message.reactions.items():
            rule = rules.rule_for(emoji)
            if rule is None:
                continue
            for user in users:
                if user != message.user:
                    totals[(message.user, emoji)] += rule.points
    return {key: points for key, points in totals.items() if points}


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(events: int = 5000, senders: int = 16, people: int = 400, seed: int = 6) -> None:
    console = Console()
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(
            ROOT / "manifest.yml", signing_secret=SECRET, clock=ManualClock(PINNED)
        ) as slack,
    ):
        content = Path(folder) / "content"
        shutil.copytree(ROOT / "content", content)
        rules = yaml.safe_load((content / "badges.yml").read_text())
        rules["daily_budget"] = 1000
        (content / "badges.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
        ids = populate(slack, people, 1000, rng)
        database = Path(folder) / "eddy.db"
        eddy = HttpEddy(slack, database, EDDY_CONTENT_DIR=str(content))
        target = TimedTarget(eddy.url + "/slack/events")
        slack.connect(target)
        groups = [ids[n::senders] for n in range(senders)]
        plans = [plan(slack, group, events // senders, rng) for group in groups]
        plans[0] += plan(slack, groups[0], events - sum(map(len, plans)), rng)
        store = Store.connect(f"sqlite:///{database}")
        cpu_before = process_cpu(eddy.process.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=senders) as pool:
            sent = sum(pool.map(lambda actions: send(slack, actions), plans))
        acked = time.perf_counter() - started
        expected = expected_totals(slack, set(ids))
        deadline = time.monotonic() + 120
        with store.session() as session:
            totals = stored_totals(session, team_id=slack.workspace.team_id)
        while totals != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            with store.session() as session:
                totals = stored_totals(session, team_id=slack.workspace.team_id)
        done = time.perf_counter() - started
        eddy_cpu = process_cpu(eddy.process.pid) - cpu_before
        (found,) = audit(store).values()
        store.close()
        eddy.stop()

    kinds = Counter(action[0] for actions in plans for action in actions)
    latencies = sorted(seconds * 1000 for seconds in target.acks)
    table = Table(title=f"{sent:,} reaction events over HTTP, {senders} senders, SQLite")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row(
        "mix",
        f"{kinds['add']:,} adds · {kinds['remove']:,} removes · {kinds['retry']:,} retries",
    )
    table.add_row("events/s, handled (first send → totals right)", f"{sent / done:,.0f}")
    table.add_row("events/s, acknowledged", f"{sent / acked:,.0f}")
    table.add_row("Eddy's CPU per event", f"{eddy_cpu / sent * 1000:.2f} ms")
    table.add_row("ack p50", f"{statistics.median(latencies):.1f} ms")
    table.add_row("ack p99", f"{latencies[int(len(latencies) * 0.99) - 1]:.1f} ms")
    table.add_row("ack max", f"{latencies[-1]:.1f} ms")
    table.add_row("non-200 answers", str(sum(n for s, n in target.statuses.items() if s != 200)))
    table.add_row("ledger rows", f"{found.ledger_rows:,}")
    table.add_row("people with points", f"{found.people:,}")
    table.add_row("totals == Slack's reactions", "yes" if totals == expected else "NO")
    table.add_row("totals == ledger recomputation", "yes" if not found.mismatches else "NO")
    console.print(table)
    if totals != expected or found.mismatches:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    typer.run(main)
