"""Executing an approved disposition: destruction or transfer, then its signed certificate (RET; issue #6 part 4).

:func:`execute_disposition` is what ``dossier dispose run`` calls once a disposition has been
reviewed and approved (``retention.service`` checks holds, plans and approvals; this module only
executes). It is idempotent per ``disposition_id``: after a crash anywhere, calling it again with
the same arguments completes the remaining steps and writes the one certificate.

- **destroy**: each dossier is crypto-shredded (``retention.shredding``): a signed line in the
  destruction ledger (``tools.ledger``, replayed by every restore), the catalogue's data keys, the
  dossier's own key in the key ring, then blobs, then
  index entries, then the catalogue tombstone. Removing the index entries is enough: the embedded
  FTS5 index deletes with ``secure-delete`` (its postings leave the encrypted pages in place, #12),
  so no full rebuild follows unless the caller asks (``compact_index``; for OpenSearch, whose
  deleted documents leave its segments only at their next merge).
- **transfer**: a BagIt package of every dossier is written and validated first
  (``retention.transfer``); only then is each dossier shredded and tombstoned the same way, its
  DISPOSED step noting the transfer. A re-run finds the validated package and does not rebuild
  it (it could not: keys may already be gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from records.service import RecordsService
from records.errors import InvalidTransitionError, NotAllowedInStateError
from records.model import DossierInfo, DossierState
from retention.certificate import CertifiedDossier, CertifiedItem, certificate_paths, issue_certificate
from retention.dispositions import DisposalTools
from retention.errors import RetentionError
from retention.model import Approval, CertificateRef
from retention.shredding import destroy_dossier
from retention.transfer import ARCHIVE_NAME, validate_bag, write_bag
from records.clock import system_clock

log = logging.getLogger(__name__)

__all__ = ["DisposalTools", "TransferPackageMissingError", "execute_disposition", "transfer_path"]

Action = Literal["destroy", "transfer"]
_STARTABLE = frozenset({DossierState.SEALED, DossierState.DISPOSED})


class TransferPackageMissingError(RetentionError, NotAllowedInStateError):
    """A transfer's destruction had begun but its package is gone: the dossiers cannot be packaged again."""

    def __init__(self, disposition_id: str, path: Path) -> None:
        super().__init__(f"disposition {disposition_id}: its transfer package {path} is missing, and some "
                         "documents are already destroyed; restore the package to finish")
        self.disposition_id = disposition_id
        self.path = str(path)


def transfer_path(out_dir: Path, disposition_id: str) -> Path:
    """Where a transfer's package goes unless the caller names a directory."""
    return out_dir / "transfers" / f"disposition-{disposition_id}"


