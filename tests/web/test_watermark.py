"""Regulators' downloads are watermarked on every path (issue #5 (4)); everyone else gets the original."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import pytest
from flask.testing import FlaskClient
from reportlab.pdfgen.canvas import Canvas

from records.model import DocumentKind
from tests.web.conftest import OPERATOR, LogCounter, World, sign_in_as
from web.bootstrap import Services


def two_page_pdf() -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(595, 842))
    for text in ("evidence page one", "evidence page two"):
        c.drawString(72, 700, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [re.sub(r"\s+", " ", doc[i].get_textpage().get_text_range()) for i in range(len(doc))]
    finally:
        doc.close()


@pytest.fixture
def pdf_item(services: Services, world: World) -> tuple[str, bytes]:
    """GIVEN a two-page PDF filed in the granted dossier."""
    data = two_page_pdf()
    doc = services.records.file_document("test", world.dossier, data, kind=DocumentKind.EVIDENCE,
                                         filename="证据.pdf", media_type="application/pdf")
    return doc.item_number, data


@pytest.fixture
def grant_id(services: Services, world: World) -> str:
    return services.access.list_grants(OPERATOR, grantee="regulator")[0].grant_id


def assert_stamped_for_regulator(grant_id: str, pdf: bytes, pages: int) -> list[str]:
    texts = page_texts(pdf)
    assert len(texts) == pages
    for text in texts:
        assert "regulator" in text and grant_id in text and "年度检查" in text and "downloaded" in text
    return texts


def test_regulator_gets_a_stamped_pdf_from_the_page_and_the_api(
        client: FlaskClient, world: World, pdf_item: tuple[str, bytes], grant_id: str, log: LogCounter) -> None:
    """WHEN the regulator downloads the PDF in the browser and through the API THEN both are stamped on every
    page, keep both pages, and each download leaves one allowed entry under the grant."""
    item, original = pdf_item
    log.new_entries()
    sign_in_as(client, "regulator")
    page = client.get(f"/documents/{item}/content?download=1")
    assert page.status_code == 200 and page.data.startswith(b"%PDF-") and page.data != original
    assert "attachment" in page.headers["Content-Disposition"]
    texts = assert_stamped_for_regulator(grant_id, page.data, pages=2)
    assert "evidence page one" in texts[0] and "evidence page two" in texts[1]

    api = client.get(f"/api/v1/documents/{item}/content",
                     headers={"Authorization": f"Bearer {world.tokens['regulator']}"})
    assert api.status_code == 200 and api.headers["Content-Type"] == "application/octet-stream"
    assert_stamped_for_regulator(grant_id, api.data, pages=2)

    entries = log.new_entries()
    assert [(e.event.actor, e.event.action, e.event.outcome) for e in entries] == [
        ("regulator", "download_document", "allowed")] * 2
    assert all(e.event.grant_id == grant_id for e in entries)


def test_regulator_viewer_shows_a_stamped_copy_of_a_text_document(
        client: FlaskClient, world: World, grant_id: str) -> None:
    """The inline viewer of a text document gives the regulator a stamped PDF of its extracted text."""
    sign_in_as(client, "regulator")
    resp = client.get(f"/documents/{world.item}/content")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "inline" in resp.headers["Content-Disposition"]
    texts = assert_stamped_for_regulator(grant_id, resp.data, pages=1)
    assert "收费过高" in texts[0]
    assert 'iframe src="/documents/' in client.get(f"/documents/{world.item}").get_data(as_text=True)


def test_other_roles_download_the_original_bytes(
        client: FlaskClient, world: World, pdf_item: tuple[str, bytes]) -> None:
    """A handler of the department and an auditor-free archivist get exactly the filed bytes, unstamped."""
    item, original = pdf_item
    for who in ("handler_a", "archivist"):
        sign_in_as(client, who)
        resp = client.get(f"/documents/{item}/content?download=1")
        assert resp.status_code == 200 and resp.data == original
    api = client.get(f"/api/v1/documents/{item}/content", headers={"Authorization": f"Bearer {world.tokens['handler_a']}"})
    assert api.data == original
