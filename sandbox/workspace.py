"""The state of a pretend Slack workspace: people, channels, messages, views, reactions.

The stand-in's Web API changes it and reads from it; tests and the console look at it to see
what a person would see. One lock guards it, since the Web API serves from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, SystemClock


@dataclass
class User:
    """A person (or the bot). `deleted` is a deactivated account; `messages_tab_disabled` is
    someone who turned off messages from apps, so Eddy cannot post in their DM."""

    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    is_bot: bool = False
    is_admin: bool = False
    bot_id: str | None = None
    deleted: bool = False
    messages_tab_disabled: bool = False
    #: A guest: multi-channel (`is_restricted`) or single-channel (`is_ultra_restricted`).
    is_restricted: bool = False
    is_ultra_restricted: bool = False

    def to_api(self, team_id: str, now: datetime) -> dict[str, Any]:
        local = now.astimezone(ZoneInfo(self.tz))
        offset = local.utcoffset()
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_label": local.tzname() or self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted or self.is_ultra_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "bot_id": self.bot_id,
            },
        }


@dataclass
class Channel:
    """A channel (public, or private: only its members see it) or a DM with Eddy."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    im_user: str | None = None
    is_private: bool = False

    @property
    def is_public(self) -> bool:
        return not self.is_im and not self.is_private

    def to_api(self, viewer: str) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_private": self.is_private,
            "is_im": False,
            "is_member": viewer in self.members,
            "num_members": len(self.members),
        }


@dataclass
class UserGroup:
    """A user group (`@support-team`): its members, as usergroups.users.list gives them.
    A disabled group (`disabled`) is listed only to those who ask for disabled ones."""

    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False

    def to_api(self, team_id: str, *, include_users: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": "",
            "handle": self.handle,
            "is_external": False,
            "date_create": 0,
            "date_update": 0,
            "date_delete": 1 if self.disabled else 0,
            "auto_type": None,
            "created_by": "",
            "updated_by": "",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
        }
        if include_users:
            found["users"] = list(self.users)
        return found


@dataclass
class SharedFile:
    """A file uploaded the way `files_upload_v2` does it: an upload URL is issued
    (files.getUploadURLExternal), the bytes are POSTed to it, and files.completeUploadExternal
    shares it into `channels` (private to its uploader until then)."""

    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    completed: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "application/octet-stream",
            "filetype": self.name.rpartition(".")[2] if "." in self.name else "binary",
            "user": self.user,
            "size": len(self.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "channels": [],
            "groups": [],
            "ims": list(self.channels),
        }


