"""When something fails: the traceback goes to the log, a kind sentence to the person who was
waiting (never the exception text), and Slack always gets its acknowledgement at once.

Two ways lead here:

- `guard(listener)` wraps every listener (`handlers.EddyApp` applies it), so that none raises
  into Bolt. Bolt's thread runner, when a listener raises after its ack, forgets the ack:
  unless the request had seen it already, it waits out Slack's 3 seconds and goes on to the
  next listener that matches (which used to tell the person their button was old). The guard
  acknowledges on the listener's behalf if it had not, and tells the person where they are:
  in the ack itself (a slash command, a modal's form), under the message they used, on their
  Home tab, ephemerally where they wrote to Eddy, or by DM.
- `on_error` is Bolt's error handler: for failures outside listeners (a global middleware, a
  listener's matcher or middleware) and for requests no listener took (the app raises
  `BoltUnhandledRequestError` for them): a button from an old message is retired with a
  sentence saying so, an event nobody listens to is acknowledged.

Nothing here acts on a request the front door did not admit, and answers go to a response URL
only on Slack's hosts (`handlers.payloads.is_slack_hook`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from handlers.acks import owing
from handlers.blocks import HomeNotice
from handlers.front_door import ADMITTED
from handlers.payloads import is_slack_hook, response_urls

log = logging.getLogger(__name__)
APOLOGY = (
    "Sorry, something went wrong on Eddy's side and I couldn't finish that. "
    "It has been logged for the people who run Eddy; please try again in a moment."
)
#: Shown under a field of a modal that is kept open (short: Slack shows it beside the field).
FORM_APOLOGY = "Sorry, something went wrong on Eddy's side. Please try again in a moment."
RETIRED_BUTTON = (
    "That button belongs to an older Eddy message and no longer does anything. "
    "Try the command again for a fresh one."
)
#: Set in a request's context when a listener matched it (see `claim`).
CLAIMED = "eddy_listener_claimed"
#: Events a person addressed to Eddy, and so waits for; when handling another (a reaction, a
#: profile change) fails, nobody is waiting, and the log is enough.
ADDRESSED_EVENTS = frozenset({"app_mention", "message", "app_home_opened"})
#: What the guard needs from Bolt besides what the listener itself asks for.
GUARD_NEEDS = ("ack", "body", "context", "respond", "client")


def guard(listener: Callable[..., Any]) -> Callable[..., Any]:
    """`listener`, made never to raise: a failure is logged with its traceback, acknowledged
    if the listener had not, and the person told at once.

    Bolt passes a listener the arguments its signature names; the guard's signature names the
    listener's and its own (`__signature__`, which Bolt's `inspect.getfullargspec` reads), and
    the listener gets only its own."""
    wanted = inspect.getfullargspec(inspect.unwrap(listener)).args
    names = list(dict.fromkeys([*wanted, *GUARD_NEEDS]))

    def guarded(**given: Any) -> Any:
        try:
            with owing(given["ack"]):
                return listener(**{name: given[name] for name in wanted})
        except Exception as error:
            fail_kindly(
                error,
                given["ack"],
                given["body"],
                given["context"],
                given["respond"],
                given["client"],
            )
            return None

    guarded.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    )
    guarded.__name__ = getattr(listener, "__name__", "listener")
    guarded.__qualname__ = getattr(listener, "__qualname__", guarded.__name__)
    guarded.__module__ = getattr(listener, "__module__", __name__)
    guarded.__doc__ = listener.__doc__
    return guarded


def afterwards(
    work: Callable[[], None],
    *,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
) -> Callable[[], None]:
    """`work` to run after its request was acknowledged (in the work pool's lane for that, or
    once Eddy has started up), made never to fail in silence: as `guard` does for listeners,
    a failure is logged with its traceback and the person told where they are."""

    def run() -> None:
        try:
            work()
        except Exception as error:
            log.error("Unhandled error while handling %s", describe(body), exc_info=error)
            try:
                tell(body, context, respond, client, APOLOGY)
            except Exception:
                log.exception("Could not tell the person that their request failed")

    return run


def claim(context: BoltContext, next: Callable[[], None]) -> None:
    """A listener's last middleware: it matched, so the request is not unhandled even when
    the listener is slow to acknowledge (Bolt then tries the listeners after it)."""
    context[CLAIMED] = True
    next()


def fail_kindly(
    error: Exception,
    ack: Ack,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
) -> None:
    """Log `error` with its traceback, acknowledge if nothing has, and tell the person."""
    log.error("Unhandled error while handling %s", describe(body), exc_info=error)
    try:
        if ack.response is None and acknowledge(ack, body):
            return
        tell(body, context, respond, client, APOLOGY)
    except Exception:
        log.exception("Could not tell the person that their request failed")
    finally:
        if ack.response is None:
            ack()


def acknowledge(ack: Ack, body: dict[str, Any]) -> bool:
    """Acknowledge a failed request; True when the acknowledgement told the person: a slash
    command's ephemeral reply, or a modal kept open with the apology under its first field
    (what they typed stays)."""
    if "command" in body:
        ack(text=APOLOGY, response_type="ephemeral")
        return True
    if body.get("type") == "view_submission":
        field = first_input(body.get("view") or {})
        if field is not None:
            ack(response_action="errors", errors={field: FORM_APOLOGY})
            return True
    ack()
    return False


def first_input(view: dict[str, Any]) -> str | None:
    """The block_id of a view's first input block (where a modal can show an error)."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def tell(
    body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient, text: str
) -> None:
    """Say `text` to whoever acted, where they are: under the message or command they used
    (its response URL), on their Home tab, ephemerally where they wrote to Eddy, else by DM."""
    runtime = context.get("runtime")
    api_url = runtime.settings.slack_api_url if runtime is not None else ""
    urls = response_urls(body)
    if urls and api_url and is_slack_hook(urls[0], api_url):
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    event = body.get("event") if isinstance(body.get("event"), dict) else None
    if event is not None and event.get("type") not in ADDRESSED_EVENTS:
        return
    actor = body.get("user")
    if event is not None:
        user = _text(event.get("user"))
    else:
        user = _text(actor.get("id")) if isinstance(actor, dict) else _text(body.get("user_id"))
    if not user:
        return
    if runtime is not None and on_home_tab(body):
        try:
            runtime.notify(HomeNotice(user, text))
            return
        except Exception:
            log.warning("Could not show a notice on the Home tab of %s; sending a DM", user)
    channel = _text(event.get("channel")) if event else ""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        client.chat_postMessage(channel=user, text=text)


