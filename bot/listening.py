"""Help channels: Eddy answers the questions people ask there, without being mentioned.

A community manager (or a topic's manager, for the topic's own channel) turns listening on
per channel. In such a channel Eddy considers each top-level message from a person; what the
question detector (`bot.question_detector`) takes for a question is claimed once, searched
and logged like every question (surface "channel"); a confident answer goes in its thread,
within the channel's hourly limit. What Eddy could not answer, or whose answer was taken
away, is offered to the experts by DM once nobody has replied in the thread for the
channel's delay. No Slack here: the handlers post, delete and DM.

    on = turn_on(runtime, user_id="U1", channel_id="C1")
    picked = consider(runtime, channel_id="C1", message_ts="1.2", user_id="U2",
                      text="how do I get a second monitor?")
    if picked is not None and picked.post:
        ...                                   # post picked.answer in the thread, then:
        replied(runtime, row_id=picked.row_id, reply_ts="1.3")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot import networks
from bot.ask import Answer, Rating, ask, rate
from bot.content.networks import Topic
from bot.question_detector import is_question
from bot.runtime import Runtime
from store import knowledge as question_rows
from store import listening as rows
from store import networks as routed_rows

log = logging.getLogger(__name__)

SURFACE = question_rows.CHANNEL
DEFAULT_FOLLOW_UP_MINUTES = 30
DEFAULT_HOURLY_LIMIT = 20
DEFAULT_DISMISS_EMOJI = "x"
#: The bounds a manager may set (a day's wait at most; a limit a busy channel can bear).
FOLLOW_UP_MINUTES = range(1, 24 * 60 + 1)
HOURLY_LIMITS = range(1, 201)


@dataclass(frozen=True)
class Listening:
    """How Eddy listens in one channel."""

    channel_id: str
    turned_on_by: str
    turned_on_at: datetime
    follow_up_minutes: int
    hourly_limit: int
    dismiss_emoji: str


class Change(StrEnum):
    ON = "on"  # listening now, where it was not
    UPDATED = "updated"  # was listening; how it listens changed (or stayed)
    OFF = "off"  # stopped listening
    NOT_LISTENING = "not_listening"  # turned off where it was not on
    NOT_ALLOWED = "not_allowed"  # only community managers, or the topic's managers


@dataclass(frozen=True)
class Picked:
    """A message taken for a question: `post` the answer in its thread, or stay quiet."""

    row_id: int
    answer: Answer
    post: bool


@dataclass(frozen=True)
class Taken:
    """Eddy's reply to take away from a question's thread."""

    channel_id: str
    reply_ts: str


@dataclass(frozen=True)
class FollowUp:
    """A question nobody has answered: offer the asker the experts (handed to notify)."""

    asker: str
    question_id: int
    question: str
    channel_id: str
    message_ts: str
    topic: Topic | None


def _view(row: rows.ListeningChannel) -> Listening:
    return Listening(
        channel_id=row.channel_id,
        turned_on_by=row.turned_on_by,
        turned_on_at=row.turned_on_at,
        follow_up_minutes=row.follow_up_minutes,
        hourly_limit=row.hourly_limit,
        dismiss_emoji=row.dismiss_emoji,
    )


# --- where Eddy listens -------------------------------------------------------------------


def may_manage(runtime: Runtime, user_id: str, channel_id: str) -> bool:
    """Community managers manage every channel; a topic's managers manage its channel."""
    if runtime.is_manager(user_id):
        return True
    return any(
        topic.channel == channel_id and user_id in topic.managers
        for topic in networks.topics(runtime)
    )


def allowed(runtime: Runtime, user_id: str, channel_id: str | None, doing: str) -> bool:
    """Whether the person may do this to the channel's listening (any channel's, for None: a
    form to choose one); a refusal is logged, since the buttons are only shown to managers."""
    if (channel_id is None and manages_any(runtime, user_id)) or (
        channel_id is not None and may_manage(runtime, user_id, channel_id)
    ):
        return True
    log.warning("Refused %s in %s to %s, who may not manage it", doing, channel_id, user_id)
    return False


