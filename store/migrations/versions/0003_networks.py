"""networks: topics as last loaded, members, away experts, routed questions with their posts
and timeline, and drafted entries waiting for review

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('entry_draft',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('routed_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=True),
    sa.Column('proposed_by', sa.String(length=32), nullable=False),
    sa.Column('proposed_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by', sa.String(length=32), nullable=True),
    sa.Column('reviewed_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('slug', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_draft'))
    )
    with op.batch_alter_table('entry_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_draft_routed_id'), ['routed_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_draft_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_draft_team_id'), ['team_id'], unique=False)

    op.create_table('expert_away',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('since', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_expert_away'))
    )
    op.create_table('network_member',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('added_by', sa.String(length=32), nullable=False),
    sa.Column('joined_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'topic', 'user_id', name=op.f('pk_network_member'))
    )
    op.create_table('network_topic',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('updated_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'key', name=op.f('pk_network_topic'))
    )
    op.create_table('routed_post',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('routed_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=True),
    sa.Column('posted_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routed_post')),
    sa.UniqueConstraint('team_id', 'channel', 'ts', name=op.f('uq_routed_post_team_id_channel_ts'))
    )
    with op.batch_alter_table('routed_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routed_post_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_post_routed_id'), ['routed_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_post_team_id'), ['team_id'], unique=False)

    op.create_table('routed_question',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('asker_id', sa.String(length=32), nullable=False),
    sa.Column('question', sa.String(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('routed_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=32), nullable=True),
    sa.Column('answer', sa.String(), nullable=True),
    sa.Column('answered_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalation_tier', sa.Integer(), nullable=False),
    sa.Column('saved_slug', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routed_question'))
    )
    with op.batch_alter_table('routed_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routed_question_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_question_claimed_by'), ['claimed_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_question_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_question_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_question_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_question_topic'), ['topic'], unique=False)

    op.create_table('routed_step',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('routed_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routed_step'))
    )
    with op.batch_alter_table('routed_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routed_step_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_step_routed_id'), ['routed_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routed_step_team_id'), ['team_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('routed_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routed_step_team_id'))
        batch_op.drop_index(batch_op.f('ix_routed_step_routed_id'))
        batch_op.drop_index(batch_op.f('ix_routed_step_at'))

    op.drop_table('routed_step')
    with op.batch_alter_table('routed_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routed_question_topic'))
        batch_op.drop_index(batch_op.f('ix_routed_question_team_id'))
        batch_op.drop_index(batch_op.f('ix_routed_question_status'))
        batch_op.drop_index(batch_op.f('ix_routed_question_question_id'))
        batch_op.drop_index(batch_op.f('ix_routed_question_claimed_by'))
        batch_op.drop_index(batch_op.f('ix_routed_question_asker_id'))

    op.drop_table('routed_question')
    with op.batch_alter_table('routed_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routed_post_team_id'))
        batch_op.drop_index(batch_op.f('ix_routed_post_routed_id'))
        batch_op.drop_index(batch_op.f('ix_routed_post_recipient'))

    op.drop_table('routed_post')
    op.drop_table('network_topic')
    op.drop_table('network_member')
    op.drop_table('expert_away')
    with op.batch_alter_table('entry_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_draft_team_id'))
        batch_op.drop_index(batch_op.f('ix_entry_draft_status'))
        batch_op.drop_index(batch_op.f('ix_entry_draft_routed_id'))

    op.drop_table('entry_draft')
