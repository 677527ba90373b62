"""Reaction badges: the rules as last loaded, each reaction's state, the points ledger, each
giver's daily spending, running totals, and the badges awarded.

Fairness rests on single statements the database applies atomically, so that two instances
(or two threads) handling the same reaction agree on one outcome:

- `claim_add` / `claim_remove` move a (giver, message, emoji) between present and absent with
  an `INSERT … ON CONFLICT DO UPDATE … WHERE` that only moves forward in Slack's event time:
  a duplicate or an older, late-arriving event changes nothing.
- `spend` takes points from the giver's daily budget only while it lasts.
- `award` inserts a badge once (`ON CONFLICT DO NOTHING`).

`point_ledger` is append-only: every point given or taken back is a row, and `point_total`
(which leaderboards read) must always equal its sums; `ledger_sums` recomputes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, func, update
from sqlmodel import Field, Session, col, select

from store.base import ContentSpec, TeamKeyed, TeamScoped, changed, insert_for, utc_field

RULES_KEY = "rules"


class BadgeRulesRow(ContentSpec, table=True):
    """badges.yml as last loaded without problems (one row, key "rules")."""

    __tablename__ = "badge_rules"


class ReactionState(TeamKeyed, table=True):
    """One person's reaction with one emoji on one message: is it there, and what did it give."""

    __tablename__ = "reaction_state"

    giver: str = Field(max_length=32, primary_key=True)
    channel: str = Field(max_length=32, primary_key=True)
    message_ts: str = Field(max_length=32, primary_key=True)
    emoji: str = Field(max_length=100, primary_key=True)
    receiver: str | None = Field(default=None, max_length=32)
    present: bool = False
    #: What the reaction's current (or last) presence gave; taken back when it is removed.
    points: int = 0
    #: Slack's `event_ts` of the last event applied, in microseconds: older events are stale.
    last_event_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class PointLedger(TeamScoped, table=True):
    """Every change of points, positive (a reaction added) or negative (taken back)."""

    __tablename__ = "point_ledger"

    id: int | None = Field(default=None, primary_key=True)
    giver: str = Field(max_length=32, index=True)
    receiver: str = Field(max_length=32, index=True)
    emoji: str = Field(max_length=100)
    channel: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)
    points: int
    #: When the reaction happened (Slack's event time), and the giver's own day then.
    at: datetime = utc_field(index=True)
    giver_day: date
    event_id: str = Field(max_length=64)


class GivingDay(TeamKeyed, table=True):
    """What one person gave on one day of their own calendar."""

    __tablename__ = "giving_day"

    giver: str = Field(max_length=32, primary_key=True)
    day: date = Field(primary_key=True)
    spent: int = 0
    #: Whether they were told today that their budget is used up (once a day is enough).
    told: bool = False


class PointTotal(TeamKeyed, table=True):
    """Points a person holds from one emoji: the ledger's sum, kept current."""

    __tablename__ = "point_total"

    user_id: str = Field(max_length=32, primary_key=True)
    emoji: str = Field(max_length=100, primary_key=True)
    points: int = 0


class BadgeAward(TeamKeyed, table=True):
    """A badge earned: once per person, kept even if the badge leaves badges.yml."""

    __tablename__ = "badge_award"

    user_id: str = Field(max_length=32, primary_key=True)
    badge: str = Field(max_length=64, primary_key=True)
    name: str = Field(max_length=60)
    emoji: str = Field(max_length=100)
    reason: str = Field(max_length=200)
    awarded_at: datetime = utc_field(index=True)


# --- rules ----------------------------------------------------------------------------------


def stored_rules(session: Session, *, team_id: str) -> BadgeRulesRow | None:
    return session.get(BadgeRulesRow, (team_id, RULES_KEY))


def save_rules(session: Session, *, team_id: str, spec: dict[str, Any], at: datetime) -> None:
    row = stored_rules(session, team_id=team_id) or BadgeRulesRow(team_id=team_id, key=RULES_KEY)
    if row.spec != spec:
        row.spec, row.updated_at = spec, at
        session.add(row)


# --- reactions ------------------------------------------------------------------------------


