"""ChangeAnnouncer: the one place records use cases note index changes and tell listeners after a commit.

Two kinds of listener follow the catalogue. The search index follows the index outbox
(``records.outbox``): a use case notes each change in its own transaction (:meth:`record`) and,
once that commit is durable, hands the rows it wrote to the index listeners (:meth:`announce`,
in practice the in-process drainer). Document listeners hear of each filed document, best
effort. Every service that changes what the index holds (filing, lifecycle, disposal) is handed
the same announcer, so a listener registered once hears of every change, whichever service made it.
A failing listener is logged and never undoes the change: the rows are committed, and the next
drain applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
import logging

from sqlalchemy.orm import Session

from records.model import FiledDocument
from records.outbox import CommittedChanges, IndexChange, OutboxEntry, record_change
from records.tables import IndexOutboxRow

log = logging.getLogger(__name__)


class ChangeAnnouncer:
    """The after-commit listeners of the records use cases, and the outbox rows they announce."""

    def __init__(self) -> None:
        self._index_listeners: list[Callable[[CommittedChanges], None]] = []
        # (per document, per group commit or None): see on_document_filed
        self._listeners: list[tuple[Callable[[FiledDocument], None], Callable[[list[FiledDocument]], None] | None]] = []

    def on_index_changes(self, listener: Callable[[CommittedChanges], None]) -> None:
        """Call ``listener`` right after a commit that wrote index-outbox rows (the index drains them).

        The rows are already durable when it is called: a listener that fails (logged) or a
        process that dies first leaves them for the next drain, never lost.
        """
        self._index_listeners.append(listener)

    def on_document_filed(self, listener: Callable[[FiledDocument], None], *,
                          many: Callable[[list[FiledDocument]], None] | None = None) -> None:
        """Call ``listener`` after each document is committed.

        A group commit (``file_documents``) calls ``many`` once with the whole window instead,
        when given. A failing listener is logged and never undoes the filing. Best effort: the
        search index does not rely on it (it follows the outbox, see :meth:`on_index_changes`).
        """
        self._listeners.append((listener, many))

    @staticmethod
    def record(s: Session, kind: IndexChange, ref: str, now: datetime) -> IndexOutboxRow:
        """Note, in the caller's transaction, a change the index must follow (see ``records.outbox``)."""
        return record_change(s, kind, ref, now)

    def announce(self, entries: Sequence[OutboxEntry], filed: Sequence[FiledDocument] = ()) -> None:
        """After the commit: tell the index listeners (the in-process drainer) which rows it wrote."""
        if not entries:
            return
        changes = CommittedChanges(tuple(entries), tuple(filed))
        for listener in self._index_listeners:
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - the rows are committed; the next drain applies them
                log.exception("index listener failed for %d outbox row(s); they stay for the next drain", len(entries))

    def filed(self, filed: FiledDocument) -> None:
        """After the commit: tell the document listeners of one filed document."""
        for listener, _many in self._listeners:
            try:
                listener(filed)
            except Exception:  # noqa: BLE001 - see on_document_filed
                log.exception("listener failed for %s", filed.document.item_number)

    def filed_many(self, filed: Sequence[FiledDocument]) -> None:
        """After a group commit: tell each document listener once (``many``), or once per document."""
        if not filed:
            return
        for listener, many in self._listeners:
            if many is not None:
                try:
                    many(list(filed))
                except Exception:  # noqa: BLE001 - see on_document_filed
                    log.exception("listener failed for %d documents", len(filed))
                continue
            for one in filed:
                try:
                    listener(one)
                except Exception:  # noqa: BLE001 - see on_document_filed
                    log.exception("listener failed for %s", one.document.item_number)


__all__ = ["ChangeAnnouncer"]
