"""A crawl of Eddy through the front door, as a new member and as a community manager.

It opens the Home tab, runs every slash command in every form its usage lines show, asks a
question that goes to the experts, mentions and DMs Eddy, reacts and saves a message; then,
breadth first (what a press reveals before what was there already, since the next press redraws
it), it presses every button, picks every option and enters text wherever Eddy shows them (on
messages, ephemerals and Home tabs, as whoever sees them), twice over the Home tabs, and submits
every modal with values a person could give. At the end: Slack (the stand-in, which refuses what
real Slack refuses) accepted every payload Eddy sent, Eddy acknowledged every request, nobody
was told "something went wrong" or that a button "no longer does anything", and no listener
failed.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handlers import ask, badges, errors
from handlers import lessons as lesson_handlers
from handlers import networks as network_handlers
from sandbox import SlackStandIn
from sandbox.blockkit import message_errors, view_errors
from sandbox.slack import Delivery
from sandbox.workspace import Message, View
from tests.conftest import GENERAL, KIM, MANAGER, RIO, ROOT, SAM

PEOPLE = (SAM, MANAGER, KIM, RIO)
COMMANDS = (ask.ASK, lesson_handlers.LEARN, network_handlers.EXPERTS, badges.BADGES)
#: How many presses, picks and submissions the crawl makes at most (it stays quick).
BUDGET = 400
ANSWERED = "how do I reset my vpn password"
UNKNOWN = "who feeds the office goldfish on public holidays"
#: More questions Eddy answers, so that each button of an answer is pressed on one of them
#: (pressing one redraws the answer without the others).
MORE_ANSWERED = ("how do I find my payslip", "how do I request time off", "my laptop is slow")
#: Questions nobody has answered, enough for the knowledge gaps to fill more than a page.
GAPS = tuple(f"where is the {thing} kept" for thing in ("ladder", "kettle", "stapler", "drone"))
GAPS += tuple(f"who approves {thing}" for thing in ("karaoke", "kayaks", "kites", "kilts"))
GAPS += tuple(f"when does the {thing} open" for thing in ("roof", "gym", "vault", "shed"))
GAPS += tuple(f"can I borrow the {thing}" for thing in ("van", "piano", "tent", "canoe"))
TOPIC = "it-help"
PATH = "security-basics"
#: What the crawl types for each placeholder of a usage line ("" leaves an optional one out).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "<question>": (ANSWERED, UNKNOWN),
    "<path>": (PATH,),
    "<path|all>": (PATH, "all"),
    "[export]": ("", "export"),
    "<HH:MM>": ("08:30",),
    "[HH:MM]": ("", "08:30"),
    "[days]": ("", "mon-fri"),
    "#channel": (f"<#{GENERAL}|general>",),
    "[Area/City]": ("", "Europe/Berlin"),
    "[topic]": ("", TOPIC),
    "<topic>": (TOPIC,),
    "@person": (f"<@{KIM}|kim>",),
    "@someone": (f"<@{KIM}|kim>",),
    "[week|month|all]": ("", "week", "month", "all"),
    "@person|@group|#channel": (
        f"<@{KIM}|kim>",
        "<!subteam^S0SUPPORT1|@support-team>",
        f"<#{GENERAL}|general>",
    ),
    "[by YYYY-MM-DD]": ("", "by 2026-12-31"),
    "[why: <a line>]": ("", "why: Everyone handles customer data."),
    "[path]": ("", PATH),
}
#: A usage line's words: a placeholder in brackets may hold spaces (`[by YYYY-MM-DD]`).
USAGE_WORD = re.compile(r"\[[^\]]*\]|<[^>]*>|\S+")
#: What a person types into a modal's text input, by words of its label (else a sentence).
TYPED = {"time zone": "Europe/Berlin", "title": "Feeding the office goldfish"}
SENTENCE = "Ask reception for the key; the food is in the top drawer. Twice a day."


def usage_forms(usage: str) -> Iterator[str]:
    """Every concrete command line a usage line stands for."""
    words = USAGE_WORD.findall(usage)
    choices = []
    for word in words:
        if word.startswith(("<", "[", "#", "@")):
            assert word in PLACEHOLDERS, f"the crawl does not know {word!r} of {usage!r}"
            choices.append(PLACEHOLDERS[word])
        else:
            choices.append((word,))
    for picked in itertools.product(*choices):
        yield " ".join(word for word in picked if word)


@dataclass(frozen=True)
class Spot:
    """Where an interactive element sits, as someone sees it: their Home tab, or a message."""

    kind: str
    person: str
    channel: str = ""
    ts: str = ""


class Crawler:
    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self.deliveries: list[tuple[str, Delivery]] = []
        #: Each (spot, use) found so far, and the kinds of use made (a button's action and
        #: label, wherever it is shown: one Helpful is enough, however many answers have one).
        self.queued: set[tuple[Spot, tuple[Any, ...]]] = set()
        self.tried: set[tuple[Any, ...]] = set()
        self.queue: deque[tuple[Spot, tuple[Any, ...]]] = deque()
        self.steps = 0
        #: Every action_id used (pressed, picked, typed into), for the coverage check.
        self.used: set[str] = set()

    # --- what people see ------------------------------------------------------------------

    def surface(self, spot: Spot) -> Message | View | None:
        if spot.kind == "home":
            return self.slack.home(spot.person)
        message = self.slack.workspace.find_message(spot.channel, spot.ts)
        if message is None:
            return None
        channel = self.slack.workspace.channels[message.channel]
        return message if message.visible_to(spot.person, channel) else None

    def spots(self) -> Iterator[Spot]:
        for person in PEOPLE:
            yield Spot("home", person)
            for message in self.slack.workspace.seen_by(person):
                if message.blocks:
                    yield Spot("message", person, message.channel, message.ts)

    def uses(self, where: Message | View) -> Iterator[tuple[Any, ...]]:
        """A key for each way to use an element there: a press, an option, typed text."""
        for _block, element in self.slack.elements(where.blocks):
            kind, action_id = element.get("type"), element.get("action_id", "")
            if kind == "button":
                yield ("press", action_id, element.get("value", ""), element["text"]["text"])
            elif kind in ("static_select", "overflow", "radio_buttons"):
                for option in element.get("options", []):
                    yield ("choose", action_id, option["value"])
            elif kind == "plain_text_input":
                yield ("enter", action_id, ANSWERED)
                yield ("enter", action_id, "")

    @staticmethod
    def kind_of_use(spot: Spot, use: tuple[Any, ...]) -> tuple[Any, ...]:
        """What makes a use new: a button's action and label (not its value: the same button
        on the next answer does the same), an option's value, the text typed."""
        if use[0] == "press":
            return (spot.kind, spot.person, "press", use[1], use[3])
        return (spot.kind, spot.person, *use)

    def discover(self) -> None:
        """Queue what is newly shown, ahead of what was there before: a Home tab or a message
        is redrawn by the next press, so what a press revealed is used while it is shown."""
        fresh = []
        for spot in self.spots():
            where = self.surface(spot)
            if where is None:
                continue
            for use in self.uses(where):
                found = (spot, use)
                if found not in self.queued and self.kind_of_use(spot, use) not in self.tried:
                    self.queued.add(found)
                    fresh.append(found)
        self.queue.extendleft(reversed(fresh))

    # --- acting -----------------------------------------------------------------------------

    def sent(self, what: str, delivery: Delivery) -> Delivery:
        self.deliveries.append((what, delivery))
        return delivery

    def command(self, person: str, line: str, channel: str = GENERAL) -> None:
        self.sent(line, self.slack.command(person, channel, line))
        self.settle_modal(person)

    def crawl(self, rounds: int = 2) -> None:
        """Use everything there is to use, breadth first; then again on the Home tabs, which
        show more once the rest has happened (a flagged entry, a draft to review)."""
        for _ in range(rounds):
            self.tried = {key for key in self.tried if key[0] != "home"}
            self.queued = {(spot, use) for spot, use in self.queued if spot.kind != "home"}
            self.crawl_round()

    def crawl_round(self) -> None:
        self.discover()
        while self.queue and self.steps < BUDGET:
            spot, use = self.queue.popleft()
            where = self.surface(spot)
            if self.kind_of_use(spot, use) in self.tried:
                continue
            if where is None or use not in set(self.uses(where)):
                continue  # redrawn since: what it showed is gone
            self.tried.add(self.kind_of_use(spot, use))
            self.steps += 1
            self.used.add(str(use[1]))
            self.use(spot.person, where, use)
            self.settle_modal(spot.person)
            self.discover()

    def use(self, person: str, where: Message | View, use: tuple[Any, ...]) -> None:
        verb, action_id = use[0], use[1]
        what = f"{verb} {action_id} {use[2:]!r} as {person}"
        if verb == "press":
            for block, element in self.slack.buttons(where.blocks):
                if (element.get("action_id", ""), element.get("value", "")) == use[1:3]:
                    self.sent(what, self.slack.press_element(person, where, block, element))
                    return
        elif verb == "choose":
            self.sent(what, self.slack.choose(person, where, action_id, use[2]))
        elif isinstance(where, View):
            self.sent(what, self.slack.enter(person, where, action_id, use[2]))

    def settle_modal(self, person: str) -> None:
        """Submit whatever modal is open with values a person could give (a modal answered
        with errors is closed: the person gives up; one only to read is closed), until none
        is left. Eddy's modals hold inputs only, no buttons of their own."""
        for _ in range(5):
            view = self.slack.modal(person)
            if view is None:
                return
            assert not any(e.get("type") == "button" for _, e in self.slack.elements(view.blocks))
            if "submit" not in view.payload:
                self.slack.close(person)  # only to read: nothing to submit
                continue
            self.steps += 1
            reply = self.sent(
                f"submit {view.callback_id} as {person}",
                self.slack.submit(person, plausible(view, person)),
            ).json()
            if reply.get("response_action") == "errors" and self.slack.modal(person) is view:
                self.slack.close(person)
        self.slack.close(person)


