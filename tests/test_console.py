"""The console sandbox, driven as a person at the terminal would: lines in, screen text out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from bot.clock import ManualClock
from bot.settings import load_settings
from sandbox.console import ConsoleSession, Sandbox, open_sandbox
from sandbox.render import Renderer
from sandbox.workspace import Message, View, sandbox_workspace
from tests.conftest import PINNED, ROOT, shipped_content


class Terminal:
    """A console session on a 100-column text screen; prompts read from the same script."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.screen = io.StringIO()
        self.script: list[str] = []
        console = Console(file=self.screen, width=100, color_system=None, force_terminal=False)
        self.session = ConsoleSession(sandbox, console=console, read=self._answer)

    def _answer(self, prompt: Text) -> str:
        if not self.script:
            raise EOFError
        return self.script.pop(0)

    def type(self, *lines: str) -> str:
        """Type `lines` (prompt answers included); return what appeared on the screen."""
        start = len(self.screen.getvalue())
        self.script = list(lines)
        while self.script:
            self.session.handle(self.script.pop(0))
        return self.screen.getvalue()[start:]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    settings = load_settings(env_file=None, eddy_content_dir=ROOT / "content")
    with open_sandbox(
        settings, database_url=f"sqlite:///{tmp_path / 'sandbox.db'}", clock=ManualClock(PINNED)
    ) as sandbox:
        yield sandbox


@pytest.fixture
def terminal(sandbox: Sandbox) -> Terminal:
    return Terminal(sandbox)


def button_number(screen: str, label: str) -> str:
    found = re.search(rf"\[(\d+) {re.escape(label)}\]", screen)
    assert found, f"no numbered {label!r} button on screen:\n{screen}"
    return found[1]


def text_box_number(screen: str, label: str) -> str:
    """The number of the text box (sent with Enter) under the input labelled `label`."""
    found = re.search(rf"{re.escape(label)}[\s│]*\[(\d+) ✎ [^\n]*\] ↵", screen)
    assert found, f"no numbered {label!r} text box on screen:\n{screen}"
    return found[1]


def test_welcome_says_who_and_where(terminal: Terminal) -> None:
    terminal.session.welcome()
    screen = terminal.screen.getvalue()
    assert "Alex Morgan" in screen
    assert "#general" in screen
    assert "help" in screen


def test_help_lists_the_commands(terminal: Terminal) -> None:
    screen = terminal.type("help")
    for command in ("/ask", "reply m3", "press 3", "type 4", "react m3", "home", "submit"):
        assert command in screen
    assert "as sam" in screen
    assert "in dm" in screen
    assert "clock +30m" in screen
    assert "quit" in screen


def test_ask_help_shows_the_usage_of_ask(terminal: Terminal) -> None:
    screen = terminal.type("/ask help")
    assert "Usage: /ask <question> · /ask listening · /ask help" in screen
    assert "(only visible to you)" in screen


def test_mention_gets_a_threaded_reply_that_shows_typed_markup_literally(
    terminal: Terminal,
) -> None:
    screen = terminal.type("@eddy is <!zorkmid> glorpy?")
    question, _, reply = screen.partition("Eddy app")
    assert "m1   Alex Morgan  #general" in question
    assert "@eddy is <!zorkmid> glorpy?" in question
    assert "↳ reply to m1" in reply
    assert "I couldn't find anything about “is <!zorkmid> glorpy?”" in reply


def test_a_typed_at_channel_is_echoed_as_plain_text_not_a_broadcast(
    terminal: Terminal, sandbox: Sandbox
) -> None:
    terminal.type("@eddy does @channel zork the quux?")
    question = sandbox.slack.messages("C0GENERAL")[0]
    assert "<!channel>" in question.text  # what Slack's client makes of a typed @channel
    reply = sandbox.slack.messages("C0GENERAL", thread_ts=question.ts)[-1]
    assert "“does @channel zork the quux?”" in reply.text
    assert "<!channel>" not in reply.text


