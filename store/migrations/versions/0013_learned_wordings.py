"""learned wordings: shared with everyone once corroborated (until then only the person who
taught it), confirmed by managers, weakened by Not helpful and removed for good

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learned_question", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("confirmations", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("confirmed_at", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("not_helpful", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("removed_at", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("removed_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learned_question", schema=None) as batch_op:
        batch_op.drop_column("removed_by")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("not_helpful")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by")
        batch_op.drop_column("confirmations")
        batch_op.drop_column("shared")
