"""Alembic environment: the engine comes from migrations.migrate (or alembic.ini's URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import records.access.tables  # noqa: F401  (the access tables join the same metadata)
import retention.tables  # noqa: F401  (retention plans, holds, dispositions: migration 0004)
import ingest.tables  # noqa: F401  (the intake-job queue: migration 0005)
from records.tables import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # running the alembic CLI by hand: alembic -x url=sqlite:///...
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
