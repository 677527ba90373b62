"""Who may press what, for every button, modal and shortcut Eddy listens for.

TABLE has one row per action_id / callback_id (keyed on the handler modules' constants): who
may press it, a setup that produces the real thing through the front door, and a forged
press by someone who may not (Rio: no manager, asked nothing, was sent nothing). Each forged
press must change nothing anyone else sees (messages, DMs, Home tabs, modals: the workspace
is compared before and after), make no Web API call except a plain answer to the presser,
be logged at WARNING when it is a refusal, and leave the real thing working for whoever may
press it. `test_the_table_has_a_row_for_every_listener` fails when a listener is registered
without a row (or a row names no listener).

Who may press what (the rows below say the same, listener by listener):

- home_search_input: anyone (asks for themselves).
- ask_helpful, ask_not_helpful, ask_share: the person who asked.
- ask_show: the person who asked; anyone, on an answer given in a channel's thread.
- ask_experts, experts_question_modal: the person who asked.
- experts_claim, experts_answer, experts_answer_modal, home_claim: for a question posted
  in its network's channel, anyone but the asker; for one sent by DM, the experts it was
  sent to (while in the network), the topic's managers and community managers; once
  claimed, its claimer.
- experts_resolved, experts_not_yet: the person who asked.
- experts_save, experts_save_modal: the expert who answered, the person who asked, the
  topic's managers, community managers.
- experts_approve, experts_edit, experts_reject, experts_edit_modal, review_reject_modal,
  review_view_draft: the managers of the draft's topic, community managers.
- experts_console_edit, experts_console_modal: the topic's managers, community managers.
- save_to_eddy: anyone, on a message in a conversation they are in (or a public channel).
- review_suggest_modal: who opened it (its metadata is sealed for them).
- review_view_entry, home_read: anyone (the knowledge index is everyone's).
- review_edit_entry, review_entry_modal, review_still_true: the entry's owner, community
  managers.
- review_looks_fine, review_write_gap, review_gap_modal: community managers.
- review_confirm_learned, review_remove_learned: community managers.
- review_approve_import: the managers of each page's topic, community managers.
- review_remove_gone: community managers.
- home_tab: anyone, for their own tab; the console's tabs: community managers.
- home_page, home_period: community managers (they page the console).
- home_report_path, home_report_team, home_report_everyone: community managers, and a path's
  owners (for the paths they own): the Learning tab's choice of path and team.
- home_next_lesson, home_start_path, lessons_start, lessons_resume: anyone, for themselves.
- lessons_answer_<n>, lessons_done: the person the lesson was sent to; anyone, on a lesson
  posted in a channel.
- lessons_known ("I know this"): the person the lesson was sent to (only lessons sent by DM
  have it).
- lessons_place_<n> (a placement check's options): the person the check was sent to.
- lessons_link: anyone (a link: nothing to do).
- lessons_schedule_add, _change, _pause, _resume, lessons_schedule_modal: community managers.
- listen_helpful, listen_not_helpful: anyone who sees the answer in a help channel's thread
  (the asker's rating teaches as anywhere; anyone's Not helpful takes the answer away).
- listen_turn_on: community managers, and the managers of the topic whose channel it is.
- listen_channel_add, _change, _stop, listen_channel_modal: community managers, and the
  managers of the topic whose channel it is.
- assign_add, assign_remove, assign_modal: community managers, and a path's owners (for
  that path).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers import ask as ask_handlers
from handlers import assignments as assignment_handlers
from handlers import home as home_handlers
from handlers import learning_reports as report_handlers
from handlers import lesson_reminders as reminder_handlers
from handlers import lessons as lesson_handlers
from handlers import listening as listening_handlers
from handlers import networks as network_handlers
from handlers import review as review_handlers
from sandbox import SlackStandIn
from sandbox.webapi import ResponseUrl
from sandbox.workspace import Channel, Message, View
from tests.conftest import (
    ALEX,
    EDDY,
    GENERAL,
    IT_HELP,
    KIM,
    MANIFEST,
    RIO,
    ROOT,
    SAM,
    SIGNING_SECRET,
    Instance,
    shipped_content,
)
from tests.test_ask import shown
from tests.test_cli import eddy as eddy_cli
from tests.test_home import forge, prefilled, seen
from tests.test_manifest import describe

#: Nothing in the shipped index answers this confidently.
UNKNOWN = "how do I get a parking permit for the new office garage"
#: Answered confidently, with other candidates to Show.
KNOWN = "how do i reset my vpn password"
#: Who forges: no manager, asked nothing, and was sent nothing.
OUTSIDER = RIO
#: Web API methods that only read (or open a DM, which shows nobody anything).
READING = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.info",
        "conversations.members",
        "conversations.open",
        "conversations.replies",
        "conversations.history",
        "chat.getPermalink",
        "conversations.list",
        "usergroups.list",
        "usergroups.users.list",
    }
)
#: Extra topics, so that the console's Experts tab has a second page.
EXTRA_TOPICS = 11


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content, with #it-help as the IT help network's channel, a Security
    network that DMs one expert per question, enough topics for two pages of the console's
    Experts tab, and a one-lesson path without a quiz (so it has "Mark as done")."""
    folder = shipped_content(
        tmp_path,
        topics={"security": {"experts_per_question": 1}},
        more_topics=[
            {"key": f"extra-{number}", "name": f"Extra topic {number}"}
            for number in range(EXTRA_TOPICS)
        ],
    )
    (folder / "lessons" / "no-quiz.yml").write_text(
        yaml.safe_dump(
            {
                "title": "No quiz",
                "lessons": [
                    {
                        "id": "read-only",
                        "title": "Read only",
                        "minutes": 1,
                        "body": "Read this, then mark it done.",
                        "link": "https://example.com/more",
                    }
                ],
            }
        )
    )
    return folder


