"""The console sandbox: the real Eddy, a pretend Slack, and you, in one terminal.

`uv run app.py console` (and `uv run app.py` without Slack tokens) runs Eddy's Bolt app in this
process against the local Slack stand-in, on its own database (`data/sandbox.db`) and on a clock
that only moves when told: the scheduler does not run by itself, `clock +1d` moves time forward
and runs the scheduled jobs once. You type as one of the workspace's people; after each line the
console shows what that person can now see: messages anywhere they can read them (numbered m1,
m2, … to react or reply to), their Home tab, an open modal, every button numbered to press, and
every text box that sends on Enter (`[4 ✎ text] ↵`) numbered the same way to type into.

Tests drive a session one line at a time, with answers to prompts from the same script:

    with open_sandbox(settings, database_url="sqlite:///tmp/sandbox.db") as sandbox:
        session = ConsoleSession(sandbox, console=Console(file=io.StringIO()), read=answers)
        session.handle("@eddy how do I reset my vpn password")
"""

from __future__ import annotations

import importlib
import logging
import re
import secrets
import sys
import threading
import time as clock_time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text
from slack_bolt import App

from bot.clock import ManualClock
from bot.runtime import Runtime, open_runtime
from bot.scheduler import JobRun, did_something, run_jobs
from bot.settings import Settings, SettingsError
from handlers import create_app
from sandbox.render import (
    Renderer,
    dispatches_on_enter,
    is_number,
    option_label,
    plain_text,
)
from sandbox.slack import BoltTarget, SandboxError, SlackStandIn
from sandbox.workspace import Channel, Message, User, View

log = logging.getLogger(__name__)
#: `clock +1d` runs the scheduled jobs at least this often on its way (see `do_clock`).
JOB_STEP = timedelta(hours=1)

ROOT = Path(__file__).resolve().parents[1]
#: Found next to the code, so the console starts from any working directory.
MANIFEST = ROOT / "manifest.yml"
#: The sandbox never writes into a real deployment's database.
SANDBOX_DATABASE_URL = "sqlite:///data/sandbox.db"
#: Where the sandbox's clock stands, kept as it moves: the next console start resumes there,
#: and `app.py --sandbox …` commands act at that instant.
SANDBOX_CLOCK_FILE = "data/sandbox-clock.txt"
#: Where app.py sends the console's log (tracebacks included).
CONSOLE_LOG = "data/console.log"
#: alex of the sandbox workspace, made a community manager so the manager's view can be seen.
SANDBOX_MANAGER = "U0ALEX001"
#: How many recent messages are shown on entering a channel.
RECENT = 5

Read = Callable[[Text], str]

ACCENT = Style(color="cyan", bold=True)
DIM = Style(dim=True)
ERROR = Style(color="red")

