"""routed_post.notice: a post of a routed question to someone it was not sent to as an
expert (a manager's "Needs you" alert, a note to the answerer), recorded so that a reply in
its thread reaches the question, without counting as one of the experts it was sent to

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routed_post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notice", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("routed_post", schema=None) as batch_op:
        batch_op.drop_column("notice")
