"""Nothing silently missed in Word files (issue #13 item 2; ARC-1-06 true and complete):
altChunks, pictures, embedded objects, and legacy .doc handed over in memory."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from extract_msg.ole_writer import OleWriter
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen import canvas

from ingest.detect import detect_media_type
from ingest.extractors.word import DocExtractor, DocxExtractor
from ingest.model import ExtractContext, Extraction
from ingest.workers import extract

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

HTML_GBK = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
    "<title>导入</title></head><body><p>群众来信：小区夜间施工噪音扰民</p>"
    "<table><tr><td>来信人</td><td>李娜</td></tr></table></body></html>"
).encode("gbk")
MHT = (
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/related; boundary="----=_NextPart_01"\r\n\r\n'
    "------=_NextPart_01\r\n"
    "Content-Location: file:///C:/complaint.htm\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    'Content-Type: text/html; charset="gb2312"\r\n\r\n'
    "<html><body><p>=B5=E7=BB=B0=C0=B4=B7=C3=BC=C7=C2=BC</p></body></html>\r\n"   # 电话来访记录
    "------=_NextPart_01\r\n"
    "Content-Location: file:///C:/image001.png\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Type: image/png\r\n\r\n"
    "iVBORw0KGgo=\r\n"
    "------=_NextPart_01--\r\n"
).encode("ascii")


def _alt_chunk(document: docx.document.Document, name: str, content_type: str, blob: bytes,
               story: docx.oxml.xmlchemy.BaseOxmlElement | None = None) -> None:
    """Append a w:altChunk importing ``blob`` (as Word does when HTML or MHT is inserted)."""
    owner = document.part if story is None else document.sections[0].header.part
    part = Part(PackURI(f"/word/{name}"), content_type, blob, owner.package)
    rid = owner.relate_to(part, RT.A_F_CHUNK)
    parent = document.element.body if story is None else story
    element = parse_xml(f'<w:altChunk {_W} {_R} r:id="{rid}"/>')
    if story is None:
        parent.insert(len(parent) - 1, element)     # before the body's sectPr
    else:
        parent.append(element)


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Extraction:
    """A letter whose body imports an HTML page (GBK, by its meta tag) and an MHT web archive
    between its own paragraphs, and whose header imports a plain-text chunk."""
    document = docx.Document()
    document.add_paragraph("开头：信访事项登记")
    _alt_chunk(document, "afchunk1.htm", "text/html", HTML_GBK)
    document.add_paragraph("中间：承办意见")
    _alt_chunk(document, "afchunk2.mht", "message/rfc822", MHT)
    document.add_paragraph("结尾：市信访局")
    escaped = "".join(f"\\'{byte:02x}" for byte in "复查意见书".encode("gbk")).encode()
    _alt_chunk(document, "afchunk4.rtf", "application/rtf", b"{\\rtf1\\ansi\\ansicpg936 " + escaped + b"\\par}")
    _alt_chunk(document, "afchunk3.txt", "text/plain", "页眉导入：编号2026-013".encode("utf-16"),
               story=document.sections[0].header._element)
    path = tmp_path_factory.mktemp("chunks") / "chunks.docx"
    document.save(str(path))
    return DocxExtractor().extract(path, DOCX, ExtractContext())


def test_html_alt_chunk_text_is_decoded_by_its_charset_and_placed_where_it_stands(chunked: Extraction) -> None:
    """GIVEN a .docx importing an HTML page saved in GBK (declared only in its <meta>)
    WHEN it is extracted
    THEN the page's text is in the document text, decoded right, between the paragraphs around it."""
    text = chunked.text
    imported = text.index("群众来信：小区夜间施工噪音扰民")
    assert text.index("开头：信访事项登记") < imported < text.index("中间：承办意见")
    assert "来信人\t李娜" in text
    assert chunked.warnings == ()


def test_mht_alt_chunk_gives_the_text_of_its_html_part_in_place(chunked: Extraction) -> None:
    """GIVEN a .docx importing an MHT web archive (quoted-printable GB2312 HTML plus a picture)
    WHEN it is extracted
    THEN the archive's HTML text is in the document text at the chunk's position."""
    text = chunked.text
    assert text.index("中间：承办意见") < text.index("电话来访记录") < text.index("结尾：市信访局")


