"""IngestService: one code path for CLI, web and mail — every file ends with a recorded outcome.

detect → hash → dedupe → parse/OCR (isolated worker) → classify → seal original and text →
catalogue; attachments become child documents of the same dossier.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.classify import classify, filing_hints
from ingest.detect import detect_media_type
from ingest.errors import (
    CorruptDocumentError, EncryptedDocumentError, IngestError, TooLargeError, UnsupportedFormatError,
)
from ingest.extractors import supported_media_types, unsupported_reason
from ingest.model import ExtractContext, Extraction, IngestOutcome, Limits
from ingest.workers import ExtractionPool
from records.errors import DuplicateDocumentError, InvalidRegistrationError, NotEncryptedError
from records.filing import Filing
from records.model import Channel, DocumentAnalysis, DocumentInfo, DocumentKind, DocumentSource, Registration
from records.service import RecordsService
from records.settings import IngestSettings

log = logging.getLogger(__name__)

_OUTCOME_OF_ERROR: dict[type[IngestError], IngestOutcome] = {
    EncryptedDocumentError: IngestOutcome.ENCRYPTED,
    CorruptDocumentError: IngestOutcome.CORRUPT,
    UnsupportedFormatError: IngestOutcome.UNSUPPORTED,
    TooLargeError: IngestOutcome.TOO_LARGE,
}


_DUPLICATE = object()  # _start's verdict: already filed here, nothing to parse
# Containers are parsed again even when already filed: a crash after the message was committed
# but before all its attachments were would otherwise leave them unfiled for ever. Attachments
# are deduplicated like any file, so this files only what is missing.
_CONTAINERS = frozenset({"message/rfc822", "application/mbox", "application/vnd.ms-outlook", "application/zip",
                         "application/ofd", "multipart/related"})


_GROUP_MAX = 32  # group commit: at most this many documents per catalogue transaction ...
_GROUP_SECONDS = 0.05  # ... and a finished file waits at most about this long for its group's commit


# What one top-level file may unpack into child documents, all depths together. Each container
# caps its own attachments (Limits.max_attachments per level), but levels multiply: a 28 KB zip of
# zips of zips made 28,000 documents. A mailbox or a zip of letters stays far below these.
_DESCENDANTS_PER_FILE = 2000
_DESCENDANT_BYTES_PER_FILE = 1024 * 1024 * 1024


@dataclass(slots=True)
class _Budget:
    """Child documents and bytes one top-level file may still unpack (shared by its whole tree)."""

    documents: int
    size: int


@dataclass(frozen=True, slots=True)
class _AlreadyFiled:
    item_number: str
    future: object


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The recorded outcome of one file (the JSON line `dossier ingest --json` prints)."""

    path: str
    sha256: str
    outcome: IngestOutcome
    message: str | None
    kind: DocumentKind | None
    media_type: str
    pages: int | None
    chars: int
    item_number: str | None
    parent_item: str | None = None
    languages: tuple[str, ...] = ()
    children: tuple[IngestResult, ...] = field(default=())
    # Everything noted about this file (issue #13 item 7): the extractor's warnings, what its
    # libraries said while it was parsed, benign notes included; () for a duplicate.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Item:
    """One file (or in-memory part) waiting for its outcome."""

    label: str
    filename: str
    source: Path | bytes
    sha256: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class _Analysed:
    """A parsed and classified file, ready to be filed."""

    item: _Item
    kind: DocumentKind
    outcome: IngestOutcome
    message: str | None
    analysis: DocumentAnalysis
    extraction: Extraction | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Grouped:
    """A file whose outcome is known without filing it (a duplicate), waiting for its turn in the group."""

    item: _Item
    result: IngestResult


def _ready(future: object, timeout: float) -> bool:
    """Whether a parse is finished (waiting up to ``timeout`` seconds for it)."""
    if not isinstance(future, Future) or future.done():
        return True
    if timeout > 0:
        wait([future], timeout=timeout)
    return future.done()


def _duplicate(item: _Item, dup: DuplicateDocumentError, parent_item: str | None) -> IngestResult:
    return IngestResult(item.label, item.sha256, IngestOutcome.DUPLICATE, f"already filed as {dup.existing_item}",
                        None, item.media_type, None, 0, dup.existing_item, parent_item)


