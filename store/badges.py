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

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Column, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, col
from sqlmodel import select as select_rows

from store.base import (
    KEY_LENGTH,
    ContentSpec,
    TeamKeyed,
    TeamScoped,
    changed,
    insert_for,
    utc_field,
)

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
    badge: str = Field(max_length=KEY_LENGTH, primary_key=True)
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
#
# A burst of reactions runs these statements thousands of times a minute, so each is built once
# per database dialect (`_statements`) and run on the session's connection with plain parameters:
# no statement construction, no ORM unit of work.

STATE_KEY = ("team_id", "giver", "channel", "message_ts", "emoji")


@dataclass(frozen=True)
class _Statements:
    claim_add: Any
    claim_remove: Any
    release: Any
    set_given: Any
    spend: Any
    refuse: Any
    ledger: Any
    total: Any
    totals: Any
    awarded: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    state = ReactionState.__table__  # type: ignore[attr-defined]
    day = GivingDay.__table__  # type: ignore[attr-defined]
    total = PointTotal.__table__  # type: ignore[attr-defined]
    awards = BadgeAward.__table__  # type: ignore[attr-defined]
    same_state = and_(*(state.c[name] == bindparam(f"key_{name}") for name in STATE_KEY))

    add = insert(state)
    add = add.on_conflict_do_update(
        index_elements=list(STATE_KEY),
        set_={
            "present": True,
            "points": add.excluded.points,
            "receiver": add.excluded.receiver,
            "last_event_us": add.excluded.last_event_us,
        },
        where=state.c.present.is_(False) & (state.c.last_event_us < add.excluded.last_event_us),
    ).returning(state.c.giver)
    remove = insert(state)
    remove = remove.on_conflict_do_update(
        index_elements=list(STATE_KEY),
        set_={"present": False, "last_event_us": remove.excluded.last_event_us},
        where=state.c.present.is_(True) & (state.c.last_event_us < remove.excluded.last_event_us),
    ).returning(state.c.receiver, state.c.points)
    release = (
        update(state)
        .where(same_state, state.c.present.is_(True), state.c.last_event_us < bindparam("at_us"))
        .values(present=False, last_event_us=bindparam("at_us"))
        .returning(state.c.receiver, state.c.points)
    )
    spend = insert(day)
    spend = spend.on_conflict_do_update(
        index_elements=["team_id", "giver", "day"],
        set_={"spent": day.c.spent + spend.excluded.spent},
        where=day.c.spent + spend.excluded.spent <= bindparam("budget"),
    ).returning(day.c.spent)
    refuse = insert(day)
    refuse = refuse.on_conflict_do_update(
        index_elements=["team_id", "giver", "day"],
        set_={"told": True},
        where=day.c.told.is_(False),
    ).returning(day.c.told)
    add_total = insert(total)
    add_total = add_total.on_conflict_do_update(
        index_elements=["team_id", "user_id", "emoji"],
        set_={"points": total.c.points + add_total.excluded.points},
    )
    return _Statements(
        claim_add=add,
        claim_remove=remove,
        release=release,
        set_given=update(state).where(same_state).values(points=bindparam("given")),
        spend=spend,
        refuse=refuse,
        ledger=insert(PointLedger.__table__),  # type: ignore[attr-defined]
        total=add_total,
        totals=select(total.c.emoji, total.c.points).where(
            total.c.team_id == bindparam("team_id"), total.c.user_id == bindparam("user_id")
        ),
        awarded=select(awards.c.badge).where(
            awards.c.team_id == bindparam("team_id"), awards.c.user_id == bindparam("user_id")
        ),
    )


def _run(session: Session, name: str, params: dict[str, Any]) -> Any:
    connection = session.connection()
    return connection.execute(getattr(_statements(connection.dialect.name), name), params)


def _key_params(key: dict[str, str]) -> dict[str, str]:
    return {f"key_{name}": key[name] for name in STATE_KEY}


def claim_add(
    session: Session, *, key: dict[str, str], receiver: str, points: int, event_us: int
) -> bool:
    """Mark the reaction (`key`: team_id, giver, channel, message_ts, emoji) present, giving
    `points`; False when it already is, or when a later event for it was applied already."""
    params = {**key, "receiver": receiver, "present": True, "points": points}
    return _run(session, "claim_add", params | {"last_event_us": event_us}).first() is not None


