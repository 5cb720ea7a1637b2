"""revocable sessions and token revocation: access_users.session_generation, access_tokens.revoked_by

A signed session cookie names the account's session generation at sign-in; sign-out, a password
change and disabling the account bump it, so every cookie issued before stops working (Flask's
cookie alone cannot be taken back). Existing accounts start at generation 0.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('access_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_by')
    with op.batch_alter_table('access_users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
