"""PDFs: CJK text layers, OCR of scans, passwords, damage, limits, forms and embedded files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.errors import CorruptDocumentError, EncryptedDocumentError
from ingest.extractors.pdf import PdfExtractor
from ingest.model import ExtractContext, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
PROVENANCE = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text().splitlines()]
SIMPLIFIED = ["尊敬的领导：我叫王小明，住在北京市朝阳区。", "我要投诉本小区物业公司长期不处理漏水问题，",
              "给我们的生活造成了严重影响，请求依法处理。"]
CRAZY_ONES = CORPUS / "pdf" / "pypdfsamples__crazyones-pdfa.pdf"
NO_OCR = ExtractContext(ocr_enabled=False)

ScannedPdf = Callable[..., Path]


@pytest.fixture(scope="module")
def extractor() -> PdfExtractor:
    # One extractor (and OCR engine) for the module: loading the Chinese models is slow.
    return PdfExtractor()


@pytest.fixture
def scanned_pdf(tmp_path: Path, noto: Callable[[str], tuple[str, int]]) -> ScannedPdf:
    """Writes an image-only PDF (as a scanner makes): each page a 200 dpi picture of text."""

    def write(pages: int = 1, name: str = "scan.pdf") -> Path:
        path, index = noto("SC")
        font = ImageFont.truetype(path, 28, index=index)
        images = []
        for _ in range(pages):
            image = Image.new("L", (1100, 320), 255)
            pen = ImageDraw.Draw(image)
            for row, line in enumerate(SIMPLIFIED):
                pen.text((60, 60 + row * 70), line, font=font, fill=0)
            images.append(image)
        target = tmp_path / name
        images[0].save(target, "PDF", resolution=200, save_all=True, append_images=images[1:])
        return target

    return write




def _rows(**measured: Any) -> list[dict[str, Any]]:
    pdfs = [row for row in PROVENANCE if row["group"] == "pdf"]
    return [row for row in pdfs if all(row["measured"].get(k) == v for k, v in measured.items())]


def _encrypt(source: Path, target: Path, user: str, owner: str = "owner-secret") -> Path:
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-256")
    with target.open("wb") as stream:
        writer.write(stream)
    return target


@pytest.mark.parametrize("name", [
    "pdfjs__issue12823.pdf", "pdfplumber__issue-336-example.pdf", "pdfplumber__issue-71-duplicate-chars.pdf",
    "debian__debian-edu-bookworm-manual-zh-cn.pdf",
])
def test_chinese_text_layer_is_extracted_without_ocr(extractor: PdfExtractor, name: str) -> None:
    """Born-digital Chinese PDFs give every Han character another tool measured, no OCR needed."""
    row = next(r for r in PROVENANCE if r["file"] == name)
    extraction = extractor.extract(CORPUS / "pdf" / name, "application/pdf", ExtractContext())
    assert len(re.findall(r"[\u4e00-\u9fff]", extraction.text)) == row["measured"]["han"]
    assert extraction.pages == row["measured"]["pages"]
    assert "zh-Hans" in extraction.languages
    assert not any(page.ocr for page in extraction.page_info)


def test_letter_spaced_chinese_is_joined(extractor: PdfExtractor) -> None:
    """Glyphs placed one by one (GBK font, no ToUnicode) come out as words, not "全 世 界"."""
    extraction = extractor.extract(CORPUS / "pdf" / "pdfjs__SimFang-variant.pdf", "application/pdf", NO_OCR)
    assert "全世界无产者，联合起来" in extraction.text


def test_scanned_page_is_ocrd(extractor: PdfExtractor, scanned_pdf: ScannedPdf) -> None:
    """A page that is only a picture of text is rendered and read by OCR, with its page info."""
    extraction = extractor.extract(scanned_pdf(), "application/pdf", ExtractContext())
    assert "投诉本小区物业公司" in extraction.text
    (page,) = extraction.page_info
    assert page.ocr and page.language == "chi_sim" and page.confidence is not None and page.confidence > 60
    assert extraction.languages == ("zh-Hans",)


def test_scanned_page_without_ocr_yields_no_text(extractor: PdfExtractor, scanned_pdf: ScannedPdf) -> None:
    """With OCR off, a scan is filed with its pages counted and no text."""
    extraction = extractor.extract(scanned_pdf(), "application/pdf", NO_OCR)
    assert (extraction.text, extraction.pages, extraction.page_info[0].ocr) == ("", 1, False)


def test_undecodable_text_layer_is_replaced_by_ocr(extractor: PdfExtractor, tmp_path: Path) -> None:
    """A text layer of raw glyph codes (a CJK font without a Unicode map) is not taken as text."""
    path = tmp_path / "garbled.pdf"
    path.write_bytes(_garbled_pdf())
    extraction = extractor.extract(path, "application/pdf", ExtractContext())
    assert extraction.page_info[0].ocr
    assert not re.search(r"[\x00-\x08\x0e-\x1f]", extraction.text)


def test_undecodable_text_layer_without_ocr_is_flagged(extractor: PdfExtractor, tmp_path: Path) -> None:
    """With OCR off, the undecodable characters are dropped and the page is flagged for review."""
    path = tmp_path / "garbled.pdf"
    path.write_bytes(_garbled_pdf())
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert not re.search(r"[\x00-\x08\x0e-\x1f]", extraction.text)
    assert extraction.warnings == ("page 1: text not decodable, OCR off",)


def test_page_limit_keeps_the_first_pages_with_a_warning(extractor: PdfExtractor, scanned_pdf: ScannedPdf) -> None:
    """A PDF over limits.max_pages is read up to the limit and flagged, not rejected."""
    context = ExtractContext(ocr_enabled=False, limits=Limits(max_pages=2))
    extraction = extractor.extract(scanned_pdf(pages=3), "application/pdf", context)
    assert extraction.pages == 3 and len(extraction.page_info) == 2
    assert extraction.warnings == ("only the first 2 of 3 pages were read (page limit)",)


def test_scan_with_an_image_over_the_pixel_limit_is_not_rendered(extractor: PdfExtractor,
                                                                   scanned_pdf: ScannedPdf) -> None:
    """A page image beyond limits.max_image_pixels is never decoded for OCR; the page is flagged."""
    context = ExtractContext(limits=Limits(max_image_pixels=10_000))
    extraction = extractor.extract(scanned_pdf(), "application/pdf", context)
    assert extraction.text == ""
    assert extraction.warnings == ("page 1: image of 1100x320 pixels too large to render for OCR",)


def test_encrypted_pdf_without_password_is_refused(extractor: PdfExtractor, tmp_path: Path) -> None:
    """An encrypted PDF and no password: outcome encrypted, reason says a password is needed."""
    path = _encrypt(CRAZY_ONES, tmp_path / "locked.pdf", user="s3cret")
    with pytest.raises(EncryptedDocumentError, match=r"^encrypted: password required$"):
        extractor.extract(path, "application/pdf", ExtractContext())


def test_encrypted_pdf_with_wrong_password_is_refused(extractor: PdfExtractor, tmp_path: Path) -> None:
    """A wrong password is told apart from a missing one."""
    path = _encrypt(CRAZY_ONES, tmp_path / "locked.pdf", user="s3cret")
    with pytest.raises(EncryptedDocumentError, match=r"^encrypted: wrong password$"):
        extractor.extract(path, "application/pdf", ExtractContext(password="guess"))


def test_encrypted_pdf_opens_with_its_password(extractor: PdfExtractor, tmp_path: Path) -> None:
    """The password from the context opens the text and the metadata."""
    path = _encrypt(CRAZY_ONES, tmp_path / "locked.pdf", user="s3cret")
    extraction = extractor.extract(path, "application/pdf", ExtractContext(password="s3cret"))
    assert "crazy ones" in extraction.text
    assert extraction.metadata["encrypted"] == "yes"
    assert extraction.warnings == ()


def test_owner_password_only_pdf_opens_without_a_password(extractor: PdfExtractor, tmp_path: Path) -> None:
    """Permissions-only encryption (empty user password) is no obstacle to filing."""
    path = _encrypt(CRAZY_ONES, tmp_path / "restricted.pdf", user="")
    assert "crazy ones" in extractor.extract(path, "application/pdf", ExtractContext()).text


@pytest.mark.parametrize("row", [
    pytest.param(r, id=r["file"]) for r in _rows(needs_password=True)
    if re.match(r"'[^']+' \(", str(r["measured"].get("password_verified")))
])
def test_corpus_encrypted_pdfs_open_with_their_known_passwords(extractor: PdfExtractor, row: dict[str, Any]) -> None:
    """RC4 and AES (R2-R6) PDFs from other projects' suites: refused without, opened with password."""
    path = CORPUS / "pdf" / row["file"]
    password = row["measured"]["password_verified"].split("'")[1]
    with pytest.raises(EncryptedDocumentError):
        extractor.extract(path, "application/pdf", ExtractContext())
    extraction = extractor.extract(path, "application/pdf", ExtractContext(password=password))
    assert extraction.pages == row["measured"]["pages"]