def on_home_tab(body: dict[str, Any]) -> bool:
    """Whether the person acted on Eddy's Home tab (a button or a search box there)."""
    container, view = body.get("container"), body.get("view")
    return (
        isinstance(container, dict)
        and isinstance(view, dict)
        and container.get("type") == "view"
        and view.get("type") == "home"
    )


def on_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    ack: Ack,
    respond: Respond,
    client: WebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Bolt's error handler (see the module); returns the answer for Slack, which replaces
    Bolt's 500 (or 404 for an unhandled request)."""
    if not context.get(ADMITTED):
        log.warning(
            "Refused to act on a request the front door had not admitted (%s)", type(error).__name__
        )
        return BoltResponse(status=400, body="Malformed request") if response is not None else None
    try:
        if isinstance(error, BoltUnhandledRequestError):
            answer = unhandled(body, context, ack, respond, client)
        else:
            fail_kindly(error, ack, body, context, respond, client)
            answer = ack.response
    except Exception:
        log.exception("Could not answer a request that failed")
        answer = BoltResponse(status=200, body="")
    return answer if response is not None else None


def unhandled(
    body: dict[str, Any], context: BoltContext, ack: Ack, respond: Respond, client: WebClient
) -> BoltResponse | None:
    """A request no listener took. A button nobody handles (an old message, a removed
    feature) says so instead of failing; an event is acknowledged, since Slack would only send
    it again."""
    if context.get(CLAIMED):
        return None  # a listener took it but did not acknowledge in time: Bolt logged that
    if body.get("type") == "block_actions":
        log.info("No listener for %s; telling the person it is retired", describe(body))
        ack()
        tell(body, context, respond, client, RETIRED_BUTTON)
        return ack.response
    if body.get("type") == "event_callback":
        log.info("No listener for %s", describe(body))
        return BoltResponse(status=200, body="")
    log.warning("No listener for %s", describe(body))
    return None


def describe(body: Any) -> str:
    """A short, log-friendly name for a request (no message text, which may be private)."""
    if not isinstance(body, dict):
        return "a request"
    if "command" in body:
        return f"command {_text(body['command'])[:40]}"
    if body.get("type") == "event_callback":
        event: dict[str, Any] = body["event"] if isinstance(body.get("event"), dict) else {}
        return f"event {_text(event.get('type'))[:40]} ({_text(body.get('event_id'))[:40]})"
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return f"action {_text(actions[0].get('action_id'))[:60]}"
    view: dict[str, Any] = body["view"] if isinstance(body.get("view"), dict) else {}
    kind = _text(body.get("type"))[:40] or "request"
    return f"{kind} {_text(view.get('callback_id'))[:60]}".strip()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
