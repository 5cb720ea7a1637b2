"""The dossier as an archival unit: contents 卷内目录 and the compiled, paginated volume (issue #10 item 4).

A dossier is sealed, inspected and transferred as one PDF: the contents page first, then every
document, every page numbered. The contents' page numbers must be the pages'. Compiling reads
every original, so it is an export (ACS-12): decided once, logged once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import docx
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfWriter
from reportlab.pdfgen.canvas import Canvas

from records.access.errors import AccessDeniedError
from records.access.identity import Identity, Role
from records.compile import ContentsEntry, Rendering
from records.model import DocumentKind, Registration
from records.pdf_fonts import register_cjk_font
from web.bootstrap import Services

OPERATOR = Identity.operator("test-setup")
PASSWORD = "correct horse 1"


# ---------------------------------------------------------------------- the documents, made here
def _pdf(pages: int, heading: str) -> bytes:
    font = register_cjk_font()
    buf = io.BytesIO()
    c = Canvas(buf)
    for n in range(1, pages + 1):
        c.setFont(font, 14)
        c.drawString(72, 760, f"{heading} 第{n}页")
        c.showPage()
    c.save()
    return buf.getvalue()


def _fax_tiff(frames: int) -> bytes:
    """A multi-page fax: 1-bit frames at 204 × 98 dpi, Group 4 compressed."""
    images = []
    for n in range(frames):
        im = Image.new("1", (1728, 1100), 1)
        ImageDraw.Draw(im).rectangle((100, 100, 800, 300 + 100 * n), fill=0)
        images.append(im)
    buf = io.BytesIO()
    images[0].save(buf, format="TIFF", save_all=True, append_images=images[1:], compression="group4", dpi=(204, 98))
    return buf.getvalue()


def _docx(*paragraphs: str) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _dossier(services: Services, clock: Any, department: str = "A") -> str:
    return services.records.register_complaint("test", Registration(
        matter="律师收费过高投诉", received_at=clock.now - timedelta(days=2), complainant="张三",
        respondent="某律师事务所", department=department)).archive_number


def _accounts(services: Services) -> dict[str, Identity]:
    for name, role, depts in (("archivist", Role.ARCHIVIST, []), ("handler_a", Role.HANDLER, ["A"]),
                              ("manager_a", Role.MANAGER, ["A"]), ("manager_b", Role.MANAGER, ["B"])):
        services.access.add_user(OPERATOR, name, role, departments=depts, password=PASSWORD)
    return {n: services.access.identity(n) for n in ("archivist", "handler_a", "manager_a", "manager_b")}


@pytest.fixture
def volume_dossier(services: Services, clock: Any) -> tuple[str, list[str]]:
    """GIVEN a dossier with a 3-page PDF, a 2-page TIFF fax, a text file and a Word file, in that order."""
    number = _dossier(services, clock)
    items = [
        services.ingest.ingest_bytes("test", _pdf(3, "调查笔录"), "笔录.pdf", dossier=number).item_number,
        # Filed without OCR (the intake pipeline would OCR a fax; here only its pages matter).
        services.records.file_document("test", number, _fax_tiff(2), kind=DocumentKind.FAX, filename="传真.tif",
                                       media_type="image/tiff").item_number,
        services.ingest.ingest_bytes("test", "投诉书\n某律师事务所收费过高，要求退费。\n".encode(), "投诉书.txt",
                                     dossier=number).item_number,
        services.ingest.ingest_bytes("test", _docx("处理决定书", "经调查，投诉属实。"), "决定.docx",
                                     dossier=number).item_number,
    ]
    assert all(items), items
    return number, [str(i) for i in items]


# ---------------------------------------------------------------------- the volume
def test_the_compiled_volume_has_the_pages_its_contents_promise(services: Services,
                                                                volume_dossier: tuple[str, list[str]]) -> None:
    """GIVEN a dossier of a 3-page PDF, a 2-page fax, a text and a Word document
    WHEN the archive console compiles it
    THEN the PDF has the contents page, 3 + 2 pages and one page for each text, every row's first page
    shows that document, and every page carries its number, the total and the dossier number."""
    number, items = volume_dossier
    pdf = services.compiler.compile(OPERATOR, number)
    entries = services.compiler.contents(OPERATOR, number)
    texts = _page_texts(pdf)

    assert [e.item_number for e in entries] == items
    assert [e.pages for e in entries] == [3, 2, 1, 1]
    assert [e.rendering for e in entries] == [Rendering.PDF, Rendering.IMAGE, Rendering.TEXT, Rendering.TEXT]
    assert [e.kind_label for e in entries][1] == "传真"
    assert [e.title for e in entries][2:] == ["投诉书", "处理决定书"]
    assert len(texts) == 1 + 3 + 2 + 1 + 1
    assert [e.first_page for e in entries] == [2, 5, 7, 8]

    first_text = {items[0]: "调查笔录", items[1]: "传真.tif", items[2]: "某律师事务所收费过高", items[3]: "经调查，投诉属实"}
    for e in entries:
        page = texts[e.first_page - 1]
        assert e.item_number in page and first_text[e.item_number] in page, (e, page)
        # the page before it belongs to the item before (or the contents): the numbers are not off by one
        assert f"· 件号 {e.item_number} " in page and f"· 件号 {e.item_number} " not in texts[e.first_page - 2]
    assert "第1页" in texts[1].replace(" ", "") and "第3页" in texts[3].replace(" ", "")  # the PDF's own pages, in order

    for n, text in enumerate(texts, start=1):
        assert f"第 {n} 页 / 共 {len(texts)} 页" in text, (n, text)
        assert f"档号 {number}" in text

    contents_page = texts[0]
    assert "卷 内 目 录" in contents_page and f"本卷共 4 件，{len(texts)} 页" in contents_page
    for e in entries:  # each row: item number, kind, title and its first page, as the table prints them
        assert f"{e.item_number} {e.kind_label} {e.title} {e.date.isoformat()} {e.pages} {e.first_page}" in contents_page


def test_unshowable_documents_keep_their_place_and_only_current_versions_count(services: Services, clock: Any) -> None:
    """GIVEN a dossier with a password-protected PDF, a binary file without text, and a text corrected by a v2
    WHEN it is compiled
    THEN the PDF and the binary each get one placeholder page naming the item, its format and its SHA-256,
    and the corrected item appears once, as its current version."""
    number = _dossier(services, clock)
    locked = services.records.file_document("test", number, _encrypted_pdf(), kind=DocumentKind.EVIDENCE,
                                            filename="加密.pdf", media_type="application/pdf")
    blob = services.records.file_document("test", number, b"\x00\x01\x02binary", kind=DocumentKind.OTHER,
                                          filename="录音.amr", media_type="application/octet-stream")
    first = services.ingest.ingest_bytes("test", "答复书（初稿）\n旧文本".encode(), "答复.txt", dossier=number)
    assert first.item_number
    v2 = services.records.file_document("test", number, "答复书\n新文本".encode(), kind=DocumentKind.REPLY_LETTER,
                                        filename="答复.txt", media_type="text/plain",
                                        supersedes_item=first.item_number)
    assert v2.item_number.endswith(".v2")

    volume = services.compiler.volume(OPERATOR, number)
    texts = _page_texts(volume.pdf)

    assert [e.item_number for e in volume.entries] == [locked.item_number, blob.item_number, v2.item_number]
    assert [e.rendering for e in volume.entries] == [Rendering.PLACEHOLDER, Rendering.PLACEHOLDER, Rendering.TEXT]
    assert volume.total_pages == len(texts) == 1 + 1 + 1 + 1
    for doc, entry in ((locked, volume.entries[0]), (blob, volume.entries[1])):
        page = texts[entry.first_page - 1]
        assert doc.item_number in page and doc.media_type in page and doc.sha256 in page
        assert entry.note
    assert "新文本" in texts[3] and "旧文本" not in "".join(texts)
    assert volume.entries[2].title == "答复书"  # a text original filed without extraction is read for its title


# ---------------------------------------------------------------------- who may compile
def _entries(services: Services) -> list[Any]:
    return [e.event for e in services.access.read_audit_log(OPERATOR)]


def _new(services: Services, before: int) -> list[Any]:
    return _entries(services)[before:-1]  # the last one is this very read of the log


def test_compiling_is_one_export_decided_and_logged_once(services: Services, clock: Any) -> None:
    """GIVEN a dossier of department A with a document
    WHEN a handler of A asks for its volume THEN it is refused with one refused export entry;
    WHEN an archivist (any dossier) or A's manager asks THEN they get it, with one allowed entry each,
    however many documents are read; B's manager is refused."""
    who = _accounts(services)
    number = _dossier(services, clock)
    services.ingest.ingest_bytes("test", "投诉书：收费过高。".encode(), "投诉书.txt", dossier=number)

    for name in ("handler_a", "manager_b"):
        before = len(_entries(services))
        with pytest.raises(AccessDeniedError):
            services.compiler.compile(who[name], number)
        [entry] = _new(services, before)
        assert (entry.actor, str(entry.action), str(entry.outcome), entry.object_ref) == (
            name, "export", "refused", number)

    for name in ("archivist", "manager_a"):
        before = len(_entries(services))
        assert services.compiler.compile(who[name], number).startswith(b"%PDF")
        [entry] = _new(services, before)
        assert (entry.actor, str(entry.action), str(entry.outcome), entry.object_ref) == (
            name, "export", "allowed", number)
        assert entry.details.get("export") == "compiled_pdf"


