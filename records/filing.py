"""DocumentFiling: filing originals into a dossier, reading them back, and their extracted text.

An original is sealed and durable in the vault before the catalogue commits; a failed commit
removes the sealed blobs again, so no orphan stays. Each filing writes its index-outbox row in
the same commit (``records.outbox``), so the search index hears of every document filed even if
the process dies right after the commit; listeners hear of it after the commit.

Issue #12: each object's data key is wrapped under its dossier's own key (``Vault.store_object(...,
dossier_id=)``), and the file name, intake message and the reasons of a reclassification or
withdrawal are stored sealed under that key (``CatalogueLookup.seal``); ``document_info`` opens them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
import hashlib
import json
import logging
import os
from pathlib import Path
import threading
from typing import Any
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session, selectinload

from records.clock import Clock
from records.db import UnitOfWork
from records.errors import (
    DocumentNotFoundError, DossierClosedError, DuplicateDocumentError, InvalidRegistrationError, SealedDossierError,
)
from records.events import ChangeAnnouncer
from records.lookup import CatalogueLookup, closed_on
from records.mapping import registration_of
from records.model import (
    Channel, DocumentAnalysis, DocumentInfo, FiledDocument, DocumentKind, DocumentSource, DossierId, DossierState,
    ObjectKind,
)
from records.outbox import IndexChange, OutboxEntry, entry_of
from records.tables import DocumentRow, DossierRow, StoredObjectRow, TransitionRow
from records.vault import SealedObject, Vault, WrappedKey
from records.vault.errors import VaultError

log = logging.getLogger(__name__)

_READ_CHUNK = 1024 * 1024
# Objects of one group commit sealed at once: their fsyncs overlap, and the journal commits them
# together: on the 2-core machine 16-32 threads put 2x as many small objects a second as one
# thread with the disk idle, 13-20x with other writers keeping it busy (64 gained nothing more).
# A group of 32 documents has up to 64 objects (original and text).
_SEAL_THREADS = 32
_seal_pool: ThreadPoolExecutor | None = None
_seal_pool_lock = threading.Lock()


def _sealing_threads() -> ThreadPoolExecutor:
    """The process's threads for sealing a group's objects, started once (under load, starting a
    thread costs milliseconds: a pool per group spent a quarter of its time doing so)."""
    global _seal_pool
    with _seal_pool_lock:
        if _seal_pool is None:
            _seal_pool = ThreadPoolExecutor(max_workers=_SEAL_THREADS, thread_name_prefix="filing-seal")
        return _seal_pool


def _forget_sealing_threads() -> None:
    # A forked child has none of its parent's threads: it starts its own pool when it files.
    global _seal_pool, _seal_pool_lock
    _seal_pool, _seal_pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_sealing_threads)

# Reindex (issue #14): documents read from the catalogue per transaction, and threads opening their
# text objects. A batch of 500 takes four queries (one query per document cost 9x the CPU before).
# The threads wait for blob reads (S3 round trips, a cold disk) and run AES-GCM and SHA-256 without
# the GIL; for small texts on a warm local disk the Python around each open dominates, and they
# gain little beside the index writer (measured: benchmarks/reindex.py).
_REINDEX_BATCH = 500
_OPEN_THREADS = 4


@dataclass(frozen=True, slots=True)
class PendingText:
    """A live document read from the catalogue for the search index, its text object not yet opened.

    ``filed`` has an empty text; ``text_ref`` is (object id, wrapped data key, SHA-256) of the
    text object, or None for a document without extracted text.
    """

    filed: FiledDocument
    text_ref: tuple[str, WrappedKey, str] | None


def _opened(batch: Sequence[tuple[PendingText, Future[str | None]]]) -> Iterator[FiledDocument]:
    """The documents of a batch with their texts, in order, once each is opened (None: gone meanwhile)."""
    for pending, future in batch:
        text = future.result()
        if text is not None:
            f = pending.filed
            yield FiledDocument(f.document, f.dossier_id, f.archive_number, f.state, f.registration, text, f.closed_on)


@dataclass(frozen=True, slots=True)
class Filing:
    """One original for :meth:`DocumentFiling.file_documents`: the arguments of ``file_document``
    that a group commit allows (no parent, no supersession, no amendment of a sealed dossier)."""

    source: Path | bytes
    kind: DocumentKind
    filename: str | None = None
    media_type: str = "application/octet-stream"
    received_at: datetime | None = None
    channel: Channel | None = None
    origin: DocumentSource = DocumentSource.UPLOAD
    analysis: DocumentAnalysis | None = None
    sha256: str | None = None


class DocumentFiling:
    """Document use cases of RecordsService: file, look up and read back originals and their text.

    Needs the catalogue (``uow``, ``lookup``), the vault the originals are sealed in, the
    ``announcer`` that tells the index and the document listeners after each commit, and the
    archive's clock and time zone (an amendment of a sealed dossier is dated in archive time).
    """

    def __init__(self, uow: UnitOfWork, vault: Vault, lookup: CatalogueLookup, announcer: ChangeAnnouncer, *,
                 tz: ZoneInfo, clock: Clock) -> None:
        self._uow = uow
        self._vault = vault
        self._lookup = lookup
        self._announcer = announcer
        self._tz = tz
        self._clock = clock

    # ------------------------------------------------------------------ documents
    def file_document(
        self,
        actor: str,
        ref: str,
        source_path: Path | bytes,
        *,
        kind: DocumentKind,
        filename: str | None = None,
        media_type: str = "application/octet-stream",
        received_at: datetime | None = None,
        channel: Channel | None = None,
        source: DocumentSource = DocumentSource.UPLOAD,
        parent_item: str | None = None,
        supersedes_item: str | None = None,
        analysis: DocumentAnalysis | None = None,
        sha256: str | None = None,
        amendment_reason: str | None = None,
    ) -> DocumentInfo:
        """File one original into a dossier: sealed and durable in the vault, then catalogued.

        ``source_path`` is a file or the bytes themselves (an email attachment held in memory).
        With ``analysis``, the extracted text and metadata are sealed as a second object and the
        intake facts (outcome, pages, OCR confidence, classification rule) are catalogued.
        ``sha256`` saves a second read when the caller has hashed the bytes already; it is
        checked against the hash computed while sealing, so a wrong value is refused.

        Raises:
            DossierClosedError: the dossier no longer takes material.
            SealedDossierError: the dossier is sealed and no ``amendment_reason`` was given. With a
                reason, the addition is recorded on the timeline (ARC-1-05); that only an archivist
                may do it is the caller's check (``retention.service``), as records know no roles.
            DuplicateDocumentError: the same bytes are already filed in this dossier.
        """
        if isinstance(source_path, bytes) and filename is None:
            raise InvalidRegistrationError("filename", "in-memory content needs a filename")
        if sha256 is None:
            sha256 = hashlib.sha256(source_path).hexdigest() if isinstance(source_path, bytes) else _sha256_file(source_path)
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref)
            self._check_filable(row, amendment_reason)
            self._lookup.check_duplicate(s, row, sha256)
            dossier_id = row.id
        document_id = uuid.uuid4().hex
        object_id = uuid.uuid4().hex
        text_id = uuid.uuid4().hex if analysis is not None else None
        # The objects' data keys are wrapped under the dossier's own key (issue #12): destroying
        # that key destroys them with every other copy. A dossier from before #12 gets its key now.
        self._lookup.ensure_key(dossier_id)
        sealed = self._vault.store_object(object_id, ObjectKind.ORIGINAL, _chunks(source_path), dossier_id=dossier_id)
        if sealed.sha256 != sha256:
            # The file changed between hashing and sealing; refuse rather than file a guess.
            self._vault.delete_object(object_id)
            raise InvalidRegistrationError("file", f"{filename or source_path!s} changed while it was being filed")
        now = self._clock()
        try:
            sealed_text = None
            if analysis is not None and text_id is not None:
                sealed_text = self._vault.store_object(text_id, ObjectKind.TEXT, [_text_payload(analysis)],
                                                       dossier_id=dossier_id)
            with self._uow.write() as s:
                # Lock the dossier row: on PostgreSQL two filings at once would otherwise read the same
                # last_item (SQLite's BEGIN IMMEDIATE already serialises writers; FOR UPDATE is a no-op there).
                locked = s.get(DossierRow, dossier_id, with_for_update=True)
                assert locked is not None  # read above, and dossier rows are never deleted
                row = locked
                self._check_filable(row, amendment_reason)
                self._lookup.check_duplicate(s, row, sha256)
                parent = self._lookup.document_row(s, parent_item) if parent_item else None
                previous = self._lookup.document_row(s, supersedes_item) if supersedes_item else None
                for linked in (parent, previous):
                    if linked is not None and linked.dossier_id != row.id:
                        raise InvalidRegistrationError("item", f"{linked.id} belongs to another dossier")
                if previous is not None:
                    latest = s.scalar(
                        select(func.max(DocumentRow.version)).where(
                            DocumentRow.dossier_id == row.id, DocumentRow.item_seq == previous.item_seq)
                    )
                    assert latest is not None  # `previous` itself is a version of this item
                    seq, version = previous.item_seq, 1 + latest
                else:
                    row.last_item += 1
                    seq, version = row.last_item, 1
                doc = DocumentRow(
                    id=document_id, dossier_id=row.id, item_seq=seq, version=version, kind=kind,
                    filename=self._lookup.seal(row.id, "document.filename",
                                               filename or getattr(source_path, "name", "unnamed")),
                    media_type=media_type,
                    size=sealed.size, sha256=sha256, received_at=received_at or now, channel=channel,
                    source=source, parent_id=parent.id if parent else None,
                    supersedes_id=previous.id if previous else None, filed_at=now, filed_by=actor,
                    **self._analysis_columns(row.id, analysis),
                )
                s.add(doc)
                if row.state == DossierState.SEALED:  # the amendment and its reason stay on the timeline
                    row.transitions.append(TransitionRow(
                        state=DossierState.SEALED, on=now.astimezone(self._tz).date(), at=now, actor=actor,
                        note=self._lookup.seal(
                            row.id, "transition.note",
                            f"amended: item {self._lookup.item_number(row.archive_number, seq, version)} added: "
                            f"{(amendment_reason or '').strip()}")))
                s.add(_object_row(document_id, ObjectKind.ORIGINAL, sealed, now))
                if sealed_text is not None:
                    s.add(_object_row(document_id, ObjectKind.TEXT, sealed_text, now))
                change = self._announcer.record(s, IndexChange.DOCUMENT_FILED, document_id, now)
                s.flush()
                entries = [entry_of(change)]
                info = self._lookup.document_info(s, row, doc)
                filed = FiledDocument(info, DossierId(row.id), row.archive_number, DossierState(row.state),
                                      registration_of(row, self._lookup.sealer), (analysis.text if analysis else None) or "", closed_on(row))
        except BaseException:
            # Nothing in the catalogue points at the sealed blobs: remove them so no orphan stays.
            self._vault.delete_object(object_id)
            if text_id is not None:
                self._vault.delete_object(text_id)
            raise
        self._announcer.announce(entries, [filed])
        self._announcer.filed(filed)
        return info

    def file_documents(self, actor: str, ref: str, filings: Sequence[Filing]) -> list[DocumentInfo | DuplicateDocumentError]:
        """File several originals into one dossier with one catalogue commit (group commit).

        Each original and its text are sealed and durable in the vault first, as in
        ``file_document``; then ONE write transaction catalogues them all, in order, with
        consecutive item numbers, and the listeners hear of them after that commit. The result
        per filing, in order, is its ``DocumentInfo`` or the ``DuplicateDocumentError`` that
        ``file_document`` would have raised (bytes already filed, or earlier in this batch).

        Any other error (dossier closed or sealed, a file changed while it was sealed) files
        nothing of the batch: the sealed blobs are removed and the error is raised; the caller
        may file the batch one by one to learn which filing it was.
        """
        shas: list[str] = []
        for f in filings:
            if isinstance(f.source, bytes) and f.filename is None:
                raise InvalidRegistrationError("filename", "in-memory content needs a filename")
            shas.append(f.sha256 or (hashlib.sha256(f.source).hexdigest() if isinstance(f.source, bytes)
                                     else _sha256_file(f.source)))
        if not filings:
            return []
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref)
            self._check_filable(row, None)
            known = self._filed_items(s, row, shas)
            dossier_id = row.id
        self._lookup.ensure_key(dossier_id)  # the objects' keys are wrapped under it (issue #12)
        sealed: dict[int, tuple[str, SealedObject, SealedObject | None]] = {}
        results: list[DocumentInfo | DuplicateDocumentError | None] = [None] * len(filings)
        filed: list[FiledDocument] = []
        entries: list[OutboxEntry] = []
        try:
            seen: set[str] = set(known)
            todo: list[int] = []
            for i, sha in enumerate(shas):
                if sha in seen:  # a duplicate: nothing to seal (decided again inside the transaction)
                    continue
                seen.add(sha)
                todo.append(i)
            # The group's objects are sealed on several threads: each put waits mostly for its
            # fsyncs, which release the GIL and which the filesystem's journal commits together
            # (issue #13: a group of small PDFs spent two thirds of its time in sequential fsyncs).
            # Every object is still durable before the one catalogue commit below.
            # An original and its text are sealed side by side too: each thread then waits for one
            # put's fsyncs, not four, which is what counts when other writers make fsyncs slow.
            seal_pool = _sealing_threads()
            originals = {i: seal_pool.submit(self._seal_original, filings[i], dossier_id) for i in todo}
            texts = {i: seal_pool.submit(self._seal_text, filings[i], dossier_id)
                     for i in todo if filings[i].analysis is not None}
            wait([*originals.values(), *texts.values()])
            failure: BaseException | None = None
            for i in todo:
                original = text = None
                try:
                    original = originals[i].result()
                    text = texts[i].result() if i in texts else None
                except BaseException as exc:  # noqa: BLE001 - raised below, once every object is accounted for
                    failure = failure or exc
                if original is None:  # nothing to catalogue for this one: its text goes now
                    if i in texts and texts[i].exception() is None:
                        self._vault.delete_object(texts[i].result().object_id)
                    continue
                sealed[i] = (uuid.uuid4().hex, original, text)  # removed with the rest if anything failed
                if original.sha256 != shas[i]:
                    failure = failure or InvalidRegistrationError(
                        "file", f"{filings[i].filename or filings[i].source!s} changed while it was being filed")
            if failure is not None:
                raise failure
            now = self._clock()
            with self._uow.write() as s:
                # Lock the dossier row as file_document does (FOR UPDATE; a no-op under SQLite's BEGIN IMMEDIATE).
                locked = s.get(DossierRow, dossier_id, with_for_update=True)
                assert locked is not None  # read above, and dossier rows are never deleted
                row = locked
                self._check_filable(row, None)
                taken = self._filed_items(s, row, shas)
                docs: list[tuple[int, DocumentRow, Filing]] = []
                for i, (f, sha) in enumerate(zip(filings, shas)):
                    if sha in taken:
                        results[i] = DuplicateDocumentError(row.archive_number, sha, taken[sha])
                        continue
                    if i not in sealed:  # counted as filed when read, gone since: let the caller go one by one
                        raise _BatchConflict(sha)
                    document_id, original, text = sealed[i]
                    row.last_item += 1
                    doc = DocumentRow(
                        id=document_id, dossier_id=row.id, item_seq=row.last_item, version=1, kind=f.kind,
                        filename=self._lookup.seal(row.id, "document.filename",
                                                   f.filename or getattr(f.source, "name", "unnamed")),
                        media_type=f.media_type,
                        size=original.size, sha256=sha, received_at=f.received_at or now, channel=f.channel,
                        source=f.origin, parent_id=None, supersedes_id=None, filed_at=now, filed_by=actor,
                        **self._analysis_columns(row.id, f.analysis),
                    )
                    s.add(doc)
                    s.add(_object_row(document_id, ObjectKind.ORIGINAL, original, now))
                    if text is not None:
                        s.add(_object_row(document_id, ObjectKind.TEXT, text, now))
                    taken[sha] = self._lookup.item_number(row.archive_number, row.last_item, 1)
                    docs.append((i, doc, f))
                changes = [self._announcer.record(s, IndexChange.DOCUMENT_FILED, doc.id, now) for _i, doc, _f in docs]
                s.flush()
                entries = [entry_of(c) for c in changes]
                state, registration, closed = DossierState(row.state), registration_of(row, self._lookup.sealer), closed_on(row)
                for i, doc, f in docs:
                    info = self._lookup.document_info(s, row, doc)
                    results[i] = info
                    filed.append(FiledDocument(info, DossierId(row.id), row.archive_number, state, registration,
                                               (f.analysis.text if f.analysis else None) or "", closed))
        except BaseException:
            # Nothing in the catalogue points at the sealed blobs: remove them so no orphan stays.
            for _doc_id, original, text in sealed.values():
                self._vault.delete_object(original.object_id)
                if text is not None:
                    self._vault.delete_object(text.object_id)
            raise
        for i, (_doc_id, original, text) in sealed.items():
            if isinstance(results[i], DuplicateDocumentError):  # filed meanwhile by a concurrent intake
                self._vault.delete_object(original.object_id)
                if text is not None:
                    self._vault.delete_object(text.object_id)
        self._announcer.announce(entries, filed)
        self._announcer.filed_many(filed)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _seal_original(self, f: Filing, dossier_id: str) -> SealedObject:
        return self._vault.store_object(uuid.uuid4().hex, ObjectKind.ORIGINAL, _chunks(f.source), dossier_id=dossier_id)

    def _seal_text(self, f: Filing, dossier_id: str) -> SealedObject:
        assert f.analysis is not None
        return self._vault.store_object(uuid.uuid4().hex, ObjectKind.TEXT, [_text_payload(f.analysis)], dossier_id=dossier_id)

    def _filed_items(self, s: Session, row: DossierRow, shas: Sequence[str]) -> dict[str, str]:
        """SHA-256 → item number of those of ``shas`` already filed in the dossier (one query)."""
        found: dict[str, str] = {}
        wanted = sorted(set(shas))
        for start in range(0, len(wanted), 500):
            for sha, seq, version in s.execute(
                    select(DocumentRow.sha256, DocumentRow.item_seq, DocumentRow.version)
                    .where(DocumentRow.dossier_id == row.id, DocumentRow.sha256.in_(wanted[start:start + 500]))
                    .order_by(DocumentRow.item_seq, DocumentRow.version)):
                found.setdefault(sha, self._lookup.item_number(row.archive_number, seq, version))
        return found

    def _check_filable(self, row: DossierRow, amendment_reason: str | None) -> None:
        if row.state == DossierState.SEALED:
            if not (amendment_reason and amendment_reason.strip()):
                raise SealedDossierError(row.archive_number)
            return
        self._lookup.check_open(row)

    def filed_documents(self, actor: str, *, dossier: str | None = None) -> Iterator[FiledDocument]:
        """Every live document (of one dossier, or all) with its decrypted text, for the search index.

        Lazy, in archive-number and item order. Issue #14 (``reindex`` of 100,000 documents in
        ≤ 5 minutes): the catalogue is read a batch of dossiers per transaction
        (:meth:`catalogue_batches`, each dossier's sealed fields opened once), and the text
        objects of the next batch are opened on worker threads (:meth:`open_texts`; AES-GCM,
        hashing and file reads release the GIL) while the caller indexes this one. Texts stay in
        memory, at most two batches of them; nothing readable is written anywhere.
        """
        pool = ThreadPoolExecutor(max_workers=_OPEN_THREADS, thread_name_prefix="reindex-open")
        try:
            ahead: deque[list[tuple[PendingText, Future[str | None]]]] = deque()
            for batch in self.catalogue_batches(dossier):
                ahead.append([(p, pool.submit(self._open_text, p)) for p in batch])
                if len(ahead) > 1:
                    yield from _opened(ahead.popleft())
            while ahead:
                yield from _opened(ahead.popleft())
        finally:
            # A rebuild that fails (or stops reading) leaves no thread opening texts nobody will read.
            pool.shutdown(wait=True, cancel_futures=True)

    def catalogue_batches(self, dossier: str | None = None, *,
                          batch_size: int = _REINDEX_BATCH) -> Iterator[list[PendingText]]:
        """Every live document from the catalogue, about ``batch_size`` a transaction, text not opened.

        Whole dossiers go into a batch (their sealed registration opened once for all their
        documents); destroyed and withdrawn documents are left out. Each batch reads the
        catalogue as it is then: a document destroyed or withdrawn after its batch was read is
        removed again by the index outbox, whose rows the rebuild replays after the swap.
        """
        with self._uow.read() as s:
            q = (select(DossierRow.id, func.count(DocumentRow.id))
                 .join(DocumentRow, DocumentRow.dossier_id == DossierRow.id)
                 .group_by(DossierRow.id, DossierRow.archive_number).order_by(DossierRow.archive_number))
            if dossier is not None:
                q = q.where(DossierRow.id == self._lookup.dossier_row(s, dossier).id)
            plan = s.execute(q).all()
        chunk: list[str] = []
        size = 0
        for dossier_id, count in plan:
            chunk.append(dossier_id)
            size += count
            if size >= batch_size:
                yield self._pending_of(chunk)
                chunk, size = [], 0
        if chunk:
            yield self._pending_of(chunk)

    def _pending_of(self, dossier_ids: Sequence[str]) -> list[PendingText]:
        """The live documents of some dossiers, in one read transaction (four queries, whatever their number)."""
        out: list[PendingText] = []
        with self._uow.read() as s:
            rows = s.scalars(select(DossierRow).where(DossierRow.id.in_(dossier_ids))
                             .options(selectinload(DossierRow.transitions))
                             .order_by(DossierRow.archive_number)).all()
            # Documents and objects as plain rows: mapping them to ORM objects cost more than the rest.
            documents: dict[str, list[Row[Any]]] = {}
            for d in s.execute(select(DocumentRow.__table__).where(DocumentRow.dossier_id.in_(dossier_ids))
                               .order_by(DocumentRow.dossier_id, DocumentRow.item_seq, DocumentRow.version)):
                documents.setdefault(d.dossier_id, []).append(d)
            shredded: set[str] = set()
            texts: dict[str, tuple[str, WrappedKey, str]] = {}
            for doc_id, kind, obj_id, key_id, wrapped, sha256, shredded_at in s.execute(
                    select(StoredObjectRow.document_id, StoredObjectRow.kind, StoredObjectRow.id,
                           StoredObjectRow.key_id, StoredObjectRow.wrapped_key, StoredObjectRow.sha256,
                           StoredObjectRow.shredded_at)
                    .join(DocumentRow, StoredObjectRow.document_id == DocumentRow.id)
                    .where(DocumentRow.dossier_id.in_(dossier_ids))):
                if shredded_at is not None:
                    shredded.add(doc_id)
                elif kind == ObjectKind.TEXT and key_id and wrapped:
                    texts[doc_id] = (obj_id, WrappedKey(key_id, wrapped), sha256)
            for row in rows:
                docs = documents.get(row.id, [])
                live = [d for d in docs if d.withdrawn_at is None and d.id not in shredded]
                if not live:
                    continue
                head = (DossierId(row.id), row.archive_number, DossierState(row.state),
                        registration_of(row, self._lookup.sealer), closed_on(row))
                numbers = {d.id: self._lookup.item_number(row.archive_number, d.item_seq, d.version) for d in docs}
                for doc in live:
                    ref = texts.get(doc.id)
                    info = self._lookup.document_info(s, row, doc, numbers=numbers)
                    out.append(PendingText(FiledDocument(info, head[0], head[1], head[2], head[3], "", head[4]), ref))
        return out

    def open_texts(self, pending: Iterable[PendingText], *, threads: int = _OPEN_THREADS) -> Iterator[FiledDocument]:
        """``pending`` with their texts opened on ``threads`` threads, in order (for benchmarks/reindex.py)."""
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reindex-open") as pool:
            yield from _opened([(p, pool.submit(self._open_text, p)) for p in pending])

    def _open_text(self, pending: PendingText) -> str | None:
        """The document's text (decrypted, hash-checked); None if it was destroyed or withdrawn meanwhile."""
        if pending.text_ref is None:
            return ""
        object_id, wrapped, sha256 = pending.text_ref
        try:
            raw = b"".join(self._vault.open_object(object_id, ObjectKind.TEXT, wrapped, expected_sha256=sha256))
        except VaultError:
            # Its key or blob gone since the batch was read: a disposal ran meanwhile (the outbox
            # removes it after the swap). Anything else is a real fault, raised as before.
            if self.filed_document("reindex", pending.filed.document.document_id) is None:
                return None
            raise
        return str(json.loads(raw).get("text", ""))

    def filed_document(self, actor: str, document_id: str) -> FiledDocument | None:
        """One document as the search index needs it, text decrypted; None if it is unknown, destroyed
        or withdrawn (the index then removes it).

        The index outbox's drainer reads each change's documents afresh through this, so what it
        writes is what the catalogue holds now, however late the row is applied.
        """
        with self._uow.read() as s:
            doc = s.get(DocumentRow, document_id)
            if doc is None or doc.withdrawn_at is not None or any(o.shredded_at is not None for o in doc.objects):
                return None
            row = doc.dossier
            info = self._lookup.document_info(s, row, doc)
            obj = s.scalars(select(StoredObjectRow).where(
                StoredObjectRow.document_id == doc.id, StoredObjectRow.kind == ObjectKind.TEXT)).first()
            ref = (obj.id, WrappedKey(obj.key_id, obj.wrapped_key), obj.sha256) if obj and obj.key_id and obj.wrapped_key else None
            head = (DossierId(row.id), row.archive_number, DossierState(row.state),
                    registration_of(row, self._lookup.sealer), closed_on(row))
        text = ""
        if ref is not None:
            payload = json.loads(b"".join(self._vault.open_object(ref[0], ObjectKind.TEXT, ref[1], expected_sha256=ref[2])))
            text = str(payload.get("text", ""))
        return FiledDocument(info, head[0], head[1], head[2], head[3], text, head[4])

    def dossier_document_ids(self, actor: str, ref: str) -> list[str]:
        """Ids of every document of a dossier, destroyed ones included (what its index entries may be)."""
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref)
            return list(s.scalars(select(DocumentRow.id).where(DocumentRow.dossier_id == row.id)
                                  .order_by(DocumentRow.item_seq, DocumentRow.version)))

    def live_document_ids(self, actor: str) -> Iterator[str]:
        """Ids of every document not destroyed nor withdrawn (what the index should hold)."""
        with self._uow.read() as s:
            shredded = select(StoredObjectRow.document_id).where(StoredObjectRow.shredded_at.is_not(None))
            ids = list(s.scalars(select(DocumentRow.id).where(DocumentRow.id.not_in(shredded),
                                                              DocumentRow.withdrawn_at.is_(None))))
        yield from ids

    def existing_item(self, actor: str, ref: str, sha256: str) -> str | None:
        """The item number under which these bytes are already filed in the dossier, if any."""
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref)
            try:
                self._lookup.check_duplicate(s, row, sha256)
            except DuplicateDocumentError as dup:
                return dup.existing_item
            return None

    def document_hashes(self, actor: str, ref: str) -> dict[str, str]:
        """SHA-256 → item number of everything filed in a dossier (one query for a whole batch)."""
        with self._uow.read() as s:
            row = self._lookup.dossier_row(s, ref)
            docs = s.execute(select(DocumentRow.sha256, DocumentRow.item_seq, DocumentRow.version)
                             .where(DocumentRow.dossier_id == row.id)).all()
            return {sha: self._lookup.item_number(row.archive_number, seq, v) for sha, seq, v in docs}

    def find_documents_by_sha256(self, actor: str, sha256: str) -> list[tuple[str, str]]:
        """Every (archive number, item number) holding exactly these bytes, across the archive.

        Mail intake uses it so that a message filed just before a crash is recognised on the
        next run instead of opening a second dossier.
        """
        with self._uow.read() as s:
            rows = s.execute(
                select(DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)
                .join(DocumentRow, DocumentRow.dossier_id == DossierRow.id)
                .where(DocumentRow.sha256 == sha256)
                .order_by(DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)
            ).all()
        return [(n, self._lookup.item_number(n, seq, v)) for n, seq, v in rows]

    def retrieve_document(self, actor: str, item: str) -> tuple[DocumentInfo, Iterator[bytes]]:
        """The document and a stream of its original bytes, authenticated segment by segment.

        The stream raises ``IntegrityError`` if the stored bytes were altered; its last chunk is
        only yielded after the SHA-256 matched, so write to a temporary file and keep it only
        when the stream is exhausted.
        """
        with self._uow.read() as s:
            doc = self._lookup.document_row(s, item)
            obj = self._lookup.object_row(s, doc.id, ObjectKind.ORIGINAL)
            info = self._lookup.document_info(s, doc.dossier, doc)
            if obj.wrapped_key is None or obj.key_id is None:
                raise DocumentNotFoundError(f"{item} (destroyed)")
            wrapped = WrappedKey(key_id=obj.key_id, ciphertext=obj.wrapped_key)
            object_id, sha = obj.id, obj.sha256
        return info, self._vault.open_object(object_id, ObjectKind.ORIGINAL, wrapped, expected_sha256=sha)

    def document_text(self, actor: str, item: str) -> tuple[DocumentInfo, str, dict[str, str]]:
        """The extracted text and metadata of a document, decrypted from the vault.

        Raises:
            DocumentNotFoundError: no such document, or no text was extracted from it.
        """
        with self._uow.read() as s:
            doc = self._lookup.document_row(s, item)
            info = self._lookup.document_info(s, doc.dossier, doc)
            obj = s.scalars(select(StoredObjectRow).where(
                StoredObjectRow.document_id == doc.id, StoredObjectRow.kind == ObjectKind.TEXT)).first()
            if obj is None or obj.wrapped_key is None or obj.key_id is None:
                raise DocumentNotFoundError(f"{item} (no extracted text)")
            wrapped, object_id, sha = WrappedKey(obj.key_id, obj.wrapped_key), obj.id, obj.sha256
        payload = json.loads(b"".join(self._vault.open_object(object_id, ObjectKind.TEXT, wrapped, expected_sha256=sha)))
        return info, str(payload.get("text", "")), dict(payload.get("metadata", {}))

    def get_document(self, actor: str, item: str) -> DocumentInfo:
        with self._uow.read() as s:
            doc = self._lookup.document_row(s, item)
            return self._lookup.document_info(s, doc.dossier, doc)

    def reclassify(self, actor: str, item: str, kind: DocumentKind, *, reason: str) -> DocumentInfo:
        """Correct the kind of a filed document: who, why and when are kept; ``kind_rule`` stays the rule
        that fired, so the classification can be judged later. The bytes are untouched (INT-Q-04).

        Raises:
            InvalidRegistrationError: no reason, or the kind it already has.
            DossierClosedError / SealedDossierError: the dossier takes no changes (sealed, void, disposed).
        """
        if not reason or not reason.strip():
            raise InvalidRegistrationError("reason", "correcting a document's kind needs a reason")

        def correct(doc: DocumentRow, now: datetime) -> None:
            if doc.kind == kind:
                raise InvalidRegistrationError("kind", f"item {item} already is {kind}")
            doc.kind = kind
            doc.kind_set_by, doc.kind_set_at = actor, now
            doc.kind_set_reason = self._lookup.seal(doc.dossier_id, "document.kind_set_reason", reason.strip())

        # The index keeps each document's kind (a facet): it re-reads this one.
        return self._change_document(item, correct)

    def withdraw(self, actor: str, item: str, reason: str) -> DocumentInfo:
        """Withdraw a junk filing (a blank scan, the wrong file): who, why and when are kept (#11).

        The row, its item number and its sealed bytes stay — numbers are never reused (ARC-3-06)
        and the act stays on record — but a withdrawn document leaves the search index (the
        outbox re-reads it and :meth:`filed_document` answers it as removed) and no longer
        counts as one of the dossier's materials (ARC-2, ``retention.sealing.missing_materials``).

        Raises:
            InvalidRegistrationError: no reason, or the document is withdrawn already.
            DossierClosedError / SealedDossierError: the dossier takes no changes (sealed, void, disposed).
        """
        if not reason or not reason.strip():
            raise InvalidRegistrationError("reason", "withdrawing a document needs a reason")

        def withdraw(doc: DocumentRow, now: datetime) -> None:
            if doc.withdrawn_at is not None:
                raise InvalidRegistrationError("item", f"item {item} is withdrawn already")
            doc.withdrawn_at, doc.withdrawn_by = now, actor
            doc.withdrawn_reason = self._lookup.seal(doc.dossier_id, "document.withdrawn_reason", reason.strip()[:2000])

        # The index re-reads the document and, finding it withdrawn, drops it.
        return self._change_document(item, withdraw)

    def replace_analysis(self, actor: str, item: str, analysis: DocumentAnalysis, *, kind: DocumentKind | None = None,
                         only_if_outcome: str | None = "encrypted") -> DocumentInfo:
        """Replace the extracted text and intake facts of filed document ``item`` (issue #13, ``dossier unlock``).

        The original is untouched and no second copy is filed: a new sealed text object takes the
        old one's place in the same commit (the old blob is deleted after it), and the index re-reads
        the document through the outbox. ``kind`` re-classifies it unless a person set the kind
        (``kind_set_by``). ``only_if_outcome`` is checked under the write lock, so two unlocks at
        once cannot both replace.

        Raises:
            NotEncryptedError: the document's outcome is not ``only_if_outcome``.
            InvalidRegistrationError: the document is withdrawn.
            DossierClosedError / SealedDossierError: the dossier takes no changes (sealed, void, disposed).
        """
        from records.errors import NotEncryptedError

        with self._uow.read() as s:
            dossier_id = self._lookup.document_row(s, item).dossier_id
        text_id = uuid.uuid4().hex
        sealed = self._vault.store_object(text_id, ObjectKind.TEXT, [_text_payload(analysis)], dossier_id=dossier_id)
        replaced: list[str] = []

        def replace(doc: DocumentRow, now: datetime) -> None:
            if only_if_outcome is not None and doc.outcome != only_if_outcome:
                raise NotEncryptedError(item, doc.outcome)
            if doc.withdrawn_at is not None:  # junk set aside (#11): its text stays as it was
                raise InvalidRegistrationError("item", f"item {item} is withdrawn")
            s = Session.object_session(doc)
            assert s is not None
            previous = s.scalars(select(StoredObjectRow).where(
                StoredObjectRow.document_id == doc.id, StoredObjectRow.kind == ObjectKind.TEXT)).first()
            if previous is not None:
                replaced.append(previous.id)
                s.delete(previous)
                s.flush()  # one text object per document (uq_object_document_kind)
            for column, value in self._analysis_columns(doc.dossier_id, analysis).items():
                setattr(doc, column, value)
            if kind is not None and doc.kind_set_by is None:
                doc.kind = kind
            s.add(_object_row(doc.id, ObjectKind.TEXT, sealed, now))

        try:
            info = self._change_document(item, replace)
        except BaseException:
            self._vault.delete_object(text_id)  # nothing points at the new text: no orphan stays
            raise
        for old in replaced:
            self._vault.delete_object(old)
        log.info("replaced the analysis of %s by %s", info.item_number, actor)
        return info

    def _change_document(self, item: str, change: Callable[[DocumentRow, datetime], None]) -> DocumentInfo:
        """Change a filed document's catalogue facts (never its bytes) in a dossier that still takes changes,
        and have the index re-read it after the commit.

        Raises:
            DossierClosedError / SealedDossierError: the dossier is sealed, void or disposed.
        """
        now = self._clock()
        with self._uow.write() as s:
            doc = self._lookup.document_row(s, item)
            row = doc.dossier
            if DossierState(row.state) in (DossierState.SEALED, DossierState.DISPOSED, DossierState.VOID):
                raise (SealedDossierError(row.archive_number) if row.state == DossierState.SEALED
                       else DossierClosedError(row.archive_number, row.state))
            change(doc, now)
            entry = self._announcer.record(s, IndexChange.DOCUMENT_FILED, doc.id, now)
            s.flush()
            entries = [entry_of(entry)]
            info = self._lookup.document_info(s, row, doc)
        self._announcer.announce(entries)
        return info


    def _analysis_columns(self, dossier_id: str, analysis: DocumentAnalysis | None) -> dict[str, object]:
        """The intake facts of a document; its intake message sealed (it may quote the file or its sender)."""
        if analysis is None:
            return {}
        return {
            "outcome": analysis.outcome,
            "outcome_message": self._lookup.seal(dossier_id, "document.outcome_message", analysis.message),
            "pages": analysis.pages, "languages": list(analysis.languages), "text_chars": len(analysis.text or ""),
            "ocr_confidence": analysis.ocr_confidence, "review_pages": list(analysis.review_pages),
            "kind_rule": analysis.kind_rule,
        }


class _BatchConflict(Exception):
    """A batch's view of the dossier changed under it; nothing was committed."""


def _object_row(document_id: str, kind: ObjectKind, sealed: SealedObject, now: datetime) -> StoredObjectRow:
    return StoredObjectRow(
        id=sealed.object_id, document_id=document_id, kind=kind, blob_key=sealed.blob_key,
        size=sealed.size, stored_size=sealed.stored_size, sha256=sealed.sha256,
        key_id=sealed.wrapped_key.key_id, wrapped_key=sealed.wrapped_key.ciphertext, created_at=now,
    )


def _text_payload(analysis: DocumentAnalysis) -> bytes:
    return json.dumps({"text": analysis.text or "", "metadata": analysis.metadata}, ensure_ascii=False).encode()


def _chunks(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
    else:
        yield from _read_chunks(source)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    for chunk in _read_chunks(path):
        h.update(chunk)
    return h.hexdigest()


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(_READ_CHUNK):
            yield chunk