def test_typing_in_the_home_search_box_answers_by_dm(terminal: Terminal) -> None:
    home = terminal.type("home")
    assert "Eddy · Home" in home
    assert "Your points" in home
    tabs = ("My learning", "Review queue", "Knowledge gaps", "Experts", "Schedules", "Analytics")
    for tab in tabs:  # alex is the sandbox's manager, so the console's tabs are there
        button_number(home, tab)
    search = text_box_number(home, "Ask Eddy")

    answered = terminal.type(f"type {search} how do I reset my vpn password")
    assert "DM with Eddy" in answered
    assert "Reset your VPN password" in answered
    assert "Helpful]" in answered
    assert "Eddy · Home" in answered and "I've answered" in answered
    assert terminal.session.prompt().plain == "alex in Home › "


def test_an_empty_question_in_the_home_search_box_is_refused_on_the_home_tab(
    terminal: Terminal,
) -> None:
    search = text_box_number(terminal.type("home"), "Ask Eddy")
    screen = terminal.type(f"type {search}    ")
    assert "Type a question first" in screen
    assert "DM with Eddy" not in screen


def test_a_text_box_is_typed_into_and_a_button_pressed(terminal: Terminal) -> None:
    home = terminal.type("home")
    search, tab = text_box_number(home, "Ask Eddy"), button_number(home, "Experts")
    assert f"type {search} <text>" in terminal.type(search)
    assert f"is a button: press it with {tab}" in terminal.type(f"type {tab} hello")
    assert terminal.type("type 99 hi").strip() == "there is no text box [99] on your screen"


def test_the_review_queue_tab_button_switches_the_home_tab(terminal: Terminal) -> None:
    home = terminal.type("home")
    screen = terminal.type(button_number(home, "Review queue"))
    assert "Eddy · Home" in screen
    assert re.search(r"^│ Review queue +│$", screen, re.MULTILINE)  # its heading, *Review queue*


def test_a_home_button_pressed_from_a_channel_shows_its_answer(terminal: Terminal) -> None:
    home = terminal.type("home")
    started = terminal.type(button_number(home, "Start: Security basics"))
    next_lesson = re.search(r"\[(\d+) Next lesson: ", started)
    assert next_lesson, started
    terminal.type("/learn stop security")  # typed in the channel: the Home tab is out of view
    screen = terminal.type(next_lesson[1])
    assert "Eddy · Home" in screen and "No lesson is waiting" in screen


def test_switching_person_and_channel(terminal: Terminal) -> None:
    screen = terminal.type("as sam")
    assert "You are now Sam Okafor (@sam, Europe/Berlin), in #general." in screen
    screen = terminal.type("in dm")
    assert "You are in DM with Eddy." in screen
    screen = terminal.type("what is the wifi password")
    assert "Sam Okafor  DM with Eddy" in screen
    assert "Connect to the office or guest wifi" in screen
    assert terminal.session.prompt().plain == "sam in DM with Eddy › "


def test_people_only_see_what_is_theirs(terminal: Terminal) -> None:
    terminal.type("/ask help")
    screen = terminal.type("as kim", "in #general")
    assert "Usage" not in screen


def test_a_reaction_shows_on_the_message(terminal: Terminal) -> None:
    terminal.type("thanks everyone, the release went out")
    screen = terminal.type("react m1 thumbsup")
    assert "m1   Alex Morgan" in screen
    assert ":+1: 1" in screen
    screen = terminal.type("as sam", "react m1 thumbsup")
    assert ":+1: 2" in screen
    screen = terminal.type("unreact m1 thumbsup")
    assert ":+1: 1" in screen


def test_a_helpful_reaction_gives_points_that_badges_shows(terminal: Terminal) -> None:
    terminal.type("the vpn fix: reinstall the profile, then restart")
    terminal.type("as sam", "react m1 white_check_mark")
    screen = terminal.type("as alex", "/badges")
    assert "Your points: 3" in screen and "First thanks" in screen


def test_reply_goes_in_the_thread(terminal: Terminal) -> None:
    terminal.type("who knows the vpn setup?")
    screen = terminal.type("reply m1 @eddy how do I reset the vpn")
    assert "↳ reply to m1" in screen
    assert "Reset your VPN password" in screen