def test_rtf_alt_chunk_is_decoded_with_its_ansi_code_page(chunked: Extraction) -> None:
    """GIVEN a .docx importing an RTF fragment whose Chinese is \\'hh escapes in code page 936
    WHEN it is extracted
    THEN the fragment's text is in the document, after the paragraph it follows."""
    assert chunked.text.index("结尾：市信访局") < chunked.text.index("复查意见书")


def test_alt_chunk_in_a_header_is_read_too(chunked: Extraction) -> None:
    """GIVEN a header importing a UTF-16 plain-text chunk
    WHEN the document is extracted
    THEN the header's imported text is searchable."""
    assert "页眉导入：编号2026-013" in chunked.text


def test_alt_chunk_whose_part_is_missing_is_named_in_a_warning(tmp_path: Path) -> None:
    """GIVEN a .docx whose altChunk points to a part that is not in the package
    WHEN it is extracted
    THEN the body is read and a warning names the missing chunk (never a silent ok)."""
    document = docx.Document()
    document.add_paragraph("正文")
    _alt_chunk(document, "afchunk9.htm", "text/html", b"<p>x</p>")
    whole = tmp_path / "whole.docx"
    document.save(str(whole))
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            if info.filename != "word/afchunk9.htm":
                target.writestr(info, source.read(info))
    result = DocxExtractor().extract(broken, DOCX, ExtractContext())
    assert "正文" in result.text
    assert any("afchunk9.htm" in warning and "altChunk" in warning for warning in result.warnings)


@pytest.fixture(scope="module")
def pictured(tmp_path_factory: pytest.TempPathFactory, noto: Callable[[str], tuple[str, int]]) -> Extraction:
    """A .docx holding a screenshot of a Chinese notice between two paragraphs, and an icon."""
    font_path, index = noto("SC")
    picture = Image.new("L", (900, 140), 255)
    ImageDraw.Draw(picture).text((40, 40), "信访事项受理告知书", fill=0,
                                 font=ImageFont.truetype(font_path, 42, index=index))
    png = io.BytesIO()
    picture.save(png, "PNG")
    icon = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 0, 0)).save(icon, "PNG")
    document = docx.Document()
    document.add_paragraph("截图如下：")
    document.add_picture(io.BytesIO(png.getvalue()))
    document.add_picture(io.BytesIO(icon.getvalue()))
    document.add_paragraph("以上为截图。")
    path = tmp_path_factory.mktemp("pictures") / "pictured.docx"
    document.save(str(path))
    return DocxExtractor().extract(path, DOCX, ExtractContext())


def test_picture_text_is_ocrd_in_place_and_recorded_as_an_ocr_page(pictured: Extraction) -> None:
    """GIVEN a .docx with a picture of Chinese text (and a 32 px icon)
    WHEN it is extracted
    THEN the picture's text is OCR'd and placed at the picture, set off by blank lines but with
    no marker line (a search for "image" or "media" must not match every document with a
    picture), the OCR is recorded (page_info ocr=True with a confidence), and the icon is not OCR'd."""
    text = pictured.text
    assert "image" not in text and "media" not in text
    assert "\n\n信访事项受理告知书\n\n" in text
    assert text.index("截图如下：") < text.index("受理告知书") < text.index("以上为截图。")
    [page] = pictured.page_info
    assert page.ocr and page.confidence is not None and page.chars > 0
    assert "zh-Hans" in pictured.languages


