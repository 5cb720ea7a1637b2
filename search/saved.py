"""Saved searches: a person's named query and sort, offered again on the search page (#11 item 4).

A saved search is the user's own data, not dossier data: saving, listing and deleting one reads
no dossier, so no access decision is taken here. Running it is an ordinary search, which passes
the gate (SEARCH) and is logged as today. Each call acts for one owner only; another user's
saved search is neither listed nor deletable (it is "not found", so its existence does not leak).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from records.clock import Clock
from records.db import UnitOfWork
from records.errors import InvalidContentError, NotFoundError
from records.tables import SavedSearchRow
from search.model import SortOrder

MAX_NAME = 200
MAX_PER_OWNER = 100


class SavedSearchNotFoundError(NotFoundError, LookupError):
    code = "saved_search_not_found"


@dataclass(frozen=True, slots=True)
class SavedSearch:
    id: str
    name: str
    query: str
    sort: SortOrder
    created_at: datetime


class SavedSearches:
    """Save, list and delete one owner's searches (table ``saved_searches``)."""

    def __init__(self, uow: UnitOfWork, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def save(self, owner: str, name: str, query: str, sort: SortOrder = SortOrder.RELEVANCE) -> SavedSearch:
        """Save (or, under a name already used by this owner, replace) a search.

        Raises:
            InvalidContentError: no name, a name that is too long, no query, or too many saved searches.
        """
        name, query = name.strip(), query.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidContentError(f"a saved search needs a name of 1 to {MAX_NAME} characters")
        if not query:
            raise InvalidContentError("there is no search to save")
        with self._uow.write() as s:
            row = s.scalars(select(SavedSearchRow).where(SavedSearchRow.owner == owner,
                                                         SavedSearchRow.name == name)).first()
            if row is None:
                if len(s.scalars(select(SavedSearchRow.id).where(SavedSearchRow.owner == owner)).all()) >= MAX_PER_OWNER:
                    raise InvalidContentError(f"at most {MAX_PER_OWNER} saved searches; delete one first")
                row = SavedSearchRow(id=uuid.uuid4().hex, owner=owner, name=name, query=query, sort=sort.value,
                                     created_at=self._clock())
                s.add(row)
            else:
                row.query, row.sort = query, sort.value
            s.flush()
            return _saved(row)

    def mine(self, owner: str) -> list[SavedSearch]:
        """The owner's saved searches, by name."""
        with self._uow.read() as s:
            rows = s.scalars(select(SavedSearchRow).where(SavedSearchRow.owner == owner)
                             .order_by(SavedSearchRow.name)).all()
            return [_saved(r) for r in rows]

    def delete(self, owner: str, saved_id: str) -> None:
        """Raises SavedSearchNotFoundError: the owner has no saved search with that id."""
        with self._uow.write() as s:
            gone = s.execute(delete(SavedSearchRow).where(SavedSearchRow.owner == owner,  # type: ignore[attr-defined]
                                                          SavedSearchRow.id == saved_id)).rowcount
        if not gone:
            raise SavedSearchNotFoundError("no such saved search")


def _saved(row: SavedSearchRow) -> SavedSearch:
    sort = SortOrder(row.sort) if row.sort in SortOrder.__members__.values() else SortOrder.RELEVANCE
    return SavedSearch(row.id, row.name, row.query, sort, row.created_at)
