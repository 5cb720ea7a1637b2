"""Word extraction: .docx structure (tables, headers, text boxes, revisions), zip guards, .doc."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import io
import json
import struct
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from extract_msg.ole_writer import OleWriter

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, IngestError, TooLargeError
from ingest.extractors.word import DocExtractor, DocxExtractor
from ingest.model import ExtractContext, Extraction, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ERROR_EXPECTED: dict[str, type[IngestError]] = {
    "poi__truncated62886.docx": CorruptDocumentError,
    "tika__testWORD_truncated.docx": CorruptDocumentError,
    "tika__testWORD_protected_passtika.docx": EncryptedDocumentError,
}
_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
       'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
       'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
       'xmlns:v="urn:schemas-microsoft-com:vml"')
TEXT_BOX = (
    f"<w:r {_NS}><mc:AlternateContent>"
    "<mc:Choice Requires=\"wps\"><w:drawing><wps:wsp><wps:txbx><w:txbxContent>"
    "<w:p><w:r><w:t>文本框：来访人联系电话</w:t></w:r></w:p>"
    "</w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice>"
    "<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
    "<w:p><w:r><w:t>文本框：来访人联系电话</w:t></w:r></w:p>"
    "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
    "</mc:AlternateContent></w:r>"
)
REVISIONS = (
    f"<w:p {_NS}><w:r><w:t xml:space=\"preserve\">处理结果：</w:t></w:r>"
    "<w:del w:id=\"1\" w:author=\"a\"><w:r><w:delText>不予受理</w:delText></w:r></w:del>"
    "<w:ins w:id=\"2\" w:author=\"a\"><w:r><w:t>予以受理</w:t></w:r></w:ins></w:p>"
)


def _complaint_docx(tmp_path: Path, name: str = "complaint.docx") -> Path:
    """A small Chinese complaint letter with a table, header, footer, text box and revisions."""
    document = docx.Document()
    document.core_properties.title = "信访事项受理告知书"
    document.core_properties.author = "市信访局"
    document.add_paragraph("投诉人：王喆")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "事项", (0, 1): "漏水", (1, 0): "地址", (1, 1): "幸福小区"}.items():
        table.cell(row, col).text = text
    host = document.add_paragraph("正文在文本框之前")
    host._p.append(parse_xml(TEXT_BOX))
    document.element.body.insert(-1, parse_xml(REVISIONS))
    document.add_paragraph("末段")
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉：市信访局"
    section.footer.paragraphs[0].text = "页脚：第一页"
    path = tmp_path / name
    document.save(str(path))
    return path


def _extract(path: Path, context: ExtractContext | None = None) -> Extraction:
    return DocxExtractor().extract(path, DOCX, context or ExtractContext())


def test_body_paragraphs_and_table_rows_come_in_document_order(tmp_path: Path) -> None:
    """Paragraphs and tables interleave as written; each table row is one tab-separated line."""
    text = _extract(_complaint_docx(tmp_path)).text
    assert text.index("投诉人：王喆") < text.index("事项\t漏水") < text.index("地址\t幸福小区") < text.index("末段")


def test_headers_and_footers_are_extracted(tmp_path: Path) -> None:
    """Header and footer text is searchable too."""
    text = _extract(_complaint_docx(tmp_path)).text
    assert "页眉：市信访局" in text and "页脚：第一页" in text


def test_text_box_text_appears_once(tmp_path: Path) -> None:
    """Text boxes are read, and the VML fallback copy Word writes alongside is not repeated."""
    text = _extract(_complaint_docx(tmp_path)).text
    assert text.count("文本框：来访人联系电话") == 1


def test_tracked_deletions_are_dropped_and_insertions_kept(tmp_path: Path) -> None:
    """The text is the document as it now reads: deleted runs out, inserted runs in."""
    text = _extract(_complaint_docx(tmp_path)).text
    assert "处理结果：予以受理" in text
    assert "不予受理" not in text


def test_core_properties_become_metadata(tmp_path: Path) -> None:
    """Title and author come from docProps/core.xml."""
    metadata = _extract(_complaint_docx(tmp_path)).metadata
    assert metadata["title"] == "信访事项受理告知书"
    assert metadata["author"] == "市信访局"


def test_corpus_text_boxes_in_body_header_and_footer_are_found() -> None:
    """A real Word file with text boxes in body, header and footer yields all three."""
    text = _extract(CORPUS / "docx" / "tika__testWORD_text_box.docx").text
    for where in ("body", "header", "footer"):
        assert f"This text is inside of a text box in the {where} of the document." in text


def test_zip_bomb_is_refused_before_decompression(tmp_path: Path) -> None:
    """A member that inflates absurdly (here 20 MB of zeros) is refused from the directory alone."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/filler.bin", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(TooLargeError):
        _extract(path)


