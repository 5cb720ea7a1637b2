"""`dossier unlock` changes nothing it may not (issue #13 item 3): a refused unlock leaves the item
encrypted and can be retried.

Found in review: the item's text was replaced before its embedded files were filed, so a closed
dossier (which takes no more documents) refused the children only after the item already said
``ok`` — and a retry was then refused as "not encrypted". And a withdrawn item (junk set aside,
#11) could be opened and its contents filed as live documents.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pypdf
import pytest
from sqlalchemy import select

from records.access.identity import Identity
from records.errors import DossierClosedError, InvalidRegistrationError
from records.model import Registration
from records.tables import DossierRow
from web.bootstrap import Services, build_services, init_archive

PASSWORD = "pw-123"


def _encrypted_pdf_with_an_attachment() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("附件.txt", "附件内容：收费票据".encode("utf-8"))
    writer.encrypt(PASSWORD, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def services(settings, clock) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        yield svc
    finally:
        svc.close()


def _filed_encrypted(svc: Services, clock) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    number = svc.records.register_complaint("test", Registration(
        matter="律师收费投诉", received_at=clock() - timedelta(days=1), complainant="张三", department="A")).archive_number
    locked = svc.ingest.ingest_bytes("test", _encrypted_pdf_with_an_attachment(), "收费.pdf", dossier=number)
    assert locked.outcome == "encrypted" and locked.item_number
    return number, locked.item_number


def test_a_closed_dossier_refuses_the_contents_before_the_text_is_replaced(services: Services, clock) -> None:  # type: ignore[no-untyped-def]
    """GIVEN an encrypted PDF with an embedded file, in a dossier that was closed meanwhile
    WHEN it is unlocked with the right password
    THEN the closed dossier refuses (it takes no more documents), the item is still encrypted, and
         nothing was filed — the unlock can be retried once the dossier is reopened."""
    number, item = _filed_encrypted(services, clock)
    with services.uow.write() as s:
        s.scalars(select(DossierRow).where(DossierRow.archive_number == number)).one().state = "closed"
    before = len(services.records.get_dossier("test", number).documents)
    original = services.gate.unlock(Identity.operator("op"), item)
    with pytest.raises(DossierClosedError):
        services.ingest.unlock("op", number, original.document, original.stream, PASSWORD)
    assert services.records.get_document("test", item).outcome == "encrypted"
    assert len(services.records.get_dossier("test", number).documents) == before


def test_a_withdrawn_item_is_not_opened(services: Services, clock) -> None:  # type: ignore[no-untyped-def]
    """GIVEN an encrypted PDF that was withdrawn as filed by mistake
    WHEN it is unlocked with the right password
    THEN it is refused: the item stays encrypted and its embedded file is not filed."""
    number, item = _filed_encrypted(services, clock)
    services.records.withdraw_document("test", item, "误收")
    before = len(services.records.get_dossier("test", number).documents)
    original = services.gate.unlock(Identity.operator("op"), item)
    with pytest.raises(InvalidRegistrationError, match="withdrawn"):
        services.ingest.unlock("op", number, original.document, original.stream, PASSWORD)
    assert services.records.get_document("test", item).outcome == "encrypted"
    assert len(services.records.get_dossier("test", number).documents) == before
