"""The Slack stand-in answers as Slack does: shapes, scopes, validation, faults, response_url."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.sandbox import SlackStandIn
from bot.sandbox.slack import Manifest
from tests.conftest import ALEX, EDDY, GENERAL, KIM, RANDOM, SAM, SIGNING_SECRET


@pytest.fixture
def client(slack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def test_auth_test_describes_the_bot(slack, client):
    answer = client.auth_test()
    assert answer["user_id"] == EDDY
    assert answer["team_id"] == "T0SANDBOX"
    assert answer["url"] == "https://eddy-sandbox.slack.com/"


def test_a_wrong_token_is_refused(slack):
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


def test_a_method_outside_the_manifest_scopes_is_refused(slack, client):
    with pytest.raises(SlackApiError) as raised:
        client.reactions_add(channel=GENERAL, timestamp="1.0", name="tada")
    assert raised.value.response["error"] == "missing_scope"
    assert raised.value.response["needed"] == "reactions:write"


def test_post_update_delete_and_permalink(slack, client):
    posted = client.chat_postMessage(channel=GENERAL, text="hello")
    assert posted["message"]["bot_id"] == "B0EDDYBOT"
    client.chat_update(channel=GENERAL, ts=posted["ts"], text="hello again")
    assert slack.messages(GENERAL)[-1].text == "hello again"
    link = client.chat_getPermalink(channel=GENERAL, message_ts=posted["ts"])["permalink"]
    assert link.startswith("https://eddy-sandbox.slack.com/archives/C0GENERAL/p")
    client.chat_delete(channel=GENERAL, ts=posted["ts"])
    assert slack.messages(GENERAL) == []


def test_posting_to_a_user_id_lands_in_their_dm(slack, client):
    client.chat_postMessage(channel=SAM, text="psst")
    assert [m.text for m in slack.dms(SAM)] == ["psst"]


def test_posting_where_eddy_is_not_a_member_fails(slack, client):
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=RANDOM, text="hi")
    assert raised.value.response["error"] == "not_in_channel"


def test_invalid_blocks_are_refused_like_slack_does(slack, client):
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=GENERAL, text="t", blocks=[too_long])
    assert raised.value.response["error"] == "invalid_blocks"
    fifty_one = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=GENERAL, text="t", blocks=fifty_one)
    assert slack.messages(GENERAL) == []


def test_a_message_needs_text_or_blocks(slack, client):
    with pytest.raises(SlackApiError) as raised, pytest.warns(UserWarning, match="`text`"):
        client.chat_postMessage(channel=GENERAL, text="")
    assert raised.value.response["error"] == "no_text"


def test_a_429_carries_retry_after(slack):
    slack.fail_next("auth.test", status=429, retry_after=7)
    request = urllib.request.Request(
        slack.api_url + "auth.test",
        data=b"",
        headers={"Authorization": f"Bearer {slack.bot_token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 429
    assert raised.value.headers["Retry-After"] == "7"
    assert json.loads(raised.value.read())["error"] == "ratelimited"


def test_every_nth_call_can_be_rate_limited(slack):
    slack.rate_limit_every("auth.test", 3)
    plain = WebClient(token=slack.bot_token, base_url=slack.api_url)
    outcomes = []
    for _ in range(6):
        try:
            plain.auth_test()
            outcomes.append("ok")
        except SlackApiError as error:
            outcomes.append(error.response.status_code)
    assert outcomes == ["ok", "ok", 429, "ok", "ok", 429]


def test_users_info_gives_the_time_zone(slack, client):
    slack.api.scopes = None  # every scope granted
    kim = client.users_info(user="U0KIM0003")["user"]
    assert kim["tz"] == "Asia/Tokyo"
    assert kim["tz_offset"] == 9 * 3600


def test_views_publish_and_a_stale_hash_conflicts(slack, client):
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = client.views_publish(user_id=ALEX, view=home)["view"]
    client.views_publish(user_id=ALEX, view=home, hash=first["hash"])
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id=ALEX, view=home, hash=first["hash"])
    assert raised.value.response["error"] == "hash_conflict"
    assert slack.home(ALEX).blocks == home["blocks"]


def test_a_trigger_opens_one_modal_only(slack, client):
    trigger = slack.api.issue_trigger(ALEX)
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Hi"},
        "blocks": [{"type": "divider"}],
    }
    client.views_open(trigger_id=trigger, view=modal)
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id=trigger, view=modal)
    assert raised.value.response["error"] == "invalid_trigger_id"


def test_a_response_url_posts_ephemerally_then_in_channel(slack):
    from bot.sandbox.webapi import ResponseUrl

    token = slack.api.new_response_url(ResponseUrl(ALEX, GENERAL))
    hook = WebhookClient(f"{slack.server.base_url}/respond/{token}")
    assert hook.send(text="just for you").status_code == 200
    assert hook.send(text="for everyone", response_type="in_channel").status_code == 200
    assert slack.ephemerals(ALEX)[-1].text == "just for you"
    assert slack.messages(GENERAL)[-1].text == "for everyone"
    assert WebhookClient(f"{slack.server.base_url}/respond/nope").send(text="x").status_code == 404


def test_only_manifest_commands_exist(slack, eddy):
    from bot.sandbox import SandboxError

    with pytest.raises(SandboxError, match="not a command of this app"):
        slack.command(ALEX, GENERAL, "/karma give sam")


def test_only_subscribed_events_are_sent(slack, eddy):
    slack.say(ALEX, GENERAL, "no mention, and message.channels is not subscribed")
    assert not [c for c in slack.calls() if c.method != "auth.test"]


def test_the_manifest_drives_the_stand_in():
    manifest = Manifest(
        commands=frozenset({"/x"}),
        bot_events=frozenset(),
        scopes=frozenset(),
        shortcuts=frozenset(),
    )
    stand_in = SlackStandIn(signing_secret=SIGNING_SECRET, manifest=manifest)
    with stand_in, pytest.raises(SlackApiError) as raised:
        WebClient(token=stand_in.bot_token, base_url=stand_in.api_url).chat_postMessage(
            channel=GENERAL, text="hi"
        )
    assert raised.value.response["error"] == "missing_scope"


def test_conversations_open_gives_the_dm_and_views_update_replaces_a_modal(slack):
    slack.api.scopes = None  # every scope granted
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    channel = client.conversations_open(users=KIM)["channel"]
    assert channel["id"] == slack.workspace.im_with(KIM).id
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "One"},
        "blocks": [{"type": "divider"}],
    }
    opened = client.views_open(trigger_id=slack.api.issue_trigger(KIM), view=modal)["view"]
    client.views_update(
        view_id=opened["id"],
        hash=opened["hash"],
        view={**modal, "title": {"type": "plain_text", "text": "Two"}},
    )
    assert slack.modal(KIM).title() == "Two"
    with pytest.raises(SlackApiError) as raised:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert raised.value.response["error"] == "hash_conflict"
