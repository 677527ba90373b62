"""Serving Eddy to Slack: HTTP (Starlette on uvicorn) or Socket Mode.

HTTP mode serves `POST /slack/events` (events, commands, interactivity) and `GET /healthz`.
Bolt's dispatch is synchronous, so each request runs in Starlette's thread pool and many are
handled at once; uvicorn drains in-flight requests on SIGTERM before the process exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.error import URLError

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from bot.scheduler import start_scheduler
from handlers import StartupError

log = logging.getLogger(__name__)
#: Slack's payloads are a few kilobytes; anything this large is not from Slack.
MAX_BODY = 1024 * 1024


def http_app(app: App, runtime: Runtime, *, run_scheduler: bool = True) -> Starlette:
    """The ASGI application for HTTP mode."""
    verifier = SignatureVerifier(runtime.settings.slack_signing_secret)

    async def slack_events(request: Request) -> Response:
        too_large = PlainTextResponse("Request too large", status_code=413)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return too_large
        body = b""
        async for chunk in request.stream():  # a chunked body announces no length
            body += chunk
            if len(body) > MAX_BODY:
                return too_large
        try:
            bolt_request = to_bolt_request(request, body)
        except ValueError:
            # Bolt parses before it verifies; a body it cannot parse is answered here.
            if not verifier.is_valid_request(body, dict(request.headers)):
                return PlainTextResponse("Invalid request signature", status_code=401)
            log.warning("Rejected a signed request with a malformed body")
            return PlainTextResponse("Malformed request body", status_code=400)
        response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        database = await run_in_threadpool(runtime.store.ping)
        status = 200 if database else 503
        return JSONResponse(
            {"status": "ok" if database else "unavailable", "database": database},
            status_code=status,
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
        ],
        lifespan=lifespan,
    )


def serve_http(app: App, runtime: Runtime, *, host: str = "0.0.0.0", port: int) -> None:
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


def serve_socket_mode(app: App, runtime: Runtime) -> None:
    """Hold a Socket Mode connection until SIGTERM or Ctrl-C, then close it and drain work.

    SIGTERM is handled here, so after a clean stop the process exits with status 0. Raises
    `StartupError` when Slack refuses the app-level token (or cannot be reached) at connect.
    """
    handler = SocketModeHandler(app, runtime.settings.slack_app_token)
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