#: What a setup that imports needs besides the stand-in: the Eddy instance (its database) and a
#: folder to import from (filled for each test by `importing_context`).
IMPORTING: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def importing_context(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    if "instance" in request.fixturenames:
        IMPORTING.update(instance=request.getfixturevalue("instance"), tmp_path=tmp_path)
    yield
    IMPORTING.clear()


# --- pressing, as the person could and as they could not ---------------------------------------


def element(where: Message | View, label: str) -> tuple[dict, dict]:
    """The (block, element) of the button labelled `label` (or starting so) on a message
    or a view."""
    for block in where.blocks:
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for candidate in elements:
            if candidate.get("type") != "button":
                continue
            if candidate["text"]["text"].startswith(label):
                return block, candidate
    raise AssertionError(f"no button {label!r} there")


def value_of(where: Message | View, label: str) -> str:
    return str(element(where, label)[1].get("value", ""))


def press_as(slack, user: str, where: Message | View, label: str, **changes: Any):
    """`user` presses the real button `label` on a message or a view they may not have been
    shown (`changes` alter the element, e.g. its value)."""
    block, found = element(where, label)
    return slack.press_element(user, where, block, {**found, **changes})


def submit_as(slack, user: str, view: View, values: dict[str, Any] | None = None):
    """`user` submits a copy of someone else's open modal (with `values` filled in)."""
    payload = slack._interaction("view_submission", slack.workspace.user(user))
    payload["view"] = slack._view_with_state(view, values or {})
    payload["response_urls"] = []
    return slack.send_payload(payload)


def shortcut_as(slack, user: str, message: Message):
    """`user` runs "Save to Eddy" on a message, whether or not they can see it."""
    payload = slack._interaction("message_action", slack.workspace.user(user))
    token = slack.api.new_response_url(ResponseUrl(user, message.channel))
    payload |= {
        "callback_id": review_handlers.SAVE_SHORTCUT,
        "action_ts": "1.000001",
        "channel": {"id": message.channel, "name": "directmessage"},
        "message_ts": message.ts,
        "message": message.to_api(slack.workspace.team_id),
        "response_url": f"{slack.server.base_url}/respond/{token}",
    }
    return slack.send_payload(payload)


def latest(messages: list[Message], words: str) -> Message:
    return next(m for m in reversed(messages) if words in shown(m))


def open_console(slack, tab: str) -> View:
    home = slack.open_home(ALEX)
    press_as(slack, ALEX, home, tab)
    return slack.home(ALEX)


# --- the real things to press -------------------------------------------------------------------


def sams_answer(slack) -> Message:
    """Sam's ephemeral answer to /ask, with Helpful, Not helpful, Share, Ask the experts and
    Show for the other candidates."""
    slack.command(SAM, GENERAL, f"/ask {KNOWN}")
    return slack.ephemerals(SAM)[-1]


def sams_unknown(slack) -> Message:
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    return slack.ephemerals(SAM)[-1]


def sams_question_form(slack) -> View:
    """Kim and Rio are Security experts; Sam has the "Ask the experts" form open."""
    for expert in (KIM, RIO):
        slack.command(expert, GENERAL, "/experts join security")
    slack.press(SAM, sams_unknown(slack), "Ask the experts")
    return open_modal(slack, SAM)


def sent_to_kim(slack) -> Message:
    """Sam's question, sent by DM to one Security expert: Kim (Rio, also an expert, was not
    chosen: the tie goes to the lower ID). Kim's DM of it."""
    sams_question_form(slack)
    slack.submit(SAM, {"experts_topic": "security"})
    post = latest(slack.dms(KIM), "A question for the")
    assert not [m for m in slack.dms(RIO) if "A question for the" in shown(m)]
    return post


def open_modal(slack, user: str) -> View:
    """The modal `user` has open (there must be one)."""
    form = slack.modal(user)
    assert form is not None
    return form


def kims_answer_form(slack) -> View:
    post = sent_to_kim(slack)
    slack.press(KIM, post, "Answer")
    return open_modal(slack, KIM)


def answered_to_sam(slack) -> Message:
    """Kim answered in the thread of her DM; Sam's DM has the answer (Resolved / Not yet)."""
    post = sent_to_kim(slack)
    slack.say(KIM, post.channel, "Ask at the front desk for a permit.", thread_ts=post.ts)
    return latest(slack.dms(SAM), "answered your question")


def resolved_for_sam(slack) -> Message:
    answer = answered_to_sam(slack)
    slack.press(SAM, answer, "Resolved")
    return latest(slack.dms(SAM), "answered your question")


def sams_save_form(slack) -> View:
    slack.press(SAM, resolved_for_sam(slack), "Save to knowledge index")
    return open_modal(slack, SAM)


def draft_card(slack) -> Message:
    """A message of Kim's saved by Sam with the shortcut: its card in Alex's (the
    reviewer's) DM, with Approve, Edit and Reject."""
    message = slack.say(KIM, GENERAL, "Parking permits: ask the front desk, bring your badge.")
    slack.shortcut(SAM, message, review_handlers.SAVE_SHORTCUT)
    slack.submit(SAM, {"entry_title": "Parking permits"})
    return latest(slack.dms(ALEX), "A new knowledge entry for review")


def alex_form(label: str) -> Callable[[Any], View]:
    def opened(slack) -> View:
        slack.press(ALEX, draft_card(slack), label)
        return open_modal(slack, ALEX)

    return opened


def sams_suggestion_form(slack) -> View:
    message = slack.say(KIM, GENERAL, "Parking permits: ask the front desk.")
    slack.shortcut(SAM, message, review_handlers.SAVE_SHORTCUT)
    return open_modal(slack, SAM)


def kims_private_thread(slack) -> Message:
    """Kim's DM with Eddy: the question sent to her, and her answer in its thread."""
    post = sent_to_kim(slack)
    slack.say(KIM, post.channel, "Ask at the front desk for a permit.", thread_ts=post.ts)
    return post


def entry_form(slack) -> View:
    forge(slack, ALEX, review_handlers.EDIT_ENTRY, "reset-vpn-password")
    form = slack.modal(ALEX)
    assert form is not None and form.title() == "Edit entry"
    return form


def flagged(slack) -> str:
    slack.press(SAM, sams_answer(slack), "Not helpful")
    return "reset-vpn-password"


def learned(slack) -> str:
    """Sam teaches the wording of his question to another entry (learned wording 1)."""
    answer = sams_answer(slack)
    slack.press(SAM, answer, "Show")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Helpful")
    return "1"


def alex_removes_the_wording(slack, learned_id: str) -> None:
    forge(slack, ALEX, review_handlers.REMOVE_LEARNED, learned_id)
    assert "won't be learned again" in seen(slack.home(ALEX))


def alex_confirms_the_wording(slack, learned_id: str) -> None:
    forge(slack, ALEX, review_handlers.CONFIRM_LEARNED, learned_id)
    assert "now leads everyone" in seen(slack.home(ALEX))


def gaps_tab(slack) -> View:
    sams_unknown(slack)
    return open_console(slack, "Knowledge gaps")


def gap_form(slack) -> View:
    press_as(slack, ALEX, gaps_tab(slack), "Write entry")
    return open_modal(slack, ALEX)


def sams_lesson(path: str) -> Callable[[Any], Message]:
    def started(slack) -> Message:
        slack.command(SAM, GENERAL, f"/learn start {path}")
        return latest(slack.dms(SAM), "lesson 1 of")

    return started


def sams_placement_check(slack) -> Message:
    slack.command(SAM, GENERAL, "/learn start first-week")
    return latest(slack.dms(SAM), "what do you know already?")


def first_option(prefix: str) -> Callable[[Message], str]:
    """The label of the first button whose action_id starts with `prefix`."""

    def label(message: Message) -> str:
        found = next(
            element
            for block in message.blocks
            for element in block.get("elements", [])
            if str(element.get("action_id", "")).startswith(prefix)
        )
        return str(found["text"]["text"])

    return label


def sam_answers_a_placement_item(slack, check: Message) -> None:
    slack.press(SAM, check, first_option("lessons_place_")(check))
    assert "Right: you know this" in shown(check) or "Not this time" in shown(check)


def sams_home_with_a_lesson(slack) -> View:
    slack.command(SAM, GENERAL, "/learn start security-basics")
    home = slack.open_home(SAM)
    assert home is not None
    return home


def sams_paths(slack) -> Message:
    slack.command(SAM, GENERAL, "/learn paths")
    return slack.ephemerals(SAM)[-1]


def scheduled(slack) -> View:
    slack.command(ALEX, GENERAL, f"/learn schedule security-basics <#{GENERAL}|general> 09:00")
    return open_console(slack, "Schedules")


def paused(slack) -> View:
    press_as(slack, ALEX, scheduled(slack), "Pause")
    return slack.home(ALEX)


def console_form(tab: str, label: str) -> Callable[[Any], View]:
    def opened(slack) -> View:
        setup = scheduled if label == "Change" else None
        view = setup(slack) if setup else open_console(slack, tab)
        press_as(slack, ALEX, view, label)
        return open_modal(slack, ALEX)

    return opened


def learning_report(slack) -> View:
    """The console's Learning tab, on a path Sam started (so there is someone to show)."""
    slack.command(SAM, GENERAL, "/learn start security-basics")
    return open_console(slack, "Learning")


def learning_report_for_a_team(slack) -> View:
    slack.enter(ALEX, learning_report(slack), report_handlers.REPORT_TEAM, "@support-team")
    return slack.home(ALEX)


def acting(action: dict[str, Any]) -> Callable[[Any, Any], Any]:
    """The outsider sends `action` (a select's pick, an input's Enter) from a copy of the
    view that has it, as if it were on their screen."""

    def forged(slack, where: View):
        payload = slack._interaction("block_actions", slack.workspace.user(OUTSIDER))
        payload["container"] = {"type": "view", "view_id": where.id}
        payload["view"] = slack._view_with_state(where, {})
        payload["actions"] = [{"block_id": "x", "action_ts": "1.000001", **action}]
        return slack.send_payload(payload)

    return forged


def alex_reports_on(then: str, words: str = "") -> Callable[[Any, View], None]:
    """Alex picks another path (`words` empty) or enters a team, and sees it reported."""

    def afterwards(slack, view: View) -> None:
        current = slack.home(ALEX)
        if words:
            slack.enter(ALEX, current, report_handlers.REPORT_TEAM, words)
        elif "Everyone" in [b["text"]["text"] for _, b in slack.buttons(current.blocks)]:
            slack.press(ALEX, current, "Everyone")
        else:
            slack.choose(ALEX, current, report_handlers.REPORT_PATH, "Giving feedback")
        assert then in seen(slack.home(ALEX))

    return afterwards


def experts_tab(slack) -> View:
    return open_console(slack, "Experts")


def imported_batch(slack) -> View:
    """Two pages imported from a docs folder wait in the review queue, as one batch."""
    instance, tmp_path = IMPORTING["instance"], IMPORTING["tmp_path"]
    folder = tmp_path / "handbook"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bikes.md").write_text("# Bike parking\n\nThe courtyard rack behind building B.\n")
    (folder / "desks.md").write_text("# Hot desks\n\nBook a desk in the workplace app.\n")
    done = eddy_cli(
        "content",
        "import",
        str(folder),
        cwd=folder.parent,
        DATABASE_URL=instance.runtime.settings.database_url,
        EDDY_MANAGERS=ALEX,
    )
    assert done.returncode == 0, done.stderr
    instance.runtime.catalogue.refresh(instance.runtime)
    return open_console(slack, "Review queue")


def gone_page(slack) -> View:
    """An entry imported and published from a docs folder whose page a later import no longer
    found: kept, and flagged in the review queue with Keep it and Remove."""
    instance, tmp_path = IMPORTING["instance"], IMPORTING["tmp_path"]
    folder = tmp_path / "handbook"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bikes.md").write_text("# Bike parking\n\nThe courtyard rack behind building B.\n")
    (folder / "desks.md").write_text("# Hot desks\n\nBook a desk in the workplace app.\n")
    for _ in range(2):
        done = eddy_cli(
            "content",
            "import",
            str(folder),
            "--publish",
            cwd=folder.parent,
            DATABASE_URL=instance.runtime.settings.database_url,
            EDDY_MANAGERS=ALEX,
        )
        assert done.returncode == 0, done.stderr
        (folder / "desks.md").unlink(missing_ok=True)
    instance.runtime.catalogue.refresh(instance.runtime)
    return open_console(slack, "Review queue")


def alex_removes_the_gone_entry(slack, _: Any) -> None:
    press_as(slack, ALEX, open_console(slack, "Review queue"), "Remove")
    assert "Removed *Hot desks*" in seen(slack.home(ALEX))


def the_batch_still_waits(slack, _: Any) -> None:
    queue = open_console(slack, "Review queue")
    assert "2 imported pages waiting" in seen(queue)
    press_as(slack, ALEX, queue, "Approve all")
    assert "Approved 2 imported pages" in seen(slack.home(ALEX))


def sams_channel_answer(slack) -> Message:
    """Sam asked with /ask (question 1), then in #it-help, where Eddy listens (question 2):
    Eddy's answer in the thread, with Helpful, Not helpful and Ask the experts."""
    sams_answer(slack)
    slack.command(ALEX, GENERAL, f"/ask listen <#{IT_HELP}|it-help>")
    question = slack.say(SAM, IT_HELP, KNOWN + "?")
    return slack.messages(IT_HELP, thread_ts=question.ts)[-1]


def listening_offer(slack) -> Message:
    """Alex invited Eddy to #random: his DM offering to listen there."""
    slack.invite(ALEX, "C0RANDOM1", EDDY)
    return latest(slack.dms(ALEX), "Is it a help channel?")


def help_channels_tab(slack) -> View:
    slack.command(ALEX, GENERAL, f"/ask listen <#{IT_HELP}|it-help>")
    return open_console(slack, "Help channels")


def help_channel_form(slack) -> View:
    press_as(slack, ALEX, help_channels_tab(slack), "Change")
    return open_modal(slack, ALEX)


SUPPORT_LINK = "<!subteam^S0SUPPORT1|@support-team>"


def alex_assigned_a_path(slack) -> None:
    slack.command(ALEX, GENERAL, f"/learn assign security-basics {SUPPORT_LINK}")


def assigned_tab(slack) -> View:
    alex_assigned_a_path(slack)
    return open_console(slack, "Assigned")


def assign_form(slack) -> View:
    press_as(slack, ALEX, open_console(slack, "Assigned"), "Assign a path")
    return open_modal(slack, ALEX)


# --- what the allowed press still does afterwards ----------------------------------------------


def sam_presses(label: str, then: str) -> Callable[[Any, Message], None]:
    def afterwards(slack, message: Message) -> None:
        slack.press(SAM, message, label)
        told = [shown(m) for m in [*slack.ephemerals(SAM)[-2:], *slack.dms(SAM)[-2:], message]]
        assert any(then in text for text in told), told

    return afterwards


def sam_submits(values: dict[str, Any], then: Callable[[Any], bool]) -> Callable:
    def afterwards(slack, form: View) -> None:
        slack.submit(SAM, values)
        assert then(slack)

    return afterwards


def sam_opens(label: str) -> Callable[[Any, Message], None]:
    def afterwards(slack, message: Message) -> None:
        slack.press(SAM, message, label)
        assert slack.modal(SAM) is not None

    return afterwards


def sam_answers_the_quiz(slack, lesson: Message) -> None:
    slack.press(SAM, lesson, next_quiz_option(lesson))
    assert "Right:" in shown(lesson) or "The answer is" in shown(lesson)


def alex_publishes_it_as_proposed(slack, form: View) -> None:
    slack.submit(ALEX, {})
    slack.command(RIO, GENERAL, "/ask parking permits front desk")
    assert "Forged title" not in shown(slack.ephemerals(RIO)[-1])
    assert "Parking permits" in shown(slack.ephemerals(RIO)[-1])


def the_gap_is_still_open(slack, _: Any) -> None:
    assert "parking permit" in seen(open_console(slack, "Knowledge gaps"))


def kim_claims(slack, post: Message) -> None:
    slack.press(KIM, post, "Claim")
    assert "It's yours" in shown(slack.ephemerals(KIM)[-1])


def kim_answers(slack, form: View) -> None:
    slack.submit(KIM, {"experts_answer": "At the front desk."})
    assert "At the front desk." in shown(latest(slack.dms(SAM), "answered your question"))


def alex_approves(slack, card: Message) -> None:
    slack.press(ALEX, card, "Approve")
    assert "Approved by" in shown(latest(slack.dms(ALEX), "Parking permits"))


def alex_rejects(slack, form: View) -> None:
    slack.submit(ALEX, {"review_reason": "Not ours to say."})
    assert "Their reason" in latest(slack.dms(SAM), "was not added").text


def alex_clears_the_flag(slack, slug: str) -> None:
    forge(slack, ALEX, review_handlers.LOOKS_FINE, slug)
    assert "Cleared the flag: the entry stays as it is" in seen(slack.home(ALEX))


def vpn_entry_unchanged(slack, _: Any) -> None:
    slack.command(SAM, GENERAL, f"/ask {KNOWN}")
    assert "Hacked" not in shown(slack.ephemerals(SAM)[-1])


def schedule_still_running(slack, _: Any) -> None:
    slack.command(ALEX, GENERAL, "/learn schedules")
    assert "next" in shown(slack.ephemerals(ALEX)[-1])


def schedule_still_paused(slack, _: Any) -> None:
    slack.command(ALEX, GENERAL, "/learn schedules")
    assert "paused" in shown(slack.ephemerals(ALEX)[-1])


def experts_unchanged(slack, _: Any) -> None:
    slack.command(ALEX, GENERAL, "/experts list it-help")
    assert "Nobody yet" in shown(slack.ephemerals(ALEX)[-1])


def still_listening(slack, _: Any) -> None:
    slack.command(ALEX, GENERAL, "/ask listening")
    assert "<#C0ITHELP1>: answers at most 20 an hour" in shown(slack.ephemerals(ALEX)[-1])


def still_assigned(slack, _: Any) -> None:
    slack.command(ALEX, GENERAL, "/learn assigned")
    assert "@support-team" in shown(slack.ephemerals(ALEX)[-1])


def alex_assigns_kim(slack, form: View) -> None:
    assert not [m for m in slack.dms(KIM) if "assigned you" in shown(m)]
    slack.submit(ALEX, {"assign_path": "security-basics", "assign_people": [KIM]})
    assert [m for m in slack.dms(KIM) if "assigned you" in shown(m)]


def the_answer_is_still_there(slack, answer: Message) -> None:
    assert not answer.deleted
    slack.press(SAM, answer, "Not helpful")
    assert answer.deleted


def alex_turns_it_on(slack, offer: Message) -> None:
    slack.press(ALEX, offer, "Answer questions there")
    slack.command(ALEX, GENERAL, "/ask listening")
    assert "<#C0RANDOM1>" in shown(slack.ephemerals(ALEX)[-1])


def nobody_shared(slack, answer: Message) -> None:
    assert not [m for m in slack.messages(GENERAL) if "asked:" in shown(m)]
    slack.press(SAM, answer, "Share in channel")
    assert [m for m in slack.messages(GENERAL) if f"<@{SAM}> asked:" in shown(m)]


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One listener: who may press it, and a forged press by someone who may not."""

    listener: str | re.Pattern[str]
    who: str
    setup: Callable[[Any], Any]
    forged: Callable[[Any, Any], Any]
    #: Words of the plain answer the presser gets (None: there is nothing to answer).
    answer: str | None
    #: The allowed press afterwards, which must still work (so nothing had changed).
    afterwards: Callable[[Any, Any], None] | None = None
    #: Whether the forged press is a refusal (logged at WARNING), not a value naming nothing.
    refusal: bool = True

    @property
    def name(self) -> str:
        key = self.listener if isinstance(self.listener, str) else self.listener.pattern
        return re.sub(r"[^a-z0-9_]", "", key)


def on_home(action: Any, value: Any) -> Callable[[Any, Any], Any]:
    return lambda slack, _: forge(slack, OUTSIDER, action, value)


def pressing(label: str, **changes: Any) -> Callable[[Any, Any], Any]:
    return lambda slack, where: press_as(slack, OUTSIDER, where, label, **changes)


def submitting(values: dict[str, Any] | None = None) -> Callable[[Any, Any], Any]:
    return lambda slack, form: submit_as(slack, OUTSIDER, form, values)


ASKER = "the person who asked"
TAKERS = (
    "channel question: anyone but the asker; DM question: the experts it was sent to, the "
    "topic's managers, community managers; once claimed: its claimer"
)
REVIEWERS = "the draft topic's managers, community managers"
MANAGERS = "community managers"
EDITORS = "the entry's owner, community managers"
SAVERS = "the expert who answered, the asker, the topic's managers, community managers"
SENT_TO = "the person the lesson was sent to; anyone, on a lesson posted in a channel"
NOT_SENT = "only they and the topic's managers can claim or answer it"
NOT_ASKER = "only the person who asked can share this answer or pick another one"
NOT_REVIEWER = "can review entries"
NOT_MANAGER = "Only community managers can do that."
NOT_SCHEDULER = "Only community managers can change the lessons scheduled into channels."
NOT_EXPERT_MANAGER = "Only community managers can change who is an expert."
ANYONE_IN_THE_THREAD = "anyone who sees the answer in a help channel's thread"
CHANNEL_MANAGERS = "community managers, the managers of the topic whose channel it is"
ASSIGNERS = "community managers, a path's owners (for that path)"
NOT_ASSIGNER = "Only community managers, and a path's owners, can assign it or unassign it."
NOT_A_LISTENER = "Only community managers, or the managers of the topic whose channel it is"

TABLE: tuple[Row, ...] = (
    # --- Ask -------------------------------------------------------------------------------------
    Row(
        ask_handlers.SEARCH,
        "anyone (asks for themselves)",
        lambda slack: None,
        on_home(ask_handlers.SEARCH, "   "),  # nothing but spaces
        "Type a question first",
        refusal=False,
    ),
    Row(
        ask_handlers.HELPFUL,
        ASKER,
        sams_answer,
        pressing("Helpful"),
        "Only the person who asked can rate this answer.",
        sam_presses("Helpful", "Thanks"),
    ),
    Row(
        ask_handlers.NOT_HELPFUL,
        ASKER,
        sams_answer,
        pressing("Not helpful"),
        "Only the person who asked can rate this answer.",
        sam_presses("Not helpful", "flagged this answer"),
    ),
    Row(
        ask_handlers.SHARE,
        ASKER,
        sams_answer,
        pressing("Share in channel"),
        NOT_ASKER,
        nobody_shared,
    ),
    Row(
        ask_handlers.SHOW,
        f"{ASKER}; anyone, on an answer given in a channel's thread",
        sams_answer,
        pressing("Show"),
        NOT_ASKER,
        sam_presses("Helpful", "Thanks"),
    ),
    # --- Subject-matter networks -------------------------------------------------------------
    Row(
        ask_handlers.ASK_EXPERTS,
        ASKER,
        sams_unknown,
        pressing("Ask the experts"),
        "Only the person who asked can send this question",
        sam_opens("Ask the experts"),
    ),
    Row(
        network_handlers.QUESTION_MODAL,
        ASKER,
        sams_question_form,
        submitting({"experts_topic": "security"}),
        "only the person who asked can send this question",
        sam_submits(
            {"experts_topic": "security"},
            lambda slack: any("A question for the" in shown(m) for m in slack.dms(KIM)),
        ),
    ),
    Row(network_handlers.CLAIM, TAKERS, sent_to_kim, pressing("Claim"), NOT_SENT, kim_claims),
    Row(network_handlers.ANSWER, TAKERS, sent_to_kim, pressing("Answer"), NOT_SENT, kim_claims),
    Row(
        network_handlers.ANSWER_MODAL,
        TAKERS,
        kims_answer_form,
        submitting({"experts_answer": "Forged answer."}),
        NOT_SENT,
        kim_answers,
    ),
    Row(
        home_handlers.CLAIM,
        TAKERS,
        sent_to_kim,
        lambda slack, post: forge(slack, OUTSIDER, home_handlers.CLAIM, value_of(post, "Claim")),
        NOT_SENT,
        kim_claims,
    ),
    Row(
        network_handlers.RESOLVED,
        ASKER,
        answered_to_sam,
        pressing("Resolved"),
        "Only the person who asked can mark this resolved.",
        sam_presses("Resolved", "You marked this resolved"),
    ),
    Row(
        network_handlers.NOT_YET,
        ASKER,
        answered_to_sam,
        pressing("Not yet"),
        "Only the person who asked can say this.",
        sam_presses("Not yet", "their reply will come here"),
    ),
    Row(
        network_handlers.SAVE,
        SAVERS,
        resolved_for_sam,
        pressing("Save to knowledge index"),
        review_handlers.NOT_A_SAVER,
        sam_opens("Save to knowledge index"),
    ),
    Row(
        review_handlers.SAVE_MODAL,
        SAVERS,
        sams_save_form,
        submitting(),
        review_handlers.NOT_A_SAVER,
        sam_submits({}, lambda slack: "in the review queue" in slack.dms(SAM)[-1].text),
    ),
    Row(
        network_handlers.EXPERTS_EDIT,
        "the topic's managers, community managers",
        experts_tab,
        pressing("Edit experts"),
        NOT_EXPERT_MANAGER,
        experts_unchanged,
    ),
    Row(
        network_handlers.EXPERTS_MODAL,
        "the topic's managers, community managers",
        console_form("Experts", "Edit experts"),
        submitting({"experts_console_people": [OUTSIDER]}),
        NOT_EXPERT_MANAGER,
        experts_unchanged,
    ),
    # --- Review -----------------------------------------------------------------------------------
    Row(
        review_handlers.SAVE_SHORTCUT,
        "anyone, on a message in a conversation they are in (or a public channel)",
        kims_private_thread,
        lambda slack, post: shortcut_as(slack, OUTSIDER, post),
        "you can only save messages from conversations you're in",
    ),
    Row(
        review_handlers.SUGGEST_MODAL,
        "who opened it (its metadata is sealed for them)",
        sams_suggestion_form,
        submitting(),
        "open it again from the message's menu",
        sam_submits({}, lambda slack: "in the review queue" in slack.dms(SAM)[-1].text),
    ),
    Row(
        review_handlers.APPROVE,
        REVIEWERS,
        draft_card,
        pressing("Approve"),
        NOT_REVIEWER,
        alex_approves,
    ),
    Row(review_handlers.EDIT, REVIEWERS, draft_card, pressing("Edit"), NOT_REVIEWER, alex_approves),
    Row(
        review_handlers.REJECT,
        REVIEWERS,
        draft_card,
        pressing("Reject"),
        NOT_REVIEWER,
        alex_approves,
    ),
    Row(
        review_handlers.EDIT_MODAL,
        REVIEWERS,
        alex_form("Edit"),
        submitting({"entry_title": "Forged title"}),
        NOT_REVIEWER,
        alex_publishes_it_as_proposed,
    ),
    Row(
        review_handlers.REJECT_MODAL,
        REVIEWERS,
        alex_form("Reject"),
        submitting({"review_reason": "Forged reason."}),
        NOT_REVIEWER,
        alex_rejects,
    ),
    Row(
        review_handlers.VIEW_DRAFT,
        REVIEWERS,
        draft_card,
        lambda slack, card: forge(
            slack, OUTSIDER, review_handlers.VIEW_DRAFT, value_of(card, "Approve")
        ),
        NOT_REVIEWER,
        alex_approves,
    ),
    Row(
        review_handlers.VIEW_ENTRY,
        "anyone (the knowledge index is everyone's)",
        lambda slack: None,
        on_home(review_handlers.VIEW_ENTRY, "no-such-entry"),
        "That entry is no longer in the knowledge index.",
        refusal=False,
    ),
    Row(
        review_handlers.EDIT_ENTRY,
        EDITORS,
        lambda slack: None,
        on_home(review_handlers.EDIT_ENTRY, "reset-vpn-password"),
        "Only community managers and its owner can edit an entry.",
        vpn_entry_unchanged,
    ),
    Row(
        review_handlers.ENTRY_MODAL,
        EDITORS,
        entry_form,
        submitting({"entry_title": "Hacked", "entry_body": "Hacked."}),
        "Only community managers and its owner can edit an entry.",
        vpn_entry_unchanged,
    ),
    Row(
        review_handlers.LOOKS_FINE,
        MANAGERS,
        flagged,
        on_home(review_handlers.LOOKS_FINE, "reset-vpn-password"),
        NOT_MANAGER,
        alex_clears_the_flag,
    ),
    Row(
        review_handlers.CONFIRM_LEARNED,
        MANAGERS,
        learned,
        on_home(review_handlers.CONFIRM_LEARNED, "1"),
        NOT_MANAGER,
        alex_confirms_the_wording,
    ),
    Row(
        review_handlers.REMOVE_LEARNED,
        MANAGERS,
        learned,
        on_home(review_handlers.REMOVE_LEARNED, "1"),
        NOT_MANAGER,
        alex_removes_the_wording,
    ),
    Row(
        review_handlers.STILL_TRUE,
        EDITORS,
        lambda slack: None,
        on_home(review_handlers.STILL_TRUE, "reset-vpn-password"),
        "Only community managers and its owner can review an entry.",
    ),
    Row(
        review_handlers.WRITE_GAP,
        MANAGERS,
        gaps_tab,
        pressing("Write entry"),
        NOT_MANAGER,
        the_gap_is_still_open,
    ),
    Row(
        review_handlers.GAP_MODAL,
        MANAGERS,
        gap_form,
        submitting({"entry_title": "Forged", "entry_body": "Forged."}),
        NOT_MANAGER,
        the_gap_is_still_open,
    ),
    # --- App Home ---------------------------------------------------------------------------------
    Row(
        home_handlers.TAB,
        "anyone, for their own tab; the console's tabs: community managers",
        lambda slack: slack.open_home(ALEX),
        pressing("Review queue"),
        home_handlers.CONSOLE_ONLY,
    ),
    Row(
        home_handlers.PAGE,
        MANAGERS,
        experts_tab,
        pressing("Next"),
        home_handlers.CONSOLE_ONLY,
    ),
    Row(
        home_handlers.PERIOD,
        MANAGERS,
        lambda slack: open_console(slack, "Analytics"),
        pressing("7 days"),
        home_handlers.CONSOLE_ONLY,
    ),
    Row(
        report_handlers.REPORT_PATH,
        "community managers, a path's owners",
        learning_report,
        acting(
            {
                "type": "static_select",
                "action_id": report_handlers.REPORT_PATH,
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Security basics"},
                    "value": "security-basics",
                },
            }
        ),
        home_handlers.CONSOLE_ONLY,
        alex_reports_on("*Giving feedback* · everyone"),
    ),
    Row(
        report_handlers.REPORT_TEAM,
        "community managers, a path's owners",
        learning_report,
        acting(
            {
                "type": "plain_text_input",
                "action_id": report_handlers.REPORT_TEAM,
                "value": "@support-team",
            }
        ),
        home_handlers.CONSOLE_ONLY,
        alex_reports_on("@support-team (2 members)", "@support-team"),
    ),
    Row(
        report_handlers.REPORT_EVERYONE,
        "community managers, a path's owners",
        learning_report_for_a_team,
        pressing("Everyone"),
        home_handlers.CONSOLE_ONLY,
        alex_reports_on("*Security basics* · everyone"),
    ),
    Row(
        home_handlers.NEXT_LESSON,
        "anyone, for themselves",
        sams_home_with_a_lesson,
        pressing("Next lesson"),
        "No lesson is waiting",
        refusal=False,
    ),
    Row(
        home_handlers.START_PATH,
        "anyone, for themselves",
        lambda slack: slack.open_home(SAM),
        pressing("Start: ", value="no-such-path"),
        "That path is no longer available.",
        refusal=False,
    ),
    Row(
        home_handlers.READ,
        "anyone (the knowledge index is everyone's)",
        lambda slack: None,
        on_home(home_handlers.READ, "no-such-entry"),
        "That entry is no longer in the knowledge index.",
        refusal=False,
    ),
    # --- Lessons ----------------------------------------------------------------------------------
    Row(
        reminder_handlers.RESUME,
        "anyone, for themselves",
        sams_home_with_a_lesson,
        on_home(reminder_handlers.RESUME, "resume"),
        "Your lessons are not paused.",
        refusal=False,
    ),
    Row(
        lesson_handlers.ANSWER,
        SENT_TO,
        sams_lesson("security-basics"),
        lambda slack, lesson: press_as(slack, OUTSIDER, lesson, next_quiz_option(lesson)),
        "This lesson was sent to someone else.",
        sam_answers_the_quiz,
    ),
    Row(
        lesson_handlers.DONE,
        SENT_TO,
        sams_lesson("no-quiz"),
        pressing("Mark as done"),
        "This lesson was sent to someone else.",
        sam_presses("Mark as done", "Done. Nice work."),
    ),
    Row(
        lesson_handlers.KNOW,
        "the person the lesson was sent to (lessons sent by DM only)",
        sams_lesson("security-basics"),
        pressing("I know this"),
        "This lesson was sent to someone else.",
        sam_presses("I know this", "Skipped: you know this one."),
    ),
    Row(
        lesson_handlers.PLACE,
        "the person the placement check was sent to",
        sams_placement_check,
        lambda slack, check: press_as(
            slack, OUTSIDER, check, first_option("lessons_place_")(check)
        ),
        "This placement check was sent to someone else.",
        sam_answers_a_placement_item,
    ),
    Row(
        lesson_handlers.START,
        "anyone, for themselves",
        sams_paths,
        pressing("Start", value="no-such-path"),
        "That path is no longer available.",
        refusal=False,
    ),
    Row(
        lesson_handlers.LINK,
        "anyone (a link: nothing to do)",
        sams_lesson("no-quiz"),
        pressing("Read more"),
        None,
        refusal=False,
    ),
    Row(
        lesson_handlers.SCHEDULE_ADD,
        MANAGERS,
        lambda slack: open_console(slack, "Schedules"),
        pressing("Add a schedule"),
        NOT_SCHEDULER,
    ),
    Row(
        lesson_handlers.SCHEDULE_CHANGE,
        MANAGERS,
        scheduled,
        pressing("Change"),
        NOT_SCHEDULER,
        schedule_still_running,
    ),
    Row(
        lesson_handlers.SCHEDULE_PAUSE,
        MANAGERS,
        scheduled,
        pressing("Pause"),
        NOT_SCHEDULER,
        schedule_still_running,
    ),
    Row(
        lesson_handlers.SCHEDULE_RESUME,
        MANAGERS,
        paused,
        pressing("Resume"),
        NOT_SCHEDULER,
        schedule_still_paused,
    ),
    Row(
        lesson_handlers.SCHEDULE_MODAL,
        MANAGERS,
        console_form("Schedules", "Change"),
        submitting(),
        NOT_SCHEDULER,
        schedule_still_running,
    ),
    Row(
        review_handlers.APPROVE_IMPORT,
        "the managers of each page's topic, community managers",
        imported_batch,
        pressing("Approve all"),
        "Only the managers of those pages' topics, or community managers",
        the_batch_still_waits,
    ),
    Row(
        review_handlers.REMOVE_GONE,
        MANAGERS,
        gone_page,
        pressing("Remove"),
        NOT_MANAGER,
        alex_removes_the_gone_entry,
    ),
    # --- Help channels ---------------------------------------------------------------------------
    Row(
        listening_handlers.CHANNEL_HELPFUL,
        ANYONE_IN_THE_THREAD,
        sams_channel_answer,
        pressing("Helpful"),
        "Thanks for letting me know this helped.",
        sam_presses("Helpful", "Thanks"),
        refusal=False,
    ),
    Row(
        listening_handlers.CHANNEL_NOT_HELPFUL,
        ANYONE_IN_THE_THREAD,
        sams_channel_answer,
        pressing("Not helpful", value="1"),  # Sam's /ask answer: not one in a channel
        "That answer is no longer there.",
        the_answer_is_still_there,
        refusal=False,
    ),
    Row(
        listening_handlers.TURN_ON,
        CHANNEL_MANAGERS,
        listening_offer,
        pressing("Answer questions there"),
        NOT_A_LISTENER,
        alex_turns_it_on,
    ),
    Row(
        listening_handlers.CHANNEL_ADD,
        CHANNEL_MANAGERS,
        help_channels_tab,
        pressing("Listen in a channel"),
        NOT_A_LISTENER,
        still_listening,
    ),
    Row(
        listening_handlers.CHANNEL_CHANGE,
        CHANNEL_MANAGERS,
        help_channels_tab,
        pressing("Change"),
        NOT_A_LISTENER,
        still_listening,
    ),
    Row(
        listening_handlers.CHANNEL_STOP,
        CHANNEL_MANAGERS,
        help_channels_tab,
        pressing("Stop"),
        NOT_A_LISTENER,
        still_listening,
    ),
    Row(
        listening_handlers.CHANNEL_MODAL,
        CHANNEL_MANAGERS,
        help_channel_form,
        submitting({"listen_limit": "1"}),
        NOT_A_LISTENER,
        still_listening,
    ),
    # --- Assigned learning -----------------------------------------------------------------------
    Row(
        assignment_handlers.ASSIGN_ADD,
        ASSIGNERS,
        lambda slack: open_console(slack, "Assigned"),
        pressing("Assign a path"),
        NOT_ASSIGNER,
    ),
    Row(
        assignment_handlers.UNASSIGN,
        ASSIGNERS,
        assigned_tab,
        pressing("Unassign"),
        NOT_ASSIGNER,
        still_assigned,
    ),
    Row(
        assignment_handlers.ASSIGN_MODAL,
        ASSIGNERS,
        assign_form,
        submitting({"assign_path": "security-basics", "assign_people": [KIM]}),
        NOT_ASSIGNER,
        alex_assigns_kim,
    ),
)


def next_quiz_option(lesson: Message) -> str:
    option = next(
        found
        for block in lesson.blocks
        for found in block.get("elements", [])
        if str(found.get("action_id", "")).startswith("lessons_answer_")
    )
    return str(option["text"]["text"])


# --- what changed ------------------------------------------------------------------------------


@dataclass
class Seen:
    """Everything people see in the workspace, but what only the presser sees (their Home,
    their DM with Eddy, their ephemeral messages): compared before and after a press."""

    others: dict[str, Any] = field(default_factory=dict)
    last_seq: int = 0

    @classmethod
    def now(cls, slack, presser: str) -> Seen:
        workspace = slack.workspace
        own_dm = workspace.im_with(presser).id
        with workspace.lock:
            messages = [
                (m.channel, m.ts, m.text, json.dumps(m.blocks, sort_keys=True), m.deleted)
                for m in workspace.messages
                if m.ephemeral_to != presser and m.channel != own_dm
            ]
            homes = {
                user: json.dumps(view.payload, sort_keys=True)
                for user, view in workspace.homes.items()
                if user != presser
            }
            modals = {
                user: [json.dumps(view.payload, sort_keys=True) for view in stack]
                for user, stack in workspace.modals.items()
            }
            last = max((m.seq for m in workspace.messages), default=0)
        return cls({"messages": messages, "homes": homes, "modals": modals}, last)


def told(slack, presser: str, since: Seen, delivery) -> str:
    """What the presser was told: new ephemerals and DMs, their Home tab, a form's errors."""
    workspace = slack.workspace
    own_dm = workspace.im_with(presser).id
    with workspace.lock:
        new = [
            shown(m)
            for m in workspace.messages
            if m.seq > since.last_seq and (m.ephemeral_to == presser or m.channel == own_dm)
        ]
    home = slack.home(presser)
    return "\n".join([*new, seen(home) if home else "", delivery.body or ""])


def calls_to_others(calls: list, presser: str, own_dm: str) -> list:
    """Web API calls that could show or change something for someone but the presser."""
    suspicious = []
    for call in calls:
        args = call.args
        if call.method in READING:
            continue
        if call.method == "chat.postEphemeral" and args.get("user") == presser:
            continue
        if call.method == "chat.postMessage" and args.get("channel") in (presser, own_dm):
            continue
        if call.method == "views.publish" and args.get("user_id") == presser:
            continue
        if call.method == "response_url" and args.get("response_type") == "ephemeral":
            continue
        suspicious.append((call.method, args))
    return suspicious


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
def test_a_forged_press_changes_nothing_and_gets_a_plain_answer(row, slack, instance, caplog):
    thing = row.setup(slack)
    slack.target.settle()
    before = Seen.now(slack, OUTSIDER)
    calls_before = len(slack.calls())
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        delivery = row.forged(slack, thing)
    assert delivery.status == 200
    assert Seen.now(slack, OUTSIDER).others == before.others, "someone else saw a change"
    own_dm = slack.workspace.im_with(OUTSIDER).id
    assert calls_to_others(slack.calls()[calls_before:], OUTSIDER, own_dm) == []
    answer = told(slack, OUTSIDER, before, delivery)
    if row.answer is None:
        assert slack.calls()[calls_before:] == [], "a link button needs no answer"
    else:
        assert row.answer in answer, answer
    assert "Traceback" not in answer and "went wrong" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    if row.refusal:
        assert [r for r in caplog.records if r.levelno == logging.WARNING], "not logged"
    if row.afterwards is not None:
        row.afterwards(slack, thing)


# --- slash commands that act on someone else's things --------------------------------------------


@dataclass(frozen=True)
class Command:
    """A subcommand that changes things for others: who may run it, its run by the outsider
    after `setup`, the plain refusal, and what must still be so afterwards."""

    line: str
    who: str
    setup: Callable[[Any], None]
    refusal: str
    still: tuple[str, str]  # (a command, words its reply must still contain)


def kim_is_a_security_expert(slack) -> None:
    slack.command(KIM, GENERAL, "/experts join security")


def alex_scheduled_a_path(slack) -> None:
    slack.command(ALEX, GENERAL, f"/learn schedule security-basics <#{GENERAL}|general> 09:00")


COMMANDS = (
    Command(
        f"/experts add <@{KIM}|kim> security",
        "the topic's managers, community managers",
        lambda slack: None,
        "Only community managers can add other people",
        ("/experts list security", "Nobody yet"),
    ),
    Command(
        f"/experts remove <@{KIM}|kim> security",
        "the topic's managers, community managers",
        kim_is_a_security_expert,
        "Only community managers can remove other people",
        ("/experts list security", f"<@{KIM}>"),
    ),
    Command(
        f"/learn schedule security-basics <#{GENERAL}|general> 09:00",
        MANAGERS,
        lambda slack: None,
        "Only community managers can schedule lessons into channels",
        ("/learn schedules", "No path is scheduled"),
    ),
    Command(
        f"/ask listen <#{IT_HELP}|it-help>",
        CHANNEL_MANAGERS,
        lambda slack: None,
        NOT_A_LISTENER,
        ("/ask listening", "I'm not listening in any channel"),
    ),
    Command(
        f"/ask listen off <#{IT_HELP}|it-help>",
        CHANNEL_MANAGERS,
        lambda slack: slack.command(ALEX, GENERAL, f"/ask listen <#{IT_HELP}|it-help>"),
        NOT_A_LISTENER,
        ("/ask listening", "<#C0ITHELP1>"),
    ),
    Command(
        f"/learn unschedule security-basics <#{GENERAL}|general>",
        MANAGERS,
        alex_scheduled_a_path,
        NOT_SCHEDULER,
        ("/learn schedules", "Security basics"),
    ),
    Command(
        f"/learn assign security-basics <@{KIM}|kim>",
        ASSIGNERS,
        lambda slack: None,
        NOT_ASSIGNER,
        ("/learn assigned", "Nothing is assigned yet"),
    ),
    Command(
        f"/learn unassign security-basics {SUPPORT_LINK}",
        ASSIGNERS,
        alex_assigned_a_path,
        NOT_ASSIGNER,
        ("/learn assigned", "@support-team"),
    ),
)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.line.split("<")[0])
def test_a_command_on_others_things_is_refused_to_anyone_else(command, slack, instance, caplog):
    command.setup(slack)
    before = Seen.now(slack, OUTSIDER)
    calls_before = len(slack.calls())
    with caplog.at_level(logging.WARNING):
        slack.command(OUTSIDER, GENERAL, command.line)
    assert command.refusal in shown(slack.ephemerals(OUTSIDER)[-1])
    assert Seen.now(slack, OUTSIDER).others == before.others
    own_dm = slack.workspace.im_with(OUTSIDER).id
    assert calls_to_others(slack.calls()[calls_before:], OUTSIDER, own_dm) == []
    assert "Refused" in caplog.text
    asked, words = command.still
    slack.command(ALEX, GENERAL, asked)
    assert words in shown(slack.ephemerals(ALEX)[-1])


