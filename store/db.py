"""The engine, sessions and migrations behind `Store`.

    store = Store.connect("sqlite:///data/eddy.db")   # creates ./data/ on first run
    store.upgrade()                                    # Alembic migrations to head
    with store.session() as session:                   # commits, or rolls back on error
        ...

SQLite is the default for one process; PostgreSQL (`postgresql://…`) serves several instances
behind a load balancer. Both go through the same tables and the same Alembic migrations.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session, create_engine

import store.assignments
import store.badges
import store.events
import store.home
import store.importing
import store.knowledge
import store.lesson_reminders
import store.lessons
import store.listening
import store.lrs
import store.networks
import store.privacy
import store.review
import store.xapi
from store.text import clean_parameters, dumps_json

#: Importing the table modules registers their tables on SQLModel's metadata.
TABLE_MODULES = (
    store.events,
    store.knowledge,
    store.networks,
    store.lessons,
    store.lesson_reminders,
    store.assignments,
    store.listening,
    store.badges,
    store.review,
    store.home,
    store.importing,
    store.xapi,
    store.lrs,
    store.privacy,
)
MIGRATIONS = Path(__file__).parent / "migrations"
#: Any constant works; it only has to be the same for every Eddy instance.
MIGRATION_LOCK_KEY = 0x0EDD1
log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be reached or prepared; `str(error)` is one sentence for people."""


def normalise_url(url: str) -> URL:
    """Parse a DATABASE_URL; plain `postgresql://` and `postgres://` use psycopg 3."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def alembic_config(url: URL) -> Any:
    """Alembic's configuration for Eddy's migrations (Alembic is imported only when needed:
    it is the slowest import of all, and most commands never migrate)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False))
    return config


class Store:
    """One database: an engine, a session factory and the migrations that shape it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # No control character reaches the database, whichever path a string comes by.
        event.listen(engine, "before_cursor_execute", clean_parameters, retval=True)
        # SQLite has one writer at a time, and its busy handler makes a waiting thread sleep in
        # steps of up to 100 ms; threads of this process queue on a lock instead, which keeps
        # the slowest acks short. (busy_timeout still arbitrates between processes.)
        self._sqlite_writer = threading.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def connect(cls, url: str, **engine_options: Any) -> Store:
        parsed = normalise_url(url)
        engine_options = {"json_serializer": dumps_json} | engine_options
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed, **engine_options))
        options = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        return cls(create_engine(parsed, **(options | engine_options)))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> URL:
        return self.engine.url

    def upgrade(self) -> None:
        """Apply every pending migration. Safe when several instances start at once: on
        PostgreSQL an advisory lock lets one migrate while the others wait, then find nothing
        to do."""
        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                from alembic import command

                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except Exception as error:
            raise StoreError(
                f"Could not prepare the database at {self.url.render_as_string()}: "
                f"{type(error).__name__}: {str(error).splitlines()[0]}; "
                "check DATABASE_URL and that the database server is running."
            ) from error

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        Never open one inside another in the same thread: on SQLite the second waits for the
        first forever."""
        with (
            self._sqlite_writer or nullcontext(),
            Session(self.engine, expire_on_commit=False) as session,
        ):
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        """True when the database answers (the health check uses it)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.exception("Database health check failed")
            return False

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: URL, **engine_options: Any) -> Engine:
    """A SQLite engine tuned for a multi-threaded server.

    WAL lets readers run beside the writer; `busy_timeout` makes a writer wait instead of
    failing; `BEGIN IMMEDIATE` takes the write lock at the start of a unit of work, so two
    read-then-write transactions queue up instead of deadlocking (SQLAlchemy's documented
    recipe for pysqlite transactions).
    """
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **engine_options
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # Switching needs the file to itself, and SQLite refuses at once rather than wait
            # while another connection uses it; the mode is persistent, so whichever
            # connection gets there first switches it for all.
            with suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
