"""A group commit seals its documents on several threads (issue #13 item 9); a failure in one of
them still files nothing of the group and leaves no sealed blob behind."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from records.errors import InvalidRegistrationError
from records.filing import Filing
from records.model import DocumentKind, Registration
from web.bootstrap import Services


def _dossier(services: Services) -> str:
    return services.records.register_complaint(
        "clerk", Registration(matter="批量归档", complainant="张三", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc)),
    ).archive_number


def test_a_group_is_filed_in_order_with_every_object_sealed(services: Services) -> None:
    """GIVEN twenty in-memory originals filed as one group
    WHEN they are sealed concurrently and catalogued in one commit
    THEN they get consecutive item numbers in the order given and each reads back as filed."""
    number = _dossier(services)
    contents = [f"材料 {n}".encode() for n in range(20)]
    filed = services.records.file_documents("clerk", number, [
        Filing(data, DocumentKind.EVIDENCE, filename=f"{n}.txt") for n, data in enumerate(contents)])
    assert [d.item_number for d in filed] == [f"{number}-{n:02d}" for n in range(1, 21)]  # type: ignore[union-attr]
    for doc, data in zip(filed, contents):
        _info, chunks = services.records.retrieve_document("clerk", doc.item_number)  # type: ignore[union-attr]
        assert b"".join(chunks) == data


def test_one_failing_document_files_nothing_of_its_group_and_leaves_no_blob(services: Services) -> None:
    """GIVEN a group of twelve originals, one of which is not what its recorded hash says (the file
    changed while it was being filed)
    WHEN the group is filed
    THEN the filing is refused, no document of the group is catalogued and the vault holds no new blob."""
    number = _dossier(services)
    before = set(services.vault.store.keys())
    filings = [Filing(f"证据 {n}".encode(), DocumentKind.EVIDENCE, filename=f"{n}.txt") for n in range(12)]
    filings[7] = Filing(b"changed", DocumentKind.EVIDENCE, filename="7.txt", sha256=hashlib.sha256(b"original").hexdigest())
    with pytest.raises(InvalidRegistrationError):
        services.records.file_documents("clerk", number, filings)
    assert services.records.document_hashes("clerk", number) == {}
    assert set(services.vault.store.keys()) == before
