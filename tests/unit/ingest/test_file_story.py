"""Every file tells its own story (issue #13 item 7, ARC-5-02): what the libraries say while one
file is parsed lands in that file's warnings, not on stderr; every text gets its languages; a
password given for a format without one is reported; text kept for the index is bounded (item 8).

The worker entry (``ingest.workers._safe_extract``) runs in this process here: it is what each
parser process runs per file.
"""

from __future__ import annotations

import ctypes
import io
import logging
import os
import warnings
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from reportlab.pdfgen import canvas

from ingest.errors import CorruptDocumentError
from ingest.model import ExtractContext, Extraction, Limits
from ingest.workers import MAX_NOTES, _safe_extract, library_output, summarize_notes

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LETTER = "投诉书：承办律师三个月未联系当事人，拖延办理法律援助案件，请求更换律师并调查处理。" * 3
NO_OCR = ExtractContext(ocr_enabled=False)


def _pdf_without_eof_marker() -> bytes:
    """A readable one-page PDF whose end was cut off: pypdf says "EOF marker not found"."""
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Complaint about the legal aid lawyer")
    page.showPage()
    page.save()
    data = buf.getvalue()
    return data[:data.rfind(b"%%EOF")] + b"\n\n\n"


def _extraction(result: Extraction | Exception) -> Extraction:
    assert isinstance(result, Extraction), result
    return result


def test_library_chatter_is_captured_per_file_and_nothing_reaches_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """GIVEN a parse during which a library logs, warns, and C code writes to fd 2
    WHEN it runs inside library_output
    THEN each becomes a note naming its library, and stderr stays silent; our own log is untouched."""
    libc = ctypes.CDLL(None)
    with library_output() as said:
        logging.getLogger("pypdf._reader").warning("EOF marker not found")
        warnings.warn("Image size (300000000 pixels) exceeds limit", UserWarning, stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)   # about code, not the file: dropped
        libc.dprintf(2, b"Error in boxClipToRectangle: box outside rectangle\n")
        libc.dprintf(2, b"Error in boxClipToRectangle: box outside rectangle\n")
    err = capfd.readouterr().err
    assert "EOF marker" not in err and "boxClip" not in err and "exceeds limit" not in err
    assert "pypdf: EOF marker not found" in said
    assert "leptonica: Error in boxClipToRectangle: box outside rectangle" in said
    assert any(n.endswith(": Image size (300000000 pixels) exceeds limit") for n in said)
    assert not any("old API" in n for n in said)
    assert summarize_notes(said).count("leptonica: Error in boxClipToRectangle: box outside rectangle (2 times)") == 1


def test_notes_are_deduplicated_capped_in_length_and_number() -> None:
    """GIVEN a library that repeats itself and says too much
    WHEN the notes are summarised
    THEN repeats are counted once, each entry is short, and at most MAX_NOTES entries plus '… N more' remain."""
    notes = ["pypdf: same"] * 5 + [f"native: line {n} " + "x" * 500 for n in range(30)]
    out = summarize_notes(notes)
    assert out[0] == "pypdf: same (5 times)"
    assert len(out) == MAX_NOTES + 1 and out[-1] == f"… {31 - MAX_NOTES} more"
    assert all(len(n) <= 200 for n in out[:-1])


def test_damaged_pdf_names_its_library_warning_and_is_flagged(tmp_path: Path) -> None:
    """GIVEN a PDF whose EOF marker is missing (text still readable)
    WHEN the worker parses it
    THEN its warnings say 'pypdf: EOF marker not found' (outcome ok_with_warnings) and the text is there."""
    path = tmp_path / "cut.pdf"
    path.write_bytes(_pdf_without_eof_marker())
    result = _extraction(_safe_extract(path, PDF, NO_OCR))
    assert "pypdf: EOF marker not found" in result.warnings
    assert "Complaint about the legal aid lawyer" in result.text


def test_benign_library_notes_are_listed_without_changing_the_outcome() -> None:
    """GIVEN a PDF whose startxref pointer is off (pypdf repairs it, nothing lost)
    WHEN the worker parses it
    THEN the repair is a note (listed in the JSON warnings) but not a warning (outcome stays ok)."""
    result = _extraction(_safe_extract(CORPUS / "pdf" / "pdfjs__xref_command_missing.pdf", PDF, NO_OCR))
    assert result.warnings == ()
    assert any(n.startswith("pypdf: incorrect startxref pointer") for n in result.notes)


def test_a_file_that_fails_keeps_what_its_library_said() -> None:
    """GIVEN a PDF pypdf and PDFium cannot read
    WHEN the worker parses it
    THEN the error carries the library notes that preceded it (for the file's warnings list)."""
    result = _safe_extract(CORPUS / "pdf" / "pdfjs__REDHAT-1531897-0.pdf", PDF, NO_OCR)
    assert isinstance(result, CorruptDocumentError)
    assert any(n.startswith("pypdf: ") for n in result.library_notes)  # type: ignore[attr-defined]