def _state_key(team_id: str, giver: str, channel: str, message_ts: str, emoji: str) -> Any:
    return (
        (ReactionState.team_id == team_id)
        & (ReactionState.giver == giver)
        & (ReactionState.channel == channel)
        & (ReactionState.message_ts == message_ts)
        & (ReactionState.emoji == emoji)
    )


def claim_add(
    session: Session,
    *,
    team_id: str,
    giver: str,
    receiver: str,
    channel: str,
    message_ts: str,
    emoji: str,
    event_us: int,
) -> bool:
    """Mark the reaction present (giving nothing yet); False when it already is, or when a
    later event for it was applied already."""
    table = ReactionState.__table__  # type: ignore[attr-defined]
    values = {
        "team_id": team_id,
        "giver": giver,
        "channel": channel,
        "message_ts": message_ts,
        "emoji": emoji,
        "receiver": receiver,
        "present": True,
        "points": 0,
        "last_event_us": event_us,
    }
    statement = (
        insert_for(session)(ReactionState)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["team_id", "giver", "channel", "message_ts", "emoji"],
            set_={"present": True, "points": 0, "receiver": receiver, "last_event_us": event_us},
            where=(table.c.present.is_(False)) & (table.c.last_event_us < event_us),
        )
        .returning(table.c.giver)
    )
    return session.execute(statement).first() is not None


def claim_remove(
    session: Session,
    *,
    team_id: str,
    giver: str,
    channel: str,
    message_ts: str,
    emoji: str,
    event_us: int,
    remember: bool = True,
) -> tuple[str | None, int] | None:
    """Mark the reaction absent; (whom it credited, the points it gave) when it was present,
    else None. With `remember`, a removal Eddy sees first is recorded, so that a late add
    older than it is stale (only worth it for emoji that give points)."""
    table = ReactionState.__table__  # type: ignore[attr-defined]
    if not remember:
        statement: Any = (
            update(ReactionState)
            .where(_state_key(team_id, giver, channel, message_ts, emoji))
            .where(
                col(ReactionState.present).is_(True), col(ReactionState.last_event_us) < event_us
            )
            .values(present=False, last_event_us=event_us)
            .returning(col(ReactionState.receiver), col(ReactionState.points))
        )
        row = session.execute(statement).first()
        return (row[0], int(row[1])) if row is not None else None
    values = {
        "team_id": team_id,
        "giver": giver,
        "channel": channel,
        "message_ts": message_ts,
        "emoji": emoji,
        "present": False,
        "points": 0,
        "last_event_us": event_us,
    }
    statement = (
        insert_for(session)(ReactionState)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["team_id", "giver", "channel", "message_ts", "emoji"],
            set_={"present": False, "last_event_us": event_us},
            where=(table.c.present.is_(True)) & (table.c.last_event_us < event_us),
        )
        .returning(table.c.receiver, table.c.points)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return row[0], int(row[1])


def set_given(
    session: Session,
    *,
    team_id: str,
    giver: str,
    channel: str,
    message_ts: str,
    emoji: str,
    points: int,
) -> None:
    statement = (
        update(ReactionState)
        .where(_state_key(team_id, giver, channel, message_ts, emoji))
        .values(points=points)
    )
    session.execute(statement)


def spend(
    session: Session, *, team_id: str, giver: str, day: date, points: int, budget: int
) -> bool:
    """Take `points` from the giver's budget for `day`; False (nothing taken) when they would
    go over it."""
    if points > budget:
        return False
    table = GivingDay.__table__  # type: ignore[attr-defined]
    statement = (
        insert_for(session)(GivingDay)
        .values(team_id=team_id, giver=giver, day=day, spent=points, told=False)
        .on_conflict_do_update(
            index_elements=["team_id", "giver", "day"],
            set_={"spent": table.c.spent + points},
            where=table.c.spent + points <= budget,
        )
        .returning(table.c.spent)
    )
    return session.execute(statement).first() is not None


