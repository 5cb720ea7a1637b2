"""`dossier keys rotate` brings an archive from before issue #12 under per-dossier keys.

Dossiers registered before then hold their personal fields in clear and their objects' data keys
under the master key; rotation seals the fields and moves the object keys under each dossier's
own key, so destroying that key later reaches every copy.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from records.model import DocumentAnalysis, DocumentKind, Registration
from records.sealing import is_sealed
from records.tables import DocumentRow, DossierRow, StoredObjectRow, TransitionRow
from records.vault import WrappedKey
from web.bootstrap import Services

BEIJING = timezone(timedelta(hours=8))


def test_rotation_seals_clear_fields_and_moves_object_keys_under_the_dossier_key(services: Services) -> None:
    """GIVEN a dossier as an older archive stored it (clear fields, master-wrapped object key)
    WHEN the master key is rotated
    THEN its fields are sealed, its object key is under the dossier's key, and it reads as before."""
    n = services.records.register_complaint("clerk", Registration(
        matter="旧的投诉事项", received_at=datetime(2026, 9, 1, 9, tzinfo=BEIJING), complainant="旧档案张三",
        facts_and_reasons="旧的事实")).archive_number
    body = b"old letter"
    item = services.records.file_document("clerk", n, body, kind=DocumentKind.COMPLAINT_LETTER, filename="张三来信.txt",
                                          media_type="text/plain",
                                          analysis=DocumentAnalysis(outcome="ok", text="old letter")).item_number
    vault = services.vault
    with services.uow.write() as s:  # what an archive from before issue #12 holds
        row = s.scalars(select(DossierRow).where(DossierRow.archive_number == n)).one()
        row.matter, row.complainant, row.facts_and_reasons = "旧的投诉事项", "旧档案张三", "旧的事实"
        for t in s.scalars(select(TransitionRow).where(TransitionRow.dossier_id == row.id)):
            t.note = "clear note"
        doc = s.scalars(select(DocumentRow).where(DocumentRow.dossier_id == row.id)).one()
        doc.filename = "张三来信.txt"
        for o in s.scalars(select(StoredObjectRow).where(StoredObjectRow.document_id == doc.id)):
            assert o.key_id is not None and o.wrapped_key is not None
            data_key = vault._unwrap(WrappedKey(o.key_id, o.wrapped_key), o.id, o.kind)
            w = vault.keys.wrap(bytes(data_key), context={"object_id": o.id, "kind": o.kind})
            o.key_id, o.wrapped_key = w.key_id, w.ciphertext
    report = services.records.rotate_master_key("admin")
    assert report.dossiers_sealed == 1 and report.moved_under_dossier_keys == 2
    with services.uow.read() as s:
        row = s.scalars(select(DossierRow).where(DossierRow.archive_number == n)).one()
        assert all(is_sealed(v) for v in (row.matter, row.complainant, row.facts_and_reasons))
        assert all(o.key_id and o.key_id.startswith("dossier:") for o in s.scalars(select(StoredObjectRow)))
        assert all(is_sealed(d.filename) for d in s.scalars(select(DocumentRow)))
    reg = services.records.get_dossier("t", n).registration
    assert (reg.matter, reg.complainant, reg.facts_and_reasons) == ("旧的投诉事项", "旧档案张三", "旧的事实")
    assert b"".join(services.records.retrieve_document("t", item)[1]) == body
    again = services.records.rotate_master_key("admin")
    assert again.dossiers_sealed == 0 and again.moved_under_dossier_keys == 0
