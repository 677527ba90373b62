"""listening channels: where Eddy answers questions nobody addressed to it, and the questions
it picked up there (claimed once per message)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_question",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("asker", sa.String(length=32), nullable=False),
        sa.Column("asked_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reply_ts", sa.String(length=32), nullable=True),
        sa.Column("answered_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("colleague_replied_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("followed_up_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_question")),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "message_ts",
            name=op.f("uq_channel_question_team_id_channel_id_message_ts"),
        ),
    )
    with op.batch_alter_table("channel_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_question_asked_at"), ["asked_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_channel_question_asker"), ["asker"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_channel_question_follow_up_at"), ["follow_up_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_channel_question_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_channel_question_team_id"), ["team_id"], unique=False)

    op.create_table(
        "listening_channel",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("turned_on_by", sa.String(length=32), nullable=False),
        sa.Column("turned_on_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("follow_up_minutes", sa.Integer(), nullable=False),
        sa.Column("hourly_limit", sa.Integer(), nullable=False),
        sa.Column("dismiss_emoji", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name=op.f("pk_listening_channel")),
    )


def downgrade() -> None:
    op.drop_table("listening_channel")
    with op.batch_alter_table("channel_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_question_team_id"))
        batch_op.drop_index(batch_op.f("ix_channel_question_question_id"))
        batch_op.drop_index(batch_op.f("ix_channel_question_follow_up_at"))
        batch_op.drop_index(batch_op.f("ix_channel_question_asker"))
        batch_op.drop_index(batch_op.f("ix_channel_question_asked_at"))

    op.drop_table("channel_question")