def first_refusal(session: Session, *, team_id: str, giver: str, day: date) -> bool:
    """Note that the giver was refused on `day`; True only the first time that day."""
    table = GivingDay.__table__  # type: ignore[attr-defined]
    statement = (
        insert_for(session)(GivingDay)
        .values(team_id=team_id, giver=giver, day=day, spent=0, told=True)
        .on_conflict_do_update(
            index_elements=["team_id", "giver", "day"],
            set_={"told": True},
            where=table.c.told.is_(False),
        )
    )
    return changed(session, statement)


def record(session: Session, **values: Any) -> None:
    """Write a ledger row and move the receiver's total for that emoji by its points."""
    session.add(PointLedger(**values))
    table = PointTotal.__table__  # type: ignore[attr-defined]
    statement = (
        insert_for(session)(PointTotal)
        .values(
            team_id=values["team_id"],
            user_id=values["receiver"],
            emoji=values["emoji"],
            points=values["points"],
        )
        .on_conflict_do_update(
            index_elements=["team_id", "user_id", "emoji"],
            set_={"points": table.c.points + values["points"]},
        )
    )
    session.execute(statement)


# --- reading --------------------------------------------------------------------------------


def totals_of(session: Session, *, team_id: str, user_id: str) -> dict[str, int]:
    """The person's points by emoji."""
    query = select(PointTotal.emoji, PointTotal.points).where(
        PointTotal.team_id == team_id, PointTotal.user_id == user_id
    )
    return {str(emoji): int(points) for emoji, points in session.exec(query)}


def points_since(session: Session, *, team_id: str, user_id: str, since: datetime) -> int:
    query = select(func.coalesce(func.sum(PointLedger.points), 0)).where(
        PointLedger.team_id == team_id,
        PointLedger.receiver == user_id,
        col(PointLedger.at) >= since,
    )
    return int(session.exec(query).one())


def leaderboard(session: Session, *, team_id: str, since: datetime | None) -> list[tuple[str, int]]:
    """Everyone with points (since `since`, or ever), most first; ties by user ID."""
    if since is None:
        total = func.sum(PointTotal.points)
        query: Any = (
            select(PointTotal.user_id, total)
            .where(PointTotal.team_id == team_id)
            .group_by(col(PointTotal.user_id))
        )
        user = col(PointTotal.user_id)
    else:
        total = func.sum(PointLedger.points)
        query = (
            select(PointLedger.receiver, total)
            .where(PointLedger.team_id == team_id, col(PointLedger.at) >= since)
            .group_by(col(PointLedger.receiver))
        )
        user = col(PointLedger.receiver)
    query = query.having(total > 0).order_by(total.desc(), user)
    return [(str(who), int(points)) for who, points in session.exec(query)]


def ledger_sums(session: Session, *, team_id: str) -> dict[tuple[str, str], int]:
    """Each (person, emoji) total recomputed from the ledger (zeros left out)."""
    query = (
        select(PointLedger.receiver, PointLedger.emoji, func.sum(PointLedger.points))
        .where(PointLedger.team_id == team_id)
        .group_by(col(PointLedger.receiver), col(PointLedger.emoji))
    )
    return {(str(r), str(e)): int(p) for r, e, p in session.exec(query) if p}


def stored_totals(session: Session, *, team_id: str) -> dict[tuple[str, str], int]:
    query = select(PointTotal).where(PointTotal.team_id == team_id)
    return {(row.user_id, row.emoji): row.points for row in session.exec(query) if row.points}


def ledger_size(session: Session, *, team_id: str) -> int:
    query = select(func.count()).select_from(PointLedger).where(PointLedger.team_id == team_id)
    return int(session.exec(query).one())


def teams(session: Session) -> list[str]:
    query = select(PointLedger.team_id).distinct()
    return [str(team) for team in session.exec(query)]


# --- badges ---------------------------------------------------------------------------------


def awards_of(session: Session, *, team_id: str, user_id: str) -> list[BadgeAward]:
    query = select(BadgeAward).where(BadgeAward.team_id == team_id, BadgeAward.user_id == user_id)
    return list(session.exec(query.order_by(col(BadgeAward.awarded_at), col(BadgeAward.badge))))


def award(session: Session, **values: Any) -> bool:
    """Record a badge earned; False when the person has it already."""
    statement = (
        insert_for(session)(BadgeAward)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "badge"])
    )
    return changed(session, statement)
