"""The shapes of what Slack sends Eddy, checked before any listener reads a payload.

Listeners index into payloads (`body["user"]["id"]`, `view["state"]["values"]`), and Bolt
itself reads a few fields while it builds a request. Each kind of payload Eddy handles is
described here as Slack documents it, as far as Eddy or Bolt read it; a payload without what
they read, or with it in another type, is refused with a short reason before any of them sees
it. So a KeyError or TypeError from Slack's side cannot happen in a listener, and a forged
payload cannot steer one into an unexpected branch.

    trouble = problem(body)         # None when Eddy can read `body`
    if trouble is not None:
        print(trouble.kind, trouble.reason)     # "command", "user_id: field required"

Fields are only typed, never rewritten: what a listener receives is what Slack sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

#: An ID, a timestamp or a name Slack always fills in.
Filled = Annotated[str, StringConstraints(min_length=1)]
#: The hosts Slack's response URLs live on: commercial Slack and GovSlack.
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
DIGITS = re.compile(r"[0-9]{1,18}")
#: No type coercion: "12" is not a number and 1 is not text, as in Slack's payloads.
STRICT = ConfigDict(strict=True)


# --- pieces ---------------------------------------------------------------------------------


class Identified(TypedDict):
    id: Filled


class Organisation(TypedDict, total=False):
    id: str | None
    domain: str
    name: str


class Authorization(TypedDict, total=False):
    enterprise_id: str | None
    team_id: str | None
    user_id: str | None
    is_bot: bool
    is_enterprise_install: bool


class Option(TypedDict):
    value: str
    text: NotRequired[dict[str, Any]]


class Container(TypedDict):
    type: Filled
    message_ts: NotRequired[str]
    channel_id: NotRequired[str]
    is_ephemeral: NotRequired[bool]
    view_id: NotRequired[str]


class Message(TypedDict):
    ts: Filled
    text: NotRequired[str]
    user: NotRequired[str]
    bot_id: NotRequired[str]
    thread_ts: NotRequired[str]
    blocks: NotRequired[list[dict[str, Any]]]


class ElementState(TypedDict, total=False):
    """One input's state in `view.state.values`, as Slack reports each kind of element."""

    type: str
    value: str | None
    selected_option: Option | None
    selected_options: list[Option]
    selected_user: str | None
    selected_users: list[str]
    selected_conversation: str | None
    selected_conversations: list[str]
    selected_channel: str | None
    selected_channels: list[str]
    selected_date: str | None
    selected_time: str | None
    selected_date_time: int | None
    rich_text_value: dict[str, Any] | None


class State(TypedDict):
    values: dict[str, dict[str, ElementState]]


class ViewFields(TypedDict):
    id: Filled
    type: NotRequired[str]
    private_metadata: NotRequired[str]
    blocks: NotRequired[list[dict[str, Any]]]
    hash: NotRequired[str]
    team_id: NotRequired[str | None]
    app_installed_team_id: NotRequired[str | None]


class View(ViewFields):
    callback_id: NotRequired[str]
    state: NotRequired[State]


class SubmittedView(ViewFields):
    callback_id: Filled
    state: State


class Action(TypedDict):
    action_id: Filled
    type: NotRequired[str]
    block_id: NotRequired[str]
    value: NotRequired[str]
    action_ts: NotRequired[str]
    selected_option: NotRequired[Option | None]
    selected_options: NotRequired[list[Option]]
    selected_user: NotRequired[str | None]
    selected_conversation: NotRequired[str | None]
    selected_channel: NotRequired[str | None]
    selected_date: NotRequired[str | None]
    selected_time: NotRequired[str | None]


class ResponseUrl(TypedDict):
    response_url: Filled
    block_id: NotRequired[str]
    action_id: NotRequired[str]
    channel_id: NotRequired[str]


@with_config(STRICT)
class Envelope(TypedDict, total=False):
    """What Bolt reads from every payload while it builds a request (its context)."""

    enterprise: Organisation | str | None
    team: Organisation | str | None
    authorizations: list[Authorization]
    is_enterprise_install: bool | str
    enterprise_id: str | None
    team_id: str | None
    channel: Identified | str
    response_url: str
    response_urls: list[ResponseUrl]
    thread_ts: str


