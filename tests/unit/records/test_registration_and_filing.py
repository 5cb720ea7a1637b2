"""Registering complaints, their lifecycle and filing documents on the embedded archive."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from records.errors import (
    DocumentNotFoundError, DossierClosedError, DossierNotFoundError, DuplicateDocumentError,
    InvalidRegistrationError, InvalidTransitionError,
)
from records.model import Channel, DocumentKind, DossierState, Registration
from records.vault import IntegrityError
from web.bootstrap import Services

BEIJING = timezone(timedelta(hours=8))
MARKER = "投诉人张三的秘密陈述 SECRET-PLAINTEXT-7f3a".encode()


def _reg(**kw: object) -> Registration:
    base: dict[str, object] = dict(
        matter="律师拖延办理法律援助案件", complainant="张三", respondent="某律师事务所",
        received_at=datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING), channel=Channel.LETTER,
    )
    base.update(kw)
    return Registration(**base)  # type: ignore[arg-type]


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_register_gives_consecutive_numbers_in_the_month(services: Services) -> None:
    """Dossiers registered in November 2026 are 2611-001, 2611-002, … (ARC-3)."""
    numbers = [services.records.register_complaint("clerk", _reg()).archive_number for _ in range(3)]
    assert numbers == ["2611-001", "2611-002", "2611-003"]


def test_serial_restarts_in_a_new_month_by_archive_time(services: Services, clock) -> None:  # type: ignore[no-untyped-def]
    """The year-month is Beijing time: 30 Nov 17:00 UTC is already December (ARC-3-02)."""
    assert services.records.register_complaint("clerk", _reg()).archive_number == "2611-001"
    clock.now = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)
    assert services.records.register_complaint("clerk", _reg()).archive_number == "2612-001"


def test_withdrawn_dossier_keeps_its_number_and_it_is_never_reused(services: Services) -> None:
    """A void dossier stays, marked void; the next registration does not take its number (ARC-3)."""
    first = services.records.register_complaint("clerk", _reg())
    services.records.advance("clerk", first.archive_number, DossierState.VOID, note="registered twice")
    nxt = services.records.register_complaint("clerk", _reg())
    assert nxt.archive_number == "2611-002"
    again = services.records.get_dossier("clerk", first.archive_number)
    assert again.state is DossierState.VOID and again.void_reason == "registered twice"


def test_withdrawal_needs_a_reason(services: Services) -> None:
    d = services.records.register_complaint("clerk", _reg())
    with pytest.raises(InvalidRegistrationError):
        services.records.advance("clerk", d.archive_number, DossierState.VOID)


def test_registration_keeps_every_int_f_field(services: Services) -> None:
    """Everything on the registration form comes back unchanged (INT-F)."""
    reg = _reg(complainant_contact="13800000000", request="更换律师", facts_and_reasons="三个月未联系",
               event_on=date(2026, 10, 1), evidence=("通话记录", "委托协议"), expected_remedy="赔偿",
               receiving_officer="李四", department="法援科", category="拖延受理", collective_count=12,
               referring_body="司法局")
    info = services.records.register_complaint("clerk", reg)
    got = services.records.get_dossier("clerk", info.archive_number).registration
    assert got == replace(reg, sla_profile="legal-aid")


@pytest.mark.parametrize("bad, field", [
    (dict(matter="  "), "matter"),
    (dict(complainant=None), "complainant"),
    (dict(received_at=datetime(2027, 1, 1, tzinfo=timezone.utc)), "received_at"),
    (dict(sla_profile="nope"), "sla_profile"),
    (dict(collective_count=0), "collective_count"),
])
def test_invalid_registration_names_the_field(services: Services, bad: dict[str, object], field: str) -> None:
    """A bad form is refused with the field named, and no number is consumed."""
    with pytest.raises(InvalidRegistrationError) as err:
        services.records.register_complaint("clerk", _reg(**bad))
    assert err.value.field == field
    assert services.records.register_complaint("clerk", _reg()).archive_number == "2611-001"


def test_anonymous_complaint_needs_no_name(services: Services) -> None:
    """INT-F-20: anonymous complaints are registered without a complainant."""
    info = services.records.register_complaint("clerk", _reg(complainant=None, anonymous=True))
    assert info.registration.anonymous and info.registration.complainant is None


def test_lifecycle_follows_the_allowed_steps(services: Services) -> None:
    """registered → accepted → investigating → decided → replied → closed; skipping is refused."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    with pytest.raises(InvalidTransitionError):
        services.records.advance("clerk", n, DossierState.DECIDED)
    for state in (DossierState.ACCEPTED, DossierState.INVESTIGATING, DossierState.DECIDED,
                  DossierState.REPLIED, DossierState.CLOSED):
        services.records.advance("clerk", n, state, on=date(2026, 11, 3),
                                 override_reason="no materials in this test" if state is DossierState.CLOSED else None)
    info = services.records.get_dossier("clerk", n)
    assert [t.state for t in info.transitions][-1] is DossierState.CLOSED
    assert info.state_dates["accepted"] == date(2026, 11, 3)


