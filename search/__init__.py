"""Full-text search: a secondary, rebuildable index over filed documents.

The catalogue is primary; an index can always be rebuilt from it. One query language
(:mod:`search.query`) and one analysis (:mod:`search.analysis`) serve every backend; the caller's
:class:`~records.access.model.AccessScope` is part of every search. Backends live in
:mod:`search.backends` and are chosen by configuration (:func:`search.backends.open_index`).

This package may import ``records`` (domain values, errors); it never imports ``ingest`` or ``web``.
"""

from __future__ import annotations

from search.errors import IndexOutdatedError, InvalidQueryError, SearchError, SearchUnavailableError
from search.interfaces import SearchIndex
from search.model import Facet, IndexEntry, SearchHit, SearchPage, SearchQuery, Snippet, SortOrder

__all__ = [
    "Facet", "IndexEntry", "IndexOutdatedError", "InvalidQueryError", "SearchError", "SearchHit", "SearchIndex",
    "SearchPage", "SearchQuery", "SearchUnavailableError", "Snippet", "SortOrder",
]
