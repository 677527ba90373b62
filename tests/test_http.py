"""HTTP mode, as deployed: `app.py run --mode http` in its own process, driven over HTTP."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from sandbox import HttpTarget, SlackStandIn
from tests.conftest import ALEX, EDDY, GENERAL, MANIFEST, PINNED, SIGNING_SECRET
from tests.deployed import HttpEddy


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[tuple[SlackStandIn, HttpEddy]]:
    with SlackStandIn.from_manifest(
        MANIFEST, signing_secret=SIGNING_SECRET, clock=ManualClock(PINNED)
    ) as stand_in:
        eddy = HttpEddy(stand_in, tmp_path_factory.mktemp("http") / "eddy.db")
        stand_in.connect(HttpTarget(eddy.url + "/slack/events"))
        yield stand_in, eddy
        eddy.stop()


def test_healthz_reports_the_database(deployed):
    _, eddy = deployed
    with urllib.request.urlopen(eddy.url + "/healthz") as response:
        assert response.status == 200
        assert json.loads(response.read()) == {
            "status": "ok",
            "database": True,
            "content": "ready",
        }
    with urllib.request.urlopen(eddy.url + "/readyz") as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ready"


def test_a_slash_command_over_http_is_answered_in_the_ack(deployed):
    slack, _ = deployed
    delivery = slack.command(ALEX, GENERAL, "/badges help")
    assert delivery.status == 200
    assert "/badges" in delivery.json()["text"]
    assert "/badges" in slack.ephemerals(ALEX)[-1].text


def test_an_event_over_http_is_acked_and_answered(deployed):
    slack, _ = deployed
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> is there a style guide?")
    reply = slack.wait_for(
        lambda: [m for m in slack.messages(GENERAL, thread_ts=question.ts) if m.user == EDDY]
    )
    assert "is there a style guide?" in reply[0].text


def test_many_requests_at_once_are_all_answered(deployed):
    slack, _ = deployed
    before = len(slack.ephemerals(ALEX))
    results: list[int] = []

    def ask(n: int) -> None:
        results.append(slack.command(ALEX, GENERAL, f"/ask question number {n}").status)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 40
    # Each is acknowledged at once and answered through its response URL.
    slack.wait_for(lambda: len(slack.ephemerals(ALEX)) == before + 40)


@pytest.mark.parametrize(
    ("signed", "age", "status"),
    [(False, 0, 401), (True, 360, 401)],
    ids=["unsigned", "stale"],
)
def test_unsigned_and_stale_requests_get_401(deployed, signed, age, status):
    slack, _ = deployed
    delivery = slack.send("command=/ask&text=help", signed=signed, age=age)
    assert delivery.status == status


def test_a_signed_malformed_body_gets_400_and_an_unsigned_one_401(deployed):
    slack, _ = deployed
    assert slack.send("{not json", content_type="application/json").status == 400
    assert slack.send("{not json", content_type="application/json", signed=False).status == 401
    assert slack.send("payload=%7Bbroken", signed=True).status == 400


def test_an_oversized_body_is_refused(deployed):
    _, eddy = deployed
    connection = http.client.HTTPConnection("127.0.0.1", eddy.port, timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(1024 * 1024 + 1))
    connection.endheaders()  # Eddy answers from the headers, before any body is sent
    assert connection.getresponse().status == 413
    connection.close()


def test_an_oversized_chunked_body_is_refused(deployed):
    _, eddy = deployed
    connection = http.client.HTTPConnection("127.0.0.1", eddy.port, timeout=10)
    chunks = (b"x" * 65536 for _ in range(20))
    connection.request(
        "POST",
        "/slack/events",
        body=chunks,
        encode_chunked=True,
        headers={"Content-Type": "application/json"},
    )
    assert connection.getresponse().status == 413
    connection.close()


def test_get_on_the_events_endpoint_is_not_allowed(deployed):
    _, eddy = deployed
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(eddy.url + "/slack/events")
    assert raised.value.code == 405


def test_sigterm_stops_eddy_cleanly(tmp_path):
    with SlackStandIn.from_manifest(
        MANIFEST, signing_secret=SIGNING_SECRET, clock=ManualClock(PINNED)
    ) as stand_in:
        eddy = HttpEddy(stand_in, tmp_path / "eddy.db")
        stand_in.connect(HttpTarget(eddy.url + "/slack/events"))
        stand_in.command(ALEX, GENERAL, "/ask help")
        code, stderr = eddy.stop()
    # uvicorn drains, runs the shutdown, then re-raises SIGTERM so supervisors see the cause.
    assert code == -signal.SIGTERM
    assert stderr.index("Stopping: finishing work in progress") < stderr.index("Stopped cleanly")
    assert "Traceback" not in stderr
