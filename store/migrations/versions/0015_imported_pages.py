"""imported pages: each page of an imported source, and the entry or draft it became, so that
importing the source again updates in place

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imported_page",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gone_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "source", "key", name=op.f("pk_imported_page")),
    )


def downgrade() -> None:
    op.drop_table("imported_page")
