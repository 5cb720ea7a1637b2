"""Saved searches: a person's named query and sort, offered again on the search page (#11 item 4).

A saved search is the user's own data, not dossier data: saving, listing and deleting one reads
no dossier, so no access decision is taken here. Running it is an ordinary search, which passes
the gate (SEARCH) and is logged as today. Each call acts for one owner only; another user's
saved search is neither listed nor deletable (it is "not found", so its existence does not leak).

The query text can name people (a complainant's name typed into the search box), so it is stored
sealed (issue #12 item 3) under the key ring owner :data:`SAVED_SEARCH_OWNER`, made on first use
and never destroyed: a saved search belongs to its user, not to a dossier, and must keep working
after the dossiers it found are gone; sealing it keeps the name out of the catalogue, its WAL and
its backups. Queries saved before that stay readable as they are (no ``§1:`` marker). The name
the user gave stays in clear: it is looked up on save ("replace under the same name") and shown
in lists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from records.clock import Clock
from records.db import UnitOfWork
from records.errors import InvalidContentError, NotFoundError
from records.sealing import FieldSealer
from records.tables import SavedSearchRow
from records.vault.dossier_keys import DossierKeyring
from search.model import SortOrder

MAX_NAME = 200
MAX_PER_OWNER = 100
SAVED_SEARCH_OWNER = "saved-searches"   # the key ring owner sealing every saved query
_QUERY_FIELD = "saved_search.query"


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

    def __init__(self, uow: UnitOfWork, *, clock: Clock, keyring: DossierKeyring | None = None) -> None:
        """``keyring``: seals the query texts (see the module docstring); ``None`` stores them in clear."""
        self._uow = uow
        self._clock = clock
        self._keyring = keyring
        self._sealer = FieldSealer(keyring) if keyring is not None else None

    def _seal(self, query: str) -> str:
        if self._sealer is None or self._keyring is None:
            return query
        self._keyring.create(SAVED_SEARCH_OWNER, now=self._clock())  # idempotent; first use makes it
        sealed = self._sealer.seal(SAVED_SEARCH_OWNER, _QUERY_FIELD, query)
        assert sealed is not None
        return sealed

    def _saved(self, row: SavedSearchRow) -> SavedSearch:
        query = row.query
        if self._sealer is not None:
            # A key that is gone (never destroyed by the archive; a wrong key ring) shows no text, not an error.
            query = self._sealer.open(SAVED_SEARCH_OWNER, _QUERY_FIELD, row.query) or ""
        sort = SortOrder(row.sort) if row.sort in SortOrder.__members__.values() else SortOrder.RELEVANCE
        return SavedSearch(row.id, row.name, query, sort, row.created_at)

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
        stored = self._seal(query)
        with self._uow.write() as s:
            row = s.scalars(select(SavedSearchRow).where(SavedSearchRow.owner == owner,
                                                         SavedSearchRow.name == name)).first()
            if row is None:
                if len(s.scalars(select(SavedSearchRow.id).where(SavedSearchRow.owner == owner)).all()) >= MAX_PER_OWNER:
                    raise InvalidContentError(f"at most {MAX_PER_OWNER} saved searches; delete one first")
                row = SavedSearchRow(id=uuid.uuid4().hex, owner=owner, name=name, query=stored, sort=sort.value,
                                     created_at=self._clock())
                s.add(row)
            else:
                row.query, row.sort = stored, sort.value
            s.flush()
            return self._saved(row)

    def mine(self, owner: str) -> list[SavedSearch]:
        """The owner's saved searches, by name."""
        with self._uow.read() as s:
            rows = s.scalars(select(SavedSearchRow).where(SavedSearchRow.owner == owner)
                             .order_by(SavedSearchRow.name)).all()
            return [self._saved(r) for r in rows]

    def delete(self, owner: str, saved_id: str) -> None:
        """Raises SavedSearchNotFoundError: the owner has no saved search with that id."""
        with self._uow.write() as s:
            gone = s.execute(delete(SavedSearchRow).where(SavedSearchRow.owner == owner,  # type: ignore[attr-defined]
                                                          SavedSearchRow.id == saved_id)).rowcount
        if not gone:
            raise SavedSearchNotFoundError("no such saved search")