# --- the kinds of request -------------------------------------------------------------------


@with_config(STRICT)
class SlashCommand(TypedDict):
    """A slash command's form fields (all text, as a form carries them)."""

    command: Filled
    text: str
    user_id: Filled
    channel_id: Filled
    response_url: Filled
    trigger_id: Filled


@with_config(STRICT)
class BlockActions(TypedDict):
    type: Literal["block_actions"]
    user: Identified
    actions: Annotated[list[Action], Field(min_length=1)]
    trigger_id: Filled
    container: Container
    view: NotRequired[View]
    message: NotRequired[Message]
    channel: NotRequired[Identified]
    response_url: NotRequired[Filled]


@with_config(STRICT)
class ViewSubmission(TypedDict):
    type: Literal["view_submission"]
    user: Identified
    view: SubmittedView
    trigger_id: NotRequired[Filled]


@with_config(STRICT)
class ViewClosed(TypedDict):
    type: Literal["view_closed"]
    user: Identified
    view: View


@with_config(STRICT)
class GlobalShortcut(TypedDict):
    type: Literal["shortcut"]
    user: Identified
    callback_id: Filled
    trigger_id: Filled


@with_config(STRICT)
class MessageShortcut(TypedDict):
    type: Literal["message_action"]
    user: Identified
    callback_id: Filled
    trigger_id: Filled
    channel: Identified
    message: Message
    response_url: Filled


@with_config(STRICT)
class BlockSuggestion(TypedDict):
    type: Literal["block_suggestion"]
    user: Identified
    action_id: Filled
    value: str


@with_config(STRICT)
class UrlVerification(TypedDict):
    type: Literal["url_verification"]
    challenge: Filled


@with_config(STRICT)
class AppRateLimited(TypedDict):
    type: Literal["app_rate_limited"]


@with_config(STRICT)
class EventCallback(TypedDict):
    type: Literal["event_callback"]
    team_id: Filled
    event_id: Filled
    event: dict[str, Any]
    event_time: NotRequired[int]


# --- the events Eddy subscribes to (manifest.yml) ------------------------------------------


@with_config(STRICT)
class Event(TypedDict):
    type: Filled
    event_ts: NotRequired[str]


class AppMention(Event):
    """A mention of Eddy; one in an integration's message has no `user`."""

    channel: Filled
    user: NotRequired[str]
    ts: Filled
    text: str
    thread_ts: NotRequired[str]


class MessageEvent(Event):
    """A message; Slack leaves `user` out of a bot's or an integration's message and of
    some subtypes, so listeners read it with `.get`."""

    channel: Filled
    ts: Filled
    user: NotRequired[str]
    text: NotRequired[str]
    thread_ts: NotRequired[str]
    subtype: NotRequired[str]
    bot_id: NotRequired[str]
    channel_type: NotRequired[str]
    message: NotRequired[dict[str, Any]]
    previous_message: NotRequired[dict[str, Any]]


class ReactedItem(TypedDict):
    type: Filled
    channel: NotRequired[str]
    ts: NotRequired[str]


class ReactionEvent(Event):
    user: Filled
    reaction: Filled
    item: ReactedItem
    item_user: NotRequired[str]


class AppHomeOpened(Event):
    user: Filled
    channel: NotRequired[str]
    tab: NotRequired[str]
    view: NotRequired[dict[str, Any]]


class SlackUser(TypedDict):
    id: Filled
    tz: NotRequired[str | None]
    deleted: NotRequired[bool]
    is_bot: NotRequired[bool]
    is_admin: NotRequired[bool]
    is_owner: NotRequired[bool]


class UserChange(Event):
    user: SlackUser


