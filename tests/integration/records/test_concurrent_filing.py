"""Documents filed into one dossier at the same moment get distinct, consecutive item numbers."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from records.model import DocumentKind, Registration
from web.bootstrap import Services

THREADS = 4
EACH = 5


def test_simultaneous_filings_into_one_dossier_get_distinct_item_numbers(services: Services) -> None:
    """On PostgreSQL two writers used to read the same last_item and collide; now the dossier row is locked."""
    number = services.records.register_complaint(
        "clerk", Registration(matter="并发归档", complainant="张三", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc)),
    ).archive_number
    barrier = threading.Barrier(THREADS)
    items: list[str] = []
    errors: list[BaseException] = []

    def file_some(worker: int) -> None:
        barrier.wait()
        for i in range(EACH):
            try:
                info = services.records.file_document(
                    "clerk", number, f"材料 {worker}-{i}".encode(), kind=DocumentKind.EVIDENCE, filename=f"{worker}-{i}.txt")
                items.append(info.item_number)
            except BaseException as exc:  # noqa: BLE001 - reported below with the numbers
                errors.append(exc)

    threads = [threading.Thread(target=file_some, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(items) == [f"{number}-{n:02d}" for n in range(1, THREADS * EACH + 1)]
