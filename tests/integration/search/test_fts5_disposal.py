"""Destroying a dossier takes its words out of the encrypted FTS5 index in place (issue #12 item 2).

Through the real archive (``build_services``) and the path ``dossier dispose run`` takes
(:func:`retention.disposal.execute_disposition`, no index rebuild by default): RET-05/RET-07
(nothing of a destroyed dossier stays findable), ACS-08 (the index is unreadable without the key).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from records.access.model import AccessScope
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from retention.disposal import execute_disposition
from retention.model import Approval
from search.backends._fts5_schema import PLAIN_HEADER, open_generation
from search.backends._sealing import Sealer
from web.bootstrap import Services, _search_key, build_services, init_archive
from web.cli import main

EVERYTHING = AccessScope.everything()
LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
             DossierState.SEALED)
APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]
DOOMED_WORDS = ("zebracornish", "饕餮", "犇骉")


@pytest.fixture
def archive(make_settings: Callable[..., Settings], clock: Any) -> Iterator[tuple[Settings, Services]]:
    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield settings, services
    services.close()


def _sealed_dossier(svc: Services, text: str) -> str:
    info = svc.records.register_complaint("clerk", Registration(
        matter="投诉律师拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三"))
    for i in range(2):
        body = f"{text} 第{i}页 {uuid.uuid4().hex}".encode()
        svc.records.file_document("clerk", info.archive_number, body, kind=DocumentKind.COMPLAINT_LETTER,
                                  filename=f"letter-{i}.txt", media_type="text/plain",
                                  analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    for state in LIFECYCLE:
        svc.records.advance("clerk", info.archive_number, state,
                            override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    return info.archive_number


def _index_dir(settings: Settings) -> Path:
    return settings.data_dir / "search"


def _generation(settings: Settings) -> Path:
    return _index_dir(settings) / (_index_dir(settings) / "CURRENT").read_text().strip()


def _vocabulary(settings: Settings, svc: Services) -> set[str]:
    """The live generation's FTS5 terms, read through a connection keyed like the archive's."""
    conn = open_generation(_generation(settings), Sealer(_search_key(settings, svc.vault)).page_key)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'row')")
        return {row[0] for row in conn.execute("SELECT term FROM temp.vocab")}
    finally:
        conn.close()


def test_destroying_a_dossier_removes_its_words_from_the_index_without_a_rebuild(
        archive: tuple[Settings, Services]) -> None:
    """GIVEN two sealed dossiers, one with distinctive words, WHEN it is destroyed by an approved
    disposition (default options), THEN the same index generation is still live (no rebuild), its
    words are no longer terms of the index, search finds nothing of it, the other dossier is
    still found, and no index file holds the words in UTF-8, UTF-16-LE or GB18030."""
    settings, svc = archive
    doomed = _sealed_dossier(svc, "投诉人反映 饕餮犇骉 zebracornish 一事")
    _sealed_dossier(svc, "律师未按约定出庭 quokkaline")
    assert set(DOOMED_WORDS) <= _vocabulary(settings, svc)
    assert svc.search.search("t", "zebracornish", EVERYTHING).total == 2
    generation = _generation(settings)

    execute_disposition(svc.retention.disposition_desk.tools, disposition_id="d-fts", numbers=[doomed],
                        action="destroy", actor="archivist", approvals=APPROVALS, rules={doomed: "R-10Y"},
                        out_dir=settings.data_dir / "certificates")

    assert _generation(settings) == generation  # removed in place, not by writing a new generation
    assert not set(DOOMED_WORDS) & _vocabulary(settings, svc)
    for word in DOOMED_WORDS:
        assert svc.search.search("t", word, EVERYTHING).total == 0
    assert svc.search.search("t", "quokkaline", EVERYTHING).total == 2
    for path in _index_dir(settings).iterdir():
        raw = path.read_bytes()
        for word in DOOMED_WORDS:
            for encoding in ("utf-8", "utf-16-le", "gb18030"):
                assert word.encode(encoding) not in raw, (path.name, word, encoding)


def cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def test_an_unencrypted_index_from_an_earlier_release_is_reported_and_reindex_replaces_it(
        archive: tuple[Settings, Services]) -> None:
    """GIVEN an archive whose live index generation is a plain SQLite file (written before the
    index was encrypted), WHEN `dossier search` runs, THEN it exits 13 (search unavailable) saying
    to run `dossier reindex`; AND after `dossier reindex` the index is encrypted and finds the
    archive's documents again."""
    settings, svc = archive
    _sealed_dossier(svc, "律师未按约定出庭 quokkaline")
    svc.close()
    directory = _index_dir(settings)
    old = directory / "index-0123456789ab.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.close()
    (directory / "CURRENT").write_text(old.name + "\n")

    failed = cli(settings, "search", "quokkaline")
    assert failed.exit_code == 13, failed.output
    assert "dossier reindex" in failed.output

    rebuilt = cli(settings, "reindex")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert not old.exists()
    assert not _generation(settings).read_bytes().startswith(PLAIN_HEADER)
    found = cli(settings, "search", "quokkaline", "--json")
    assert found.exit_code == 0, found.output
    assert '"total": 2' in found.output
