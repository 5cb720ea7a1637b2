"""Format detection by content, never by extension."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ingest.detect import DOCX, EML, detect_media_type


def test_pdf_named_txt_is_still_a_pdf(tmp_path: Path) -> None:
    p = tmp_path / "letter.txt"
    p.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    assert detect_media_type(p) == "application/pdf"


def test_mail_that_libmagic_calls_text_is_a_message() -> None:
    """Header blocks, mbox 'From ' lines and Apple .emlx byte counts are recognised as mail."""
    plain = b"Subject: =?gb2312?B?xOO6ww==?=\nFrom: a@b.cn\nTo: c@d.cn\n\nbody\n"
    assert detect_media_type(plain) == EML
    assert detect_media_type(b"From a@b.cn Mon Jan 1 00:00:00 2024\n" + plain) == EML
    assert detect_media_type(b"123\n" + plain) == EML


def test_docx_without_the_usual_zip_signature_order_is_docx() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("[Content_Types].xml", "<Types/>")
    assert detect_media_type(buf.getvalue()) == DOCX


def test_utf16_text_without_bom_is_text() -> None:
    assert detect_media_type("投诉信：律师拖延办理案件。".encode("utf-16-le") * 20) == "text/plain"


def test_empty_file_is_named_empty() -> None:
    assert detect_media_type(b"   \n") == "application/x-empty"
