"""Where an `/ask` spends its time, one asker at a time, in this process (issue 25, point 3).

Eddy runs in this process against the local Slack stand-in, on SQLite, with the shipped
content. For each question (the shipped entries' own, half with a typo) it measures, as CPU
time of the thread doing the work (`time.thread_time`, so other processes on the machine do
not count):

- the parts of the answer, called as the `/ask` listener calls them after its ack: the
  search (`Catalogue.search`), the rest of `bot.ask.ask` (choosing the hits and writing the
  question log: `ask` minus the search) and the rendering (`handlers.ask.answer_message`);
- the request as Slack sends it (`app.dispatch` through the front door, the thread that
  answers Slack): its elapsed time until the ack comes back, and its CPU. Since issue 25 the
  listener acks before any of the above, so the ack's elapsed time is Bolt's: its thread
  runner polls for the ack every 10 ms (`time.sleep(0.01)` in
  slack_bolt/listener/thread_runner.py).

    uv run python bench/ask_breakdown.py [--questions 300]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_ack import percentile, questions  # noqa: E402
from bot.ask import ask  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import create_app  # noqa: E402
from handlers.ask import answer_message  # noqa: E402
from sandbox import BoltTarget, SlackStandIn  # noqa: E402
from sandbox.slack import Delivery  # noqa: E402
from tests.conftest import PINNED  # noqa: E402

SECRET = "bench-signing-secret"
ALEX, GENERAL = "U0ALEX001", "C0GENERAL"


class TimedTarget(BoltTarget):
    """The in-process target, timing each delivery: elapsed until the ack, and CPU."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.elapsed: list[float] = []
        self.cpu: list[float] = []

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        started, cpu = time.perf_counter(), time.thread_time()
        delivery = super().deliver(body, headers)
        self.cpu.append(time.thread_time() - cpu)
        self.elapsed.append(time.perf_counter() - started)
        return delivery


def ms(values: list[float]) -> tuple[str, str]:
    return (
        f"{statistics.median(values) * 1000:.2f} ms",
        f"{percentile(values, 0.99) * 1000:.2f} ms",
    )


def main(count: int = typer.Option(300, "--questions", help="Questions asked.")) -> None:
    console = Console()
    asked = questions(ROOT)
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(
            ROOT / "manifest.yml", signing_secret=SECRET, clock=ManualClock(PINNED)
        ) as slack,
    ):
        settings = load_settings(
            env_file=None,
            slack_bot_token=slack.bot_token,
            slack_signing_secret=SECRET,
            slack_app_token="",
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            eddy_managers=[],
            eddy_content_dir=ROOT / "content",
        )
        runtime = open_runtime(settings, clock=ManualClock(PINNED))
        try:
            app = create_app(runtime)
            target = TimedTarget(app, runtime.work)
            slack.connect(target)
            catalogue, client = runtime.catalogue, app.client
            search, whole, render = [], [], []
            for n in range(count + 20):
                question = asked[n % len(asked)]
                cpu = time.thread_time()
                catalogue.search(question, limit=3, user_id=ALEX)
                searched = time.thread_time() - cpu
                cpu = time.thread_time()
                answer = ask(
                    runtime, user_id=ALEX, channel_id=GENERAL, surface="command", question=question
                )
                answered = time.thread_time() - cpu
                cpu = time.thread_time()
                answer_message(runtime, answer, client, ephemeral=True)
                rendered = time.thread_time() - cpu
                if n >= 20:  # the first ones warm caches up
                    search.append(searched)
                    whole.append(answered)
                    render.append(rendered)
            target.elapsed.clear()
            target.cpu.clear()
            for n in range(count):
                slack.command(ALEX, GENERAL, f"/ask {asked[n % len(asked)]}")
        finally:
            runtime.close()
    logged = [max(0.0, a - s) for a, s in zip(whole, search, strict=True)]
    table = Table(title=f"/ask, one at a time: {count} questions over the shipped content")
    for column in ("part", "p50", "p99", "whose"):
        table.add_column(column, justify="right" if column in ("p50", "p99") else "left")
    table.add_row("search (CPU)", *ms(search), "Eddy, after the ack")
    table.add_row("hits chosen + question logged (CPU)", *ms(logged), "Eddy, after the ack")
    table.add_row("answer rendered (CPU)", *ms(render), "Eddy, after the ack")
    table.add_row(
        "all three (CPU)",
        *ms([a + r for a, r in zip(whole, render, strict=True)]),
        "Eddy, after the ack",
    )
    table.add_row("request until its ack (CPU)", *ms(target.cpu), "front door + Bolt")
    table.add_row("request until its ack (elapsed)", *ms(target.elapsed), "mostly Bolt's polling")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
