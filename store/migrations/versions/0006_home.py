"""home and review: when entries were confirmed and owners reminded, each reader's Home tab
state, where drafts came from and why they were rejected, closed knowledge gaps, and the file
version an entry edited in Slack was based on

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_review",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("reminded_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "slug", name=op.f("pk_entry_review")),
    )
    op.create_table(
        "home_state",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("shown_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_home_state")),
    )
    with op.batch_alter_table("home_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_state_shown_at"), ["shown_at"], unique=False)

    with op.batch_alter_table("entry_draft", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="answer")
        )
        batch_op.add_column(sa.Column("source_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.String(length=500), nullable=True))

    with op.batch_alter_table("knowledge_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_version", sa.String(length=64), nullable=True))

    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covered_slug", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.drop_column("covered_slug")

    with op.batch_alter_table("knowledge_entry", schema=None) as batch_op:
        batch_op.drop_column("file_version")

    with op.batch_alter_table("entry_draft", schema=None) as batch_op:
        batch_op.drop_column("decision_note")
        batch_op.drop_column("source_url")
        batch_op.drop_column("kind")

    with op.batch_alter_table("home_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_state_shown_at"))

    op.drop_table("home_state")
    op.drop_table("entry_review")
