"""App Home through the front door: what members and community managers see on Eddy's Home
tab, the console's review queue, gaps, experts, schedules and analytics, the "Save to Eddy"
shortcut, and who may do what."""

from __future__ import annotations

import logging
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.models.views import View as ViewModel

from bot.clock import ManualClock
from bot.scheduler import run_jobs
from tests.conftest import (
    ALEX,
    GENERAL,
    KIM,
    RIO,
    SAM,
    Instance,
    shipped_content,
)
from tests.test_ask import VPN, buttons, show_and_mark_helpful, shown, title

#: Nothing in the shipped index answers these confidently.
UNKNOWN = "how do I get a parking permit for the new office garage"
DAYS = timedelta(days=1)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content, with #it-help as the IT help network's channel."""
    return shipped_content(tmp_path)


def texts(node: Any) -> list[str]:
    """Every piece of text in blocks (or a view), in order."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found += texts(value)
        return found
    if isinstance(node, list):
        return [text for item in node for text in texts(item)]
    return []


def seen(view) -> str:
    return "\n".join(texts(view.blocks))


def prefilled(view) -> dict[str, str]:
    """A form's text inputs as it opens: block_id → initial value."""
    return {
        block["block_id"]: block["element"].get("initial_value") or ""
        for block in view.blocks
        if block["type"] == "input"
    }


def labels(view) -> list[str]:
    return [
        element["text"]["text"]
        for block in view.blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("type") == "button"
    ]


def open_tab(slack, user, tab: str):
    """Open the Home tab and the console tab whose button starts with `tab`."""
    home = slack.open_home(user)
    slack.press(user, home, next(label for label in labels(home) if label.startswith(tab)))
    return slack.home(user)


def forge(slack, user: str, action_id: str, value: Any):
    """A block_actions payload as if `user` had a button they were never shown (on their
    Home tab); the stand-in's delivery of it."""
    payload = slack._interaction("block_actions", slack.workspace.user(user))
    payload["container"] = {"type": "view", "view_id": "V0FORGED"}
    payload["actions"] = [
        {"type": "button", "action_id": action_id, "block_id": "x", "value": value}
    ]
    return slack.send_payload(payload)


def save_message(slack, user: str, author: str, text: str, title: str | None = None):
    """`author` posts `text` in #general; `user` saves it with the shortcut."""
    message = slack.say(author, GENERAL, text)
    slack.shortcut(user, message, "save_to_eddy")
    slack.submit(user, {"entry_title": title} if title else {})
    return message


# --- the member's view ---------------------------------------------------------------------------


def test_a_member_sees_their_learning_and_never_the_console(slack, instance, caplog):
    home = slack.open_home(SAM)
    assert home is not None
    text = seen(home)
    assert "Your points: 0" in text and "Your learning" in text
    assert "Ask Eddy" in text  # the search box
    assert "Review queue" not in text and "Analytics" not in labels(home)
    assert any(label.startswith("Start: ") for label in labels(home))
    with caplog.at_level(logging.WARNING):
        forge(slack, SAM, "home_tab", "queue")
    assert "Review queue" not in seen(slack.home(SAM))
    assert "not a community manager" in caplog.text


def test_starting_a_path_and_a_quiz_answer_redraw_the_home_tab(slack, instance):
    home = slack.open_home(SAM)
    slack.press(SAM, home, "Start: Giving feedback")
    home = slack.home(SAM)
    assert "You're on" in seen(home)  # the notice on top
    assert "0/" in seen(home) and any(label.startswith("Next lesson: ") for label in labels(home))
    lesson = slack.dms(SAM)[-1]
    quiz = next(
        label
        for block in lesson.blocks
        for element in block.get("elements", [])
        if element.get("type") == "button" and (label := element["text"]["text"])
    )
    slack.press(SAM, lesson, quiz)
    home = slack.home(SAM)
    assert "1/" in seen(home) and "1-day streak" in seen(home)
    assert "Your next lesson arrives" in seen(home)


def test_a_stopped_path_promises_no_next_lesson(slack, instance):
    slack.command(SAM, GENERAL, "/learn start security-basics")
    slack.command(SAM, GENERAL, "/learn stop security-basics")
    home = slack.open_home(SAM)
    text = seen(home)
    assert "0/7 lessons · stopped" in text and "Your next lesson arrives" not in text
    assert "Resume: Security basics" in labels(home)  # the Home tab can take it up again
    slack.command(SAM, GENERAL, "/learn me")
    me = shown(slack.ephemerals(SAM)[-1])
    assert "· stopped" in me and "Next lesson" not in me
    slack.press(SAM, slack.home(SAM), "Resume: Security basics")
    assert "0/7 lessons · stopped" not in seen(slack.home(SAM))
    assert "Your next lesson arrives" in seen(slack.home(SAM))