INTERACTIONS: dict[str, TypeAdapter[Any]] = {
    "block_actions": TypeAdapter(BlockActions),
    "view_submission": TypeAdapter(ViewSubmission),
    "view_closed": TypeAdapter(ViewClosed),
    "shortcut": TypeAdapter(GlobalShortcut),
    "message_action": TypeAdapter(MessageShortcut),
    "block_suggestion": TypeAdapter(BlockSuggestion),
}
CALLBACKS: dict[str, TypeAdapter[Any]] = {
    "url_verification": TypeAdapter(UrlVerification),
    "event_callback": TypeAdapter(EventCallback),
    "app_rate_limited": TypeAdapter(AppRateLimited),
}
EVENTS: dict[str, TypeAdapter[Any]] = {
    "app_mention": TypeAdapter(AppMention),
    "message": TypeAdapter(MessageEvent),
    "reaction_added": TypeAdapter(ReactionEvent),
    "reaction_removed": TypeAdapter(ReactionEvent),
    "app_home_opened": TypeAdapter(AppHomeOpened),
    "user_change": TypeAdapter(UserChange),
}
ANY_EVENT = TypeAdapter(Event)
COMMAND = TypeAdapter(SlashCommand)
ENVELOPE = TypeAdapter(Envelope)


#: How a payload arrived: a slash command's form, an interactivity `payload=` field, or an
#: Events API JSON body (over HTTP), or the Socket Mode envelope types for the same three.
Kind = Literal["command", "interaction", "event"]
KINDS: dict[Kind, dict[str, TypeAdapter[Any]]] = {
    "interaction": INTERACTIONS,
    "event": CALLBACKS,
}


@dataclass(frozen=True)
class Problem:
    """Why Eddy cannot read a payload of `kind` (a slash command's answer is read by the
    person who typed it; the others go back to Slack)."""

    kind: Kind
    reason: str


def problem(body: Any, kind: Kind) -> Problem | None:
    """What is wrong with `body` for Eddy (None: nothing), as a payload of `kind`."""
    if not isinstance(body, dict):
        return Problem(kind, f"the payload is {type(body).__name__}, not an object")
    trouble = _checked(kind, ENVELOPE, body)
    if trouble is not None:
        return trouble
    if kind == "command":
        return None if "ssl_check" in body else _checked(kind, COMMAND, body)
    known = KINDS[kind]
    name = body.get("type")
    if not isinstance(name, str) or name not in known:
        return Problem(kind, f"type: Eddy handles no {str(name)[:40]!r} payloads here")
    return _checked(kind, known[name], body) or _event_problem(body)


def _event_problem(body: dict[str, Any]) -> Problem | None:
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    kind = event.get("type")
    adapter = EVENTS.get(kind, ANY_EVENT) if isinstance(kind, str) else ANY_EVENT
    trouble = _checked("event", adapter, event)
    return Problem("event", f"event.{trouble.reason}") if trouble else None


def _checked(kind: Kind, adapter: TypeAdapter[Any], body: dict[str, Any]) -> Problem | None:
    try:
        adapter.validate_python(body)
    except ValidationError as error:
        return Problem(kind, first_error(error))
    return None


def first_error(error: ValidationError) -> str:
    """The first thing wrong, as `user.id: field required` (no value: it may be private)."""
    detail = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in detail["loc"]) or "payload"
    return f"{where}: {detail['msg'][:1].lower()}{detail['msg'][1:]}"


def response_urls(body: dict[str, Any]) -> list[str]:
    """Every URL in `body` that Eddy would post an answer to."""
    found = [body["response_url"]] if isinstance(body.get("response_url"), str) else []
    for entry in body.get("response_urls") or []:
        if isinstance(entry, dict) and isinstance(entry.get("response_url"), str):
            found.append(entry["response_url"])
    return found


def is_slack_hook(url: str, api_url: str) -> bool:
    """Whether `url` is somewhere Slack takes answers: a response URL on hooks.slack.com (or
    GovSlack's), or on the host of SLACK_API_URL (a Slack-compatible API, or the stand-in).
    Eddy posts nowhere else, whatever a payload says."""
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        port, api_port = target.port, api.port
    except ValueError:
        return False
    if target.username is not None or target.password is not None or not target.hostname:
        return False
    if target.scheme == "https" and target.hostname in SLACK_HOOK_HOSTS and port is None:
        return True
    return (target.scheme, target.hostname, port) == (api.scheme, api.hostname, api_port)
