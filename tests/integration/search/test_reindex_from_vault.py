"""`reindex` rebuilds the search index from the catalogue and the vault, batch by batch (issue #14 item 1).

The read path was rewritten for speed (``DocumentFiling.filed_documents``: the catalogue read a
batch of dossiers per transaction, texts opened on worker threads while the index writes). What
a user relies on must not change with it: the new index holds exactly the live documents, each
findable by its text; withdrawn and destroyed documents are not in it (RET-05, RET-07); the texts
still open under the per-dossier keys after a master-key rotation (issue #12); and the rebuild is
decided and logged once, like any read of the whole archive (REINDEX, ACS-07).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from records.access.identity import Action, Identity, Outcome
from records.access.model import AccessScope
from records.access.tables import AccessLogRow
from records.filing import Filing
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from retention.disposal import execute_disposition
from retention.model import Approval
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

EVERYTHING = AccessScope.everything()
CONSOLE = Identity.operator("console:test")
LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
             DossierState.SEALED)
APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]
RECEIVED = datetime(2026, 11, 2, 1, tzinfo=timezone.utc)


@pytest.fixture
def archive(make_settings: Callable[..., Settings], clock: Any) -> Iterator[tuple[Settings, Services]]:
    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield settings, services
    services.close()


def _dossier(svc: Services, words: list[str], *, matter: str = "律师拖延办理") -> tuple[str, list[str]]:
    """A dossier with one text document per word (group filing); its number and the item numbers."""
    info = svc.records.register_complaint("clerk", Registration(
        matter=matter, received_at=RECEIVED, complainant="张三", respondent="某律师事务所"))
    filings = [Filing(source=f"投诉材料 {w} {uuid.uuid4().hex}".encode(), kind=DocumentKind.EVIDENCE,
                      filename=f"{w}.txt", media_type="text/plain",
                      analysis=DocumentAnalysis(outcome="ok", text=f"投诉材料 {w} 承办律师未联系"))
               for w in words]
    done = svc.records.file_documents("clerk", info.archive_number, filings)
    return info.archive_number, [d.item_number for d in done if not isinstance(d, Exception)]


def _seal(svc: Services, number: str) -> None:
    for state in LIFECYCLE:
        svc.records.advance("clerk", number, state,
                            override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)


def _reindex(svc: Services) -> int:
    """What `dossier reindex` does: the gate decides and logs, the search service rebuilds."""
    return svc.search.rebuild(svc.gate.reindex_source(CONSOLE, details={"auth": "console"}))


def _found(svc: Services, word: str) -> set[str]:
    return {h.item_number for h in svc.search.search("t", word, EVERYTHING, page_size=100).hits}


def test_reindex_holds_exactly_the_live_documents_each_findable_by_its_text(
        archive: tuple[Settings, Services]) -> None:
    """GIVEN dossiers filed in groups, one item withdrawn as junk, one dossier destroyed by an
    approved disposition and one document filed without extracted text, WHEN the index is
    rebuilt from the vault, THEN it holds exactly the live documents, each found by its own word,
    while the withdrawn and destroyed words find nothing."""
    settings, svc = archive
    _, kept = _dossier(svc, ["kiwano", "salak", "junkscan"])
    junk = kept.pop()
    svc.records.withdraw_document("clerk", junk, "空白扫描件")
    doomed, doomed_items = _dossier(svc, ["zebracornish", "quokkaline"], matter="另案")
    _seal(svc, doomed)
    other, other_items = _dossier(svc, ["mangosteen"])
    no_text = svc.records.file_document("clerk", other, b"\x89PNG photo", kind=DocumentKind.EVIDENCE,
                                        filename="photo.png", media_type="image/png")
    execute_disposition(svc.retention.disposition_desk.tools, disposition_id="d-reindex", numbers=[doomed],
                        action="destroy", actor="archivist", approvals=APPROVALS, rules={doomed: "R-10Y"},
                        out_dir=settings.data_dir / "certificates")

    count = _reindex(svc)

    live = set(svc.records.live_document_ids("t"))
    assert count == len(live) == 4
    assert svc.search.check(iter(live)).ok
    for word, item in (("kiwano", kept[0]), ("salak", kept[1]), ("mangosteen", other_items[0])):
        assert _found(svc, word) == {item}
    for word in ("junkscan", "zebracornish", "quokkaline"):
        assert _found(svc, word) == set()
    assert no_text.item_number in _found(svc, "律师拖延办理")  # indexed by its dossier's matter, without text
    assert not set(doomed_items) & _found(svc, "投诉材料")


def test_the_batched_read_gives_what_the_per_document_read_gives_in_archive_order(services: Services) -> None:
    """GIVEN several dossiers, one with a withdrawn item (on SQLite and on PostgreSQL), WHEN the
    reindex source is read with batches smaller than a dossier, of one dossier and of the default
    size, THEN each yields every live document once, in archive-number and item order, equal field
    for field (registration, state, text) to what the index outbox reads for that document alone."""
    svc = services
    numbers = [_dossier(svc, [f"w{d}x{i}" for i in range(3)])[0] for d in range(4)]
    svc.records.withdraw_document("clerk", f"{numbers[1]}-02", "重复上传")
    svc.records.advance("clerk", numbers[2], DossierState.ACCEPTED)
    filing = svc.records.filing

    expected = [f for f in (filing.filed_document("t", i) for i in _ids_in_order(svc)) if f is not None]
    assert len(expected) == 11
    assert [f.document.item_number for f in expected] == sorted(f.document.item_number for f in expected)
    for size in (1, 3, 500):
        pending = [p for batch in filing.catalogue_batches(batch_size=size) for p in batch]
        assert list(filing.open_texts(pending)) == expected
    assert list(svc.records.filed_documents("t")) == expected
    assert list(svc.records.filed_documents("t", dossier=numbers[2])) == [
        f for f in expected if f.archive_number == numbers[2]]


def _ids_in_order(svc: Services) -> list[str]:
    from records.tables import DocumentRow, DossierRow

    with svc.uow.read() as s:
        return list(s.scalars(select(DocumentRow.id).join(DossierRow, DocumentRow.dossier_id == DossierRow.id)
                              .order_by(DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)))


def test_reindex_opens_every_text_after_a_master_key_rotation(archive: tuple[Settings, Services]) -> None:
    """GIVEN documents whose data keys are wrapped under their dossiers' keys, WHEN the master key
    is rotated (every dossier key re-wrapped) and the index rebuilt, THEN every text is opened
    and found again."""
    _, svc = archive
    _, first = _dossier(svc, ["durian", "rambutan"])
    _, second = _dossier(svc, ["longan"])
    svc.records.rotate_master_key("admin")

    assert _reindex(svc) == 3
    assert _found(svc, "durian") == {first[0]}
    assert _found(svc, "rambutan") == {first[1]}
    assert _found(svc, "longan") == {second[0]}


def test_the_reindex_command_is_logged_once_and_reports_the_count(archive: tuple[Settings, Services]) -> None:
    """GIVEN an archive of two dossiers, WHEN `dossier reindex` runs, THEN it says how many
    documents it indexed and the access log gains exactly one REINDEX entry, allowed — not one
    per document or per batch read."""
    settings, svc = archive
    _dossier(svc, ["kiwano", "salak"])
    _dossier(svc, ["mangosteen"])

    def reindex_entries() -> int:
        with svc.uow.read() as s:
            return int(s.scalar(select(func.count()).select_from(AccessLogRow)
                                .where(AccessLogRow.action == Action.REINDEX, AccessLogRow.outcome == Outcome.ALLOWED)) or 0)

    before = reindex_entries()
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "reindex"])
    assert result.exit_code == 0, result.output
    assert "3 documents indexed" in result.output
    assert reindex_entries() == before + 1
    assert _found(svc, "mangosteen")