def plausible(view: View, person: str) -> dict[str, Any]:
    """Values for a modal's inputs, keyed by block_id: what is there already, else a choice
    or words a person would give."""
    values: dict[str, Any] = {}
    for block in view.blocks:
        if block.get("type") != "input":
            continue
        element, key = block["element"], block.get("block_id") or block["element"]["action_id"]
        kind = element["type"]
        options = [o["value"] for o in element.get("options", [])]
        if kind == "plain_text_input":
            label = block["label"]["text"].lower()
            typed = next((words for hint, words in TYPED.items() if hint in label), SENTENCE)
            given = element.get("initial_value") or typed
            values[key] = given[: element.get("max_length", 3000)]
        elif kind in ("static_select", "radio_buttons"):
            initial = element.get("initial_option")
            values[key] = initial["value"] if initial else options[0]
        elif kind in ("multi_static_select", "checkboxes"):
            initial = element.get("initial_options") or []
            values[key] = [o["value"] for o in initial] or options[:1]
        elif kind == "timepicker":
            values[key] = element.get("initial_time") or "09:00"
        elif kind in ("conversations_select", "channels_select"):
            values[key] = GENERAL
        elif kind == "users_select":
            values[key] = SAM if person != SAM else KIM
        elif kind == "multi_users_select":
            values[key] = [*element.get("initial_users", []), SAM]
    return values


