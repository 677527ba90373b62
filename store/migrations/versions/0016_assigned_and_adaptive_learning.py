"""assigned and adaptive learning: assignments of paths to people, user groups and channels
(and the members each reached), how a person came to a path, its due date, a journey's day 1
and its placement check; lessons known without being sent; reminders of unanswered lessons
and lessons paused until the person resumes them

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lesson_reminder",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=64), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=False),
        sa.Column("sent_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "delivery_id", "step", name=op.f("pk_lesson_reminder")),
    )
    with op.batch_alter_table("lesson_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_reminder_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lesson_reminder_user_id"), ["user_id"], unique=False)
    op.create_table(
        "assigned_person",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("told_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "team_id", "assignment_id", "user_id", name=op.f("pk_assigned_person")
        ),
    )
    op.create_table(
        "group_members",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("refreshed_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "kind", "target", name=op.f("pk_group_members")),
    )
    op.create_table(
        "lesson_assignment",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("target_name", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("why", sa.String(length=300), nullable=True),
        sa.Column("assigned_by", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_assignment")),
        sa.UniqueConstraint(
            "team_id",
            "path",
            "target_kind",
            "target",
            name=op.f("uq_lesson_assignment_team_id_path_target_kind_target"),
        ),
    )
    with op.batch_alter_table("lesson_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_assignment_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("paused_at", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("streak_warned_day", sa.Date(), nullable=True))

    with op.batch_alter_table("lesson_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("remind_at", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_lesson_delivery_remind_at"), ["remind_at"], unique=False
        )

    with op.batch_alter_table("lesson_done", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("how", sa.String(length=16), server_default="learned", nullable=False)
        )

    with op.batch_alter_table("lesson_subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="self", nullable=False)
        )
        batch_op.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("anchor_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("placement", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_lesson_subscription_assignment_id"), ["assignment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lesson_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_reminder_user_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_reminder_sent_at"))
    op.drop_table("lesson_reminder")
    with op.batch_alter_table("lesson_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_subscription_assignment_id"))
        batch_op.drop_column("placement")
        batch_op.drop_column("anchor_day")
        batch_op.drop_column("due_on")
        batch_op.drop_column("assignment_id")
        batch_op.drop_column("origin")

    with op.batch_alter_table("lesson_done", schema=None) as batch_op:
        batch_op.drop_column("how")

    with op.batch_alter_table("lesson_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_delivery_remind_at"))
        batch_op.drop_column("remind_at")
        batch_op.drop_column("reminders")

    with op.batch_alter_table("learner", schema=None) as batch_op:
        batch_op.drop_column("streak_warned_day")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("paused_reason")

    with op.batch_alter_table("lesson_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_assignment_team_id"))

    op.drop_table("lesson_assignment")
    op.drop_table("group_members")
    op.drop_table("assigned_person")
