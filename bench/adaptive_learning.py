"""Adaptive learning: 1,000 simulated learners through one onboarding journey, linear against
adaptive, side by side in one run (issue 24).

A generated path (`--seed`) of 12 lessons, each with a one-tap quiz of 3 or 4 options, and
`day:` offsets (day 1, day 3, week 2, day 12) is written twice into a fresh content folder:

- **linear**: the lessons alone (no placement check, no remedial lessons), and the learners
  never press "I know this";
- **adaptive**: the same lessons with `placement: 5` and four short remedial lessons (after
  lessons 2, 5, 8 and 11), and learners press "I know this" on a lesson they know, four times
  in five.

Each of `--learners` people exists once on each path, with the same prior knowledge: a share
p of the items drawn per person (uniform from 0 to 0.9), each item known with probability p.
A learner answers a quiz right when they know its item and guesses otherwise (1 in the
number of options); reading a lesson teaches its item with probability 0.7 (a remedial lesson
teaches its parent's, too); a review answered wrong teaches it with probability 0.5 (its
explanation shows). Everyone answers every message on the day it comes.

Both groups are enrolled as journeys (`bot.lessons.enrol`, origin JOURNEY, day 1 a Monday),
on weekdays at 09:30 in Europe/Berlin. Eddy runs in this process on SQLite with a
ManualClock, posting through the real poster to the local Slack stand-in: each simulated day
the delivery job runs at 09:31, then every learner reads the new lesson messages Eddy sent to
their DM (the buttons as Slack shows them) and presses what they chose through the real
domain functions (`answer_quiz`, `answer_placement`, `know_lesson`, `mark_done`; the first
lesson after a finished placement check is sent at once, as the button's handler does).

Printed per group: lesson messages sent per learner (mean, p50, p90), all messages (with
placement checks and review-only messages), days to completion (calendar days from day 1, for
those who completed), the share who completed within 15, 16 and 17 days, and the share of the
path's items each learner really knows at the end (what skipping must not cost).

    uv run python bench/adaptive_learning.py [--learners 1000] [--seed 24] [--days 21]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import Progress
from sqlmodel import col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import lessons  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.lessons import QuizRefusedError  # noqa: E402
from bot.runtime import Runtime, open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import create_app  # noqa: E402
from handlers.lessons import METADATA_TYPE  # noqa: E402
from sandbox import SlackStandIn  # noqa: E402
from sandbox.workspace import User, Workspace  # noqa: E402
from store.lessons import JOURNEY, PERSON, SENT, LessonDelivery, PathCompletion  # noqa: E402

ZONE = "Europe/Berlin"
#: Day 1 of everyone's journey: a Monday. Slots are 09:30 in Berlin (08:30 UTC in winter).
DAY_ONE = date(2026, 11, 23)
LESSONS = 12
#: Lesson number → its `day:` (the others follow the lesson before).
DAYS = {1: 1, 3: "day 3", 6: "week 2", 9: 12}
#: Lessons whose missed quiz brings a remedial lesson (adaptive only).
WITH_REMEDIAL = (2, 5, 8, 11)
PLACEMENT_ITEMS = 5
PRIOR_MAX = 0.9
LEARN = 0.7
LEARN_FROM_EXPLANATION = 0.5
CLAIM = 0.8
WITHIN = (15, 16, 17)
MODES = ("linear", "adaptive")


# --- the path ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A main-line lesson's quiz as the simulation needs it."""

    lesson_id: str
    options: int
    answer: int


def lesson_id(number: int) -> str:
    return f"lesson-{number:02d}"


