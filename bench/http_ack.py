"""How fast Eddy acknowledges Slack over HTTP, under concurrent load.

Starts `app.py run --mode http` in its own process against the local Slack stand-in, sends
signed `/ask` commands (answered in the ack: a search and a logged question) and app_mention
events from several threads at once, and prints requests/s and ack latency percentiles. The
questions are the shipped content's own, half of them with a typo. Slack's limit is 3 s.

    uv run python bench/http_ack.py [--requests 2000] [--concurrency 16] [--ask-only]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from sandbox import HttpTarget, SlackStandIn  # noqa: E402
from tests.conftest import PINNED  # noqa: E402
from tests.deployed import HttpEddy  # noqa: E402

SECRET = "bench-signing-secret"
ALEX, GENERAL, EDDY = "U0ALEX001", "C0GENERAL", "U0EDDYBOT"


def questions() -> list[str]:
    """The shipped entries' questions, every other one with two letters swapped."""
    from bot.content.entries import load_knowledge

    asked = [q for entry in load_knowledge(ROOT / "content").entries for q in entry.questions]
    typo = [q[:3] + q[4] + q[3] + q[5:] if len(q) > 6 else q for q in asked]
    return [q for pair in zip(asked, typo, strict=True) for q in pair]


def main(requests: int = 2000, concurrency: int = 16, ask_only: bool = False) -> None:
    console = Console()
    asked = questions()
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(
            ROOT / "manifest.yml", signing_secret=SECRET, clock=ManualClock(PINNED)
        ) as slack,
    ):
        eddy = HttpEddy(slack, Path(folder) / "eddy.db")
        slack.connect(HttpTarget(eddy.url + "/slack/events"))

        def one(n: int) -> tuple[float, int]:
            started = time.perf_counter()
            question = asked[n % len(asked)]
            if ask_only or n % 2:
                status = slack.command(ALEX, GENERAL, f"/ask {question}").status
            else:
                event = {
                    "type": "app_mention",
                    "user": ALEX,
                    "channel": GENERAL,
                    "text": f"<@{EDDY}> {question}",
                    "ts": slack.workspace.next_ts(),
                }
                status = slack.event(event).status
            return time.perf_counter() - started, status

        for n in range(50):  # warm up
            one(n)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - started
        eddy.stop()

    latencies = sorted(seconds * 1000 for seconds, _ in results)
    failures = sum(1 for _, status in results if status != 200)
    kind = "/ask commands" if ask_only else "requests (/ask and @Eddy)"
    table = Table(title=f"HTTP mode: {requests} {kind}, {concurrency} at a time")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("requests/s", f"{requests / wall:,.0f}")
    table.add_row("ack p50", f"{statistics.median(latencies):.1f} ms")
    table.add_row("ack p99", f"{latencies[int(len(latencies) * 0.99) - 1]:.1f} ms")
    table.add_row("ack max", f"{latencies[-1]:.1f} ms")
    table.add_row("non-200 answers", str(failures))
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
