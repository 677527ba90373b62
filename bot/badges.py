"""Reaction badges: points from emoji reactions on helpful messages, under rules that resist
gaming, and badges for points and for what people do elsewhere in Eddy.

    outcome = react(runtime, reaction, giver=person, receiver=person_or_none)
    recognise(runtime, user_id, "expert_answers")   # other capabilities, after their event
    standing(runtime, user_id)                      # /badges and the Home tab
    top(runtime, Period.WEEK)                       # the leaderboard

The rules (content/badges.yml, see `bot.content.badge_rules`):

- Only emoji in the rules count, and only for the author of the message reacted to: never for
  reacting to yourself, to a bot (Eddy included), or to a message without a known author.
- A (giver, message, emoji) gives at most once at a time, and removing the reaction takes back
  exactly what adding gave. Events apply in Slack's event time, so a late retry of an add that
  was since removed gives nothing; and a Slack retry (same event_id) is recognised in the
  transaction that applies the event, so it counts once.
- Each giver has a daily budget of points, counted on their own calendar day. Removing a
  reaction does not refund it, so removing and re-adding costs the giver twice and gives the
  author nothing more: farming has no yield.
- A badge is awarded once, when its criterion is met, and kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.content.badge_rules import Badge, BadgeRules, emoji_name
from bot.people import Person, is_former_member
from bot.runtime import HomeChanged, Runtime
from store import Store
from store import badges as rows
from store import lessons as lesson_rows
from store import networks as network_rows
from store import review as review_rows
from store.events import claim_event

log = logging.getLogger(__name__)

POINTS = "points"
EXPERT_ANSWERS = "expert_answers"
ENTRIES_ACCEPTED = "entries_accepted"
PATHS_COMPLETED = "paths_completed"
STREAK_DAYS = "streak_days"
#: How many people a leaderboard shows.
TOP = 10


@dataclass(frozen=True)
class Reaction:
    """A reaction added or removed, as Slack reported it."""

    giver: str
    #: The message's author (`item_user`); None when Slack did not say (a webhook's message).
    author: str | None
    emoji: str
    channel: str
    message_ts: str
    #: Slack's event time ("1700000000.000100"): the order reactions happened in.
    event_ts: str
    event_id: str
    added: bool


class Result(StrEnum):
    GIVEN = "given"
    TAKEN_BACK = "taken back"
    OVER_BUDGET = "over budget"
    NOT_COUNTED = "not counted"


@dataclass(frozen=True)
class ReactionOutcome:
    result: Result
    #: Why, in a few words (for the log).
    why: str = ""
    points: int = 0
    #: Over budget, and the first time today: the giver gets a quiet note.
    tell_giver: bool = False
    budget: int = 0


@dataclass(frozen=True)
class BadgeEarned:
    """A notice: tell `user_id` (and the shout-out channel, if any) about a new badge."""

    user_id: str
    badge: Badge
    shout_out_channel: str | None


def rules(runtime: Runtime) -> BadgeRules:
    return runtime.catalogue.badge_rules


# --- reactions ------------------------------------------------------------------------------


def react(
    runtime: Runtime, reaction: Reaction, *, giver: Person | None, receiver: Person | None
) -> ReactionOutcome:
    """Apply one reaction event under the rules (see the module docstring)."""
    current = rules(runtime)
    emoji = emoji_name(reaction.emoji)
    rule = current.rule_for(emoji)
    if giver is None or not giver.is_human:
        return ReactionOutcome(Result.NOT_COUNTED, "the reaction is not a person's")
    event_us = _event_micros(reaction.event_ts, runtime)
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=event_us)
    key = {
        "team_id": runtime.team_id,
        "giver": giver.id,
        "channel": reaction.channel,
        "message_ts": reaction.message_ts,
        "emoji": emoji,
    }
    if not reaction.added:
        return _remove(runtime, reaction, key, event_us, when, giver, remember=rule is not None)
    if rule is None:
        return ReactionOutcome(Result.NOT_COUNTED, f":{emoji}: gives no points")
    if receiver is None or not receiver.active:
        return ReactionOutcome(Result.NOT_COUNTED, "the message's author is unknown")
    if not receiver.is_human:
        return ReactionOutcome(Result.NOT_COUNTED, "a bot's message")
    if receiver.id == giver.id:
        return ReactionOutcome(Result.NOT_COUNTED, "their own message")
    day = _local_day(when, giver.tz)
    with runtime.store.session() as session:
        if not _first_delivery(session, runtime, reaction):
            return ReactionOutcome(Result.NOT_COUNTED, "a repeated delivery")
        if not rows.claim_add(
            session, key=key, receiver=receiver.id, points=rule.points, event_us=event_us
        ):
            return ReactionOutcome(Result.NOT_COUNTED, "already counted, or out of date")
        team, who, budget = runtime.team_id, giver.id, current.daily_budget
        if not rows.spend(
            session, team_id=team, giver=who, day=day, points=rule.points, budget=budget
        ):
            rows.set_given(session, key=key, points=0)
            told = rows.first_refusal(session, team_id=team, giver=who, day=day)
            return ReactionOutcome(
                Result.OVER_BUDGET, "budget used up", tell_giver=told, budget=budget
            )
        _record(session, reaction, key, receiver.id, rule.points, when, day)
        earned = _award_due(session, runtime, current, receiver.id, {POINTS}, when)
    _announce(runtime, receiver.id, earned, current)
    runtime.notify(HomeChanged(users=(receiver.id,)))
    return ReactionOutcome(Result.GIVEN, points=rule.points)


def _remove(
    runtime: Runtime,
    reaction: Reaction,
    key: dict[str, str],
    event_us: int,
    when: datetime,
    giver: Person,
    *,
    remember: bool,
) -> ReactionOutcome:
    with runtime.store.session() as session:
        if not _first_delivery(session, runtime, reaction):
            return ReactionOutcome(Result.NOT_COUNTED, "a repeated delivery")
        removed = rows.claim_remove(session, key=key, event_us=event_us, remember=remember)
        receiver, points = removed or (None, 0)
        if receiver is None or points == 0:
            return ReactionOutcome(Result.NOT_COUNTED, "it had given nothing")
        _record(session, reaction, key, receiver, -points, when, _local_day(when, giver.tz))
    runtime.notify(HomeChanged(users=(receiver,)))
    return ReactionOutcome(Result.TAKEN_BACK, points=points)


def _first_delivery(session: Session, runtime: Runtime, reaction: Reaction) -> bool:
    """Record the event's ID in the transaction that applies it: a Slack retry (same ID) is
    refused, and a crash before the commit leaves the retry free to apply it."""
    return not reaction.event_id or claim_event(
        session,
        team_id=runtime.team_id,
        event_id=reaction.event_id,
        event_type="reaction_added" if reaction.added else "reaction_removed",
        received_at=runtime.clock.now(),
    )


def _record(
    session: Session,
    reaction: Reaction,
    key: dict[str, str],
    receiver: str,
    points: int,
    when: datetime,
    day: date,
) -> None:
    rows.record(
        session,
        **key,
        receiver=receiver,
        points=points,
        at=when,
        giver_day=day,
        event_id=reaction.event_id,
    )


def _event_micros(event_ts: str, runtime: Runtime) -> int:
    """When the reaction happened by Slack's clock, in microseconds since 1970 (a retry
    arrives later but happened then)."""
    try:
        return int(Decimal(event_ts) * 1_000_000)
    except (InvalidOperation, TypeError, ValueError):
        return int(runtime.clock.now().timestamp() * 1_000_000)


def _local_day(when: datetime, tz: str) -> date:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).date()


# --- badges ---------------------------------------------------------------------------------


def recognise(runtime: Runtime, user_id: str, *measures: str) -> list[Badge]:
    """Award the badges `user_id` now meets, counting `measures` (all when none are named),
    and tell them. Other capabilities call this after an event that may count (an answer, an
    approved entry, a completed lesson); it is cheap when nothing is due."""
    current = rules(runtime)
    try:
        with runtime.store.session() as session:
            now = runtime.clock.now()
            earned = _award_due(session, runtime, current, user_id, set(measures), now)
    except Exception:
        # The caller's own work (an answer, a lesson) is done and saved; a badge must never
        # undo or hide it. The next qualifying event awards what was missed here.
        log.exception("Could not check the badges of %s", user_id)
        return []
    _announce(runtime, user_id, earned, current)
    return earned


def _award_due(
    session: Session,
    runtime: Runtime,
    current: BadgeRules,
    user_id: str,
    measures: set[str],
    now: datetime,
) -> list[Badge]:
    have = rows.awarded(session, team_id=runtime.team_id, user_id=user_id)
    due = [
        badge
        for badge in current.badges
        if badge.id not in have and (not measures or badge.measure in measures)
    ]
    if not due:
        return []
    counts = _counts(session, runtime, user_id, {badge.measure for badge in due})
    earned = []
    for badge in due:
        if progress_of(badge, counts, current) < badge.threshold:
            continue
        if rows.award(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            badge=badge.id,
            name=badge.name,
            emoji=badge.emoji,
            reason=badge.criterion(),
            awarded_at=now,
        ):
            earned.append(badge)
    return earned


@dataclass(frozen=True)
class Counts:
    """What badges count, for one person."""

    points_by_emoji: dict[str, int] = field(default_factory=dict)
    expert_answers: int = 0
    entries_accepted: int = 0
    paths_completed: int = 0
    streak_days: int = 0

    @property
    def points(self) -> int:
        return sum(self.points_by_emoji.values())


def _counts(session: Session, runtime: Runtime, user_id: str, measures: set[str]) -> Counts:
    """Only what `measures` need: a reaction should not cost a look at everything."""
    team = runtime.team_id
    learner = (
        lesson_rows.learner(session, team_id=team, user_id=user_id)
        if STREAK_DAYS in measures
        else None
    )
    return Counts(
        points_by_emoji=rows.totals_of(session, team_id=team, user_id=user_id)
        if POINTS in measures
        else {},
        expert_answers=network_rows.answers_given(session, team_id=team, user_id=user_id)
        if EXPERT_ANSWERS in measures
        else 0,
        entries_accepted=review_rows.entries_accepted(session, team_id=team, user_id=user_id)
        if ENTRIES_ACCEPTED in measures
        else 0,
        paths_completed=len(lesson_rows.completions(session, team_id=team, user_id=user_id))
        if PATHS_COMPLETED in measures
        else 0,
        streak_days=learner.best_streak if learner is not None else 0,
    )


def progress_of(badge: Badge, counts: Counts, current: BadgeRules) -> int:
    """How much of the badge's measure the person has."""
    if badge.measure != POINTS:
        return int(getattr(counts, badge.measure))
    if badge.of_emoji is None:
        return counts.points
    rule = current.rule_for(badge.of_emoji)
    names = rule.emoji if rule is not None else (badge.of_emoji,)
    return sum(counts.points_by_emoji.get(name, 0) for name in names)