def test_truncated_pdf_is_corrupt(extractor: PdfExtractor, tmp_path: Path) -> None:
    """A PDF cut off in transfer is corrupt, with a short reason from both libraries."""
    path = tmp_path / "cut.pdf"
    path.write_bytes(CRAZY_ONES.read_bytes()[:3000])
    with pytest.raises(CorruptDocumentError, match=r"^corrupt: .+ \(pypdf: .+\)$"):
        extractor.extract(path, "application/pdf", NO_OCR)


def test_file_only_pdfium_can_read_is_kept_with_a_warning(extractor: PdfExtractor) -> None:
    """When pypdf fails on the structure but PDFium copes, the text is kept and a warning says so."""
    path = CORPUS / "pdf" / "pdfjs__Pages-tree-refs.pdf"
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "Pages loop" in extraction.text
    assert extraction.warnings[0].startswith("pypdf cannot read this file")


def test_filled_form_values_are_part_of_the_text(extractor: PdfExtractor) -> None:
    """AcroForm values (which PDFium's text layer lacks) are searchable, after the last page."""
    path = CORPUS / "pdf" / "pypdfsamples__libreoffice-form.pdf"
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "First Name: Alice" in extraction.text
    assert extraction.metadata["form_fields"] == "2"
    assert extraction.text.count("\f") == extraction.pages - 1


