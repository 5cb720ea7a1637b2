"""The seam between Dossier and a full-text engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from records.access.model import AccessScope
    from search.model import IndexEntry, SearchPage, SearchQuery

ProgressCallback = Callable[[int], None]
"""Called with the number of entries written so far."""


class SearchIndex(Protocol):
    """A secondary, rebuildable full-text index over filed documents.

    The catalogue is the source of truth. An index MAY lag behind it and MUST be rebuildable
    from it. Backends MUST translate their client's exceptions into
    :class:`~search.errors.SearchError` subclasses, MUST parse the query text with
    :mod:`search.query` (one query language for all), and MUST apply the caller's
    :class:`AccessScope` inside the query so that ``total`` and facets count only visible
    documents.
    """

    @property
    def name(self) -> str:
        """"fts5" | "elasticsearch" | "opensearch" (a class attribute satisfies this too)."""


    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        """Add or replace entries keyed by ``document_id``. Idempotent.

        Visible to :meth:`search` when this returns (backends with a refresh interval wait for it).
        """

    def delete(self, document_ids: Sequence[str]) -> None:
        """Remove entries; absent ids are ignored (disposition calls this)."""

    def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        """One page of the hits the scope allows, in the requested order.

        Raises:
            InvalidQueryError: the query text cannot be parsed.
            SearchUnavailableError: the backend cannot be reached.
        """

    def document_ids(self) -> set[str]:
        """Every indexed document id (``dossier verify`` compares them with the catalogue)."""

    def rebuild(self, entries: Iterable[IndexEntry], *, progress: ProgressCallback | None = None) -> int:
        """Build a fresh index from ``entries`` and swap it in atomically; returns the count.

        Searches keep answering from the old index until the swap. On failure the old index
        stays in place.
        """

    def reset(self) -> None:
        """Replace the index with an empty one (same atomic swap as :meth:`rebuild`)."""

    def refresh(self) -> None:
        """Make every completed write visible to search now (no-op where writes are immediate)."""

    def ping(self) -> None:
        """One cheap request that shows the index can be used now (the health probe).

        Raises:
            SearchUnavailableError: it cannot.
        """

    def close(self) -> None:
        """Release connections. The index MUST NOT be used afterwards."""
