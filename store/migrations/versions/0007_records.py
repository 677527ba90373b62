"""learning records: the workspace's URL (xAPI actors), the LRS outbox and its cursor, and a
record of erasures that names nobody

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erased_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
    )
    with op.batch_alter_table("erasure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasure_team_id"), ["team_id"], unique=False)

    op.create_table(
        "lrs_cursor",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("queued_until", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_lrs_cursor")),
    )
    op.create_table(
        "lrs_outbox",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("happened_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_lrs_outbox")),
    )
    with op.batch_alter_table("lrs_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lrs_outbox_actor"), ["actor"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_lrs_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lrs_outbox_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lrs_outbox_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_lrs_outbox_team_id"), ["team_id"], unique=False)

    op.create_table(
        "workspace",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=False),
        sa.Column("seen_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_workspace")),
    )


def downgrade() -> None:
    op.drop_table("workspace")
    with op.batch_alter_table("lrs_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lrs_outbox_team_id"))
        batch_op.drop_index(batch_op.f("ix_lrs_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_lrs_outbox_sent_at"))
        batch_op.drop_index(batch_op.f("ix_lrs_outbox_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_lrs_outbox_actor"))

    op.drop_table("lrs_outbox")
    op.drop_table("lrs_cursor")
    with op.batch_alter_table("erasure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_team_id"))

    op.drop_table("erasure")
