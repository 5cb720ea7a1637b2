"""DossierTombstones: the catalogue's half of disposal — destroying data keys and tombstoning (RET, ARC-2).

Crypto-shredding happens here, in the catalogue: every stored object's wrapped data key lives in
``stored_objects`` and nowhere else, so nulling it (with ``shredded_at`` stamped) makes the sealed
blob undecryptable at once, wherever copies of the blob may linger. The same commit writes an
index-outbox row per document (``records.outbox``), so the search index drops their entries even
if the process dies next. Deleting the blobs is the caller's next step (``retention.shredding``),
which also removes the index entries at once; the tombstone comes last and
keeps only what proves the disposal: number, dates, category, rule and per-document item
numbers, sizes and hashes.

The tombstone also keeps the **statistics fields** (STA-01, STA-07, STA-10): respondent and
respondent type, category, department, channel, and the receipt and lifecycle dates
(accepted, decided, replied, closed — the timeline's steps, without their notes). The monthly
and weekly reports and the per-person counts are computed from these whenever they are asked
for, so blanking them made a past month's figures change after a disposal (its respondents
turned into 「(未填写)」). They are not the complainant's personal data: the respondent is the
institution or staff member the complaint is *about* (a law firm, a legal-aid office or its
officer), named in the archive's own statistics, sanctions and staff records for as long as
those are kept. Everything about the complainant (name, contact, type) and the matter
(request, facts, remedy, evidence, notes, file names) is blanked.

Since issue #12 the blanked fields were stored sealed under the dossier's own key; blanking them
still matters (the key may be destroyed after the tombstone, and a clear blank reads the same
with or without it), and the blanks are written in clear, so the tombstone reads the same once
the key is gone.

Every step is idempotent, so a disposal that crashed half-way is completed by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select

from records.clock import Clock
from records.db import UnitOfWork
from records.errors import DisposalIncompleteError, InvalidTransitionError
from records.events import ChangeAnnouncer
from records.lookup import CatalogueLookup
from records.model import DossierInfo, DossierState
from records.outbox import IndexChange, OutboxEntry, entry_of
from records.tables import DocumentRow, StoredObjectRow, TransitionRow

log = logging.getLogger(__name__)

# A dossier's documents may be destroyed only once it is sealed (ARC-1-05); DISPOSED lets a re-run finish.
_DISPOSABLE = frozenset({DossierState.SEALED, DossierState.DISPOSED})
# What stays of a disposed dossier's registration: the matter column is NOT NULL.
_TOMBSTONE_MATTER = ""


@dataclass(frozen=True, slots=True)
class StoredObjectState:
    object_id: str
    kind: str
    shredded_at: datetime | None


@dataclass(frozen=True, slots=True)
class DisposalItem:
    """One document as a disposal needs it: what to prove (item, size, hash) and what to delete."""

    document_id: str
    item_number: str
    kind: str
    media_type: str
    size: int
    sha256: str
    objects: tuple[StoredObjectState, ...]


@dataclass(frozen=True, slots=True)
class DisposalManifest:
    dossier_id: str
    archive_number: str
    state: DossierState
    items: tuple[DisposalItem, ...]

    @property
    def live_objects(self) -> int:
        return sum(1 for i in self.items for o in i.objects if o.shredded_at is None)

    @property
    def shredding_started(self) -> bool:
        return any(o.shredded_at is not None for i in self.items for o in i.objects)


class DossierTombstones:
    """Disposal use cases of RecordsService (the catalogue side of crypto-shredding).

    Needs the catalogue (``uow``, ``lookup``), the ``announcer`` (the index drops what is
    shredded) and the archive's clock and time zone (the DISPOSED step's date). Never the vault:
    destroying the wrapped data keys is a catalogue change; deleting blobs is the caller's.
    """

    def __init__(self, uow: UnitOfWork, lookup: CatalogueLookup, announcer: ChangeAnnouncer, *,
                 tz: ZoneInfo, clock: Clock) -> None:
        self._uow = uow
        self._lookup = lookup
        self._announcer = announcer
        self._tz = tz
        self._clock = clock

    def disposal_manifest(self, actor: str, ref: str) -> DisposalManifest:
        """Every document and stored object of a dossier, with whether each object is shredded."""
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref, load_all=True)
            items = []
            for doc in row.documents:
                objects = s.scalars(select(StoredObjectRow).where(StoredObjectRow.document_id == doc.id)
                                    .order_by(StoredObjectRow.kind)).all()
                items.append(DisposalItem(
                    document_id=doc.id,
                    item_number=self._lookup.item_number(row.archive_number, doc.item_seq, doc.version),
                    kind=doc.kind, media_type=doc.media_type, size=doc.size, sha256=doc.sha256,
                    objects=tuple(StoredObjectState(o.id, o.kind, o.shredded_at) for o in objects),
                ))
            return DisposalManifest(row.id, row.archive_number, DossierState(row.state), tuple(items))

    def destroy_data_keys(self, actor: str, ref: str) -> int:
        """Crypto-shred a sealed dossier: null every wrapped data key of its objects, in one commit.

        After this returns no object of the dossier can be decrypted, whether or not its blob is
        still in a store. Already-shredded objects are left as they are (a re-run destroys nothing
        twice). Returns the number of keys destroyed now.

        Raises:
            InvalidTransitionError: the dossier is not sealed (nor already disposed).
        """
        now = self._clock()
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref)
            if DossierState(row.state) not in _DISPOSABLE:
                raise InvalidTransitionError(row.archive_number, row.state, "destroy its documents (seal it first)")
            doc_ids = select(DocumentRow.id).where(DocumentRow.dossier_id == row.id)
            objects = s.scalars(select(StoredObjectRow).where(
                StoredObjectRow.document_id.in_(doc_ids), StoredObjectRow.shredded_at.is_(None))).all()
            for o in objects:
                o.wrapped_key, o.key_id, o.shredded_at = None, None, now
            destroyed = len(objects)
            # Every document, not only those shredded now: a re-run after a crash removes the entries too.
            changes = [self._announcer.record(s, IndexChange.DOCUMENT_REMOVED, doc_id, now)
                       for doc_id in s.scalars(doc_ids.order_by(DocumentRow.item_seq, DocumentRow.version))]
            s.flush()
            entries: list[OutboxEntry] = [entry_of(c) for c in changes]
        # Earlier page images in SQLite's WAL still hold the wrapped keys until it is checkpointed.
        self._uow.checkpoint()
        self._announcer.announce(entries)
        log.info("destroyed %d data key(s) of dossier %s by %s", destroyed, ref, actor)
        return destroyed

    def tombstone_dossier(self, actor: str, ref: str, *, note: str) -> DossierInfo:
        """Reduce a shredded dossier to its tombstone and mark it DISPOSED (RET).

        Kept: number, dates (receipt, event, timeline), channel, department, category, respondent
        and respondent type (statistics fields, see the module docstring), SLA profile,
        counts, and per document its item number, kind, media type, size and SHA-256. Blanked:
        every personal or matter field of the registration, transition and extension notes, and
        document file names and intake messages. ``note`` (rule and disposition id, never
        content) goes on the DISPOSED step. Calling it on a disposed dossier changes nothing.

        Raises:
            InvalidTransitionError: the dossier is not sealed.
            DisposalIncompleteError: some object still has its data key (shred first).
        """
        now = self._clock()
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref, load_all=True)
            state = DossierState(row.state)
            if state is DossierState.DISPOSED:
                return self._lookup.info(row)
            if state not in _DISPOSABLE:
                raise InvalidTransitionError(row.archive_number, row.state, "dispose of it (seal it first)")
            doc_ids = [d.id for d in row.documents]
            live = s.scalars(select(StoredObjectRow.id).where(
                StoredObjectRow.document_id.in_(doc_ids), StoredObjectRow.shredded_at.is_(None))).all()
            if live:
                raise DisposalIncompleteError(row.archive_number, len(live))
            row.matter = _TOMBSTONE_MATTER
            # respondent and respondent_type stay: statistics fields (see the module docstring).
            for name in ("complainant", "complainant_contact", "complainant_type",
                         "request", "facts_and_reasons", "expected_remedy", "receiving_officer", "referring_body",
                         "void_reason"):
                setattr(row, name, None)
            row.evidence = []
            for t in row.transitions:
                t.note = None
            for e in row.extensions:
                e.reason = ""
            for doc in row.documents:
                # The file name often names the complainant; the item number identifies the document.
                doc.filename = self._lookup.item_number(row.archive_number, doc.item_seq, doc.version)
                doc.outcome_message = None
                doc.kind_set_reason = doc.withdrawn_reason = None  # free text, possibly in clear in older rows
            local_day = now.astimezone(self._tz).date()
            row.state = DossierState.DISPOSED
            # In clear, unlike other notes (issue #12): it names the rule and the disposition, never
            # content, and must stay readable once the dossier's key is destroyed.
            row.transitions.append(TransitionRow(state=DossierState.DISPOSED, on=local_day, at=now, actor=actor,
                                                 note=note))
            change = self._announcer.record(s, IndexChange.DOSSIER_CHANGED, row.archive_number, now)
            s.flush()
            entries = [entry_of(change)]
            info = self._lookup.info(row)
        self._uow.checkpoint()  # best effort: a reader holding an old snapshot delays it to the next one
        self._announcer.announce(entries)
        log.info("dossier %s disposed of by %s (%s)", info.archive_number, actor, note)
        return info

    def replay_destruction(self, actor: str, ref: str, *, note: str) -> DossierInfo:
        """Destroy again, after a restore, a dossier the destruction ledger says was destroyed (RET; issue #12).

        Unlike :meth:`destroy_data_keys` and :meth:`tombstone_dossier` this asks nothing of the
        dossier's state: the backup it came back from may be older than its sealing (closed, or
        still open), but the signed ledger says it was destroyed, and destroyed stays destroyed.
        Two commits: every object's wrapped data key nulled (the index drops its documents), the
        dossier taken to SEALED as the ledger found it; then the tombstone, exactly as a disposal
        writes it. A crash between them is completed by calling this again; on a disposed
        dossier it changes nothing. Deleting the blobs is the caller's (the restore copies none
        of a shredded object).
        """
        now = self._clock()
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref)
            if DossierState(row.state) is not DossierState.DISPOSED:
                doc_ids = select(DocumentRow.id).where(DocumentRow.dossier_id == row.id)
                for o in s.scalars(select(StoredObjectRow).where(
                        StoredObjectRow.document_id.in_(doc_ids), StoredObjectRow.shredded_at.is_(None))).all():
                    o.wrapped_key, o.key_id, o.shredded_at = None, None, now
                changes = [self._announcer.record(s, IndexChange.DOCUMENT_REMOVED, doc_id, now)
                           for doc_id in s.scalars(doc_ids.order_by(DocumentRow.item_seq, DocumentRow.version))]
                # The ledger's word stands for the seal the old backup never saw: only a sealed
                # dossier is tombstoned, and this one was sealed when it was destroyed.
                row.state = DossierState.SEALED
                s.flush()
                entries: list[OutboxEntry] = [entry_of(c) for c in changes]
            else:
                entries = []
        self._uow.checkpoint()
        self._announcer.announce(entries)
        info = self.tombstone_dossier(actor, ref, note=note)
        log.info("dossier %s destroyed again after a restore, as the destruction ledger says (%s)",
                 info.archive_number, note)
        return info


__all__ = ["DisposalItem", "DisposalManifest", "DossierTombstones", "StoredObjectState"]