class IngestService:
    """Files whatever a complaint produced into a dossier, one recorded outcome per file."""

    def __init__(self, records: RecordsService, settings: IngestSettings,
                 pool_factory: Callable[[int, int], ExtractionPool] = lambda w, m: ExtractionPool(w or None, memory_bytes=m)) -> None:
        self._records = records
        self._settings = settings
        self._pool_factory = pool_factory
        self._pool: ExtractionPool | None = None

    # ------------------------------------------------------------------ public
    def register_for_intake(self, actor: str, registration: Registration) -> str:
        """Open a dossier for material that arrives without one (mail, --new-dossier)."""
        return self._records.register_complaint(actor, registration).archive_number

    def ingest_paths(
        self, actor: str, paths: Sequence[Path], *, dossier: str, password: str | None = None,
        kind: DocumentKind | None = None, channel: Channel | None = None,
        source: DocumentSource = DocumentSource.UPLOAD, progress: Callable[[IngestResult], None] | None = None,
    ) -> list[IngestResult]:
        """Ingest files and folders (recursively) into one dossier; parsing runs on all workers.

        Results come back in input order. A re-run files nothing twice (duplicates by SHA-256).
        """
        known = self._records.document_hashes(actor, dossier)  # also: unknown dossier fails before any work
        files = list(_expand(paths))
        pool = self._ensure_pool()
        # Parse ahead far enough that the workers stay busy while a group is being committed.
        window = max(2, 2 * pool.workers) + _GROUP_MAX
        pending: deque[tuple[_Item, object]] = deque()
        results: list[IngestResult] = []
        # Group commit: files parsed and classified wait here (with outcomes already known, such as
        # duplicates, kept in input order) until one catalogue commit files them all; only then are
        # their outcomes reported. Containers with attachments go one by one after a flush.
        group: list[_Grouped | _Analysed] = []
        group_started = 0.0
        opts = dict(password=password, kind=kind, channel=channel, source=source)

        def report(result: IngestResult) -> None:
            results.append(result)
            if progress:
                progress(result)

        # A group is filed on a thread of its own while the next one is parsed and classified: its
        # sealing waits mostly for fsyncs, which would otherwise stall the whole pipeline (issue #13
        # item 9). One group at a time, so outcomes are still reported in input order, after their commit.
        filer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-filing")
        filing: Future[list[IngestResult]] | None = None

        def settle() -> None:
            """Wait for the group being filed and report its outcomes."""
            nonlocal filing
            if filing is not None:
                filed = filing.result()
                filing = None  # only now: interrupted while waiting, the group is still reported below
                for result in filed:
                    report(result)

        def flush(*, settled: bool = False) -> None:
            """Hand the group to the filer; with ``settled``, also wait until it is filed and reported."""
            nonlocal filing
            if group:
                settle()
                filing = filer.submit(self._file_group, actor, dossier, list(group), channel=channel, source=source)
                group.clear()
            if settled:
                settle()

        def drain_one() -> None:
            nonlocal group_started
            item, future = pending.popleft()
            if group and not _ready(future, _GROUP_SECONDS - (time.monotonic() - group_started)):
                flush()  # the next parse is slow: do not hold finished files back for it
            if future is _DUPLICATE:  # nothing to file: its outcome waits for its turn in the group
                entry: _Grouped | _Analysed = _Grouped(item, self._finish(
                    actor, dossier, item, future, parent_item=None, depth=0, **opts))  # type: ignore[arg-type]
            elif isinstance(future, _AlreadyFiled):  # may file missing attachments: after the group, in order
                flush(settled=True)
                report(self._finish(actor, dossier, item, future, parent_item=None, depth=0, **opts))  # type: ignore[arg-type]
                return
            else:
                entry = self._analyse(item, future, password=password, kind=kind, depth=0)
                if entry.extraction is not None and entry.extraction.attachments:
                    flush(settled=True)  # children need their parent's item number: file this one alone, in order
                    report(self._file_one(actor, dossier, item, entry, channel=channel, source=source,
                                          password=password, parent_item=None, depth=0))
                    return
            if not group:
                group_started = time.monotonic()
            group.append(entry)
            if len(group) >= _GROUP_MAX or time.monotonic() - group_started >= _GROUP_SECONDS:
                flush()

        try:
            for path in files:
                item = self._prepare(path, str(path), path.name)
                pending.append((item, self._start(actor, dossier, item, password, known=known)))
                while len(pending) >= window:
                    drain_one()
            while pending:
                drain_one()
            flush(settled=True)
        finally:
            filer.shutdown(wait=True)
            if filing is not None and filing.exception() is None:
                settle()  # stopped by an error here: the group committed meanwhile is still reported
        return results

    def ingest_bytes(
        self, actor: str, data: bytes, filename: str, *, dossier: str, password: str | None = None,
        kind: DocumentKind | None = None, channel: Channel | None = None,
        source: DocumentSource = DocumentSource.UPLOAD, parent_item: str | None = None,
    ) -> IngestResult:
        """Ingest one in-memory file (an upload, a mail message) into a dossier."""
        item = _Item(filename, filename, data, hashlib.sha256(data).hexdigest(), detect_media_type(data), len(data))
        future = self._start(actor, dossier, item, password)
        return self._finish(actor, dossier, item, future, password=password, kind=kind, channel=channel,
                            source=source, parent_item=parent_item, depth=0)

    def unlock(self, actor: str, dossier: str, document: DocumentInfo, original: Iterable[bytes],
               password: str, *, timeout_seconds: float | None = None) -> IngestResult:
        """Open filed item ``document`` (outcome ``encrypted``) with ``password`` once it is known (#13).

        A password often arrives after the file (by phone, in a later letter), and re-ingesting the
        same bytes is a duplicate that is not parsed again; so the filed item itself is parsed, with
        the password, in the extraction pool like any intake. On success its analysis (text, pages,
        languages, metadata, outcome, and its kind unless a person set it) is replaced and re-indexed
        (:meth:`RecordsService.replace_analysis`), no second copy is filed, and what it holds
        (embedded files) is filed as its child documents. The gate has already decided and logged
        the attempt and opened ``original`` (``Gate.unlock``); the password is never logged.
        ``timeout_seconds`` shortens the parse (the browser's unlock runs inside a request).

        Raises:
            NotEncryptedError: the item's outcome is not ``encrypted``.
            InvalidRegistrationError: the item is withdrawn.
            EncryptedDocumentError: the password is wrong (the item stays encrypted).
            CorruptDocumentError / UnsupportedFormatError / TooLargeError: it opened, but cannot be read.
        """
        if document.outcome != IngestOutcome.ENCRYPTED:
            raise NotEncryptedError(document.item_number, document.outcome)
        if document.withdrawn_at is not None:
            raise InvalidRegistrationError("item", f"item {document.item_number} is withdrawn: it is not opened")
        data = b"".join(original)   # authenticated to its last byte by the vault before it is parsed
        # Detected again: an item filed before encrypted Office files had a reader of their own was
        # catalogued under the type its container suggested (.docx).
        item = _Item(document.filename, document.filename, data, document.sha256, detect_media_type(data), len(data))
        if item.media_type not in supported_media_types():
            raise UnsupportedFormatError(unsupported_reason(item.media_type))
        context = self._context(password)
        if timeout_seconds is not None:  # a web request must answer before its worker is recycled
            context = replace(context, limits=replace(context.limits, timeout_seconds=min(
                timeout_seconds, context.limits.timeout_seconds)))
        extraction = ExtractionPool.result(self._ensure_pool().submit(data, item.media_type, context), context)
        low = self._settings.ocr_low_confidence
        outcome, message = _outcome_of(extraction, low)
        found = classify(item.media_type, extraction.text, extraction.metadata)
        analysis = _analysis(outcome, message, extraction, low,
                             (document.kind_rule or "user") if document.kind_set_by else found.rule)
        # What it holds is filed first: a dossier that takes no more documents (closed) refuses them
        # before the item's text is replaced, so a refused unlock changes nothing and can be retried
        # (children filed by an interrupted attempt are duplicates the next time).
        children = self._file_children(actor, dossier, item, extraction, document.item_number, password=password,
                                       channel=document.channel, source=document.source, depth=0)
        info = self._records.replace_analysis(actor, document.item_number, analysis, kind=found.kind)
        return IngestResult(document.filename, document.sha256, outcome, message, info.kind, item.media_type,
                            analysis.pages, len(analysis.text or ""), info.item_number, document.parent_item,
                            analysis.languages, children, warnings=_told(extraction, low))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # ------------------------------------------------------------------ steps
    def _ensure_pool(self) -> ExtractionPool:
        if self._pool is None:
            self._pool = self._pool_factory(self._settings.workers, self._settings.worker_memory_mb * 1024 * 1024)
        return self._pool

    def _context(self, password: str | None, depth: int = 0) -> ExtractContext:
        s = self._settings
        return ExtractContext(
            limits=Limits(max_file_bytes=s.max_file_mb * 1024 * 1024, max_pages=s.max_pages,
                          timeout_seconds=s.timeout_seconds, memory_bytes=s.worker_memory_mb * 1024 * 1024,
                          max_depth=s.max_attachment_depth, max_text_chars=s.max_text_chars),
            password=password, ocr_enabled=s.ocr, low_confidence=s.ocr_low_confidence, depth=depth,
        )

    def _prepare(self, path: Path, label: str, filename: str) -> _Item:
        h = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            while chunk := f.read(1024 * 1024):
                h.update(chunk)
                size += len(chunk)
        return _Item(label, filename, path, h.hexdigest(), detect_media_type(path), size)

    def _start(self, actor: str, dossier: str, item: _Item, password: str | None, depth: int = 0,
               known: dict[str, str] | None = None) -> object:
        """Submit parsing unless the outcome is already known (duplicate, too large, unsupported).

        ``known`` (hash → item, read once per batch) spares a query per file; a file filed
        meanwhile by someone else is still caught when it is catalogued.
        """
        existing = known.get(item.sha256) if known is not None else self._records.existing_item(actor, dossier, item.sha256)
        if existing:
            if item.media_type in _CONTAINERS and depth + 1 <= self._settings.max_attachment_depth:
                return _AlreadyFiled(existing, self._ensure_pool().submit(item.source, item.media_type, self._context(password, depth)))
            return _DUPLICATE
        if item.size > self._settings.max_file_mb * 1024 * 1024 or item.media_type not in supported_media_types():
            return None
        return self._ensure_pool().submit(item.source, item.media_type, self._context(password, depth))

    def _finish(
        self, actor: str, dossier: str, item: _Item, future: object, *, password: str | None,
        kind: DocumentKind | None, channel: Channel | None, source: DocumentSource,
        parent_item: str | None, depth: int, budget: _Budget | None = None,
    ) -> IngestResult:
        if isinstance(future, _AlreadyFiled):
            try:
                extraction = ExtractionPool.result(future.future, self._context(password, depth))  # type: ignore[arg-type]
            except IngestError:
                extraction = None
            children = self._file_children(actor, dossier, item, extraction, future.item_number, password=password,
                                           channel=channel, source=source, depth=depth, budget=budget)
            return IngestResult(item.label, item.sha256, IngestOutcome.DUPLICATE, f"already filed as {future.item_number}",
                                None, item.media_type, None, 0, future.item_number, parent_item, children=children)
        if future is _DUPLICATE:
            existing = self._records.existing_item(actor, dossier, item.sha256)
            return IngestResult(item.label, item.sha256, IngestOutcome.DUPLICATE, f"already filed as {existing}",
                                None, item.media_type, None, 0, existing, parent_item)
        return self._file_one(actor, dossier, item, self._analyse(item, future, password=password, kind=kind, depth=depth),
                              channel=channel, source=source, password=password, parent_item=parent_item, depth=depth,
                              budget=budget)

    def _analyse(self, item: _Item, future: object, *, password: str | None, kind: DocumentKind | None,
                 depth: int) -> _Analysed:
        """Wait for the parse, then decide outcome, kind and the analysis to catalogue."""
        extraction: Extraction | None = None
        told: tuple[str, ...] = ()
        try:
            if item.size > self._settings.max_file_mb * 1024 * 1024:
                raise TooLargeError(f"too large: {item.size} bytes (limit {self._settings.max_file_mb} MiB); original kept unparsed")
            if item.media_type not in supported_media_types():
                raise UnsupportedFormatError(f"{unsupported_reason(item.media_type)}; original kept")
            assert future is not None
            extraction = ExtractionPool.result(future, self._context(password, depth))  # type: ignore[arg-type]
            outcome, message = _outcome_of(extraction, self._settings.ocr_low_confidence)
            told = _told(extraction, self._settings.ocr_low_confidence)
        except IngestError as exc:
            outcome, message = _OUTCOME_OF_ERROR.get(type(exc), IngestOutcome.CORRUPT), exc.reason
            told = tuple(getattr(exc, "library_notes", ()))  # what the libraries said before it failed
        found = classify(item.media_type, extraction.text if extraction else "", extraction.metadata if extraction else {})
        analysis = _analysis(outcome, message, extraction, self._settings.ocr_low_confidence,
                             "user" if kind else found.rule)
        return _Analysed(item, kind or found.kind, outcome, message, analysis, extraction, told)

    def _file_one(self, actor: str, dossier: str, item: _Item, a: _Analysed, *, channel: Channel | None,
                  source: DocumentSource, password: str | None, parent_item: str | None, depth: int,
                  budget: _Budget | None = None) -> IngestResult:
        try:
            doc = self._records.file_document(
                actor, dossier, item.source, kind=a.kind, filename=item.filename, media_type=item.media_type,
                channel=channel, source=source, parent_item=parent_item, analysis=a.analysis, sha256=item.sha256,
            )
        except DuplicateDocumentError as dup:  # filed meanwhile by a concurrent intake
            return _duplicate(item, dup, parent_item)
        children = self._file_children(actor, dossier, item, a.extraction, doc.item_number, password=password,
                                       channel=channel, source=source, depth=depth, budget=budget)
        return self._filed(item, a, doc, parent_item, children)

    def _filed(self, item: _Item, a: _Analysed, doc: DocumentInfo, parent_item: str | None,
               children: tuple[IngestResult, ...] = ()) -> IngestResult:
        # Never the file name or the outcome message in the application log: a file name often names the
        # complainant, and no destruction reaches the log files (issue #12). The hash prefix identifies the file.
        log.info("ingest sha256:%s: %s -> %s", item.sha256[:12], a.outcome, doc.item_number)
        return IngestResult(item.label, item.sha256, a.outcome, a.message, doc.kind, item.media_type, a.analysis.pages,
                            len(a.analysis.text or ""), doc.item_number, parent_item, a.analysis.languages, children,
                            a.warnings)

    def _file_group(self, actor: str, dossier: str, group: Sequence[_Grouped | _Analysed], *,
                    channel: Channel | None, source: DocumentSource) -> list[IngestResult]:
        """File a group's documents in one catalogue commit; outcomes in input order, after the commit."""
        todo = [g for g in group if isinstance(g, _Analysed)]
        filings = [Filing(a.item.source, a.kind, filename=a.item.filename, media_type=a.item.media_type, channel=channel,
                          origin=source, analysis=a.analysis, sha256=a.item.sha256) for a in todo]
        try:
            filed = self._records.file_documents(actor, dossier, filings) if filings else []
        except Exception:  # noqa: BLE001 - nothing of the group was filed: go one by one, as without grouping
            log.info("group commit of %d documents failed; filing them one by one", len(filings), exc_info=True)
            return [g.result if isinstance(g, _Grouped) else
                    self._file_one(actor, dossier, g.item, g, channel=channel, source=source, password=None,
                                   parent_item=None, depth=0)
                    for g in group]
        outcomes = iter(filed)
        results = []
        for g in group:
            if isinstance(g, _Grouped):
                results.append(g.result)
                continue
            doc = next(outcomes)
            results.append(_duplicate(g.item, doc, None) if isinstance(doc, DuplicateDocumentError)
                           else self._filed(g.item, g, doc, None))
        return results

    def _file_children(self, actor: str, dossier: str, item: _Item, extraction: Extraction | None, parent: str, *,
                       password: str | None, channel: Channel | None, source: DocumentSource,
                       depth: int, budget: _Budget | None = None) -> tuple[IngestResult, ...]:
        """File a container's attachments as child documents of ``parent`` (depth- and budget-bounded).

        ``budget`` is the top-level file's, shared by its whole tree (a new one at the top): once it
        is spent, the rest is not unpacked, and one outcome (``too_large``) says how much was left.
        """
        if extraction is None or not extraction.attachments:
            return ()
        if depth + 1 > self._settings.max_attachment_depth:
            log.warning("ingest sha256:%s: attachments deeper than %d not filed separately", item.sha256[:12], depth)
            return ()
        budget = budget if budget is not None else _Budget(_DESCENDANTS_PER_FILE, _DESCENDANT_BYTES_PER_FILE)
        results: list[IngestResult] = []
        for n, att in enumerate(extraction.attachments, 1):
            if budget.documents <= 0 or budget.size < len(att.data):
                left = len(extraction.attachments) - n + 1
                results.append(IngestResult(
                    f"{item.label}#{n}", "", IngestOutcome.TOO_LARGE,
                    f"{left} attachment(s) not filed: the file unpacks into more than {_DESCENDANTS_PER_FILE} documents "
                    f"or {_DESCENDANT_BYTES_PER_FILE // (1024 * 1024)} MiB in all (nested archives); the original is kept whole",
                    None, "", None, 0, None, parent))
                break
            budget.documents -= 1
            budget.size -= len(att.data)
            results.append(self._attachment(
                actor, dossier, att.filename or f"attachment-{n}", att.data, password=password, channel=channel,
                source=source, parent=parent, label=f"{item.label}#{n}", depth=depth + 1, budget=budget))
        return tuple(results)

    def _attachment(self, actor: str, dossier: str, filename: str, data: bytes, *, password: str | None,
                    channel: Channel | None, source: DocumentSource, parent: str, label: str, depth: int,
                    budget: _Budget) -> IngestResult:
        item = _Item(label, filename, data, hashlib.sha256(data).hexdigest(), detect_media_type(data), len(data))
        future = self._start(actor, dossier, item, password, depth)
        return self._finish(actor, dossier, item, future, password=password, kind=None, channel=channel,
                            source=source, parent_item=parent, depth=depth, budget=budget)


