"""PDF forms give what a person filled in, and nothing else (issue 13, item 1: nothing polluted).

A signed PDF's signature field holds a dictionary (/Type /Sig, /ByteRange, kilobytes of /Contents)
that used to be turned into "text" and indexed; XFA forms gave Adobe's "Please wait…" message
instead of their data. The PDFs here are written byte by byte, as signing tools and form
designers write them, so each test controls exactly which objects the file holds.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from pathlib import Path

import pytest

from ingest.extractors.pdf import PdfExtractor
from ingest.model import ExtractContext

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
NO_OCR = ExtractContext(ocr_enabled=False)
PLACEHOLDER = [
    "Please wait...",
    "If this message is not eventually replaced by the proper contents of the document, your PDF",
    "viewer may not be able to display this type of document.",
    "You can upgrade to the latest version of Adobe Reader for Windows\xae, Mac, or Linux\xae by",
    "visiting http://www.adobe.com/go/reader_download.",
    "For more assistance with Adobe Reader visit http://www.adobe.com/go/acrreader.",
    "Windows is either a registered trademark or a trademark of Microsoft Corporation in the United States",
    "and/or other countries. Mac is a trademark of Apple Inc., registered in the United States and other",
    "countries. Linux is the registered trademark of Linus Torvalds in the U.S. and other countries.",
]
DATASETS = """<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/">
<xfa:data><complaint>
<Complainant>王小明</Complainant>
<Subject>Water has leaked through the ceiling since March</Subject>
<Anonymous/>
<Photo xfa:contentType="image/jpg" href="">{photo}</Photo>
<Details xfa:contentType="text/html"><body xmlns="http://www.w3.org/1999/xhtml"><p>The management office
<b>never replied</b>.</p></body></Details>
</complaint></xfa:data>
<xfa:dataDescription xmlns:dd="http://ns.adobe.com/data-description/" dd:name="complaint"/>
</xfa:datasets>""".encode()
TEMPLATE = b"""<template xmlns="http://www.xfa.org/schema/xfa-template/2.8/"><subform name="complaint">
<field name="Subject"><caption><value><text>Subject of the complaint</text></value></caption>
<value><text>Type the subject here</text></value></field></subform></template>"""


@pytest.fixture(scope="module")
def extractor() -> PdfExtractor:
    return PdfExtractor()


def test_signature_field_never_becomes_text(extractor: PdfExtractor, tmp_path: Path) -> None:
    """GIVEN a signed complaint form: a text field, a checked and an unchecked box, and a signature
    field whose value is a /Sig dictionary with /ByteRange and 8 KB of /Contents
    WHEN it is extracted
    THEN the typed value and the checked box are text, and nothing of the signature is."""
    path = _write(tmp_path / "signed.pdf", _form_pdf([
        b"/FT /Tx /T (Complainant) /V " + _text("王小明"),
        b"/FT /Btn /T (Urgent) /V /Yes /AS /Yes",
        b"/FT /Btn /T (Anonymous) /V /Off /AS /Off",
        b"/FT /Sig /T (Signature1) /V SIG",
    ], signature=_signature()))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "Complainant: 王小明" in extraction.text
    assert "Urgent: Yes" in extraction.text
    assert "Anonymous" not in extraction.text
    assert not re.search(r"ByteRange|Contents|Signature1|/Sig|adbe", extraction.text)
    assert not re.search(r"[\x00-\x08\x0e-\x1f]|[0-9A-Fa-f]{64}", extraction.text)
    assert len(extraction.text) < 200
    assert extraction.metadata["form_fields"] == "2"
    assert extraction.warnings == ()


def test_binary_strings_in_text_fields_are_left_out(extractor: PdfExtractor, tmp_path: Path) -> None:
    """GIVEN text fields holding binary (control codes, a hex dump, base64) next to a real value
    WHEN the PDF is extracted
    THEN only the real value is text."""
    blob = bytes(range(256)) * 4
    path = _write(tmp_path / "binary.pdf", _form_pdf([
        b"/FT /Tx /T (Phone) /V (010-12345678)",
        b"/FT /Tx /T (Raw) /V " + _text("ok" + blob[:300].decode("latin-1")),
        b"/FT /Tx /T (Hex) /V (" + blob.hex().encode() + b")",
        b"/FT /Tx /T (Picture) /V (" + _base64(blob) + b")",
        b"/FT /Tx /T (Bytes) /V <" + hashlib.sha512(blob).hexdigest().encode() + b">",
    ]))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert extraction.text.endswith("Phone: 010-12345678")
    assert not re.search(r"Raw|Hex|Picture|Bytes", extraction.text)
    assert extraction.metadata["form_fields"] == "1"


def test_an_overlong_field_is_cut_with_a_warning(extractor: PdfExtractor, tmp_path: Path) -> None:
    """GIVEN a text field of 6,000 characters
    WHEN the PDF is extracted
    THEN it gives its first 4,000 characters and the outcome says it was cut."""
    path = _write(tmp_path / "long.pdf", _form_pdf([b"/FT /Tx /T (Facts) /V " + _text("漏水" * 3000)]))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert extraction.text.count("漏水") == 2000
    assert extraction.warnings == ("form field Facts: value cut to 4000 of 6000 characters",)


def test_choices_and_radio_buttons_give_what_was_chosen(extractor: PdfExtractor, tmp_path: Path) -> None:
    """GIVEN a multiple-choice list with two items chosen (export values with display texts) and a
    radio group set to "Post"
    WHEN the PDF is extracted
    THEN the display texts of the chosen items and the chosen button are text."""
    path = _write(tmp_path / "choices.pdf", _form_pdf([
        b"/FT /Ch /T (District) /Ff 2097152 /Opt [[(cy) (Chaoyang)] [(hd) (Haidian)] [(xc) (Xicheng)]] /V [(cy) (hd)]",
        b"/FT /Btn /T (Reply) /Ff 49152 /V /Post",
    ]))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "District: Chaoyang, Haidian" in extraction.text
    assert "Reply: Post" in extraction.text
    assert "Xicheng" not in extraction.text


@pytest.mark.parametrize("packets", ["array", "single stream"])
def test_xfa_form_gives_its_data_not_the_placeholder(extractor: PdfExtractor, tmp_path: Path, packets: str) -> None:
    """GIVEN an XFA form whose page shows Adobe's "Please wait…" message and whose datasets packet
    holds the filled-in values (a name, a subject, rich text, a photo)
    WHEN it is extracted
    THEN the data values are text, the message, the template's texts and the photo are not,
    and the outcome says the form's data was used."""
    photo = _base64(bytes(range(256)) * 8)
    datasets = DATASETS.replace(b"{photo}", photo)
    path = _write(tmp_path / "xfa.pdf", _form_pdf([], page=["Form 12-B", *PLACEHOLDER], xfa=(
        [(b"template", TEMPLATE), (b"datasets", datasets)] if packets == "array"
        else [(b"", b"<xdp:xdp xmlns:xdp=\"http://ns.adobe.com/xdp/\">" + TEMPLATE + datasets + b"</xdp:xdp>")])))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "Complainant: 王小明" in extraction.text
    assert "Subject: Water has leaked through the ceiling since March" in extraction.text
    assert "never replied" in extraction.text
    assert extraction.text.startswith("Form 12-B")
    assert not re.search(r"Please wait|eventually replaced|Adobe Reader|Linus|trademark", extraction.text)
    assert "Type the subject here" not in extraction.text and photo[:40].decode() not in extraction.text
    assert extraction.page_info[0].chars == len("Form 12-B")
    assert extraction.warnings == (
        "XFA form: Adobe's \"Please wait…\" placeholder text dropped; its data (3 values) is used instead",)


