"""Persistence: SQLModel tables, the engine and sessions, typed queries, Alembic migrations.

The only package that knows tables. Callers use `Store` for sessions and the keyword-only
functions of each capability's module (`store.events`, …).
"""

from store.db import Store

__all__ = ["Store"]
