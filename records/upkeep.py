"""VaultUpkeep: verifying every stored object and rotating the master key (ARC-6).

Both walk the catalogue's stored objects and ask the vault about each; neither changes what a
dossier holds, so the service needs only the catalogue and the vault, and no listener hears of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging

from sqlalchemy import select

from records.db import UnitOfWork
from records.lookup import CatalogueLookup
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault import IntegrityError, Vault, VaultError, WrappedKey

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class VerifyProblem:
    item_number: str
    object_kind: str
    problem: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    problems: tuple[VerifyProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class RotationReport:
    new_key_id: str
    rewrapped: int
    already_current: int


class VaultUpkeep:
    """Vault maintenance use cases of RecordsService: the catalogue (``uow``, ``lookup``) and the vault."""

    def __init__(self, uow: UnitOfWork, vault: Vault, lookup: CatalogueLookup) -> None:
        self._uow = uow
        self._vault = vault
        self._lookup = lookup

    # ------------------------------------------------------------------ vault maintenance
    def verify_vault(self, actor: str, *, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Decrypt every stored object and compare it with its recorded hash (ARC-6)."""
        with self._uow.read() as s:
            rows = s.execute(
                select(StoredObjectRow, DocumentRow, DossierRow)
                .join(DocumentRow, StoredObjectRow.document_id == DocumentRow.id)
                .join(DossierRow, DocumentRow.dossier_id == DossierRow.id)
                .where(StoredObjectRow.shredded_at.is_(None))
                .order_by(DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)
            ).all()
            items = [
                (self._lookup.item_number(d.archive_number, doc.item_seq, doc.version), o.id, o.kind, o.key_id, o.wrapped_key, o.sha256)
                for o, doc, d in rows
            ]
        problems: list[VerifyProblem] = []
        for n, (item, object_id, kind, key_id, wrapped, sha) in enumerate(items, 1):
            try:
                if key_id is None or wrapped is None:
                    raise IntegrityError(object_id, "wrapped data key missing")
                self._vault.verify_object(object_id, kind, WrappedKey(key_id, wrapped), sha)
            except VaultError as exc:
                problems.append(VerifyProblem(item, kind, str(exc)))
            if progress:
                progress(n, len(items))
        return VerifyReport(checked=len(items), problems=tuple(problems))

    def rotate_master_key(self, actor: str, *, batch: int = 500) -> RotationReport:
        """Make a new master key current and re-wrap every data key under it; blobs stay as they are."""
        new_key = self._vault.rotate_master_key()
        rewrapped = current = 0
        last_id = ""
        while True:
            with self._uow.write() as s:
                rows = list(s.scalars(
                    select(StoredObjectRow).where(StoredObjectRow.wrapped_key.is_not(None), StoredObjectRow.id > last_id)
                    .order_by(StoredObjectRow.id).limit(batch)
                ))
                if not rows:
                    break
                for o in rows:
                    assert o.key_id is not None and o.wrapped_key is not None
                    if o.key_id == new_key:
                        current += 1
                        continue
                    w = self._vault.rewrap(WrappedKey(o.key_id, o.wrapped_key), object_id=o.id, kind=o.kind)
                    o.key_id, o.wrapped_key = w.key_id, w.ciphertext
                    rewrapped += 1
                last_id = rows[-1].id
        log.info("master key rotated to %s by %s: %d data keys re-wrapped", new_key, actor, rewrapped)
        return RotationReport(new_key_id=new_key, rewrapped=rewrapped, already_current=current)
