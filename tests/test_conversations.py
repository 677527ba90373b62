"""Asking Eddy where people talk: @Eddy in a channel (answered in the thread) and DMs."""

from __future__ import annotations

from tests.conftest import ALEX, EDDY, GENERAL, RANDOM, SAM


def test_a_mention_is_answered_in_its_thread(slack, eddy):
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> how do I submit an expense claim?")
    thread = slack.messages(GENERAL, thread_ts=question.ts)
    assert [m.user for m in thread] == [ALEX, EDDY]
    assert thread[1].text.startswith("“Submit an expense claim”:")
    assert thread[1].thread_ts == question.ts


def test_a_bare_mention_explains_how_to_ask(slack, eddy):
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}>")
    reply = slack.messages(GENERAL, thread_ts=question.ts)[-1]
    assert "Ask me a question after the mention" in reply.text


def test_a_mention_inside_a_thread_stays_in_that_thread(slack, eddy):
    parent = slack.say(SAM, GENERAL, "Anyone know the wifi password for guests?")
    slack.say(ALEX, GENERAL, f"<@{EDDY}> guest wifi?", thread_ts=parent.ts)
    replies = slack.messages(GENERAL, thread_ts=parent.ts)
    assert replies[-1].user == EDDY
    assert replies[-1].thread_ts == parent.ts


def test_a_dm_is_answered_in_the_dm(slack, eddy):
    dm = slack.workspace.im_with(SAM)
    slack.say(SAM, dm.id, "how do I book a meeting room")
    assert [m.user for m in slack.dms(SAM)] == [SAM, EDDY]
    assert slack.dms(SAM)[-1].text.startswith("“Book a meeting room”:")


def test_a_dm_saying_help_gets_the_usage(slack, eddy):
    slack.say(SAM, slack.workspace.im_with(SAM).id, "help")
    assert "/ask &lt;question&gt;" in str(slack.dms(SAM)[-1].blocks)


def test_plain_channel_chatter_is_left_alone(slack, eddy):
    slack.say(ALEX, RANDOM, "lunch anyone?")
    slack.say(ALEX, GENERAL, "good morning all")
    assert slack.calls("chat.postMessage") == []


def test_the_home_search_box_answers_by_dm(slack, eddy):
    home = slack.open_home(ALEX)
    slack.enter(ALEX, home, "home_search_input", "What's our <!here> zorkmid policy?")
    answer = slack.dms(ALEX)[-1]
    assert "“What's our &lt;!here&gt; zorkmid policy?”" in answer.text


def test_the_home_search_box_refuses_an_empty_question_on_the_home_tab(slack, eddy):
    slack.enter(ALEX, slack.open_home(ALEX), "home_search_input", "   ")
    notice = slack.home(ALEX).blocks[1]["text"]["text"]
    assert "Type a question first" in notice
    assert slack.dms(ALEX) == []