def make_paths(folder: Path, seed: int) -> dict[str, Item]:
    """Write the linear and adaptive paths into `folder/lessons/`; the items by lesson id."""
    rng = random.Random(f"path-{seed}")
    items: dict[str, Item] = {}
    main: list[dict[str, Any]] = []
    for number in range(1, LESSONS + 1):
        options = rng.choice((3, 4))
        answer = rng.randrange(options)
        items[lesson_id(number)] = Item(lesson_id(number), options, answer)
        entry: dict[str, Any] = {
            "id": lesson_id(number),
            "title": f"Lesson {number}",
            "minutes": rng.randint(2, 4),
            "body": f"What lesson {number} teaches, in a few short paragraphs.",
            "quiz": {
                "question": f"Which answer does lesson {number} teach?",
                "options": [f"Option {chr(65 + k)} of lesson {number}" for k in range(options)],
                "answer": answer + 1,
                "explanation": f"Lesson {number} explains why.",
            },
        }
        if number in DAYS:
            entry["day"] = DAYS[number]
        main.append(entry)
    write(folder, "journey-linear", "Journey (linear)", main)
    adaptive: list[dict[str, Any]] = []
    for number, entry in enumerate(main, start=1):
        if number not in WITH_REMEDIAL:
            adaptive.append(entry)
            continue
        adaptive.append({**entry, "remedial": f"help-{number:02d}"})
        adaptive.append(
            {
                "id": f"help-{number:02d}",
                "title": f"Another look at lesson {number}",
                "minutes": 1,
                "body": f"Lesson {number}'s idea from another side.",
            }
        )
    write(folder, "journey-adaptive", "Journey (adaptive)", adaptive, placement=PLACEMENT_ITEMS)
    return items


def write(folder: Path, path_id: str, title: str, entries: list[dict], **fields: Any) -> None:
    data = {"title": title, **fields, "lessons": entries}
    (folder / "lessons" / f"{path_id}.yml").write_text(yaml.safe_dump(data, sort_keys=False))


# --- the learners ------------------------------------------------------------------------------


@dataclass
class Learner:
    user_id: str
    mode: str
    known: set[str]
    rng: random.Random
    lesson_messages: int = 0
    messages: int = 0


def make_learners(count: int, seed: int, workspace: Workspace) -> dict[str, Learner]:
    """Each profile twice, once per mode, with the same prior knowledge."""
    people: dict[str, Learner] = {}
    for index in range(count):
        prior_rng = random.Random(f"prior-{seed}-{index}")
        share = prior_rng.uniform(0, PRIOR_MAX)
        known = {lesson_id(n) for n in range(1, LESSONS + 1) if prior_rng.random() < share}
        for mode in MODES:
            user_id = f"U{'L' if mode == 'linear' else 'A'}{index:07d}"
            workspace.add_user(User(id=user_id, name=user_id.lower(), real_name=user_id, tz=ZONE))
            people[user_id] = Learner(
                user_id, mode, set(known), random.Random(f"acts-{seed}-{index}-{mode}")
            )
    return people


def path_id_of(mode: str) -> str:
    return f"journey-{mode}"


# --- reading what Slack shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A lesson message as its reader sees it: the buttons, by action_id, with their values."""

    recipient: str
    buttons: list[tuple[str, dict[str, Any]]]


def new_messages(workspace: Workspace, start: int) -> tuple[list[Shown], int]:
    """Lesson messages Eddy posted to people's DMs since `start`, and where the list ends."""
    found: list[Shown] = []
    with workspace.lock:
        messages = workspace.messages[start:]
        end = start + len(messages)
        for message in messages:
            metadata = message.metadata or {}
            if message.user != workspace.bot.id or metadata.get("event_type") != METADATA_TYPE:
                continue
            person = workspace.channels[message.channel].im_user
            if person is None:
                continue
            buttons = [
                (str(element["action_id"]), json.loads(element["value"]))
                for block in message.blocks
                for element in block.get("elements", [])
                if element.get("type") == "button" and str(element.get("value", "")).startswith("{")
            ]
            found.append(Shown(person, buttons))
    return found, end


# --- acting ------------------------------------------------------------------------------------


