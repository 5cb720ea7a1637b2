"""casework (issue #10): imported dossiers keep their source number; a corrected kind keeps who and why; office calendars

- ``dossiers.source_reference``: the number a dossier had in the archive it was transferred from
  (``import-bag``), kept as a recorded reference beside our own number.
- ``documents.kind_set_by / kind_set_reason / kind_set_at``: a person corrected the document kind
  (``dossier reclassify``); ``kind_rule`` keeps the classification rule that had fired.
- ``calendar_days``: the official working-day calendar of a year, loaded by the office
  (``dossier calendar import``) when no package has that year (TL-01..04 count working days).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(sa.Column('source_reference', sa.Text(), nullable=True))
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('kind_set_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('kind_set_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('kind_set_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_index('ix_calendar_days_year', 'calendar_days', ['year'])


def downgrade() -> None:
    op.drop_index('ix_calendar_days_year', table_name='calendar_days')
    op.drop_table('calendar_days')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('kind_set_at')
        batch.drop_column('kind_set_reason')
        batch.drop_column('kind_set_by')
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_column('source_reference')
