"""The stand-in's Web API: the Slack methods Eddy calls, in Slack's response shapes.

Served over real HTTP (`WebApiServer`), so Eddy's own `WebClient` — base URL, retry handlers
and all — talks to it exactly as to Slack. Each call is recorded (refused ones too, and posts to
a response_url). It refuses what Slack refuses, with Slack's error names:
- an unknown method (`unknown_method`), the wrong token (the bot token for every method, the
  app-level token for `apps.connections.open` only), a scope the manifest lacks
  (`missing_scope`), a required argument left out (`invalid_arguments`; see `METHODS`);
- Block Kit Slack would not take (sandbox/blockkit.py, then slack_sdk's models): a
  message's `invalid_blocks`, a view's `invalid_arguments` or `view_too_large`, each message
  with Slack's JSON pointer; message text past 40,000 characters is cut off, as Slack does;
- a user ID where only chat.postMessage and chat.postEphemeral take one (`channel_not_found`),
  a trigger_id used 3 s after its interaction (`expired_trigger_id`), a response_url past its
  5 posts or 30 minutes (`used_url`, `expired_url`), all timed on the workspace clock.
It injects faults on request: 429 with Retry-After, 5xx, or any Slack error, and can hold a
call's answer after applying it (`Hold`), as when a process is killed after Slack did what it
asked but before it heard back.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View as ViewModel

from sandbox.blockkit import (
    VIEW_BYTE_LIMIT,
    message_errors,
    problem,
    truncated_text,
    view_size,
)
from sandbox.blockkit import view_errors as block_kit_view_errors
from sandbox.workspace import Channel, Message, SharedFile, User, View, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Method:
    """What Slack's reference page says a Web API method needs: the bot scope (None: none),
    the arguments it cannot do without, and whether it takes the app-level token."""

    scope: str | None
    required: tuple[str, ...] = ()
    app_token: bool = False


#: Every method the stand-in answers, with its scope and required arguments from Slack's method
#: docs (tests/test_slack_spec.py checks them against Slack's published Web API spec). Slack
#: answers a call without a required argument `invalid_arguments` ("missing required field");
#: one that is present but names nothing gets the method's own error (`channel_not_found`).
METHODS: dict[str, Method] = {
    "auth.test": Method(None),
    "apps.connections.open": Method(None, app_token=True),
    "chat.postMessage": Method("chat:write", ("channel",)),
    "chat.postEphemeral": Method("chat:write", ("channel", "user")),
    "chat.update": Method("chat:write", ("channel", "ts")),
    "chat.delete": Method("chat:write", ("channel", "ts")),
    "chat.getPermalink": Method(None, ("channel", "message_ts")),
    "files.getUploadURLExternal": Method("files:write", ("filename", "length")),
    "files.completeUploadExternal": Method("files:write", ("files",)),
    "conversations.open": Method("im:write"),
    "conversations.info": Method("channels:read", ("channel",)),
    "conversations.list": Method("channels:read"),
    "conversations.members": Method("channels:read", ("channel",)),
    "conversations.history": Method("channels:history", ("channel",)),
    "conversations.replies": Method("channels:history", ("channel", "ts")),
    "users.info": Method("users:read", ("user",)),
    "usergroups.list": Method("usergroups:read"),
    "usergroups.users.list": Method("usergroups:read", ("usergroup",)),
    "reactions.add": Method("reactions:write", ("channel", "name", "timestamp")),
    "reactions.remove": Method("reactions:write", ("name",)),
    "views.publish": Method(None, ("user_id", "view")),
    "views.open": Method(None, ("trigger_id", "view")),
    "views.push": Method(None, ("trigger_id", "view")),
    "views.update": Method(None, ("view",)),
}
JSON_ARGUMENTS = {"blocks", "attachments", "view", "metadata", "users", "files"}
#: A trigger_id opens a view within 3 seconds of the interaction that carried it.
TRIGGER_LIFETIME = timedelta(seconds=3)
#: A response_url takes at most 5 posts, within 30 minutes.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_POSTS = 5
#: How a boolean argument reads when true: JSON true, or "true"/"1" in a form or query string.
TRUE_VALUES = frozenset({"true", "1"})


class SlackError(Exception):
    """A Slack API error: the `error` code of an `{"ok": false}` answer."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class Fault:
    """Answer the next `times` calls of `method` with `status` (and `error` / Retry-After).

    Status 0 drops the connection without an answer, as a network fault would."""

    method: str
    status: int = 429
    error: str = "ratelimited"
    retry_after: int = 1
    times: int = 1