def act(
    runtime: Runtime, learner: Learner, shown: Shown, items: dict[str, Item], now: datetime
) -> list[int]:
    """What the learner does with one message; the deliveries to send now (after a finished
    placement check)."""
    learner.messages += 1
    placement = [(a, v) for a, v in shown.buttons if a.startswith("lessons_place_")]
    if placement:
        return answer_placement(runtime, learner, placement, items, now)
    main = next((v for a, v in shown.buttons if a == "lessons_known"), None)
    if main is not None:
        learner.lesson_messages += 1
        study(runtime, learner, shown, main, items, now)
    for action, value in shown.buttons:
        if action == "lessons_answer_0" and main is not None and value["l"] == main["l"]:
            continue
        if action == "lessons_answer_0":  # a review riding along
            item = items[value["l"]]
            right = answer(runtime, learner, value, item, now)
            if not right and learner.rng.random() < LEARN_FROM_EXPLANATION:
                learner.known.add(item.lesson_id)
    return []


def study(
    runtime: Runtime,
    learner: Learner,
    shown: Shown,
    main: dict[str, Any],
    items: dict[str, Item],
    now: datetime,
) -> None:
    lesson = str(main["l"])
    teaches = lesson if lesson in items else lesson_id(int(lesson.split("-")[1]))
    if (
        learner.mode == "adaptive"
        and teaches in learner.known
        and lesson in items
        and learner.rng.random() < CLAIM
    ):
        lessons.know_lesson(runtime, learner.user_id, delivery_id=int(main["d"]), tz=ZONE, now=now)
        return
    if teaches not in learner.known and learner.rng.random() < LEARN:
        learner.known.add(teaches)
    if lesson in items:
        quiz = next(v for a, v in shown.buttons if a == "lessons_answer_0" and v["l"] == lesson)
        answer(runtime, learner, quiz, items[lesson], now)
    else:
        lessons.mark_done(runtime, learner.user_id, delivery_id=int(main["d"]), tz=ZONE, now=now)


def choose(learner: Learner, item: Item) -> int:
    if item.lesson_id in learner.known:
        return item.answer
    return learner.rng.randrange(item.options)


def answer(
    runtime: Runtime, learner: Learner, value: dict[str, Any], item: Item, now: datetime
) -> bool:
    chosen = choose(learner, item)
    result = lessons.answer_quiz(
        runtime,
        learner.user_id,
        delivery_id=int(value["d"]),
        path_id=str(value["p"]),
        lesson_id=item.lesson_id,
        chosen=chosen,
        tz=ZONE,
        now=now,
    )
    return result.correct


def answer_placement(
    runtime: Runtime,
    learner: Learner,
    buttons: list[tuple[str, dict[str, Any]]],
    items: dict[str, Item],
    now: datetime,
) -> list[int]:
    asked = dict.fromkeys(str(value["l"]) for _, value in buttons)
    first = {str(value["l"]): value for _, value in buttons}
    follow: list[int] = []
    for lesson in asked:
        value = first[lesson]
        try:
            result = lessons.answer_placement(
                runtime,
                learner.user_id,
                delivery_id=int(value["d"]),
                path_id=str(value["p"]),
                lesson_id=lesson,
                chosen=choose(learner, items[lesson]),
                tz=ZONE,
                now=now,
            )
        except QuizRefusedError:
            continue
        if result.next_delivery is not None:
            follow.append(result.next_delivery)
    return follow


# --- the run -----------------------------------------------------------------------------------


def enrol_all(runtime: Runtime, people: dict[str, Learner], now: datetime) -> None:
    catalogue = lessons.paths(runtime)
    for learner in people.values():
        lessons.enrol(
            runtime,
            learner.user_id,
            catalogue[path_id_of(learner.mode)],
            tz=ZONE,
            now=now,
            origin=JOURNEY,
            anchor_day=DAY_ONE,
        )


def completions(runtime: Runtime) -> dict[str, date]:
    """Each learner's completion day (local)."""
    with runtime.store.session() as session:
        rows = session.exec(select(PathCompletion).where(PathCompletion.team_id == runtime.team_id))
        return {row.user_id: lessons.Schedule(ZONE).local_day(row.completed_at) for row in rows}


