"""Messages that stop being actionable are redrawn, through the front door (issue 19): when
anyone does what a button offers, every copy of it, in everyone's DMs and threads, loses it
and says what happened. No button is left that can only answer "already done".

- Claim: the other experts' copies and the managers' alerts;
- "Save to knowledge index": the network's post, the prompt in its thread and the asker's
  copy of the answer, once someone has sent the answer for review;
- Approve / Edit / Reject: every reviewer's copy of the card, whoever decided.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ALEX, GENERAL, IT_HELP, KIM, RIO, SAM, shipped_content
from tests.test_ask import buttons, shown

#: Nothing in the shipped index answers this confidently.
UNKNOWN = "how do I get a parking permit for the new office garage"
SAVE = "Save to knowledge index"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """Two managers look after IT help (a channel network) and Security (DMs, two experts at
    a time), so that their review cards and alerts come in two copies."""
    managers = [ALEX, RIO]
    return shipped_content(
        tmp_path,
        topics={
            "it-help": {"channel": IT_HELP, "managers": managers},
            "security": {"experts_per_question": 2, "managers": managers},
        },
        keywords={"people": ["parking", "office"]},
    )


def ask_the_experts(slack, asker: str, topic: str) -> None:
    slack.command(asker, GENERAL, f"/ask {UNKNOWN}")
    slack.press(asker, slack.ephemerals(asker)[-1], "Ask the experts")
    slack.submit(asker, {"experts_topic": topic})


def now_in(slack, user: str, message):
    """The message as `user` sees it now (after any chat.update)."""
    return next(m for m in slack.dms(user) if m.ts == message.ts)


def about_the_question(slack, user: str) -> list:
    return [m for m in slack.dms(user) if "A question for the" in shown(m)]


def test_a_claim_takes_claim_off_every_other_copy_and_every_managers_alert(slack, instance):
    ask_the_experts(slack, SAM, "security")  # nobody in the network: the managers are alerted
    alerts = [about_the_question(slack, manager)[-1] for manager in (ALEX, RIO)]
    assert all("Claim" in buttons(alert) for alert in alerts)
    for expert in (KIM, SAM):
        slack.command(expert, GENERAL, "/experts join security")
    copy = about_the_question(slack, KIM)[-1]
    slack.press(KIM, copy, "Claim")
    for manager, alert in zip((ALEX, RIO), alerts, strict=True):
        redrawn = now_in(slack, manager, alert)
        assert buttons(redrawn) == [] and f"<@{KIM}> is on it" in shown(redrawn)


def test_saving_an_answer_takes_save_off_every_message_that_offered_it(slack, instance):
    ask_the_experts(slack, SAM, "it-help")
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    slack.say(KIM, IT_HELP, "Garage permits: the *blue form* at the front desk.", thread_ts=post.ts)
    slack.press(SAM, slack.dms(SAM)[-1], "Resolved")
    answer = slack.dms(SAM)[-1]
    prompt = next(m for m in slack.messages(IT_HELP, thread_ts=post.ts) if SAVE in buttons(m))
    offering = [answer, prompt, slack.messages(IT_HELP)[-1]]
    assert SAVE in buttons(answer) and SAVE in buttons(slack.messages(IT_HELP)[0])
    slack.press(KIM, prompt, SAVE)
    slack.submit(KIM, {"entry_title": "Parking permits"})
    shown_now = [
        now_in(slack, SAM, answer),
        next(m for m in slack.messages(IT_HELP, thread_ts=post.ts) if m.ts == prompt.ts),
        next(m for m in slack.messages(IT_HELP) if m.ts == post.ts),
    ]
    assert len(offering) == len(shown_now)
    for message in shown_now:
        assert SAVE not in buttons(message), shown(message)
        assert "Sent for review to the knowledge index." in shown(message)


def test_one_reviewer_decides_and_every_reviewers_card_says_so(slack, instance):
    ask_the_experts(slack, SAM, "it-help")
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    slack.say(KIM, IT_HELP, "Garage permits: the *blue form* at the front desk.", thread_ts=post.ts)
    slack.press(SAM, slack.dms(SAM)[-1], "Resolved")
    slack.press(SAM, slack.dms(SAM)[-1], SAVE)
    slack.submit(SAM, {"entry_title": "Parking permits"})
    cards = {manager: slack.dms(manager)[-1] for manager in (ALEX, RIO)}
    assert all(buttons(card) == ["Approve", "Edit", "Reject"] for card in cards.values())
    slack.press(ALEX, cards[ALEX], "Edit")
    edit = json.dumps(slack.modal(ALEX).blocks)
    assert "Parking permits" in edit and "Suggested from your question" not in edit
    slack.press(RIO, cards[RIO], "Approve")
    for manager, card in cards.items():
        redrawn = now_in(slack, manager, card)
        assert buttons(redrawn) == [] and f"Approved by <@{RIO}>" in shown(redrawn)
    # The network's post and the asker's answer now say it is saved.
    assert "Saved to the knowledge index." in shown(
        next(m for m in slack.messages(IT_HELP) if m.ts == post.ts)
    )


def sent_for_review(slack) -> tuple:
    """Sam's question answered in #it-help, resolved, and sent for review by Kim: the
    asker's answer, the thread's save prompt and the network's post, and Alex's card."""
    ask_the_experts(slack, SAM, "it-help")
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    slack.say(KIM, IT_HELP, "Garage permits: the *blue form* at the front desk.", thread_ts=post.ts)
    slack.press(SAM, slack.dms(SAM)[-1], "Resolved")
    answer = slack.dms(SAM)[-1]
    prompt = next(m for m in slack.messages(IT_HELP, thread_ts=post.ts) if SAVE in buttons(m))
    slack.press(KIM, prompt, SAVE)
    slack.submit(KIM, {"entry_title": "Parking permits"})
    return answer, prompt, post, slack.dms(ALEX)[-1]


def every_copy(slack, answer, prompt, post) -> list:
    return [
        now_in(slack, SAM, answer),
        next(m for m in slack.messages(IT_HELP, thread_ts=post.ts) if m.ts == prompt.ts),
        next(m for m in slack.messages(IT_HELP) if m.ts == post.ts),
    ]


def test_once_approved_every_copy_that_said_sent_for_review_says_saved(slack, instance):
    answer, prompt, post, card = sent_for_review(slack)
    slack.press(ALEX, card, "Approve")
    for message in every_copy(slack, answer, prompt, post):
        assert "Saved to the knowledge index." in shown(message), shown(message)
        assert "Sent for review" not in shown(message) and SAVE not in buttons(message)


def test_once_rejected_every_copy_offers_save_again(slack, instance):
    answer, prompt, post, card = sent_for_review(slack)
    slack.press(ALEX, card, "Reject")
    slack.submit(ALEX, {"review_reason": "Too specific to one office."})
    for message in every_copy(slack, answer, prompt, post):
        assert "Sent for review" not in shown(message), shown(message)
        assert SAVE in buttons(message)