# --- the table is complete ---------------------------------------------------------------------

#: Kinds of listener a payload's action_id or callback_id selects.
PRESSED_KINDS = ("action", "view", "shortcut", "options")


def covers(key: str | re.Pattern[str], listener: str | re.Pattern[str]) -> bool:
    """Whether a row keyed `key` is about `listener` (either may be a pattern)."""
    if isinstance(listener, re.Pattern):
        if isinstance(key, re.Pattern):
            return key.pattern == listener.pattern
        return listener.fullmatch(key) is not None
    if isinstance(key, re.Pattern):
        return key.fullmatch(listener) is not None
    return key == listener


def is_catch_all(listener: str | re.Pattern[str]) -> bool:
    """The last-resort listener for buttons of old messages (handlers/errors.py)."""
    return isinstance(listener, re.Pattern) and listener.fullmatch("no-such-listener-x") is not None


def test_the_table_has_a_row_for_every_listener(monkeypatch, runtime):
    from slack_bolt import App

    from handlers import create_app

    seen_listeners: list[str | re.Pattern[str]] = []
    for kind in PRESSED_KINDS:
        original = getattr(App, kind)

        def record(self, constraints, *args, _original=original, **kwargs):
            if isinstance(constraints, dict):
                constraints = constraints.get("callback_id") or constraints.get("action_id")
            seen_listeners.append(constraints)
            return _original(self, constraints, *args, **kwargs)

        monkeypatch.setattr(App, kind, record)
    create_app(runtime)
    listeners = [listener for listener in seen_listeners if not is_catch_all(listener)]
    assert len(listeners) > 40
    missing = [
        describe(listener)
        for listener in listeners
        if not any(covers(row.listener, listener) for row in TABLE)
    ]
    assert missing == [], f"listeners without a row in TABLE: {missing}"
    stale = [row.name for row in TABLE if not any(covers(row.listener, each) for each in listeners)]
    assert stale == [], f"rows for no listener: {stale}"