#: (command, what it does) for `help`; the shape of each command is checked in `_is_command`.
HELP = (
    ("/ask <question>", "a slash command in this channel (also /learn, /experts, /badges)"),
    ("<any text>", "post a message here; @eddy mentions Eddy, @sam mentions Sam"),
    ("reply m3 <text>", "reply in the thread of message m3"),
    ("thread m3", "show the whole thread of message m3"),
    ("3  or  press 3", "press button [3 …] on a message, the Home tab or a modal"),
    ("type 4 <text>", "type into text box [4 ✎ …] ↵ of the Home tab or a modal and press Enter"),
    ("react m3 thumbsup", "add a reaction to message m3 (unreact m3 thumbsup removes it)"),
    ("shortcut m3 [name]", "run Eddy's message shortcut (by callback_id) on message m3"),
    ("home", "open your App Home tab"),
    ("submit  /  cancel", "fill in and submit the open modal, or close it"),
    ("as sam", "act as another person of the workspace (shows what came for them since)"),
    ("in #it-help  /  in dm", "go to a channel, or to your DM with Eddy"),
    ("users  /  channels", "who is in the workspace (with time zones), and where"),
    ("clock", "the sandbox time; clock +30m, +2h, +1d or +1d2h moves it and runs the jobs"),
    ("help  /  quit", "this list, or leave (Ctrl-D works too)"),
)
#: Console commands by first word: (fewest, most) words after it. A line whose shape does not
#: fit (e.g. `in my opinion …`) is posted as a message instead.
SHAPES: dict[str, tuple[int, int]] = {
    "help": (0, 0),
    "quit": (0, 0),
    "exit": (0, 0),
    "home": (0, 0),
    "users": (0, 0),
    "channels": (0, 0),
    "submit": (0, 0),
    "cancel": (0, 0),
    "clock": (0, 1),
    "as": (1, 1),
    "in": (1, 1),
    "press": (1, 1),
    "type": (1, 10_000),
    "react": (2, 2),
    "unreact": (2, 2),
    "shortcut": (1, 2),
    "reply": (2, 10_000),
    "thread": (1, 1),
}
#: The most messages `as` shows of what came for a person while someone else was at the
#: keyboard (the rest are a `thread` or an `in` away).
CAUGHT_UP = 20
MESSAGE_REF = re.compile(r"^m?(\d+)$", re.IGNORECASE)
DURATION = re.compile(r"^\+(?:\d+[wdhm])+$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
#: `@name` and `#name` as typed, which Slack's client turns into mentions and channel links.
REFERENCE = re.compile(r"(?<![\w&@#])([@#])([a-z0-9](?:[\w.-]*\w)?)", re.IGNORECASE)


class AnswerError(ValueError):
    """A modal answer the console cannot use; the message says what to type instead."""


#: How often (in real seconds) the sandbox picks up edited content files, as a deployment's
#: scheduler does: the sandbox's own clock stands still, but the person editing does not.
CONTENT_REFRESH_SECONDS = 60.0
#: How often the content watcher looks whether the sandbox is closing.
WATCH_SLICE_SECONDS = 0.1


@dataclass
class Sandbox:
    """Everything the console runs: the movable clock, the stand-in, Eddy's runtime and app,
    and a watcher that picks up edited content files in real time."""

    clock: ManualClock
    slack: SlackStandIn
    runtime: Runtime
    app: App
    stopping: threading.Event = field(default_factory=threading.Event)
    watcher: threading.Thread | None = None
    #: Where the clock's instant is kept as it moves (None: nowhere, as in tests).
    clock_file: Path | None = None

    def keep_time(self) -> None:
        if self.clock_file is not None:
            self.clock_file.parent.mkdir(parents=True, exist_ok=True)
            self.clock_file.write_text(self.clock.now().isoformat() + "\n", encoding="utf-8")

    def watch_content(self, every: float = CONTENT_REFRESH_SECONDS) -> None:
        """Refresh the content every `every` real seconds until the sandbox closes."""

        def watch() -> None:
            # Slept in short slices, not as one timed wait: libfaketime (the suite run a year
            # ahead) cannot time a wait on an event, and the watcher would never wake.
            slept = 0.0
            while not self.stopping.is_set():
                clock_time.sleep(min(WATCH_SLICE_SECONDS, every))
                slept += min(WATCH_SLICE_SECONDS, every)
                if slept >= every and not self.stopping.is_set():
                    self.runtime.catalogue.refresh(self.runtime)
                    slept = 0.0

        self.watcher = threading.Thread(target=watch, name="sandbox-content", daemon=True)
        self.watcher.start()

    def close(self) -> None:
        """Let Eddy finish its work (it may still call the stand-in), then stop the stand-in."""
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.join()
        try:
            self.runtime.close()
        finally:
            self.slack.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def sandbox_settings(
    settings: Settings, slack: SlackStandIn, secret: str, database_url: str
) -> Settings:
    """`settings` pointed at the stand-in and the sandbox database, with alex as a manager."""
    managers = list(dict.fromkeys([*settings.eddy_managers, SANDBOX_MANAGER]))
    return settings.model_copy(
        update={
            "slack_bot_token": slack.bot_token,
            "slack_signing_secret": secret,
            "slack_app_token": "",
            "slack_api_url": slack.api_url,
            "database_url": database_url,
            "eddy_managers": managers,
        }
    )


def open_sandbox(
    settings: Settings,
    *,
    database_url: str = SANDBOX_DATABASE_URL,
    clock: ManualClock | None = None,
    content_every: float | None = CONTENT_REFRESH_SECONDS,
) -> Sandbox:
    """Start the stand-in and Eddy on it; close the result (or use `with`) to stop both.

    The sandbox's clock starts at `EDDY_CLOCK`, else at the real time, unless given one
    (tests pin theirs), and then moves only with the console's `clock +1d`. Edited content
    files are picked up every `content_every` real seconds (None: only when the clock moves)."""
    clock = clock or ManualClock(settings.eddy_clock or datetime.now(UTC))
    secret = secrets.token_hex(16)
    with ExitStack() as cleanup:
        slack = SlackStandIn.from_manifest(MANIFEST, signing_secret=secret, clock=clock).start()
        cleanup.callback(slack.stop)
        runtime = open_runtime(sandbox_settings(settings, slack, secret, database_url), clock=clock)
        cleanup.callback(runtime.close)
        app = create_app(runtime)
        slack.connect(BoltTarget(app, runtime.work))
        cleanup.pop_all()
    sandbox = Sandbox(clock=clock, slack=slack, runtime=runtime, app=app)
    if content_every is not None:
        sandbox.watch_content(content_every)
    return sandbox


def sandbox_time(settings: Settings) -> datetime:
    """Where the sandbox's clock starts: `EDDY_CLOCK` when set, else where it stood when the
    sandbox last stopped, or the real time if that is later (it never goes back)."""
    if settings.eddy_clock is not None:
        return settings.eddy_clock
    real = datetime.now(UTC)
    with suppress(OSError, ValueError):
        kept = datetime.fromisoformat(Path(SANDBOX_CLOCK_FILE).read_text(encoding="utf-8").strip())
        return max(kept, real) if kept.tzinfo is not None else real
    return real


def reset_sandbox(database_url: str = SANDBOX_DATABASE_URL) -> list[Path]:
    """Remove the sandbox's database (with SQLite's journal files) and its clock, so that
    the next start is a first one; the files removed."""
    database = Path(database_url.removeprefix("sqlite:///"))
    removed = []
    kept_time = Path(SANDBOX_CLOCK_FILE)
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), kept_time):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def escaped_commands(manifest: Path) -> set[str]:
    """The commands whose text Slack sends with mentions as `<@U…|name>` (should_escape)."""
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    commands = data.get("features", {}).get("slash_commands", [])
    return {c["command"] for c in commands if c.get("should_escape")}