def claim_remove(
    session: Session, *, key: dict[str, str], event_us: int, remember: bool = True
) -> tuple[str | None, int] | None:
    """Mark the reaction absent; (whom it credited, the points it gave) when it was present,
    else None. With `remember`, a removal Eddy sees first is recorded, so that a late add
    older than it is stale (only worth it for emoji that give points)."""
    if remember:
        params = {**key, "receiver": None, "present": False, "points": 0}
        row = _run(session, "claim_remove", params | {"last_event_us": event_us}).first()
    else:
        row = _run(session, "release", _key_params(key) | {"at_us": event_us}).first()
    return (row[0], int(row[1])) if row is not None else None


def set_given(session: Session, *, key: dict[str, str], points: int) -> None:
    _run(session, "set_given", _key_params(key) | {"given": points})


def spend(
    session: Session, *, team_id: str, giver: str, day: date, points: int, budget: int
) -> bool:
    """Take `points` from the giver's budget for `day`; False (nothing taken) when they would
    go over it."""
    if points > budget:
        return False
    params = {"team_id": team_id, "giver": giver, "day": day, "spent": points, "told": False}
    return _run(session, "spend", params | {"budget": budget}).first() is not None


def first_refusal(session: Session, *, team_id: str, giver: str, day: date) -> bool:
    """Note that the giver was refused on `day`; True only the first time that day."""
    params = {"team_id": team_id, "giver": giver, "day": day, "spent": 0, "told": True}
    return _run(session, "refuse", params).first() is not None


def record(session: Session, **values: Any) -> None:
    """Write a ledger row and move the receiver's total for that emoji by its points."""
    _run(session, "ledger", values)
    total = {
        "team_id": values["team_id"],
        "user_id": values["receiver"],
        "emoji": values["emoji"],
        "points": values["points"],
    }
    _run(session, "total", total)


def totals_of(session: Session, *, team_id: str, user_id: str) -> dict[str, int]:
    """The person's points by emoji."""
    rows = _run(session, "totals", {"team_id": team_id, "user_id": user_id})
    return {str(emoji): int(points) for emoji, points in rows}


def awarded(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The ids of the badges the person has."""
    rows = _run(session, "awarded", {"team_id": team_id, "user_id": user_id})
    return {str(badge) for (badge,) in rows}


# --- reading --------------------------------------------------------------------------------


def points_since(session: Session, *, team_id: str, user_id: str, since: datetime) -> int:
    query = select_rows(func.coalesce(func.sum(PointLedger.points), 0)).where(
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
            select_rows(PointTotal.user_id, total)
            .where(PointTotal.team_id == team_id)
            .group_by(col(PointTotal.user_id))
        )
        user = col(PointTotal.user_id)
    else:
        total = func.sum(PointLedger.points)
        query = (
            select_rows(PointLedger.receiver, total)
            .where(PointLedger.team_id == team_id, col(PointLedger.at) >= since)
            .group_by(col(PointLedger.receiver))
        )
        user = col(PointLedger.receiver)
    query = query.having(total > 0).order_by(total.desc(), user)
    return [(str(who), int(points)) for who, points in session.exec(query)]


def ledger_sums(session: Session, *, team_id: str) -> dict[tuple[str, str], int]:
    """Each (person, emoji) total recomputed from the ledger (zeros left out)."""
    query = (
        select_rows(PointLedger.receiver, PointLedger.emoji, func.sum(PointLedger.points))
        .where(PointLedger.team_id == team_id)
        .group_by(col(PointLedger.receiver), col(PointLedger.emoji))
    )
    return {(str(r), str(e)): int(p) for r, e, p in session.exec(query) if p}


def stored_totals(session: Session, *, team_id: str) -> dict[tuple[str, str], int]:
    query = select_rows(PointTotal).where(PointTotal.team_id == team_id)
    return {(row.user_id, row.emoji): row.points for row in session.exec(query) if row.points}


def ledger_size(session: Session, *, team_id: str) -> int:
    query = select_rows(func.count()).select_from(PointLedger).where(PointLedger.team_id == team_id)
    return int(session.exec(query).one())


def teams(session: Session) -> list[str]:
    query = select_rows(PointLedger.team_id).distinct()
    return [str(team) for team in session.exec(query)]


# --- badges ---------------------------------------------------------------------------------


def awards_of(session: Session, *, team_id: str, user_id: str) -> list[BadgeAward]:
    query = select_rows(BadgeAward).where(
        BadgeAward.team_id == team_id, BadgeAward.user_id == user_id
    )
    return list(session.exec(query.order_by(col(BadgeAward.awarded_at), col(BadgeAward.badge))))


def award(session: Session, **values: Any) -> bool:
    """Record a badge earned; False when the person has it already."""
    statement = (
        insert_for(session)(BadgeAward)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "badge"])
    )
    return changed(session, statement)
