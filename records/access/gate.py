"""The one gate every door passes: identity first, the policy decides, the access log records.

The web pages, the JSON API and the ``dossier`` console all read and change dossiers through
:class:`Gate`; none of them decides access or writes a log entry itself. Each method takes the
acting :class:`Identity` first and a :class:`RequestContext` (where the call came from), asks
:mod:`records.access.policy` through :class:`AccessService`, and leaves exactly one access-log
entry per call, allowed or refused:

- reads (:meth:`dossier`, :meth:`document`, :meth:`text`, :meth:`original`, :meth:`copy`) load
  their catalogue rows and append their entry in one transaction (``AccessService.retrieve``):
  no entry, no data;
- listings and search (:meth:`list_dossiers`, :meth:`search`) are logged once and limited to the
  caller's scope by the policy;
- changes (:meth:`register`, :meth:`file_document`, :meth:`advance`, …) are authorised and logged
  before the change runs; a refusal is committed and then raised.

A regulator never receives an original: :meth:`copy` stamps every page with the regulator's
name, grant, purpose and the time (ACS-04), whichever door asked.

The search engine is reached through the :class:`Searcher` seam (``search/`` implements it), so
the archive core still imports nothing of the other packages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo

from records.access.identity import Action, Decision, DossierTarget, Identity, RequestContext, Role
from records.access.model import AccessScope
from records.access.policy import matches, target_of
from records.access.service import AccessService
from records.access.watermark import renders_text, stamp_lines, watermark_document
from records.clock import Clock
from records.errors import DocumentNotFoundError, DossierNotFoundError
from records.model import DocumentInfo, DocumentKind, DossierInfo, DossierState, FiledDocument, Registration
from records.service import RecordsService
from records.upkeep import RotationReport, VerifyReport

__all__ = ["Copy", "Gate", "Original", "Searcher", "dossier_of_item"]

T = TypeVar("T")
U = TypeVar("U")
_NO_CONTEXT = RequestContext()


class Searcher(Protocol):
    """The full-text search the gate scopes and logs (``search.service.SearchService``)."""

    def search(self, actor: str, text: str, scope: AccessScope, *, sort: Any = ..., page: int = 1,
               page_size: int = 20) -> Any: ...


@dataclass(frozen=True, slots=True)
class Original:
    """A document's original as the caller may receive it: the bytes stream after the entry committed."""

    dossier: DossierInfo
    document: DocumentInfo
    stream: Iterator[bytes]
    decision: Decision


@dataclass(frozen=True, slots=True)
class Copy:
    """What leaves the archive for one caller: the original, or a regulator's stamped PDF."""

    dossier: DossierInfo
    document: DocumentInfo
    media_type: str
    filename: str
    stream: Iterator[bytes] | list[bytes]
    watermarked: bool