def test_password_for_a_format_without_one_is_reported_for_top_level_files_only(tmp_path: Path) -> None:
    """GIVEN a password handed with a plain-text file
    WHEN it is parsed as a top-level file, and as an attachment of a container
    THEN the top-level file says the password was not used (a note: listed, but no review needed, since one
         password is given for a whole batch); the attachment says nothing about it."""
    path = tmp_path / "letter.txt"
    path.write_text(LETTER, encoding="utf-8")
    top = _extraction(_safe_extract(path, "text/plain", ExtractContext(password="secret", ocr_enabled=False)))
    assert "password given but text files take none; not used" in top.notes
    assert not top.warnings
    inner = _extraction(_safe_extract(path, "text/plain", ExtractContext(password="secret", ocr_enabled=False, depth=1)))
    assert not any("password" in w for w in (*inner.warnings, *inner.notes))


def _eml() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "zhang@example.cn", "office@example.cn", "投诉"
    msg.set_content(LETTER)
    return msg.as_bytes()


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(LETTER)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name, media_type, data", [
    ("letter.eml", "message/rfc822", _eml()),
    ("letter.docx", DOCX, _docx()),
    ("letter.txt", "text/plain", LETTER.encode("gb18030")),
])
def test_every_text_gets_its_languages(tmp_path: Path, name: str, media_type: str, data: bytes) -> None:
    """GIVEN a Chinese letter as e-mail, Word file or legacy-encoded text
    WHEN the worker parses it
    THEN its languages say zh-Hans (they were empty for these formats)."""
    path = tmp_path / name
    path.write_bytes(data)
    assert "zh-Hans" in _extraction(_safe_extract(path, media_type, NO_OCR)).languages


def test_text_kept_for_the_index_is_cut_with_a_recorded_warning(tmp_path: Path) -> None:
    """GIVEN a text longer than the limit of text kept per file
    WHEN the worker parses it
    THEN the text is cut at the limit and a warning says so (the original is kept whole)."""
    path = tmp_path / "long.txt"
    path.write_text("投诉" * 3000, encoding="utf-8")
    result = _extraction(_safe_extract(path, "text/plain", ExtractContext(limits=Limits(max_text_chars=1000))))
    assert len(result.text) == 1000
    assert "text cut at 1,000 characters for the index; the original is kept whole" in result.warnings


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_a_text_over_the_limit_is_read_as_a_prefix_that_still_decodes_cleanly(tmp_path: Path, encoding: str) -> None:
    """GIVEN a Chinese text file in UTF-8, GB18030 or UTF-16 far longer than the text kept per file
    WHEN it is parsed (only a bounded prefix of it is read)
    THEN the kept text is the file's own start, exactly the limit long, with the cut recorded and no
    charset guess caused by a character split at the cut."""
    path = tmp_path / "long.txt"
    path.write_bytes((LETTER + "\n").encode(encoding) * 200)
    result = _extraction(_safe_extract(path, "text/plain", ExtractContext(limits=Limits(max_text_chars=1000))))
    assert len(result.text) == 1000 and result.text.startswith(LETTER[:50])
    assert result.warnings == ("text cut at 1,000 characters for the index; the original is kept whole",)
    assert "zh-Hans" in result.languages


def test_a_saved_page_with_inline_pictures_keeps_its_body_text_when_cut(tmp_path: Path) -> None:
    """GIVEN a page saved by a browser whose pictures are inline data: URIs (5 KB, more bytes than the
    text kept per file allows) before the complaint's paragraph
    WHEN the worker parses it with 1,000 characters kept per file
    THEN the text kept is the page's visible text (the paragraph included), cut at the limit, and the
    warning names that character count."""
    picture = "data:image/png;base64," + "iVBORw0KGgo" * 500
    page = (f'<html><head><title>投诉</title><script>var tracker = "{"x" * 3000}";</script></head><body>'
            f'<img src="{picture}"><p>投诉内容：{LETTER * 10}</p></body></html>')
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    result = _extraction(_safe_extract(path, "text/html", ExtractContext(limits=Limits(max_text_chars=1000))))
    assert "投诉内容：投诉书：承办律师" in result.text and len(result.text) == 1000
    assert "tracker" not in result.text
    assert result.warnings == ("text cut at 1,000 characters for the index; the original is kept whole",)


def test_our_own_log_lines_stay_in_the_application_log_not_in_the_file_story(capfd: pytest.CaptureFixture[str]) -> None:
    """GIVEN the capture of what libraries say while a file is parsed
    WHEN our own code logs a warning meanwhile, and a C library floods fd 2 far beyond the capture's size
    THEN our line reaches the real stderr and is no note of the file; the flood is bounded, and fd 2 is restored."""
    from ingest.workers import library_output

    with library_output() as notes:
        logging.getLogger("ingest.extractors.doc").warning("own line for the application log")
        os.write(2, b"Error in boxClipToRectangle: box outside rectangle\n" * 5000)  # ~260 KB
    assert not any("own line" in n for n in notes)
    assert any(n.startswith("leptonica: Error in boxClipToRectangle") for n in notes)
    assert len(notes) < 2000    # only the first 64 KiB were kept
    os.write(2, b"after the capture\n")
    err = capfd.readouterr().err
    assert "own line for the application log" in err and "after the capture" in err