def test_package_expanding_past_max_expanded_bytes_is_too_large(tmp_path: Path) -> None:
    """The sum of declared member sizes is held to limits.max_expanded_bytes."""
    with pytest.raises(TooLargeError):
        _extract(_complaint_docx(tmp_path), ExtractContext(limits=Limits(max_expanded_bytes=10_000)))


def test_truncated_package_is_corrupt(tmp_path: Path) -> None:
    """A .docx cut short in transfer ends as corrupt with a reason."""
    whole = _complaint_docx(tmp_path).read_bytes()
    path = tmp_path / "cut.docx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDocumentError):
        _extract(path)


def test_zip_without_a_main_document_is_corrupt(tmp_path: Path) -> None:
    """A zip that lacks word/document.xml is not a Word document."""
    path = tmp_path / "nodoc.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(CorruptDocumentError):
        _extract(path)


def test_bytes_that_are_not_a_zip_are_corrupt(tmp_path: Path) -> None:
    """Non-zip bytes under a .docx media type end as corrupt."""
    path = tmp_path / "text.docx"
    path.write_bytes("这不是文档".encode())
    with pytest.raises(CorruptDocumentError):
        _extract(path)


def test_password_protected_docx_is_encrypted() -> None:
    """An encrypted OOXML package (an OLE file holding EncryptedPackage) is named encrypted."""
    with pytest.raises(EncryptedDocumentError):
        _extract(CORPUS / "docx" / "tika__testWORD_protected_passtika.docx")


def test_damaged_unrelated_part_costs_a_warning_not_the_text() -> None:
    """A bad CRC in the theme part is flagged, and the body text is still read."""
    result = _extract(CORPUS / "docx" / "poi__clusterfuzz-testcase-minimized-POIXWPFFuzzer-6733884933668864.docx")
    assert result.text
    assert any("damaged" in warning for warning in result.warnings)


def test_embedded_files_are_returned_until_max_depth() -> None:
    """Embedded documents come back as attachments, but not once the depth limit is reached."""
    path = CORPUS / "docx" / "poi__WordWithAttachments.docx"
    names = {a.filename for a in _extract(path).attachments}
    assert "_____Microsoft_Office_Excel1.xlsx" in names
    deep = _extract(path, ExtractContext(limits=Limits(max_depth=1), depth=1))
    assert deep.attachments == ()
    assert any("max_depth" in warning for warning in deep.warnings)


def _embedded_doc(tmp_path: Path) -> Path:
    """A real Word 97-2003 file: one embedded in a corpus .docx (Russian, Uzbek, English)."""
    result = _extract(CORPUS / "docx" / "poi__WordWithAttachments.docx")
    [attachment] = [a for a in result.attachments if a.filename.endswith("20031.doc")]
    path = tmp_path / "embedded.doc"
    path.write_bytes(attachment.data)
    return path


def test_legacy_doc_text_comes_from_antiword_in_utf8(tmp_path: Path) -> None:
    """antiword reads .doc and non-Latin text arrives intact (UTF-8 mapping)."""
    result = DocExtractor().extract(_embedded_doc(tmp_path), "application/msword", ExtractContext())
    assert "Дубль документа" in result.text and "Second document" in result.text


