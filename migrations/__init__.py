"""The catalogue's schema and its Alembic migrations, for every package's tables.

The catalogue holds the tables of several packages (records and access, retention, the intake
queue, the index outbox); this neutral package knows them all, so ``records`` needs to import
nothing of the others. The composition root (``web/bootstrap.py``) calls :func:`migrate` from
``dossier init`` and :func:`schema_is_current` whenever it opens the archive.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["LOCATION", "head_revision", "migrate", "schema_is_current"]

LOCATION = Path(__file__).resolve().parent
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]*)['\"]|None)", re.MULTILINE)


def migrate(engine: Engine) -> None:
    """Bring the catalogue schema to the newest revision (idempotent)."""
    from alembic import command

    command.upgrade(_config(engine), "head")


@cache
def head_revision() -> str:
    """The newest revision id, read from the revision files (no Alembic import: opening the archive
    on every CLI call should not pay ~70 ms for loading Alembic; ``tests`` check it agrees)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (LOCATION / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        if (rev := _REVISION.search(body)) is None:
            continue
        revisions.add(rev.group(1))
        if (down := _DOWN.search(body)) is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def schema_is_current(engine: Engine) -> bool:
    """Whether the catalogue is at the newest revision (false for an empty or older database).

    Raises:
        CatalogueUnavailableError: a database server cannot be reached. Not "false": that would
            tell the operator to run `dossier init` against an archive that is merely down.
    """
    try:
        conn = engine.connect()
    except (OperationalError, InterfaceError) as exc:
        # SQLite opens a local file: failing to means there is no archive there, as before.
        if engine.dialect.name == "sqlite":
            return False
        from records.db import catalogue_unavailable

        raise catalogue_unavailable(exc) or exc from exc
    try:
        with conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):
        return False
    return current == [head_revision()]


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(LOCATION))
    cfg.attributes["engine"] = engine
    return cfg