def _expand(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for name in sorted(names):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield p


def _outcome_of(extraction: Extraction, low_confidence: float) -> tuple[IngestOutcome, str | None]:
    notes = _warnings_of(extraction, low_confidence)
    if notes:
        return IngestOutcome.OK_WITH_WARNINGS, "; ".join(notes)[:2000]
    return IngestOutcome.OK, None


def _warnings_of(extraction: Extraction, low_confidence: float) -> list[str]:
    """What makes the outcome ``ok_with_warnings``: the extraction's warnings and low OCR confidence."""
    low = [p.number for p in extraction.page_info if p.ocr and p.confidence is not None and p.confidence < low_confidence]
    notes = list(extraction.warnings)
    if low and not any("confidence" in w for w in notes):
        notes.append(f"low OCR confidence on page(s) {', '.join(map(str, low))}: flagged for review")
    return notes


def _told(extraction: Extraction, low_confidence: float) -> tuple[str, ...]:
    """The file's warnings list (issue #13 item 7): its warnings, then benign library notes."""
    return (*_warnings_of(extraction, low_confidence), *extraction.notes)


def _analysis(outcome: IngestOutcome, message: str | None, extraction: Extraction | None,
              low_confidence: float, rule: str) -> DocumentAnalysis:
    if extraction is None:
        return DocumentAnalysis(outcome=outcome, message=message, kind_rule=rule)
    ocr = [p for p in extraction.page_info if p.ocr]
    confidences = [p.confidence for p in ocr if p.confidence is not None]
    metadata = dict(extraction.metadata)
    metadata.update({f"hint_{k}": v for k, v in filing_hints(extraction.text, extraction.metadata).items()})
    return DocumentAnalysis(
        outcome=outcome, message=message, text=extraction.text, metadata=metadata, pages=extraction.pages,
        languages=extraction.languages, ocr_pages=len(ocr), ocr_confidence=min(confidences) if confidences else None,
        review_pages=tuple(p.number for p in ocr if not p.readable
                           or (p.confidence is not None and p.confidence < low_confidence)),
        kind_rule=rule,
    )


__all__ = ["IngestService", "IngestResult"]
