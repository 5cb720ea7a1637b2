"""Watermarked copies for regulators (issue #5 (4)): every page carries the stamp, and nothing is lost."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from records.access.identity import Grant, Identity, Role
from records.access.watermark import (
    WatermarkEncryptedError, WatermarkUnsupportedError, renders_text, stamp_lines, watermark_document,
)

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)
GRANT = Grant(grant_id="g0123456789abcdef", grantee="市司法局张监管", grantee_id="u1", purpose="年度检查",
              granted_by="admin", granted_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=30))
REGULATOR = Identity(name="市司法局张监管", role=Role.REGULATOR, user_id="u1", grants=(GRANT,))
LINES = stamp_lines(REGULATOR, GRANT, NOW, ZoneInfo("Asia/Shanghai"))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text as pdfium extracts it, whitespace collapsed."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [re.sub(r"\s+", " ", doc[i].get_textpage().get_text_range()) for i in range(len(doc))]
    finally:
        doc.close()


def assert_stamped(pdf: bytes, pages: int) -> None:
    texts = page_texts(pdf)
    assert len(texts) == pages
    for n, text in enumerate(texts, 1):
        for line in LINES:
            assert re.sub(r"\s+", " ", line) in text, f"page {n} lacks {line!r}"


def odd_pdf() -> bytes:
    """Three pages: A4 portrait, a small landscape page turned by /Rotate 90, and one with a shifted crop box."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(595, 842))
    for size, text in (((595, 842), "first page"), ((400, 150), "second page"), ((300, 300), "third page")):
        c.setPageSize(size)
        c.drawString(20, 20, text)
        c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    writer.pages[1].rotate(90)
    writer.pages[2].cropbox.lower_left = (40, 60)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_stamp_lines_name_the_person_grant_purpose_and_local_time() -> None:
    """The stamp says who (Chinese name), the grant id and purpose, and the time in the archive's zone."""
    assert "市司法局张监管" in LINES[0]
    assert GRANT.grant_id in LINES[1] and "年度检查" in LINES[1]
    assert "2026-11-20 14:30:00" in LINES[2] and "+0800" in LINES[2]


def test_every_page_of_a_pdf_is_stamped_and_the_pages_are_kept() -> None:
    """Rotated, small and cropped pages each carry the whole stamp; the original text is still there."""
    stamped, media_type = watermark_document(odd_pdf(), "application/pdf", LINES)
    assert media_type == "application/pdf"
    assert_stamped(stamped, pages=3)
    texts = page_texts(stamped)
    assert "first page" in texts[0] and "second page" in texts[1] and "third page" in texts[2]
    reader = PdfReader(io.BytesIO(stamped))
    assert [p.rotation for p in reader.pages] == [0, 0, 0]  # the turn moved into the content: the stamp is upright


def test_pdf_with_an_empty_user_password_is_stamped() -> None:
    """A PDF encrypted only to restrict permissions opens without a password and is stamped."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(odd_pdf())))
    writer.encrypt("", "owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    stamped, _ = watermark_document(out.getvalue(), "application/pdf", LINES)
    assert_stamped(stamped, pages=3)


def test_password_protected_pdf_is_refused_with_a_named_error() -> None:
    """A PDF that needs a password cannot be stamped, so it is refused rather than sent unstamped."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(odd_pdf())))
    writer.encrypt("user-secret", "owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(WatermarkEncryptedError):
        watermark_document(out.getvalue(), "application/pdf", LINES)


def test_corrupt_pdf_is_refused() -> None:
    with pytest.raises(WatermarkUnsupportedError):
        watermark_document(b"%PDF-1.7\nnot really a pdf", "application/pdf", LINES)


def test_multi_page_fax_tiff_becomes_one_stamped_page_per_frame() -> None:
    """A three-page G4 fax at 204 × 98 dpi becomes a three-page PDF at the fax's true size, each page stamped."""
    frames = [Image.new("1", (1728, 1100), 1) for _ in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", compression="group4", save_all=True, append_images=frames[1:], dpi=(204, 98))
    stamped, media_type = watermark_document(buf.getvalue(), "image/tiff", LINES)
    assert media_type == "application/pdf"
    assert_stamped(stamped, pages=3)
    box = PdfReader(io.BytesIO(stamped)).pages[0].mediabox
    assert round(float(box.width)) == round(1728 / 204 * 72) and round(float(box.height)) == round(1100 / 98 * 72)


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("JPEG", "RGB"), ("PNG", "P")])
def test_single_images_become_a_stamped_page(fmt: str, mode: str) -> None:
    buf = io.BytesIO()
    Image.new(mode, (640, 480), "white" if mode != "P" else 0).save(buf, format=fmt)
    stamped, _ = watermark_document(buf.getvalue(), f"image/{fmt.lower()}", LINES)
    assert_stamped(stamped, pages=1)


def test_other_types_become_a_stamped_pdf_of_their_extracted_text() -> None:
    """Email, Word and text: the regulator gets their extracted text as a stamped, readable PDF."""
    text = "投诉书\n某律师事务所收费过高，要求退费。\n" + "第二页的内容。" * 600
    stamped, media_type = watermark_document(b"PK\x03\x04...", "application/vnd.openxmlformats-officedocument"
                                             ".wordprocessingml.document", LINES, text=text)
    assert media_type == "application/pdf"
    texts = page_texts(stamped)
    assert len(texts) >= 2 and "某律师事务所收费过高" in texts[0]
    assert_stamped(stamped, pages=len(texts))


def test_plain_text_without_extracted_text_is_decoded_and_stamped() -> None:
    stamped, _ = watermark_document("投诉信：律师缺席庭审。".encode("gb18030"), "text/plain", LINES)
    assert "律师缺席庭审" in page_texts(stamped)[0]


def test_a_type_without_text_is_refused_with_a_named_error() -> None:
    assert renders_text("message/rfc822") and not renders_text("image/tiff") and not renders_text("application/pdf")
    with pytest.raises(WatermarkUnsupportedError):
        watermark_document(b"From: a@b\n\nhello", "message/rfc822", LINES)
