"""the learning record ledger: every xAPI statement kept as it was made, under an id no other
event has (a fresh UUID), and the UUIDs that tie statements together

Statements were made from the rows each time they were exported or forwarded, under ids
derived from the workspace and row numbers: a new database for the same workspace reused
them, and an edited title changed a statement already sent. Workspaces that existed before
this revision are marked `legacy_ids`: the first recording pass keeps their events under the
ids they were exported and forwarded with, and every event after it gets a new UUID.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_record",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("voids", sa.String(length=36), nullable=True),
        sa.Column("happened_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_learning_record")),
        sa.UniqueConstraint("team_id", "event", name=op.f("uq_learning_record_team_id_event")),
    )
    with op.batch_alter_table("learning_record", schema=None) as batch_op:
        for column in ("team_id", "actor", "voids", "happened_at", "recorded_at"):
            batch_op.create_index(batch_op.f(f"ix_learning_record_{column}"), [column])

    op.create_table(
        "erased_event",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "event", name=op.f("pk_erased_event")),
    )
    op.create_table(
        "record_identity",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "key", name=op.f("pk_record_identity")),
    )
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recorded_until", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("legacy_ids", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(sa.text("UPDATE workspace SET legacy_ids = :yes").bindparams(yes=True))
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.alter_column("legacy_ids", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("legacy_ids")
        batch_op.drop_column("recorded_until")
    op.drop_table("record_identity")
    op.drop_table("erased_event")
    with op.batch_alter_table("learning_record", schema=None) as batch_op:
        for column in ("recorded_at", "happened_at", "voids", "actor", "team_id"):
            batch_op.drop_index(batch_op.f(f"ix_learning_record_{column}"))
    op.drop_table("learning_record")