def test_the_clock_moves_and_runs_the_scheduled_jobs(terminal: Terminal) -> None:
    assert "UTC" in terminal.type("clock")
    screen = terminal.type("clock +1d")
    assert "Moved the clock forward 1 day" in screen
    assert "forget-old-events" in screen


def test_a_bad_clock_move_is_explained(terminal: Terminal) -> None:
    assert "clock +30m" in terminal.type("clock tomorrow")


def test_unknown_slash_command_is_not_a_command_of_this_app(terminal: Terminal) -> None:
    screen = terminal.type("/nope")
    assert screen.strip() == "/nope is not a command of this app"


def test_a_typo_of_a_console_command_is_posted_as_a_message(terminal: Terminal) -> None:
    screen = terminal.type("hepl")
    assert "Alex Morgan  #general" in screen
    assert "hepl" in screen


def test_a_missing_button_or_message_is_one_line(terminal: Terminal) -> None:
    assert terminal.type("7").strip() == "there is no button [7] on your screen"
    assert terminal.type("react m9 tada").strip() == "there is no message m9 on your screen"


def test_rich_markup_in_a_message_is_shown_literally(terminal: Terminal) -> None:
    screen = terminal.type("[bold]x[/bold] and [red]y[/] :smile:")
    assert "[bold]x[/bold] and [red]y[/] :smile:" in screen


def test_quit_ends_the_session(terminal: Terminal) -> None:
    assert terminal.session.handle("quit") is False
    assert terminal.session.handle("help") is True


# --- the renderer ---------------------------------------------------------------------------


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(sandbox_workspace(), viewer="U0ALEX001")


def test_mrkdwn_becomes_text(renderer: Renderer) -> None:
    text = renderer.mrkdwn(
        "*bold* _italic_ ~gone~ `a *b*` <@U0SAM0002> <#C0ITHELP1> <#C0GENERAL|general> <!here> "
        "<https://x.dev|the docs> <https://y.dev> &lt;!channel&gt; a &amp;lt; b snake_case_name"
    )
    assert text.plain == (
        "bold italic gone a *b* @sam #it-help #general @here the docs (https://x.dev) "
        "https://y.dev <!channel> a &lt; b snake_case_name"
    )
    styled = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert "bold" in styled["bold"]
    assert "italic" in styled["italic"]
    assert "strike" in styled["gone"]


def test_emphasis_around_a_date_is_drawn_not_shown_as_markers(renderer: Renderer) -> None:
    # A quiz's "I'll ask you again" line: italics around a date token, whose shape has
    # underscores of its own ({date_short_pretty}).
    text = renderer.mrkdwn(
        "_I'll ask you again on <!date^1765180800^{date_short_pretty} at {time}|Tue>._ "
        "*Due <!date^1765180800^{date_short_pretty}|Tue>* "
        "_asked <!date^1765180800^{date_short_pretty} at {time} (your time)|Tue>_"
    )
    assert "_" not in text.plain and "*" not in text.plain and "date" not in text.plain
    styled = [str(span.style) for span in text.spans if text.plain[span.start : span.end]]
    assert any("italic" in style for style in styled) and any("bold" in style for style in styled)


def test_code_blocks_keep_their_text(renderer: Renderer) -> None:
    text = renderer.mrkdwn("Run this:\n```\nvpn --reset *now*\n&lt;tag&gt;\n```\ndone")
    assert text.plain == "Run this:\n▏ vpn --reset *now*\n▏ <tag>\ndone"


def test_unknown_and_broken_blocks_do_not_crash(renderer: Renderer) -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    blocks = [{"type": "hologram"}, {"type": "section", "fields": 7}]
    console.print(renderer.blocks(blocks))
    screen = console.file.getvalue()  # type: ignore[attr-defined]
    assert "hologram block" in screen
    assert "section block" in screen


