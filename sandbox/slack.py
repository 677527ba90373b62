"""A local Slack stand-in: a workspace, its Web API, and Slack's side of every conversation.

Eddy's `WebClient` calls the Web API over HTTP (`stand_in.api_url` as `SLACK_API_URL`); the
stand-in sends Eddy what Slack would — signed slash commands, events (with retry headers),
button presses, view submissions — through a target: the Bolt app in-process, Eddy's HTTP
endpoint, or a Socket Mode connection (`sandbox.socket_mode`). It follows the app's
manifest: only its commands exist, only its subscribed events are sent, only its scopes are
granted.

    with SlackStandIn.from_manifest("manifest.yml", signing_secret=secret) as slack:
        slack.connect(BoltTarget(app, runtime.work))
        slack.command("U0ALEX001", "C0GENERAL", "/ask how do I reset my vpn password")
        print(slack.ephemerals("U0ALEX001")[-1].text)
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.clock import Clock
from bot.content.badge_rules import ALIASES
from bot.runtime import WorkPool
from sandbox.webapi import (
    ApiCall,
    Fault,
    ResponseUrl,
    SlackError,
    WebApi,
    WebApiServer,
    validate_view,
)
from sandbox.workspace import Channel, Message, User, View, Workspace, sandbox_workspace

#: The scope Slack needs for each bot event (app_home_opened needs none).
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "user_change": "users:read",
    "team_join": "users:read",
    "member_joined_channel": "channels:read",
    "subteam_members_changed": "usergroups:read",
}
#: Elements a person picks one option of, which Slack reports as `selected_option`.
OPTION_PICKERS = frozenset({"static_select", "overflow", "radio_buttons"})
#: Pickers of one thing besides an option: (the state's key, the element's initial key).
SINGLE_PICKS = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "timepicker": ("selected_time", "initial_time"),
    "datepicker": ("selected_date", "initial_date"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
#: Pickers of several things: (the state's key, the element's initial key).
MULTI_PICKS = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}
#: The time a timepicker reports: 24-hour "HH:MM", as Slack's client always sends it.
PICKED_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


class SandboxError(Exception):
    """Something Slack itself would refuse (an unknown command, a button that isn't there)."""


@dataclass
class SentEvent:
    """An event the stand-in sent, and what the app answered."""

    event: dict[str, Any]
    event_id: str
    delivery: Delivery | None = None


@dataclass
class Delivery:
    """What the app answered to one request from Slack."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body.strip().startswith("{") else {}


class AppTarget(Protocol):
    def deliver(self, body: str, headers: dict[str, str]) -> Delivery: ...

    def settle(self) -> None: ...


class BoltTarget:
    """Deliver to a Bolt app in this process; `settle` waits for its listeners to finish."""

    def __init__(self, app: App, work: WorkPool) -> None:
        self.app, self.work = app, work

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        response = self.app.dispatch(BoltRequest(body=body, headers={**headers}))
        return Delivery(response.status, response.body, response.first_headers())

    def settle(self) -> None:
        self.work.wait_idle()


class HttpTarget:
    """Deliver over HTTP to Eddy's `POST /slack/events` (HTTP mode, another process)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        #: Seconds to wait for an answer (a bench may wait out a slow first answer).
        self.timeout = timeout

    def deliver(self, body: str, headers: dict[str, str]) -> Delivery:
        # Header values travel as bytes: one outside Latin-1 goes as its UTF-8 bytes, as a
        # client writing raw HTTP would send it (http.client would refuse it).
        raw = {name: value.encode().decode("latin-1") for name, value in headers.items()}
        request = urllib.request.Request(self.url, data=body.encode(), headers=raw)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Delivery(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Delivery(error.code, error.read().decode(), dict(error.headers))

    def settle(self) -> None:
        """Another process: nothing to wait on here (use `SlackStandIn.wait_for`)."""


@dataclass(frozen=True)
class Manifest:
    """What the stand-in takes from the manifest. `shortcuts` are the callback_ids of every
    shortcut; `message_shortcuts` those of `type: message`, the only ones Slack lists in a
    message's menu (global ones are run from the composer or search, with no message)."""

    commands: frozenset[str]
    bot_events: frozenset[str]
    scopes: frozenset[str]
    shortcuts: frozenset[str]
    message_shortcuts: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path | str) -> Manifest:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        features = data.get("features", {})
        settings = data.get("settings", {})
        shortcuts = features.get("shortcuts", [])
        return cls(
            commands=frozenset(c["command"] for c in features.get("slash_commands", [])),
            bot_events=frozenset(settings.get("event_subscriptions", {}).get("bot_events", [])),
            scopes=frozenset(data.get("oauth_config", {}).get("scopes", {}).get("bot", [])),
            shortcuts=frozenset(s["callback_id"] for s in shortcuts),
            message_shortcuts=frozenset(
                s["callback_id"] for s in shortcuts if s.get("type") == "message"
            ),
        )


class SlackStandIn:
    def __init__(
        self,
        *,
        signing_secret: str,
        manifest: Manifest,
        bot_token: str = "xoxb-sandbox-token",
        app_token: str = "xapp-sandbox-token",
        workspace: Workspace | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.manifest = manifest
        self.workspace = workspace or sandbox_workspace(clock)
        self.api = WebApi(
            self.workspace, bot_token, scopes=set(manifest.scopes), app_token=app_token
        )
        self.server = WebApiServer(self.api)
        self.target: AppTarget | None = None
        self._signer = SignatureVerifier(signing_secret)
        self._stamped: set[tuple[str, int]] = set()
        self._stamp_lock = threading.Lock()
        self._last_request: tuple[str, dict[str, str]] | None = None
        #: Every request sent to the app and its answer, in order (what the app showed in
        #: its acks is checked like the messages it posted: sandbox.mrkdwn).
        self.sent: list[tuple[str, Delivery]] = []

    @classmethod
    def from_manifest(cls, path: Path | str, **kwargs: Any) -> SlackStandIn:
        return cls(manifest=Manifest.load(path), **kwargs)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return self.server.base_url + "/api/"

    def start(self) -> SlackStandIn:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def connect(self, target: AppTarget) -> None:
        self.target = target

    # --- faults ----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an error (default: 429 with
        Retry-After; 5xx for a server error; 0 drops the connection)."""
        self.api.faults.append(Fault(method, status, error, retry_after, times))

    def rate_limit_every(self, method: str, every: int) -> None:
        """Answer every `every`-th call of `method` with 429 and Retry-After."""
        self.api.rate_limit_every[method] = every

    def hold(self, method: str, nth: int = 1) -> threading.Event:
        """Apply the `nth` next call of `method` but keep its answer back until the returned
        event is set (or the stand-in stops): the app's process "dies" after Slack acted."""
        return self.api.hold(method, nth)

    # --- people change ---------------------------------------------------------------------

    def deactivate(self, user_id: str) -> None:
        """An admin deactivates this person's account; Eddy hears of it if it subscribed."""
        user = self._user(user_id)
        with self.workspace.lock:
            user.deleted = True
        self._user_changed(user)

    def change_timezone(self, user_id: str, tz: str) -> None:
        """This person moves to time zone `tz` (an IANA name); Eddy hears if it subscribed."""
        user = self._user(user_id)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SandboxError(f"no time zone {tz!r}") from None
        with self.workspace.lock:
            user.tz = tz
        self._user_changed(user)

    def join_workspace(self, user: User) -> SentEvent | None:
        """A new person joins the workspace: Slack's `team_join` (with the person as users.info
        shows them) reaches Eddy when it subscribed; the event sent is returned (to send it
        again as Slack's retry would, with `redeliver`)."""
        self.workspace.add_user(user)
        if self.target is None or not self._subscribed("team_join"):
            return None
        now = self.workspace.clock.now()
        event = {"type": "team_join", "user": user.to_api(self.workspace.team_id, now)}
        sent = SentEvent(event, self.workspace.next_id("Ev"))
        sent.delivery = self.event(event, event_id=sent.event_id)
        return sent

    def change_group(
        self, group_id: str, *, add: Collection[str] = (), remove: Collection[str] = ()
    ) -> SentEvent | None:
        """An admin adds people to (or removes them from) a user group: Slack's
        `subteam_members_changed` reaches Eddy when it subscribed; the event sent is
        returned."""
        group = self.workspace.groups.get(group_id)
        if group is None:
            raise SandboxError(f"no user group {group_id!r}")
        for user_id in [*add, *remove]:
            self._user(user_id)
        with self.workspace.lock:
            added = [user for user in add if user not in group.users]
            removed = [user for user in remove if user in group.users]
            group.users = [user for user in group.users if user not in removed] + added
        if self.target is None or not self._subscribed("subteam_members_changed"):
            return None
        stamp = int(self.workspace.clock.now().timestamp())
        event = {
            "type": "subteam_members_changed",
            "subteam_id": group.id,
            "team_id": self.workspace.team_id,
            "date_previous_update": stamp - 60,
            "date_update": stamp,
            "added_users": added,
            "added_users_count": str(len(added)),
            "removed_users": removed,
            "removed_users_count": str(len(removed)),
        }
        sent = SentEvent(event, self.workspace.next_id("Ev"))
        sent.delivery = self.event(event, event_id=sent.event_id)
        return sent

    def _user_changed(self, user: User) -> None:
        """Send `user_change` with the person as users.info shows them, when subscribed."""
        if self.target is None or not self._subscribed("user_change"):
            return
        now = self.workspace.clock.now()
        self.event({"type": "user_change", "user": user.to_api(self.workspace.team_id, now)})

    # --- sending to the app ----------------------------------------------------------------

    def send(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        extra_headers: dict[str, str] | None = None,
        without_headers: Collection[str] = (),
        signed: bool = True,
        age: int = 0,
        timestamp: int | str | Callable[[int], str] | None = None,
        tampered: str | None = None,
        settle: bool = True,
    ) -> Delivery:
        """Send a raw body to the app as Slack would: stamped with this process's clock (the
        app checks the stamp against its own) and signed with the signing secret.

        Slack signs each request as it sends it, and two deliveries of the same body (an
        event and its retry) are seconds apart; so the stand-in never signs one body with
        the same stamp twice, and stamps the second one a second later.

        For forgeries: `signed=False` leaves the signature out; `age` stamps the request that
        many seconds ago (negative: ahead); `timestamp` writes the header as given, or as a
        function of the current stamp (`lambda now: f"+{now}"`), and signs that; `tampered`
        is delivered in place of the body that was signed; `without_headers` leaves those
        headers out. `replay()` sends the last request again, byte for byte.
        """
        if timestamp is None:
            stamp = self._fresh_stamp(body, int(time.time()) - age)
        elif callable(timestamp):
            stamp = timestamp(int(time.time()) - age)
        else:
            stamp = str(timestamp)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp}
        if signed:
            headers["X-Slack-Signature"] = str(
                self._signer.generate_signature(timestamp=stamp, body=body)
            )
        headers.update(extra_headers or {})
        wanted = {name.lower() for name in without_headers}
        headers = {name: value for name, value in headers.items() if name.lower() not in wanted}
        sent = body if tampered is None else tampered
        self._last_request = (sent, headers)
        return self._deliver(sent, headers, settle=settle)

    def replay(
        self, *, extra_headers: dict[str, str] | None = None, settle: bool = True
    ) -> Delivery:
        """Send the last request again exactly as it was (an attacker who captured it), with
        `extra_headers` added (Slack's retry headers, say)."""
        if self._last_request is None:
            raise SandboxError("nothing has been sent yet")
        body, headers = self._last_request
        return self._deliver(body, dict(headers) | (extra_headers or {}), settle=settle)

    def _deliver(self, body: str, headers: dict[str, str], *, settle: bool) -> Delivery:
        if self.target is None:
            raise SandboxError("no app is connected to the stand-in")
        delivery = self.target.deliver(body, headers)
        with self.workspace.lock:
            self.sent.append((body, delivery))
        if settle:
            self.target.settle()
        return delivery

    def _fresh_stamp(self, body: str, stamp: int) -> str:
        """`stamp`, or the next second this body was not signed with yet."""
        key = hashlib.sha256(body.encode()).hexdigest()
        with self._stamp_lock:
            while (key, stamp) in self._stamped:
                stamp += 1
            self._stamped.add((key, stamp))
        return str(stamp)

    def send_payload(self, payload: dict[str, Any], **kwargs: Any) -> Delivery:
        """Send an interactivity payload (`payload=<json>`), as Slack posts them."""
        return self.send(urlencode({"payload": json.dumps(payload)}), **kwargs)

    def _user(self, user_id: str) -> User:
        user = self.workspace.user(user_id)
        if user is None or user.is_bot:
            raise SandboxError(f"no person {user_id!r} in this workspace")
        return user

    def _team(self) -> dict[str, str]:
        return {"id": self.workspace.team_id, "domain": self.workspace.domain}

    def _action_ts(self) -> str:
        """When a person acted, on the workspace clock (so a moved sandbox clock shows); like
        Slack's, each is later than the one before, also when the clock stands still."""
        return self.workspace.next_ts()

    def _interaction(self, kind: str, user: User) -> dict[str, Any]:
        """What every interactivity payload from `user` starts with (with a fresh trigger)."""
        return {
            "type": kind,
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.workspace.team_id,
            },
            "api_app_id": self.workspace.app_id,
            "token": "sandbox-verification-token",
            "trigger_id": self.api.issue_trigger(user.id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def command(self, user_id: str, channel_id: str, line: str, **kwargs: Any) -> Delivery:
        """Type a slash command: `line` is `/ask how do I …`. The ack's reply is shown to the
        person as Slack shows it (ephemeral unless `response_type` is in_channel)."""
        name, _, text = line.strip().partition(" ")
        if name not in self.manifest.commands:
            raise SandboxError(f"{name} is not a command of this app")
        user = self._user(user_id)
        channel = self.workspace.channels[channel_id]
        response_url = self.api.new_response_url(ResponseUrl(user.id, channel.id))
        form = {
            "token": "sandbox-verification-token",
            "team_id": self.workspace.team_id,
            "team_domain": self.workspace.domain,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": name,
            "text": text,
            "api_app_id": self.workspace.app_id,
            "is_enterprise_install": "false",
            "response_url": f"{self.server.base_url}/respond/{response_url}",
            "trigger_id": self.api.issue_trigger(user.id),
        }
        delivery = self.send(urlencode(form), settle=False, **kwargs)
        self._show_ack(delivery, ResponseUrl(user.id, channel.id))
        self.target.settle()  # type: ignore[union-attr]
        return delivery

    def _show_ack(self, delivery: Delivery, target: ResponseUrl) -> None:
        """Show the ack's reply as Slack does: a JSON message, or a plain-text body as text.

        A reply Slack refuses (blocks it would not take) shows nothing and is recorded as a
        refused "command_response"."""
        reply = (
            delivery.json() if delivery.body.lstrip().startswith("{") else {"text": delivery.body}
        )
        if delivery.status == 200 and (reply.get("text") or reply.get("blocks")):
            try:
                with self.workspace.lock:
                    self.api._apply_response(target, reply)
            except SlackError as error:
                self.api.refused_reply("command_response", reply, error)

    def shortcut(self, user_id: str, message: Message, callback_id: str, **kwargs: Any) -> Delivery:
        """Run the app's message shortcut `callback_id` from the menu of `message`.

        Slack lists only shortcuts the manifest declares with `type: message`, and only on a
        message the person can see; an ephemeral message has no such menu. The payload's
        trigger can open a modal, and its response_url posts to the person in the message's
        channel (ephemerally unless told `in_channel`), as a slash command's does.
        """
        if callback_id not in self.manifest.message_shortcuts:
            kind = "a global shortcut" if callback_id in self.manifest.shortcuts else "not"
            raise SandboxError(f"{callback_id} is {kind} a message shortcut of this app")
        user = self._user(user_id)
        channel = self.workspace.channels[message.channel]
        if message.ephemeral_to is not None:
            raise SandboxError("Slack offers no shortcuts on a message only one person sees")
        if not message.visible_to(user.id, channel):
            raise SandboxError(f"{user.name} cannot see that message")
        token = self.api.new_response_url(ResponseUrl(user.id, channel.id))
        shown = message.to_api(self.workspace.team_id)
        if not shown["user"]:
            del shown["user"]  # an integration's message has no author, and Slack sends none
        payload = self._interaction("message_action", user)
        payload |= {
            "callback_id": callback_id,
            "action_ts": self._action_ts(),
            "channel": {
                "id": channel.id,
                "name": "directmessage" if channel.is_im else channel.name,
            },
            "message_ts": message.ts,
            "message": shown,
            "response_url": f"{self.server.base_url}/respond/{token}",
        }
        return self.send_payload(payload, **kwargs)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int = 0,
        **kwargs: Any,
    ) -> Delivery:
        """Deliver an `event_callback`; `retry_num` > 0 adds Slack's retry headers."""
        stamp = self.workspace.next_ts()
        event = {"event_ts": stamp, **event}
        envelope = {
            "token": "sandbox-verification-token",
            "team_id": self.workspace.team_id,
            "api_app_id": self.workspace.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self.workspace.next_id("Ev"),
            "event_time": int(float(stamp)),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.workspace.team_id,
                    "user_id": self.workspace.bot.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = dict(kwargs.pop("extra_headers", {}) or {})
        if retry_num:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.send(
            json.dumps(envelope), content_type="application/json", extra_headers=headers, **kwargs
        )

    def _subscribed(self, name: str) -> bool:
        return name in self.manifest.bot_events

    def say(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A person posts a message; Eddy gets the events it subscribed to."""
        user = self._user(user_id)
        channel = self.workspace.channels[channel_id]
        if not channel.is_im and user.id not in channel.members:
            raise SandboxError(f"{user.name} is not in #{channel.name}")
        message = self.workspace.add_message(
            Message(
                channel=channel.id,
                ts=self.workspace.next_ts(),
                text=text,
                user=user.id,
                thread_ts=thread_ts,
            )
        )
        base = {
            "user": user.id,
            "text": text,
            "ts": message.ts,
            "channel": channel.id,
            "team": self.workspace.team_id,
        }
        if thread_ts:
            base["thread_ts"] = thread_ts
        listening = self.workspace.bot.id in channel.members
        if listening and self._subscribed(_message_event(channel)):
            self.event({"type": "message", "channel_type": _channel_type(channel), **base})
        mention = f"<@{self.workspace.bot.id}>"
        if listening and not channel.is_im and mention in text and self._subscribed("app_mention"):
            self.event({"type": "app_mention", **base})
        return message

    def edit(self, user_id: str, message: Message, text: str) -> None:
        """The author edits their message; Eddy gets Slack's `message_changed` event."""
        if message.user != user_id:
            raise SandboxError("only the author can edit a message")
        previous = message.to_api(self.workspace.team_id)
        with self.workspace.lock:
            message.text = text
            message.edited = True
            self.workspace.touch(message)
        changed = message.to_api(self.workspace.team_id) | {
            "edited": {"user": user_id, "ts": self.workspace.next_ts()}
        }
        self._message_changed(message, changed, previous)

    def delete(self, user_id: str, message: Message) -> None:
        """The author deletes their message. As in Slack, a message with replies becomes a
        tombstone (`message_changed`) and one without goes (`message_deleted`)."""
        if message.user != user_id:
            raise SandboxError("only the author can delete a message")
        previous = message.to_api(self.workspace.team_id)
        replies = [m for m in self.workspace.history(message.channel, thread_ts=message.ts)]
        with self.workspace.lock:
            message.deleted = True
            self.workspace.touch(message)
        if len(replies) > 1:
            tombstone = previous | {
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "hidden": True,
            }
            self._message_changed(message, tombstone, previous)
            return
        channel = self.workspace.channels[message.channel]
        if self.workspace.bot.id in channel.members and self._subscribed(_message_event(channel)):
            self.event(
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "channel": message.channel,
                    "channel_type": _channel_type(channel),
                    "deleted_ts": message.ts,
                    "ts": self.workspace.next_ts(),
                    "previous_message": previous,
                }
            )

    def _message_changed(
        self, message: Message, changed: dict[str, Any], previous: dict[str, Any]
    ) -> None:
        channel = self.workspace.channels[message.channel]
        if self.workspace.bot.id not in channel.members:
            return
        if not self._subscribed(_message_event(channel)):
            return
        self.event(
            {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "channel": message.channel,
                "channel_type": _channel_type(channel),
                "ts": self.workspace.next_ts(),
                "message": changed,
                "previous_message": previous,
            }
        )

    def invite(self, inviter_id: str, channel_id: str, user_id: str) -> None:
        """`inviter_id` adds `user_id` (Eddy, say) to a channel: Slack's
        `member_joined_channel` reaches Eddy when it is in the channel (now, if it joined)."""
        inviter = self._user(inviter_id)
        channel = self.workspace.channels[channel_id]
        if channel.is_im or inviter.id not in channel.members:
            raise SandboxError(f"{inviter.name} is not in #{channel.name}")
        with self.workspace.lock:
            channel.members.add(user_id)
        if self.workspace.bot.id in channel.members and self._subscribed("member_joined_channel"):
            self.event(
                {
                    "type": "member_joined_channel",
                    "user": user_id,
                    "channel": channel.id,
                    "channel_type": "G" if channel.is_private else "C",
                    "team": self.workspace.team_id,
                    "inviter": inviter.id,
                }
            )

    def react(
        self, user_id: str, message: Message, name: str, *, remove: bool = False, **kwargs: Any
    ) -> SentEvent | None:
        """A person adds (or removes) an emoji reaction on a message. Eddy hears of it when it
        subscribed and is in the conversation; the event sent is returned (to send it again as
        Slack's retry would, with `redeliver`)."""
        user = self._user(user_id)
        name = name.strip(":")
        name = ALIASES.get(name, name)  # Slack's events carry one name per emoji
        with self.workspace.lock:
            users = message.reactions.setdefault(name, [])
            if remove:
                if user.id not in users:
                    raise SandboxError(f"{user.name} has no :{name}: on that message")
                users.remove(user.id)
                if not users:
                    del message.reactions[name]
            else:
                if user.id in users:
                    raise SandboxError(f"{user.name} already reacted with :{name}:")
                users.append(user.id)
            self.workspace.touch(message)
        kind = "reaction_removed" if remove else "reaction_added"
        channel = self.workspace.channels[message.channel]
        if not self._subscribed(kind) or self.workspace.bot.id not in channel.members:
            return None
        event: dict[str, Any] = {
            "type": kind,
            "user": user.id,
            "reaction": name,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "event_ts": self.workspace.next_ts(),
        }
        if message.user:  # a webhook's message has no author, and Slack leaves item_user out
            event["item_user"] = message.user
        sent = SentEvent(event, self.workspace.next_id("Ev"))
        sent.delivery = self.event(event, event_id=sent.event_id, **kwargs)
        return sent

    def redeliver(self, sent: SentEvent, *, retry_num: int = 1, **kwargs: Any) -> Delivery:
        """Send an event again, as Slack retries one it thinks was not received."""
        return self.event(sent.event, event_id=sent.event_id, retry_num=retry_num, **kwargs)

    def post_from_integration(self, channel_id: str, text: str) -> Message:
        """A message from an incoming webhook: no person wrote it."""
        return self.workspace.add_message(
            Message(
                channel=channel_id,
                ts=self.workspace.next_ts(),
                text=text,
                user="",
                bot_id="B0WEBHOOK",
            )
        )

    def open_home(self, user_id: str) -> View | None:
        """A person opens Eddy's Home tab; returns the view Eddy published, if any."""
        user = self._user(user_id)
        current = self.workspace.homes.get(user.id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": self.workspace.im_with(user.id).id,
            "tab": "home",
        }
        if current is not None:
            event["view"] = current.to_api(self.workspace.team_id, self.workspace.app_id, "")
        if self._subscribed("app_home_opened"):
            self.event(event)
        return self.workspace.homes.get(user.id)

    # --- interactivity ---------------------------------------------------------------------

    def elements(self, blocks: list[dict[str, Any]]) -> Iterator[tuple[dict, dict]]:
        """Every element in `blocks` that sends block_actions when used, as (block, element):
        those of actions blocks, section accessories, and the element of an input block
        with `dispatch_action: true` (other inputs wait for the view's submission)."""
        for block in blocks:
            kind = block.get("type")
            if kind == "actions":
                yield from ((block, element) for element in block.get("elements", []))
            elif kind == "input" and block.get("dispatch_action") and block.get("element"):
                yield block, block["element"]
            elif block.get("accessory"):
                yield block, block["accessory"]

    def buttons(self, blocks: list[dict[str, Any]]) -> Iterator[tuple[dict, dict]]:
        """Every button in `blocks`, as (block, element)."""
        for block, element in self.elements(blocks):
            if element.get("type") == "button":
                yield block, element

    def press(self, user_id: str, where: Message | View, button: str, **kwargs: Any) -> Delivery:
        """Press the button whose label or action_id is `button` on a message or a view."""
        for block, element in self.buttons(where.blocks):
            label = element.get("text", {}).get("text", "")
            if button in (label, element.get("action_id")):
                return self.press_element(user_id, where, block, element, **kwargs)
        raise SandboxError(f"no button {button!r} there")

    def press_element(
        self, user_id: str, where: Message | View, block: dict, element: dict, **kwargs: Any
    ) -> Delivery:
        user = self._user(user_id)
        action = {
            "type": element.get("type", "button"),
            "action_id": element.get("action_id", ""),
            "block_id": block.get("block_id", ""),
            "text": element.get("text", {}),
            "value": element.get("value", ""),
            "action_ts": self._action_ts(),
        }
        return self._block_action(user, where, action, **kwargs)

    def enter(self, user_id: str, view: View, action_id: str, text: str, **kwargs: Any) -> Delivery:
        """Type `text` into the plain_text_input `action_id` of a view and press Enter.

        Slack sends block_actions for it only when its input block has `dispatch_action: true`
        and the element dispatches on Enter (its `dispatch_action_config` may ask for every
        character instead); otherwise the text just waits for the view's submission. The
        typed text stays in the view's state, as Slack's client keeps it.
        """
        user = self._user(user_id)
        view = self._on_screen(user, view)
        found = [
            (block, block["element"])
            for block in view.blocks
            if block.get("type") == "input"
            and block.get("element", {}).get("action_id") == action_id
        ]
        if not found or found[0][1].get("type") != "plain_text_input":
            raise SandboxError(f"no plain_text_input {action_id!r} there")
        block, element = found[0]
        config = element.get("dispatch_action_config") or {}
        if not block.get("dispatch_action") or "on_enter_pressed" not in config.get(
            "trigger_actions_on", ["on_enter_pressed"]
        ):
            raise SandboxError(f"pressing Enter in {action_id!r} sends nothing to the app")
        block_id = str(block.get("block_id", ""))
        with self.workspace.lock:
            view.entered.setdefault(block_id, {})[action_id] = text
        action = {
            "type": "plain_text_input",
            "action_id": action_id,
            "block_id": block_id,
            "value": text,
            "action_ts": self._action_ts(),
        }
        return self._block_action(user, view, action, **kwargs)

    def choose(
        self, user_id: str, where: Message | View, action_id: str, value: str, **kwargs: Any
    ) -> Delivery:
        """Pick the option `value` (or the option labelled so) of the static_select, overflow
        menu or radio buttons `action_id` on a message or a view.

        Slack reports the pick as `selected_option`: a select's option as {text, value}, an
        overflow menu's or radio button's option as it was given. In a view the pick stays in
        its state, as Slack's client keeps it.
        """
        user = self._user(user_id)
        if isinstance(where, View):
            where = self._on_screen(user, where)
        elif not where.visible_to(user.id, self.workspace.channels[where.channel]):
            raise SandboxError(f"{user.name} cannot see that message")
        found = [
            (block, element)
            for block, element in self.elements(where.blocks)
            if element.get("action_id") == action_id and element.get("type") in OPTION_PICKERS
        ]
        if not found:
            raise SandboxError(f"no select, overflow menu or radio buttons {action_id!r} there")
        block, element = found[0]
        option = find_option(element, value)
        if option is None:
            raise SandboxError(f"{action_id!r} has no option {value!r}")
        kind = element["type"]
        picked = {"text": option["text"], "value": option["value"]}
        action = {
            "type": kind,
            "action_id": action_id,
            "block_id": block.get("block_id", ""),
            "selected_option": picked if kind == "static_select" else option,
            "action_ts": self._action_ts(),
        }
        if kind == "static_select" and element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        if isinstance(where, View):
            with self.workspace.lock:
                where.entered.setdefault(action["block_id"], {})[action_id] = option["value"]
        return self._block_action(user, where, action, **kwargs)

    def _on_screen(self, user: User, view: View) -> View:
        """The view as it is now on `user`'s screen: their Home tab, or their modal on top
        (the ones under it cannot be used until it closes). A view object kept from before a
        republish or an update is followed to what the person sees now."""
        home, modal = self.workspace.homes.get(user.id), self.modal(user.id)
        for current in (home, modal):
            if current is not None and current.id == view.id and current.user == user.id:
                return current
        raise SandboxError(f"that view is not on {user.name}'s screen")

    def _block_action(
        self, user: User, where: Message | View, action: dict[str, Any], **kwargs: Any
    ) -> Delivery:
        """Send block_actions for `action` where it happened: for a message with its channel
        and a response_url that replaces the message by default, for a view with its state."""
        payload = self._interaction("block_actions", user)
        payload["actions"] = [action]
        if isinstance(where, Message):
            channel = self.workspace.channels[where.channel]
            ephemeral = where.ephemeral_to is not None
            payload["container"] = {
                "type": "message",
                "message_ts": where.ts,
                "channel_id": channel.id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel.id, "name": channel.name}
            if not ephemeral:
                payload["message"] = where.to_api(self.workspace.team_id)
            token = self.api.new_response_url(
                ResponseUrl(user.id, channel.id, where, replace_by_default=True)
            )
            payload["response_url"] = f"{self.server.base_url}/respond/{token}"
        else:
            payload["container"] = {"type": "view", "view_id": where.id}
            payload["view"] = self._view_with_state(where, {})
        return self.send_payload(payload, **kwargs)

    def _view_with_state(self, view: View, values: dict[str, Any]) -> dict[str, Any]:
        api_view = view.to_api(
            self.workspace.team_id, self.workspace.app_id, self.workspace.bot.bot_id or ""
        )
        api_view["state"] = {"values": input_state(view.blocks, values, view.entered)}
        return api_view

    def modal(self, user_id: str) -> View | None:
        """The modal on top of this person's screen, if one is open."""
        stack = self.workspace.modals.get(user_id) or []
        return stack[-1] if stack else None

    def submit(self, user_id: str, values: dict[str, Any] | None = None, **kwargs: Any) -> Delivery:
        """Submit the open modal; `values` maps an input's action_id (or block_id) to its value.

        The app's `response_action` is applied as Slack would: `errors` keeps the modal open
        (read them from the returned delivery), `update`/`push`/`clear` change the stack, and
        no action closes the modal.
        """
        user = self._user(user_id)
        view = self.modal(user.id)
        if view is None:
            raise SandboxError(f"{user.name} has no modal open")
        payload = self._interaction("view_submission", user)
        payload |= {"view": self._view_with_state(view, values or {}), "response_urls": []}
        with self.workspace.lock:
            remember(view, values or {})
        delivery = self.send_payload(payload, settle=False, **kwargs)
        if delivery.status == 200:
            self._apply_view_response(user.id, view, delivery.json())
        self.target.settle()  # type: ignore[union-attr]
        return delivery

    def _apply_view_response(self, user_id: str, view: View, reply: dict[str, Any]) -> None:
        """Apply a submission's `response_action` as Slack does. A view Slack refuses, or
        errors for blocks the modal lacks, leave the modal as it was (Slack's client shows
        the person a generic error) and are recorded as a refused "response_action"."""
        try:
            with self.workspace.lock:
                self._apply_response_action(user_id, view, reply)
        except SlackError as error:
            self.api.refused_reply("response_action", reply, error)

    def _apply_response_action(self, user_id: str, view: View, reply: dict[str, Any]) -> None:
        stack = self.workspace.modals.get(user_id, [])
        action = reply.get("response_action")
        if action == "errors":
            check_submission_errors(view, reply.get("errors"))
            return
        if action in ("update", "push"):
            view_given = reply.get("view")
            validate_view(view_given if isinstance(view_given, dict) else {})
        if action == "clear":
            stack.clear()
        elif action == "update":
            view.payload, view.seq = reply["view"], self.workspace.next_seq()
        elif action == "push":
            self.api._open_modal(user_id, reply["view"], push=True)
        elif view in stack:
            stack.remove(view)

    def close(self, user_id: str) -> None:
        """Close the open modal with its Cancel button (Eddy is told if it asked to be)."""
        view = self.modal(user_id)
        if view is None:
            return
        with self.workspace.lock:
            self.workspace.modals[user_id].remove(view)
        if view.payload.get("notify_on_close"):
            self.send_payload(
                {
                    "type": "view_closed",
                    "team": self._team(),
                    "user": {"id": user_id},
                    "api_app_id": self.workspace.app_id,
                    "view": self._view_with_state(view, {}),
                    "is_cleared": False,
                }
            )

    # --- what people see -------------------------------------------------------------------

    def messages(self, channel_id: str, *, thread_ts: str | None = None) -> list[Message]:
        return self.workspace.history(channel_id, thread_ts=thread_ts)

    def ephemerals(self, user_id: str) -> list[Message]:
        with self.workspace.lock:
            return [
                m for m in self.workspace.messages if m.ephemeral_to == user_id and not m.deleted
            ]

    def dms(self, user_id: str) -> list[Message]:
        """Eddy's DM conversation with this person."""
        return self.messages(self.workspace.im_with(user_id).id)

    def home(self, user_id: str) -> View | None:
        return self.workspace.homes.get(user_id)

    def acknowledgements(self) -> list[tuple[str, dict[str, Any]]]:
        """(request, reply) for every request the app answered with a body (a slash command's
        reply, a view submission's `response_action`), as Slack would take it: JSON, or a
        plain body as a message's text."""
        with self.workspace.lock:
            sent = list(self.sent)
        replies = []
        for request, delivery in sent:
            if delivery.status != 200 or not delivery.body.strip():
                continue
            reply = delivery.json() if delivery.body.lstrip().startswith("{") else None
            replies.append((request, reply if reply is not None else {"text": delivery.body}))
        return replies

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self.api._lock:
            return [c for c in self.api.calls if method is None or c.method == method]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Poll until `predicate()` is truthy (for an app in another process); return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.02)
        raise SandboxError("timed out waiting for the app")


