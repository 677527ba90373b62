"""Assigned learning: who assigned which path to whom (a person, a Slack user group, a
channel's members), the people each assignment reached, and the membership of groups and
channels as Slack last said (cached, refreshed).

The people an assignment reached are rows of their own, so a person who joins the group
later is enrolled once (their row is inserted once, whoever notices first), and each person
is told once (`told_at` is set by a conditional update).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from store.base import KEY_LENGTH, TeamKeyed, TeamScoped, utc_field

#: What an assignment names.
PERSON, GROUP, CHANNEL = "person", "group", "channel"
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