def _announce(runtime: Runtime, user_id: str, earned: list[Badge], current: BadgeRules) -> None:
    for badge in earned:
        log.info("%s earned the badge %s", user_id, badge.id)
        runtime.notify(BadgeEarned(user_id, badge, current.shout_out_channel))


# --- what people see ------------------------------------------------------------------------


@dataclass(frozen=True)
class EarnedBadge:
    name: str
    emoji: str
    reason: str
    awarded_at: datetime


@dataclass(frozen=True)
class NextBadge:
    badge: Badge
    have: int


@dataclass(frozen=True)
class Standing:
    """What `/badges` shows of one person."""

    user_id: str
    points: int
    points_this_week: int
    points_by_emoji: dict[str, int]
    badges: tuple[EarnedBadge, ...]
    next_badge: NextBadge | None
    #: Place on the all-time leaderboard (None without points), out of `ranked` people.
    rank: int | None
    ranked: int


def standing(runtime: Runtime, user_id: str) -> Standing:
    current = rules(runtime)
    now = runtime.clock.now()
    team = runtime.team_id
    with runtime.store.session() as session:
        awards = rows.awards_of(session, team_id=team, user_id=user_id)
        counts = _counts(
            session,
            runtime,
            user_id,
            {POINTS, EXPERT_ANSWERS, ENTRIES_ACCEPTED, PATHS_COMPLETED, STREAK_DAYS},
        )
        week = rows.points_since(
            session, team_id=team, user_id=user_id, since=period_start(Period.WEEK, now, current)
        )
        board = _people_only(rows.leaderboard(session, team_id=team, since=None))
    have = {award.badge for award in awards}
    within_reach = [
        NextBadge(badge, progress_of(badge, counts, current))
        for badge in current.badges
        if badge.id not in have
    ]
    closest = max(
        (each for each in within_reach if each.have < each.badge.threshold),
        key=lambda each: (each.have / each.badge.threshold, -each.badge.threshold),
        default=None,
    )
    place = next((n for n, (who, _) in enumerate(board, start=1) if who == user_id), None)
    return Standing(
        user_id=user_id,
        points=counts.points,
        points_this_week=week,
        points_by_emoji={e: p for e, p in counts.points_by_emoji.items() if p},
        badges=tuple(
            EarnedBadge(award.name, award.emoji, award.reason, award.awarded_at) for award in awards
        ),
        next_badge=closest,
        rank=place,
        ranked=len(board),
    )


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


