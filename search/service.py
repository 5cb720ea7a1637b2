"""SearchService: keeps the index in step with the catalogue and answers searches within a scope.

The index is a secondary copy. It follows the catalogue through the index outbox (each change is
a row written in the change's own commit; ``search.outbox`` applies them through :meth:`apply`),
`reindex` rebuilds everything from the vault — keeping the changes made meanwhile for the new
index (:meth:`SearchService.rebuild`) — and `verify` compares the index with the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from records.access.model import AccessScope
from records.model import FiledDocument
from search.interfaces import SearchIndex
from search.model import IndexEntry, SearchPage, SearchQuery, SortOrder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexCheck:
    """Index entries missing from, or extra to, the catalogue (`dossier verify`)."""

    indexed: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra


class RebuildJournal(Protocol):
    """Keeps the catalogue's changes made while the index is rebuilt, and applies them after the swap.

    ``search.outbox.IndexOutbox`` is one. Without it a change applied to the old index during a
    rebuild is lost when the new one is swapped in.
    """

    def rebuilding(self) -> AbstractContextManager[Callable[[], None]]: ...


class SearchService:
    def __init__(self, index: SearchIndex, tz: ZoneInfo) -> None:
        self._index = index
        self._tz = tz
        self._journal: RebuildJournal | None = None

    def keep_changes_during_rebuilds(self, journal: RebuildJournal) -> None:
        """Have :meth:`rebuild` run inside ``journal.rebuilding()`` (the composition root wires the outbox)."""
        self._journal = journal

    @property
    def backend(self) -> str:
        return self._index.name

    def search(self, actor: str, text: str, scope: AccessScope, *, sort: SortOrder = SortOrder.RELEVANCE,
               page: int = 1, page_size: int = 20) -> SearchPage:
        """One page of hits the scope allows, with facets and highlighted snippets.

        Raises:
            InvalidQueryError: the query cannot be parsed (the message says where).
        """
        return self._index.search(SearchQuery(text=text, sort=sort, page=page, page_size=page_size), scope)

    def remove(self, document_ids: list[str]) -> None:
        self._index.delete(document_ids)

    def apply(self, filed: Sequence[FiledDocument], removed: Sequence[str]) -> None:
        """Make the index match the catalogue for some documents: upsert the live ones, delete the others.

        What applying index-outbox rows comes down to (``search.outbox``). Idempotent.
        """
        if filed:
            self._index.upsert([self.entry(f) for f in filed])
        if removed:
            self._index.delete(list(removed))

    def rebuild(self, documents: Iterable[FiledDocument], progress: Callable[[int], None] | None = None) -> int:
        """Build a fresh index from the catalogue and vault, then swap it in atomically.

        ``documents`` must read the catalogue lazily (``RecordsService.filed_documents`` does):
        with a journal wired in, changes committed before the read began are in the new index
        and the later ones are applied to it after the swap, so none is lost.
        """
        if self._journal is None:
            return self._index.rebuild((self.entry(f) for f in documents), progress=progress)
        with self._journal.rebuilding() as heartbeat:
            def tick(count: int) -> None:
                heartbeat()
                if progress is not None:
                    progress(count)

            return self._index.rebuild((self.entry(f) for f in documents), progress=tick)

    def check(self, catalogue_ids: Iterator[str]) -> IndexCheck:
        indexed = self._index.document_ids()
        expected = set(catalogue_ids)
        return IndexCheck(len(indexed), tuple(sorted(expected - indexed)), tuple(sorted(indexed - expected)))

    def ping(self) -> None:
        """One cheap request to the index (the health probe). Raises SearchUnavailableError."""
        self._index.ping()

    def close(self) -> None:
        self._index.close()

    def entry(self, filed: FiledDocument) -> IndexEntry:
        doc, reg = filed.document, filed.registration
        return IndexEntry(
            document_id=doc.document_id, dossier_id=filed.dossier_id, archive_number=filed.archive_number,
            item_number=doc.item_number, title=reg.matter or doc.filename, text=filed.text, kind=doc.kind.value,
            channel=(doc.channel or reg.channel).value, state=filed.state.value,
            received_on=reg.received_at.astimezone(self._tz).date(), filed_at=doc.filed_at,
            category=reg.category, respondent=reg.respondent, complainant=reg.complainant,
            department=reg.department, closed_on=filed.closed_on, language=doc.languages[0] if doc.languages else None,
            heading=document_heading(doc.filename, filed.text, doc.media_type),
        )


_MAIL_TYPES = ("message/rfc822", "application/mbox", "application/vnd.ms-outlook")


def document_heading(filename: str, text: str, media_type: str = "") -> str:
    """What a hit is titled by: an e-mail's subject, else the file name (#11 item 4).

    The e-mail extractor starts the text with a header block (``From: …``, ``Subject: …``, a
    blank line), so the subject is read from there rather than from the vault's metadata; a
    text file that merely begins with such a line keeps its file name.
    """
    if media_type in _MAIL_TYPES and text.startswith(("From:", "To:", "Cc:", "Date:", "Subject:")):
        for line in text.split("\n\n", 1)[0].splitlines():
            if line.startswith("Subject:") and line[8:].strip():
                return line[8:].strip()[:200]
    return filename
