"""Alembic environment bound to Eddy's SQLModel metadata.

`Store.upgrade()` passes its own connection in `config.attributes["connection"]`; the
`alembic` command line (see alembic.ini) builds one from DATABASE_URL instead.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

import store.db  # noqa: F401  (imports every table module)
from store.base import metadata


def render_item(kind: str, obj: Any, _: AutogenContext) -> str | Literal[False]:
    """Write SQLModel's string type as plain `sa.String` in new migrations, so that they do
    not depend on SQLModel's internals."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from bot.settings import load_settings
    from store.db import Store

    database = Store.connect(load_settings().database_url)
    with database.engine.begin() as own_connection:
        run_migrations(own_connection)
    database.close()


if context.is_offline_mode():
    raise SystemExit("Eddy's migrations run online only: use `uv run app.py db upgrade`.")
run_online()
