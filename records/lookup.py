"""CatalogueLookup: finding catalogue rows and turning them into domain values, inside a caller's transaction.

Every records use case needs the same few lookups: a dossier by archive number or id, a document
by item number, a stored object of a document, the duplicate and open-dossier checks, and rows
turned into ``DossierInfo``/``DocumentInfo``. They are repository helpers over the SQLAlchemy
``Session`` the use case opened on the unit of work (``uow.read()``/``uow.write()``), so they
never open or commit a transaction themselves and share nothing but the item-number width.
They were once a base class every use case inherited; handed in as one small object instead,
each service (``records.service``, ``records.filing``, ``records.upkeep``, ``records.tombstone``)
shows in its constructor exactly what it depends on.

It is also where catalogue rows meet the dossier keys (issue #12; privacy of the parties, ACS-10): ``info`` and
``document_info`` open the sealed fields (registration, transition notes, extension reasons,
file names, intake messages and reasons) with the dossier's key, and :meth:`seal` seals what a
use case writes. Once a dossier's key is destroyed those fields read as blank; nothing here
raises for it, so a disposed dossier's tombstone still shows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, selectinload

from records.clock import Clock
from records.errors import (
    DocumentNotFoundError, DossierClosedError, DossierNotFoundError, DuplicateDocumentError,
)
from records.mapping import registration_of
from records.model import (
    OPEN_STATES, Channel, DocumentId, DocumentInfo, DocumentKind, DocumentSource, DossierId,
    DossierInfo, DossierState, Extension, ObjectKind, Transition, item_number,
)
from records.sealing import FieldSealer
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault.errors import DossierKeyGoneError, DossierKeyMissingError


class CatalogueLookup:
    """Row lookups and row → domain value mapping over a caller's ``Session`` (ARC-3 item numbers).

    Args:
        item_width: digits of an item's sequence number.
        sealer: seals and opens dossier fields under each dossier's key (``records.sealing``).
        clock: the archive clock, for the creation time of a key made on a first sealed write.
    """

    def __init__(self, item_width: int, sealer: FieldSealer, *, clock: Clock) -> None:
        self._item_width = item_width
        self._sealer = sealer
        self._clock = clock

    @property
    def sealer(self) -> FieldSealer:
        return self._sealer

    # ------------------------------------------------------------------ sealed fields (issue #12)
    def ensure_key(self, dossier_id: str) -> None:
        """Make ``dossier_id``'s key if it has none yet (a dossier registered before issue #12).

        The key ring is its own file, committed at once: a key made for a write that then rolls
        back is an orphan key that seals nothing, which is harmless.

        Raises:
            DossierKeyGoneError: the key was destroyed (the dossier is disposed of).
        """
        try:
            self._sealer.keyring.key(dossier_id)
        except (DossierKeyGoneError, DossierKeyMissingError):
            self._sealer.keyring.create(dossier_id, now=self._clock())  # raises DossierKeyGoneError if destroyed

    def seal(self, dossier_id: str, field: str, value: str | None) -> str | None:
        """``value`` sealed for ``field`` of the dossier (its key made first if it has none)."""
        if value is None:
            return None
        self.ensure_key(dossier_id)
        return self._sealer.seal(dossier_id, field, value)

    def open(self, dossier_id: str, field: str, stored: str | None) -> str | None:
        """The clear value of a sealed field; None once the dossier's key is destroyed.

        Raises:
            WrongKeyError: the value was not sealed for this dossier and field (copied or altered).
        """
        return self._sealer.open(dossier_id, field, stored)

    def item_number(self, archive_number: str, item_seq: int, version: int = 1) -> str:
        """The item number of a document (``2611-007-03``, ``2611-007-03.v2``)."""
        return item_number(archive_number, item_seq, self._item_width, version)

    @staticmethod
    def dossier_row(s: Session, ref: str, *, load_all: bool = False) -> DossierRow:
        """Find a dossier by archive number or id; ``load_all`` also loads its timeline and documents."""
        q = select(DossierRow).where((DossierRow.archive_number == ref) | (DossierRow.id == ref))
        if load_all:
            q = q.options(selectinload(DossierRow.transitions), selectinload(DossierRow.extensions),
                          selectinload(DossierRow.documents))
        row = s.scalars(q).first()
        if row is None:
            raise DossierNotFoundError(ref)
        return row

    @staticmethod
    def document_row(s: Session, item: str) -> DocumentRow:
        """Find a document by item number (``2611-007-03``, ``2611-007-03.v2``) or id."""
        by_id = s.get(DocumentRow, item)
        if by_id is not None:
            return by_id
        base, _, ver = item.partition(".v")
        number, sep, seq_text = base.rpartition("-")
        if not sep or not seq_text.isdigit() or (ver and not ver.isdigit()):
            raise DocumentNotFoundError(item)
        q = (select(DocumentRow).join(DossierRow).where(
            DossierRow.archive_number == number, DocumentRow.item_seq == int(seq_text)))
        q = q.where(DocumentRow.version == int(ver)) if ver else q.where(DocumentRow.version == 1)
        doc = s.scalars(q).first()
        if doc is None:
            raise DocumentNotFoundError(item)
        return doc

    @staticmethod
    def object_row(s: Session, document_id: str, kind: ObjectKind) -> StoredObjectRow:
        """The stored object of one kind (original, text) of a document."""
        obj = s.scalars(select(StoredObjectRow).where(
            StoredObjectRow.document_id == document_id, StoredObjectRow.kind == kind)).first()
        if obj is None:
            raise DocumentNotFoundError(f"{document_id}/{kind}")
        return obj

    @staticmethod
    def check_open(row: DossierRow) -> None:
        """Raise ``DossierClosedError`` unless the dossier still takes material."""
        if DossierState(row.state) not in OPEN_STATES:
            raise DossierClosedError(row.archive_number, row.state)

    def check_duplicate(self, s: Session, row: DossierRow, sha256: str) -> None:
        """Raise ``DuplicateDocumentError`` if these bytes are already filed in the dossier."""
        dup = s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id, DocumentRow.sha256 == sha256)).first()
        if dup is not None:
            raise DuplicateDocumentError(row.archive_number, sha256, self.item_number(row.archive_number, dup.item_seq, dup.version))

    def document_info(self, s: Session, dossier: DossierRow, doc: DocumentRow | Row[Any], *,
                      numbers: Mapping[str, str] | None = None) -> DocumentInfo:
        """A document row as the domain value callers see.

        ``doc`` may also be a plain row of the documents table (a reindex reads thousands at once,
        and mapping each to an ORM object cost more than the rest of the read); ``numbers`` (document
        id → item number of the dossier's documents) then names the parent and superseded items
        without a query each.
        """
        def number_of(doc_id: str | None) -> str | None:
            if doc_id is None:
                return None
            if numbers is not None and doc_id in numbers:
                return numbers[doc_id]
            other = s.get(DocumentRow, doc_id)
            return None if other is None else self.item_number(dossier.archive_number, other.item_seq, other.version)

        number = self.item_number(dossier.archive_number, doc.item_seq, doc.version)
        return DocumentInfo(
            document_id=DocumentId(doc.id), item_number=number, version=doc.version, kind=DocumentKind(doc.kind),
            # Without its key (disposed) a file name reads as the item number, as the tombstone writes it.
            filename=self.open(dossier.id, "document.filename", doc.filename) or number, media_type=doc.media_type,
            size=doc.size, sha256=doc.sha256, received_at=doc.received_at,
            channel=Channel(doc.channel) if doc.channel else None, source=DocumentSource(doc.source),
            parent_item=number_of(doc.parent_id), supersedes_item=number_of(doc.supersedes_id),
            filed_at=doc.filed_at, filed_by=doc.filed_by, outcome=doc.outcome,
            outcome_message=self.open(dossier.id, "document.outcome_message", doc.outcome_message),
            pages=doc.pages, languages=tuple(doc.languages or ()),
            text_chars=doc.text_chars, ocr_confidence=doc.ocr_confidence,
            review_pages=tuple(doc.review_pages or ()), kind_rule=doc.kind_rule,
            kind_set_by=doc.kind_set_by,
            kind_set_reason=self.open(dossier.id, "document.kind_set_reason", doc.kind_set_reason),
            withdrawn_at=doc.withdrawn_at, withdrawn_by=doc.withdrawn_by,
            withdrawn_reason=self.open(dossier.id, "document.withdrawn_reason", doc.withdrawn_reason),
        )

    def info(self, row: DossierRow, *, with_documents: bool = True,
             opened: Collection[str] | None = None) -> DossierInfo:
        """A dossier row (still attached to its session) as the domain value callers see.

        ``opened`` names the only sealed registration fields to open (``None``: all of them, and
        the notes and reasons); the others, notes and reasons read as blank. Only for a value that
        stays inside a use case (a listing's deadlines and scope check need no personal field),
        since every opened field costs an AES-GCM open per row.
        """
        def note(field: str, stored: str | None) -> str | None:
            return self.open(row.id, field, stored) if opened is None else None

        transitions = tuple(
            Transition(DossierState(t.state), t.on, t.at, t.actor, note("transition.note", t.note))
            for t in row.transitions)
        state_dates: dict[str, date] = {}
        for t in transitions:
            state_dates.setdefault(str(t.state), t.on)
        documents: tuple[DocumentInfo, ...] = ()
        if with_documents:
            s = Session.object_session(row)
            assert s is not None
            documents = tuple(self.document_info(s, row, d) for d in row.documents)
        return DossierInfo(
            dossier_id=DossierId(row.id), archive_number=row.archive_number, state=DossierState(row.state),
            registration=registration_of(row, self._sealer, opened=opened),
            registered_at=row.registered_at, registered_by=row.registered_by,
            state_dates=state_dates, transitions=transitions,
            extensions=tuple(Extension(e.days, note("extension.reason", e.reason) or "", e.approved_by, e.recorded_at)
                             for e in row.extensions),
            documents=documents, void_reason=note("void_reason", row.void_reason),
            source_reference=row.source_reference,
        )

def closed_on(row: DossierRow) -> date | None:
    """The day the dossier was closed, or None if it never was."""
    return next((t.on for t in row.transitions if t.state == DossierState.CLOSED), None)


__all__ = ["CatalogueLookup", "closed_on"]
