"""The dossier's contents 卷内目录 and its compiled volume in the browser (issue #10 item 4, ACS-12)."""

from __future__ import annotations

import hashlib
import re

import pypdfium2 as pdfium
from flask.testing import FlaskClient

from records.model import DocumentKind
from tests.web.conftest import LogCounter, World, sign_in_as
from web.bootstrap import Services


def _page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_an_archivist_reads_the_contents_and_downloads_the_volume(client: FlaskClient, services: Services,
                                                                  world: World, log: LogCounter) -> None:
    """GIVEN dossier X with a text document and a second one filed after it
    WHEN an archivist opens its contents page and then the download link on it
    THEN the page lists both items with their first pages, the PDF has exactly those pages, numbered,
    and each request leaves one allowed export entry."""
    second = services.records.file_document("test", world.dossier, "调查笔录\n被投诉人陈述。".encode(),
                                            kind=DocumentKind.INVESTIGATION_MINUTES, filename="笔录.txt",
                                            media_type="text/plain")
    sign_in_as(client, "archivist")
    resp = client.get(f"/dossiers/{world.dossier}/contents")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert world.item in page and second.item_number in page and "调查笔录" in page
    link = re.search(r'data-compiled href="([^"]+)"', page)
    assert link and link.group(1) == f"/dossiers/{world.dossier}/compiled.pdf"
    [entry] = [e.event for e in log.new_entries()]
    assert (entry.actor, str(entry.action), str(entry.outcome), entry.details["export"]) == (
        "archivist", "export", "allowed", "contents")

    resp = client.get(link.group(1))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    pdf = resp.get_data()
    assert resp.headers["Repr-Digest"] == "sha-256=:" + __import__("base64").b64encode(
        hashlib.sha256(pdf).digest()).decode() + ":"
    texts = _page_texts(pdf)
    assert len(texts) == 3  # the contents, then one page per text document
    assert world.item in texts[1] and "某律师事务所收费过高" in texts[1]
    assert second.item_number in texts[2] and "被投诉人陈述" in texts[2]
    assert all(f"第 {n} 页 / 共 3 页" in t for n, t in enumerate(texts, start=1))
    [entry] = [e.event for e in log.new_entries()]
    assert (entry.actor, str(entry.action), str(entry.outcome), entry.object_ref) == (
        "archivist", "export", "allowed", world.dossier)


def test_a_handler_may_not_take_the_volume_out(client: FlaskClient, world: World, log: LogCounter) -> None:
    """GIVEN a handler of the dossier's own department
    WHEN they ask for its contents or its compiled PDF
    THEN both are refused (404, as every refusal on a dossier), each with one refused export entry and no PDF."""
    sign_in_as(client, "handler_a")
    for path in (f"/dossiers/{world.dossier}/contents", f"/dossiers/{world.dossier}/compiled.pdf"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert not resp.get_data().startswith(b"%PDF")
        [entry] = [e.event for e in log.new_entries()]
        assert (entry.actor, str(entry.action), str(entry.outcome), entry.object_ref) == (
            "handler_a", "export", "refused", world.dossier)
