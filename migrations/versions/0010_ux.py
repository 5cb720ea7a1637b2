"""web app (issue #11): saved searches; a junk upload withdrawn from its dossier

- ``saved_searches``: a user's named query (the query text and sort), listed on the search page.
  The query text can name people, so it is the user's own row and goes with the account.
- ``documents.withdrawn_at / withdrawn_by / withdrawn_reason``: an upload withdrawn as junk (a
  blank scan, the wrong file). It keeps its number (ARC-3) and its row; it leaves lists, search and
  completeness checks, and the reason is kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:40:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_searches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('sort', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'name', name='uq_saved_search_owner_name')
    )
    op.create_index('ix_saved_searches_owner', 'saved_searches', ['owner'])
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('withdrawn_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('withdrawn_reason')
        batch.drop_column('withdrawn_by')
        batch.drop_column('withdrawn_at')
    op.drop_index('ix_saved_searches_owner', table_name='saved_searches')
    op.drop_table('saved_searches')
