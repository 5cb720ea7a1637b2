"""A server index that connects on first use, so opening the archive never needs the search server.

Opening the services (every CLI command, every gunicorn worker) used to ask the server which
flavour it is (``GET /``) before anything else ran: with OpenSearch down, `dossier show` and
`dossier serve` failed although neither searches. :class:`LazyServerIndex` defers that until an
index method is called. Commands that never search never contact the server; filing only tries
the after-commit index write, and the outbox keeps the row when that fails.

After a failed connection attempt the index answers :class:`SearchUnavailableError` at once for
``retry_after`` seconds instead of trying again: a busy web process (every search request) or a
drainer must not queue up behind a server that times out. Once connected, errors come from the
client as they happen (the connected index raises them; the next call tries again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from records.access.model import AccessScope
from search.errors import SearchUnavailableError
from search.interfaces import ProgressCallback, SearchIndex
from search.model import IndexEntry, SearchPage, SearchQuery

__all__ = ["LazyServerIndex"]

DEFAULT_RETRY_AFTER = 5.0  # seconds a failed connection attempt is remembered


class LazyServerIndex:
    """:class:`SearchIndex` over a server, connected by ``connect`` on first use (thread-safe).

    Args:
        name: the configured backend ("opensearch", "elasticsearch"), or "server" when the
            flavour is left to the server; the connected index's own name replaces it.
        connect: opens the real index (``search.backends.elastic.connect_index``); may raise
            :class:`SearchUnavailableError`.
        retry_after: how long a failed attempt is remembered before the next one.
        monotonic: the time source for that wait (a duration, not the archive's "now").
    """

    def __init__(self, name: str, connect: Callable[[], SearchIndex], *, retry_after: float = DEFAULT_RETRY_AFTER,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._connect = connect
        self._retry_after = retry_after
        self._monotonic = monotonic
        self._index: SearchIndex | None = None
        self._failed: tuple[float, SearchUnavailableError] | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def name(self) -> str:
        return self._index.name if self._index is not None else self._name

    @property
    def connected(self) -> bool:
        return self._index is not None

    def _open(self, *, retry_now: bool = False) -> SearchIndex:
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is not None:
                return self._index
            if self._closed:
                raise SearchUnavailableError(self._name, "the index was closed")
            if self._failed is not None and not retry_now:
                at, error = self._failed
                if self._monotonic() - at < self._retry_after:
                    # A new error each time: re-raising one instance would grow its traceback forever.
                    raise SearchUnavailableError(error.backend, error.cause)
            try:
                self._index = self._connect()
            except SearchUnavailableError as exc:
                self._failed = (self._monotonic(), exc)
                raise
            self._failed = None
            return self._index

    # ------------------------------------------------------------------ SearchIndex
    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        self._open().upsert(entries)

    def delete(self, document_ids: Sequence[str]) -> None:
        self._open().delete(document_ids)

    def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        return self._open().search(query, scope)

    def document_ids(self) -> set[str]:
        return self._open().document_ids()

    def rebuild(self, entries: Iterable[IndexEntry], *, progress: ProgressCallback | None = None) -> int:
        return self._open().rebuild(entries, progress=progress)

    def reset(self) -> None:
        self._open().reset()

    def refresh(self) -> None:
        self._open().refresh()

    def ping(self) -> None:
        # A health probe always really tries (the caller caches its answers), and a success
        # ends the fail-fast wait for everyone else in this process.
        self._open(retry_now=True).ping()

    def drop(self) -> None:
        """Delete the alias and its indices (tests and benchmarks clean up with this; see ``_ServerIndex.drop``)."""
        index = self._open()
        drop: Callable[[], None] | None = getattr(index, "drop", None)
        if drop is not None:
            drop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            index, self._index = self._index, None
        if index is not None:
            index.close()


_check: type[SearchIndex] = LazyServerIndex
