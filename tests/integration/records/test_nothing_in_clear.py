"""Nothing readable about a person at rest (issue #12 "Done means", first point).

A dossier is registered with a distinctive complainant name, contact and facts, a document with a
distinctive phrase is uploaded through the intake queue and filed, and the complainant's name is
searched for (a logged query). Then every file under the data directory — catalogue and its WAL,
the search index, the vault, the key ring, the checkpoint file — is read raw, and none of those
strings may appear in UTF-8, UTF-16 or GB18030. On PostgreSQL, the cluster's table files and WAL
are read too, after a checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path


from records.access.identity import Identity
from records.model import Registration
from web.bootstrap import Services

BEIJING = timezone(timedelta(hours=8))
CONSOLE = Identity.operator("cli:test")
NAME = "欧阳翠蓉"
CONTACT = "13917254086"
FACTS = "承办律师在瀚海镇收取了不当费用"
PHRASE = "紫檀木翡翠茶壶被扣押"
LATIN = "Quixotrelvane"


def _encodings(text: str) -> Iterable[bytes]:
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "gb18030"):
        yield text.encode(codec)


def _found(root: Path, needles: list[str]) -> list[str]:
    hits = []
    # os.walk, not rglob: it skips a directory that disappears under a running PostgreSQL.
    files = sorted(Path(d) / f for d, _, names in os.walk(root) for f in names)
    for path in files:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue  # a running PostgreSQL removes transient files (pg_internal.init) while we read
        for needle in needles:
            if any(enc in data for enc in _encodings(needle)):
                hits.append(f"{needle!r} in {path}")
    return hits


def test_no_personal_detail_is_readable_anywhere_under_the_data_directory(services: Services, request) -> None:  # type: ignore[no-untyped-def]
    """GIVEN a registered complaint, an uploaded document and a search for the complainant
    WHEN every file the archive wrote is read raw
    THEN none of the complainant's name, contact, facts, the document's phrase or the query appears."""
    number = services.gate.register(CONSOLE, Registration(
        matter=f"{FACTS}的投诉", received_at=datetime(2026, 10, 20, 9, tzinfo=BEIJING), complainant=NAME,
        complainant_contact=CONTACT, facts_and_reasons=f"{FACTS}，{LATIN}", respondent="某律所",
        evidence=(f"{NAME}的收据",))).archive_number
    body = f"投诉书\n{PHRASE}。{LATIN} complaint letter from {NAME}.".encode()
    job = services.intake.accept("clerk", number, f"{NAME}-投诉书.txt", [body])
    services.intake.run_pending()
    assert services.intake.get("clerk", job.job_id).item_number
    hits = services.gate.search(CONSOLE, NAME).hits
    assert [h.archive_number for h in hits] == [number]
    # The archive itself still shows everything to those allowed.
    info = services.records.get_dossier("t", number).registration
    assert info.complainant == NAME and info.complainant_contact == CONTACT and LATIN in (info.facts_and_reasons or "")
    needles = [NAME, CONTACT, FACTS, PHRASE, LATIN]
    assert _found(_data_dir_of(services), needles) == []
    if "postgres" in request.node.callspec.id:
        server = request.getfixturevalue("postgres_server")
        server.checkpoint()
        assert server.data is not None
        assert _found(server.data / "base", needles) == []
        assert _found(server.data / "pg_wal", needles) == []


def _data_dir_of(services: Services) -> Path:
    # The vault's local root lives in the data directory (the fixture's layout: <tmp>/archive/vault).
    store = services.vault.store
    root = getattr(store, "root", None)
    assert root is not None, "this test needs the local vault"
    return Path(root).parent