def manages_any(runtime: Runtime, user_id: str) -> bool:
    """Whether the person may turn listening on anywhere (to offer it to them)."""
    return runtime.is_manager(user_id) or any(
        user_id in topic.managers and topic.channel for topic in networks.topics(runtime)
    )


def channel(runtime: Runtime, channel_id: str) -> Listening | None:
    with runtime.store.session() as session:
        row = rows.channel(session, team_id=runtime.team_id, channel_id=channel_id)
        return _view(row) if row is not None else None


def channels(runtime: Runtime) -> list[Listening]:
    with runtime.store.session() as session:
        return [_view(row) for row in rows.channels(session, team_id=runtime.team_id)]


def turn_on(
    runtime: Runtime,
    *,
    user_id: str,
    channel_id: str,
    follow_up_minutes: int | None = None,
    hourly_limit: int | None = None,
    dismiss_emoji: str | None = None,
) -> Change:
    """Listen in the channel (or change how); values left out keep what they were."""
    if not allowed(runtime, user_id, channel_id, "listening"):
        return Change.NOT_ALLOWED
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("follow_up_minutes", follow_up_minutes),
            ("hourly_limit", hourly_limit),
            ("dismiss_emoji", dismiss_emoji),
        )
        if value is not None
    }
    with runtime.store.session() as session:
        new = rows.turn_on(
            session,
            team_id=runtime.team_id,
            channel_id=channel_id,
            user_id=user_id,
            at=runtime.clock.now(),
            changes=changes,
        )
    return Change.ON if new else Change.UPDATED


def turn_off(runtime: Runtime, *, user_id: str, channel_id: str) -> Change:
    if not allowed(runtime, user_id, channel_id, "stopping listening"):
        return Change.NOT_ALLOWED
    with runtime.store.session() as session:
        stopped = rows.turn_off(session, team_id=runtime.team_id, channel_id=channel_id)
    return Change.OFF if stopped else Change.NOT_LISTENING


# --- questions in a listening channel ---------------------------------------------------------


def consider(
    runtime: Runtime,
    *,
    channel_id: str,
    message_ts: str,
    user_id: str,
    text: str,
    query: str | None = None,
) -> Picked | None:
    """A person's top-level message in a channel: None unless Eddy listens there, takes it for
    a question and is the first to handle it; else it is searched and logged, and `post` says
    whether to answer in its thread (confident, and within the channel's hourly limit)."""
    settings = channel(runtime, channel_id)
    if settings is None or not is_question(text):
        return None
    now = runtime.clock.now()
    with runtime.store.session() as session:
        row_id = rows.claim_question(
            session,
            team_id=runtime.team_id,
            channel_id=channel_id,
            message_ts=message_ts,
            asker=user_id,
            asked_at=now,
        )
    if row_id is None:
        return None
    answer = ask(
        runtime,
        user_id=user_id,
        channel_id=channel_id,
        surface=SURFACE,
        question=text,
        query=query,
    )
    follow_up_at = now + timedelta(minutes=settings.follow_up_minutes)
    with runtime.store.session() as session:
        # Count and answer as one decision per channel: concurrent questions (worker threads,
        # instances) would otherwise all count the same answers and all post past the limit.
        held = rows.hold_channel(session, team_id=runtime.team_id, channel_id=channel_id)
        limit = held.hourly_limit if held is not None else settings.hourly_limit
        hour_ago = now - timedelta(hours=1)
        answered = rows.answers_since(
            session, team_id=runtime.team_id, channel_id=channel_id, since=hour_ago
        )
        row = rows.question_by_id(session, team_id=runtime.team_id, row_id=row_id)
        colleague = row is not None and row.colleague_replied_at is not None
        post = answer.confident and answered < limit and not colleague
        state = rows.ANSWERED if post else rows.HELD if answer.confident else rows.UNSURE
        rows.update_question(
            session,
            team_id=runtime.team_id,
            row_id=row_id,
            question_id=answer.question_id,
            state=state,
            answered_at=now if post else None,
            follow_up_at=None if post else follow_up_at,
        )
        if state == rows.HELD:  # counted as answered nowhere
            question_rows.settle_question(
                session,
                team_id=runtime.team_id,
                question_id=answer.question_id,
                outcome=question_rows.HELD_BACK,
                at=now,
            )
    if answer.confident and not post:
        log.info("Held back an answer to %s in %s", message_ts, channel_id)
    return Picked(row_id, answer, post)


