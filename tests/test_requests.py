"""What reaches Eddy from Slack: signatures, retries, rate limits and failures."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlencode

import pytest

from sandbox.workspace import Message
from tests.conftest import ALEX, EDDY, GENERAL
from tests.test_ask import answer_to
from tests.test_home import labels, open_tab, seen


def mention(slack, text="where is the handbook?"):
    return {
        "type": "app_mention",
        "user": ALEX,
        "text": f"<@{EDDY}> {text}",
        "ts": slack.workspace.next_ts(),
        "channel": GENERAL,
    }


def command_body(text="help"):
    return urlencode(
        {
            "command": "/ask",
            "text": text,
            "user_id": ALEX,
            "channel_id": GENERAL,
            "team_id": "T0SANDBOX",
            "response_url": "http://127.0.0.1:9/x",
            "trigger_id": "t",
        }
    )


def test_unsigned_requests_are_refused(slack, eddy):
    delivery = slack.send(command_body(), signed=False)
    assert delivery.status == 401
    assert slack.calls() == [c for c in slack.calls() if c.method == "auth.test"]


def test_forged_signatures_are_refused(slack, eddy):
    delivery = slack.send(command_body(), extra_headers={"X-Slack-Signature": "v0=deadbeef"})
    assert delivery.status == 401


def test_stale_requests_are_refused(slack, eddy):
    delivery = slack.send(command_body(), age=6 * 60)
    assert delivery.status == 401


def test_a_retried_event_is_handled_once(slack, eddy):
    event = mention(slack)
    first = slack.event(event, event_id="Ev0RETRY1")
    again = slack.event(event, event_id="Ev0RETRY1", retry_num=1)
    third = slack.event(event, event_id="Ev0RETRY1", retry_num=2)
    assert first.status == again.status == third.status == 200
    assert len(slack.calls("chat.postMessage")) == 1


def test_the_same_event_delivered_twice_at_once_is_handled_once(slack, eddy):
    event = mention(slack)
    start = threading.Barrier(2)

    def deliver(retry_num):
        start.wait()
        slack.event(event, event_id="Ev0TWICE1", retry_num=retry_num)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slack.target.settle()
    assert len(slack.calls("chat.postMessage")) == 1


def test_different_events_are_all_handled(slack, eddy):
    for _ in range(3):
        slack.event(mention(slack))
    assert len(slack.calls("chat.postMessage")) == 3


def test_a_rate_limited_reply_waits_for_retry_after_and_is_delivered(slack, eddy):
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> where is the handbook?")
    attempts = slack.calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert slack.messages(GENERAL, thread_ts=question.ts)[-1].user == EDDY


@pytest.mark.parametrize("status", [500, 503, 0], ids=["500", "503", "dropped-connection"])
def test_server_errors_and_dropped_connections_are_retried(slack, eddy, status):
    slack.fail_next("chat.postMessage", status=status, error="internal_error")
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> where is the handbook?")
    assert slack.messages(GENERAL, thread_ts=question.ts)[-1].user == EDDY
    assert len(slack.calls("chat.postMessage")) == 2


def test_a_failure_is_logged_with_its_traceback_and_the_person_is_told(slack, eddy, caplog):
    slack.fail_next("chat.postMessage", status=200, error="fatal_error")
    with caplog.at_level(logging.ERROR):
        slack.say(ALEX, GENERAL, f"<@{EDDY}> where is the handbook?")
    records = [r for r in caplog.records if "Unhandled error" in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "fatal_error" in str(records[0].exc_info[1])
    apology = slack.ephemerals(ALEX)[-1].text
    assert "something went wrong on Eddy's side" in apology
    assert "fatal_error" not in apology and "Traceback" not in apology


def test_a_failing_modal_submission_is_apologised_for_by_dm(slack, eddy):
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    slack.fail_next("views.publish", status=200, error="fatal_error")  # the Home tab's answer
    slack.submit(ALEX, {"schedule_channel": GENERAL, "schedule_path": "security-basics"})
    assert "something went wrong" in slack.dms(ALEX)[-1].text


def test_a_failing_search_from_the_home_tab_is_apologised_for_on_the_home_tab(slack, eddy):
    slack.fail_next("chat.postMessage", status=200, error="fatal_error")
    slack.enter(ALEX, slack.open_home(ALEX), "home_search_input", "where is the handbook?")
    assert "something went wrong on Eddy's side" in seen(slack.home(ALEX))
    assert slack.dms(ALEX) == []


def test_a_button_from_a_retired_message_says_so(slack, eddy):
    old = slack.workspace.add_message(
        Message(
            channel=GENERAL,
            ts=slack.workspace.next_ts(),
            text="old",
            user=EDDY,
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "retired_button",
                            "text": {"type": "plain_text", "text": "Old"},
                        }
                    ],
                }
            ],
        )
    )
    delivery = slack.press(ALEX, old, "Old")
    assert delivery.status == 200
    assert "no longer does anything" in slack.ephemerals(ALEX)[-1].text
    assert old.text == "old"


def test_a_malformed_interactivity_payload_is_a_clean_client_error(slack, eddy):
    delivery = slack.send(urlencode({"payload": json.dumps({"type": "block_actions"})}))
    assert delivery.status == 400  # the front door cannot read it; no listener sees it
    assert slack.ephemerals(ALEX) == []


# --- a failure costs nobody the 3 seconds --------------------------------------------------------


def everything_seen_by(slack, user) -> str:
    """All Eddy has shown `user`: ephemerals, DMs and the Home tab."""
    home = slack.home(user)
    texts = [m.text for m in slack.ephemerals(user) + slack.dms(user)]
    return "\n".join([*texts, seen(home) if home is not None else ""])


def test_a_button_that_fails_just_after_its_ack_is_apologised_for_at_once(slack, eddy, caplog):
    answer = answer_to(slack, "how do I set up two factor authentication")
    slack.fail_next("chat.postMessage", status=200, error="fatal_error")  # after on_share's ack
    with caplog.at_level(logging.WARNING):
        delivery = slack.press(ALEX, answer, "Share in channel")
    assert delivery.status == 200
    assert "something went wrong on Eddy's side" in slack.ephemerals(ALEX)[-1].text
    assert "no longer does anything" not in everything_seen_by(slack, ALEX)
    assert "did not call ack()" not in caplog.text
    assert answer in slack.ephemerals(ALEX)  # nothing happened, and nothing says it did


def test_a_home_tab_button_that_fails_after_its_ack_says_so_on_the_home_tab(slack, eddy, caplog):
    home = slack.open_home(ALEX)
    slack.fail_next("views.publish", status=200, error="fatal_error")  # the tab's redraw
    with caplog.at_level(logging.WARNING):
        tab = next(label for label in labels(home) if label.startswith("Schedules"))
        delivery = slack.press(ALEX, home, tab)
    assert delivery.status == 200
    assert "something went wrong on Eddy's side" in seen(slack.home(ALEX))
    assert "no longer does anything" not in everything_seen_by(slack, ALEX)
    assert "did not call ack()" not in caplog.text


def test_a_modal_whose_listener_fails_before_its_ack_stays_open_with_an_apology(
    slack, eddy, caplog
):
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    slack.fail_next("conversations.info", status=0, times=3)  # Slack unreachable, retries too
    with caplog.at_level(logging.WARNING):
        delivery = slack.submit(
            ALEX, {"schedule_channel": GENERAL, "schedule_path": "security-basics"}
        )
    assert delivery.status == 200
    reply = delivery.json()
    assert reply["response_action"] == "errors"
    assert any("something went wrong on Eddy's side" in e for e in reply["errors"].values())
    assert slack.modal(ALEX) is not None  # still open, with what Alex chose in it
    assert "did not call ack()" not in caplog.text
    failures = [r for r in caplog.records if "Unhandled error" in r.getMessage()]
    assert failures and failures[0].exc_info is not None  # the traceback is in the log


def test_a_slow_slack_before_the_ack_fails_fast_instead_of_costing_the_three_seconds(slack, eddy):
    """Until a modal's submission is acknowledged, a rate-limited Web API call is not waited
    out (Retry-After is 30 s here; Slack gives up after 3): Eddy answers in the form at once,
    and the call is made once."""
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    slack.fail_next("conversations.info", status=429, retry_after=30)
    delivery = slack.submit(ALEX, {"schedule_channel": GENERAL, "schedule_path": "security-basics"})
    assert delivery.status == 200
    assert delivery.json()["response_action"] == "errors"
    assert [call.status for call in slack.calls("conversations.info")] == [429]
    assert slack.modal(ALEX) is not None


def test_after_the_ack_a_rate_limited_call_is_waited_out(slack, eddy):
    """The same 429 once the person has their acknowledgement: Eddy waits and delivers."""
    slack.press(ALEX, open_tab(slack, ALEX, "Schedules"), "Add a schedule")
    before = len(slack.calls("views.publish"))
    slack.fail_next("views.publish", status=429, retry_after=1)  # the Home tab's redraw
    slack.submit(ALEX, {"schedule_channel": GENERAL, "schedule_path": "security-basics"})
    assert [call.status for call in slack.calls("views.publish")[before:]][:2] == [429, 200]
    assert "Security basics" in seen(slack.home(ALEX))
