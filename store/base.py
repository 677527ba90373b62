"""What every table shares: the Slack workspace it belongs to, UTC timestamps, stable names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Insert, MetaData, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(**kwargs: Any) -> Any:
    """A `Field` for an aware UTC timestamp column."""
    return Field(sa_type=UTCDateTime, **kwargs)


class TeamKeyed(SQLModel):
    """Mixin for a table with a natural key: rows belong to one Slack workspace (Enterprise
    Grid ready), and the workspace is part of the primary key."""

    team_id: str = Field(max_length=32, primary_key=True)


class TeamScoped(SQLModel):
    """Mixin for a table with a surrogate `id` key: rows belong to one Slack workspace.
    (An auto-incrementing `id` must be the whole primary key on SQLite and PostgreSQL.)"""

    team_id: str = Field(max_length=32, index=True)


#: Tables that belong to the deployment rather than to a workspace, and so have no `team_id`:
#: the state of the one LRS that EDDY_LRS_URL names for every workspace (store/lrs.py).
DEPLOYMENT_TABLES = frozenset({"lrs_backoff"})


#: How long a content key (a topic's key, a learning path's or a lesson's id, a badge's id)
#: may be, in every table that keeps one (`content check` refuses longer ones).
KEY_LENGTH = 64
#: How long a knowledge entry's slug (its file name) may be, in every table that keeps one.
SLUG_LENGTH = 120


class ContentSpec(TeamKeyed):
    """Mixin for a content definition (a topic, a learning path) as last loaded without
    problems, kept as JSON so that a broken file keeps serving its last good version, also
    across a restart and on every instance."""

    key: str = Field(max_length=KEY_LENGTH, primary_key=True)
    spec: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    updated_at: datetime = utc_field()


def insert_for(session: Session) -> Any:
    """The dialect's INSERT, for `ON CONFLICT DO NOTHING` (same spelling on both backends)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def changed(session: Session, statement: Any) -> bool:
    """Run a conditional UPDATE (or an INSERT … ON CONFLICT DO NOTHING / DO UPDATE … WHERE);
    True when it changed a row, that is, when this caller won.

    An INSERT asks for RETURNING rather than the row count: psycopg reports -1 rows for an
    INSERT … ON CONFLICT on PostgreSQL, which would make every caller the winner."""
    if isinstance(statement, Insert) and not statement._returning:
        return session.execute(statement.returning(literal_column("1"))).first() is not None
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def save_specs(
    session: Session,
    *,
    current: dict[str, Any],
    make: Callable[[str], Any],
    specs: dict[str, dict[str, Any]],
    keep: set[str],
    at: datetime,
) -> None:
    """Store content definitions (topics, paths) as JSON `spec` rows keyed by `key`: the good
    ones from `specs`; those in `keep` (broken in their file) stay as they were; the rest of
    `current` are gone. `make(key)` builds a new row."""
    for key, spec in specs.items():
        row = current.get(key) or make(key)
        if row.spec != spec:
            row.spec, row.updated_at = spec, at
            session.add(row)
    for key, row in current.items():
        if key not in specs and key not in keep:
            session.delete(row)