def replied(runtime: Runtime, *, row_id: int, reply_ts: str) -> None:
    """Eddy's answer is in the thread."""
    with runtime.store.session() as session:
        rows.update_question(session, team_id=runtime.team_id, row_id=row_id, reply_ts=reply_ts)


def not_posted(runtime: Runtime, *, row_id: int) -> None:
    """Slack refused the answer (Eddy left the channel, say): the asker is offered the
    experts as if Eddy had not been sure, and nobody is told it was answered."""
    with runtime.store.session() as session:
        row = rows.question_by_id(session, team_id=runtime.team_id, row_id=row_id)
        if row is None:
            return
        settings = rows.channel(session, team_id=runtime.team_id, channel_id=row.channel_id)
        minutes = settings.follow_up_minutes if settings else DEFAULT_FOLLOW_UP_MINUTES
        rows.update_question(
            session,
            team_id=runtime.team_id,
            row_id=row_id,
            state=rows.UNSURE,
            answered_at=None,
            follow_up_at=row.asked_at + timedelta(minutes=minutes),
        )


def someone_replied(runtime: Runtime, *, channel_id: str, thread_ts: str, user_id: str) -> bool:
    """A person replied in a thread; True when it is a colleague's first reply to a question
    Eddy picked up (the asker is then never offered the experts: someone is on it)."""
    with runtime.store.session() as session:
        return rows.note_colleague_reply(
            session,
            team_id=runtime.team_id,
            channel_id=channel_id,
            thread_ts=thread_ts,
            user_id=user_id,
            at=runtime.clock.now(),
        )


def _take(runtime: Runtime, row: rows.ChannelQuestion | None, state: str) -> Taken | None:
    if row is None:
        return None
    with runtime.store.session() as session:
        settings = rows.channel(session, team_id=runtime.team_id, channel_id=row.channel_id)
        reply_ts = rows.take_reply(
            session, team_id=runtime.team_id, row_id=row.id or 0, state=state
        )
        if reply_ts is not None and state == rows.REMOVED:
            minutes = settings.follow_up_minutes if settings else DEFAULT_FOLLOW_UP_MINUTES
            rows.update_question(
                session,
                team_id=runtime.team_id,
                row_id=row.id or 0,
                follow_up_at=runtime.clock.now() + timedelta(minutes=minutes),
            )
    return Taken(row.channel_id, reply_ts) if reply_ts is not None else None


def withdrawn(runtime: Runtime, *, channel_id: str, message_ts: str) -> Taken | None:
    """The asker deleted the question, or edited it into something that is not one: its
    answer goes too, and nobody is offered anything about it."""
    with runtime.store.session() as session:
        row = rows.question(
            session, team_id=runtime.team_id, channel_id=channel_id, message_ts=message_ts
        )
    return _take(runtime, row, rows.WITHDRAWN)


def edited(
    runtime: Runtime, *, channel_id: str, message_ts: str, user_id: str, text: str
) -> Taken | None:
    """The asker edited a question Eddy picked up: if it is no longer a question, it is
    treated as withdrawn."""
    if is_question(text):
        return None
    with runtime.store.session() as session:
        row = rows.question(
            session, team_id=runtime.team_id, channel_id=channel_id, message_ts=message_ts
        )
    if row is None or row.asker != user_id:
        return None
    return _take(runtime, row, rows.WITHDRAWN)