def test_pictures_are_not_ocrd_when_ocr_is_off(tmp_path: Path) -> None:
    """GIVEN OCR switched off for the archive
    WHEN a .docx with a picture is extracted
    THEN no OCR runs and the body text is all there is."""
    document = docx.Document()
    document.add_paragraph("正文")
    picture = io.BytesIO()
    Image.effect_noise((300, 300), 64).convert("L").save(picture, "PNG")
    document.add_picture(picture)
    path = tmp_path / "off.docx"
    document.save(str(path))
    result = DocxExtractor().extract(path, DOCX, ExtractContext(ocr_enabled=False))
    assert result.text == "正文" and result.page_info == ()


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def _ole_package(ansi_label: bytes, data: bytes, unicode_label: str | None) -> bytes:
    """An embedded-file OLE object as Word and WPS write it: a compound file whose
    \\x01Ole10Native stream holds label, paths and the file (then UTF-16 copies since Office 2007)."""
    temp = b"C:\\Temp\\" + ansi_label + b"\x00"
    body = struct.pack("<H", 2) + ansi_label + b"\x00" + b"C:\\Users\\clerk\\Desktop\\" + ansi_label + b"\x00"
    body += struct.pack("<HHI", 0, 3, len(temp)) + temp + struct.pack("<I", len(data)) + data
    if unicode_label is not None:
        for value in ("C:\\Temp\\" + unicode_label, unicode_label, "C:\\Users\\clerk\\Desktop\\" + unicode_label):
            body += struct.pack("<I", len(value)) + value.encode("utf-16-le")
    writer = OleWriter()
    writer.addEntry("\x01CompObj", b"\x01\x00\xfe\xff\x03\x0a\x00\x00" + b"\x00" * 20 + b"Package\x00")
    writer.addEntry("\x01Ole10Native", struct.pack("<I", len(body)) + body)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _compound(streams: dict[str, bytes]) -> bytes:
    """A compound file holding these top-level streams."""
    writer = OleWriter()
    for name, data in streams.items():
        writer.addEntry(name, data)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Extraction:
    """A .docx embedding two OLE Packages (PDFs, Unicode and GBK-only names), an Acrobat object
    and an Outlook message object, as word/embeddings/oleObject1-4.bin."""
    document = docx.Document()
    document.add_paragraph("附件见对象")
    path = tmp_path_factory.mktemp("embedded") / "objects.docx"
    document.save(str(path))
    with zipfile.ZipFile(path, "a") as package:
        package.writestr("word/embeddings/oleObject1.bin",
                         _ole_package("complaint.pdf".encode(), _pdf("Complaint of Li Na"), "投诉材料.pdf"))
        package.writestr("word/embeddings/oleObject2.bin",
                         _ole_package("回复意见.pdf".encode("gbk"), _pdf("Reply"), None))
        # An Acrobat document object keeps its PDF in a CONTENTS stream.
        package.writestr("word/embeddings/oleObject3.bin", _compound({"CONTENTS": _pdf("Acrobat object")}))
        # An Outlook message dragged into Word is stored as the .msg compound file itself.
        package.writestr("word/embeddings/oleObject4.bin", _compound({
            "__substg1.0_0037001F": "关于小区噪音的投诉".encode("utf-16-le"),
            "__properties_version1.0": b"\x00" * 32,
        }))
    return DocxExtractor().extract(path, DOCX, ExtractContext())


def test_ole_package_yields_the_embedded_file_under_its_own_name(embedded: Extraction) -> None:
    """GIVEN a .docx with a PDF dropped into it (an OLE Package object, oleObject1.bin)
    WHEN it is extracted
    THEN the attachment is the PDF itself, named as on the sender's disk, and detected as a PDF."""
    files = {a.filename: a.data for a in embedded.attachments}
    assert files["投诉材料.pdf"].startswith(b"%PDF")
    assert detect_media_type(files["投诉材料.pdf"]) == "application/pdf"


def test_ole_package_without_unicode_name_has_its_gbk_name_decoded(embedded: Extraction) -> None:
    """GIVEN a Package written by older Word/WPS: the file name only in the ANSI (GBK) code page
    WHEN it is extracted
    THEN the attachment's name is the Chinese name, not mojibake."""
    assert "回复意见.pdf" in {a.filename for a in embedded.attachments}


