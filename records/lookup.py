"""RecordsLookup: the state and the catalogue lookups every records use case shares.

Finding a dossier by number or id, a document by item number, turning rows into domain values,
the index outbox (``records.outbox``: each change the search index must follow is a row written
in the change's own transaction) and the after-commit listeners. The use cases themselves are in
``records.service`` (dossiers), ``records.filing`` (documents) and ``records.upkeep`` (vault).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from records.db import UnitOfWork
from records.deadlines import SlaProfile, WorkingCalendar
from records.errors import (
    DocumentNotFoundError, DossierClosedError, DossierNotFoundError, DuplicateDocumentError,
)
from records.mapping import registration_of
from records.model import (
    OPEN_STATES, Channel, DocumentId, DocumentInfo, FiledDocument, DocumentKind, DocumentSource, DossierId,
    DossierInfo, DossierState, Extension, ObjectKind, Transition, item_number,
)
from records.numbering import NumberingScheme
from records.outbox import CommittedChanges, IndexChange, IndexOutboxStore, OutboxEntry, record_change
from records.tables import DocumentRow, DossierRow, IndexOutboxRow, StoredObjectRow
from records.vault import Vault
from records.clock import system_clock

log = logging.getLogger(__name__)

_READ_CHUNK = 1024 * 1024


class RecordsLookup:
    """Collaborators, listeners and row lookups shared by the records use cases."""

    def __init__(
        self,
        uow: UnitOfWork,
        vault: Vault,
        *,
        numbering: NumberingScheme,
        item_width: int,
        profiles: dict[str, SlaProfile],
        default_profile: str,
        calendar: WorkingCalendar,
        tz: ZoneInfo,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self._uow = uow
        self._vault = vault
        self._numbering = numbering
        self._item_width = item_width
        self._profiles = profiles
        self._default_profile = default_profile
        self._calendar = calendar
        self._tz = tz
        self._clock = clock
        #: The index outbox's rows, for its drainer (``search.outbox.IndexOutbox``).
        self.outbox = IndexOutboxStore(uow, clock=clock)
        self._index_listeners: list[Callable[[CommittedChanges], None]] = []
        # (per document, per group commit or None): see on_document_filed
        self._listeners: list[tuple[Callable[[FiledDocument], None], Callable[[list[FiledDocument]], None] | None]] = []

    def on_index_changes(self, listener: Callable[[CommittedChanges], None]) -> None:
        """Call ``listener`` right after a commit that wrote index-outbox rows (the index drains them).

        The rows are already durable when it is called: a listener that fails (logged) or a
        process that dies first leaves them for the next drain, never lost.
        """
        self._index_listeners.append(listener)

    def on_document_filed(self, listener: Callable[[FiledDocument], None], *,
                          many: Callable[[list[FiledDocument]], None] | None = None) -> None:
        """Call ``listener`` after each document is committed.

        A group commit (``file_documents``) calls ``many`` once with the whole window instead,
        when given. A failing listener is logged and never undoes the filing. Best effort: the
        search index does not rely on it (it follows the outbox, see :meth:`on_index_changes`).
        """
        self._listeners.append((listener, many))

    # ------------------------------------------------------------------ index outbox
    def _index_change(self, s: Session, kind: IndexChange, ref: str, now: datetime) -> IndexOutboxRow:
        """Note, in the caller's transaction, a change the index must follow (see ``records.outbox``)."""
        return record_change(s, kind, ref, now)

    def _announce(self, entries: Sequence[OutboxEntry], filed: Sequence[FiledDocument] = ()) -> None:
        """After the commit: tell the listeners (the in-process drainer) which rows it wrote."""
        if not entries:
            return
        changes = CommittedChanges(tuple(entries), tuple(filed))
        for listener in self._index_listeners:
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - the rows are committed; the next drain applies them
                log.exception("index listener failed for %d outbox row(s); they stay for the next drain", len(entries))

    # ------------------------------------------------------------------ helpers
    def _dossier_row(self, s: Session, ref: str, *, load_all: bool = False) -> DossierRow:
        q = select(DossierRow).where((DossierRow.archive_number == ref) | (DossierRow.id == ref))
        if load_all:
            q = q.options(selectinload(DossierRow.transitions), selectinload(DossierRow.extensions),
                          selectinload(DossierRow.documents))
        row = s.scalars(q).first()
        if row is None:
            raise DossierNotFoundError(ref)
        return row

    def _document_row(self, s: Session, item: str) -> DocumentRow:
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
    def _object_row(s: Session, document_id: str, kind: ObjectKind) -> StoredObjectRow:
        obj = s.scalars(select(StoredObjectRow).where(
            StoredObjectRow.document_id == document_id, StoredObjectRow.kind == kind)).first()
        if obj is None:
            raise DocumentNotFoundError(f"{document_id}/{kind}")
        return obj

    @staticmethod
    def _check_open(row: DossierRow) -> None:
        if DossierState(row.state) not in OPEN_STATES:
            raise DossierClosedError(row.archive_number, row.state)

    def _check_duplicate(self, s: Session, row: DossierRow, sha256: str) -> None:
        dup = s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id, DocumentRow.sha256 == sha256)).first()
        if dup is not None:
            raise DuplicateDocumentError(row.archive_number, sha256, item_number(row.archive_number, dup.item_seq, self._item_width, dup.version))

    def _document_info(self, s: Session, dossier: DossierRow, doc: DocumentRow) -> DocumentInfo:
        def number_of(doc_id: str | None) -> str | None:
            if doc_id is None:
                return None
            other = s.get(DocumentRow, doc_id)
            return None if other is None else item_number(dossier.archive_number, other.item_seq, self._item_width, other.version)

        return DocumentInfo(
            document_id=DocumentId(doc.id), item_number=item_number(dossier.archive_number, doc.item_seq, self._item_width, doc.version),
            version=doc.version, kind=DocumentKind(doc.kind), filename=doc.filename, media_type=doc.media_type,
            size=doc.size, sha256=doc.sha256, received_at=doc.received_at,
            channel=Channel(doc.channel) if doc.channel else None, source=DocumentSource(doc.source),
            parent_item=number_of(doc.parent_id), supersedes_item=number_of(doc.supersedes_id),
            filed_at=doc.filed_at, filed_by=doc.filed_by, outcome=doc.outcome,
            outcome_message=doc.outcome_message, pages=doc.pages, languages=tuple(doc.languages or ()),
            text_chars=doc.text_chars, ocr_confidence=doc.ocr_confidence,
            review_pages=tuple(doc.review_pages or ()), kind_rule=doc.kind_rule,
        )

    def _info(self, row: DossierRow, *, with_documents: bool = True) -> DossierInfo:
        transitions = tuple(Transition(DossierState(t.state), t.on, t.at, t.actor, t.note) for t in row.transitions)
        state_dates: dict[str, date] = {}
        for t in transitions:
            state_dates.setdefault(str(t.state), t.on)
        documents: tuple[DocumentInfo, ...] = ()
        if with_documents:
            s = Session.object_session(row)
            assert s is not None
            documents = tuple(self._document_info(s, row, d) for d in row.documents)
        return DossierInfo(
            dossier_id=DossierId(row.id), archive_number=row.archive_number, state=DossierState(row.state),
            registration=registration_of(row), registered_at=row.registered_at, registered_by=row.registered_by,
            state_dates=state_dates, transitions=transitions,
            extensions=tuple(Extension(e.days, e.reason, e.approved_by, e.recorded_at) for e in row.extensions),
            documents=documents, void_reason=row.void_reason,
        )


def _closed_on(row: DossierRow) -> date | None:
    return next((t.on for t in row.transitions if t.state == DossierState.CLOSED), None)
