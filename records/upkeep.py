"""VaultUpkeep: verifying every stored object and rotating the master key (ARC-6).

Rotation (issue #12 item 5) re-wraps everything the master key wraps: the per-dossier keys in
the key ring, the intake queue's staging keys (``also_rewrap``, composed in ``web/bootstrap.py``),
and object keys still under the master key. Objects filed before issue #12 whose dossier is still
held are moved under their dossier's key on the way (creating the key), which is how an older
archive gets the property that destroying a dossier's key reaches every backup. Their clear
registration fields, notes, reasons and file names are sealed in the same run
(:meth:`VaultUpkeep.seal_clear_fields`).

Both walk the catalogue's stored objects and ask the vault about each; neither changes what a
dossier holds, so the service needs only the catalogue and the vault, and no listener hears of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import logging
from datetime import datetime

from sqlalchemy import select

from records.db import UnitOfWork
from records.lookup import CatalogueLookup
from sqlalchemy.orm import Session

from records.model import DossierState
from records.sealing import SEALED_DOSSIER_FIELDS, is_sealed
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
    dossier_keys_rewrapped: int = 0   # keys in the dossier key ring
    staging_keys_rewrapped: int = 0   # queued uploads (intake jobs)
    moved_under_dossier_keys: int = 0  # objects filed before issue #12, now wrapped by their dossier's key
    dossiers_sealed: int = 0          # dossiers whose clear fields (written before issue #12) were sealed now


class VaultUpkeep:
    """Vault maintenance use cases of RecordsService: the catalogue (``uow``, ``lookup``) and the vault."""

    def __init__(self, uow: UnitOfWork, vault: Vault, lookup: CatalogueLookup, *, clock: Callable[[], datetime],
                 also_rewrap: Sequence[Callable[[], int]] = ()) -> None:
        self._uow = uow
        self._vault = vault
        self._lookup = lookup
        self._clock = clock
        self._also_rewrap = tuple(also_rewrap)

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
        ring = self._vault.dossier_keys
        ring_done = ring.rewrap() if ring is not None else 0
        rewrapped = current = moved = 0
        last_id = ""
        while True:
            with self._uow.write() as s:
                rows = list(s.execute(
                    select(StoredObjectRow, DossierRow.id, DossierRow.state)
                    .join(DocumentRow, StoredObjectRow.document_id == DocumentRow.id)
                    .join(DossierRow, DocumentRow.dossier_id == DossierRow.id)
                    .where(StoredObjectRow.wrapped_key.is_not(None), StoredObjectRow.id > last_id)
                    .order_by(StoredObjectRow.id).limit(batch)
                ))
                if not rows:
                    break
                for o, dossier_id, state in rows:
                    assert o.key_id is not None and o.wrapped_key is not None
                    wrapped = WrappedKey(o.key_id, o.wrapped_key)
                    if ring is not None and not o.key_id.startswith("dossier:") and state != DossierState.DISPOSED:
                        ring.create(dossier_id, now=self._clock())
                        w = self._vault.wrap_for_dossier(wrapped, object_id=o.id, kind=o.kind, dossier_id=dossier_id)
                        moved += 1
                    elif o.key_id == new_key or o.key_id.startswith("dossier:"):
                        current += 1  # a dossier-wrapped key follows its dossier key (re-wrapped above)
                        continue
                    else:
                        w = self._vault.rewrap(wrapped, object_id=o.id, kind=o.kind)
                        rewrapped += 1
                    o.key_id, o.wrapped_key = w.key_id, w.ciphertext
                last_id = rows[-1][0].id
        staging = sum(rewrap() for rewrap in self._also_rewrap)
        sealed = self.seal_clear_fields(actor, batch=batch) if ring is not None else 0
        log.info("master key rotated to %s by %s: %d data keys re-wrapped, %d moved under dossier keys, "
                 "%d dossier keys and %d staging keys re-wrapped", new_key, actor, rewrapped, moved, ring_done, staging)
        return RotationReport(new_key_id=new_key, rewrapped=rewrapped, already_current=current,
                              dossier_keys_rewrapped=ring_done, staging_keys_rewrapped=staging,
                              moved_under_dossier_keys=moved, dossiers_sealed=sealed)

    def seal_clear_fields(self, actor: str, *, batch: int = 200) -> int:
        """Seal what dossiers registered before issue #12 hold in clear; returns how many dossiers changed.

        Disposed dossiers are skipped (their tombstone keeps no personal field). Idempotent: a
        sealed value is left as it is, so an interrupted run is finished by the next one.
        """
        lookup, changed, last_id = self._lookup, 0, ""
        while True:
            with self._uow.write() as s:
                rows = list(s.scalars(select(DossierRow).where(DossierRow.id > last_id, DossierRow.state != DossierState.DISPOSED)
                                      .order_by(DossierRow.id).limit(batch)))
                if not rows:
                    break
                ring = lookup.sealer.keyring
                for row in rows:
                    if ring.destroyed(row.id):
                        continue  # a disposal that stopped after destroying the key: its re-run blanks the row
                    if self._seal_row(s, row, lookup):
                        changed += 1
                last_id = rows[-1].id
        if changed:
            log.info("sealed the clear fields of %d dossier(s) for %s", changed, actor)
        return changed

    @staticmethod
    def _seal_row(s: Session, row: DossierRow, lookup: CatalogueLookup) -> bool:
        def seal(obj: object, attr: str, field: str) -> bool:
            value = getattr(obj, attr)
            if value is None or is_sealed(value) or value == "":
                return False
            setattr(obj, attr, lookup.seal(row.id, field, value))
            return True

        done = False
        for name in SEALED_DOSSIER_FIELDS:
            done = seal(row, name, name) or done
        if row.evidence and not (len(row.evidence) == 1 and is_sealed(row.evidence[0])):
            lookup.ensure_key(row.id)
            row.evidence = lookup.sealer.seal_list(row.id, "evidence", list(row.evidence))
            done = True
        for t in row.transitions:
            done = seal(t, "note", "transition.note") or done
        for e in row.extensions:
            done = seal(e, "reason", "extension.reason") or done
        for doc in s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id)):
            for attr in ("filename", "outcome_message", "kind_set_reason", "withdrawn_reason"):
                done = seal(doc, attr, f"document.{attr}") or done
        return done

