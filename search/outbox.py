"""IndexOutbox: applies the catalogue's index-outbox rows to the search index (the drainer).

The catalogue writes one row per change the index must follow, in the change's own commit
(``records.outbox``). This module turns rows into index writes and settles them:

* right after the commit, in the process that made the change (:meth:`IndexOutbox.apply_committed`,
  the records after-commit listener): a filed document is searchable as soon as it was before;
* in every intake worker's loop, in `dossier serve`, when the services are opened, and on demand
  (`dossier index drain`): :meth:`IndexOutbox.drain` picks up what the first path missed — the
  process died after the commit, the index was down, the write failed.

Applying a row makes the index match the catalogue *now* for the documents it names (a filed or
removed document; every document of a changed dossier): live ones are upserted from a fresh read,
destroyed or unknown ones deleted. That is idempotent and order-free, so a row applied twice or
late does no harm, and several drainers may run at once. A row that fails is kept with its
attempt counted, its error recorded and its next try put off (exponential backoff); a failing
index write stops the drain, since the rows after it would fail the same way. No row is ever
given up on: it waits until it applies.

Two waits: a row whose own read failed (the vault, the catalogue) backs off up to
``backoff_cap`` (10 min); rows held up by the index itself (a search server outage) back off
only up to ``outage_backoff_cap`` (30 s), so that the drainers catch up within half a minute
of the server's return however long it was away, at the cost of one failing request per batch
and half-minute while it is down.

Rebuilds (:meth:`IndexOutbox.rebuilding`, used by ``SearchService.rebuild``): the rows written
while a new index is being built are kept (the store holds them) and applied to the new index
once it is swapped in, so no change made during `dossier reindex` is lost at the swap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from records.clock import Clock, system_clock
from records.errors import DossierNotFoundError
from records.model import FiledDocument
from records.outbox import Backlog, CommittedChanges, IndexChange, OutboxEntry, RebuildMark

log = logging.getLogger(__name__)

__all__ = ["DrainReport", "IndexOutbox", "OutboxCatalogue", "OutboxIndex", "OutboxStore"]

_ACTOR = "system:index-outbox"
_BATCH = 200
DEFAULT_BACKOFF = timedelta(seconds=5)
DEFAULT_BACKOFF_CAP = timedelta(minutes=10)
DEFAULT_OUTAGE_BACKOFF_CAP = timedelta(seconds=30)
DEFAULT_REBUILD_LEASE = timedelta(minutes=10)


class OutboxStore(Protocol):
    """The catalogue's outbox rows (``records.outbox.IndexOutboxStore``)."""

    def due(self, limit: int) -> list[OutboxEntry]: ...
    def settle(self, ids: Sequence[int]) -> tuple[int, int]: ...
    def failed(self, ids: Sequence[int], error: str, backoff: Callable[[int], timedelta]) -> None: ...
    def backlog(self) -> Backlog: ...
    def begin_rebuild(self, lease: timedelta) -> RebuildMark: ...
    def renew_rebuild(self, mark: RebuildMark, lease: timedelta) -> None: ...
    def finish_rebuild(self, mark: RebuildMark, *, swapped: bool) -> list[OutboxEntry]: ...


class OutboxCatalogue(Protocol):
    """The catalogue reads a row needs (``records.service.RecordsService``)."""

    def filed_document(self, actor: str, document_id: str) -> FiledDocument | None: ...
    def dossier_document_ids(self, actor: str, ref: str) -> list[str]: ...


