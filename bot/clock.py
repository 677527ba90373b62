"""Where Eddy gets the time: the system clock in production, a pinned, movable one elsewhere.

Domain functions take `now` as a parameter; handlers and jobs read it from the runtime's clock.
Tests, benchmarks and the console sandbox use a `ManualClock`: it starts at an instant it is
given and moves only when told (`advance`), so nothing they check depends on the day they run,
and the console can jump ahead a day to see scheduled work fire as it would.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands at `start` until `advance` moves it forward; it never reads the
    system clock.

        clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        clock.advance(timedelta(days=1))     # Tuesday, 09:00 UTC
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("a clock's start needs a time zone (e.g. +00:00)")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._now += delta
            return self._now