def test_doc_media_type_on_a_docx_is_still_read(tmp_path: Path) -> None:
    """A .docx handed over as application/msword is read as a .docx."""
    result = DocExtractor().extract(_complaint_docx(tmp_path), "application/msword", ExtractContext())
    assert "投诉人：王喆" in result.text


def test_docx_media_type_on_a_legacy_doc_is_still_read(tmp_path: Path) -> None:
    """A .doc renamed .docx reaches antiword instead of failing as a bad zip."""
    result = _extract(_embedded_doc(tmp_path))
    assert "Second document" in result.text


def test_non_word_bytes_as_doc_are_corrupt_with_antiwords_reason(tmp_path: Path) -> None:
    """When antiword cannot read a file, its own message is the recorded reason."""
    path = tmp_path / "fake.doc"
    path.write_bytes(b"plain text, not a Word file\n" * 20)
    with pytest.raises(CorruptDocumentError, match="not a Word Document"):
        DocExtractor().extract(path, "application/msword", ExtractContext())


def _word97(tmp_path: Path, text: str, *, encrypted: bool = False) -> Path:
    """A minimal Word 97 file: FIB, one UTF-16 piece, table stream; small enough that its
    WordDocument stream lands in the OLE mini-stream (as in small WPS/OpenOffice files)."""
    fib = bytearray(0x200)
    struct.pack_into("<HH", fib, 0, 0xA5EC, 0x00C1)                      # wIdent, nFib (Word 97)
    struct.pack_into("<H", fib, 0x0A, 0x0200 | (0x0100 if encrypted else 0))  # 1Table, fEncrypted
    pieces = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, len(fib), 0)
    clx = b"\x02" + struct.pack("<I", len(pieces)) + pieces
    struct.pack_into("<II", fib, 0x01A2, 0, len(clx))                    # fcClx, lcbClx
    writer = OleWriter()
    writer.addEntry("WordDocument", bytes(fib) + text.encode("utf-16-le"))
    writer.addEntry("1Table", clx)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "small.doc"
    path.write_bytes(buffer.getvalue())
    return path


def test_small_doc_antiword_cannot_read_falls_back_to_the_piece_table(tmp_path: Path) -> None:
    """antiword rejects mini-stream documents; their text is still read, flagged for review."""
    text = "信访事项告知书\r投诉人：王喆\x13 HYPERLINK \"http://example.cn\" \x14办理结果\x15。\r"
    result = DocExtractor().extract(_word97(tmp_path, text), "application/msword", ExtractContext())
    assert result.text == "信访事项告知书\n投诉人：王喆办理结果。"
    assert any("piece table" in warning for warning in result.warnings)


def test_password_protected_doc_is_encrypted(tmp_path: Path) -> None:
    """A .doc with the FIB's encryption flag ends as encrypted, not corrupt."""
    path = _word97(tmp_path, "密文" * 3000, encrypted=True)
    with pytest.raises(EncryptedDocumentError):
        DocExtractor().extract(path, "application/msword", ExtractContext())




def _corpus() -> list[tuple[Path, int]]:
    rows = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text().splitlines() if line]
    return sorted((CORPUS / row["shared_path"].removeprefix("corpus/"), row["measured"].get("han", 0))
                  for row in rows if row["group"].startswith("docx"))


@pytest.mark.parametrize(("path", "han"), _corpus(), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_every_corpus_docx_ends_in_text_or_a_named_error(path: Path, han: int, within: Callable[[int], AbstractContextManager[None]]) -> None:
    """Each real-world .docx yields an Extraction (with Han text where measured) or its named error."""
    with within(30):
        try:
            result = _extract(path)
        except IngestError as exc:
            assert type(exc) is ERROR_EXPECTED.get(path.name), f"{path.name}: {exc.reason}"
            return
    assert path.name not in ERROR_EXPECTED
    if han:
        # Not a count: provenance measured python-docx, which repeats merged table cells.
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
