"""Errors of the search package.

::

    DossierError                                  (records.errors)
    └── SearchError                  family base (never raised itself); [category in records.errors]
        ├── InvalidQueryError        [InvalidInput] (ValueError) the query text cannot be parsed or planned,
        │                            including a query nested more deeply than the parser allows
        └── SearchUnavailableError   [Unavailable] the backend cannot be reached or refused the request
            └── IndexOutdatedError   the index was built by another analyser version: reindex
"""

from __future__ import annotations

from records.errors import DossierError, InvalidInputError, UnavailableError


class SearchError(DossierError):
    """Family base of every search error (never raised itself)."""


class InvalidQueryError(SearchError, InvalidInputError, ValueError):
    """The query text is malformed; the message is meant for the person who typed it.

    Attributes:
        query: the text as typed.
        position: 0-based character offset of the problem, or None when it is about the whole query.
        problem: what is wrong, without the position.
    """

    code = "invalid_query"

    def __init__(self, query: str, problem: str, position: int | None = None) -> None:
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(f"invalid search query: {problem}{where}")
        self.query = query
        self.problem = problem
        self.position = position


class SearchUnavailableError(SearchError, UnavailableError):
    """The search backend could not be reached or failed; the catalogue is unaffected.

    Attributes:
        backend: the backend's settings name ("fts5", "opensearch", "elasticsearch").
        cause: a one-line description of the underlying failure.
    """

    code = "search_unavailable"

    def __init__(self, backend: str, cause: str) -> None:
        super().__init__(f"search backend {backend} is unavailable: {cause}")
        self.backend = backend
        self.cause = cause


class IndexOutdatedError(SearchUnavailableError):
    """The index on disk was built with another analyser version and must be rebuilt."""

    code = "index_outdated"

    def __init__(self, backend: str, found: str, expected: str) -> None:
        super().__init__(backend, f"index analyser version {found}, this build needs {expected}; "
                                  "run `dossier reindex`")
        self.found = found
        self.expected = expected
