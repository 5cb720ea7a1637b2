"""The index outbox: what the search index must follow, written in the catalogue's own commits.

The index is a copy of the catalogue that lives elsewhere (an FTS5 file, a search server), so no
transaction spans both. Telling the index *after* the commit lost changes whenever the process
died in between (kill -9, a full disk mid-upload), when the index was down (the failure was only
logged), or when a rebuild swapped in a new index built before the change. So every change the
index must follow — a document filed, a dossier's state or fields changed, a document destroyed
— is also written as a row of ``index_outbox`` *in the same transaction as the change*: if the
change is committed, so is the note that the index must hear of it.

This module is the catalogue's half: writing rows (:func:`record_change`, called by the use cases
inside their transaction) and the row bookkeeping a drainer needs (:class:`IndexOutboxStore`).
Applying rows to an index is the search package's half (``search.outbox.IndexOutbox``); the
records package knows nothing of indexes.

A row names what changed, never content: a document id or an archive number. Applying a row means
"make the index match the catalogue for these documents now", which is idempotent and does not
depend on order, so rows may be applied twice, late, or by several drainers at once.

Rebuilds: a rebuild reads the catalogue into a new index and swaps it in; a row applied to the
old index meanwhile would be lost at the swap. :meth:`IndexOutboxStore.begin_rebuild` therefore
writes a *mark* (a row of kind ``rebuild``, never applied) and notes which rows exist already —
the rebuild's read of the catalogue covers those. While a live mark exists, drainers apply rows
but keep them (:meth:`~IndexOutboxStore.settle` holds instead of deleting);
:meth:`~IndexOutboxStore.finish_rebuild` removes the mark and hands back every row written since
it, to be applied to the new index. A mark carries a lease (its ``next_attempt_at``), so a
rebuild that died does not hold rows forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import logging
import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from records.clock import Clock, system_clock
from records.db import UnitOfWork
from records.model import FiledDocument
from records.tables import IndexOutboxRow

log = logging.getLogger(__name__)

__all__ = [
    "Backlog", "CommittedChanges", "IndexChange", "IndexOutboxStore", "OutboxEntry", "REBUILD_MARK", "RebuildMark",
    "record_change",
]

REBUILD_MARK = "rebuild"       # the kind of a running rebuild's mark (not a change; never applied)
_IN_CHUNK = 500                # ids per IN (...) list
_ERROR_CHARS = 2000


class IndexChange(StrEnum):
    """What a row asks the index to follow, and what its ``ref`` names."""

    DOCUMENT_FILED = "document_filed"        # ref: document id
    DOSSIER_CHANGED = "dossier_changed"      # ref: archive number (state or registration fields changed)
    DOCUMENT_REMOVED = "document_removed"    # ref: document id (its data keys were destroyed)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One row of the outbox as a drainer sees it."""

    id: int
    kind: IndexChange
    ref: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class CommittedChanges:
    """The rows one catalogue commit wrote, handed to the after-commit listeners.

    ``filed`` are the documents that commit filed, as committed and with their text: the
    in-process drainer indexes them from memory instead of reading the vault again.
    """

    entries: tuple[OutboxEntry, ...]
    filed: tuple[FiledDocument, ...] = ()


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the index has yet to follow (`dossier verify`, `dossier index drain`)."""

    count: int
    failing: int                      # rows whose last attempt failed
    oldest_at: datetime | None        # created_at of the oldest row
    last_error: str | None            # the error of the most recent failing row

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest_at is None else max(0.0, (now - self.oldest_at).total_seconds())


@dataclass(frozen=True, slots=True)
class RebuildMark:
    """A running rebuild: its mark row and the rows that already existed when it began (it covers those)."""

    mark_id: int
    covered: frozenset[int]


def record_change(session: Session, kind: IndexChange, ref: str, now: datetime) -> IndexOutboxRow:
    """Add one outbox row inside the caller's transaction (it commits or rolls back with the change).

    The row's id is known after the session flushes.
    """
    row = IndexOutboxRow(kind=kind.value, ref=ref, created_at=now, attempts=0, next_attempt_at=now)
    session.add(row)
    return row


def entry_of(row: IndexOutboxRow) -> OutboxEntry:
    return OutboxEntry(row.id, IndexChange(row.kind), row.ref, row.created_at, row.attempts, row.next_attempt_at,
                       row.last_error)


class IndexOutboxStore:
    """The catalogue side of the outbox: reading rows and settling them, for a drainer.

    Several drainers may run at once (web processes, intake workers, `dossier index drain`):
    nothing here claims rows. Two drainers applying the same row both make the index match the
    catalogue, and deleting a row twice is harmless; that is cheaper than leases for writes
    that are idempotent anyway.
    """

    def __init__(self, uow: UnitOfWork, *, clock: Clock = system_clock) -> None:
        self._uow = uow
        self._clock = clock

    # ------------------------------------------------------------------ draining
    def due(self, limit: int) -> list[OutboxEntry]:
        """Up to ``limit`` rows whose time has come, oldest first (marks excluded)."""
        with self._uow.read() as s:
            rows = s.scalars(select(IndexOutboxRow).where(
                IndexOutboxRow.kind != REBUILD_MARK, IndexOutboxRow.next_attempt_at <= self._clock(),
            ).order_by(IndexOutboxRow.id).limit(limit))
            return [entry_of(r) for r in rows]

    def settle(self, ids: Sequence[int]) -> tuple[int, int]:
        """Rows applied to the index: delete them — or, while a rebuild runs, keep them for it.

        Returns (deleted, held). Held rows wait until the rebuild's lease ends; the rebuild
        normally hands them back first (:meth:`finish_rebuild`). The check for a running rebuild
        and the delete are one transaction, so a rebuild that began before the delete always
        gets its rows.
        """
        if not ids:
            return 0, 0
        now = self._clock()
        with self._uow.write() as s:
            hold_until = self._live_mark(s, now)
            done = 0
            for chunk in _chunks(ids):
                if hold_until is None:
                    result = s.execute(delete(IndexOutboxRow).where(IndexOutboxRow.id.in_(chunk)))
                else:
                    result = s.execute(update(IndexOutboxRow).where(IndexOutboxRow.id.in_(chunk)).values(
                        next_attempt_at=hold_until, last_error=None))
                done += result.rowcount  # type: ignore[attr-defined]
        return (done, 0) if hold_until is None else (0, done)

    def failed(self, ids: Sequence[int], error: str, backoff: Callable[[int], timedelta]) -> None:
        """Rows that could not be applied: count the attempt, note the error, retry after ``backoff(attempts)``."""
        if not ids:
            return
        now = self._clock()
        with self._uow.write() as s:
            for chunk in _chunks(ids):
                for row in s.scalars(select(IndexOutboxRow).where(IndexOutboxRow.id.in_(chunk))):
                    row.attempts += 1
                    row.next_attempt_at = now + backoff(row.attempts)
                    row.last_error = error[:_ERROR_CHARS]

    def backlog(self) -> Backlog:
        with self._uow.read() as s:
            changes = IndexOutboxRow.kind != REBUILD_MARK
            count, oldest = s.execute(select(func.count(), func.min(IndexOutboxRow.created_at)).where(changes)).one()
            failing = s.scalar(select(func.count()).where(changes, IndexOutboxRow.last_error.is_not(None))) or 0
            last_error = s.scalars(select(IndexOutboxRow.last_error).where(
                changes, IndexOutboxRow.last_error.is_not(None)).order_by(IndexOutboxRow.id.desc()).limit(1)).first()
        return Backlog(int(count or 0), int(failing), oldest, last_error)

    # ------------------------------------------------------------------ rebuilds
    def begin_rebuild(self, lease: timedelta) -> RebuildMark:
        """Write a rebuild's mark, then note the rows that exist already (its read of the catalogue covers them).

        Call it before the rebuild reads the catalogue: every row committed before the mark's
        snapshot is covered by that read, every later one is kept for :meth:`finish_rebuild`.
        """
        now = self._clock()
        with self._uow.write() as s:
            mark = IndexOutboxRow(kind=REBUILD_MARK, ref=uuid.uuid4().hex, created_at=now, attempts=0,
                                  next_attempt_at=now + lease)
            s.add(mark)
            s.flush()
            mark_id = mark.id
        with self._uow.read() as s:
            covered = frozenset(s.scalars(select(IndexOutboxRow.id).where(IndexOutboxRow.kind != REBUILD_MARK)))
        return RebuildMark(mark_id, covered)

    def renew_rebuild(self, mark: RebuildMark, lease: timedelta) -> None:
        """Extend a running rebuild's lease (it holds rows only while the lease runs)."""
        with self._uow.write() as s:
            s.execute(update(IndexOutboxRow).where(IndexOutboxRow.id == mark.mark_id).values(
                next_attempt_at=self._clock() + lease))

    def finish_rebuild(self, mark: RebuildMark, *, swapped: bool) -> list[OutboxEntry]:
        """End a rebuild: remove its mark and return every row written since it began, to apply now.

        ``swapped``: the new index is in place, so the rows it covered are done and deleted. If
        the rebuild failed they stay, for the drainers, as they were. Rows held for this rebuild
        become due at once either way.
        """
        now = self._clock()
        with self._uow.write() as s:
            # Read the rows first, then remove the mark, in one transaction: a drainer that finds
            # the mark gone deletes only rows that are in this list or were applied after the swap.
            rows = s.scalars(select(IndexOutboxRow).where(IndexOutboxRow.kind != REBUILD_MARK)
                             .order_by(IndexOutboxRow.id))
            since = [entry_of(r) for r in rows if r.id not in mark.covered]
            s.execute(delete(IndexOutboxRow).where(IndexOutboxRow.id == mark.mark_id))
            if swapped:
                for chunk in _chunks(sorted(mark.covered)):
                    s.execute(delete(IndexOutboxRow).where(IndexOutboxRow.id.in_(chunk)))
            s.execute(update(IndexOutboxRow).where(
                IndexOutboxRow.kind != REBUILD_MARK, IndexOutboxRow.last_error.is_(None),
                IndexOutboxRow.next_attempt_at > now).values(next_attempt_at=now))
        return since

    @staticmethod
    def _live_mark(s: Session, now: datetime) -> datetime | None:
        """The lease end of the running rebuild (the latest, if several); removes marks whose lease ran out."""
        marks = s.execute(select(IndexOutboxRow.id, IndexOutboxRow.next_attempt_at)
                          .where(IndexOutboxRow.kind == REBUILD_MARK)).all()
        expired = [mark_id for mark_id, until in marks if until <= now]
        if expired:
            log.warning("index outbox: %d rebuild mark(s) outlived their lease (the rebuild died); removed",
                        len(expired))
            s.execute(delete(IndexOutboxRow).where(IndexOutboxRow.id.in_(expired)))
        return max((until for _id, until in marks if until > now), default=None)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == _IN_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
