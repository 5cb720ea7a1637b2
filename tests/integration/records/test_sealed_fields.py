"""Personal and free-text fields rest sealed under their dossier's own key (issue #12 item 1).

What a complaint says about people — the complainant's name and contact, the facts, the evidence
list, timeline notes, file names — must not sit in clear in the catalogue (SQLite file and WAL, or
PostgreSQL rows), yet every reader (``get_dossier``, lists, statistics) gets it back in clear. A
sealed value moved onto another dossier refuses to open instead of showing, and once the
dossier's key is destroyed every copy reads as blank while the tombstone's statistics fields
(respondent, category, dates) stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from records.errors import DocumentNotFoundError
from records.model import DocumentAnalysis, DocumentKind, DossierInfo, DossierState, Registration
from records.sealing import is_sealed
from records.settings import Settings
from records.tables import DocumentRow, DossierRow, ExtensionRow, TransitionRow
from records.vault.errors import DossierKeyGoneError, WrongKeyError
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

COMPLAINANT = "欧阳翠花"
CONTACT = "鹦鹉巷七十七号"
FACTS = "邻居偷走了金色鹦鹉却无人过问"
EVIDENCE = "金色鹦鹉购买收据"
NOTE = "翡翠鹦鹉转办说明"
FILENAME = "鹦鹉失窃证明材料.txt"
REASON = "鹦鹉延期理由"
NEEDLES = (COMPLAINANT, CONTACT, FACTS, EVIDENCE, NOTE, FILENAME, REASON)
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")

LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
             DossierState.SEALED)


def _register(svc: Services, *, complainant: str = COMPLAINANT) -> DossierInfo:
    """A dossier carrying every needle: registration, evidence, a note, an extension and a named document."""
    info = svc.records.register_complaint("clerk", Registration(
        matter="律师拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc),
        complainant=complainant, complainant_contact=CONTACT, facts_and_reasons=FACTS, evidence=(EVIDENCE,),
        respondent="某律师事务所", category="收费", department="A"))
    number = info.archive_number
    svc.records.advance("clerk", number, DossierState.ACCEPTED, note=NOTE)
    svc.records.extend_conclusion("clerk", number, days=10, reason=REASON, approved_by="主任")
    svc.records.file_document("clerk", number, b"plain body of the letter", kind=DocumentKind.COMPLAINT_LETTER,
                              filename=FILENAME, media_type="text/plain",
                              analysis=DocumentAnalysis(outcome="ok", text="plain body of the letter"))
    return svc.records.get_dossier("clerk", number)


def _dispose(svc: Services, clock: FrozenClock, number: str) -> DossierInfo:
    """Seal, shred, tombstone, then destroy the dossier's key (what disposal does, issue #12)."""
    for state in LIFECYCLE[1:]:
        svc.records.advance("clerk", number, state,
                            override_reason="test: no materials" if state is DossierState.CLOSED else None)
    svc.records.destroy_data_keys("archivist", number)
    info = svc.records.tombstone_dossier("archivist", number, note="rule R1, disposition D1")
    svc.vault.dossier_keys.destroy(info.dossier_id, now=clock())
    return info


def _assert_in_clear(info: DossierInfo) -> None:
    reg = info.registration
    assert (reg.complainant, reg.complainant_contact, reg.facts_and_reasons) == (COMPLAINANT, CONTACT, FACTS)
    assert reg.evidence == (EVIDENCE,)
    assert NOTE in [t.note for t in info.transitions]
    assert [e.reason for e in info.extensions] == [REASON]
    assert [d.filename for d in info.documents] == [FILENAME]


def _found_in(data: bytes) -> list[str]:
    return [f"{n!r} ({enc})" for n in NEEDLES for enc in ENCODINGS if n.encode(enc) in data]


def test_personal_fields_are_not_in_the_sqlite_catalogue_or_its_wal(settings: Settings, clock: FrozenClock) -> None:
    """GIVEN a dossier registered with a distinctive complainant, contact, facts, evidence, a note,
    an extension reason and a named document, WHEN the catalogue file and its WAL are read raw,
    THEN none of them appears (UTF-8, UTF-16, GB18030), AND get_dossier shows every one in clear."""
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        info = _register(svc)
        _assert_in_clear(info)
        catalogue = settings.data_dir / "catalogue.sqlite3"
        raw = b"".join(p.read_bytes() for p in (catalogue, Path(f"{catalogue}-wal")) if p.exists())
        assert raw, "the catalogue file was not where the test looked"
        assert _found_in(raw) == []
    finally:
        svc.close()


