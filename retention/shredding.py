"""Destroying one sealed dossier by crypto-shredding (RET, ARC-2; issue #6 part 4, issue #12).

The steps, in this order, each idempotent and each safe to be interrupted:

a. append the dossier to the signed destruction ledger (``retention.ledger``): from here on a
   restore of any older backup destroys it again, so the destruction is promised before it starts;
b. destroy every wrapped data key of the dossier's objects in the catalogue (one commit):
   from here on nothing of the dossier can be decrypted from this catalogue, even from a blob that survives;
c. destroy the dossier's own key in the key ring (``Vault.dossier_keys``): its sealed fields and
   the object keys wrapped under it (``dossier:<id>``) are unreadable in *every* copy of the
   catalogue too — old backups, PostgreSQL's old row versions and WAL, replicas; then the
   by-products other packages keep about it are scrubbed (``scrubbers``: intake job rows);
d. delete each object's blob from the store (a missing blob is one deleted before a crash);
e. remove the documents' entries from the search index;
f. reduce the catalogue row to its tombstone and mark the dossier DISPOSED.

A crash anywhere leaves a state from which running the same destruction again finishes the job:
the ledger line is written once, keys are never restored, blobs and index entries that are
already gone are ignored, and the tombstone refuses to be written while any object still has a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from records.clock import Clock, system_clock
from records.errors import InvalidTransitionError
from records.model import DossierInfo, DossierState

if TYPE_CHECKING:  # annotations only: the records core is loaded by whoever hands it over
    from records.service import RecordsService
    from records.vault import Vault
    from retention.ledger import DestructionLedger

log = logging.getLogger(__name__)


class ShreddingSearch(Protocol):
    """The search index as destruction uses it (``search.service.SearchService`` is one): retention
    names only the one call it makes, and does not depend on a search back end."""

    def remove(self, document_ids: list[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class ShredReport:
    """What one destruction did (counts and ids only, never content)."""

    archive_number: str
    keys_destroyed: int
    blobs_deleted: int
    index_entries_removed: int
    tombstone: DossierInfo


def destroy_dossier(records: RecordsService, vault: Vault, search: ShreddingSearch, number: str, *, actor: str,
                    note: str, on_blob_deleted: Callable[[str], None] | None = None,
                    ledger: DestructionLedger | None = None, clock: Clock | None = None,
                    scrubbers: Sequence[Callable[[str], object]] = ()) -> ShredReport:
    """Crypto-shred a sealed dossier and leave only its tombstone (see the module docstring).

    Args:
        records: destroys the data keys, lists what is stored, writes the tombstone.
        vault: deletes the blobs.
        search: drops the documents' index entries.
        number: the dossier's archive number (or id).
        note: what the DISPOSED step records: the rule and disposition id, never content.
        on_blob_deleted: called with each object id once its blob is gone (progress, tests).
        ledger: the destruction ledger (step a); None only where no restore can ever replay (tests
            of the steps themselves).
        clock: the archive clock, stamped on the destroyed dossier key (step c).
        scrubbers: each called with the archive number after the keys are gone (step c), to blank
            what other packages keep about the dossier (intake jobs' file names, messages,
            staging keys); each must be idempotent.

    Raises:
        InvalidTransitionError: the dossier is not sealed (nothing is destroyed then).
        AuditKeyError: the ledger cannot be signed (nothing is destroyed then).
        StorageUnavailableError: a blob could not be deleted; the keys are already destroyed and
            a re-run deletes what is left.
    """
    before = records.disposal_manifest(actor, number)
    if before.state not in (DossierState.SEALED, DossierState.DISPOSED):
        # Checked before the ledger line: a dossier that cannot be destroyed must not be promised to be.
        raise InvalidTransitionError(before.archive_number, before.state, "destroy its documents (seal it first)")
    if ledger is not None:
        ledger.append(dossier_id=before.dossier_id, archive_number=before.archive_number, note=note)
    keys = records.destroy_data_keys(actor, number)
    if vault.dossier_keys is not None:
        vault.dossier_keys.destroy(before.dossier_id, now=(clock or system_clock)())
    for scrub in scrubbers:
        scrub(before.archive_number)
    manifest = records.disposal_manifest(actor, number)
    deleted = 0
    for item in manifest.items:
        for obj in item.objects:
            # Only shredded objects are deleted: a blob whose key still exists would be lost data.
            if obj.shredded_at is None:
                continue
            vault.delete_object(obj.object_id)
            deleted += 1
            if on_blob_deleted is not None:
                on_blob_deleted(obj.object_id)
    document_ids = [i.document_id for i in manifest.items]
    if document_ids:
        search.remove(document_ids)
    tombstone = records.tombstone_dossier(actor, number, note=note)
    log.info("dossier %s shredded: %d key(s) destroyed now, %d blob(s) deleted, %d index entr(ies) removed",
             manifest.archive_number, keys, deleted, len(document_ids))
    return ShredReport(manifest.archive_number, keys, deleted, len(document_ids), tombstone)


__all__ = ["ShredReport", "ShreddingSearch", "destroy_dossier"]