# --- values Eddy never wrote -------------------------------------------------------------------

#: Button values and metadata a forged request may carry: nothing, zero, negative, too big
#: for the database (or for int()), digits str.isdigit() accepts but int() does not, words,
#: JSON of the wrong shape, mentions, and values of another kind than text.
FORGED_VALUES: tuple[Any, ...] = (
    "",
    "0",
    "-1",
    "2147483648",
    "99999999999999999999",
    "9" * 5000,
    "²",
    "١٢",
    "1e3",
    " 1",
    "abc",
    "{}",
    "[1]",
    "null",
    '{"d": [1], "o": "x"}',
    '{"d": 99999999999999999999, "p": [], "l": {}, "o": 1.5}',
    "queue:²",
    "<!channel>",
    42,
    None,
    ["x"],
    {"a": 1},
)
#: Listeners of modal submissions and shortcuts (the rest are buttons and inputs).
NOT_BUTTONS = {
    network_handlers.QUESTION_MODAL,
    network_handlers.ANSWER_MODAL,
    review_handlers.SAVE_MODAL,
    network_handlers.EXPERTS_MODAL,
    review_handlers.EDIT_MODAL,
    review_handlers.SUGGEST_MODAL,
    review_handlers.REJECT_MODAL,
    review_handlers.ENTRY_MODAL,
    review_handlers.GAP_MODAL,
    lesson_handlers.SCHEDULE_MODAL,
    listening_handlers.CHANNEL_MODAL,
    assignment_handlers.ASSIGN_MODAL,
    review_handlers.SAVE_SHORTCUT,
}
BUTTONS = [row for row in TABLE if row.listener not in NOT_BUTTONS]
FORMS = [row for row in TABLE if row.listener in NOT_BUTTONS - {review_handlers.SAVE_SHORTCUT}]