def period_start(period: Period, now: datetime, current: BadgeRules) -> datetime:
    """Midnight starting this week (Monday) or month in the workspace's time zone."""
    local = now.astimezone(ZoneInfo(current.timezone))
    day = local.date()
    first = day - timedelta(days=day.weekday()) if period == Period.WEEK else day.replace(day=1)
    midnight = datetime(first.year, first.month, first.day, tzinfo=local.tzinfo)
    return midnight.astimezone(UTC)


@dataclass(frozen=True)
class Board:
    period: Period
    #: When the period began (None for all time), and in which time zone it is counted.
    since: datetime | None
    timezone: str
    leaders: tuple[tuple[str, int], ...]
    #: Everyone with points in the period, for "you are #12".
    everyone: tuple[tuple[str, int], ...]

    def place_of(self, user_id: str) -> int | None:
        return next((n for n, (who, _) in enumerate(self.everyone, 1) if who == user_id), None)


def _people_only(board: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A leaderboard without former members: their points still count in the totals and the
    ledger, but a forgotten person has no place to hold on a list of people."""
    return [(who, points) for who, points in board if not is_former_member(who)]


def top(runtime: Runtime, period: Period) -> Board:
    current = rules(runtime)
    since = None if period == Period.ALL else period_start(period, runtime.clock.now(), current)
    with runtime.store.session() as session:
        everyone = _people_only(rows.leaderboard(session, team_id=runtime.team_id, since=since))
    return Board(period, since, current.timezone, tuple(everyone[:TOP]), tuple(everyone))


@dataclass(frozen=True)
class Audit:
    """The points ledger against the running totals (`uv run app.py badges audit`)."""

    ledger_rows: int
    people: int
    mismatches: dict[tuple[str, str], tuple[int, int]]


def audit(store: Store) -> dict[str, Audit]:
    """Recompute every workspace's totals from its ledger and compare."""
    audits = {}
    with store.session() as session:
        for team in rows.teams(session):
            recomputed = rows.ledger_sums(session, team_id=team)
            stored = rows.stored_totals(session, team_id=team)
            size = rows.ledger_size(session, team_id=team)
            keys = set(recomputed) | set(stored)
            mismatches = {
                key: (stored.get(key, 0), recomputed.get(key, 0))
                for key in sorted(keys)
                if stored.get(key, 0) != recomputed.get(key, 0)
            }
            audits[team] = Audit(size, len({user for user, _ in recomputed}), mismatches)
    return audits