def execute_disposition(
    tools: DisposalTools, *, disposition_id: str, numbers: list[str], action: Action, actor: str,
    approvals: list[Approval], rules: dict[str, str], out_dir: Path, transfer_dir: Path | None = None,
    clock: Callable[[], datetime] | None = None, on_blob_deleted: Callable[[str], None] | None = None,
    compact_index: bool = False,
) -> CertificateRef:
    """Destroy or transfer ``numbers`` and write the signed certificate under ``out_dir`` (RET).

    Args:
        tools: the records core, vault, index and access to work with (``DispositionDesk.tools``
            as wired in ``web/bootstrap.py``).
        rules: archive number → the retention rule id it is disposed under (on the certificate).
        out_dir: the certificates directory (``[retention] disposition_dir``, default ``<data_dir>/dispositions``).
        transfer_dir: the transfer package's directory; default :func:`transfer_path`.
        clock: aware UTC "now" for the certificate (tests freeze it).
        on_blob_deleted: progress callback, called with each object id whose blob is deleted.
        compact_index: also rebuild the search index afterwards (a full reindex, whose cost grows
            with the archive). Off by default since #12: the embedded FTS5 index deletes with
            ``secure-delete``, which removes a destroyed document's postings from its encrypted
            pages in place when its entry is removed, so a rebuild adds nothing there. On
            OpenSearch/Elasticsearch a deleted document is only marked deleted and its terms vanish
            from the Lucene segments at their next merge; pass True (or force-merge the index) where
            that interval matters. The entries themselves are removed either way.

    Raises:
        InvalidTransitionError: a dossier is not sealed; nothing was destroyed.
        TransferPackageMissingError: see the class.
        BagExistsError / BagInvalidError: the transfer package could not be written or fails validation.
        AuditKeyError: the archive's signing key is missing (the certificate is written by a re-run).
    """
    if action not in ("destroy", "transfer"):
        raise ValueError(f"unknown disposition action {action!r}")
    records = tools.records
    numbers = list(dict.fromkeys(numbers))
    json_path, _ = certificate_paths(out_dir, disposition_id)
    infos = [records.get_dossier(actor, n) for n in numbers]
    if not json_path.exists():
        for info in infos:
            if info.state not in _STARTABLE:
                raise InvalidTransitionError(info.archive_number, info.state, f"{action} it (seal it first)")
        transfer: dict[str, str | int] | None = None
        if action == "transfer":
            bag_dir = transfer_dir or transfer_path(out_dir, disposition_id)
            transfer = _ensure_package(tools.records, disposition_id, infos, bag_dir, actor)
        for info in infos:
            if info.state is DossierState.DISPOSED:
                continue  # finished before a crash
            rule = rules.get(info.archive_number, "-")
            note = (f"{'transferred' if action == 'transfer' else 'destroyed'} under rule {rule} "
                    f"(disposition {disposition_id})")
            destroy_dossier(records, tools.vault, tools.search, info.archive_number, actor=actor, note=note,
                            on_blob_deleted=on_blob_deleted, ledger=tools.ledger,
                            clock=tools.clock or clock, scrubbers=tools.scrubbers)
        if compact_index:
            # Not needed for FTS5 (secure-delete removed the postings in place, #12); Lucene keeps
            # deleted documents' terms in its segments until they merge, and a fresh index built
            # from the live documents holds none of them.
            tools.search.rebuild(records.filed_documents(actor))
        infos = [records.get_dossier(actor, n) for n in numbers]
    else:
        transfer = None  # the certificate exists: it is returned as written
    certified = [_certified(info, rules.get(info.archive_number, "-")) for info in infos]
    ref = issue_certificate(
        disposition_id=disposition_id, action=action, actor=actor, approvals=approvals, dossiers=certified,
        issued_at=(clock or system_clock)(), signer=tools.access.sign_statement, out_dir=out_dir,
        archive_name=ARCHIVE_NAME, transfer=transfer,
    )
    log.info("disposition %s (%s) of %d dossier(s) complete; certificate %s", disposition_id, action,
             len(numbers), ref.json_path)
    return ref


def _ensure_package(records: RecordsService, disposition_id: str, infos: Sequence[DossierInfo],
                    bag_dir: Path, actor: str) -> dict[str, str | int]:
    if bag_dir.exists():
        validated = validate_bag(bag_dir)  # written by an earlier, interrupted run
        return {"package": bag_dir.name, "payload_oxum": validated.payload_oxum,
                "tagmanifest_sha256": validated.tagmanifest_sha256}
    if any(i.state is DossierState.DISPOSED
           or records.disposal_manifest(actor, i.archive_number).shredding_started for i in infos):
        raise TransferPackageMissingError(disposition_id, bag_dir)
    report = write_bag(records, infos, bag_dir, actor=actor, bag_info={
        "External-Identifier": f"disposition-{disposition_id}", "Dossier-Action": "transfer",
        "Dossier-Disposition-Id": disposition_id,
    })
    return {"package": bag_dir.name, "payload_oxum": report.payload_oxum,
            "tagmanifest_sha256": report.tagmanifest_sha256}


def _certified(info: DossierInfo, rule: str) -> CertifiedDossier:
    d = info.state_dates
    return CertifiedDossier(
        archive_number=info.archive_number, rule=rule,
        received_on=d.get(DossierState.REGISTERED), closed_on=d.get(DossierState.CLOSED),
        sealed_on=d.get(DossierState.SEALED), disposed_on=d.get(DossierState.DISPOSED),
        items=tuple(CertifiedItem(doc.item_number, doc.kind.value, doc.media_type, doc.size, doc.sha256)
                    for doc in info.documents),
    )