@dataclass(eq=False)
class Hold:
    """Keep back the answer to the `remaining`-th next call of `method` until `release` is set.

    The call itself is applied as usual; only its answer waits."""

    method: str
    remaining: int
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class ResponseUrl:
    """Where a `response_url` posts: to a person in a channel, maybe over an original.

    `issued` (set by `WebApi.new_response_url`) and `posts` keep Slack's limits: five posts
    within thirty minutes of the interaction."""

    user: str
    channel: str
    original: Message | None = None
    replace_by_default: bool = False
    issued: datetime | None = None
    posts: int = 0


@dataclass(frozen=True)
class Trigger:
    """A trigger_id Slack sent with an interaction: whose, and when."""

    user: str
    issued: datetime


@dataclass
class WebApi:
    workspace: Workspace
    bot_token: str
    scopes: set[str] | None = None
    app_token: str = "xapp-sandbox-token"
    #: Issues a Socket Mode WebSocket URL; set while a `SocketModeServer` runs.
    socket_url: Callable[[], str] | None = None
    #: Where uploads go (files.getUploadURLExternal): the stand-in's own `/upload/`, set by
    #: the server that serves this API.
    upload_url: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    rate_limit_every: dict[str, int] = field(default_factory=dict)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    on_view_opened: Callable[[View], None] | None = None
    holds: list[Hold] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: bool = False

    # --- the HTTP side ---------------------------------------------------------------------

    def call(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one Web API call: (HTTP status, JSON body, extra headers).

        A held call is applied and recorded first, then waits (without the workspace lock,
        so other calls go on) until its hold is released."""
        held = self._holds_for(method)
        answer = self._answer(method, args, token)
        if held:
            for hold in held:
                hold.release.wait()
            with self._lock:
                self.holds = [h for h in self.holds if h not in held]
        return answer

    def hold(self, method: str, nth: int = 1) -> threading.Event:
        """Hold back the answer to the `nth` next call of `method` (faulted calls count too);
        set the returned event to let it go. Once released for good, holds are already set."""
        if nth < 1:
            raise ValueError("nth counts from 1")
        hold = Hold(method, nth)
        with self._lock:
            if self._released:
                hold.release.set()
            else:
                self.holds.append(hold)
        return hold.release

    def release_holds(self) -> None:
        """Let every held answer go, now and from now on, so that stopping never hangs."""
        with self._lock:
            self._released = True
            for hold in self.holds:
                hold.release.set()
            self.holds.clear()

    def _holds_for(self, method: str) -> list[Hold]:
        """Count this call against the holds on `method` still waiting for their call; those
        it reaches stay listed until answered, so that `release_holds` can still let them go."""
        with self._lock:
            reached = []
            for hold in self.holds:
                if hold.method == method and hold.remaining > 0:
                    hold.remaining -= 1
                    if hold.remaining == 0:
                        reached.append(hold)
            return reached

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fault = self._fault_for(method)
        if fault is not None:
            status, headers = fault.status, {}
            if fault.status == 429:
                headers["Retry-After"] = str(fault.retry_after)
            body = {"ok": False, "error": fault.error}
            self._record(method, args, status, body)
            return status, body, headers
        try:
            handler = getattr(self, "m_" + method.replace(".", "_"), None)
            if handler is None or method not in METHODS:
                raise SlackError("unknown_method")
            self._check_auth(method, token)
            self._check_required(method, args)
            with self.workspace.lock:
                body = {"ok": True, **handler(args)}
        except SlackError as error:
            body = {"ok": False, "error": error.code, **error.extra}
        self._record(method, args, 200, body)
        return 200, body, {}

    def _fault_for(self, method: str) -> Fault | None:
        with self._lock:
            self._counts[method] = self._counts.get(method, 0) + 1
            every = self.rate_limit_every.get(method)
            if every and self._counts[method] % every == 0:
                return Fault(method)
            for fault in self.faults:
                if fault.method == method and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _check_auth(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise SlackError("invalid_auth")
        if (token == self.app_token) != METHODS[method].app_token:
            raise SlackError("not_allowed_token_type")
        needed = METHODS[method].scope
        if needed and self.scopes is not None and needed not in self.scopes:
            raise SlackError("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))

    @staticmethod
    def _check_required(method: str, args: dict[str, Any]) -> None:
        """An argument left out is `invalid_arguments`, as Slack answers (one given but empty
        is the method's own business: `channel_not_found`, `user_not_found`, …)."""
        missing = [name for name in METHODS[method].required if name not in args]
        if missing:
            messages = [f"[ERROR] missing required field: {name}" for name in missing]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})

    def _record(self, method: str, args: dict[str, Any], status: int, body: dict) -> None:
        with self._lock:
            self.calls.append(ApiCall(method, args, status, body))

    # --- helpers ---------------------------------------------------------------------------

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    def _channel(self, channel_id: str | None, *, user_id_is_dm: bool = False) -> Channel:
        """The conversation `channel_id` names. Only where Slack allows it (`user_id_is_dm`:
        chat.postMessage, chat.postEphemeral) does a user ID stand for the app's DM with them."""
        if not channel_id:
            raise SlackError("channel_not_found")
        if user_id_is_dm and channel_id[0] in "UW" and self.workspace.user(channel_id):
            return self.workspace.im_with(channel_id)
        channel = self.workspace.channels.get(channel_id)
        if channel is None or (channel.is_private and self.workspace.bot.id not in channel.members):
            raise SlackError("channel_not_found")  # a private channel Eddy is not in: unseen
        return channel

    def _recipient(self, channel_id: str | None) -> User | None:
        """The person a post to `channel_id` goes to: a user ID, or a DM's ID; else None."""
        if not channel_id:
            return None
        if channel_id[0] in "UW" and (user := self.workspace.user(channel_id)) is not None:
            return user
        channel = self.workspace.channels.get(channel_id)
        if channel is None or not channel.is_im or channel.im_user is None:
            return None
        return self.workspace.user(channel.im_user)

    @staticmethod
    def _check_active(user: User) -> None:
        """A deactivated account gets nothing from Eddy: Slack answers `user_disabled`."""
        if user.deleted:
            raise SlackError("user_disabled")

    def _dm_channel(self, channel_id: str | None, *, user_id_is_dm: bool = True) -> Channel:
        """Where a post to `channel_id` lands, refused as Slack does when a DM cannot reach its
        person (checked before the DM is opened, so a refused post opens none)."""
        person = self._recipient(channel_id)
        if person is not None and person.id != self.workspace.bot.id:
            self._check_active(person)
            if person.messages_tab_disabled:
                raise SlackError("messages_tab_disabled")
        return self._channel(channel_id, user_id_is_dm=user_id_is_dm)

    def _message(self, channel_id: str, ts: str | None) -> Message:
        message = self.workspace.find_message(channel_id, ts or "")
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _blocks(self, args: dict[str, Any]) -> list[dict]:
        blocks = args.get("blocks") or []
        validate_blocks(blocks)
        return list(blocks)

    def _text_and_blocks(self, args: dict[str, Any]) -> tuple[str, list[dict]]:
        """A message's text (cut off past 40,000 characters, as Slack does) and its blocks,
        refused as Slack refuses them."""
        blocks = self._blocks(args)
        text = truncated_text(str(args.get("text") or ""))
        if not text and not blocks:
            raise SlackError("no_text")
        return text, blocks

    @staticmethod
    def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
        """The `metadata` argument (a dict, or its JSON), checked for Slack's shape."""
        raw = args.get("metadata")
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_metadata_format") from None
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("event_type"), str)
            and raw["event_type"]
            and isinstance(raw.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {"event_type": raw["event_type"], "event_payload": raw["event_payload"]}

    def issue_trigger(self, user: str) -> str:
        """A trigger_id for an interaction of `user`, valid for 3 seconds of the workspace
        clock (the clock tests pin and move; see `_take_trigger`)."""
        trigger = self.workspace.next_id("TR")
        self.triggers[trigger] = Trigger(user, self.workspace.clock.now())
        return trigger

    # --- the methods -----------------------------------------------------------------------

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        bot = self.workspace.bot
        return {
            "url": self.workspace.url,
            "team": self.workspace.domain,
            "user": bot.name,
            "team_id": self.team_id,
            "user_id": bot.id,
            "bot_id": bot.bot_id,
            "is_enterprise_install": False,
        }

    def m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """A fresh WebSocket URL for Socket Mode (only while the stand-in runs one)."""
        if self.socket_url is None:
            # An app whose Socket Mode is off; Slack documents no code for this, so say it.
            raise SlackError("socket_mode_not_enabled")
        return {"url": self.socket_url()}

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._dm_channel(args.get("channel"))
        if channel.is_public and self.workspace.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        text, blocks = self._text_and_blocks(args)
        metadata = self._metadata(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None:
            self._message(channel.id, thread_ts)
        message = self.post_as_bot(channel.id, text, blocks, thread_ts, metadata=metadata)
        return {"channel": channel.id, "ts": message.ts, "message": message.to_api(self.team_id)}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), user_id_is_dm=True)
        user = str(args.get("user") or "")
        person = self.workspace.user(user)
        if person is None:
            raise SlackError("user_not_found")
        self._check_active(person)
        if user not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._text_and_blocks(args)
        message = self.post_as_bot(
            channel.id, text, blocks, args.get("thread_ts"), ephemeral_to=user
        )
        return {"message_ts": message.ts}

    def post_as_bot(
        self,
        channel: str,
        text: str,
        blocks: list[dict],
        thread_ts: str | None = None,
        *,
        ephemeral_to: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """A message from Eddy (seen only by `ephemeral_to`, when given)."""
        return self.workspace.add_message(
            Message(
                channel=channel,
                ts=self.workspace.next_ts(),
                text=text,
                user=self.workspace.bot.id,
                bot_id=self.workspace.bot.bot_id,
                blocks=blocks,
                thread_ts=thread_ts or None,
                ephemeral_to=ephemeral_to,
                metadata=metadata,
            )
        )

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._message(channel.id, args.get("ts"))
        if message.user != self.workspace.bot.id:
            raise SlackError("cant_update_message")
        text, blocks = self._text_and_blocks(args)
        metadata = self._metadata(args)
        message.text, message.blocks, message.edited = text, blocks, True
        if metadata is not None:
            message.metadata = metadata
        self.workspace.touch(message)
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": text,
            "message": message.to_api(self.team_id),
        }

    def m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._message(channel.id, args.get("ts"))
        if message.user != self.workspace.bot.id:
            raise SlackError("cant_delete_message")
        message.deleted = True
        self.workspace.touch(message)
        return {"channel": channel.id, "ts": message.ts}

    def m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._message(channel.id, args.get("message_ts"))
        link = f"{self.workspace.url}archives/{channel.id}/p{message.ts.replace('.', '')}"
        return {"channel": channel.id, "permalink": link}

    def m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """A file ID and the URL to POST its bytes to; the file is nobody's to see until
        files.completeUploadExternal shares it."""
        filename = str(args.get("filename") or "").strip()
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        if not filename or length <= 0:
            raise SlackError("missing_argument")
        shared = SharedFile(
            id=self.workspace.next_id("F"),
            name=filename,
            length=length,
            user=self.workspace.bot.id,
            created=int(self.workspace.clock.now().timestamp()),
        )
        self.workspace.files[shared.id] = shared
        return {"upload_url": f"{self.upload_url}{shared.id}", "file_id": shared.id}

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """A POST of a file's bytes to its upload URL: (HTTP status, text), as Slack's upload
        service answers."""
        with self.workspace.lock:
            shared = self.workspace.files.get(file_id)
            if shared is None or shared.completed:
                return 404, "file_not_found"
            shared.content = data
        self._record("upload", {"file_id": file_id, "length": len(data)}, 200, {"ok": True})
        return 200, f"OK - {len(data)}"

    def m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Share uploaded files: into `channel_id` (or each of `channels`) as one message
        from Eddy with `initial_comment` as its text; without a channel they stay private."""
        wanted = args.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise SlackError("invalid_arguments")
        found: list[SharedFile] = []
        for item in wanted:
            file_id = item.get("id") if isinstance(item, dict) else None
            shared = self.workspace.files.get(str(file_id or ""))
            if shared is None or shared.content is None or shared.completed:
                raise SlackError("file_not_found")
            found.append(shared)
        listed = str(args.get("channels") or "").split(",")
        targets = [str(args.get("channel_id") or ""), *listed]
        channels = [
            self._dm_channel(target, user_id_is_dm=False)
            for target in dict.fromkeys(targets)
            if target
        ]
        for channel in channels:
            if channel.is_public and self.workspace.bot.id not in channel.members:
                raise SlackError("not_in_channel")
        for shared, item in zip(found, wanted, strict=True):
            shared.title = str(item.get("title") or shared.name)
            shared.completed = True
        for channel in channels:
            for shared in found:
                shared.channels.append(channel.id)
            message = self.post_as_bot(
                channel.id, str(args.get("initial_comment") or ""), [], args.get("thread_ts")
            )
            message.files = list(found)
        return {"files": [{"id": shared.id, "title": shared.title} for shared in found]}

    def m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users") or ""
        ids = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if len(ids) != 1:
            raise SlackError("not_implemented" if ids else "users_list_not_supplied")
        person = self.workspace.user(ids[0])
        if person is None:
            raise SlackError("user_not_found")
        self._check_active(person)
        channel = self.workspace.im_with(ids[0])
        return {"channel": channel.to_api(self.workspace.bot.id)}

    def m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        return {"channel": channel.to_api(self.workspace.bot.id)}

    def m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channels Eddy can see (public ones, and private ones it is in), `limit` a page,
        the cursor an offset."""
        wanted = set(str(args.get("types") or "public_channel").split(","))
        bot = self.workspace.bot.id
        found = [
            channel
            for channel in self.workspace.channels.values()
            if not channel.is_im
            and (
                ("public_channel" in wanted and channel.is_public)
                or ("private_channel" in wanted and channel.is_private and bot in channel.members)
            )
        ]
        start = (
            int(str(args.get("cursor") or "0")) if str(args.get("cursor") or "0").isdigit() else 0
        )
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "channels": [channel.to_api(bot) for channel in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """A page of members (`limit`, 100 unless given, at most 1,000), and the cursor of
        the next page ("" after the last), as Slack pages them."""
        channel = self._channel(args.get("channel"))
        cursor = str(args.get("cursor") or "")
        if cursor and not (cursor.startswith("members:") and cursor[8:].isdigit()):
            raise SlackError("invalid_cursor")
        raw_limit = str(args.get("limit") or "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise SlackError("invalid_limit")
        start, limit = int(cursor[8:] or 0) if cursor else 0, int(raw_limit)
        members = sorted(channel.members)
        more = start + limit < len(members)
        return {
            "members": members[start : start + limit],
            "response_metadata": {"next_cursor": f"members:{start + limit}" if more else ""},
        }

    def m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, between `oldest` and `latest` (both left out unless `inclusive`)."""
        channel = self._channel(args.get("channel"))
        oldest, latest = _ts_argument(args, "oldest"), _ts_argument(args, "latest")
        inclusive = is_true(args.get("inclusive"))
        found = [
            m
            for m in self.workspace.history(channel.id)
            if _within(Decimal(m.ts), oldest, latest, inclusive=inclusive)
        ]
        limit = int(args.get("limit") or 100)
        metadata = is_true(args.get("include_all_metadata"))
        messages = [
            m.to_api(self.team_id, include_metadata=metadata) for m in reversed(found[-limit:])
        ]
        return {"messages": messages, "has_more": len(found) > limit}

    def m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        parent = self._message(channel.id, args.get("ts"))
        thread = self.workspace.history(channel.id, thread_ts=parent.thread_ts or parent.ts)
        metadata = is_true(args.get("include_all_metadata"))
        messages = [m.to_api(self.team_id, include_metadata=metadata) for m in thread]
        return {"messages": messages, "has_more": False}

    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.user(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api(self.team_id, self.workspace.clock.now())}

    def m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """The workspace's user groups (disabled ones only with `include_disabled`)."""
        disabled, users = is_true(args.get("include_disabled")), is_true(args.get("include_users"))
        return {
            "usergroups": [
                group.to_api(self.team_id, include_users=users)
                for group in self.workspace.groups.values()
                if disabled or not group.disabled
            ]
        }

    def m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """A user group's members; a group that is not there (or disabled, unless
        `include_disabled`) is Slack's `no_such_subteam`."""
        group = self.workspace.groups.get(str(args.get("usergroup") or ""))
        if group is None or (group.disabled and not is_true(args.get("include_disabled"))):
            raise SlackError("no_such_subteam")
        return {"users": list(group.users)}

    def m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._message(self._channel(args.get("channel")).id, args.get("timestamp"))
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        users = message.reactions.setdefault(name, [])
        if self.workspace.bot.id in users:
            raise SlackError("already_reacted")
        users.append(self.workspace.bot.id)
        self.workspace.touch(message)
        return {}

    def m_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._message(self._channel(args.get("channel")).id, args.get("timestamp"))
        name = str(args.get("name") or "").strip(":")
        users = message.reactions.get(name, [])
        if self.workspace.bot.id not in users:
            raise SlackError("no_reaction")
        users.remove(self.workspace.bot.id)
        if not users:
            del message.reactions[name]
        self.workspace.touch(message)
        return {}

    def _view_payload(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            messages = ["[ERROR] must be an object [json-pointer:/view]"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        validate_view(view)
        return view

    def _view_api(self, view: View) -> dict[str, Any]:
        bot = self.workspace.bot
        return {"view": view.to_api(self.team_id, self.workspace.app_id, bot.bot_id or "")}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if self.workspace.user(user) is None:
            raise SlackError("user_not_found")
        payload = self._view_payload(args)
        if payload.get("type") != "home":
            raise SlackError("invalid_arguments")
        current = self.workspace.homes.get(user)
        if current is not None and args.get("hash") and args["hash"] != current.hash:
            raise SlackError("hash_conflict")
        view_id = current.id if current else self.workspace.next_id("V")
        view = View(view_id, user, "home", payload, self.workspace.next_id("H"), view_id)
        view.seq = self.workspace.next_seq()
        self.workspace.homes[user] = view
        return self._view_api(view)

    def _take_trigger(self, args: dict[str, Any]) -> str:
        """The person a trigger_id opens a view for; each opens one view, within 3 seconds.

        The 3 seconds are read on the workspace clock, not the wall clock: tests pin that clock
        and move it to let a trigger expire, so a slow, loaded machine never fails a test that
        Slack would pass, and the console (whose clock runs with real time) behaves as Slack."""
        trigger = self.triggers.pop(str(args.get("trigger_id") or ""), None)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if self.workspace.clock.now() - trigger.issued >= TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return trigger.user

    def _open_modal(self, user: str, payload: dict[str, Any], *, push: bool) -> View:
        if payload.get("type") != "modal":
            raise SlackError("invalid_arguments")
        stack = self.workspace.modals.setdefault(user, [])
        if push and not stack:
            raise SlackError("not_found")
        if push and len(stack) >= 3:
            raise SlackError("push_limit_reached")
        view_id = self.workspace.next_id("V")
        root = stack[0].root_view_id if (push and stack) else view_id
        previous = stack[-1].id if (push and stack) else None
        view = View(view_id, user, "modal", payload, self.workspace.next_id("H"), root, previous)
        view.seq = self.workspace.next_seq()
        if not push:
            stack.clear()
        stack.append(view)
        if self.on_view_opened is not None:
            self.on_view_opened(view)
        return view

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._take_trigger(args)
        return self._view_api(self._open_modal(user, self._view_payload(args), push=False))

    def m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._take_trigger(args)
        return self._view_api(self._open_modal(user, self._view_payload(args), push=True))

    def m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = self._view_payload(args)
        view = self.find_view(str(args.get("view_id") or ""), str(args.get("external_id") or ""))
        if view is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != view.hash:
            raise SlackError("hash_conflict")
        view.payload, view.hash = payload, self.workspace.next_id("H")
        view.seq = self.workspace.next_seq()
        return self._view_api(view)

    def find_view(self, view_id: str, external_id: str = "") -> View | None:
        views = [*self.workspace.homes.values()]
        for stack in self.workspace.modals.values():
            views += stack
        for view in views:
            if (view_id and view.id == view_id) or (
                external_id and view.payload.get("external_id") == external_id
            ):
                return view
        return None

    # --- response_url ----------------------------------------------------------------------

    def new_response_url(self, target: ResponseUrl) -> str:
        token = self.workspace.next_id("R")
        target.issued = self.workspace.clock.now()
        self.response_urls[token] = target
        return token

    def respond(self, token: str, body: dict[str, Any]) -> tuple[int, str]:
        """Apply a post to a response_url, as Slack does; answer (status, text). Each post is
        recorded as a call of "response_url", refused ones with their error."""
        target = self.response_urls.get(token)
        if target is None:
            return 404, "no_active_hooks"
        try:
            with self.workspace.lock:
                self._use_response_url(target)
                self._apply_response(target, body)
        except SlackError as error:
            status = 404 if error.code in ("expired_url", "used_url") else 400
            self._record("response_url", body, status, {"ok": False, "error": error.code})
            return status, error.code
        self._record("response_url", body, 200, {"ok": True})
        return 200, "ok"

    def _use_response_url(self, target: ResponseUrl) -> None:
        """Count one post against the response_url's five, within its thirty minutes (on the
        workspace clock, which tests pin and move)."""
        issued = target.issued or self.workspace.clock.now()
        if self.workspace.clock.now() - issued >= RESPONSE_URL_LIFETIME:
            raise SlackError("expired_url")
        if target.posts >= RESPONSE_URL_POSTS:
            raise SlackError("used_url")
        target.posts += 1

    def refused_reply(self, kind: str, reply: dict[str, Any], error: SlackError) -> None:
        """Record a reply Slack refused outside the Web API (a slash command's ack, a view
        submission's `response_action`), so that tests see it as they see a refused call."""
        self._record(kind, reply, 200, {"ok": False, "error": error.code, **error.extra})

    def _apply_response(self, target: ResponseUrl, body: dict[str, Any]) -> None:
        original = target.original
        if body.get("delete_original") and original is not None:
            original.deleted = True
            self.workspace.touch(original)
            return
        text, blocks = truncated_text(str(body.get("text") or "")), self._blocks(body)
        replace = body.get("replace_original")
        if replace is None:
            replace = target.replace_by_default and body.get("response_type") is None
        if replace and original is not None:
            original.text, original.blocks, original.edited = text, blocks, True
            self.workspace.touch(original)
            return
        if not text and not blocks:
            raise SlackError("no_text")
        public = body.get("response_type") == "in_channel"
        self.post_as_bot(
            target.channel,
            text,
            blocks,
            body.get("thread_ts"),
            ephemeral_to=None if public else target.user,
        )


def is_true(value: Any) -> bool:
    """A boolean argument as Slack reads it: JSON true, or "true" / "1" in a form."""
    return value is True or str(value).strip().lower() in TRUE_VALUES


def _ts_argument(args: dict[str, Any], name: str) -> Decimal | None:
    """A message-timestamp argument (`oldest`, `latest`) as an exact number; absent: None."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        stamp = Decimal(str(raw))
    except InvalidOperation:
        raise SlackError(f"invalid_ts_{name}") from None
    if not stamp.is_finite():
        raise SlackError(f"invalid_ts_{name}")
    return stamp


def _within(
    stamp: Decimal, oldest: Decimal | None, latest: Decimal | None, *, inclusive: bool
) -> bool:
    if oldest is not None and (stamp < oldest or (stamp == oldest and not inclusive)):
        return False
    return latest is None or stamp < latest or (stamp == latest and inclusive)


def validate_blocks(blocks: Any) -> None:
    """Raise `invalid_blocks` where Slack would, with its messages (each pointing at its
    field) in `errors` and, prefixed with [ERROR], in `response_metadata`."""
    errors = message_errors(blocks)
    if not errors and isinstance(blocks, list):
        errors = [problem(error, "blocks", index) for index, error in block_errors(blocks)]
    if errors:
        raise SlackError(
            "invalid_blocks",
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {error}" for error in errors]},
        )


def block_errors(blocks: list[Any]) -> Iterator[tuple[int, str]]:
    """(index, problem) for each block slack_sdk's models reject."""
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse(raw)
            if block is None:
                raise SlackObjectFormationError("unknown block type")
            block.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as error:
            yield index, str(error)


def validate_view(view: dict[str, Any]) -> None:
    """Raise `view_too_large` or `invalid_arguments` where Slack refuses a view (views.publish,
    .open, .push and .update alike, and a submission's `response_action`), with Slack's
    messages in `errors` and `response_metadata`: a view's blocks are checked as the view's
    arguments, not as a message's `invalid_blocks`."""
    if view_size(view) > VIEW_BYTE_LIMIT:
        raise SlackError("view_too_large")
    errors = view_errors(view)
    if errors:
        raise SlackError("invalid_arguments", errors=errors, response_metadata={"messages": errors})


def view_errors(view: dict[str, Any]) -> list[str]:
    """Slack's Block Kit rules (`blockkit`), then each block slack_sdk refuses, every message
    pointing at its field; when those pass, whatever else slack_sdk's view model refuses."""
    errors = [f"[ERROR] {error}" for error in block_kit_view_errors(view)]
    blocks = view.get("blocks")
    if not errors and isinstance(blocks, list):
        errors = [
            f"[ERROR] {problem(error, 'view', 'blocks', index)}"
            for index, error in block_errors(blocks)
        ]
    if not errors:
        try:
            ViewModel(**view).validate_json()
        except (SlackObjectFormationError, TypeError, ValueError) as error:
            errors.append(f"[ERROR] {error} [json-pointer:/view]")
    return errors


def parse_arguments(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query-string and body arguments the way Slack accepts them (form or JSON)."""
    args: dict[str, Any] = dict(parse_qsl(query))
    if body:
        if content_type.startswith("application/json"):
            args.update(json.loads(body))
        else:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in JSON_ARGUMENTS & args.keys():
        if isinstance(args[key], str) and args[key][:1] in "[{":
            args[key] = json.loads(args[key])
    return args


class WebApiServer(ThreadingHTTPServer):
    """Serves `POST /api/<method>`, `POST /respond/<token>` and `POST /upload/<file_id>` on
    127.0.0.1."""

    daemon_threads = True

    def __init__(self, api: WebApi, port: int = 0) -> None:
        self.api = api
        super().__init__(("127.0.0.1", port), _Handler)
        api.upload_url = f"{self.base_url}/upload/"
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.02},  # so that stop() returns at once
            name="slack-stand-in",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; held answers are let go first, so that no handler is left waiting."""
        self.api.release_holds()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: WebApiServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        api = self.server.api
        if url.path.startswith("/respond/"):
            status, text = api.respond(
                url.path.removeprefix("/respond/"), json.loads(body or b"{}")
            )
            self._send(status, text.encode(), "text/plain")
            return
        if url.path.startswith("/upload/"):
            status, text = api.receive_upload(url.path.removeprefix("/upload/"), body)
            self._send(status, text.encode(), "text/plain")
            return
        if not url.path.startswith("/api/"):
            self._send(404, b"not found", "text/plain")
            return
        method = url.path.removeprefix("/api/")
        try:
            args = parse_arguments(url.query, body, content_type)
        except (ValueError, UnicodeDecodeError):
            self._send(200, json.dumps({"ok": False, "error": "invalid_json"}).encode())
            return
        auth = self.headers.get("Authorization", "")
        form_token = args.pop("token", None)  # never recorded with the call's arguments
        token = auth.removeprefix("Bearer ").strip() or form_token
        status, answer, headers = api.call(method, args, token)
        if status == 0:
            self.close_connection = True
            return
        self._send(status, json.dumps(answer).encode(), headers=headers)

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stand-in: " + format, *args)
