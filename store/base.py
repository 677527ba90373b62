"""What every table shares: the Slack workspace it belongs to, UTC timestamps, stable names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

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
