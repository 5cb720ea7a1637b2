"""key pins: the master key an archive is pinned to, so a wiped or re-created key service is refused

One row: provider, key name, fingerprint, and a probe (a fixed plaintext wrapped under the key).
Archives from before get their row on first open (records.vault.keys.pin).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_pins',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('key_name', sa.String(length=512), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('probe_key_id', sa.String(length=256), nullable=False),
    sa.Column('probe', sa.LargeBinary(), nullable=False),
    sa.Column('pinned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pinned_how', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('key_pins')