@dataclass
class Message:
    """A message as people see it; `ephemeral_to` marks one only that person sees.

    `metadata` is Slack's message metadata (`{"event_type", "event_payload"}`): invisible to
    people, returned by the Web API only to those who ask for it (`include_all_metadata`)."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    ephemeral_to: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: bool = False
    deleted: bool = False
    metadata: dict[str, Any] | None = None
    #: Files shared with the message (files.completeUploadExternal posts one such message).
    files: list[SharedFile] = field(default_factory=list)
    seq: int = 0

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def visible_to(self, user: str, channel: Channel) -> bool:
        if self.deleted:
            return False
        if self.ephemeral_to is not None:
            return self.ephemeral_to == user
        return user in channel.members or channel.is_public

    def to_api(self, team_id: str, *, include_metadata: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "user": self.user,
            "team": team_id,
        }
        if self.blocks:
            payload["blocks"] = self.blocks
        if self.bot_id:
            payload["bot_id"] = self.bot_id
        if self.thread_ts:
            payload["thread_ts"] = self.thread_ts
        if self.reactions:
            payload["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.edited:
            payload["edited"] = {"user": self.user, "ts": self.ts}
        if include_metadata and self.metadata is not None:
            payload["metadata"] = self.metadata
        if self.files:
            payload["files"] = [shared.to_api() for shared in self.files]
            payload["upload"] = True
        return payload


@dataclass
class View:
    """A published Home tab or an open modal.

    `entered` is what the person typed or picked in it so far, by block_id then action_id:
    Slack's client keeps it while the view stays up (also across `views.update` for inputs
    whose block_id and action_id stay the same), and sends it as `state.values`."""

    id: str
    user: str
    type: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    seq: int = 0
    entered: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.payload.get("blocks", []))

    @property
    def callback_id(self) -> str:
        return str(self.payload.get("callback_id", ""))

    def title(self) -> str:
        title = self.payload.get("title") or {}
        return str(title.get("text", "")) if isinstance(title, dict) else str(title)

    def to_api(self, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        return {
            **self.payload,
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "hash": self.hash,
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": app_id,
            "bot_id": bot_id,
            "state": {"values": {}},
            "private_metadata": self.payload.get("private_metadata", ""),
            "callback_id": self.payload.get("callback_id", ""),
            "external_id": self.payload.get("external_id", ""),
        }


@dataclass
class Workspace:
    """Everything in the workspace, with indexes so that a big one stays fast.

    `_ims` (person → their DM with Eddy) and `_by_channel` (channel → its messages, oldest
    first) are kept in step by `im_with` and `add_message`, so that posting to one of 10,000
    people or reading one channel among 10,000 never scans them all. `messages` keeps every
    message in order for `seen_by`; add messages only through `add_message`.
    """

    team_id: str
    domain: str
    app_id: str
    bot: User
    users: dict[str, User]
    channels: dict[str, Channel]
    clock: Clock = field(default_factory=SystemClock)
    messages: list[Message] = field(default_factory=list)
    homes: dict[str, View] = field(default_factory=dict)
    modals: dict[str, list[View]] = field(default_factory=dict)
    #: Every file uploaded, by ID (shared or still private to its uploader).
    files: dict[str, SharedFile] = field(default_factory=dict)
    #: User groups (`@support-team`), by ID.
    groups: dict[str, UserGroup] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Callable[[], int] = field(default_factory=lambda: count(1).__next__)
    _last_ts: float = 0.0
    _ims: dict[str, Channel] = field(default_factory=dict, init=False, repr=False)
    _by_channel: dict[str, list[Message]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for channel in self.channels.values():
            if channel.is_im and channel.im_user is not None:
                self._ims.setdefault(channel.im_user, channel)
        for message in self.messages:
            self._by_channel.setdefault(message.channel, []).append(message)

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{self._ids():08d}"

    def next_seq(self) -> int:
        return self._ids()

    def next_ts(self) -> str:
        """A message timestamp from the workspace clock, strictly increasing."""
        with self.lock:
            stamp = max(self.clock.now().timestamp(), self._last_ts + 0.000001)
            self._last_ts = stamp
            return f"{stamp:.6f}"

    def user(self, user_id: str) -> User | None:
        return self.bot if user_id == self.bot.id else self.users.get(user_id)

    def add_user(self, user: User) -> User:
        """A new person in the workspace, in no channel yet (their DM opens on first use)."""
        with self.lock:
            if user.id == self.bot.id or user.id in self.users:
                raise ValueError(f"{user.id} is already in the workspace")
            self.users[user.id] = user
            return user

    def find_user(self, name: str) -> User | None:
        name = name.lstrip("@").lower()
        everyone = [self.bot, *self.users.values()]
        return next((u for u in everyone if u.id.lower() == name or u.name == name), None)

    def find_channel(self, name: str) -> Channel | None:
        name = name.lstrip("#").lower()
        return next(
            (c for c in self.channels.values() if c.id.lower() == name or c.name == name), None
        )

    def im_with(self, user_id: str) -> Channel:
        """The DM between Eddy and `user_id`, opened on first use."""
        with self.lock:
            found = self._ims.get(user_id)
            if found is not None:
                return found
            channel = Channel(
                id=self.next_id("D"),
                name=f"dm-{user_id}",
                members={user_id, self.bot.id},
                is_im=True,
                im_user=user_id,
            )
            self.channels[channel.id] = channel
            self._ims[user_id] = channel
            return channel

    def add_message(self, message: Message) -> Message:
        with self.lock:
            message.seq = self.next_seq()
            self.messages.append(message)
            self._by_channel.setdefault(message.channel, []).append(message)
            return message

    def messages_in(self, channel_id: str) -> list[Message]:
        """Every message of one channel, oldest first, deleted and ephemeral ones too."""
        with self.lock:
            return list(self._by_channel.get(channel_id, ()))

    def touch(self, message: Message) -> None:
        """Mark a message as changed, so the console shows it again."""
        with self.lock:
            message.seq = self.next_seq()

    def find_message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            in_channel = self._by_channel.get(channel, [])
            return next((m for m in reversed(in_channel) if m.ts == ts and not m.deleted), None)

    def history(self, channel: str, *, thread_ts: str | None = None) -> list[Message]:
        """Messages of a channel everyone there sees (top level, or one thread)."""
        found = [m for m in self.messages_in(channel) if not m.deleted and m.ephemeral_to is None]
        if thread_ts is None:
            return [m for m in found if not m.is_reply]
        return [m for m in found if m.ts == thread_ts or m.thread_ts == thread_ts]

    def seen_by(self, user: str, *, after_seq: int = 0) -> list[Message]:
        """Everything `user` can see that appeared or changed after `after_seq`."""
        with self.lock:
            return [
                m
                for m in self.messages
                if m.seq > after_seq and m.visible_to(user, self.channels[m.channel])
            ]


def sandbox_workspace(clock: Clock | None = None) -> Workspace:
    """A small company: Eddy, four colleagues in four time zones, three channels, and one
    user group (@support-team: Sam and Kim)."""
    bot = User(id="U0EDDYBOT", name="eddy", real_name="Eddy", is_bot=True, bot_id="B0EDDYBOT")
    people = [
        User("U0ALEX001", "alex", "Alex Morgan", "America/New_York", is_admin=True),
        User("U0SAM0002", "sam", "Sam Okafor", "Europe/Berlin"),
        User("U0KIM0003", "kim", "Kim Tanaka", "Asia/Tokyo"),
        User("U0RIO0004", "rio", "Rio Silva", "America/Sao_Paulo"),
    ]
    everyone = {person.id for person in people}
    channels = [
        Channel("C0GENERAL", "general", everyone | {bot.id}),
        Channel("C0ITHELP1", "it-help", everyone | {bot.id}),
        Channel("C0RANDOM1", "random", set(everyone)),
    ]
    return Workspace(
        team_id="T0SANDBOX",
        domain="eddy-sandbox",
        app_id="A0EDDYAPP",
        bot=bot,
        users={person.id: person for person in people},
        channels={channel.id: channel for channel in channels},
        clock=clock or SystemClock(),
        groups={
            "S0SUPPORT1": UserGroup(
                "S0SUPPORT1", "support-team", "Support team", ["U0SAM0002", "U0KIM0003"]
            )
        },
    )