def test_please_wait_stays_in_a_document_that_is_not_a_form(extractor: PdfExtractor, tmp_path: Path) -> None:
    """GIVEN a plain PDF (no XFA) whose page quotes Adobe's message
    WHEN it is extracted
    THEN its text is kept: only an XFA form's placeholder is not the document's text."""
    path = _write(tmp_path / "quote.pdf", _form_pdf([], page=PLACEHOLDER))
    extraction = extractor.extract(path, "application/pdf", NO_OCR)
    assert "eventually replaced by the proper contents" in extraction.text
    assert extraction.warnings == ()


def test_corpus_signed_xfa_form_gives_its_data_once(extractor: PdfExtractor) -> None:
    """GIVEN a real government XFA form (govdocs1) that carries a signature (/ByteRange) and
    AcroForm fields mirroring its XFA data
    WHEN it is extracted
    THEN each filled-in value is text once, from the XFA data, and nothing of the signature."""
    extraction = extractor.extract(CORPUS / "pdf" / "tika__testPDF_XFA_govdocs1_258578.pdf", "application/pdf", NO_OCR)
    assert "School_Name: my_school" in extraction.text
    assert extraction.text.count("my_school") == 1
    assert "DropDownList1: 2:  Young Abraham Lincoln (Ranger Ed)" in extraction.text
    assert "ByteRange" not in extraction.text and "topmostSubform" not in extraction.text
    assert extraction.metadata["form_fields"] == "24"