@pytest.fixture
def content() -> Path:
    return ROOT / "content"


def words_of(blocks: list[dict[str, Any]]) -> str:
    """Every text in blocks, however deep."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(blocks)
    return "\n".join(found)


def test_a_crawl_of_everything_eddy_shows_is_accepted_by_slack(slack, instance, caplog):
    caplog.set_level(logging.ERROR)
    crawler = Crawler(slack)
    for person in (SAM, MANAGER):
        slack.open_home(person)
    for person in (SAM, MANAGER):
        for command in COMMANDS:
            crawler.command(person, command.name)
            crawler.command(person, f"{command.name} help")
            for usage in command.usage:
                for line in usage_forms(usage):
                    crawler.command(person, line)
    crawler.command(MANAGER, f"/learn schedule {PATH} <#{GENERAL}|general>")
    crawler.command(SAM, f"/learn start {PATH}")
    crawler.command(SAM, f"/experts join {TOPIC}")
    crawler.command(SAM, "/experts back")
    crawler.command(KIM, f"/experts join {TOPIC}")
    for person, question in itertools.product((SAM, RIO), MORE_ANSWERED):
        crawler.command(person, f"/ask {question}")
    for question in GAPS:
        crawler.command(RIO, f"/ask {question}")
    for person, question in ((MANAGER, UNKNOWN), (RIO, GAPS[0])):
        crawler.command(person, f"/ask {question}")
        answer = [m for m in slack.ephemerals(person) if question in m.text][-1]
        crawler.sent("ask the experts", slack.press(person, answer, "Ask the experts"))
        crawler.settle_modal(person)
    asked = slack.say(SAM, GENERAL, f"<@U0EDDYBOT> {ANSWERED}")
    slack.say(KIM, slack.workspace.im_with(KIM).id, ANSWERED)
    slack.react(MANAGER, asked, "white_check_mark")
    crawler.sent("save a message", slack.shortcut(MANAGER, asked, "save_to_eddy"))
    crawler.settle_modal(MANAGER)
    crawler.crawl()

    assert crawler.steps >= 50, "the crawl found little to do"
    refused = [(call.method, call.response) for call in slack.calls() if not call.ok]
    failed = [(what, d.status, d.body) for what, d in crawler.deliveries if d.status != 200]
    assert refused == [], "Slack refused what Eddy sent"
    assert failed == [], "Eddy did not acknowledge with 200"
    shown = [(m.channel, m.text + "\n" + words_of(m.blocks)) for m in slack.workspace.messages]
    shown += [("home", words_of(view.blocks)) for view in slack.workspace.homes.values()]
    for sorry in (errors.APOLOGY[:40], errors.RETIRED_BUTTON[:40]):
        assert [where for where, text in shown if sorry in text] == [], sorry
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    for message in slack.workspace.messages:
        assert message_errors(message.blocks) == []
    for view in [
        *slack.workspace.homes.values(),
        *itertools.chain(*slack.workspace.modals.values()),
    ]:
        assert view_errors(view.payload) == []
    for action in (
        "home_tab_",
        "home_start_path_",
        "home_period_",
        "ask_helpful",
        "experts_claim",
        "experts_approve",
        "lessons_answer_",
        "assign_add",
    ):
        assert any(a.startswith(action) for a in crawler.used), f"the crawl never used {action}"
