"""SearchService: keeps the index in step with the catalogue and answers searches within a scope.

The index is a secondary copy: filing a document indexes it (after the catalogue commit), a
lifecycle change re-indexes the dossier's documents, `reindex` rebuilds everything from the
vault, and `verify` compares the index with the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


class SearchService:
    def __init__(self, index: SearchIndex, tz: ZoneInfo) -> None:
        self._index = index
        self._tz = tz

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

    def index_filed(self, filed: FiledDocument) -> None:
        """Index one document just filed (the records after-commit hook)."""
        self._index.upsert([self.entry(filed)])

    def index_filed_many(self, filed: list[FiledDocument]) -> None:
        """Index documents filed in one group commit, in one index transaction."""
        if filed:
            self._index.upsert([self.entry(f) for f in filed])

    def reindex_dossier(self, documents: Iterable[FiledDocument]) -> int:
        """Re-index a dossier's documents after its state or fields changed."""
        entries = [self.entry(f) for f in documents]
        if entries:
            self._index.upsert(entries)
        return len(entries)

    def remove(self, document_ids: list[str]) -> None:
        self._index.delete(document_ids)

    def rebuild(self, documents: Iterable[FiledDocument], progress: Callable[[int], None] | None = None) -> int:
        """Build a fresh index from the catalogue and vault, then swap it in atomically."""
        return self._index.rebuild((self.entry(f) for f in documents), progress=progress)

    def check(self, catalogue_ids: Iterator[str]) -> IndexCheck:
        indexed = self._index.document_ids()
        expected = set(catalogue_ids)
        return IndexCheck(len(indexed), tuple(sorted(expected - indexed)), tuple(sorted(indexed - expected)))

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
        )
