"""personal data sealed at rest (issue #12): a blind index for the complainant's name

The personal and free-text fields of ``dossiers``, ``dossier_transitions.note``,
``dossier_extensions.reason`` and ``documents.filename`` / ``outcome_message`` keep their
columns but hold values sealed under the dossier's own key (``records.sealing``; the key lives in
the dossier key ring, outside the catalogue). Equality on the complainant's name needs a keyed
digest in clear: ``dossiers.complainant_mac``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:30:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(sa.Column('complainant_mac', sa.String(length=32), nullable=True))
    op.create_index('ix_dossiers_complainant_mac', 'dossiers', ['complainant_mac'])


def downgrade() -> None:
    op.drop_index('ix_dossiers_complainant_mac', table_name='dossiers')
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_column('complainant_mac')