def test_points_from_a_reaction_appear_without_reopening_the_tab(slack, instance):
    slack.open_home(SAM)
    message = slack.say(SAM, GENERAL, "The printer on floor 3 needs the blue driver.")
    slack.react(RIO, message, "pray")
    assert "Your points: " in seen(slack.home(SAM))
    assert "Your points: 0" not in seen(slack.home(SAM))


def test_the_search_box_answers_by_dm_like_ask(slack, instance):
    home = slack.open_home(SAM)
    slack.enter(SAM, home, "home_search_input", "how do i reset my vpn password")
    answer = slack.dms(SAM)[-1]
    assert "Reset" in shown(answer) and "Helpful" in shown(answer)
    assert "I've answered" in seen(slack.home(SAM))
    slack.enter(SAM, slack.home(SAM), "home_search_input", "   ")
    assert "Type a question first" in seen(slack.home(SAM))
    slack.enter(SAM, slack.home(SAM), "home_search_input", "x" * 1200)
    assert "the search box takes at most 1,000" in seen(slack.home(SAM))
    assert "/ask takes" not in seen(slack.home(SAM)), "the message is about the search box"


def test_an_expert_sees_waiting_questions_and_claims_one_from_home(slack, instance):
    slack.command(KIM, GENERAL, "/experts join people")
    slack.open_home(KIM)
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
    slack.submit(SAM, {"experts_topic": "people"})
    home = slack.home(KIM)  # redrawn: a question waits for KIM's network
    assert "parking permit" in seen(home) and "Claim" in labels(home)
    slack.press(KIM, home, "Claim")
    assert "It's yours" in seen(slack.home(KIM))
    assert "parking permit" in shown(slack.dms(KIM)[-1])
    # The copy it was sent in, now claimed: not a second one with a second thread.
    copies = [m for m in slack.dms(KIM) if "A question for the" in shown(m)]
    assert len(copies) == 1 and "Claimed by <@U0KIM0003>" in shown(copies[0])
    assert "is looking at your question" in slack.dms(SAM)[-1].text


def test_recommended_entries_follow_what_i_asked_and_open_in_a_modal(slack, instance):
    slack.command(SAM, GENERAL, "/ask my laptop is really slow")
    home = slack.open_home(SAM)
    assert "Picked for you" in seen(home) and "you asked" in seen(home)
    slack.press(SAM, home, "Read")
    assert slack.modal(SAM) is not None and slack.modal(SAM).title() == "Eddy"


def test_picks_leave_out_what_answered_me_and_near_misses_of_what_eddy_could_not(slack, instance):
    slack.command(SAM, GENERAL, "/ask how do I reset my VPN password?")
    assert "Reset your VPN password" in shown(slack.ephemerals(SAM)[-1])
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    assert "not sure" in shown(slack.ephemerals(SAM)[-1])
    picks = seen(slack.open_home(SAM)).split("Picked for you", 1)[-1]
    assert "Reset your VPN password" not in picks
    assert "parking" not in picks  # nothing "because you asked" the unanswered question


# --- the console ---------------------------------------------------------------------------------


def test_save_to_eddy_lands_in_the_queue_with_a_link_and_is_approved(slack, instance):
    save_message(
        slack,
        SAM,
        KIM,
        "To book the big room, email facilities two days ahead.",
        "Book the big room",
    )
    assert "in the review queue" in slack.dms(SAM)[-1].text
    queue = open_tab(slack, ALEX, "Review queue (1)")
    assert "Book the big room" in seen(queue) and "|a message>" in seen(queue)
    assert "proposed by <@U0SAM0002>" in seen(queue)
    slack.press(ALEX, queue, "Approve")
    # One colon to a sentence: not "“Book the big room”: Approved by @alex: it's …".
    assert "Approved “Book the big room”: it's in the knowledge index" in seen(slack.home(ALEX))
    assert "is now in the knowledge index" in slack.dms(KIM)[-1].text  # the author's credit
    slack.command(RIO, GENERAL, "/ask how do I book the big room")
    assert "Book the big room" in shown(slack.ephemerals(RIO)[-1])


def test_reject_asks_for_a_reason_and_the_author_is_told_it(slack, instance):
    save_message(slack, SAM, SAM, "Lunch is at noon.", "Lunch")
    queue = open_tab(slack, ALEX, "Review queue (1)")
    slack.press(ALEX, queue, "Reject")
    assert slack.modal(ALEX).title() == "Reject entry"
    delivery = slack.submit(ALEX, {"review_reason": ""})
    assert "Say why" in str(delivery.json())
    slack.submit(ALEX, {"review_reason": "Canteen hours change weekly; see the intranet."})
    assert "Their reason: “Canteen hours change weekly" in slack.dms(SAM)[-1].text
    assert "Nothing waits for review" in seen(slack.home(ALEX))
    assert "Rejected “Lunch”. Reason: “Canteen hours change weekly" in seen(slack.home(ALEX))


