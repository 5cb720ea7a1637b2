"""Composition root: Settings → backends → the Services bundle the CLI (and later web) share."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from records.workdays import ChinaWorkingCalendar, profiles_from_settings
from ingest.jobs import IntakeQueue
from ingest.service import IngestService
from records.db import UnitOfWork, make_engine, migrate, schema_is_current
from records.clock import Clock, system_clock
from records.errors import ConfigurationError
from records.numbering import NumberingScheme
from records.service import RecordsService
from records.settings import Settings
from records.vault import Vault, WrappedKey, open_blob_store, open_key_provider
from records.access.log import AccessLog, ensure_signing_key
from records.access.service import AccessService
from retention.service import RetentionService
from search.analysis import normalize_keyword
from search.backends import open_index
from search.service import SearchService
from records.vault.keys import create_key_file


class ArchiveNotInitialisedError(ConfigurationError):
    def __init__(self, where: str) -> None:
        super().__init__(f"no archive at {where}; run `dossier init` first (or pass --data-dir)")
        self.where = where


@dataclass(slots=True)
class Services:
    records: RecordsService
    ingest: IngestService
    search: SearchService
    access: AccessService
    retention: RetentionService
    uow: UnitOfWork
    vault: Vault
    intake: IntakeQueue
    clock: Clock = system_clock   # the archive's "now": every door asks this, never the wall clock

    def today(self, tz: ZoneInfo) -> date:
        """The archive's current date in ``tz``."""
        return self.clock().astimezone(tz).date()

    def close(self) -> None:
        self.ingest.close()
        self.search.close()
        self.vault.close()
        self.uow.close()


def _zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {settings.timezone!r}") from exc


def init_archive(settings: Settings) -> dict[str, str]:
    """Create (or upgrade) the archive: data directory, master key file, catalogue schema.

    Idempotent: an existing key file is kept, never overwritten.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    done: dict[str, str] = {"data_dir": str(settings.data_dir)}
    if settings.keys.provider == "file":
        if settings.key_file.exists():
            done["key_file"] = f"{settings.key_file} (kept)"
        else:
            key_id = create_key_file(settings.key_file)
            done["key_file"] = f"{settings.key_file} (created, key {key_id})"
    if settings.vault.backend == "local":
        settings.vault_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        done["vault"] = str(settings.vault_root)
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    done["catalogue"] = _masked_url(settings.database_url)
    key_id, created = ensure_signing_key(settings.audit_signing_key)
    done["audit_key"] = f"{settings.audit_signing_key} ({'created' if created else 'kept'}, {key_id})"
    return done


def build_services(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Services:
    """Open the configured archive. Raises ArchiveNotInitialisedError if `dossier init` never ran.

    ``clock`` (aware UTC "now") is for tests that freeze time.
    """
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    if not schema_is_current(engine):
        engine.dispose()
        raise ArchiveNotInitialisedError(_masked_url(settings.database_url))
    if settings.keys.provider == "file" and not settings.key_file.exists():
        engine.dispose()
        raise ArchiveNotInitialisedError(str(settings.key_file))
    tz = _zone(settings)
    clock = clock or system_clock
    uow = UnitOfWork(engine)
    vault = Vault(open_blob_store(settings), open_key_provider(settings), segment_size=settings.vault.segment_size)
    records = RecordsService(
        uow,
        vault,
        numbering=NumberingScheme(settings.numbering.template, settings.numbering.serial_width),
        item_width=settings.numbering.item_width,
        profiles=profiles_from_settings(settings.deadlines),
        default_profile=settings.deadlines.default_profile,
        calendar=ChinaWorkingCalendar.from_settings(settings.deadlines),
        tz=tz,
        clock=clock,
    )
    search = SearchService(
        open_index(settings.search, data_dir=settings.data_dir, key=_search_key(settings, vault)), tz)
    # The index follows the catalogue: new documents, and dossiers whose state or fields changed.
    records.on_document_filed(search.index_filed, many=search.index_filed_many)
    records.on_dossier_changed(lambda number: search.reindex_dossier(records.filed_documents("system", dossier=number)))
    log = AccessLog(signing_key=settings.audit_signing_key, checkpoint_file=settings.audit_checkpoint_file,
                    checkpoint_every=settings.access.checkpoint_every, clock=clock)
    access = AccessService(uow, log, fold=normalize_keyword, clock=clock)
    ingest = IngestService(records, settings.ingest)
    intake = IntakeQueue(uow, vault, records, ingest, clock=clock)
    retention = RetentionService(uow, records, access, log, settings=settings.retention,
                                 rules_file=settings.retention_rules_file, disposition_dir=settings.disposition_dir,
                                 tz=tz, fold=normalize_keyword, clock=clock)
    return Services(records=records, ingest=ingest, search=search, access=access, retention=retention,
                    uow=uow, vault=vault, intake=intake, clock=clock)


_SEARCH_KEY_CONTEXT = {"purpose": "search-index"}


def _search_key(settings: Settings, vault: Vault) -> bytes:
    """The secret sealing the embedded index's stored text, kept wrapped by the master key.

    Created on first use (``<data_dir>/search.key``, 0600); re-wrapped by `dossier keys rotate`.
    """
    path = settings.data_dir / "search.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f"search.key.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        _write_wrapped_key(tmp, vault.keys.wrap(os.urandom(32), context=_SEARCH_KEY_CONTEXT))
        try:
            # link() publishes a complete file or fails: when several processes open a new archive
            # at once, exactly one key wins and every process reads that one.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    data = json.loads(path.read_text())
    return vault.keys.unwrap(WrappedKey(data["key_id"], base64.b64decode(data["ciphertext"])), context=_SEARCH_KEY_CONTEXT)


def rewrap_search_key(settings: Settings, vault: Vault) -> None:
    """Re-wrap the search key under the current master key (after `dossier keys rotate`)."""
    path = settings.data_dir / "search.key"
    if not path.exists():
        return
    key = _search_key(settings, vault)
    tmp = path.with_suffix(".tmp")
    _write_wrapped_key(tmp, vault.keys.wrap(key, context=_SEARCH_KEY_CONTEXT))
    os.replace(tmp, path)


def _write_wrapped_key(path: Path, wrapped: WrappedKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"key_id": wrapped.key_id, "ciphertext": base64.b64encode(wrapped.ciphertext).decode()}, f)
        f.flush()
        os.fsync(f.fileno())


def _masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