# -- PDFs written as signing tools and form designers write them ------------------------------


def _text(value: str) -> bytes:
    """A PDF text string in UTF-16BE with its byte order mark, as forms store Chinese values."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"


def _base64(data: bytes) -> bytes:
    import base64

    return base64.b64encode(data)


def _signature() -> bytes:
    """A detached PKCS#7 signature dictionary: DER bytes, zero-padded as signers reserve space."""
    der = b"\x30\x82\x0b\xb8" + b"".join(hashlib.sha256(bytes([i])).digest() for i in range(94))
    contents = (der + bytes(8192 - len(der))).hex().upper().encode()
    return (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Name (Wang Xiaoming)"
            b" /M (D:20261207101500+08'00') /ByteRange [0 1024 17410 2048] /Contents <" + contents + b"> >>")


def _form_pdf(fields: list[bytes], *, page: list[str] | None = None, signature: bytes | None = None,
              xfa: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """One A4 page drawing ``page`` (lines of Helvetica) with an AcroForm of ``fields``.

    Objects: 1 catalog, 2 pages, 3 page, 4 font, 5 content, 6 AcroForm, 7 the signature value,
    8 an appearance stream, 9… the fields, then the XFA packets.
    """
    lines = page if page is not None else ["Complaint form"]
    content = b"BT /F1 9 Tf 40 800 Td 12 TL " + b"".join(
        b"(" + line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b") '"
        for line in lines) + b" ET"
    first = 9
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(len(fields)))
    xfa_first = first + len(fields)
    if xfa is None:
        xfa_entry = b""
    elif len(xfa) == 1:
        xfa_entry = b" /XFA %d 0 R" % xfa_first
    else:
        xfa_entry = b" /XFA [" + b" ".join(b"(%s) %d 0 R" % (name, xfa_first + i) for i, (name, _) in enumerate(xfa)) + b"]"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
         b" /Contents 5 0 R /Annots [" + refs + b"] >>"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        _stream(content),
        b"<< /Fields [" + refs + b"] /SigFlags 3" + xfa_entry + b" >>",
        signature or b"null",
        _stream(b""),
    ]
    for number, entries in enumerate(fields):
        objects.append(b"<< /Type /Annot /Subtype /Widget /Rect [40 %d 300 %d] /P 3 0 R /F 4 /AP << /N 8 0 R >> "
                       % (700 - 20 * number, 715 - 20 * number) + entries.replace(b" SIG", b" 7 0 R") + b" >>")
    objects.extend(_stream(zlib.compress(data), b"/Filter /FlateDecode") for _, data in xfa or [])
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return data + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
