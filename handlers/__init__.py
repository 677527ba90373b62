"""The Slack-facing layer: the app factory and one listener module per capability.

app = create_app(runtime)     # a Bolt App wired to every capability; nothing at import time
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.error import URLError

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import xapi
from bot.content.catalogue import Catalogue
from bot.events import is_first_delivery
from bot.runtime import Runtime
from handlers import (
    acks,
    ask,
    assignments,
    badges,
    errors,
    home,
    lesson_reminders,
    lessons,
    listening,
    networks,
    people,
    review,
)
from handlers.front_door import FrontDoor

log = logging.getLogger(__name__)
#: Networks comes before Ask: its `message` listener takes the replies in a routed question's
#: thread, and Bolt gives every other message to the next listener (Ask's DMs). Badges comes
#: first but for help channels' listening, which takes only the asker's dismiss emoji on Eddy's
#: answer and passes every other reaction on: Bolt tries listeners in order, and reactions are
#: the most frequent events by far.
#: Assignments come after lessons (they add `/learn` subcommands) and after listening, whose
#: `member_joined_channel` listener takes only Eddy's own joins and leaves the rest to them.
CAPABILITIES = (
    listening,
    badges,
    networks,
    ask,
    lessons,
    assignments,
    lesson_reminders,
    review,
    home,
)


class StartupError(Exception):
    """Slack could not be reached or refused a token; `str(error)` is one sentence."""

    @classmethod
    def unreachable(cls, api_url: str, error: URLError) -> StartupError:
        return cls(
            f"Could not reach Slack at {api_url} ({error.reason}); check the network and "
            "SLACK_API_URL."
        )


def web_client(runtime: Runtime) -> WebClient:
    """A Web API client on `SLACK_API_URL` that waits out 429s and retries transient failures,
    except while a listener still owes Slack its acknowledgement (`handlers.acks`)."""
    settings = runtime.settings
    return WebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=acks.retry_handlers(),
    )


class _NoEnvironmentTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that the client
    we pass (built from the same token) wins; that is exactly what we want, so hush it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class EddyApp(App):
    """Bolt's App, holding Eddy's front door, with every listener guarded.

    Each listener registered (by `app.command`, `app.action`, `app.view`, `app.event`, …, which
    all end in Bolt's `_register_listener`) is wrapped in `errors.guard`, so that none raises
    into Bolt, and gets `errors.claim` as its last middleware, so that a request a listener
    took is never mistaken for one nobody handles. tests/test_requests.py shows both through
    the front door (a Bolt upgrade that bypassed the override would fail it).
    """

    def __init__(self, *, front_door: FrontDoor, **kwargs: Any) -> None:
        self.front_door = front_door
        super().__init__(
            before_authorize=front_door.middleware(),
            request_verification_enabled=False,
            ssl_check_enabled=False,
            raise_error_for_unhandled_request=True,
            **kwargs,
        )

    def _register_listener(
        self,
        functions: Sequence[Callable[..., BoltResponse | None]],
        primary_matcher: ListenerMatcher,
        matchers: Sequence[Callable[..., bool]] | None,
        middleware: Sequence[Callable | Middleware] | None,
        auto_acknowledgement: bool = False,
        ack_timeout: int = 3,
    ) -> Callable[..., BoltResponse | None] | None:
        super()._register_listener(
            [errors.guard(function) for function in functions],
            primary_matcher,
            matchers,
            [*(middleware or []), errors.claim],
            auto_acknowledgement,
            ack_timeout,
        )
        return functions[0] if len(functions) == 1 else None


def create_app(runtime: Runtime, *, load_in_background: bool = False) -> EddyApp:
    """Build the Bolt app for `runtime`: verifies the token with auth.test, wires listeners.

    `load_in_background` (a server starting): the content loads and the search index builds
    after this returns, so that Slack's requests are acknowledged meanwhile (questions are
    answered once it is built: `Catalogue.when_loaded`).

    Bolt's own signature check is replaced by the front door's (`handlers.front_door`), which
    runs first, before Bolt's authorization; Slack's `ssl_check` is answered there too, once
    signed."""
    settings = runtime.settings
    bolt_log = logging.getLogger("eddy.bolt")
    bolt_log.addFilter(_NoEnvironmentTokenWarning())
    client = web_client(runtime)
    try:
        identity = client.auth_test()
        runtime.team_id = identity["team_id"]
        app = EddyApp(
            front_door=FrontDoor(settings.slack_signing_secret, settings.slack_api_url),
            client=client,
            signing_secret=settings.slack_signing_secret,
            listener_executor=runtime.work,
            logger=bolt_log,
        )
    except (BoltError, SlackApiError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        raise StartupError(
            f"Slack refused SLACK_BOT_TOKEN ({reason}); copy the Bot User OAuth Token again from "
            "your Slack app's OAuth & Permissions page."
        ) from None
    except URLError as error:
        raise StartupError.unreachable(settings.slack_api_url, error) from None
    xapi.remember_workspace(runtime.store, runtime.team_id, identity["url"], runtime.clock.now())
    runtime.opened_catalogue = Catalogue.open(runtime, in_background=load_in_background)
    app.use(attach_runtime_and_skip_repeats(runtime))
    app.error(errors.on_error)
    for capability in CAPABILITIES:
        capability.register(app, runtime, client)
    return app


def know_the_actor(runtime: Runtime, client: WebClient, user_id: str) -> None:
    """Look up (or recall) whoever acts, so that `runtime.is_manager` knows whether they are
    a workspace admin. Slack being unreachable makes nobody a manager by accident."""
    try:
        people.person(runtime, client, user_id)
    except people.LookUpError:
        log.warning("Could not look up %s to check for admin rights", user_id)


def attach_runtime_and_skip_repeats(runtime: Runtime) -> Callable[..., Any]:
    """Middleware (one, since Slack sends many events and each middleware costs a little)
    that makes `runtime` injectable into every listener by name, and acknowledges a repeated
    delivery of an event (a Slack retry) without acting on it again.

    Reactions are the exception: the badges capability records their event IDs in the same
    transaction as their points (so a crash between the two cannot lose a reaction whose
    retry would then be refused), and needs no database write before the ack."""

    def attach(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> Any:
        context["runtime"] = runtime
        if runtime.settings.eddy_admins_are_managers and context.user_id and context.client:
            with acks.owing(context.ack):
                know_the_actor(runtime, context.client, context.user_id)
        event_id = body.get("event_id")
        event_type = (body.get("event") or {}).get("type", "")
        if (
            body.get("type") != "event_callback"
            or not event_id
            or event_type in badges.REACTION_EVENTS
        ):
            next()
            return None
        first = is_first_delivery(
            runtime,
            team_id=body.get("team_id") or context.team_id or "",
            event_id=event_id,
            event_type=event_type,
        )
        if not first:
            log.info("Ignoring repeated delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return attach
