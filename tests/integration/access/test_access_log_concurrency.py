"""Concurrent appenders on each catalogue database: the access log stays gapless and verifiable.

SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL queues them on the chain head row
(SELECT … FOR UPDATE). Either way no two entries may take the same number or chain to the same
predecessor, and every checkpoint (here every 7 entries) must reach the checkpoint file.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from records.access.log import AccessEvent, AccessLog, Outcome
from web.bootstrap import Services

WRITERS, EACH = 4, 25


def test_concurrent_appends_are_gapless_and_verify(services: Services, tmp_path: Path) -> None:
    log = AccessLog(signing_key=tmp_path / "audit-signing.key", checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
                    checkpoint_every=7)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                with services.uow.write() as s:
                    log.append(s, AccessEvent(
                        at=datetime.now(timezone.utc), actor=f"writer{w}", role="archivist", action="view_text",
                        object_type="dossier", object_ref=f"{w}-{n}", outcome=Outcome.ALLOWED, reason="test"))
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with services.uow.read() as s:
        entries = log.entries(s)
        result = log.verify(s)
    total = WRITERS * EACH
    assert [e.seq for e in entries] == list(range(1, total + 1))
    assert sorted(e.event.object_ref or "" for e in entries) == sorted(f"{w}-{n}" for w in range(WRITERS) for n in range(EACH))
    assert result.ok and result.checked == total and result.checkpoints == total // 7 and not result.warnings
    lines = [json.loads(x) for x in (tmp_path / "audit-checkpoints.jsonl").read_text().splitlines()]
    assert sorted(x["seq"] for x in lines) == list(range(7, total + 1, 7))