def test_only_an_input_that_sends_on_enter_is_numbered(renderer: Renderer) -> None:
    def text_input(block_id: str, **block: object) -> dict[str, object]:
        element = {"type": "plain_text_input", "action_id": block_id + "_input"}
        label = {"type": "plain_text", "text": block_id.title()}
        return {"type": "input", "block_id": block_id, "label": label, "element": element, **block}

    blocks = [text_input("search", dispatch_action=True), text_input("note")]
    home = View("V1", "U0ALEX001", "home", {"type": "home", "blocks": blocks}, "h", "V1")
    numbered: list[str] = []

    def number(block: dict[str, object], element: dict[str, object]) -> int:
        numbered.append(str(block["block_id"]))
        return 4

    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderer.view(home, button=number))
    screen = console.file.getvalue()  # type: ignore[attr-defined]
    assert numbered == ["search"]
    assert "[4 ✎ text] ↵" in screen
    assert "filled in on submit" in screen  # the note, which does not send on Enter


def test_a_message_shows_blocks_buttons_and_reactions(renderer: Renderer) -> None:
    message = Message(
        channel="C0GENERAL",
        ts="1700000000.000100",
        text="fallback text",
        user="U0EDDYBOT",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "[b]Lesson[/b]"}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Helpful"}},
                    {
                        "type": "button",
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Not helpful"},
                    },
                ],
            },
        ],
        reactions={"thumbsup": ["U0SAM0002", "U0KIM0003"]},
        edited=True,
    )
    numbers = iter(range(3, 10))
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderer.message(message, label="m4", button=lambda b, e: next(numbers)))
    screen = console.file.getvalue()  # type: ignore[attr-defined]
    assert "m4   Eddy app  #general" in screen
    assert "(edited)" in screen
    assert "[b]Lesson[/b]" in screen
    assert "[3 Helpful]  [4 Not helpful]" in screen
    assert ":thumbsup: 2" in screen
    assert "fallback text" not in screen


# --- the command line -----------------------------------------------------------------------