def sent_lessons(runtime: Runtime) -> Counter[str]:
    """Lesson messages sent to each person, as Eddy recorded them."""
    with runtime.store.session() as session:
        query = select(LessonDelivery.recipient).where(
            LessonDelivery.team_id == runtime.team_id,
            LessonDelivery.kind == PERSON,
            LessonDelivery.status == SENT,
            col(LessonDelivery.lesson_id).is_not(None),
        )
        return Counter(str(recipient) for recipient in session.exec(query))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--days", type=int, default=21, help="calendar days to simulate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(ROOT / "manifest.yml", signing_secret="bench") as slack,
    ):
        content = Path(folder) / "content"
        (content / "lessons").mkdir(parents=True)
        items = make_paths(content, args.seed)
        begin = datetime(2026, 11, 22, 12, tzinfo=UTC)  # Sunday noon: everyone joined
        clock = ManualClock(begin)
        slack.workspace.clock = clock
        settings = load_settings(
            env_file=None,
            slack_bot_token=slack.bot_token,
            slack_signing_secret="bench",
            slack_app_token="",
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            eddy_managers=[],
            eddy_content_dir=content,
        )
        runtime = open_runtime(settings, clock=clock)
        try:
            create_app(runtime)
            people = make_learners(args.learners, args.seed, slack.workspace)
            enrol_all(runtime, people, clock.now())
            cursor = 0
            with Progress(console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("simulating days", total=args.days)
                for day in range(args.days):
                    slot = datetime.combine(DAY_ONE + timedelta(days=day), datetime.min.time())
                    now = slot.replace(tzinfo=UTC) + timedelta(hours=8, minutes=31)
                    clock.advance(now - clock.now())
                    lessons.deliver(runtime, now)
                    clock.advance(timedelta(hours=3))
                    now = clock.now()
                    while True:
                        shown, cursor = new_messages(slack.workspace, cursor)
                        if not shown:
                            break
                        follow: list[int] = []
                        for message in shown:
                            follow += act(runtime, people[message.recipient], message, items, now)
                        if follow:
                            lessons.send_due(runtime, now, ids=follow)
                    progress.advance(task)
            runtime.work.wait_idle()
            done = completions(runtime)
            recorded = sent_lessons(runtime)
        finally:
            runtime.close()
    wall = time.perf_counter() - started

    table: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for mode in MODES:
        group = [learner for learner in people.values() if learner.mode == mode]
        sent = [float(recorded.get(learner.user_id, 0)) for learner in group]
        everything = [float(learner.messages) for learner in group]
        days = [
            float((done[learner.user_id] - DAY_ONE).days + 1)
            for learner in group
            if learner.user_id in done
        ]
        mastery = [len(learner.known) / LESSONS for learner in group]
        rows = table[mode]
        rows.append(("learners", f"{len(group):,}"))
        rows.append(
            (
                "lesson messages per learner",
                f"mean {statistics.mean(sent):.1f} · p50 {percentile(sent, 0.5):.0f} · "
                f"p90 {percentile(sent, 0.9):.0f}",
            )
        )
        rows.append(("all messages per learner", f"mean {statistics.mean(everything):.1f}"))
        rows.append(("completed", f"{len(days) / len(group):.1%}"))
        rows.append(
            (
                "days to completion",
                f"mean {statistics.mean(days):.1f} · p50 {percentile(days, 0.5):.0f} · "
                f"p90 {percentile(days, 0.9):.0f}"
                if days
                else "—",
            )
        )
        for within in WITHIN:
            share = sum(1 for value in days if value <= within) / len(group)
            rows.append((f"completed within {within} days", f"{share:.1%}"))
        rows.append(("items known at the end", f"mean {statistics.mean(mastery):.1%}"))
    labels = [label for label, _ in table[MODES[0]]]
    width = max(len(label) for label in labels)
    columns = [max(len(value) for _, value in table[mode]) for mode in MODES]
    print(
        f"{'':<{width}}  "
        + "  ".join(f"{mode:<{column}}" for mode, column in zip(MODES, columns, strict=True))
    )
    for index, label in enumerate(labels):
        cells = [
            f"{table[mode][index][1]:<{column}}"
            for mode, column in zip(MODES, columns, strict=True)
        ]
        print(f"{label:<{width}}  " + "  ".join(cells))
    print(
        f"({args.learners:,} profiles, each on both paths; seed {args.seed}; {args.days} days "
        f"simulated in {wall:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