def check_submission_errors(view: View, errors: Any) -> None:
    """Slack shows a submission's `errors` under the input blocks they name; errors that name
    no input block of the modal (or are not text) are refused, and the person sees none."""
    inputs = {block.get("block_id") for block in view.blocks if block.get("type") == "input"}
    if not isinstance(errors, dict) or not errors:
        raise SlackError("invalid_arguments", errors=["[ERROR] must provide errors"])
    unknown = [
        f"[ERROR] no input block {key!r} in the view [json-pointer:/errors/{key}]"
        for key, text in errors.items()
        if key not in inputs or not isinstance(text, str) or not text
    ]
    if unknown:
        raise SlackError("invalid_arguments", errors=unknown)


def input_state(
    blocks: list[dict[str, Any]],
    values: dict[str, Any],
    entered: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Slack's `view.state.values` for the inputs in `blocks`, filled from `values`.

    A value is looked up by the element's action_id, then the block's block_id; then comes
    what the person already `entered` in the view; unfilled inputs keep their initial value.
    Selects take an option value (or a list of them), people and conversation pickers IDs.
    """
    state: dict[str, Any] = {}
    for block, element, given in _inputs(blocks, values):
        action_id, block_id = element.get("action_id", ""), block.get("block_id", "")
        if given is None:
            given = (entered or {}).get(block_id, {}).get(action_id)
        state.setdefault(block_id, {})[action_id] = element_state(element, given)
    return state


def _inputs(
    blocks: list[dict[str, Any]], values: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Any]]:
    """Each input block, its element and the value `values` gives it (None: not given)."""
    for block in blocks:
        if block.get("type") != "input":
            continue
        element = block.get("element", {})
        given = values.get(element.get("action_id", ""), values.get(block.get("block_id", "")))
        yield block, element, given


def _message_event(channel: Channel) -> str:
    """The Events API subscription a channel's messages come under."""
    if channel.is_im:
        return "message.im"
    return "message.groups" if channel.is_private else "message.channels"


def _channel_type(channel: Channel) -> str:
    return "im" if channel.is_im else "group" if channel.is_private else "channel"


def remember(view: View, values: dict[str, Any]) -> None:
    """Keep what a submission filled in: a modal the app answers with errors (or updates)
    still shows it, as Slack's client does."""
    for block, element, given in _inputs(view.blocks, values):
        if given is not None:
            action_id, block_id = element.get("action_id", ""), block.get("block_id", "")
            view.entered.setdefault(block_id, {})[action_id] = given


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """An element's options, flattened from its `option_groups` when it has those."""
    if element.get("option_groups"):
        return [o for group in element["option_groups"] for o in group.get("options", [])]
    return list(element.get("options", []))


def find_option(element: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    """The option whose value is `wanted`, or else the one labelled so."""
    options = options_of(element)
    by_value = next((o for o in options if o.get("value") == wanted), None)
    return by_value or next((o for o in options if o.get("text", {}).get("text") == wanted), None)


def element_state(element: dict[str, Any], given: Any) -> dict[str, Any]:
    """One input's state as Slack sends it, from the value given (None: its initial one).

    A value no person could pick (an option the element lacks, a time not "HH:MM") raises
    SandboxError, since Slack's client offers only valid ones."""
    kind = element.get("type", "")
    if kind in {"static_select", "radio_buttons"}:
        return {"type": kind, "selected_option": _one_option(element, given)}
    if kind in {"multi_static_select", "checkboxes"}:
        if given is None:
            return {"type": kind, "selected_options": element.get("initial_options", [])}
        chosen = [given] if isinstance(given, str) else list(given)
        return {"type": kind, "selected_options": [_one_option(element, v) for v in chosen]}
    if kind in SINGLE_PICKS:
        key, initial = SINGLE_PICKS[kind]
        if given is not None:
            _check_pick(kind, given)
        return {"type": kind, key: given if given is not None else element.get(initial)}
    if kind in MULTI_PICKS:
        key, initial = MULTI_PICKS[kind]
        chosen = [given] if isinstance(given, str) else given
        return {"type": kind, key: list(chosen if chosen is not None else element.get(initial, []))}
    value = given if given is not None else element.get("initial_value")
    return {"type": kind or "plain_text_input", "value": value}


def _one_option(element: dict[str, Any], given: Any) -> dict[str, Any] | None:
    if given is None:
        return element.get("initial_option")
    option = next((o for o in options_of(element) if o.get("value") == given), None)
    if option is None:
        raise SandboxError(f"{element.get('action_id', 'that input')!r} has no option {given!r}")
    return option


def _check_pick(kind: str, given: Any) -> None:
    """Refuse a date or time Slack's pickers could not send."""
    if kind == "timepicker" and not PICKED_TIME.match(str(given)):
        raise SandboxError(f"a timepicker sends a time like 09:30, not {given!r}")
    if kind == "datepicker":
        try:
            date.fromisoformat(str(given))
        except ValueError:
            raise SandboxError(
                f"a datepicker sends a date like 2026-03-14, not {given!r}"
            ) from None
    if kind == "datetimepicker" and not isinstance(given, int):
        raise SandboxError(f"a datetimepicker sends a Unix time in seconds, not {given!r}")
