"""The Slack stand-in answers as Slack does: shapes, scopes, validation, faults, response_url."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from sandbox import Delivery, SandboxError, SlackStandIn
from sandbox.slack import Manifest
from sandbox.workspace import User
from tests.conftest import ALEX, EDDY, GENERAL, KIM, MANIFEST, RANDOM, SAM, SIGNING_SECRET


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
    from sandbox.webapi import ResponseUrl

    token = slack.api.new_response_url(ResponseUrl(ALEX, GENERAL))
    hook = WebhookClient(f"{slack.server.base_url}/respond/{token}")
    assert hook.send(text="just for you").status_code == 200
    assert hook.send(text="for everyone", response_type="in_channel").status_code == 200
    assert slack.ephemerals(ALEX)[-1].text == "just for you"
    assert slack.messages(GENERAL)[-1].text == "for everyone"
    assert WebhookClient(f"{slack.server.base_url}/respond/nope").send(text="x").status_code == 404


def test_only_manifest_commands_exist(slack, eddy):
    from sandbox import SandboxError

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


def test_ten_thousand_people_each_get_their_own_dm(slack):
    people = [
        slack.workspace.add_user(User(f"U1{n:08d}", f"person{n}", f"Person {n}"))
        for n in range(10_000)
    ]
    with pytest.raises(ValueError, match="already"):
        slack.workspace.add_user(User(SAM, "sam", "Sam Again"))
    for person in people:
        status, body, _ = slack.api.call(
            "chat.postMessage", {"channel": person.id, "text": "hi"}, slack.bot_token
        )
        assert (status, body["ok"]) == (200, True)
    ims = [c for c in slack.workspace.channels.values() if c.is_im]
    assert len(ims) == 10_000
    assert {c.im_user for c in ims} == {p.id for p in people}
    assert all([m.text for m in slack.workspace.messages_in(c.id)] == ["hi"] for c in ims)
    assert slack.workspace.im_with(people[-1].id) is slack.workspace.channels[body["channel"]]


def test_message_metadata_is_kept_and_shown_only_when_asked(slack, client):
    metadata = {"event_type": "question_asked", "event_payload": {"question_id": 7}}
    posted = client.chat_postMessage(channel=GENERAL, text="a question", metadata=metadata)
    assert "metadata" not in client.conversations_history(channel=GENERAL)["messages"][0]
    shown = client.conversations_history(channel=GENERAL, include_all_metadata=True)
    assert shown["messages"][0]["metadata"] == metadata
    as_json = {"event_type": "question_answered", "event_payload": {"question_id": 7}}
    _, updated, _ = slack.api.call(
        "chat.update",
        {
            "channel": GENERAL,
            "ts": posted["ts"],
            "text": "answered",
            "metadata": json.dumps(as_json),
        },
        slack.bot_token,
    )
    assert updated["ok"] and slack.messages(GENERAL)[0].metadata == as_json
    for wrong in ({"event_type": "x"}, {"event_type": "", "event_payload": {}}, "not json", [1]):
        _, body, _ = slack.api.call(
            "chat.postMessage",
            {"channel": GENERAL, "text": "t", "metadata": wrong},
            slack.bot_token,
        )
        assert body["error"] == "invalid_metadata_format"
    assert len(slack.messages(GENERAL)) == 1


def test_history_between_oldest_and_latest(slack, client):
    stamps = [client.chat_postMessage(channel=GENERAL, text=str(n))["ts"] for n in range(4)]

    def texts(**kwargs: Any) -> list[str]:
        return [
            m["text"] for m in client.conversations_history(channel=GENERAL, **kwargs)["messages"]
        ]

    assert texts(oldest=stamps[0], latest=stamps[3]) == ["2", "1"]
    assert texts(oldest=stamps[0], latest=stamps[3], inclusive=True) == ["3", "2", "1", "0"]
    assert texts(oldest=stamps[2]) == ["3"]
    assert texts(latest=stamps[1]) == ["0"]
    newest = client.conversations_history(channel=GENERAL, limit=2)
    assert [m["text"] for m in newest["messages"]] == ["3", "2"] and newest["has_more"]
    with pytest.raises(SlackApiError) as raised:
        client.conversations_history(channel=GENERAL, oldest="yesterday")
    assert raised.value.response["error"] == "invalid_ts_oldest"


def test_a_deactivated_person_cannot_be_written_to(slack, client):
    slack.api.scopes = None  # every scope granted
    sam_dm = slack.workspace.im_with(SAM).id
    for person in (SAM, KIM):
        slack.workspace.users[person].deleted = True
    channels = len(slack.workspace.channels)
    for channel in (KIM, sam_dm):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=channel, text="hi")
        assert raised.value.response["error"] == "user_disabled"
    assert len(slack.workspace.channels) == channels  # no DM opened for Kim
    with pytest.raises(SlackApiError) as raised:
        client.conversations_open(users=KIM)
    assert raised.value.response["error"] == "user_disabled"
    with pytest.raises(SlackApiError) as raised:
        client.chat_postEphemeral(channel=GENERAL, user=SAM, text="psst")
    assert raised.value.response["error"] == "user_disabled"
    assert slack.messages(sam_dm) == []


def test_a_person_who_turned_off_app_messages_cannot_get_a_dm(slack, client):
    slack.workspace.users[SAM].messages_tab_disabled = True
    for channel in (SAM, slack.workspace.im_with(SAM).id):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=channel, text="hi")
        assert raised.value.response["error"] == "messages_tab_disabled"
    client.chat_postMessage(channel=KIM, text="hi")
    assert slack.dms(SAM) == [] and [m.text for m in slack.dms(KIM)] == ["hi"]


class Recorder:
    """An app that only notes the events Slack sends it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        self.events.append(json.loads(body)["event"])
        return Delivery(200, "", {})

    def settle(self) -> None:
        """Nothing runs in the background."""