class OutboxIndex(Protocol):
    """The index writes (``search.service.SearchService``)."""

    def apply(self, filed: Sequence[FiledDocument], removed: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one drain did: rows applied (and deleted), applied but held for a running rebuild, failed."""

    applied: int
    held: int
    failed: int
    backlog: Backlog
    errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(slots=True)
class _Outcome:
    applied: int = 0
    held: int = 0
    failed: int = 0
    index_down: bool = False
    errors: list[str] = field(default_factory=list)


class IndexOutbox:
    """Drains the outbox into the index through :class:`~search.service.SearchService`.

    Args:
        backoff: the wait after a row's first failed attempt; it doubles with each further one,
            up to ``backoff_cap``.
        outage_backoff_cap: the cap instead when the index itself failed (the server is down):
            the row is not at fault, and must follow soon after the index is back.
        rebuild_lease: how long a rebuild holds rows without renewing its lease (renewed as it
            makes progress); a rebuild that died stops holding them after this.
    """

    def __init__(self, store: OutboxStore, catalogue: OutboxCatalogue, index: OutboxIndex, *,
                 clock: Clock = system_clock, backoff: timedelta = DEFAULT_BACKOFF,
                 backoff_cap: timedelta = DEFAULT_BACKOFF_CAP, outage_backoff_cap: timedelta = DEFAULT_OUTAGE_BACKOFF_CAP,
                 rebuild_lease: timedelta = DEFAULT_REBUILD_LEASE) -> None:
        self._store, self._catalogue, self._index = store, catalogue, index
        self._clock = clock
        self._backoff, self._backoff_cap, self._lease = backoff, backoff_cap, rebuild_lease
        self._outage_cap = outage_backoff_cap

    # ------------------------------------------------------------------ the paths in
    def apply_committed(self, changes: CommittedChanges) -> None:
        """The after-commit listener: apply the rows one commit just wrote, in this process.

        Filed documents are indexed from memory (as committed, text included), sparing a vault
        read. A failure leaves the rows for the next drain (recorded, put off by the backoff).
        """
        known: dict[str, FiledDocument] = {f.document.document_id: f for f in changes.filed}
        outcome = self._apply(list(changes.entries), known)
        if outcome.failed:
            log.warning("index outbox: %d row(s) not applied after commit, left for the next drain: %s",
                        outcome.failed, "; ".join(outcome.errors[:3]))

    def drain(self, limit: int | None = 1000) -> DrainReport:
        """Apply up to ``limit`` rows that are due (all of them with None), oldest first.

        Stops early when the index itself fails: the rows behind would fail the same way.
        """
        total = _Outcome()
        seen: set[int] = set()
        while limit is None or total.applied + total.held + total.failed < limit:
            want = _BATCH if limit is None else min(_BATCH, limit - total.applied - total.held - total.failed)
            batch = [e for e in self._store.due(want) if e.id not in seen]
            if not batch:  # nothing due — or only rows this drain already tried (a zero backoff)
                break
            seen.update(e.id for e in batch)
            outcome = self._apply(batch, {})
            total.applied += outcome.applied
            total.held += outcome.held
            total.failed += outcome.failed
            total.errors += outcome.errors
            if outcome.index_down:
                break
        if total.failed:
            log.warning("index outbox: %d row(s) failed and wait for their next attempt: %s",
                        total.failed, "; ".join(total.errors[:3]))
        return DrainReport(total.applied, total.held, total.failed, self._store.backlog(),
                           tuple(dict.fromkeys(total.errors)))

    def backlog(self) -> Backlog:
        return self._store.backlog()

    @contextmanager
    def rebuilding(self) -> Iterator[Callable[[], None]]:
        """Keep every change made while the block rebuilds the index, and apply it after the swap.

        Enter before the rebuild reads the catalogue. Yields a heartbeat to call as the rebuild
        makes progress (it renews the lease now and then). On a normal exit the new index is in
        place: the rows it covered are deleted and the rows written since are applied to it. On
        an error the old index stays, and so do the rows.
        """
        mark = self._store.begin_rebuild(self._lease)
        renewed = [self._clock()]

        def heartbeat() -> None:
            now = self._clock()
            if now - renewed[0] >= self._lease / 3:
                try:
                    self._store.renew_rebuild(mark, self._lease)
                    renewed[0] = now
                except Exception:  # noqa: BLE001 - a missed renewal only shortens the lease
                    log.exception("index outbox: rebuild lease not renewed")

        try:
            yield heartbeat
        except BaseException:
            self._replay(self._store.finish_rebuild(mark, swapped=False))
            raise
        self._replay(self._store.finish_rebuild(mark, swapped=True))

    # ------------------------------------------------------------------ applying
    def _replay(self, entries: list[OutboxEntry]) -> None:
        """Apply the rows written during a rebuild now, due or not (those that fail wait as usual)."""
        for start in range(0, len(entries), _BATCH):
            outcome = self._apply(entries[start:start + _BATCH], {})
            if outcome.index_down:
                log.warning("index outbox: %d row(s) written during the rebuild wait for the next drain: %s",
                            len(entries) - start, "; ".join(outcome.errors[:3]))
                return
        if entries:
            log.info("index outbox: %d change(s) made during the rebuild applied to the new index", len(entries))

    def _apply(self, entries: list[OutboxEntry], known: dict[str, FiledDocument]) -> _Outcome:
        """Make the index match the catalogue for the documents the rows name; settle or fail each row."""
        outcome = _Outcome()
        if not entries:
            return outcome
        upserts: dict[str, FiledDocument] = {}
        removals: set[str] = set()
        ready: list[OutboxEntry] = []
        failures: dict[str, list[int]] = {}
        index_failures: dict[str, list[int]] = {}
        fresh: dict[str, FiledDocument | None] = {}
        for entry in entries:
            try:
                for document_id in self._documents_of(entry):
                    if entry.kind is IndexChange.DOCUMENT_FILED and document_id in known:
                        filed: FiledDocument | None = known[document_id]
                    else:
                        if document_id not in fresh:
                            fresh[document_id] = self._catalogue.filed_document(_ACTOR, document_id)
                        filed = fresh[document_id]
                    if filed is None:
                        removals.add(document_id)
                        upserts.pop(document_id, None)
                    else:
                        upserts[document_id] = filed
                        removals.discard(document_id)
                ready.append(entry)
            except Exception as exc:  # noqa: BLE001 - vault, catalogue: this row waits, the others go on
                failures.setdefault(_describe(exc), []).append(entry.id)
        if ready:
            try:
                self._index.apply(list(upserts.values()), sorted(removals))
            except Exception as exc:  # noqa: BLE001 - the index is down or refused: every row waits
                outcome.index_down = True
                index_failures.setdefault(_describe(exc), []).extend(e.id for e in ready)
            else:
                outcome.applied, outcome.held = self._store.settle([e.id for e in ready])
                # A row another drainer settled first counts as applied here too.
                outcome.applied = len(ready) - outcome.held
        for error, ids in failures.items():
            self._store.failed(ids, error, self._delay)
            outcome.failed += len(ids)
            outcome.errors.append(error)
        for error, ids in index_failures.items():
            self._store.failed(ids, error, self._outage_delay)
            outcome.failed += len(ids)
            outcome.errors.append(error)
        return outcome

    def _documents_of(self, entry: OutboxEntry) -> list[str]:
        if entry.kind is IndexChange.DOSSIER_CHANGED:
            try:
                return self._catalogue.dossier_document_ids(_ACTOR, entry.ref)
            except DossierNotFoundError:
                return []
        return [entry.ref]

    def _delay(self, attempts: int) -> timedelta:
        # int ** int is typed Any (a negative exponent gives a float); this exponent is 0..30.
        factor: int = 2 ** min(max(0, attempts - 1), 30)
        return min(self._backoff * factor, self._backoff_cap)

    def _outage_delay(self, attempts: int) -> timedelta:
        return min(self._delay(attempts), self._outage_cap)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