def test_sealed_rows_hold_no_clear_values(services: Services) -> None:
    """GIVEN a dossier registered on SQLite or PostgreSQL, WHEN its rows are selected as stored,
    THEN every personal field, note, reason and file name is sealed and no needle is in them."""
    info = _register(services)
    with services.uow.read() as s:
        row = s.get(DossierRow, info.dossier_id)
        assert row is not None
        stored: list[Any] = [row.matter, row.complainant, row.complainant_contact, row.facts_and_reasons, *row.evidence]
        stored += [t.note for t in s.scalars(select(TransitionRow).where(TransitionRow.dossier_id == row.id))
                   if t.note is not None]
        stored += [e.reason for e in s.scalars(select(ExtensionRow).where(ExtensionRow.dossier_id == row.id))]
        stored += [d.filename for d in s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id))]
        stored += [d.outcome_message for d in s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id))
                   if d.outcome_message is not None]
        # The rows exactly as the database returns them, past the ORM.
        raw = " ".join(str(v) for v in s.execute(text(
            "SELECT matter, complainant, complainant_contact, facts_and_reasons, evidence FROM dossiers WHERE id = :id"),
            {"id": row.id}).one())
        raw += " ".join(str(v) for (v,) in s.execute(text(
            "SELECT note FROM dossier_transitions WHERE dossier_id = :id"), {"id": row.id}))
        raw += " ".join(str(v) for (v,) in s.execute(text(
            "SELECT filename FROM documents WHERE dossier_id = :id"), {"id": row.id}))
    assert stored and all(is_sealed(v) for v in stored), stored
    assert [n for n in NEEDLES if n in raw] == []


def test_a_sealed_value_copied_onto_another_dossier_does_not_open(services: Services) -> None:
    """GIVEN two dossiers, WHEN someone with SQL access copies one's sealed facts onto the other,
    THEN reading the other refuses (WrongKeyError) instead of showing the first one's facts."""
    source = _register(services)
    other = services.records.register_complaint("clerk", Registration(
        matter="另一件投诉", received_at=datetime(2026, 11, 2, 2, tzinfo=timezone.utc), complainant="王五"))
    with services.uow.write() as s:
        s.execute(text("UPDATE dossiers SET facts_and_reasons = "
                       "(SELECT facts_and_reasons FROM dossiers WHERE id = :src) WHERE id = :dst"),
                  {"src": source.dossier_id, "dst": other.dossier_id})
    with pytest.raises(WrongKeyError):
        services.records.get_dossier("clerk", other.archive_number)
    # The same value under another field of its own dossier does not open either (field bound too).
    with services.uow.write() as s:
        s.execute(text("UPDATE dossiers SET request = facts_and_reasons WHERE id = :src"), {"src": source.dossier_id})
    with pytest.raises(WrongKeyError):
        services.records.get_dossier("clerk", source.archive_number)


def test_once_the_key_is_destroyed_fields_read_blank_and_objects_do_not_open(services: Services,
                                                                              clock: FrozenClock) -> None:
    """GIVEN a live dossier with a filed document, WHEN its key is destroyed, THEN its sealed fields,
    notes, reasons and evidence read as blank, the clear fields stay, and its document's bytes no
    longer open (the data key was wrapped under the dossier key)."""
    info = _register(services)
    item = info.documents[0].item_number
    services.vault.dossier_keys.destroy(info.dossier_id, now=clock())
    after = services.records.get_dossier("clerk", info.archive_number)
    reg = after.registration
    assert (reg.complainant, reg.complainant_contact, reg.facts_and_reasons, reg.matter) == (None, None, None, "")
    assert reg.evidence == ()
    assert [t.note for t in after.transitions] == [None, None]
    assert [e.reason for e in after.extensions] == [""]
    assert (reg.respondent, reg.category, reg.department) == ("某律师事务所", "收费", "A")
    assert after.documents[0].filename == item  # the item number stands in for the sealed name
    with pytest.raises(DossierKeyGoneError):
        _, stream = services.records.retrieve_document("clerk", item)
        b"".join(stream)


def test_a_disposed_dossier_without_its_key_still_shows_and_lists(settings: Settings, clock: FrozenClock) -> None:
    """GIVEN a dossier disposed of and its key destroyed, WHEN it is read (get, list, timelines, the
    console's show and list), THEN nothing fails: the tombstone shows number, respondent and
    category in clear and the personal fields blank; a second dossier still reads in clear."""
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        doomed = _register(svc)
        kept = _register(svc, complainant="李四")
        _dispose(svc, clock, doomed.archive_number)
        info = svc.records.get_dossier("clerk", doomed.archive_number)
        assert info.state is DossierState.DISPOSED
        assert (info.registration.respondent, info.registration.category) == ("某律师事务所", "收费")
        assert info.registration.complainant is None and info.registration.facts_and_reasons is None
        assert "rule R1, disposition D1" in [t.note for t in info.transitions]  # the DISPOSED step stays readable
        summaries = {s.archive_number: s for s in svc.records.list_dossiers("clerk")}
        assert summaries[doomed.archive_number].complainant is None
        assert summaries[kept.archive_number].complainant == "李四"
        assert {i.archive_number for i in svc.records.dossier_timelines("clerk")} == {
            doomed.archive_number, kept.archive_number}
        with pytest.raises(DocumentNotFoundError):
            svc.records.retrieve_document("clerk", info.documents[0].item_number)
    finally:
        svc.close()
    cli: Callable[..., Any] = lambda *args: CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])
    shown = cli("show", doomed.archive_number)
    assert shown.exit_code == 0, shown.output
    assert doomed.archive_number in shown.output and COMPLAINANT not in shown.output
    listed = cli("list")
    assert listed.exit_code == 0, listed.output
    assert doomed.archive_number in listed.output and "李四" in listed.output
