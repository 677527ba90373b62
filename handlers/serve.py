"""Serving Eddy to Slack: HTTP (Starlette on uvicorn) or Socket Mode.

HTTP mode serves `POST /slack/events` (events, commands, interactivity) and `GET /healthz`.
Bolt's dispatch is synchronous, so each request runs in Starlette's thread pool and many are
handled at once; uvicorn drains in-flight requests on SIGTERM before the process exits.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.error import URLError

import uvicorn
from slack_bolt import BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from bot.scheduler import start_scheduler
from handlers import EddyApp, StartupError
from handlers.front_door import ADMITTED, Answer
from handlers.payloads import Kind

log = logging.getLogger(__name__)
#: Slack's payloads are a few kilobytes; anything this large is not from Slack.
MAX_BODY = 1024 * 1024
#: A Content-Length header as HTTP writes it: ASCII digits.
CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


def http_app(app: EddyApp, runtime: Runtime, *, run_scheduler: bool = True) -> Starlette:
    """The ASGI application for HTTP mode. Each request passes Eddy's front door
    (`handlers.front_door`: signature, body, payload) before Bolt sees any of it."""
    door = app.front_door

    async def slack_events(request: Request) -> Response:
        too_large = PlainTextResponse("Request too large", status_code=413)
        declared = request.headers.get("content-length", "0")
        if not CONTENT_LENGTH.fullmatch(declared):
            return PlainTextResponse("Malformed request: Content-Length", status_code=400)
        if int(declared) > MAX_BODY:
            return too_large
        body = b""
        async for chunk in request.stream():  # a chunked body announces no length
            body += chunk
            if len(body) > MAX_BODY:
                return too_large
        headers = {name: request.headers.getlist(name) for name in request.headers}
        verdict = door.admit(body, headers)
        if isinstance(verdict, Answer):
            verdict.log()
            return to_starlette_response(verdict.response())
        try:
            bolt_request = verdict.request(headers)
        except Exception as error:  # the last net: Bolt could not build a request after all
            refusal = Answer.malformed(f"a payload Bolt cannot read ({type(error).__name__})")
            refusal.log()
            return to_starlette_response(refusal.response())
        response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        """Alive (the process serves and its database answers): 200 as soon as Eddy listens,
        also while the content is still loading, which `content` tells."""
        database = await run_in_threadpool(runtime.store.ping)
        status = 200 if database else 503
        return JSONResponse(
            {
                "status": "ok" if database else "unavailable",
                "database": database,
                "content": "ready" if runtime.catalogue.ready else "loading",
            },
            status_code=status,
        )

    async def readyz(_: Request) -> Response:
        """Ready for questions: alive, and the content loaded and the search index built (a
        load balancer's readiness check; a request before then is still acknowledged and
        answered once the index is built)."""
        database = await run_in_threadpool(runtime.store.ping)
        ready = database and runtime.catalogue.ready
        return JSONResponse(
            {
                "status": "ready" if ready else "starting" if database else "unavailable",
                "database": database,
                "content": "ready" if runtime.catalogue.ready else "loading",
            },
            status_code=200 if ready else 503,
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        scheduler = start_scheduler(runtime) if run_scheduler else None
        log.info("Eddy is listening for Slack on /slack/events")
        yield
        log.info("Stopping: finishing work in progress")
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        await run_in_threadpool(runtime.work.wait_idle)
        log.info("Stopped cleanly")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def serve_http(app: EddyApp, runtime: Runtime, *, host: str = "0.0.0.0", port: int) -> None:
    """Serve until SIGTERM or Ctrl-C, then finish in-flight requests and work, and return.

    uvicorn picks httptools and uvloop (C) over its pure-Python parser and event loop; with the
    access log off that took Eddy's CPU per reaction event from 4.1 to 2.9 ms
    (bench/reaction_events.py). A line per request is logged only at DEBUG: Slack sends one for
    every reaction and message, and the load balancer keeps access logs anyway.
    """
    config = uvicorn.Config(
        http_app(app, runtime),
        host=host,
        port=port,
        log_config=None,
        access_log=runtime.settings.eddy_log_level == "DEBUG",
        proxy_headers=True,
        timeout_graceful_shutdown=25,
    )
    uvicorn.Server(config).run()


#: The payload each Socket Mode envelope type carries (`handlers.payloads.Kind`).
ENVELOPE_KINDS: dict[str, Kind] = {
    "slash_commands": "command",
    "interactive": "interaction",
    "events_api": "event",
}


class CheckedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler, reading each envelope itself first.

    Slack does not sign what it sends over the socket (holding the connection is the proof),
    but a payload Eddy cannot read must not reach Bolt, which would fail to build a request
    from it with a traceback and leave the envelope unacknowledged (so Slack sends it again).
    Such an envelope is acknowledged (a slash command with the front door's explanation) and
    logged in one line; the others are dispatched as Bolt's own handler does.
    """

    def __init__(self, app: EddyApp, app_token: str) -> None:
        super().__init__(app, app_token)
        self.door = app.front_door
        self.client.socket_mode_request_listeners.remove(self.handle)  # type: ignore[arg-type]
        self.client.message_listeners.append(self.receive)

    def receive(self, client: BaseSocketModeClient, message: dict, _raw: str | None) -> None:
        envelope_id = message.get("envelope_id")
        if not isinstance(envelope_id, str) or not envelope_id:
            return  # `hello` and the like: slack_sdk's client handles them
        kind = ENVELOPE_KINDS.get(str(message.get("type")))
        if kind is None:
            log.warning("Socket Mode: acknowledged an envelope of a type Eddy does not handle")
            client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
            return
        verdict = self.door.check(message.get("payload"), kind)
        if isinstance(verdict, Answer):
            verdict.log()
            reply = verdict.body if isinstance(verdict.body, dict) else None
            client.send_socket_mode_response(
                SocketModeResponse(envelope_id=envelope_id, payload=reply)
            )
            return
        started = time.time()
        try:
            request = SocketModeRequest.from_dict(message)
            if request is None:
                raise ValueError("not an envelope")
            bolt_request = BoltRequest(
                mode="socket_mode",
                body=verdict.payload,
                headers=build_headers(request),
                context={ADMITTED: True},
            )
        except Exception as error:  # the last net: Bolt could not build a request after all
            log.warning(
                "Socket Mode: acknowledged an envelope Bolt cannot read (%s)", type(error).__name__
            )
            client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
            return
        send_response(client, request, self.app.dispatch(bolt_request), started)