def test_a_forged_approve_from_a_member_changes_nothing_and_is_logged(slack, instance, caplog):
    save_message(slack, SAM, KIM, "Expenses: submit within 30 days.", "Expense deadline")
    with caplog.at_level(logging.WARNING):
        forge(slack, SAM, "experts_approve", "1")
    assert "not a reviewer" in caplog.text
    assert "Only community managers" in seen(slack.home(SAM))
    queue = open_tab(slack, ALEX, "Review queue (1)")
    assert "Expense deadline" in seen(queue)
    slack.command(RIO, GENERAL, "/ask expense deadline")
    assert "Expense deadline" not in shown(slack.ephemerals(RIO)[-1])


def test_two_managers_approving_at_once_one_wins_the_other_is_told(slack, database, content, clock):
    slack.workspace.clock = clock
    eddy = Instance(slack, database, content, clock, eddy_managers=[ALEX, KIM])
    slack.connect(eddy.target)
    try:
        save_message(slack, SAM, RIO, "Badges are printed at reception.", "Get a badge")
        queues = {manager: open_tab(slack, manager, "Review queue (1)") for manager in (ALEX, KIM)}
        gate = threading.Barrier(2)

        def approve(manager: str) -> None:
            gate.wait()
            slack.press(manager, queues[manager], "Approve")

        threads = [threading.Thread(target=approve, args=(m,)) for m in (ALEX, KIM)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        homes = {manager: seen(slack.home(manager)) for manager in (ALEX, KIM)}
        winners = [m for m, text in homes.items() if "Approved “Get a badge”" in text]
        losers = [m for m, text in homes.items() if "has already reviewed" in text]
        assert len(winners) == 1 and len(losers) == 1
        assert f"<@{winners[0]}> has already reviewed" in homes[losers[0]]
        told = [m for m in slack.dms(RIO) if "is now in the knowledge index" in m.text]
        assert len(told) == 1
    finally:
        eddy.close()


def test_a_flagged_entry_edited_in_the_modal_answers_at_once(slack, instance):
    slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Not helpful")
    queue = open_tab(slack, ALEX, "Review queue (1)")
    assert "Marked Not helpful" in seen(queue) and "1 not helpful" in seen(queue)
    slack.press(ALEX, queue, "Edit")
    form = slack.modal(ALEX)
    assert form.title() == "Edit entry" and "content file" in seen(form)
    slack.submit(
        ALEX,
        {
            "entry_title": "Reset your VPN password (new portal)",
            "entry_body": "Use the **new portal** at go/vpn.",
            "entry_questions": "my vpn tunnel keeps refusing my password",
        },
    )
    assert "answers questions now" in seen(slack.home(ALEX))
    assert "Nothing waits for review" in seen(slack.home(ALEX))  # flag cleared
    slack.command(RIO, GENERAL, "/ask my vpn tunnel keeps refusing my password")
    answer = slack.ephemerals(RIO)[-1]
    assert "Reset your VPN password (new portal)" in shown(answer) and "Helpful" in shown(answer)


def test_managers_see_a_learned_wording_next_to_its_flag_and_remove_it_for_good(
    slack, instance, caplog
):
    question = "how do I reset my VPN password?"
    manager = "Use the password manager"
    slack.command(SAM, GENERAL, f"/ask {question}")
    show_and_mark_helpful(slack, slack.ephemerals(SAM)[-1], manager, SAM)
    slack.command(SAM, GENERAL, f"/ask {question}")
    wrong = slack.ephemerals(SAM)[-1]
    assert title(wrong) == f"*{manager}*"
    slack.press(SAM, wrong, "Not helpful")

    queue = open_tab(slack, ALEX, "Review queue (1)")
    assert "Learned “how do i reset my vpn password”" in seen(queue)
    assert "answers only who taught it" in seen(queue) and f"taught by <@{SAM}>" in seen(queue)
    assert "not confirmed yet · 👎 1 Not helpful vote on answers it gave" in seen(queue)
    slack.press(ALEX, queue, "View")
    assert "*Learned wordings* (1)" in seen(slack.modal(ALEX))
    with caplog.at_level(logging.WARNING):
        forge(slack, SAM, "review_remove_learned", "1")
    assert "Refused to remove learned wording" in caplog.text

    slack.press(ALEX, queue, "Remove wording")
    assert "won't be learned again" in seen(slack.home(ALEX))
    slack.command(SAM, GENERAL, f"/ask {question}")
    assert title(slack.ephemerals(SAM)[-1]) == f"*{VPN}*"
    slack.press(ALEX, open_tab(slack, ALEX, "Review queue (1)"), "Edit")
    assert "removed by <@U0ALEX001>" in seen(slack.modal(ALEX))


def test_an_entry_that_learned_many_wordings_still_opens_for_its_manager(slack, instance):
    """A modal holds at most 100 blocks (the stand-in refuses more, as Slack does): the View
    and Edit of an entry with 80 learned wordings show what fits and count the rest."""
    manager = "Use the password manager"
    slug = next(e.slug for e in instance.runtime.catalogue.index.entries if e.title == manager)
    for number in range(80):
        instance.runtime.catalogue.learn(
            instance.runtime, slug=slug, wording=f"vault question {number}", user_id=SAM
        )
    slack.command(SAM, GENERAL, "/ask vault question 1")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Not helpful")
    queue = open_tab(slack, ALEX, "Review queue (1)")
    for button in ("View", "Edit"):
        slack.press(ALEX, queue, button)
        modal = seen(slack.modal(ALEX))
        assert "*Learned wordings* (80)" in modal and "more learned wordings" in modal


def test_a_wording_a_manager_confirms_answers_everyone_even_above_an_exact_title(slack, instance):
    question = "how do I reset my VPN password?"
    manager = "Use the password manager"
    slack.command(SAM, GENERAL, f"/ask {question}")
    show_and_mark_helpful(slack, slack.ephemerals(SAM)[-1], manager, SAM)
    slack.command(KIM, GENERAL, f"/ask {question}")
    assert title(slack.ephemerals(KIM)[-1]) == f"*{VPN}*"

    slack.command(RIO, GENERAL, "/ask where should I store my passwords")
    slack.press(RIO, slack.ephemerals(RIO)[-1], "Not helpful")  # brings it to the queue
    slack.press(ALEX, open_tab(slack, ALEX, "Review queue (1)"), "Edit")
    form = slack.modal(ALEX)
    assert "answers only who taught it" in seen(form) and "Confirm wording" in labels(form)
    slack.press(ALEX, form, "Confirm wording")
    assert "now leads everyone" in seen(slack.home(ALEX))
    slack.command(KIM, GENERAL, f"/ask {question}")
    assert title(slack.ephemerals(KIM)[-1]) == f"*{manager}*"


def test_looks_fine_clears_a_flag_and_members_cannot(slack, instance, caplog):
    slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Not helpful")
    with caplog.at_level(logging.WARNING):
        forge(slack, SAM, "review_looks_fine", "reset-vpn-password")
    assert "not a manager" in caplog.text
    queue = open_tab(slack, ALEX, "Review queue (1)")
    slack.press(ALEX, queue, "Looks fine")
    assert "Cleared the flag: the entry stays as it is" in seen(slack.home(ALEX))
    assert "Review queue (1)" not in labels(slack.home(ALEX))


def test_shipped_entries_fall_due_a_review_period_after_eddy_first_loaded_them(
    slack, database, content
):
    """Starter content carries no review date: whenever a company installs Eddy, its entries
    come due EDDY_REVIEW_AFTER_DAYS after Eddy first loaded them (content/README.md), and a
    restart in between does not start the count again."""
    installed = datetime(2031, 7, 14, 8, 0, tzinfo=UTC)  # years after the content was written
    clock = ManualClock(installed)
    slack.workspace.clock = clock
    entries = len(list((content / "knowledge").rglob("*.md")))

    def review_queue_label() -> str:
        eddy = Instance(slack, database, content, clock, eddy_review_after_days=30)
        slack.connect(eddy.target)
        try:
            return next(label for label in labels(slack.open_home(ALEX)) if "Review" in label)
        finally:
            eddy.close()

    assert review_queue_label() == "Review queue"
    clock.advance(29 * DAYS)
    assert review_queue_label() == "Review queue"  # a restart on day 29 changes nothing
    clock.advance(1 * DAYS)
    assert review_queue_label() == f"Review queue ({entries})"


def test_an_entry_both_flagged_and_overdue_is_listed_twice_on_a_home_tab_slack_takes(
    slack, database, content, clock
):
    """Slack refuses a whole Home tab that repeats a block_id: an entry on two lists of the
    review queue must not repeat one."""
    for path in (content / "knowledge").rglob("*.md"):
        if path.name != "reset-vpn-password.md":
            path.unlink()
    vpn = content / "knowledge" / "it" / "reset-vpn-password.md"
    vpn.write_text(vpn.read_text().replace("---\n", "---\nreviewed: 2020-01-01\n", 1))
    slack.workspace.clock = clock
    eddy = Instance(slack, database, content, clock)
    slack.connect(eddy.target)
    try:
        slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
        slack.press(SAM, slack.ephemerals(SAM)[-1], "Not helpful")
        queue = open_tab(slack, ALEX, "Review queue (2)")
        assert all(call.ok for call in slack.calls("views.publish"))
        assert seen(queue).count("Reset your VPN password") == 2
        assert labels(queue).count("Looks fine") == 1 and "Mark reviewed" in labels(queue)
    finally:
        eddy.close()


@pytest.fixture
def owned_content(content: Path, clock) -> Path:
    """Kim keeps two entries, reviewed today."""
    today = clock.now().date().isoformat()
    for name in ("it/reset-vpn-password.md", "it/laptop-is-slow.md"):
        path = content / "knowledge" / name
        text = re.sub(r"(?m)^reviewed: .*\n", "", path.read_text())
        path.write_text(text.replace("---\n", f"---\nowner: {KIM}\nreviewed: {today}\n", 1))
    return content


def test_an_answer_shows_when_its_entry_was_last_reviewed(slack, database, owned_content, clock):
    slack.workspace.clock = clock
    eddy = Instance(slack, database, owned_content, clock)
    slack.connect(eddy.target)
    try:
        slack.command(ALEX, GENERAL, "/ask how do I reset my VPN password?")
        assert f"Reviewed {clock.now():%-d %b %Y}" in shown(slack.ephemerals(ALEX)[-1])
    finally:
        eddy.close()


def test_owners_are_reminded_of_overdue_entries_once_per_fortnight(
    slack, database, owned_content, clock
):
    slack.workspace.clock = clock
    eddy = Instance(slack, database, owned_content, clock, eddy_review_after_days=30)
    slack.connect(eddy.target)
    try:
        run_jobs(eddy.runtime, clock.now())
        assert not [m for m in slack.dms(KIM) if "to review" in m.text]
        clock.advance(120 * DAYS)
        run_jobs(eddy.runtime, clock.now())
        reminders = [m for m in slack.dms(KIM) if "to review" in m.text]
        assert len(reminders) == 1 and "2 knowledge entries of yours" in reminders[0].text
        assert "Reset your VPN password" in shown(reminders[0])
        run_jobs(eddy.runtime, clock.now() + timedelta(hours=3))
        assert len([m for m in slack.dms(KIM) if "to review" in m.text]) == 1
        slack.press(KIM, reminders[0], "Still true")
        assert "counts as reviewed today" in slack.ephemerals(KIM)[-1].text
        redrawn = next(m for m in slack.dms(KIM) if m.ts == reminders[0].ts)
        assert labels(redrawn).count("Still true") == 1  # one entry left to confirm
        assert f"Reviewed by <@{KIM}> today." in seen(redrawn)
        queue = open_tab(slack, ALEX, "Review queue")
        assert "Due for review" in seen(queue) and "Page 1 of " in seen(queue)
        pages = [seen(queue)]
        while "Next →" in labels(queue):
            slack.press(ALEX, queue, "Next →")
            queue = slack.home(ALEX)
            pages.append(seen(queue))
        kept = [page for page in pages if "kept by <@U0KIM0003>" in page]
        assert len(kept) == 1 and "Reset your VPN password" in kept[0]
        assert "slow laptop" not in "".join(pages)  # the first one listed was just confirmed
        clock.advance(15 * DAYS)
        run_jobs(eddy.runtime, clock.now())
        again = [m for m in slack.dms(KIM) if "to review" in m.text]
        assert len(again) == 2 and "1 knowledge entry of yours" in again[-1].text
        assert "Reset your VPN password" in shown(again[-1])
    finally:
        eddy.close()


def test_knowledge_gaps_group_similar_questions_and_an_entry_closes_one(slack, instance):
    for person, wording in (
        (SAM, UNKNOWN),
        (RIO, "How do I get a parking permit for the new office garage?"),
        (KIM, "how do i get parking permit for new office garage"),
        (SAM, "who repairs the espresso machine on the fifth floor"),
    ):
        slack.command(person, GENERAL, f"/ask {wording}")
    gaps = open_tab(slack, ALEX, "Knowledge gaps")
    text = seen(gaps)
    assert "asked 3× by 3 people" in text and "espresso" in text
    assert text.index("parking permit") < text.index("espresso")  # biggest first
    slack.press(ALEX, gaps, "Write entry")
    form = slack.modal(ALEX)
    assert form.title() == "Write the entry"
    assert "parking permit" in prefilled(form)["entry_title"]
    assert prefilled(form)["entry_questions"].count("\n") == 1  # two distinct wordings
    slack.submit(
        ALEX,
        {
            "entry_title": "Get a parking permit for the office garage",
            "entry_body": "Reception issues garage permits; bring your badge.",
        },
    )
    assert "Published" in seen(slack.home(ALEX))
    assert "asked 3×" not in seen(slack.home(ALEX)) and "espresso" in seen(slack.home(ALEX))
    slack.command(RIO, GENERAL, "/ask how do I get a parking permit for the garage")
    assert "Get a parking permit for the office garage" in shown(slack.ephemerals(RIO)[-1])


def test_knowledge_gaps_group_questions_that_mean_the_same_thing(slack, instance):
    # Three ways to say the VPN does not work, none answered (Not helpful where Eddy tried),
    # share hardly a word; a password question that is not about the VPN stays apart.
    for person, wording in (
        (SAM, "vpn broken"),
        (RIO, "can't get on the vpn"),
        (KIM, "remote access login fails"),
        (SAM, "reset email password"),
    ):
        slack.command(person, GENERAL, f"/ask {wording}")
        if "Not helpful" in buttons(slack.ephemerals(person)[-1]):
            slack.press(person, slack.ephemerals(person)[-1], "Not helpful")
    text = seen(open_tab(slack, ALEX, "Knowledge gaps"))
    vpn_line = next(line for line in text.splitlines() if "asked 3× by 3 people" in line)
    assert "vpn" in vpn_line or "remote access" in vpn_line
    assert "reset email password" in text and "asked 4×" not in text


def test_gaps_are_worth_a_managers_time_and_close_when_any_entry_answers_them(
    slack, instance, content
):
    for person, wording in (
        (SAM, UNKNOWN),
        (SAM, "who repairs the espresso machine on the fifth floor"),
        (RIO, "thanks!"),
        (RIO, "/learn start security"),
        (KIM, f"<@{SAM}|sam> can you look at the garage gate?"),
    ):
        slack.command(person, GENERAL, f"/ask {wording}")
    text = seen(open_tab(slack, ALEX, "Knowledge gaps"))
    assert "parking permit" in text and "espresso" in text
    assert "thanks" not in text and "/learn" not in text and "garage gate" not in text
    # An entry written for other reasons answers the espresso question now: its line leaves.
    (content / "knowledge" / "espresso.md").write_text(
        "---\ntitle: Who repairs the espresso machine\nquestions:\n"
        "  - who repairs the espresso machine on the fifth floor\n---\n"
        "Facilities looks after the coffee machines: file a ticket.\n"
    )
    instance.runtime.catalogue.refresh(instance.runtime)  # the scheduler's job
    text = seen(open_tab(slack, ALEX, "Knowledge gaps"))
    assert "parking permit" in text and "espresso" not in text


def test_an_answer_rated_not_helpful_is_a_gap_until_its_entry_is_reviewed(slack, instance):
    slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Not helpful")
    text = seen(open_tab(slack, ALEX, "Knowledge gaps"))
    assert "“how do i reset my vpn password”" in text and "No gaps" not in text
    slack.press(ALEX, open_tab(slack, ALEX, "Review queue (1)"), "Looks fine")
    assert "No gaps" in seen(open_tab(slack, ALEX, "Knowledge gaps"))


def test_workspace_admins_are_managers_only_when_the_setting_says_so(
    slack, database, content, clock
):
    slack.workspace.clock = clock
    for admins in (False, True):
        eddy = Instance(
            slack, database, content, clock, eddy_managers=[SAM], eddy_admins_are_managers=admins
        )
        slack.connect(eddy.target)
        try:
            assert ("Review queue" in labels(slack.open_home(ALEX))) is admins  # alex: admin
            assert "Review queue" in labels(slack.open_home(SAM))
            assert "Review queue" not in labels(slack.open_home(RIO))
        finally:
            eddy.close()


def section_with(view, words: str) -> tuple[dict, dict]:
    """The section block that mentions `words`, and its accessory button."""
    block = next(b for b in view.blocks if b.get("accessory") and words in b["text"]["text"])
    return block, block["accessory"]


def test_the_experts_tab_shows_each_network_and_a_manager_edits_its_experts(slack, instance):
    slack.command(KIM, GENERAL, "/experts join people")
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
    slack.submit(SAM, {"experts_topic": "people"})
    experts = open_tab(slack, ALEX, "Experts")
    block, edit = section_with(experts, "People and HR")
    assert "<@U0KIM0003>" in block["text"]["text"] and "1 waiting" in block["text"]["text"]
    slack.press_element(ALEX, experts, block, edit)
    assert slack.modal(ALEX).title() == "Experts"
    slack.submit(ALEX, {"experts_console_people": [KIM, RIO]})
    assert "added <@U0RIO0004>" in seen(slack.home(ALEX))
    assert any("added you to the" in m.text for m in slack.dms(RIO))
    block, edit = section_with(slack.home(ALEX), "People and HR")
    assert "2 experts" in block["text"]["text"]
    slack.press_element(ALEX, slack.home(ALEX), block, edit)
    slack.submit(ALEX, {"experts_console_people": [RIO]})
    assert "removed <@U0KIM0003>" in seen(slack.home(ALEX))
    block, edit = section_with(slack.home(ALEX), "Security")
    assert "(`security`) · no experts yet" in block["text"]["text"]  # not "0 experts: no …"
    slack.press_element(ALEX, slack.home(ALEX), block, edit)
    refused = slack.submit(ALEX, {"experts_console_people": [RIO, "U0EDDYBOT"]})
    assert "Only people can be experts" in str(refused.json())
    assert "no experts yet" in section_with(slack.home(ALEX), "Security")[0]["text"]["text"]


def test_a_member_cannot_open_or_submit_the_experts_form(slack, instance, caplog):
    with caplog.at_level(logging.WARNING):
        forge(slack, SAM, "experts_console_edit", "people")
    assert slack.modal(SAM) is None and "Only community managers" in seen(slack.home(SAM))
    assert "Refused the experts" in caplog.text


def test_the_command_and_the_form_refuse_a_mistyped_schedule_in_the_same_words(slack, instance):
    """Issue 19: `/learn schedule` and the Home form read a schedule with one parser: a
    mistyped zone or time is refused by both with the same sentence, never taken into the
    path's name nor replaced by another zone."""
    typo = "“Europe/Berlln” is not a time zone I know; did you mean Europe/Berlin?"
    for typed, problem in (
        ("giving-feedback <#C0GENERAL|general> 10:00 mon-fri Europe/Berlln", typo),
        (
            "giving-feedback <#C0GENERAL|general> 25:00 Europe/Berlin",
            "“25:00” is not a time of day; try one like 09:00 or 9am.",
        ),
    ):
        slack.command(ALEX, GENERAL, f"/learn schedule {typed}")
        said = slack.ephemerals(ALEX)[-1].text
        assert problem in said and "Nothing was scheduled" in said
    slack.command(ALEX, GENERAL, "/learn schedules")
    assert "No path is scheduled" in slack.ephemerals(ALEX)[-1].text
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    values = {
        "schedule_channel": GENERAL,
        "schedule_path": "giving-feedback",
        "schedule_time": "10:00",
        "schedule_days": ["0", "1", "2", "3", "4"],
        "schedule_zone": "Europe/Berlln",
    }
    assert typo in str(slack.submit(ALEX, values).json())
    slack.submit(ALEX, values | {"schedule_zone": "Europe/Berlin"})
    slack.command(ALEX, GENERAL, "/learn schedules")
    assert "weekdays at 10:00 (Europe/Berlin)" in slack.ephemerals(ALEX)[-1].text


def test_schedules_are_added_paused_resumed_and_changed_in_a_modal(slack, instance):
    schedules = open_tab(slack, ALEX, "Schedules")
    assert "No path is scheduled" in seen(schedules)
    slack.press(ALEX, schedules, "Add a schedule")
    form = slack.modal(ALEX)
    assert form.title() == "Schedule lessons"
    values = {
        "schedule_channel": GENERAL,
        "schedule_path": "security-basics",
        "schedule_time": "08:15",
        "schedule_days": ["0", "2", "4"],
        "schedule_zone": "Mars/Olympus",
    }
    delivery = slack.submit(ALEX, values)
    assert "“Mars/Olympus” is not a time zone I know; try one like Europe/Berlin." in str(
        delivery.json()
    )
    delivery = slack.submit(ALEX, values | {"schedule_zone": "Europe/Berlin", "schedule_days": []})
    assert "at least one day" in str(delivery.json())
    slack.submit(ALEX, values | {"schedule_zone": "Europe/Berlin"})
    home = slack.home(ALEX)
    assert "Scheduled: *Security basics*" in seen(home) or "Scheduled:" in seen(home)
    assert "08:15 (Europe/Berlin)" in seen(home) and "Pause" in labels(home)
    slack.press(ALEX, home, "Pause")
    assert "Paused" in seen(slack.home(ALEX)) and "Resume" in labels(slack.home(ALEX))
    slack.command(SAM, GENERAL, "/learn schedules")
    assert "paused" in shown(slack.ephemerals(SAM)[-1])
    slack.press(ALEX, slack.home(ALEX), "Resume")
    assert "Resumed" in seen(slack.home(ALEX))
    slack.press(ALEX, slack.home(ALEX), "Change")
    assert slack.modal(ALEX).title() == "Change schedule"
    slack.submit(ALEX, {"schedule_time": "10:30"})
    assert "10:30 (Europe/Berlin)" in seen(slack.home(ALEX))


def test_a_schedule_into_a_channel_eddy_is_not_in_is_refused_in_the_form(slack, instance):
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    delivery = slack.submit(
        ALEX,
        {
            "schedule_channel": "C0RANDOM1",
            "schedule_path": "security-basics",
            "schedule_days": ["0"],
        },
    )
    assert "invite me" in str(delivery.json())


def test_analytics_count_what_happened_over_7_30_and_90_days(slack, instance, clock):
    slack.workspace.clock = clock
    slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Helpful")
    slack.command(RIO, GENERAL, f"/ask {UNKNOWN}")
    message = slack.say(SAM, GENERAL, "The visitor wifi code is on the fridge.")
    slack.react(RIO, message, "pray")
    home = slack.open_home(SAM)
    clock.advance(timedelta(minutes=1))
    alone = open_tab(slack, ALEX, "Analytics")
    given = next(line for line in seen(alone).splitlines() if "*Points given:*" in line)
    slack.react(KIM, message, "pray")
    slack.react(KIM, message, "pray", remove=True)  # given and taken back: nets out
    clock.advance(timedelta(minutes=1))
    slack.press(ALEX, slack.home(ALEX), "7 days")
    slack.press(ALEX, slack.home(ALEX), "30 days")
    slack.press(SAM, home, "Start: Giving feedback")
    clock.advance(timedelta(minutes=1))  # a report covers up to the moment it is drawn
    analytics = open_tab(slack, ALEX, "Analytics")
    text = seen(analytics)
    assert "the last 30 days" in text
    assert "*Questions asked:* 2" in text
    assert "*Answered from the index:* 1 (50% of questions)" in text
    assert "*Rated helpful:* 100%" in text
    assert "*Lessons delivered:* 1" in text
    assert "*Points given:* " in text and "*Points given:* 0" not in text
    assert given in text.splitlines()  # as `/badges` counts: what was taken back is not given
    assert "weekly, 5 weeks" in text and ("▁" in text or "█" in text)
    slack.press(ALEX, analytics, "90 days")
    assert "the last 90 days" in seen(slack.home(ALEX)) and "weekly, 13 weeks" in seen(
        slack.home(ALEX)
    )
    clock.advance(10 * DAYS)
    slack.press(ALEX, slack.home(ALEX), "7 days")
    text = seen(slack.home(ALEX))
    # A week's view is drawn day by day, and draws nothing from before the week.
    assert "*Questions asked:* 0" in text and "daily, 7 days" in text and "weeks" not in text
    assert "*Points given:* 0\n`▁▁▁▁▁▁▁` daily" in text


def test_analytics_count_what_happened_at_the_very_instant_they_are_drawn(slack, instance, clock):
    # The sandbox's clock stands still: a question asked and the tab opened at one instant.
    slack.workspace.clock = clock
    slack.command(SAM, GENERAL, "/ask how do i reset my vpn password")
    slack.command(RIO, GENERAL, f"/ask {UNKNOWN}")
    text = seen(open_tab(slack, ALEX, "Analytics"))
    assert "*Questions asked:* 2" in text
    assert "*Answered from the index:* 1 (50% of questions)" in text


@pytest.fixture
def crowded_content(content: Path) -> Path:
    """Fifty networks (the five shipped, and more with long names and descriptions)."""
    data = yaml.safe_load((content / "networks.yml").read_text())
    data["topics"] += [
        {
            "key": f"topic-{number:02d}",
            "name": f"Network {number:02d} " + "of very particular knowledge " * 2,
            "description": "Knows things. " * 40,
        }
        for number in range(50 - len(data["topics"]))
    ]
    (content / "networks.yml").write_text(yaml.safe_dump(data))
    return content


def gibberish(number: int) -> str:
    """A question nothing answers and nothing else resembles."""
    pick = random.Random(number)
    count = 6 + (number % 3) * 40  # some run long
    return " ".join("".join(pick.choices("bcdfghjklmnpqrstvwxz", k=7)) for _ in range(count))


def test_a_home_tab_with_500_queued_200_gaps_and_50_topics_stays_within_slack_limits(
    slack, database, crowded_content, clock
):
    from bot import ask, networks, review

    slack.workspace.clock = clock
    eddy = Instance(slack, database, crowded_content, clock)
    slack.connect(eddy.target)
    runtime = eddy.runtime
    try:
        for number in range(500):
            review.suggest(
                runtime,
                user_id=SAM,
                author=KIM,
                title=f"Draft {number} " + "t" * 190,
                body="A long answer. " * 250,
                topic_key=f"topic-{number % 45:02d}",
                questions=["w" * 200] * 20,
                source_url=f"https://example.slack.com/archives/C0GENERAL/p{number:016d}",
            )
        for number in range(200):
            ask.ask(
                runtime,
                user_id=RIO,
                channel_id=GENERAL,
                surface="command",
                question=gibberish(number),
            )
        for number in range(50):
            for person in (SAM, KIM, RIO):
                networks.join(
                    runtime, topic_key=f"topic-{number:02d}", user_id=person, added_by=ALEX
                )
        home = slack.open_home(ALEX)
        views = [home]
        for tab, pages in (("Review queue", 63), ("Knowledge gaps", 14), ("Experts", 5)):
            views.append(open_tab(slack, ALEX, tab))
            assert f"Page 1 of {pages}" in seen(views[-1])
            slack.press(ALEX, views[-1], "Next →")
            views.append(slack.home(ALEX))
            assert f"Page 2 of {pages}" in seen(views[-1])
            section_name = {"Review queue": "queue", "Knowledge gaps": "gaps"}.get(tab, "experts")
            forge(slack, ALEX, "home_page", f"{section_name}:9999")  # clamped to the last page
            views.append(slack.home(ALEX))
            assert f"Page {pages} of {pages}" in seen(views[-1])
        for tab in ("Schedules", "Analytics"):
            views.append(open_tab(slack, ALEX, tab))
        publishes = slack.calls("views.publish")
        assert publishes and all(call.ok for call in publishes)
        for view in views:
            assert len(view.blocks) <= 100
            ViewModel(**view.payload).validate_json()  # slack_sdk's own limits
        assert "asked 1× by 1 person" in seen(views[4])  # the gaps: 200 lines, none merged
        assert "Network 4" in seen(views[9])  # the experts' last page
    finally:
        eddy.close()
