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
    assert "*Usage:* `/ask &lt;question&gt;`" in last_reply(slack)


@pytest.mark.parametrize("command", ["/learn", "/experts", "/badges"])
def test_unknown_words_are_named_and_usage_follows(slack, eddy, command):
    slack.command(ALEX, IT_HELP, f"{command} frobnicate now")
    reply = last_reply(slack)
    assert "I don't know `frobnicate`" in reply
    assert f"*Usage:* `{command}" in reply


@pytest.mark.parametrize("command", ["/learn", "/experts"])
def test_a_person_where_a_word_belongs_is_explained_without_their_id(slack, eddy, command):
    slack.command(ALEX, IT_HELP, f"{command} <@U0SAM0002|sam>")
    reply = last_reply(slack)
    assert f"{command} doesn't take a person there." in reply and "U0SAM0002" not in reply
    assert f"*Usage:* `{command}" in reply


@pytest.mark.parametrize("command", COMMANDS)
def test_very_long_text_is_refused_with_the_limit(slack, eddy, command):
    slack.command(ALEX, GENERAL, f"{command} " + "why " * 600)
    reply = last_reply(slack)
    assert "2,399 characters" in reply
    assert "at most 1,000" in reply
    assert "*Usage:*" in reply


# What Slack sends when a person types @channel, @here, @sam or @design-team.
INJECTIONS = {
    "<!channel>": "@channel",
    "<!here|here>": "@here",
    "<@U0SAM0002|sam>": "@U0SAM0002",
    "<@U0SAM0002>": "@U0SAM0002",
    "<!subteam^S0DESIGN|@design-team>": "@design-team",
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("injection", INJECTIONS)
def test_mentions_in_the_text_are_never_repeated_as_mentions(slack, eddy, command, injection):
    slack.command(ALEX, GENERAL, f"{command} {injection} zyxwvut")
    message = slack.ephemerals(ALEX)[-1]
    everything = message.text + str(message.blocks)
    assert injection not in everything
    assert "<!" not in everything and "<@" not in everything
    if command == "/ask":
        assert f"“{INJECTIONS[injection]} zyxwvut”" in message.text


def test_every_reply_is_ephemeral_to_the_person_who_typed_it(slack, eddy):
    for command in COMMANDS:
        slack.command(ALEX, GENERAL, f"{command} help")
    assert len(slack.ephemerals(ALEX)) == len(COMMANDS)
    assert slack.messages(GENERAL) == []


def test_a_question_is_repeated_as_typed_without_double_escaping(slack, eddy):
    # Typed: is <zork> & <!channel> valid quux? (Slack escapes what the person typed.)
    slack.command(ALEX, GENERAL, "/ask is &lt;zork&gt; &amp; &lt;!channel&gt; valid quux?")
    reply = slack.ephemerals(ALEX)[-1].text
    assert "“is &lt;zork&gt; &amp; &lt;!channel&gt; valid quux?”" in reply


def test_a_link_in_a_question_shows_its_text_and_where_it_goes(slack, eddy):
    # Repeated as markup, a link could hide its target behind any text; as text, Slack still
    # links the address.
    slack.command(ALEX, GENERAL, "/ask what is <https://example.com/zork|the zorkmid glorp>?")
    reply = slack.ephemerals(ALEX)[-1].text
    assert "“what is the zorkmid glorp (https://example.com/zork)?”" in reply
    assert "<https://" not in reply
