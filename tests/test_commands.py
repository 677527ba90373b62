"""Every slash command answers bad input with a short ephemeral explanation and its usage."""

from __future__ import annotations

import pytest

from tests.conftest import ALEX, GENERAL, IT_HELP

COMMANDS = ["/ask", "/learn", "/experts", "/badges"]


def last_reply(slack, user=ALEX) -> str:
    replies = slack.ephemerals(user)
    assert replies, "Eddy said nothing"
    message = replies[-1]
    return (
        message.text
        + "\n"
        + "\n".join(
            element.get("text", "")
            for block in message.blocks
            for element in block.get("elements", [])
            if isinstance(element, dict)
        )
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("text", ["help", "HELP", "?", "  help  "])
def test_help_shows_what_the_command_does_and_its_usage(slack, eddy, command, text):
    slack.command(ALEX, GENERAL, f"{command} {text}")
    reply = last_reply(slack)
    assert command in reply
    assert f"*Usage:* `{command}" in reply


def test_ask_without_a_question_shows_usage(slack, eddy):
    slack.command(ALEX, GENERAL, "/ask")
    assert "*Usage:* `/ask <question>`" in last_reply(slack)


@pytest.mark.parametrize("command", ["/learn", "/experts", "/badges"])
def test_unknown_words_are_named_and_usage_follows(slack, eddy, command):
    slack.command(ALEX, IT_HELP, f"{command} frobnicate now")
    reply = last_reply(slack)
    assert "I don't know `frobnicate`" in reply
    assert f"*Usage:* `{command}" in reply


@pytest.mark.parametrize("command", COMMANDS)
def test_very_long_text_is_refused_with_the_limit(slack, eddy, command):
    slack.command(ALEX, GENERAL, f"{command} " + "why " * 600)
    reply = last_reply(slack)
    assert "2,399 characters" in reply
    assert "at most 1,000" in reply
    assert "*Usage:*" in reply


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("injection", ["<!channel>", "<!here|here>", "<@U0SAM0002>"])
def test_mentions_in_the_text_are_never_repeated_as_mentions(slack, eddy, command, injection):
    slack.command(ALEX, GENERAL, f"{command} {injection} please")
    message = slack.ephemerals(ALEX)[-1]
    everything = message.text + str(message.blocks)
    assert injection not in everything
    assert "<!" not in everything
    assert "<@U0SAM0002>" not in everything


def test_every_reply_is_ephemeral_to_the_person_who_typed_it(slack, eddy):
    for command in COMMANDS:
        slack.command(ALEX, GENERAL, f"{command} help")
    assert len(slack.ephemerals(ALEX)) == len(COMMANDS)
    assert slack.messages(GENERAL) == []


def test_a_question_is_answered_and_repeated_safely(slack, eddy):
    slack.command(ALEX, GENERAL, "/ask how do I reset my <!channel> VPN password & stay safe?")
    reply = slack.ephemerals(ALEX)[-1].text
    assert "how do I reset my &lt;!channel&gt; VPN password &amp; stay safe?" in reply
    assert "no knowledge index" in reply