def parse_duration(text: str) -> timedelta:
    """`+30m`, `+2h`, `+1d`, `+1w`, or combinations such as `+1d2h30m`."""
    if not DURATION.match(text):
        raise AnswerError("say how far to move the clock, e.g. clock +30m, +2h, +1d or +1d2h")
    parts = re.findall(r"(\d+)([wdhm])", text)
    return sum((timedelta(**{UNITS[unit]: int(n)}) for n, unit in parts), timedelta())


def describe_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{count} {unit}{'s' if count != 1 else ''}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    return " ".join(parts) or "no time"


@dataclass(frozen=True)
class Button:
    """A numbered button as shown: where it is and how to find it there again. A text box
    that sends on Enter is numbered as one too (`typed`), labelled by its input block."""

    message: tuple[str, str] | None
    view_id: str | None
    block_id: str
    action_id: str
    value: str
    label: str
    typed: bool = False


class ConsoleSession:
    """One person at the terminal; `handle(line)` runs one line and shows what is new.

    `read` answers the prompts of `submit` (default: `console.input`); it may raise EOFError.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        console: Console,
        user: str = "alex",
        channel: str = "general",
        read: Read | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.slack = sandbox.slack
        self.workspace = sandbox.slack.workspace
        self.console = console
        self.read: Read = read or (lambda prompt: console.input(prompt))
        self.user = self._person(user)
        self.channel = self._channel(channel)
        self.renderer = Renderer(self.workspace, viewer=self.user.id)
        self.escaped = escaped_commands(MANIFEST)
        self.seen = self.first_seen = self._latest_seq()
        #: user ID → the last message each person saw, for the people the console has been
        self.looked: dict[str, int] = {}
        self.on_home = False
        self.home_shown = 0
        self.modal_shown: tuple[str, int] | None = None
        self.message_numbers: dict[tuple[str, str], int] = {}
        self.numbered_messages: dict[int, tuple[str, str]] = {}
        self.button_numbers: dict[Button, int] = {}
        self.buttons: dict[int, Button] = {}

    # --- the loop's side -------------------------------------------------------------------

    def welcome(self) -> None:
        intro = Text.assemble(
            "A pretend Slack workspace, wired to the real Eddy running in this terminal.\n",
            "You are ",
            self._who(self.user),
            ", in ",
            (self._where(), "bold"),
            ". Type ",
            ("help", ACCENT),
            " for what you can do, ",
            ("quit", ACCENT),
            " to leave.\n",
            (f"Database: {self.sandbox.runtime.settings.database_url} · log: {CONSOLE_LOG}", DIM),
        )
        self.console.print(Panel(intro, title=Text("Eddy sandbox", "bold"), title_align="left"))

    def prompt(self) -> Text:
        modal = self.slack.modal(self.user.id)
        if modal is not None:
            where = f"modal “{modal.title()}”"
        elif self.on_home:
            where = "Home"
        else:
            where = self._where()
        return Text.assemble((self.user.name, Style(color="green", bold=True)), f" in {where} › ")

    def handle(self, line: str) -> bool:
        """Run one line; False when the person wants to leave. Never raises for a bad line."""
        try:
            if not self._dispatch(line.strip()):
                return False
            self.show_new()
        except (SandboxError, AnswerError) as error:
            self.error(str(error))
        except Exception as error:
            log.exception("The console could not run %r", line)
            self.error(f"That failed ({type(error).__name__}); the details are in {CONSOLE_LOG}.")
        return True

    def note(self, *parts: str | Text | tuple[str, Style | str]) -> None:
        self.console.print(Text.assemble(*parts, style=DIM))

    def error(self, message: str) -> None:
        self.console.print(Text(message, ERROR))

    # --- reading a line --------------------------------------------------------------------

    def _dispatch(self, line: str) -> bool:
        if not line:
            return True
        if line.startswith("/"):
            self.slash(line)
            return True
        head, *args = line.split()
        command = head.lower()
        if is_number(command) and not args:
            self.press(int(command))
            return True
        if not self._is_command(command, args):
            self.say(line)
            return True
        if command in ("quit", "exit"):
            return False
        if command in ("react", "unreact"):
            self.react(args[0], args[1], remove=command == "unreact")
        elif command == "reply":
            self.reply(args[0], line.split(None, 2)[2])
        elif command == "press":
            self.press(int(args[0]))
        elif command == "type":
            self.type_into(int(args[0]), line.split(None, 2)[2] if len(args) > 1 else "")
        elif command == "shortcut":
            self.shortcut(*args)
        else:
            getattr(self, "do_" + command)(*args)
        return True

    def _is_command(self, command: str, args: list[str]) -> bool:
        shape = SHAPES.get(command)
        if shape is None or not shape[0] <= len(args) <= shape[1]:
            return False
        if command in ("react", "unreact", "reply", "shortcut"):
            return bool(MESSAGE_REF.match(args[0]))
        if command in ("press", "type"):
            return is_number(args[0])
        return True

    # --- talking ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Post in the current channel, with `@name` and `#channel` as Slack would send them."""
        self.on_home = False
        text = self.slack_text(text)
        self.slack.say(self.user.id, self.channel.id, text)
        bot = self.workspace.bot
        if f"<@{bot.id}" in text and bot.id not in self.channel.members:
            self.note(f"{bot.real_name} is not in {self._where()}, so it did not hear that.")

    def slash(self, line: str) -> None:
        name, _, text = line.partition(" ")
        text = self.slack_text(text, mentions=name in self.escaped, labelled=True)
        self.on_home = False
        delivery = self.slack.command(self.user.id, self.channel.id, f"{name} {text}".strip())
        if delivery.status != 200:
            self.error(f"Eddy answered {name} with HTTP {delivery.status}.")

    def reply(self, ref: str, text: str) -> None:
        message = self._message(ref)
        if message.ephemeral_to is not None:
            raise SandboxError(
                "that message is only visible to you; there is no thread to reply in"
            )
        self.on_home = False
        thread = message.thread_ts or message.ts
        self.slack.say(self.user.id, message.channel, self.slack_text(text), thread_ts=thread)

    def react(self, ref: str, emoji: str, *, remove: bool = False) -> None:
        message = self._message(ref)
        if message.ephemeral_to is not None:
            raise SandboxError("Slack takes no reactions on a message only you can see")
        self.slack.react(self.user.id, message, emoji, remove=remove)

    def shortcut(self, ref: str, callback_id: str | None = None) -> None:
        """Run a message shortcut from message `ref`'s menu; with no name, the app's only one
        (Slack's menu lists them all, so with several the console asks which)."""
        message = self._message(ref)
        offered = sorted(self.slack.manifest.message_shortcuts)
        if callback_id is None:
            if not offered:
                raise SandboxError("Eddy has no message shortcuts")
            if len(offered) > 1:
                names = ", ".join(offered)
                raise SandboxError(f"say which shortcut: {names} (shortcut {ref} <name>)")
            callback_id = offered[0]
        delivery = self.slack.shortcut(self.user.id, message, callback_id)
        if delivery.status != 200:
            self.error(f"Eddy answered the shortcut with HTTP {delivery.status}.")

    def slack_text(self, text: str, *, mentions: bool = True, labelled: bool = False) -> str:
        """Typed text as Slack's client sends it: `&`, `<` and `>` escaped, and (for messages
        and `should_escape` commands) `@eddy`, `@sam`, `@here` and `#general` as markup."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if not mentions:
            return text

        def replace(match: re.Match[str]) -> str:
            sigil, name = match[1], match[2]
            if sigil == "@" and name.lower() in ("here", "channel", "everyone"):
                return f"<!{name.lower()}>"
            if sigil == "@":
                user = self.workspace.find_user(name)
                if user is None:
                    return match[0]
                return f"<@{user.id}|{user.name}>" if labelled else f"<@{user.id}>"
            channel = self.workspace.find_channel(name)
            if channel is None or channel.is_im:
                return match[0]
            return f"<#{channel.id}|{channel.name}>"

        return REFERENCE.sub(replace, text)

    # --- buttons and views -----------------------------------------------------------------

    def press(self, number: int) -> None:
        button = self.buttons.get(number)
        if button is None:
            raise SandboxError(f"there is no button [{number}] on your screen")
        if button.typed:
            raise SandboxError(
                f"[{number}] “{button.label}” is a text box: type {number} <text> types into it"
                " and presses Enter"
            )
        where = self._where_button_is(button)
        for block, element in self.slack.buttons(where.blocks):
            if self._button(block, element, button.message, button.view_id) == button:
                if element.get("url"):
                    self.note("(Slack would open ", element["url"], " in your browser.)")
                if isinstance(where, View) and where.type == "home":
                    # Pressed from a channel, a button of the Home tab answers on the Home
                    # tab: show its redraw, or its answer goes unseen.
                    self.on_home = True
                self.slack.press_element(self.user.id, where, block, element)
                return
        raise SandboxError(f"button [{number}] “{button.label}” is not there any more")

    def type_into(self, number: int, text: str) -> None:
        """Type `text` into text box [number] of the Home tab or the open modal, then press
        Enter, which sends it to Eddy (only such boxes are numbered; others wait for submit)."""
        box = self.buttons.get(number)
        if box is None:
            raise SandboxError(f"there is no text box [{number}] on your screen")
        if not box.typed:
            raise SandboxError(f"[{number}] “{box.label}” is a button: press it with {number}")
        where = self._where_button_is(box)
        if not isinstance(where, View):
            raise SandboxError("the console types only into the Home tab or a modal")
        block = next(
            (
                block
                for block in where.blocks
                if block.get("type") == "input"
                and self._button(block, block.get("element") or {}, None, where.id) == box
            ),
            None,
        )
        if block is None:
            raise SandboxError(f"text box [{number}] “{box.label}” is not there any more")
        if not dispatches_on_enter(block):
            raise SandboxError(
                f"“{box.label}” is filled in on submit: pressing Enter in it sends nothing to Eddy"
            )
        if where.type == "home":
            self.on_home = True  # typing into the Home tab, so its redraw is shown
        self.slack.enter(self.user.id, where, box.action_id, text)

    def _where_button_is(self, button: Button) -> Message | View:
        if button.message is not None:
            channel_id, ts = button.message
            message = self.workspace.find_message(channel_id, ts)
            channel = self.workspace.channels[channel_id]
            if message is not None and message.visible_to(self.user.id, channel):
                return message
        else:
            views = [self.slack.home(self.user.id), *self.workspace.modals.get(self.user.id, [])]
            for view in views:
                if view is not None and view.id == button.view_id:
                    return view
        raise SandboxError(f"button “{button.label}” is not on your screen any more")

    def _button(
        self,
        block: dict[str, Any],
        element: dict[str, Any],
        message: tuple[str, str] | None,
        view_id: str | None,
    ) -> Button:
        typed = block.get("type") == "input"
        return Button(
            message=message,
            view_id=view_id,
            block_id=str(block.get("block_id", "")),
            action_id=str(element.get("action_id", "")),
            value=str(element.get("value", "")),
            label=plain_text(block.get("label") if typed else element.get("text")),
            typed=typed,
        )

    def _numberer(
        self, *, message: tuple[str, str] | None = None, view_id: str | None = None
    ) -> Callable[[dict[str, Any], dict[str, Any]], int]:
        """Numbers the buttons (and text boxes that send on Enter) of one message or view; a
        button keeps its number when shown again, so a number once seen stays valid while the
        button is there."""

        def number(block: dict[str, Any], element: dict[str, Any]) -> int:
            button = self._button(block, element, message, view_id)
            if button not in self.button_numbers:
                self.button_numbers[button] = len(self.button_numbers) + 1
                self.buttons[self.button_numbers[button]] = button
            return self.button_numbers[button]

        return number

    def do_submit(self) -> None:
        """Ask for each input of the open modal in turn, then submit it."""
        view = self.slack.modal(self.user.id)
        if view is None:
            raise SandboxError("no modal is open (press a button that opens one first)")
        values: dict[str, Any] = {}
        self.note("Fill in “", view.title(), "”; press Enter to keep what is there.")
        for block in view.blocks:
            if block.get("type") != "input":
                continue
            element = block.get("element", {})
            try:
                answer = self._ask_input(block, element)
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                self.note("Not submitted; the modal is still open.")
                return
            if answer is not None:
                values[block.get("block_id") or element.get("action_id", "")] = answer
        delivery = self.slack.submit(self.user.id, values)
        reply = delivery.json()
        if delivery.status != 200:
            self.error(f"Eddy answered the submission with HTTP {delivery.status}.")
        elif reply.get("response_action") == "errors":
            labels = {
                block.get("block_id"): plain_text(block.get("label")) for block in view.blocks
            }
            for block_id, problem in (reply.get("errors") or {}).items():
                self.error(f"{labels.get(block_id) or block_id}: {problem}")
            self.note(
                "The modal is still open: ",
                ("submit", ACCENT),
                " again or ",
                ("cancel", ACCENT),
                ".",
            )

    def _ask_input(self, block: dict[str, Any], element: dict[str, Any]) -> Any:
        """One input's answer, in the form the stand-in submits; None keeps what is there."""
        label = plain_text(block.get("label"))
        options = element.get("options") or []
        for index, option in enumerate(options, start=1):
            self.console.print(
                Text.assemble(("    ", ""), (f"{index} ", ACCENT), option_label(option))
            )
        current = self.renderer.current_value(element)
        while True:
            prompt = Text.assemble(("  " + label, "bold"))
            if current:
                prompt.append(f" [{current}]", DIM)
            prompt.append(": ")
            answer = self.read(prompt).strip()
            if not answer:
                return None
            try:
                return self._input_value(element, answer)
            except AnswerError as refusal:
                self.error(str(refusal))

    def _input_value(self, element: dict[str, Any], answer: str) -> Any:
        kind = str(element.get("type", ""))
        many = kind.startswith("multi_") or kind == "checkboxes"
        answers = [a.strip() for a in answer.split(",") if a.strip()] if many else [answer]
        if element.get("options"):
            chosen = [self._option(element["options"], a) for a in answers]
            return chosen if many else chosen[0]
        if kind.endswith("users_select"):
            people = [self._person(a).id for a in answers]
            return people if many else people[0]
        if kind.endswith(("conversations_select", "channels_select")):
            channels = [self._channel(a).id for a in answers]
            return channels if many else channels[0]
        try:
            if kind == "datepicker":
                return date.fromisoformat(answer).isoformat()
            if kind == "timepicker":
                return time.fromisoformat(answer).strftime("%H:%M")
            if kind == "number_input":
                float(answer)
        except ValueError:
            raise AnswerError(f"that is not {INPUT_FORMATS.get(kind, 'valid')}") from None
        return answer

    def _option(self, options: list[dict[str, Any]], answer: str) -> str:
        if is_number(answer) and 1 <= int(answer) <= len(options):
            return str(options[int(answer) - 1]["value"])
        for option in options:
            if answer.lower() in (
                str(option.get("value", "")).lower(),
                option_label(option).lower(),
            ):
                return str(option["value"])
        raise AnswerError(f"choose one of the options by number (1 to {len(options)})")

    def do_cancel(self) -> None:
        if self.slack.modal(self.user.id) is None:
            raise SandboxError("no modal is open")
        self.slack.close(self.user.id)

    def do_home(self) -> None:
        self.on_home = True
        self.home_shown = 0
        if self.slack.open_home(self.user.id) is None:
            self.note("Eddy has not published a Home tab for you.")

    # --- who and where ---------------------------------------------------------------------

    def do_as(self, name: str) -> None:
        """Become someone else, and see what came for them (DMs, threads and channels they
        are in) since they last looked: since the console started for a first visit."""
        self.looked[self.user.id] = self.seen
        self.user = self._person(name)
        self.renderer.viewer = self.user.id
        if self.channel.is_im:
            self.channel = self.workspace.im_with(self.user.id)
        since = self.looked.get(self.user.id, self.first_seen)
        self.seen = self._latest_seq()
        self.on_home = False
        self.modal_shown = None
        self.note("You are now ", self._who(self.user), ", in ", (self._where(), "bold"), ".")
        missed = self.workspace.seen_by(self.user.id, after_seq=since)
        if not missed:
            self._show_recent()
            return
        if len(missed) > CAUGHT_UP:
            self.note(f"{len(missed)} messages came for you; the last {CAUGHT_UP}:")
        else:
            self.note("Since you last looked:")
        for message in missed[-CAUGHT_UP:]:
            self.show_message(message)

    def do_thread(self, ref: str) -> None:
        """The whole thread a message starts (or is in)."""
        message = self._message(ref)
        parent = message.thread_ts or message.ts
        thread = [
            found
            for found in self.workspace.history(message.channel, thread_ts=parent)
            if found.visible_to(self.user.id, self.workspace.channels[found.channel])
        ]
        if len(thread) <= 1:
            self.note(f"{ref} has no replies yet. reply {ref} <text> starts its thread.")
        for found in thread:
            self.show_message(found)

    def do_in(self, name: str) -> None:
        self.channel = self._channel(name)
        self.on_home = False
        self.note("You are in ", (self._where(), "bold"), ".")
        self._show_recent()

    def do_users(self) -> None:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False)
        for column in ("", "name", "real name", "ID", "time zone", "their time"):
            table.add_column(column)
        now = self.sandbox.clock.now()
        for person in [*self.workspace.users.values(), self.workspace.bot]:
            local = now.astimezone(ZoneInfo(person.tz))
            table.add_row(
                Text("you" if person.id == self.user.id else "", ACCENT),
                Text("@" + person.name, "bold"),
                Text(person.real_name + (" (the app)" if person.is_bot else "")),
                Text(person.id, DIM),
                Text(person.tz),
                Text(f"{local:%a %H:%M}"),
            )
        self.console.print(table)

    def do_channels(self) -> None:
        self.workspace.im_with(self.user.id)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False)
        for column in ("", "channel", "ID", "members", "Eddy is in it"):
            table.add_column(column)
        for channel in self.workspace.channels.values():
            if channel.is_im and channel.im_user != self.user.id:
                continue
            label = (
                "dm  (" + self.renderer.channel_label(channel.id) + ")"
                if channel.is_im
                else f"#{channel.name}"
            )
            table.add_row(
                Text("here" if channel.id == self.channel.id else "", ACCENT),
                Text(label, "bold"),
                Text(channel.id, DIM),
                Text(str(len(channel.members))),
                Text("yes" if self.workspace.bot.id in channel.members else "no"),
            )
        self.console.print(table)

    def do_help(self) -> None:
        table = Table(title=Text("What you can type", "bold"), box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("type", style=ACCENT, no_wrap=True)
        table.add_column("to")
        for command, meaning in HELP:
            table.add_row(Text(command), Text(meaning))
        table.caption = Text("A line that is none of these is posted as a message in this channel.")
        self.console.print(table)

    # --- time ------------------------------------------------------------------------------

    def do_clock(self, move: str | None = None) -> None:
        """Show the sandbox time, or move it forward, running the scheduled jobs along the way
        (at least once an hour of sandbox time, as a deployment runs them every minute), so
        that what falls due in between happens when it would: a lesson at 09:30 goes out
        when `clock +1d` passes 09:30, not a day late or not at all."""
        if move is None:
            self.note("It is ", (self._time(), "bold"), ".")
            return
        delta = parse_duration(move)
        end = self.sandbox.clock.now() + delta
        latest: dict[str, JobRun] = {}
        while True:
            now = self.sandbox.clock.advance(min(JOB_STEP, end - self.sandbox.clock.now()))
            for run in run_jobs(self.sandbox.runtime, now):
                earlier = latest.get(run.name)
                if earlier is None or not run.ok or (earlier.ok and did_something(run.result)):
                    latest[run.name] = run
            self.sandbox.runtime.work.wait_idle()
            if now >= end:
                break
        self.sandbox.keep_time()
        self.note(
            "Moved the clock forward ",
            describe_duration(delta),
            "; it is now ",
            (self._time(), "bold"),
            ".",
        )
        table = Table(
            title=Text("Scheduled jobs run", "bold"), box=box.SIMPLE_HEAD, show_edge=False
        )
        table.add_column("job", style=ACCENT)
        table.add_column("result")
        for run in latest.values():
            outcome = (
                Text("done" if run.result is None else str(run.result))
                if run.ok
                else Text(f"failed (see {CONSOLE_LOG})", ERROR)
            )
            table.add_row(Text(run.name), outcome)
        self.console.print(table)

    def _time(self) -> str:
        now = self.sandbox.clock.now()
        local = now.astimezone(ZoneInfo(self.user.tz))
        day = f"{now:%a} {now.day} {now:%b %Y, %H:%M}"
        return f"{day} UTC ({local:%H:%M} for {self.user.name}, {self.user.tz})"

    # --- what is new -----------------------------------------------------------------------

    def show_new(self) -> None:
        """Everything the person can see that appeared or changed since the last look."""
        latest = self._latest_seq()
        for message in self.workspace.seen_by(self.user.id, after_seq=self.seen):
            self.show_message(message)
        with self.workspace.lock:
            gone = [
                m
                for m in self.workspace.messages
                if m.deleted and m.seq > self.seen and (m.channel, m.ts) in self.message_numbers
            ]
        for message in gone:
            self.note(f"m{self.message_numbers[(message.channel, message.ts)]} was deleted.")
        self.seen = max(self.seen, latest)
        if self.on_home:
            home = self.slack.home(self.user.id)
            if home is not None and home.seq > self.home_shown:
                self.console.print(self.renderer.view(home, button=self._numberer(view_id=home.id)))
                self.home_shown = home.seq
        modal = self.slack.modal(self.user.id)
        shown = (modal.id, modal.seq) if modal is not None else None
        if shown != self.modal_shown:
            if modal is not None:
                self.console.print(
                    self.renderer.view(modal, button=self._numberer(view_id=modal.id))
                )
            else:
                self.note("The modal closed.")
            self.modal_shown = shown

    def show_message(self, message: Message) -> None:
        key = (message.channel, message.ts)
        if key not in self.message_numbers:
            self.message_numbers[key] = len(self.message_numbers) + 1
            self.numbered_messages[self.message_numbers[key]] = key
        parent = self.message_numbers.get((message.channel, message.thread_ts or ""))
        self.console.print(
            self.renderer.message(
                message,
                label=f"m{self.message_numbers[key]}",
                parent=f"m{parent}" if parent else "",
                button=self._numberer(message=key),
            )
        )

    def _show_recent(self) -> None:
        recent = self.workspace.history(self.channel.id)[-RECENT:]
        if not recent:
            self.note("No messages here yet.")
        for message in recent:
            self.show_message(message)

    def _latest_seq(self) -> int:
        with self.workspace.lock:
            return max((m.seq for m in self.workspace.messages), default=0)

    # --- lookups ---------------------------------------------------------------------------

    def _person(self, name: str) -> User:
        user = self.workspace.find_user(name)
        if user is None or user.is_bot:
            people = ", ".join(u.name for u in self.workspace.users.values())
            if user is not None:
                raise SandboxError(f"{user.real_name} is the app; you can be one of: {people}")
            raise SandboxError(f"there is nobody called {name!r} here; you can be one of: {people}")
        return user

    def _channel(self, name: str) -> Channel:
        if name.lower() in ("dm", "@eddy", "eddy"):
            return self.workspace.im_with(self.user.id)
        channel = self.workspace.find_channel(name)
        if channel is None:
            names = ", ".join(f"#{c.name}" for c in self.workspace.channels.values() if not c.is_im)
            raise SandboxError(f"there is no channel {name!r}; there are {names}, and dm")
        if channel.is_im and channel.im_user != self.user.id:
            raise SandboxError("that is someone else's DM")
        return channel

    def _message(self, ref: str) -> Message:
        match = MESSAGE_REF.match(ref)
        key = self.numbered_messages.get(int(match[1])) if match else None
        message = self.workspace.find_message(*key) if key else None
        channel = self.workspace.channels[message.channel] if message else None
        if message is None or channel is None or not message.visible_to(self.user.id, channel):
            raise SandboxError(f"there is no message {ref} on your screen")
        return message

    def _where(self) -> str:
        return self.renderer.channel_label(self.channel.id)

    def _who(self, user: User) -> Text:
        return Text.assemble((user.real_name, "bold"), f" (@{user.name}, {user.tz})")


#: What a refused answer should have looked like, by input type.
INPUT_FORMATS = {
    "datepicker": "a date like 2026-03-14",
    "timepicker": "a time like 09:30",
    "number_input": "a number",
}


def enable_line_editing() -> bool:
    """Arrow keys and history at the prompt, where Python has readline (not on Windows)."""
    with suppress(ImportError):
        importlib.import_module("readline")
        return True
    return False


def line_reader(console: Console, *, readline: bool) -> Read:
    """Read a line after a styled prompt (from a pipe, the line is echoed after it).

    `console.input` prints the prompt itself and hands `input()` an empty one, so readline
    thinks the line starts at column 0 and wipes the prompt when it redraws (arrow keys,
    history). With readline on a terminal, the prompt goes to `input()` instead, rendered to
    ANSI with its escape sequences marked as zero-width (\\001 … \\002) as readline expects.
    """
    if not sys.stdin.isatty():

        def read_piped(prompt: Text) -> str:
            line = console.input(prompt)
            console.print(Text(line))  # echoed, so the transcript reads like a session
            return line

        return read_piped
    if not (readline and console.is_terminal):
        return lambda prompt: console.input(prompt)

    def read(prompt: Text) -> str:
        with console.capture() as captured:
            console.print(prompt, end="")
        return input(ANSI_ESCAPE.sub(lambda code: f"\001{code[0]}\002", captured.get()))

    return read


def run_console(
    settings: Settings,
    *,
    user: str = "alex",
    channel: str = "general",
    database_url: str = SANDBOX_DATABASE_URL,
    console: Console | None = None,
) -> None:
    """Run the sandbox until `quit`, Ctrl-D or Ctrl-C; everything is stopped on the way out."""
    console = console or Console()
    read = line_reader(console, readline=enable_line_editing())
    clock = ManualClock(sandbox_time(settings))
    with open_sandbox(settings, database_url=database_url, clock=clock) as sandbox:
        sandbox.clock_file = Path(SANDBOX_CLOCK_FILE)
        sandbox.keep_time()
        try:
            session = ConsoleSession(
                sandbox, console=console, user=user, channel=channel, read=read
            )
        except SandboxError as error:
            raise SettingsError(f"The sandbox cannot start: {error}.") from None
        session.welcome()
        try:
            while session.handle(read(session.prompt())):
                pass
        except (EOFError, KeyboardInterrupt):
            console.print()
        console.print(Text("Bye! Eddy's sandbox has stopped.", DIM))