def concrete(listener: str | re.Pattern[str]) -> str:
    """An action_id the listener takes (the quiz and placement buttons' patterns: the first
    option's)."""
    if isinstance(listener, str):
        return listener
    found = [name for name in ("lessons_answer_0", "lessons_place_0") if listener.fullmatch(name)]
    assert found, listener.pattern
    return found[0]


def answered_plainly(
    slack, presser: str, calls_before: int, delivery, caplog, *, silent: bool = False
) -> None:
    """The request got a plain answer to the presser alone (none when `silent`): no error,
    nothing for others. A value that is not text at all is not what Slack sends: the front
    door refuses the payload (400) before any listener, and nothing happens."""
    if delivery.status == 400:
        assert delivery.body.startswith("Malformed request"), delivery.body
        assert slack.calls()[calls_before:] == []
        return
    assert delivery.status == 200, delivery.body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    own_dm = slack.workspace.im_with(presser).id
    calls = slack.calls()[calls_before:]
    others = [
        (method, args)
        for method, args in calls_to_others(calls, presser, own_dm)
        if method != "views.open"  # a form the presser may open (their own trigger)
    ]
    assert others == []
    answered = [call for call in calls if call.method not in READING] or delivery.json()
    assert bool(answered) is not silent, "no answer at all" if not silent else answered