def test_deadlines_follow_the_legal_aid_profile(services: Services) -> None:
    """Received Mon 2 Nov 2026: accept by 9 Nov (5 working days, TL-01); overdue the day after."""
    info = services.records.register_complaint("clerk", _reg())
    acceptance = services.records.deadlines(info, date(2026, 11, 9))[0]
    assert acceptance.due_on == date(2026, 11, 9) and not acceptance.overdue
    assert services.records.deadlines(info, date(2026, 11, 10))[0].overdue
    assert [s.archive_number for s in services.records.list_dossiers("c", overdue_on=date(2026, 11, 10))] == [info.archive_number]
    assert services.records.list_dossiers("c", overdue_on=date(2026, 11, 9)) == []


def test_extension_moves_the_conclusion_deadline(services: Services) -> None:
    """An approved extension with written notice adds to the 45 days (TL-02, TL-03)."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    services.records.advance("clerk", n, DossierState.ACCEPTED, on=date(2026, 11, 3))
    before = {c.clock.value: c.due_on for c in services.records.deadlines(services.records.get_dossier("c", n))}
    services.records.extend_conclusion("clerk", n, days=30, reason="案情复杂", approved_by="主任")
    after = {c.clock.value: c.due_on for c in services.records.deadlines(services.records.get_dossier("c", n))}
    assert before["conclusion"] is not None and after["conclusion"] is not None
    assert after["conclusion"] >= before["conclusion"] + timedelta(days=30)


def test_filed_document_reads_back_byte_for_byte(services: Services, tmp_path: Path) -> None:
    """The original comes back exactly; its item number is dossier number + item (ARC-3-06)."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    data = MARKER * 1000
    doc = services.records.file_document("clerk", n, _file(tmp_path, "letter.pdf", data), kind=DocumentKind.COMPLAINT_LETTER)
    assert doc.item_number == f"{n}-01"
    info, stream = services.records.retrieve_document("clerk", doc.item_number)
    assert b"".join(stream) == data and info.size == len(data)
    second = services.records.file_document("clerk", n, _file(tmp_path, "fax.tif", b"other"), kind=DocumentKind.FAX)
    assert second.item_number == f"{n}-02"


