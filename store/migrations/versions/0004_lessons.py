"""lessons: learning paths as last loaded, learners, subscriptions and channel schedules,
every delivery (recorded before it is sent), quiz answers, review cards and progress

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learner',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('deliver_at', sa.String(length=5), nullable=False),
    sa.Column('days', sa.String(length=7), nullable=False),
    sa.Column('next_due_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('streak', sa.Integer(), nullable=False),
    sa.Column('streak_day', sa.Date(), nullable=True),
    sa.Column('best_streak', sa.Integer(), nullable=False),
    sa.Column('stopped_reason', sa.String(length=200), nullable=True),
    sa.Column('stopped_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_learner'))
    )
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_next_due_at'), ['next_due_at'], unique=False)

    op.create_table('lesson_delivery',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=True),
    sa.Column('lesson_id', sa.String(length=64), nullable=True),
    sa.Column('reviews', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claim', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('sent_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_delivery')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_lesson_delivery_dedupe_key'))
    )
    with op.batch_alter_table('lesson_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_delivery_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_lesson_delivery_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lesson_delivery_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_lesson_delivery_team_id'), ['team_id'], unique=False)

    op.create_table('lesson_done',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('lesson_id', sa.String(length=64), nullable=False),
    sa.Column('done_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'path', 'lesson_id', name=op.f('pk_lesson_done'))
    )
    op.create_table('lesson_path',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('updated_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'key', name=op.f('pk_lesson_path'))
    )
    op.create_table('lesson_schedule',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('deliver_at', sa.String(length=5), nullable=False),
    sa.Column('days', sa.String(length=7), nullable=False),
    sa.Column('next_due_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_schedule')),
    sa.UniqueConstraint('team_id', 'channel', 'path', name=op.f('uq_lesson_schedule_team_id_channel_path'))
    )
    with op.batch_alter_table('lesson_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_schedule_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lesson_schedule_team_id'), ['team_id'], unique=False)

    op.create_table('lesson_subscription',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('started_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_delivered_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'path', name=op.f('pk_lesson_subscription'))
    )
    op.create_table('path_completion',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('completed_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'path', name=op.f('pk_path_completion'))
    )
    op.create_table('quiz_answer',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('lesson_id', sa.String(length=64), nullable=False),
    sa.Column('chosen', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('review', sa.Boolean(), nullable=False),
    sa.Column('answered_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_answer')),
    sa.UniqueConstraint('team_id', 'user_id', 'delivery_id', 'path', 'lesson_id', name=op.f('uq_quiz_answer_team_id_user_id_delivery_id_path_lesson_id'))
    )
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_answer_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_answer_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_answer_user_id'), ['user_id'], unique=False)

    op.create_table('review_card',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('lesson_id', sa.String(length=64), nullable=False),
    sa.Column('box', sa.Integer(), nullable=False),
    sa.Column('due_day', sa.Date(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'path', 'lesson_id', name=op.f('pk_review_card'))
    )
    with op.batch_alter_table('review_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_card_due_day'), ['due_day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_card_due_day'))

    op.drop_table('review_card')
    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_answer_user_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_answer_team_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_answer_answered_at'))

    op.drop_table('quiz_answer')
    op.drop_table('path_completion')
    op.drop_table('lesson_subscription')
    with op.batch_alter_table('lesson_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_schedule_team_id'))
        batch_op.drop_index(batch_op.f('ix_lesson_schedule_next_due_at'))

    op.drop_table('lesson_schedule')
    op.drop_table('lesson_path')
    op.drop_table('lesson_done')
    with op.batch_alter_table('lesson_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_delivery_team_id'))
        batch_op.drop_index(batch_op.f('ix_lesson_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_lesson_delivery_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_lesson_delivery_recipient'))

    op.drop_table('lesson_delivery')
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_next_due_at'))

    op.drop_table('learner')