@pytest.mark.parametrize("row", BUTTONS, ids=lambda row: row.name)
def test_button_values_eddy_never_wrote_get_a_plain_answer(row, slack, instance, caplog):
    for presser in (OUTSIDER, ALEX):
        for value in FORGED_VALUES:
            calls_before = len(slack.calls())
            caplog.clear()
            delivery = forge(slack, presser, concrete(row.listener), value)
            assert (delivery.status == 400) is not isinstance(value, str), (value, delivery)
            silent = row.answer is None  # a link: nothing to answer
            answered_plainly(slack, presser, calls_before, delivery, caplog, silent=silent)
            slack.close(presser)


@pytest.mark.parametrize("row", FORMS, ids=lambda row: row.name)
def test_form_metadata_eddy_never_wrote_gets_a_plain_answer(row, slack, instance, caplog):
    form = row.setup(slack)
    for presser in (OUTSIDER, ALEX):
        for value in FORGED_VALUES:
            payload = slack._interaction("view_submission", slack.workspace.user(presser))
            payload["view"] = slack._view_with_state(form, {}) | {"private_metadata": value}
            payload["response_urls"] = []
            calls_before = len(slack.calls())
            caplog.clear()
            delivery = slack.send_payload(payload)
            assert (delivery.status == 400) is not isinstance(value, str), (value, delivery)
            answered_plainly(slack, presser, calls_before, delivery, caplog)