def serve_socket_mode(app: EddyApp, runtime: Runtime) -> None:
    """Hold a Socket Mode connection until SIGTERM or Ctrl-C, then close it and drain work.

    SIGTERM is handled here, so after a clean stop the process exits with status 0. Raises
    `StartupError` when Slack refuses the app-level token (or cannot be reached) at connect.
    """
    handler = CheckedSocketModeHandler(app, runtime.settings.slack_app_token)
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("Received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    connect_socket_mode(handler, runtime.settings.slack_api_url)
    scheduler = start_scheduler(runtime)
    stop.wait()
    log.info("Stopping: finishing work in progress")
    handler.close()
    scheduler.shutdown(wait=True)
    runtime.work.wait_idle()
    log.info("Stopped cleanly")


def connect_socket_mode(handler: SocketModeHandler, api_url: str) -> None:
    """Open the Socket Mode connection, or raise `StartupError` with one sentence.

    slack_sdk's client asks `apps.connections.open` for a WebSocket URL with the app-level
    token and lets Slack's refusal escape as `SlackApiError`; a WebSocket that then fails to
    open it only logs, and its monitor thread retries, so that case is logged, not fatal.
    """
    try:
        handler.connect()
    except SlackApiError as error:
        handler.close()
        code = error.response.get("error", "no error code")
        raise StartupError(
            f"Slack refused SLACK_APP_TOKEN ({code}); set it to an app-level token (xapp-…) "
            "with the connections:write scope from your Slack app's Basic Information page."
        ) from error
    except URLError as error:
        handler.close()
        raise StartupError.unreachable(api_url, error) from error
    if handler.client.is_connected():
        log.info("Eddy is connected to Slack over Socket Mode")
    else:
        log.warning("The Socket Mode connection did not open; retrying in the background")
