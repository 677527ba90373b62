"""What Eddy knows of the people it deals with, remembered for a while.

A burst of reactions names the same few people again and again; asking Slack each time would
spend Slack's users.info allowance (about 100 calls a minute) in seconds. Each person is
remembered for an hour, and `user_change` events refresh them at once.

    person = runtime.people.get("U0ALEX001", look_up=lambda user_id: ...)   # None: not found
    runtime.people.remember(Person(...))                                     # from user_change
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: After this long Eddy asks Slack again (a changed time zone also arrives as user_change).
REMEMBER_SECONDS = 3600.0
#: Slack's own bot, which has a user ID but is not a person.
SLACKBOT = "USLACKBOT"
#: Where a forgotten person's user ID stood (`app.py forget user`), a pseudonym with this
#: prefix stands: it keeps counts and uniqueness, names nobody, and reads "former member".
FORMER_MEMBER_PREFIX = "former-"
FORMER_MEMBER = "former member"
#: The pseudonym's random part: 24 hex digits (96 bits) after `former-`, within the 32
#: characters a user ID column holds.
PSEUDONYM_BYTES = 12
#: A pseudonym wherever it stands (in a statement, say).
PSEUDONYM = re.compile(
    rf"{re.escape(FORMER_MEMBER_PREFIX)}[0-9a-f]{{{2 * PSEUDONYM_BYTES}}}(?![0-9A-Za-z])"
)


def is_former_member(user_id: str | None) -> bool:
    return user_id is not None and user_id.startswith(FORMER_MEMBER_PREFIX)


@dataclass(frozen=True)
class Person:
    id: str
    #: IANA time zone; "UTC" when Slack does not say.
    tz: str = "UTC"
    is_bot: bool = False
    #: False for a deactivated account.
    active: bool = True
    #: A workspace admin or owner (community managers too, if the settings say so).
    is_admin: bool = False
    #: The name people know them by (Slack's real name; their ID when Slack gives none).
    name: str = ""
    #: A guest account: multi-channel (Slack's is_restricted) or single-channel
    #: (is_ultra_restricted, `single_channel_guest`).
    guest: bool = False
    single_channel_guest: bool = False

    @property
    def is_human(self) -> bool:
        return not self.is_bot and self.id != SLACKBOT


class People:
    def __init__(self, remember_seconds: float = REMEMBER_SECONDS) -> None:
        self._known: dict[str, tuple[Person | None, float]] = {}
        self._lock = threading.Lock()
        self._remember_seconds = remember_seconds

    def get(self, user_id: str, *, look_up: Callable[[str], Person | None]) -> Person | None:
        """The person, from memory or `look_up` (None: Slack knows no such person)."""
        now = time.monotonic()
        with self._lock:
            known = self._known.get(user_id)
        if known is not None and known[1] > now:
            return known[0]
        person = look_up(user_id)
        with self._lock:
            self._known[user_id] = (person, now + self._remember_seconds)
        return person

    def known(self, user_id: str) -> Person | None:
        """The person as last looked up, if that was within the hour (no look-up here)."""
        with self._lock:
            known = self._known.get(user_id)
        return known[0] if known is not None and known[1] > time.monotonic() else None

    def remember(self, person: Person) -> None:
        with self._lock:
            self._known[person.id] = (person, time.monotonic() + self._remember_seconds)