# --- the rules in detail -----------------------------------------------------------------------


def press_claiming(slack, user: str, where: Message | View, label: str, channel: str, ts: str):
    """`user` presses the real button `label`, in a request that says it was pressed on the
    message at (channel, ts) (and carries no response_url to answer under it)."""
    block, found = element(where, label)
    payload = slack._interaction("block_actions", slack.workspace.user(user))
    payload["actions"] = [
        {
            "type": "button",
            "action_id": found["action_id"],
            "block_id": block.get("block_id", ""),
            "value": found.get("value", ""),
        }
    ]
    payload["container"] = {"type": "message", "channel_id": channel, "message_ts": ts}
    payload["channel"] = {"id": channel}
    return slack.send_payload(payload)


def eddys_reply_in_it_help(slack) -> Message:
    question = slack.say(KIM, IT_HELP, f"<@{EDDY}> {KNOWN}")
    return slack.messages(IT_HELP, thread_ts=question.ts)[-1]


def test_a_question_sent_by_dm_is_offered_only_to_the_experts_it_went_to(slack, instance):
    post = sent_to_kim(slack)
    assert "parking permit" in seen(slack.open_home(KIM))
    assert "parking permit" not in seen(slack.open_home(RIO)), "Rio was not chosen"
    press_as(slack, RIO, post, "Claim")
    assert network_handlers.NOT_SENT_TO_YOU in shown(slack.ephemerals(RIO)[-1])
    slack.press(KIM, post, "Claim")
    assert "It's yours" in shown(slack.ephemerals(KIM)[-1])


def test_a_manager_alerted_that_nobody_could_be_asked_may_claim(slack, instance):
    slack.press(SAM, sams_unknown(slack), "Ask the experts")
    slack.submit(SAM, {"experts_topic": "people"})  # nobody is in the People network
    alert = latest(slack.dms(ALEX), "Needs you")
    slack.press(ALEX, alert, "Claim")
    assert "It's yours" in shown(slack.ephemerals(ALEX)[-1])
    assert f"<@{ALEX}> is looking at your question" in slack.dms(SAM)[-1].text