def test_metadata_comes_from_the_document_info(extractor: PdfExtractor) -> None:
    """Title and creation date (as ISO 8601) are read from the document information."""
    path = CORPUS / "pdf" / "pdfjs__noembed-sjis.pdf"
    metadata = extractor.extract(path, "application/pdf", NO_OCR).metadata
    assert metadata["title"] == "Jaoanese noembed test PDF"
    assert metadata["date"].startswith("2013-01-16")


def test_embedded_files_become_attachments(extractor: PdfExtractor) -> None:
    """Files bound into a PDF portfolio are handed on for ingest of their own."""
    extraction = extractor.extract(CORPUS / "pdf" / "tika__testPDFPackage.pdf", "application/pdf", NO_OCR)
    assert len(extraction.attachments) == 2
    assert all(a.data for a in extraction.attachments)


@pytest.mark.parametrize("row", [pytest.param(r, id=r["file"]) for r in _rows()])
def test_every_corpus_pdf_ends_in_text_or_a_named_error(extractor: PdfExtractor, row: dict[str, Any]) -> None:
    """Every real-world PDF gives pages or a recorded reason; none raises a library error (no OCR)."""
    try:
        extraction = extractor.extract(CORPUS / "pdf" / row["file"], "application/pdf", NO_OCR)
    except (CorruptDocumentError, EncryptedDocumentError) as exc:
        assert exc.reason.startswith(("corrupt: ", "encrypted: "))
        assert row["measured"].get("needs_password") or not row["measured"]["text_chars"]
    else:
        assert extraction.pages == len(extraction.page_info) or extraction.pages > 2000


def _garbled_pdf() -> bytes:
    """One page whose text is drawn with glyph codes 1-30 of a font that maps them to nothing."""
    codes = bytes(c for c in range(1, 31) if c not in b"\\()\r\n")
    content = b"BT /F1 12 Tf 10 50 Td (" + codes + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 100] /Resources << /Font << /F1 4 0 R >> >>"
         b" /Contents 5 0 R >>"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    data = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return data + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_pdf_held_in_memory_is_read_like_one_on_disk() -> None:
    """Uploads and attachments reach the parser as bytes (an anonymous memory file). PDFium used to
    resolve that path to '/memfd:… (deleted)' and every such PDF was filed 'corrupt'."""
    from ingest.workers import extract

    path = CORPUS / "pdf" / "pdfjs__issue12823.pdf"
    from_disk = extract(path, "application/pdf", ExtractContext())
    from_memory = extract(path.read_bytes(), "application/pdf", ExtractContext())
    assert from_memory.text == from_disk.text and from_memory.pages == from_disk.pages
    assert from_memory.text.strip()