def run_app(
    tmp_path: Path, *args: str, script: str = "help\nquit\n", **settings: str
) -> subprocess.CompletedProcess[str]:
    """`uv run app.py …` without Slack tokens, from an empty folder, typing `script`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env = {k: v for k, v in env.items() if not k.startswith("EDDY_")} | settings
    env["COLUMNS"] = "100"
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("args", [("console",), ()], ids=["console", "no-command-no-tokens"])
def test_the_console_starts_from_the_command_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    finished = run_app(tmp_path, *args)
    assert finished.returncode == 0, finished.stderr
    assert "Eddy sandbox" in finished.stdout
    assert "What you can type" in finished.stdout
    assert "reply m3" in finished.stdout
    assert (tmp_path / "data" / "sandbox.db").exists()


def test_console_reset_starts_over(tmp_path: Path) -> None:
    first = run_app(tmp_path, "console", "--reset")
    assert "Nothing to start over from" in first.stderr and first.returncode == 0
    database = tmp_path / "data" / "sandbox.db"
    kept = database.stat().st_size
    again = run_app(tmp_path, "console", "--reset")
    assert "Started over: the sandbox's database is gone." in again.stderr
    assert again.returncode == 0 and database.exists() and kept > 0


def test_the_command_line_reaches_the_sandboxs_data_and_time(tmp_path: Path) -> None:
    env = {"EDDY_CLOCK": "2026-03-04T10:00:00+00:00"}
    moved = run_app(tmp_path, "console", script="clock +1d\nquit\n", **env)
    assert moved.returncode == 0, moved.stderr
    kept = (tmp_path / "data" / "sandbox-clock.txt").read_text().strip()
    assert kept == "2026-03-05T10:00:00+00:00"
    export = run_app(tmp_path, "--sandbox", "export", "xapi", script="")
    assert export.returncode == 0, export.stderr  # the sandbox met its workspace: its data
    assert "Exported 0 statements" in export.stderr
    outside = run_app(tmp_path, "export", "xapi", script="")
    assert outside.returncode != 0 and "has not met its Slack workspace" in outside.stderr


def test_a_question_goes_to_the_experts_and_the_answer_comes_back(terminal: Terminal) -> None:
    assert "You've joined the *Security* network" not in terminal.type("as kim")
    assert "joined the Security network" in terminal.type("/experts join security")
    terminal.type("as sam")
    unsure = terminal.type("/ask how do I get a parking permit for the garage")
    form = terminal.type(button_number(unsure, "Ask the experts"))
    assert "Ask the experts" in form and "Topic" in form
    sent = terminal.type("submit", "", "Security")
    assert "I've sent your question to 1 expert of the Security network: @kim" in sent
    kim = terminal.type("as kim", "in dm")
    assert "A question for the Security network from @sam" in kim
    claimed = terminal.type(button_number(kim, "Claim"))
    assert "It's yours" in claimed
    post = re.findall(r"(m\d+) +Eddy", kim)[-1]
    terminal.type(f"reply {post} Ask at the front desk.")
    answer = terminal.type("as sam", "in dm")
    assert "@kim answered your question" in answer and "Ask at the front desk." in answer


def test_a_digit_python_cannot_read_as_a_number_is_said_not_pressed(terminal: Terminal) -> None:
    """`str.isdigit` takes "²" (which `int` refuses): typed alone, it is a message like any."""
    screen = terminal.type("²")
    assert "That failed" not in screen
    assert "Alex Morgan" in screen and "²" in screen


def test_as_shows_what_came_for_them_since_they_last_looked(terminal: Terminal) -> None:
    terminal.type("as kim", "/experts join security")
    terminal.type("as sam", "/ask how do I get a parking permit for the garage")
    unsure = terminal.type("/ask how do I get a parking permit for the garage")
    terminal.type(button_number(unsure, "Ask the experts"), "submit", "", "Security")
    asked = terminal.type("who has the release notes?")
    number = re.findall(r"(m\d+) +Sam Okafor", asked)[-1]
    terminal.type(f"reply {number} they are in the wiki")
    kim = terminal.type("as kim")  # in #general, not her DM: what came for her still shows
    assert "Since you last looked:" in kim
    assert "A question for the Security network from @sam" in kim
    assert "they are in the wiki" in kim  # a thread reply in a channel she is in


def test_thread_shows_the_whole_thread(terminal: Terminal) -> None:
    terminal.type("who has the release notes?")
    terminal.type("reply m1 they are in the wiki", "reply m1 and in #general's topic")
    screen = terminal.type("thread m1")
    assert "who has the release notes?" in screen
    assert "they are in the wiki" in screen and "and in #general" in screen
    lonely = terminal.type("a new message nobody answers")
    number = re.findall(r"(m\d+) +Alex Morgan", lonely)[-1]
    assert f"{number} has no replies yet" in terminal.type(f"thread {number}")


def test_an_edited_content_file_is_picked_up_without_moving_the_clock(tmp_path: Path) -> None:
    """The sandbox's clock stands still, but content edits arrive in real time, as in a
    deployment (every minute; here every few milliseconds)."""
    content = shipped_content(tmp_path)
    entry = content / "knowledge" / "it" / "reset-vpn-password.md"
    settings = load_settings(env_file=None, eddy_content_dir=content)
    with open_sandbox(
        settings,
        database_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        clock=ManualClock(PINNED),
        content_every=0.01,
    ) as sandbox:
        entry.write_text(
            entry.read_text().replace("title: Reset your VPN password", "title: VPN access")
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = sandbox.runtime.catalogue.get("reset-vpn-password")
            if found is not None and found.title == "VPN access":
                break
            time.sleep(0.01)
        found = sandbox.runtime.catalogue.get("reset-vpn-password")
        assert found is not None and found.title == "VPN access"


def test_a_long_clock_move_delivers_what_falls_due_on_the_way(terminal: Terminal) -> None:
    """A deployment runs the jobs every minute; `clock +1d6h` runs them along the way, so the
    lesson due at 09:30 Berlin goes out then, not skipped as a day-old slot at the end."""
    terminal.type("as sam", "/learn start security-basics")  # Wed 11:00 in Berlin
    screen = terminal.type("clock +1d6h")  # to Thu 17:00 in Berlin
    assert "lesson 2 of 7" in screen, screen
