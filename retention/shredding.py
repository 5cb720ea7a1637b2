"""Destroying one sealed dossier by crypto-shredding (RET, ARC-2; issue #6 part 4).

The steps, each idempotent and each safe to be interrupted:

1. destroy every wrapped data key of the dossier's objects in the catalogue (one commit):
   from here on nothing of the dossier can be decrypted, even from a blob that survives;
2. delete each object's blob from the store (a missing blob is one deleted before a crash);
3. remove the documents' entries from the search index;
4. reduce the catalogue row to its tombstone and mark the dossier DISPOSED.

A crash anywhere leaves a state from which running the same destruction again finishes the job:
keys are never restored, blobs and index entries that are already gone are ignored, and the
tombstone refuses to be written while any object still has a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from records.model import DossierInfo

if TYPE_CHECKING:  # annotations only: the records core is loaded by whoever hands it over
    from records.service import RecordsService
    from records.vault import Vault

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
                    note: str, on_blob_deleted: Callable[[str], None] | None = None) -> ShredReport:
    """Crypto-shred a sealed dossier and leave only its tombstone (see the module docstring).

    Args:
        records: destroys the data keys, lists what is stored, writes the tombstone.
        vault: deletes the blobs.
        search: drops the documents' index entries.
        number: the dossier's archive number (or id).
        note: what the DISPOSED step records: the rule and disposition id, never content.
        on_blob_deleted: called with each object id once its blob is gone (progress, tests).

    Raises:
        InvalidTransitionError: the dossier is not sealed (nothing is destroyed then).
        StorageUnavailableError: a blob could not be deleted; the keys are already destroyed and
            a re-run deletes what is left.
    """
    keys = records.destroy_data_keys(actor, number)
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
