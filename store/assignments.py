"""Assigned learning: who assigned which path to whom (a person, a Slack user group, a
channel's members), the people each assignment reached, and the membership of groups and
channels as Slack last said (cached, refreshed).

The people an assignment reached are rows of their own, so a person who joins the group
later is enrolled once (their row is inserted once, whoever notices first), and each person
is told once (`told_at` is set by a conditional update).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint, and_, delete, update
from sqlmodel import Field, Session, col, select

from store.base import KEY_LENGTH, TeamKeyed, TeamScoped, changed, insert_for, utc_field
from store.lessons import (
    FAILED,
    Learner,
    LessonDelivery,
    LessonDone,
    LessonSubscription,
    PathCompletion,
)

#: What an assignment names: a person, a user group, a channel's members, or (an onboarding
#: journey, a path with `assign_on_join`) everyone who joins the workspace.
PERSON, GROUP, CHANNEL, JOINERS = "person", "group", "channel", "joiners"
#: The longest line a manager may write to say why the path matters.
WHY_LENGTH = 300


class Assignment(TeamScoped, table=True):
    """A path assigned to a person, a user group or a channel's members."""

    __tablename__ = "lesson_assignment"
    __table_args__ = (UniqueConstraint("team_id", "path", "target_kind", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(max_length=KEY_LENGTH)
    #: PERSON, GROUP or CHANNEL.
    target_kind: str = Field(max_length=16)
    #: The user, user group (S…) or channel ID.
    target: str = Field(max_length=32)
    #: As people know it when it was assigned: "@support-team", "#onboarding".
    target_name: str = Field(max_length=100)
    #: Finish by this day (each person's own local day); None: no due date.
    due_on: date | None = None
    #: The manager's line: why it matters.
    why: str | None = Field(default=None, max_length=WHY_LENGTH)
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime = utc_field()
    #: Unassigned: when and by whom (the row stays, for reports and records).
    removed_at: datetime | None = utc_field(default=None, nullable=True)
    removed_by: str | None = Field(default=None, max_length=32)


class AssignedPerson(TeamKeyed, table=True):
    """One person an assignment reached."""

    __tablename__ = "assigned_person"

    assignment_id: int = Field(primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    added_at: datetime = utc_field()
    #: When they were told (once); None until then.
    told_at: datetime | None = utc_field(default=None, nullable=True)
    #: They left the group or channel since (their progress stays theirs).
    left_at: datetime | None = utc_field(default=None, nullable=True)


class GroupMembers(TeamKeyed, table=True):
    """A user group's or a channel's members as Slack last said."""

    __tablename__ = "group_members"

    #: GROUP or CHANNEL.
    kind: str = Field(max_length=16, primary_key=True)
    target: str = Field(max_length=32, primary_key=True)
    #: Its handle or name as Slack last said ("support-team", "onboarding").
    name: str = Field(default="", max_length=100)
    members: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    refreshed_at: datetime = utc_field()


# --- assignments ----------------------------------------------------------------------------


def assignment(session: Session, *, team_id: str, assignment_id: int) -> Assignment | None:
    row = session.get(Assignment, assignment_id)
    return row if row is not None and row.team_id == team_id else None


def find(session: Session, *, team_id: str, path: str, kind: str, target: str) -> Assignment | None:
    """The assignment of `path` to `target`, standing or removed (one row per pair)."""
    query = select(Assignment).where(
        Assignment.team_id == team_id,
        Assignment.path == path,
        Assignment.target_kind == kind,
        Assignment.target == target,
    )
    return session.exec(query).first()


def standing(
    session: Session,
    *,
    team_id: str,
    path: str | None = None,
    ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
) -> list[Assignment]:
    """The assignments not removed, oldest first (of one path, some ids, some kinds)."""
    query = select(Assignment).where(
        Assignment.team_id == team_id, col(Assignment.removed_at).is_(None)
    )
    if path is not None:
        query = query.where(Assignment.path == path)
    if ids is not None:
        query = query.where(col(Assignment.id).in_(ids))
    if kinds is not None:
        query = query.where(col(Assignment.target_kind).in_(kinds))
    return list(session.exec(query.order_by(col(Assignment.assigned_at), col(Assignment.id))))


def save(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


def assigners(session: Session, *, team_id: str, ids: Sequence[int]) -> dict[int, str]:
    """Who made each of these assignments ("" for an onboarding journey)."""
    if not ids:
        return {}
    query = select(Assignment.id, Assignment.assigned_by).where(
        Assignment.team_id == team_id, col(Assignment.id).in_(ids)
    )
    return {int(row_id): str(by) for row_id, by in session.exec(query) if row_id is not None}


# --- the people an assignment reached -------------------------------------------------------


def people(
    session: Session, *, team_id: str, assignment_ids: Sequence[int]
) -> list[AssignedPerson]:
    if not assignment_ids:
        return []
    query = select(AssignedPerson).where(
        AssignedPerson.team_id == team_id, col(AssignedPerson.assignment_id).in_(assignment_ids)
    )
    return list(session.exec(query.order_by(col(AssignedPerson.added_at))))


def add_person(
    session: Session, *, team_id: str, assignment_id: int, user_id: str, at: datetime
) -> bool:
    """Record that an assignment reached someone; False when it had (another instance, or
    an earlier pass, got there first)."""
    statement = (
        insert_for(session)(AssignedPerson)
        .values(team_id=team_id, assignment_id=assignment_id, user_id=user_id, added_at=at)
        .on_conflict_do_nothing(index_elements=["team_id", "assignment_id", "user_id"])
    )
    return changed(session, statement)


def forget_people(session: Session, *, team_id: str, assignment_id: int) -> None:
    """Forget whom a removed assignment reached: assigned anew, it reaches them afresh."""
    session.execute(
        delete(AssignedPerson).where(
            col(AssignedPerson.team_id) == team_id,
            col(AssignedPerson.assignment_id) == assignment_id,
        )
    )


def _person(team_id: str, assignment_id: int, user_ids: Sequence[str]) -> Any:
    return and_(
        col(AssignedPerson.team_id) == team_id,
        col(AssignedPerson.assignment_id) == assignment_id,
        col(AssignedPerson.user_id).in_(user_ids),
    )


def mark_left(
    session: Session, *, team_id: str, assignment_id: int, user_ids: Sequence[str], at: datetime
) -> list[str]:
    """These people left the group or channel: those not marked so before."""
    if not user_ids:
        return []
    statement = (
        update(AssignedPerson)
        .where(_person(team_id, assignment_id, user_ids), col(AssignedPerson.left_at).is_(None))
        .values(left_at=at)
        .returning(col(AssignedPerson.user_id))
    )
    return [str(user) for user in session.execute(statement).scalars()]


def mark_back(
    session: Session, *, team_id: str, assignment_id: int, user_ids: Sequence[str]
) -> list[str]:
    """These people are back in the group or channel they had left: those marked gone."""
    if not user_ids:
        return []
    statement = (
        update(AssignedPerson)
        .where(_person(team_id, assignment_id, user_ids), col(AssignedPerson.left_at).is_not(None))
        .values(left_at=None)
        .returning(col(AssignedPerson.user_id))
    )
    return [str(user) for user in session.execute(statement).scalars()]


def claim_telling(
    session: Session, *, team_id: str, assignment_id: int, user_id: str, at: datetime
) -> bool:
    """Take the telling of one person (True: this caller tells them; nobody else will)."""
    statement = (
        update(AssignedPerson)
        .where(_person(team_id, assignment_id, [user_id]), col(AssignedPerson.told_at).is_(None))
        .values(told_at=at)
    )
    return changed(session, statement)


def release_telling(
    session: Session, *, team_id: str, assignment_id: int, user_id: str, at: datetime
) -> None:
    """Give back a telling taken at `at` that did not reach the person (Slack refused)."""
    session.execute(
        update(AssignedPerson)
        .where(_person(team_id, assignment_id, [user_id]), col(AssignedPerson.told_at) == at)
        .values(told_at=None)
    )


def reaching(session: Session, *, team_id: str, path: str, user_id: str) -> list[Assignment]:
    """The standing assignments of `path` that reach this person (who has not left)."""
    query = (
        select(Assignment)
        .join(
            AssignedPerson,
            and_(
                col(AssignedPerson.team_id) == col(Assignment.team_id),
                col(AssignedPerson.assignment_id) == col(Assignment.id),
            ),
        )
        .where(
            Assignment.team_id == team_id,
            Assignment.path == path,
            col(Assignment.removed_at).is_(None),
            AssignedPerson.user_id == user_id,
            col(AssignedPerson.left_at).is_(None),
        )
    )
    return list(session.exec(query.order_by(col(Assignment.assigned_at))))


def assigned_to(session: Session, *, team_id: str, user_id: str) -> list[Assignment]:
    """Every standing assignment that reaches this person."""
    query = (
        select(Assignment)
        .join(
            AssignedPerson,
            and_(
                col(AssignedPerson.team_id) == col(Assignment.team_id),
                col(AssignedPerson.assignment_id) == col(Assignment.id),
            ),
        )
        .where(
            Assignment.team_id == team_id,
            col(Assignment.removed_at).is_(None),
            AssignedPerson.user_id == user_id,
            col(AssignedPerson.left_at).is_(None),
        )
    )
    return list(session.exec(query.order_by(col(Assignment.assigned_at))))


# --- members of groups and channels ---------------------------------------------------------


def members(
    session: Session, *, team_id: str, kind: str, target: str, lock: bool = False
) -> GroupMembers | None:
    """The cached members of a group or channel (`lock`: held until the unit of work ends,
    where the database can, so that two changes to one list do not lose each other)."""
    query = select(GroupMembers).where(
        GroupMembers.team_id == team_id, GroupMembers.kind == kind, GroupMembers.target == target
    )
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def save_members(
    session: Session,
    *,
    team_id: str,
    kind: str,
    target: str,
    name: str,
    user_ids: Sequence[str],
    at: datetime,
) -> None:
    """Keep a group's or channel's members as Slack listed them (whoever writes last wins:
    each writer read Slack afresh)."""
    values = {"name": name[:100], "members": list(dict.fromkeys(user_ids)), "refreshed_at": at}
    statement = insert_for(session)(GroupMembers).values(
        team_id=team_id, kind=kind, target=target, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["team_id", "kind", "target"], set_=values)
    )
    session.expire_all()


def claim_refresh(
    session: Session, *, team_id: str, kind: str, target: str, stale_before: datetime, at: datetime
) -> bool:
    """Take the refresh of a group's or channel's members when the copy is older than
    `stale_before` (or there is none): True for one caller, so that several instances do not
    all ask Slack."""
    if members(session, team_id=team_id, kind=kind, target=target) is None:
        return True
    statement = (
        update(GroupMembers)
        .where(
            col(GroupMembers.team_id) == team_id,
            col(GroupMembers.kind) == kind,
            col(GroupMembers.target) == target,
            col(GroupMembers.refreshed_at) <= stale_before,
        )
        .values(refreshed_at=at)
    )
    return changed(session, statement)


# --- what the people reached have done ------------------------------------------------------


def link_subscription(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    path: str,
    origin: str,
    assignment_id: int | None,
    due_on: date | None,
    stop_at: datetime | None = None,
) -> None:
    """Say how a person's path came to them (which assignment, due when), leaving their
    progress and whether it runs as it is; `stop_at` stops it too."""
    values: dict[str, Any] = {"origin": origin, "assignment_id": assignment_id, "due_on": due_on}
    if stop_at is not None:
        values |= {"active": False, "stopped_at": stop_at}
    session.execute(
        update(LessonSubscription)
        .where(
            col(LessonSubscription.team_id) == team_id,
            col(LessonSubscription.user_id) == user_id,
            col(LessonSubscription.path) == path,
        )
        .values(**values)
    )


def began(session: Session, *, team_id: str, user_id: str, path: str) -> bool:
    """Whether this person was ever sent (or has planned) a lesson of `path`, or did one."""
    sent = select(LessonDelivery.id).where(
        LessonDelivery.team_id == team_id,
        LessonDelivery.recipient == user_id,
        LessonDelivery.path == path,
        col(LessonDelivery.status) != FAILED,
    )
    done = select(LessonDone.lesson_id).where(
        LessonDone.team_id == team_id, LessonDone.user_id == user_id, LessonDone.path == path
    )
    return (
        session.exec(sent.limit(1)).first() is not None
        or session.exec(done.limit(1)).first() is not None
    )


def completed(session: Session, *, team_id: str, path: str, user_ids: Sequence[str]) -> set[str]:
    """Who of these people completed `path`."""
    if not user_ids:
        return set()
    query = select(PathCompletion.user_id).where(
        PathCompletion.team_id == team_id,
        PathCompletion.path == path,
        col(PathCompletion.user_id).in_(user_ids),
    )
    return {str(user) for user in session.exec(query)}


def zones(session: Session, *, team_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    """Each learner's time zone, as their lessons use it."""
    if not user_ids:
        return {}
    query = select(Learner.user_id, Learner.tz).where(
        Learner.team_id == team_id, col(Learner.user_id).in_(user_ids)
    )
    return {str(user): str(tz) for user, tz in session.exec(query)}


def journey(
    session: Session, *, team_id: str, path: str, target: str, name: str, at: datetime
) -> Assignment:
    """A path's onboarding journey: its standing assignment to everyone who joins (made
    once, whichever instance hears of the first newcomer)."""
    session.execute(
        insert_for(session)(Assignment)
        .values(
            team_id=team_id,
            path=path,
            target_kind=JOINERS,
            target=target,
            target_name=name,
            assigned_by="",
            assigned_at=at,
        )
        .on_conflict_do_nothing(index_elements=["team_id", "path", "target_kind", "target"])
    )
    found = find(session, team_id=team_id, path=path, kind=JOINERS, target=target)
    assert found is not None
    return found


def unenrolled(
    session: Session, *, team_id: str, assignment_ids: Sequence[int]
) -> list[AssignedPerson]:
    """People told of an assignment who are not on its path at all (the instance telling
    them stopped before it enrolled them)."""
    if not assignment_ids:
        return []
    query = (
        select(AssignedPerson)
        .join(
            Assignment,
            and_(
                col(Assignment.team_id) == col(AssignedPerson.team_id),
                col(Assignment.id) == col(AssignedPerson.assignment_id),
            ),
        )
        .outerjoin(
            LessonSubscription,
            and_(
                col(LessonSubscription.team_id) == col(AssignedPerson.team_id),
                col(LessonSubscription.user_id) == col(AssignedPerson.user_id),
                col(LessonSubscription.path) == col(Assignment.path),
            ),
        )
        .where(
            AssignedPerson.team_id == team_id,
            col(AssignedPerson.assignment_id).in_(assignment_ids),
            col(AssignedPerson.told_at).is_not(None),
            col(AssignedPerson.left_at).is_(None),
            col(LessonSubscription.user_id).is_(None),
        )
    )
    return list(session.exec(query))