def _rows(entries: Sequence[ContentsEntry]) -> list[tuple[int, int]]:
    return [(e.first_page, e.pages) for e in entries]


def test_many_documents_spread_the_contents_over_pages_and_the_numbers_still_match(services: Services,
                                                                                   clock: Any) -> None:
    """GIVEN a dossier with more documents than one contents page holds
    WHEN it is compiled THEN the contents take two pages and every first page is counted after them."""
    from records.compile import ROWS_PER_CONTENTS_PAGE

    number = _dossier(services, clock)
    for n in range(ROWS_PER_CONTENTS_PAGE + 1):
        services.records.file_document("test", number, f"第{n}号材料".encode(), kind=DocumentKind.EVIDENCE,
                                       filename=f"证据{n}.txt", media_type="text/plain")
    volume = services.compiler.volume(OPERATOR, number)
    texts = _page_texts(volume.pdf)
    assert volume.contents_pages == 2
    assert _rows(volume.entries) == [(3 + n, 1) for n in range(ROWS_PER_CONTENTS_PAGE + 1)]
    assert len(texts) == volume.total_pages == 2 + ROWS_PER_CONTENTS_PAGE + 1
    last = volume.entries[-1]
    assert last.item_number in texts[last.first_page - 1] and f"第{ROWS_PER_CONTENTS_PAGE}号材料" in texts[-1]
    assert last.item_number in texts[1] and last.item_number not in texts[0]  # its row is on the second contents page