def test_equation_objects_and_pasted_charts_are_notes_not_warnings_or_documents(tmp_path: Path) -> None:
    """GIVEN a report with an Equation 3.0 object (word/embeddings) and a large EMF picture (an
    Excel chart pasted into Word, as reports often have)
    WHEN it is extracted
    THEN the equation is not filed as an (unsupported) child document and the chart does not
    flag the report for review: both are notes (listed, outcome unchanged)."""
    document = docx.Document()
    document.add_paragraph("统计报告")
    path = tmp_path / "report.docx"
    document.save(str(path))
    equation = _compound({"\x01CompObj": b"\x01\x00\xfe\xff\x03\x0a\x00\x00" + b"\xff" * 4
                          + bytes.fromhex("02ce020000000000c000000000000046")
                          + b"\x0e\x00\x00\x00Equation 3.0\x00\x00\x0b\x00\x00\x00Equation.3\x00",
                          "Equation Native": b"\x1c\x00" + b"\x00" * 60})
    emf = struct.pack("<II4i4i4sIIIHHIII2i2i", 1, 108, 0, 0, 100, 100, 0, 0, 2540, 2540, b" EMF",
                      0x10000, 70_000, 1, 0, 0, 0, 0, 0, 1024, 768, 320, 240).ljust(70_000, b"\0")
    with zipfile.ZipFile(path, "a") as package:
        package.writestr("word/embeddings/oleObject1.bin", equation)
        package.writestr("word/media/image1.emf", emf)
    result = DocxExtractor().extract(path, DOCX, ExtractContext())
    assert result.text == "统计报告"
    assert result.attachments == () and result.warnings == ()
    assert set(result.notes) == {"1 embedded equation object(s) not filed",
                                 "picture word/media/image1.emf: vector picture (EMF/WMF) not OCR'd"}


def test_acrobat_object_yields_its_pdf(embedded: Extraction) -> None:
    """GIVEN an Acrobat document object (the PDF in a CONTENTS stream)
    WHEN it is extracted
    THEN the PDF comes out as the attachment, never an OLE storage nothing reads."""
    files = {a.filename: a.data for a in embedded.attachments}
    assert files["oleObject3.pdf"].startswith(b"%PDF")
    assert detect_media_type(files["oleObject3.pdf"]) == "application/pdf"


def test_outlook_message_object_is_filed_as_a_message(embedded: Extraction) -> None:
    """GIVEN an Outlook message embedded as an OLE storage (the object is the .msg itself)
    WHEN the document is extracted
    THEN it comes out named .msg and is detected as an Outlook message, to be opened as a child."""
    files = {a.filename: a.data for a in embedded.attachments}
    assert detect_media_type(files["oleObject4.msg"]) == "application/vnd.ms-outlook"


def test_corpus_wps_objects_come_out_as_the_files_inside() -> None:
    """GIVEN a real WPS document embedding a text file, a PDF, an XML file (Packages), a Word 97
    document, Excel 97/2007 workbooks and PowerPoint objects
    WHEN it is extracted
    THEN each object is the file it holds, and none is an OLE storage that nothing reads."""
    result = DocxExtractor().extract(CORPUS / "docx" / "tika__testWPSAttachment.docx", DOCX, ExtractContext())
    names = {a.filename for a in result.attachments}
    assert {"TXT.txt", "PDF.pdf", "XML.xml", "oleObject4.doc", "oleObject6.xls", "oleObject7.xlsx"} <= names
    types = {a.filename: detect_media_type(a.data) for a in result.attachments}
    assert types["PDF.pdf"] == "application/pdf" and types["oleObject4.doc"] == "application/msword"
    assert "application/x-ole-storage" not in types.values()


def test_legacy_doc_in_memory_is_read_by_antiword_without_fallback() -> None:
    """GIVEN a Word 97-2003 attachment handed to the worker as bytes (an in-memory memfd)
    WHEN it is extracted
    THEN antiword reads it (no "antiword failed … can't open" fallback warning) and the text is there."""
    with zipfile.ZipFile(CORPUS / "docx" / "poi__WordWithAttachments.docx") as package:
        data = package.read("word/embeddings/_________Microsoft_Office_Word_97_-_20031.doc")
    result = extract(data, "application/msword", ExtractContext())
    assert "Second document" in result.text and "Дубль документа" in result.text
    assert not any("antiword failed" in warning for warning in result.warnings)


def test_word_extractors_take_a_password() -> None:
    """GIVEN the worker's check that a password was given to a format that can use it
    WHEN it asks the Word extractors
    THEN both say they take one (encrypted .docx and RC4 .doc open with it)."""
    assert DocxExtractor.takes_password is True and DocExtractor.takes_password is True
