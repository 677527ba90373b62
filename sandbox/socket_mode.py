"""Slack's side of Socket Mode for the stand-in: the WebSocket that `apps.connections.open` opens.

In Socket Mode Slack never POSTs to the app. The app calls `apps.connections.open` with its
app-level token (xapp-…), connects to the WebSocket URL it gets back, is greeted with `hello`,
and from then on receives every event, slash command and interaction as an envelope that it
acknowledges by `envelope_id`; the acknowledgement's optional `payload` is what the body of an
HTTP response would have been (a slash command's reply, a view submission's `response_action`).
Nothing is signed: holding the connection is the proof.

    with SlackStandIn.from_manifest(MANIFEST, signing_secret=secret) as slack, SocketModeServer(
        slack.api
    ) as sockets:
        slack.connect(SocketModeTarget(sockets))
        # start Eddy with SLACK_APP_TOKEN=slack.app_token and SLACK_API_URL=slack.api_url
        sockets.wait_connected()
        slack.command("U0ALEX001", "C0GENERAL", "/ask help")

Only tests use this module, so `websockets` (a dev dependency) is imported here and nowhere else;
`sandbox` does not import it.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import Future
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.slack import Delivery, SandboxError
from sandbox.webapi import WebApi

log = logging.getLogger(__name__)

#: Interactive payloads whose acknowledgement can carry an answer (a view submission's
#: `response_action`, a select menu's options); Slack marks their envelopes as accepting one.
ANSWERABLE_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class SocketModeServer:
    """The Socket Mode WebSocket endpoint on 127.0.0.1, handed out by a stand-in's Web API.

    While it runs, `apps.connections.open` answers with `ws://…/link/?ticket=…`; each ticket
    admits one connection. Envelopes go down the newest connection (Slack picks one of an app's
    connections for each envelope), and `request` waits, bounded, for the acknowledgement.
    """

    def __init__(self, api: WebApi, *, ack_timeout: float = 10.0) -> None:
        self.api = api
        self.ack_timeout = ack_timeout
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._state = threading.Condition()
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._pending: dict[str, tuple[ServerConnection, Future[dict[str, Any]]]] = {}

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise SandboxError("the Socket Mode server is not running")
        return int(self._server.socket.getsockname()[1])

    def start(self) -> SocketModeServer:
        self._server = serve(
            self._serve,
            "127.0.0.1",
            0,
            process_request=self._admit,
            compression=None,
            logger=log,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-socket-mode", daemon=True
        )
        self._thread.start()
        self.api.socket_url = self.new_url
        return self

    def stop(self) -> None:
        """Stop handing out URLs, close every connection (1001, going away) and the server."""
        self.api.socket_url = None
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def new_url(self) -> str:
        """What `apps.connections.open` answers: a WebSocket URL with a single-use ticket."""
        ticket = uuid.uuid4().hex
        with self._state:
            self._tickets.add(ticket)
        app_id = self.api.workspace.app_id
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={app_id}"

    def wait_connected(self, timeout: float = 30.0) -> None:
        """Block until an app holds a connection and has been greeted with `hello`."""
        with self._state:
            if not self._state.wait_for(lambda: bool(self._connections), timeout=timeout):
                raise SandboxError(f"no app connected over Socket Mode within {timeout:g} s")

    @property
    def connections(self) -> int:
        with self._state:
            return len(self._connections)

    # --- the WebSocket side ----------------------------------------------------------------

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the handshake unless it presents a ticket `apps.connections.open` issued."""
        url = urlparse(request.path)
        ticket = dict(parse_qsl(url.query)).get("ticket", "")
        with self._state:
            valid = url.path.rstrip("/") == "/link" and ticket in self._tickets
            self._tickets.discard(ticket)
        if valid:
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown or used ticket\n")

    def _serve(self, connection: ServerConnection) -> None:
        try:
            with self._state:
                count = len(self._connections) + 1
            connection.send(json.dumps(self._hello(count)))
            with self._state:
                self._connections.append(connection)
                self._state.notify_all()
            for message in connection:
                self._acknowledged(message)
        except ConnectionClosed:
            pass  # slack_sdk's client drops the socket without a close frame when it stops
        finally:
            with self._state:
                if connection in self._connections:
                    self._connections.remove(connection)
                orphans = [f for c, f in self._pending.values() if c is connection]
            for future in orphans:
                if not future.done():
                    future.set_exception(
                        SandboxError("the app closed its Socket Mode connection before the ack")
                    )

    def _hello(self, connections: int) -> dict[str, Any]:
        """Slack's greeting on every new connection."""
        return {
            "type": "hello",
            "num_connections": connections,
            "debug_info": {
                "host": "applink-sandbox",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.api.workspace.app_id},
        }

    def _acknowledged(self, message: str | bytes) -> None:
        try:
            ack = json.loads(message)
        except ValueError:
            log.warning("Socket Mode: ignoring a message that is not JSON: %.200r", message)
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        with self._state:
            pending = self._pending.pop(str(envelope_id), None)
        if pending is None:
            log.warning("Socket Mode: an ack for no pending envelope: %.200r", message)
            return
        pending[1].set_result(ack)

    def request(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Send `envelope` to the app and return its acknowledgement (bounded wait)."""
        envelope_id = envelope["envelope_id"]
        future: Future[dict[str, Any]] = Future()
        with self._state:
            if not self._connections:
                raise SandboxError("no app is connected over Socket Mode")
            connection = self._connections[-1]
            self._pending[envelope_id] = (connection, future)
        try:
            connection.send(json.dumps(envelope))
            return future.result(timeout=self.ack_timeout)
        except ConnectionClosed:
            raise SandboxError("the app's Socket Mode connection is closed") from None
        except TimeoutError:
            raise SandboxError(
                f"the app did not acknowledge a {envelope['type']} envelope within "
                f"{self.ack_timeout:g} s"
            ) from None
        finally:
            with self._state:
                self._pending.pop(envelope_id, None)


class SocketModeTarget:
    """Deliver over Socket Mode what the stand-in would POST over HTTP, as Slack does for an
    app with Socket Mode on; the ack's payload stands in for the HTTP response body, so the
    stand-in shows a slash command's reply to the person exactly as in HTTP mode."""

    def __init__(self, server: SocketModeServer) -> None:
        self.server = server

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        ack = self.server.request(envelope(body, headers))
        return Delivery(200, json.dumps(ack.get("payload") or {}), {})

    def settle(self) -> None:
        """Another process: nothing to wait on here (use `SlackStandIn.wait_for`)."""


def envelope(body: str, headers: dict[str, str]) -> dict[str, Any]:
    """The Socket Mode envelope Slack sends instead of POSTing `body` with `headers`.

    An `event_callback` becomes `events_api` (the retry headers become `retry_attempt` and
    `retry_reason`), a slash command's form becomes `slash_commands` with the form fields as
    the payload, and a `payload=<json>` form becomes `interactive`. Signature headers have no
    counterpart: Slack does not sign what it sends over the socket.
    """
    header = {name.lower(): value for name, value in headers.items()}
    envelope_id = str(uuid.uuid4())
    try:
        if header.get("content-type", "").startswith("application/json"):
            payload = json.loads(body)
            if payload.get("type") != "event_callback":
                raise SandboxError(f"Slack sends no {payload.get('type')!r} over Socket Mode")
            return {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": payload,
                "accepts_response_payload": False,
                "retry_attempt": int(header.get("x-slack-retry-num", 0)),
                "retry_reason": header.get("x-slack-retry-reason", ""),
            }
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" in form:
            payload = json.loads(form["payload"])
            return {
                "envelope_id": envelope_id,
                "type": "interactive",
                "payload": payload,
                "accepts_response_payload": payload.get("type") in ANSWERABLE_INTERACTIONS,
            }
    except (ValueError, AttributeError) as error:
        raise SandboxError(f"not something Slack sends over Socket Mode: {error}") from None
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "payload": form,
        "accepts_response_payload": True,
    }