def test_no_plaintext_anywhere_under_the_data_directory(services: Services, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Neither the vault nor the catalogue holds a filed document's bytes in the clear."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    services.records.file_document("clerk", n, _file(tmp_path, "letter.txt", MARKER * 50), kind=DocumentKind.COMPLAINT_LETTER)
    services.close()
    needles = (MARKER, MARKER[:16], "SECRET-PLAINTEXT-7f3a".encode())
    files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    assert any("vault" in p.parts for p in files)
    for p in files:
        blob = p.read_bytes()
        assert not any(needle in blob for needle in needles), p


def test_flipping_one_stored_byte_makes_retrieval_fail(services: Services, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A corrupted blob is never returned as a document (fails loudly, IntegrityError)."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    doc = services.records.file_document("clerk", n, _file(tmp_path, "a.bin", b"x" * 5000), kind=DocumentKind.EVIDENCE)
    blob = next(p for p in settings.vault_root.rglob("*") if p.is_file())
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    blob.chmod(0o600)
    blob.write_bytes(bytes(raw))
    _, stream = services.records.retrieve_document("clerk", doc.item_number)
    with pytest.raises(IntegrityError):
        b"".join(stream)
    report = services.records.verify_vault("auditor")
    assert not report.ok and report.problems[0].item_number == doc.item_number


def test_duplicate_file_in_same_dossier_is_detected(services: Services, tmp_path: Path) -> None:
    """The same bytes twice in one dossier are refused, naming the existing item; another dossier may hold them."""
    a = services.records.register_complaint("clerk", _reg()).archive_number
    b = services.records.register_complaint("clerk", _reg()).archive_number
    f = _file(tmp_path, "same.pdf", b"same bytes")
    first = services.records.file_document("clerk", a, f, kind=DocumentKind.EVIDENCE)
    with pytest.raises(DuplicateDocumentError) as err:
        services.records.file_document("clerk", a, _file(tmp_path, "copy.pdf", b"same bytes"), kind=DocumentKind.EVIDENCE)
    assert err.value.existing_item == first.item_number
    assert services.records.file_document("clerk", b, f, kind=DocumentKind.EVIDENCE).item_number == f"{b}-01"


def test_correction_is_a_new_version_and_the_old_stays(services: Services, tmp_path: Path) -> None:
    """A corrected minute is version 2 of the same item; version 1 is still retrievable."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    v1 = services.records.file_document("clerk", n, _file(tmp_path, "m1.docx", b"v1"), kind=DocumentKind.INVESTIGATION_MINUTES)
    v2 = services.records.file_document("clerk", n, _file(tmp_path, "m2.docx", b"v2"), kind=DocumentKind.INVESTIGATION_MINUTES,
                                        supersedes_item=v1.item_number)
    assert v2.item_number == f"{v1.item_number}.v2" and v2.supersedes_item == v1.item_number
    assert b"".join(services.records.retrieve_document("c", v1.item_number)[1]) == b"v1"
    assert b"".join(services.records.retrieve_document("c", v2.item_number)[1]) == b"v2"


def test_attachment_records_its_parent_email(services: Services, tmp_path: Path) -> None:
    """An email's attachment is a document of the same dossier pointing at the email."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    mail = services.records.file_document("clerk", n, _file(tmp_path, "m.eml", b"mail"), kind=DocumentKind.EMAIL)
    att = services.records.file_document("clerk", n, _file(tmp_path, "a.pdf", b"att"), kind=DocumentKind.EVIDENCE,
                                         parent_item=mail.item_number)
    assert att.parent_item == mail.item_number


def test_closed_dossier_takes_no_documents_and_nothing_is_left_behind(services: Services, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Filing into a closed dossier is refused and leaves no blob in the vault."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    for s in (DossierState.NOT_ACCEPTED, DossierState.CLOSED):
        services.records.advance("clerk", n, s, override_reason="no materials in this test" if s is DossierState.CLOSED else None)
    with pytest.raises(DossierClosedError):
        services.records.file_document("clerk", n, _file(tmp_path, "late.pdf", b"late"), kind=DocumentKind.OTHER)
    assert [p for p in settings.vault_root.rglob("*") if p.is_file()] == []


def test_unknown_dossier_and_item_are_named(services: Services, tmp_path: Path) -> None:
    with pytest.raises(DossierNotFoundError):
        services.records.file_document("c", "2611-999", _file(tmp_path, "x", b"x"), kind=DocumentKind.OTHER)
    with pytest.raises(DocumentNotFoundError):
        services.records.retrieve_document("c", "2611-999-01")


def test_key_rotation_rewraps_without_touching_blobs(services: Services, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`keys rotate` re-wraps every data key; blob bytes are unchanged and still decrypt."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    docs = [services.records.file_document("c", n, _file(tmp_path, f"f{i}", f"doc {i}".encode() * 100), kind=DocumentKind.OTHER)
            for i in range(3)]
    before = {p: p.read_bytes() for p in settings.vault_root.rglob("*") if p.is_file()}
    report = services.records.rotate_master_key("admin")
    # Issue #12: the objects' data keys are wrapped under their dossier's key, which is what is re-wrapped.
    assert (report.already_current, report.dossier_keys_rewrapped >= 1) == (3, True)
    assert {p: p.read_bytes() for p in settings.vault_root.rglob("*") if p.is_file()} == before
    for i, d in enumerate(docs):
        assert b"".join(services.records.retrieve_document("c", d.item_number)[1]) == f"doc {i}".encode() * 100
    assert services.records.rotate_master_key("admin").dossier_keys_rewrapped >= 1
    assert services.records.verify_vault("auditor").ok


def test_documents_are_found_by_hash_across_dossiers(services: Services, tmp_path: Path) -> None:
    """The same bytes filed in two dossiers are both found by their SHA-256 (mail intake relies on it)."""
    import hashlib

    a = services.records.register_complaint("clerk", _reg()).archive_number
    b = services.records.register_complaint("clerk", _reg()).archive_number
    f = _file(tmp_path, "m.eml", b"message bytes")
    for n in (a, b):
        services.records.file_document("clerk", n, f, kind=DocumentKind.EMAIL)
    sha = hashlib.sha256(b"message bytes").hexdigest()
    assert services.records.find_documents_by_sha256("c", sha) == [(a, f"{a}-01"), (b, f"{b}-01")]
    assert services.records.find_documents_by_sha256("c", "0" * 64) == []


def test_a_wrong_precomputed_hash_is_refused_and_leaves_nothing(services: Services, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A caller's hash is checked against the bytes actually sealed; a mismatch files nothing."""
    n = services.records.register_complaint("clerk", _reg()).archive_number
    with pytest.raises(InvalidRegistrationError):
        services.records.file_document("c", n, _file(tmp_path, "x.txt", b"real bytes"), kind=DocumentKind.OTHER, sha256="0" * 64)
    assert services.records.get_dossier("c", n).documents == ()
    assert [p for p in settings.vault_root.rglob("*") if p.is_file()] == []
