"""the LRS's backoff, shared by every instance (one row per endpoint): when to try a failing
LRS again is the LRS's business, no longer each statement's

Pending statements become due: their `next_attempt_at` held each one's own backoff, and now
only leases a claimed batch (the LRS's backoff holds the rest back).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lrs_backoff",
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("probe_until", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("endpoint", name=op.f("pk_lrs_backoff")),
    )
    op.execute("UPDATE lrs_outbox SET next_attempt_at = queued_at WHERE status = 'pending'")


def downgrade() -> None:
    op.drop_table("lrs_backoff")
