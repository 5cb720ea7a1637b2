"""Format detection by content, never by extension."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.detect import DOC, DOCX, EML, OFD, PPT, PPTX, RTF, XLS, XLSX, ZIP, detect_media_type
from ingest.errors import UnsupportedFormatError
from ingest.extractors import extractor_for


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


# --- Issue #13, item 4: formats a Chinese complaint office receives -------------------------

def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buf.getvalue()


def _ole(*streams: str) -> bytes:
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()
    for stream in streams:
        writer.addEntry(stream, b"\0" * 64)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_zip_packages_are_told_apart_by_their_members() -> None:
    """GIVEN zips whose members make them a spreadsheet, a presentation, an OFD or nothing in particular
    WHEN detected (libmagic calls most of them plain zip, depending on member order)
    THEN each gets its own type, and an ordinary archive is application/zip."""
    assert detect_media_type(_zip("[Content_Types].xml", "xl/workbook.xml")) == XLSX
    assert detect_media_type(_zip("[Content_Types].xml", "ppt/presentation.xml")) == PPTX
    assert detect_media_type(_zip("OFD.xml", "Doc_0/Document.xml")) == OFD
    assert detect_media_type(_zip("信访材料/投诉信.txt", "照片.jpg")) == ZIP


def test_ole_files_are_told_apart_by_their_streams() -> None:
    """GIVEN compound files holding a Workbook (Excel 97, WPS .et), Book (Excel 95), WordDocument (WPS .wps)
    or PowerPoint Document stream
    WHEN detected
    THEN they are Excel, Word and PowerPoint files respectively."""
    assert detect_media_type(_ole("Workbook", "\x05SummaryInformation")) == XLS
    assert detect_media_type(_ole("Book")) == XLS
    assert detect_media_type(_ole("WordDocument", "1Table")) == DOC
    assert detect_media_type(_ole("PowerPoint Document", "Current User")) == PPT


def test_rtf_is_rtf_whatever_its_name(tmp_path: Path) -> None:
    """GIVEN an RTF file saved under a Word name (Word and WPS offer "save as .doc" in RTF)
    WHEN detected
    THEN it is RTF, not a Word 97 document, also behind a UTF-8 BOM some editors write,
    and an RTF reader takes it."""
    rtf = b"{\\rtf1\\ansi\\ansicpg936\\deff0 {\\fonttbl{\\f0 \\'cb\\'ce\\'cc\\'e5;}}\\f0 \\'cd\\'b6\\'cb\\'df}"
    p = tmp_path / "投诉信.doc"
    p.write_bytes(rtf)
    assert detect_media_type(p) == RTF
    assert detect_media_type(b"\xef\xbb\xbf" + rtf) == RTF
    assert extractor_for(RTF).name == "rtf"


def test_subtitles_without_a_bom_have_a_reader() -> None:
    """GIVEN SubRip and WebVTT subtitles without a byte-order mark (libmagic names them by syntax)
    WHEN detected and looked up in the registry
    THEN an extractor reads them as text, instead of filing them unsupported."""
    srt = "1\n00:00:01,000 --> 00:00:02,000\n我要投诉\n\n2\n00:00:03,000 --> 00:00:04,000\n物业不作为\n".encode()
    vtt = b"WEBVTT\n\n00:01.000 --> 00:04.000\nHello\n"
    for data in (srt, vtt):
        assert extractor_for(detect_media_type(data)).name == "text"


def test_formats_nothing_reads_are_named_in_the_outcome() -> None:
    """GIVEN a 7-Zip archive, a RAR archive and a PowerPoint 97 file (no reader for any)
    WHEN their extractor is asked for
    THEN the unsupported outcome says which format it is, not only a media type."""
    samples = {b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 64: "7-Zip", b"Rar!\x1a\x07\x01\x00" + b"\0" * 64: "RAR",
               _ole("PowerPoint Document", "Current User"): "PowerPoint 97-2003"}
    for data, name in samples.items():
        with pytest.raises(UnsupportedFormatError, match=name):
            extractor_for(detect_media_type(data))