def test_an_expert_who_left_cannot_take_the_question_she_had_been_sent(slack, instance):
    post = sent_to_kim(slack)
    block, claim = element(post, "Claim")
    slack.command(KIM, GENERAL, "/experts leave security")  # the question goes on to Rio
    handed_on = latest(slack.dms(RIO), "A question for the")
    slack.press_element(KIM, post, block, claim)
    assert network_handlers.NOT_SENT_TO_YOU in shown(slack.ephemerals(KIM)[-1])
    slack.press(RIO, handed_on, "Claim")
    assert "It's yours" in shown(slack.ephemerals(RIO)[-1])


def test_a_channel_question_is_anyones_to_take_but_the_askers(slack, instance):
    slack.press(SAM, sams_unknown(slack), "Ask the experts")
    slack.submit(SAM, {"experts_topic": "it-help"})
    post = latest(slack.messages(IT_HELP), "A question for the")
    forge(slack, RIO, home_handlers.CLAIM, value_of(post, "Claim"))  # Rio is in no network
    assert "It's yours" in seen(slack.home(RIO))


def test_show_picks_only_among_the_candidates_the_answer_showed(slack, instance):
    answer = sams_answer(slack)
    question_id = value_of(answer, "Helpful")
    shown_slugs = {
        candidate["value"].partition(":")[2]
        for _, candidate in slack.buttons(answer.blocks)
        if candidate["action_id"] == ask_handlers.SHOW
    }
    other = next(
        path.stem
        for path in sorted((ROOT / "content" / "knowledge").rglob("*.md"))
        if path.stem not in shown_slugs and path.stem != "reset-vpn-password"
    )
    press_as(slack, SAM, answer, "Show", value=f"{question_id}:{other}")
    assert "no longer in the knowledge index" in shown(slack.ephemerals(SAM)[-1])
    slack.press(SAM, answer, "Helpful")  # still the answer Eddy gave
    assert "Reset your VPN password" in shown(answer) and "Thanks" in shown(answer)


def test_share_posts_where_the_question_was_asked_not_where_the_request_says(slack, instance):
    answer = sams_answer(slack)  # asked in #general
    elsewhere = eddys_reply_in_it_help(slack)
    before = len(slack.messages(IT_HELP))
    press_claiming(slack, SAM, answer, "Share in channel", IT_HELP, elsewhere.ts)
    assert len(slack.messages(IT_HELP)) == before
    assert [m for m in slack.messages(GENERAL) if f"<@{SAM}> asked:" in shown(m)]


def test_a_quiz_answer_redraws_the_lesson_eddy_sent_not_the_message_named(slack, instance):
    lesson = sams_lesson("security-basics")(slack)
    elsewhere = eddys_reply_in_it_help(slack)
    was = shown(elsewhere)
    press_claiming(slack, SAM, lesson, next_quiz_option(lesson), IT_HELP, elsewhere.ts)
    assert shown(elsewhere) == was
    assert "Right:" in shown(lesson) or "The answer is" in shown(lesson)


def test_a_review_card_is_redrawn_only_in_the_reviewers_own_dm(slack, instance, caplog):
    card = draft_card(slack)
    elsewhere = eddys_reply_in_it_help(slack)
    was = shown(elsewhere)
    press_claiming(slack, ALEX, card, "Reject", IT_HELP, elsewhere.ts)
    with caplog.at_level(logging.WARNING):
        slack.submit(ALEX, {"review_reason": "Not ours to say."})
    assert shown(elsewhere) == was and "not their DM" in caplog.text
    assert "Their reason" in latest(slack.dms(SAM), "was not added").text


def test_save_to_eddy_credits_the_author_slack_names_not_the_request(slack, instance):
    message = slack.say(KIM, GENERAL, "Parking permits: ask the front desk.")
    payload_says = Message(**{**message.__dict__, "user": RIO})
    shortcut_as(slack, SAM, payload_says)
    form = slack.modal(SAM)
    assert form is not None and f"by <@{KIM}>" in seen(form)
    slack.submit(SAM, {"entry_title": "Parking permits"})
    alex_approves(slack, latest(slack.dms(ALEX), "A new knowledge entry for review"))
    assert "is now in the knowledge index" in slack.dms(KIM)[-1].text
    assert not [m for m in slack.dms(RIO) if "knowledge index" in m.text]


def test_save_to_eddy_quotes_a_private_channel_only_for_its_members(slack, instance):
    secret = Channel("C0SECRET1", "secret", {KIM, RIO, EDDY}, is_private=True)
    slack.workspace.channels[secret.id] = secret
    message = slack.say(KIM, secret.id, "The launch date moves to March.")
    slack.say(RIO, secret.id, "Only the board knows so far.", thread_ts=message.ts)
    shortcut_as(slack, SAM, message)
    assert slack.modal(SAM) is None
    assert "conversations you're in" in slack.ephemerals(SAM)[-1].text
    slack.shortcut(RIO, message, review_handlers.SAVE_SHORTCUT)
    form = slack.modal(RIO)
    assert form is not None and "Only the board knows so far." in prefilled(form)["entry_body"]


def test_rows_of_another_workspace_are_nobodys_here(slack, instance, content, clock, database):
    """Another workspace on the same database: its question, routed question, draft and
    lesson IDs, pressed here, get the answer an ID that names nothing gets, and change
    nothing in either workspace."""
    other = SlackStandIn.from_manifest(MANIFEST, signing_secret=SIGNING_SECRET)
    other.workspace.team_id = "T0OTHERWS"
    other.workspace.clock = clock
    with other:
        theirs = Instance(other, database, content, clock)
        other.connect(theirs.target)
        try:
            answer = sams_answer(other)
            question_id = value_of(answer, "Helpful")
            card = draft_card(other)
            draft_id = value_of(card, "Approve")
            routed = sent_to_kim(other)
            routed_id = value_of(routed, "Claim")
            lesson = sams_lesson("no-quiz")(other)
            done = element(lesson, "Mark as done")[1]["value"]
            their_calls, their_seen = len(other.calls()), Seen.now(other, OUTSIDER).others
            presses = [
                (SAM, ask_handlers.HELPFUL, question_id),
                (SAM, ask_handlers.SHARE, question_id),
                (ALEX, review_handlers.APPROVE, draft_id),
                (ALEX, review_handlers.VIEW_DRAFT, draft_id),
                (ALEX, home_handlers.CLAIM, routed_id),
                (SAM, lesson_handlers.DONE, done),
            ]
            for user, action, value in presses:
                theirs_here = last_word(slack, user, action, value)
                nothing = last_word(slack, user, action, nowhere(value))
                assert theirs_here == nothing != "", action
            assert len(other.calls()) == their_calls
            assert Seen.now(other, OUTSIDER).others == their_seen
        finally:
            theirs.close()


def nowhere(value: str) -> str:
    """The same kind of value, naming a row that exists in no workspace."""
    if value.startswith("{"):
        return json.dumps({**json.loads(value), "d": 2147483647})
    return "2147483647"


def last_word(slack, user: str, action: str, value: str) -> str:
    """What `user` is told after pressing `action` with `value` (from their Home tab): new
    notes and DMs, and their Home tab's notice."""
    before = Seen.now(slack, user)
    forge(slack, user, action, value)
    home = seen(slack.home(user)) if slack.home(user) else ""
    notices = [line for line in home.splitlines() if "information_source" in line]
    with slack.workspace.lock:
        own_dm = slack.workspace.im_with(user).id
        new = [
            m.text
            for m in slack.workspace.messages
            if m.seq > before.last_seq and (m.ephemeral_to == user or m.channel == own_dm)
        ]
    return "\n".join([*new, *notices])


#: Subcommands that act only for whoever types them, or only read: nothing to refuse.
FOR_ONESELF = {
    "/experts": {"join", "leave", "list", "me", "away", "back"},
    "/learn": {"paths", "start", "stop", "next", "me", "time", "schedules", "assigned"},
}


def test_every_subcommand_is_either_for_oneself_or_in_the_commands_table():
    acting_on_others = {tuple(command.line.split()[:2]) for command in COMMANDS}
    for name, subcommands in (
        ("/experts", network_handlers.SUBCOMMANDS),
        ("/learn", lesson_handlers.SUBCOMMANDS),
    ):
        unclassified = {
            verb
            for verb in subcommands
            if verb not in FOR_ONESELF[name] and (name, verb) not in acting_on_others
        }
        assert unclassified == set(), f"{name}: who may run {sorted(unclassified)}?"
