"""badges: the badge rules as last loaded, each reaction's state, the points ledger, each
giver's daily spending, running totals and the badges awarded

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badge_award",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("awarded_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "badge", name=op.f("pk_badge_award")),
    )
    with op.batch_alter_table("badge_award", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_badge_award_awarded_at"), ["awarded_at"], unique=False)

    op.create_table(
        "badge_rules",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "key", name=op.f("pk_badge_rules")),
    )
    op.create_table(
        "giving_day",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "giver", "day", name=op.f("pk_giving_day")),
    )
    op.create_table(
        "point_ledger",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("receiver", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("giver_day", sa.Date(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_ledger")),
    )
    with op.batch_alter_table("point_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_ledger_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_ledger_giver"), ["giver"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_ledger_receiver"), ["receiver"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_ledger_team_id"), ["team_id"], unique=False)

    op.create_table(
        "point_total",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "emoji", name=op.f("pk_point_total")),
    )
    op.create_table(
        "reaction_state",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("receiver", sa.String(length=32), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("last_event_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "giver", "channel", "message_ts", "emoji", name=op.f("pk_reaction_state")
        ),
    )


def downgrade() -> None:
    op.drop_table("reaction_state")
    op.drop_table("point_total")
    with op.batch_alter_table("point_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_ledger_team_id"))
        batch_op.drop_index(batch_op.f("ix_point_ledger_receiver"))
        batch_op.drop_index(batch_op.f("ix_point_ledger_giver"))
        batch_op.drop_index(batch_op.f("ix_point_ledger_at"))

    op.drop_table("point_ledger")
    op.drop_table("giving_day")
    op.drop_table("badge_rules")
    with op.batch_alter_table("badge_award", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_badge_award_awarded_at"))

    op.drop_table("badge_award")
