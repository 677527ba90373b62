"""The help-channel question detector (bot/question_detector.py): what Eddy answers unasked in
a help channel and what it leaves alone, on text as Slack delivers it. How well it does on the
labelled set is the bench's business (bench/question_detector.py); here, clear cases both ways,
and the shape of the committed set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.question_detector import THRESHOLD, classify, is_question, question_score

LABELLED_SET = Path(__file__).parent.parent / "bench" / "data" / "help_channel_messages.yml"

QUESTIONS = [
    "How do I get the VPN working on my new laptop?",
    "where do I find the travel expense form",
    "is there a way to see who has access to the finance folder",
    "Can I book the big meeting room for an all-day workshop?",
    "I need help connecting to the 5th floor printer",
    "looking for the latest version of the holiday policy",
    "does anybody know who signs off on training budgets",
    "i cant figure out how to add a signature in outlook",
    "Hi all :wave: quick q — what's the wifi password for guests?",
    "<@U0123ABCD> could you check my access request for <#C0FIN|finance-help>?",
    "Where can I read the <https://wiki.example.com/pto?tab=rules|PTO rules> for contractors?",
    "Why is the build failing?\n```Error: Cannot find module 'left-pad'\n    at require```",
    "&gt; The office is closed on Friday\nDoes that include the warehouse &amp; the lab?",
    "Why does Excel keep freezing when I open the budget file? :sweat:",
]

NOT_QUESTIONS = [
    "thanks!",
    "Thank you <@U0123ABCD> :pray: all good now",
    "good morning all :sunny:",
    "lunch?",
    "anyone?",
    "+1",
    "same here",
    "FYI the coffee machine on 2 is broken again",
    "Reminder: expense reports are due on the 5th. Questions? Ask in the thread",
    "PSA: never share your password, not even with IT",
    "why is everything so slow today 🙄",
    "Who's up for drinks after work?",
    "Here are the notes: <https://docs.example.com/notes?id=42|meeting notes>",
    "The query that runs is ```SELECT * FROM payroll WHERE id = ?```",
    "&gt; how do I get a parking permit?\nask facilities, they hand them out on Mondays",
    ":white_check_mark:",
    "",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_questions(text: str) -> None:
    verdict = classify(text)
    assert verdict.question, verdict
    assert is_question(text)
    assert question_score(text) >= THRESHOLD


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_the_rest_is_left_alone(text: str) -> None:
    verdict = classify(text)
    assert not verdict.question, verdict
    assert not is_question(text)
    assert question_score(text) < THRESHOLD


def test_a_verdict_names_its_rule_and_the_people_mentioned() -> None:
    verdict = classify("<@U01> <@U02> <@U01> can either of you restart the build agent?")
    assert verdict.question
    assert verdict.mentions == ("U01", "U02")
    assert "?" in verdict.reason
    assert 0.0 <= verdict.score <= 1.0
    assert "announcement" in classify("Heads up: is the VPN slow for you too? Restarting").reason


def test_a_request_for_help_stands_in_an_announcement() -> None:
    assert is_question("FYI the wifi is down on 3 - does anyone know when it will be back?")
    assert not is_question("FYI the wifi is down on 3, back in an hour")


def test_the_committed_set_has_the_shape_the_bench_reads() -> None:
    messages = yaml.safe_load(LABELLED_SET.read_text(encoding="utf-8"))
    assert len(messages) >= 300
    for message in messages:
        assert set(message) == {"text", "question", "kind", "split"}, message
        assert isinstance(message["text"], str) and message["text"].strip()
        assert isinstance(message["question"], bool)
        assert isinstance(message["kind"], str) and message["kind"]
        assert message["split"] in {"dev", "holdout"}
    assert {m["question"] for m in messages} == {True, False}
    assert {m["split"] for m in messages} == {"dev", "holdout"}
    assert len({m["text"] for m in messages}) == len(messages), "a message is there twice"
    splits = [m["split"] for m in messages]
    assert splits == sorted(splits), "dev entries come first, holdout last"