class Gate:
    """Identity-first reads and changes of dossiers, each decided by the policy and logged once.

    Args:
        access: decides (``records.access.policy``) and appends to the access log.
        records: the archive core's use cases.
        searcher: the search service (scoped here, never by its callers).
        tz: the archive's zone (receipt dates in grant filters, stamp times).
        clock: the archive's clock (the time printed on a regulator's stamp).
    """

    def __init__(self, access: AccessService, records: RecordsService, searcher: Searcher, *, tz: ZoneInfo,
                 clock: Clock) -> None:
        self._access, self._records, self._searcher = access, records, searcher
        self._tz, self._clock = tz, clock

    # ------------------------------------------------------------------ reads
    def dossier(self, who: Identity, number: str, *, action: Action = Action.VIEW_DOSSIER,
                context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> DossierInfo:
        """The dossier, once ``action`` on it is allowed; an unknown number is logged and refused like a hidden one."""
        def load() -> tuple[DossierInfo, DossierTarget]:
            info = self._records.get_dossier(who.name, number)
            return info, target_of(info, self._tz)

        return self._retrieve(who, action, load, number, context, details)[0]

    def document(self, who: Identity, item: str, *, action: Action = Action.VIEW_DOCUMENT,
                 context: RequestContext = _NO_CONTEXT,
                 details: Mapping[str, str] | None = None) -> tuple[DossierInfo, DocumentInfo]:
        """The dossier holding document ``item`` and the document, once ``action`` on it is allowed."""
        return self._retrieve(who, action, self._document_load(who, item), item, context, details)[0]

    def text(self, who: Identity, item: str, *, context: RequestContext = _NO_CONTEXT,
             details: Mapping[str, str] | None = None) -> tuple[DocumentInfo, str, dict[str, str]]:
        """The extracted (or OCR'd) text of document ``item`` and its metadata (VIEW_TEXT)."""
        def then(found: tuple[DossierInfo, DocumentInfo]) -> tuple[DocumentInfo, str, dict[str, str]]:
            return self._records.document_text(who.name, item)

        return self._retrieve_then(who, Action.VIEW_TEXT, self._document_load(who, item), item, context, details,
                                   then)[0]

    def original(self, who: Identity, item: str, *, action: Action = Action.DOWNLOAD_DOCUMENT,
                 context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> Original:
        """Authorise, log and open document ``item``'s original; its rows and the entry share one commit.

        The data key is unwrapped and the blob opened inside the transaction, once the policy
        allowed; the bytes are read (and authenticated) only as the caller consumes the stream.
        Callers that hand bytes to a person use :meth:`copy`, which stamps a regulator's copy.
        """
        def then(found: tuple[DossierInfo, DocumentInfo]) -> tuple[DossierInfo, DocumentInfo, Iterator[bytes]]:
            doc, stream = self._records.retrieve_document(who.name, item)
            return found[0], doc, stream

        (info, doc, stream), decision = self._retrieve_then(
            who, action, self._document_load(who, item), item, context, details, then)
        return Original(info, doc, stream, decision)

    def copy(self, who: Identity, item: str, *, action: Action = Action.DOWNLOAD_DOCUMENT,
             context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> Copy:
        """What ``who`` receives of document ``item``: the original, or — to a regulator — a stamped PDF.

        A regulator's copy is made in memory from the authenticated original, every page stamped
        with their name, grant, purpose and the time (ACS-04). If no stamped copy can be made (a
        password-protected PDF, a type without extracted text) ``WatermarkError`` is raised and
        nothing leaves.
        """
        original = self.original(who, item, action=action, context=context, details=details)
        doc = original.document
        if who.console or who.role is not Role.REGULATOR:
            return Copy(original.dossier, doc, doc.media_type, doc.filename, original.stream, watermarked=False)
        data = b"".join(original.stream)  # authenticated to its last byte before anything is stamped
        text = None
        if renders_text(doc.media_type) and doc.text_chars:
            text = self._records.document_text(who.name, doc.item_number)[1]
        # The decision names the grant that allowed; the caller's identity carries its grants.
        grant = next((g for g in who.grants if g.grant_id == original.decision.grant_id), None)
        stamped, media_type = watermark_document(data, doc.media_type, stamp_lines(who, grant, self._clock(), self._tz),
                                                 text=text)
        name = (doc.filename.rsplit(".", 1)[0] if "." in doc.filename[1:] else doc.filename) + ".pdf"
        return Copy(original.dossier, doc, media_type, name, [stamped], watermarked=True)

    def list_dossiers(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                      details: Mapping[str, str] | None = None, **filters: Any) -> list[Any]:
        """Dossier summaries ``who`` may list, newest first (LIST_DOSSIERS, logged once)."""
        shown = {k: str(v) for k, v in filters.items() if v is not None}
        self._access.enforce(who, Action.LIST_DOSSIERS, None, context=context, details={**(details or {}), **shown})
        scope = self._access.scope(who, Action.LIST_DOSSIERS)
        if scope.is_empty:
            return []
        if scope == AccessScope.everything():
            return list(self._records.list_dossiers(who.name, **filters))
        return list(self._records.list_dossiers(
            who.name, visible=lambda info: matches(scope, target_of(info, self._tz)), **filters))

    def search(self, who: Identity, text: str, *, context: RequestContext = _NO_CONTEXT, grant_id: str | None = None,
               details: Mapping[str, str] | None = None, **options: Any) -> Any:
        """One page of hits inside ``who``'s scope (SEARCH, logged once with the query).

        Raises:
            AccessDeniedError: the caller may not search (logged).
            GrantRequiredError: a regulator with several unmergeable grants named none.
            InvalidQueryError: the query cannot be parsed.
        """
        self._access.enforce(who, Action.SEARCH, None, context=context, grant_id=grant_id,
                             details={**(details or {}), "q": text[:200]})
        scope = self._access.scope(who, Action.SEARCH, grant_id=grant_id)
        return self._searcher.search(who.name, text, scope, **options)

    def related(self, who: Identity, number: str, finder: Callable[[str, DossierInfo, AccessScope], T], *,
                context: RequestContext = _NO_CONTEXT, grant_id: str | None = None,
                details: Mapping[str, str] | None = None) -> T:
        """Earlier dossiers related to dossier ``number`` (ACC-NO-01): a search that starts from a dossier.

        Decided as SEARCH *on that dossier* (so the caller must be able to reach it) and logged
        once, naming it; then ``finder`` (``search.related.RelatedComplaints._find``, private: this
        method is the only entry) runs with the dossier and the caller's search scope, which limits
        every query it makes.
        """
        def load() -> tuple[DossierInfo, DossierTarget]:
            info = self._records.get_dossier(who.name, number)
            return info, target_of(info, self._tz)

        info = self._retrieve(who, Action.SEARCH, load, number, context, {**(details or {}), "related": "1"})[0]
        scope = self._access.scope(who, Action.SEARCH, grant_id=grant_id)
        return finder(who.name, info, scope)

    # ------------------------------------------------------------------ changes
    def register(self, who: Identity, registration: Registration, *, context: RequestContext = _NO_CONTEXT,
                 details: Mapping[str, str] | None = None) -> DossierInfo:
        """Open a dossier for a complaint, once ``who`` may register one for its department (REGISTER)."""
        target = DossierTarget(dossier_id=None, state=DossierState.REGISTERED, department=registration.department,
                               archive_number=None, respondent=registration.respondent,
                               category=registration.category,
                               received_on=registration.received_at.astimezone(self._tz).date())
        self._access.enforce(who, Action.REGISTER, target, context=context, details=details)
        return self._records.register_complaint(who.name, registration)

    def file_document(self, who: Identity, number: str, original: Path | bytes, *,
                      context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None,
                      **options: Any) -> DocumentInfo:
        """File one original into dossier ``number`` (FILE_DOCUMENT on its current state and department).

        ``options`` are those of ``RecordsService.file_document`` (kind, media type, source, …).
        """
        self._authorize_on(who, Action.FILE_DOCUMENT, number, context, details)
        return self._records.file_document(who.name, number, original, **options)

    def authorize_filing(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
                         details: Mapping[str, str] | None = None) -> DossierInfo:
        """Authorise and log filing into ``number`` for a caller that files through ingest or the intake queue."""
        return self._authorize_on(who, Action.FILE_DOCUMENT, number, context, details)

    def advance(self, who: Identity, number: str, to: DossierState, *, on: date | None = None,
                note: str | None = None, override_reason: str | None = None, context: RequestContext = _NO_CONTEXT,
                details: Mapping[str, str] | None = None) -> DossierInfo:
        """A lifecycle step (ADVANCE): accepted, not accepted, investigating, decided, replied, closed, void.

        Closing with required materials missing (ARC-2) needs ``override_reason`` and is then
        CLOSE_OVERRIDE, the archive department's decision, instead of ADVANCE: one entry either way.
        """
        if override_reason is not None and to is DossierState.CLOSED:
            self._authorize_on(who, Action.CLOSE_OVERRIDE, number, context,
                               {**(details or {}), "to": str(to), "reason": override_reason.strip()})
        else:
            self._authorize_on(who, Action.ADVANCE, number, context, {**(details or {}), "to": str(to)})
            override_reason = None
        return self._records.advance(who.name, number, to, on=on, note=note, override_reason=override_reason)

    def reopen(self, who: Identity, number: str, *, reason: str, context: RequestContext = _NO_CONTEXT,
               details: Mapping[str, str] | None = None) -> DossierInfo:
        """Take a closed, unsealed dossier back to handling, with a reason (REOPEN)."""
        self._authorize_on(who, Action.REOPEN, number, context, {**(details or {}), "reason": reason.strip()})
        return self._records.reopen(who.name, number, reason=reason)

    def reclassify(self, who: Identity, item: str, kind: DocumentKind, *, reason: str,
                   context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> DocumentInfo:
        """Correct the kind of filed document ``item`` (RECLASSIFY); the rule that fired is kept beside it."""
        self._retrieve(who, Action.RECLASSIFY, self._document_load(who, item), item, context,
                       {**(details or {}), "kind": str(kind), "reason": reason.strip()})
        return self._records.reclassify(who.name, item, kind, reason=reason)

    def withdraw_document(self, who: Identity, item: str, reason: str, *, context: RequestContext = _NO_CONTEXT,
                          details: Mapping[str, str] | None = None) -> DocumentInfo:
        """Withdraw junk filing ``item`` with a reason (FILE_DOCUMENT on its dossier: who may file may undo
        a bad filing); refused in sealed, void and disposed dossiers (ARC-1-05). One log entry."""
        self._retrieve(who, Action.FILE_DOCUMENT, self._document_load(who, item), item, context,
                       {**(details or {}), "withdraw": "1", "reason": reason.strip()[:200]})
        return self._records.withdraw_document(who.name, item, reason)

    def unlock(self, who: Identity, item: str, *, context: RequestContext = _NO_CONTEXT,
               details: Mapping[str, str] | None = None) -> Original:
        """Authorise, log and open the original of ``item`` to open it with a password (``dossier unlock``,
        issue #13): FILE_DOCUMENT on its dossier — unlocking replaces the item's text and files what is
        inside, as filing would — so refused in sealed, void and disposed dossiers. One entry per
        attempt, right or wrong password; the password itself is never passed here."""
        def then(found: tuple[DossierInfo, DocumentInfo]) -> tuple[DossierInfo, DocumentInfo, Iterator[bytes]]:
            doc, stream = self._records.retrieve_document(who.name, item)
            return found[0], doc, stream

        (info, doc, stream), decision = self._retrieve_then(
            who, Action.FILE_DOCUMENT, self._document_load(who, item), item, context,
            {**(details or {}), "unlock": "1"}, then)
        return Original(info, doc, stream, decision)

    def extend(self, who: Identity, number: str, *, days: int, reason: str, approved_by: str,
               context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> DossierInfo:
        """Extend the conclusion deadline (TL-03), with the approver and the reason (ADVANCE)."""
        self._authorize_on(who, Action.ADVANCE, number, context,
                           {**(details or {}), "extend_days": str(days), "approved_by": approved_by})
        return self._records.extend_conclusion(who.name, number, days=days, reason=reason, approved_by=approved_by)

    # ------------------------------------------------------------------ the archive as a whole
    def verify_vault(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                     details: Mapping[str, str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Decrypt every stored object and check it (VERIFY_VAULT): problems by number, never content."""
        self._access.enforce(who, Action.VERIFY_VAULT, None, context=context, details=details)
        return self._records.verify_vault(who.name, progress=progress)

    def rotate_master_key(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                          details: Mapping[str, str] | None = None) -> RotationReport:
        """A new master key, every data key re-wrapped under it (MANAGE_KEYS)."""
        self._access.enforce(who, Action.MANAGE_KEYS, None, context=context, details=details)
        return self._records.rotate_master_key(who.name)

    def reindex_source(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                       details: Mapping[str, str] | None = None) -> Iterator[FiledDocument]:
        """Every live document with its text, for rebuilding the search index (REINDEX).

        A rebuild reads the text of the whole archive, so it is decided and logged like a read;
        the documents are read lazily as the rebuild consumes them.
        """
        self._access.enforce(who, Action.REINDEX, None, context=context, details=details)
        return self._records.filed_documents(who.name)

    # ------------------------------------------------------------------ helpers
    def _authorize_on(self, who: Identity, action: Action, number: str, context: RequestContext,
                      details: Mapping[str, str] | None) -> DossierInfo:
        def load() -> tuple[DossierInfo, DossierTarget]:
            info = self._records.get_dossier(who.name, number)
            return info, target_of(info, self._tz)

        return self._retrieve(who, action, load, number, context, details)[0]

    def _document_load(self, who: Identity, item: str) -> Callable[[], tuple[tuple[DossierInfo, DocumentInfo], DossierTarget]]:
        def load() -> tuple[tuple[DossierInfo, DocumentInfo], DossierTarget]:
            try:
                doc = self._records.get_document(who.name, item)
                info = self._records.get_dossier(who.name, dossier_of_item(doc.item_number))
            except DossierNotFoundError:
                raise DocumentNotFoundError(item) from None
            return (info, doc), target_of(info, self._tz, item_number=doc.item_number)

        return load

    def _retrieve(self, who: Identity, action: Action, load: Callable[[], tuple[T, DossierTarget]], ref: str,
                  context: RequestContext, details: Mapping[str, str] | None) -> tuple[T, Decision]:
        return self._access.retrieve(who, action, load, context=context, object_ref=ref, details=details)

    def _retrieve_then(self, who: Identity, action: Action, load: Callable[[], tuple[T, DossierTarget]], ref: str,
                       context: RequestContext, details: Mapping[str, str] | None,
                       then: Callable[[T], U]) -> tuple[U, Decision]:
        step: Callable[[Any], Any] = then  # retrieve() is typed for "load, then maybe more"
        value, decision = self._access.retrieve(who, action, load, then=step, context=context, object_ref=ref,
                                                details=details)
        return cast(U, value), decision  # allowed: then() ran on what load() returned


def dossier_of_item(item_number: str) -> str:
    """The archive number of the dossier holding ``item_number`` (``2611-007-03.v2`` → ``2611-007``)."""
    return item_number.partition(".v")[0].rpartition("-")[0]

