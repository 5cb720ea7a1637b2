"""The search index's health probe (``records.health.Probe``): can it be used, and how far behind is it.

The backlog — catalogue changes the index has yet to follow (``search.outbox``) — is read from
the catalogue, so it is reported even while the index is down: it says how much will be caught
up when the index returns.
"""

from __future__ import annotations

from typing import Protocol

from records.health import BackendHealth
from records.outbox import Backlog

__all__ = ["SearchProbe"]


class Pingable(Protocol):
    """``search.service.SearchService``, as far as the probe uses it."""

    @property
    def backend(self) -> str: ...
    def ping(self) -> None: ...


class BacklogSource(Protocol):
    """``search.outbox.IndexOutbox``, as far as the probe uses it."""

    def backlog(self) -> Backlog: ...


class SearchProbe:
    def __init__(self, search: Pingable, outbox: BacklogSource) -> None:
        self._search, self._outbox = search, outbox

    def probe(self) -> BackendHealth:
        facts: dict[str, int | str] = {}
        try:
            facts["backlog"] = self._outbox.backlog().count
        except Exception:  # noqa: BLE001 - the catalogue's own probe reports that; the index may still be fine
            pass
        try:
            self._search.ping()
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, outdated: the index cannot be used
            return BackendHealth.unavailable(exc, backend=self._search.backend, **facts)
        return BackendHealth.ok(backend=self._search.backend, **facts)