def events_manifest(*events: str) -> Manifest:
    """A manifest subscribing to just `events` (not manifest.yml, which may change)."""
    return Manifest(
        commands=frozenset(),
        bot_events=frozenset(events),
        scopes=frozenset({"users:read"}),
        shortcuts=frozenset(),
    )


def test_deactivating_and_moving_zones_send_user_change_when_subscribed():
    manifest = events_manifest("user_change")
    with SlackStandIn(signing_secret=SIGNING_SECRET, manifest=manifest) as stand_in:
        app = Recorder()
        stand_in.connect(app)
        stand_in.change_timezone(KIM, "Europe/Lisbon")
        stand_in.deactivate(SAM)
    assert [e["type"] for e in app.events] == ["user_change", "user_change"]
    kim, sam = (e["user"] for e in app.events)
    assert (kim["id"], kim["tz"], kim["deleted"]) == (KIM, "Europe/Lisbon", False)
    assert (sam["id"], sam["tz"], sam["deleted"]) == (SAM, "Europe/Berlin", True)


def test_no_user_change_without_a_subscription_or_an_app():
    unsubscribed = SlackStandIn(signing_secret=SIGNING_SECRET, manifest=events_manifest())
    with unsubscribed:
        app = Recorder()
        unsubscribed.connect(app)
        unsubscribed.deactivate(SAM)
        unsubscribed.change_timezone(KIM, "UTC")
    assert app.events == []
    people = unsubscribed.workspace.users
    assert people[SAM].deleted and people[KIM].tz == "UTC"
    with SlackStandIn(
        signing_secret=SIGNING_SECRET, manifest=events_manifest("user_change")
    ) as alone:
        alone.change_timezone(ALEX, "Asia/Kolkata")
        assert alone.workspace.users[ALEX].tz == "Asia/Kolkata"
        with pytest.raises(SandboxError, match="time zone"):
            alone.change_timezone(ALEX, "Mars/Olympus_Mons")


def test_a_held_answer_waits_while_the_call_is_applied_and_others_go_on(slack, client):
    release = slack.hold("chat.postMessage", nth=2)
    answers: dict[str, SlackResponse] = {}

    def post(text: str) -> None:
        answers[text] = client.chat_postMessage(channel=GENERAL, text=text)

    threads = {text: threading.Thread(target=post, args=(text,)) for text in ("1", "2", "3")}
    threads["1"].start()
    threads["1"].join(5)
    threads["2"].start()
    slack.wait_for(lambda: len(slack.messages(GENERAL)) == 2)
    threads["3"].start()
    threads["3"].join(5)
    assert [m.text for m in slack.messages(GENERAL)] == ["1", "2", "3"]
    assert set(answers) == {"1", "3"} and threads["2"].is_alive()
    release.set()
    threads["2"].join(5)
    assert answers["2"]["ok"] and answers["2"]["ts"] == slack.messages(GENERAL)[1].ts


def test_stopping_the_stand_in_lets_a_held_answer_go():
    stand_in = SlackStandIn.from_manifest(MANIFEST, signing_secret=SIGNING_SECRET).start()
    client = WebClient(token=stand_in.bot_token, base_url=stand_in.api_url)
    stand_in.hold("auth.test")
    answers: list[SlackResponse] = []
    caller = threading.Thread(target=lambda: answers.append(client.auth_test()))
    caller.start()
    stand_in.wait_for(lambda: stand_in.calls("auth.test"))
    stand_in.stop()
    caller.join(5)
    assert not caller.is_alive() and answers[0]["ok"]
    assert stand_in.hold("auth.test").is_set()
