"""action posts: messages whose buttons stop meaning anything once their action is done (each
reviewer's copy of a draft's review card, a "Save to knowledge index" prompt), kept until they
are redrawn without those buttons

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_post",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("about", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_post")),
        sa.UniqueConstraint(
            "team_id", "channel", "ts", name=op.f("uq_action_post_team_id_channel_ts")
        ),
    )
    with op.batch_alter_table("action_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_post_about"), ["about"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_post_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_post_team_id"))
        batch_op.drop_index(batch_op.f("ix_action_post_about"))
    op.drop_table("action_post")