def dismissed(
    runtime: Runtime, *, channel_id: str, item_ts: str, user_id: str, emoji: str
) -> Taken | None:
    """The asker reacted to Eddy's reply (or to their own question) with the channel's
    dismiss emoji: the reply goes. Anyone else's reaction changes nothing."""
    with runtime.store.session() as session:
        settings = rows.channel(session, team_id=runtime.team_id, channel_id=channel_id)
        if settings is None or emoji != settings.dismiss_emoji:
            return None
        row = rows.question_replied_by(
            session, team_id=runtime.team_id, channel_id=channel_id, reply_ts=item_ts
        ) or rows.question(
            session, team_id=runtime.team_id, channel_id=channel_id, message_ts=item_ts
        )
    if row is None or row.asker != user_id:
        return None
    return _take(runtime, row, rows.REMOVED)


@dataclass(frozen=True)
class Rated:
    """A rating of an answer given in a channel's thread."""

    rating: Rating | None
    #: The reply to take away (Not helpful, from anyone).
    taken: Taken | None


def rate_in_channel(runtime: Runtime, *, question_id: int, user_id: str, helpful: bool) -> Rated:
    """Helpful or Not helpful on Eddy's answer in a channel's thread. The asker's rating counts
    as anywhere (`bot.ask.rate`); anyone's Not helpful takes the answer away, since a wrong
    answer in the open misleads everyone who reads the thread."""
    with runtime.store.session() as session:
        row = rows.question_logged_as(session, team_id=runtime.team_id, question_id=question_id)
    if row is None:
        return Rated(Rating.GONE, None)
    rating: Rating | None = None
    if user_id == row.asker:
        rating = rate(runtime, question_id=question_id, user_id=user_id, helpful=helpful)
    elif helpful:
        rating = Rating.THANKED
    taken = None if helpful else _take(runtime, row, rows.REMOVED)
    return Rated(rating, taken)


def thread_of(runtime: Runtime, question_id: int | None) -> tuple[str, str] | None:
    """The channel and message of the question, when it was picked up in a listening
    channel (to show the experts' answer there too)."""
    if question_id is None:
        return None
    with runtime.store.session() as session:
        row = rows.question_logged_as(session, team_id=runtime.team_id, question_id=question_id)
    if row is None or row.state == rows.WITHDRAWN:
        return None
    return row.channel_id, row.message_ts


# --- nobody left waiting --------------------------------------------------------------------


def follow_up(runtime: Runtime, now: datetime) -> list[FollowUp]:
    """Offer the experts to the askers of questions nobody has replied to in time: each
    once, on one instance; a question already sent to the experts, erased or withdrawn is
    left alone. Each offer is handed to `runtime.notify`."""
    offered: list[FollowUp] = []
    with runtime.store.session() as session:
        due = rows.due_follow_ups(session, team_id=runtime.team_id, now=now)
    for row in due:
        with runtime.store.session() as session:
            if not rows.claim_follow_up(
                session, team_id=runtime.team_id, row_id=row.id or 0, at=now
            ):
                continue
            logged = (
                question_rows.question(
                    session, team_id=runtime.team_id, question_id=row.question_id
                )
                if row.question_id is not None
                else None
            )
            routed = (
                routed_rows.routed_from(
                    session, team_id=runtime.team_id, question_id=row.question_id
                )
                if row.question_id is not None
                else None
            )
        if logged is None or not logged.question or routed is not None:
            continue
        slugs = [(str(hit["slug"]), float(hit["score"])) for hit in logged.hits]
        offer = FollowUp(
            asker=row.asker,
            question_id=row.question_id or 0,
            question=logged.question,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
            topic=networks.suggest_topic(runtime, logged.question, slugs),
        )
        offered.append(offer)
        runtime.notify(offer)
    return offered
