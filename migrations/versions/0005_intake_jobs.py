"""intake jobs: uploads accepted (sealed in the vault) and waiting for a background worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:40:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('archive_number', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=100), nullable=False),
    sa.Column('key_id', sa.String(length=256), nullable=True),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=128), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('item_number', sa.String(length=80), nullable=True),
    sa.Column('children', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('object_id')
    )
    with op.batch_alter_table('intake_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_jobs_archive_number'), ['archive_number'], unique=False)
        batch_op.create_index('ix_intake_jobs_state_available', ['state', 'available_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_jobs_state_available')
        batch_op.drop_index(batch_op.f('ix_intake_jobs_archive_number'))

    op.drop_table('intake_jobs')
