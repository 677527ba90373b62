"""knowledge: entries as served, learned questions, the question log

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_entry",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("reviewed", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=True),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("flagged_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "slug", name=op.f("pk_knowledge_entry")),
    )
    with op.batch_alter_table("knowledge_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_entry_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "learned_question",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("wording", sa.String(length=1000), nullable=False),
        sa.Column("learned_from", sa.String(length=32), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_question")),
        sa.UniqueConstraint(
            "team_id", "slug", "wording", name=op.f("uq_learned_question_team_id_slug_wording")
        ),
    )
    with op.batch_alter_table("learned_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_question_slug"), ["slug"], unique=False)
        batch_op.create_index(batch_op.f("ix_learned_question_team_id"), ["team_id"], unique=False)

    op.create_table(
        "question_log",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("confident", sa.Boolean(), nullable=False),
        sa.Column("answered_slug", sa.String(length=120), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("feedback_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_log")),
    )
    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_log_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_log_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_log_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_log_user_id"))
        batch_op.drop_index(batch_op.f("ix_question_log_team_id"))
        batch_op.drop_index(batch_op.f("ix_question_log_asked_at"))

    op.drop_table("question_log")
    with op.batch_alter_table("learned_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_question_team_id"))
        batch_op.drop_index(batch_op.f("ix_learned_question_slug"))

    op.drop_table("learned_question")
    with op.batch_alter_table("knowledge_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_entry_updated_at"))

    op.drop_table("knowledge_entry")
