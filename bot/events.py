"""Slack delivers an event again when it did not see a fast enough 200; Eddy acts once.

if is_first_delivery(runtime, team_id="T1", event_id="Ev1", event_type="reaction_added"):
    ...  # handle it
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.runtime import Runtime
from store.events import claim_event, forget_events_before

#: Slack retries three times within about an hour; a day of memory is plenty.
EVENT_MEMORY = timedelta(days=1)


def is_first_delivery(runtime: Runtime, *, team_id: str, event_id: str, event_type: str) -> bool:
    with runtime.store.session() as session:
        return claim_event(
            session,
            team_id=team_id,
            event_id=event_id,
            event_type=event_type,
            received_at=runtime.clock.now(),
        )


def forget_old_events(runtime: Runtime, now: datetime) -> int:
    """Scheduled housekeeping: drop delivery records Slack can no longer retry."""
    with runtime.store.session() as session:
        return forget_events_before(session, cutoff=now - EVENT_MEMORY)
