"""PDF: text layer by PDFium (right for CJK, fast), OCR for scanned pages, structure by pypdf.

pypdf reads what PDFium does not expose well: document info, encryption, form field values
and embedded files. PDFium (pypdfium2) extracts each page's text and renders pages that have
no usable text layer for OCR. Either library may fail on a damaged file where the other copes;
the extractor uses what works and says so in a warning.

Form fields add only what a person filled in (never a signature's /Contents or other binary);
an XFA form adds the values of its data packet, and Adobe's "Please wait…" page text, shown by
viewers that cannot draw XFA, is not taken as the document's text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pypdf
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import Image
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject, StreamObject

from ingest.errors import CorruptDocumentError, EncryptedDocumentError
from ingest.language import count_scripts, join_cjk
from ingest.model import Attachment, ExtractContext, Extraction, PageInfo
from ingest.ocr import default_engine, read_page, scripts_to_languages

if TYPE_CHECKING:
    from ingest.interfaces import Extractor, OcrEngine

__all__ = ["PdfExtractor"]

log = logging.getLogger(__name__)

# pypdf documents that broken files "might cause other exceptions" than PdfReadError.
_PYPDF_ERRORS = (
    pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
    AssertionError, RecursionError, OSError, NotImplementedError, ZeroDivisionError, UnicodeError,
)
_PDFIUM_PASSWORD_ERROR = 4          # FPDF_ERR_PASSWORD
_INFO_KEYS = {"/Title": "title", "/Author": "author", "/Subject": "subject", "/Keywords": "keywords",
              "/Creator": "creator", "/Producer": "producer"}
# A text layer of fewer visible characters than this is not the page's text: a scan with a
# stamped page number, or nothing at all.
_MIN_TEXT_CHARS = 10
# Above this share of undecodable characters (U+FFFD, private use, control codes) the text layer
# comes from fonts without a Unicode map: the page is read by OCR instead.
_MAX_GARBAGE_SHARE = 0.3
# Pages drawn with this many vector paths and no text are probably text turned into outlines.
_MIN_OUTLINE_PATHS = 300
# One form field gives at most this many characters of text; the rest is cut, with a warning.
_MAX_FIELD_CHARS = 4000
# A field value with more than this share of control, private-use or unassigned characters is
# binary decoded as text (a signature's zero-padded /Contents, an image), not what anyone typed.
_MAX_BINARY_SHARE = 0.1
_HEX_DUMP = re.compile(r"[0-9A-Fa-f]{64,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{256,}={0,2}")
_XFA_DATA_NAMESPACE = "http://www.xfa.org/schema/xfa-data/"
# What Adobe writes on the page of an XFA form for viewers that cannot render XFA (two
# generations of it). Matched with any spacing, ® optional: text layers lose both.
_XFA_PLACEHOLDER_MARKERS = (
    "If this message is not eventually replaced by the proper contents of the document",
    "To view the full contents of this document, you need a later version of the PDF viewer.",
)
_XFA_PLACEHOLDER_SENTENCES = (
    "Please wait...",
    "If this message is not eventually replaced by the proper contents of the document, your PDF viewer "
    "may not be able to display this type of document.",
    "You can upgrade to the latest version of Adobe Reader for Windows®, Mac, or Linux® by visiting "
    "http://www.adobe.com/go/reader_download.",
    "For more assistance with Adobe Reader visit http://www.adobe.com/go/acrreader.",
    "Windows is either a registered trademark or a trademark of Microsoft Corporation in the United States "
    "and/or other countries. Mac is a trademark of Apple Inc., registered in the United States and other "
    "countries. Linux is the registered trademark of Linus Torvalds in the U.S. and other countries.",
    "To view the full contents of this document, you need a later version of the PDF viewer.",
    "You can upgrade to the latest version of Adobe Reader from www.adobe.com/products/acrobat/readstep2.html",
    "For further support, go to www.adobe.com/support/products/acrreader.html",
)


@dataclass
class _Document:
    """What the two libraries made of one file."""

    pdfium: pdfium.PdfDocument | None = None
    pypdf: pypdf.PdfReader | None = None
    pdfium_error: str = ""
    pypdf_error: str = ""
    password_refused: bool = False
    warnings: list[str] = field(default_factory=list)


class PdfExtractor:
    """Extracts the text of PDFs, OCR'ing pages that are scans or whose text is undecodable.

    Pages beyond ``limits.max_pages`` are not read: the first ones are kept and a warning says
    so (the original is filed whole either way). Encrypted files are opened with the empty
    password, then ``context.password``; permission flags (no copying) are not enforced, since
    the archive must hold the text of what it files.

    Args:
        ocr: The OCR engine; the process's shared :class:`ingest.ocr.TesseractOcrEngine` when
            ``None``.
        render_dpi: Resolution pages are rendered at for OCR.
        max_render_side: Longest side of a rendered page, in pixels (bounds memory and time for
            posters and other huge pages).
    """

    name: ClassVar[str] = "pdf"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/pdf"})
    takes_password: ClassVar[bool] = True

    def __init__(self, ocr: OcrEngine | None = None, *, render_dpi: int = 300, max_render_side: int = 4000) -> None:
        self._ocr: OcrEngine = ocr if ocr is not None else default_engine()
        self._render_dpi = render_dpi
        self._max_render_side = max_render_side

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Extract text, pages, metadata, form values and embedded files of one PDF.

        Raises:
            EncryptedDocumentError: encrypted, and neither the empty password nor
                ``context.password`` opens it.
            CorruptDocumentError: neither PDFium nor pypdf can read it.
        """
        with _library_warnings_logged():
            document = _open(source, context)
            try:
                return self._extract(document, context)
            finally:
                if document.pdfium is not None:
                    document.pdfium.close()

    def _extract(self, document: _Document, context: ExtractContext) -> Extraction:
        problems = document.warnings
        texts: list[str] = []
        infos: list[PageInfo] = []
        models: list[tuple[str, int]] = []
        total = len(document.pdfium) if document.pdfium is not None else _pypdf_page_count(document)
        if total > context.limits.max_pages:
            problems.append(f"only the first {context.limits.max_pages} of {total} pages were read (page limit)")
        xfa = _is_xfa(document)
        placeholders = 0
        for number in range(1, min(total, context.limits.max_pages) + 1):
            text, info, page_problems = self._page(document, number, context)
            if xfa:
                # An XFA form's page says "Please wait…" to viewers that cannot draw it: not its text.
                text, dropped = _without_xfa_placeholder(text)
                if dropped:
                    placeholders += 1
                    info = replace(info, chars=len(text))
            texts.append(text)
            infos.append(info)
            problems.extend(page_problems)
            if info.ocr and info.language:
                models.append((info.language, count_scripts(text).han))
        metadata = _metadata(document)
        attachments = _attachments(document, context, problems)
        lines = _form_lines(document, xfa, context, problems)
        if placeholders:
            data = f"its data ({len(lines)} values)" if lines else "its data (none filled in)"
            problems.append(f"XFA form: Adobe's \"Please wait…\" placeholder text dropped; {data} is used instead")
        if lines:
            form = "\n".join(f"{name}: {value}" for name, value in lines)
            # After the last page, not as a page of its own: "\f" still separates pages only.
            metadata["form_fields"] = str(len(lines))
            texts = [*texts[:-1], f"{texts[-1]}\n\n{form}" if texts else form]
        # "\f" between pages, as pdftotext does; blank pages stay, so page N is chunk N.
        text = "\f".join(texts) if any(t.strip() for t in texts) else ""
        return Extraction(
            text=text,
            pages=total,
            languages=scripts_to_languages(count_scripts(text), models),
            metadata=metadata,
            page_info=tuple(infos),
            warnings=tuple(problems),
            attachments=attachments,
        )

    def _page(self, document: _Document, number: int, context: ExtractContext) -> tuple[str, PageInfo, list[str]]:
        if document.pdfium is None:
            text = _pypdf_page_text(document, number)
            return text, PageInfo(number=number, chars=len(text)), []
        try:
            page = document.pdfium[number - 1]
        except pdfium.PdfiumError as exc:
            return "", PageInfo(number=number, chars=0), [f"page {number}: unreadable ({exc})"]
        try:
            return self._pdfium_page(page, number, context)
        except pdfium.PdfiumError as exc:
            return "", PageInfo(number=number, chars=0), [f"page {number}: unreadable ({exc})"]
        finally:
            page.close()

    def _pdfium_page(
        self, page: pdfium.PdfPage, number: int, context: ExtractContext
    ) -> tuple[str, PageInfo, list[str]]:
        """The text layer, or OCR when there is none (a scan) or it is undecodable."""
        text = _layer_text(page)
        visible = sum(1 for char in text if not char.isspace())
        garbled = count_scripts(text).garbage > _MAX_GARBAGE_SHARE * visible > 0
        if not garbled and (visible >= _MIN_TEXT_CHARS or not _looks_scanned(page)):
            return text, PageInfo(number=number, chars=len(text)), []
        if garbled:  # whatever happens next, undecodable characters are not text
            text = "".join(char for char in text if char.isspace() or not count_scripts(char).garbage)
        if not context.ocr_enabled:
            problems = [f"page {number}: text not decodable, OCR off"] if garbled else []
            return text, PageInfo(number=number, chars=len(text)), problems
        image, problem = self._render(page, context)
        if image is None:
            return text, PageInfo(number=number, chars=len(text)), [f"page {number}: {problem}"]
        reading = read_page(self._ocr, image, number, context)
        # A scan with a stamped page number: the OCR text is the page's text.
        if garbled or len(reading.text.strip()) > visible:
            return reading.text, reading.info, list(reading.warnings)
        return text, PageInfo(number=number, chars=len(text)), []

    def _render(self, page: pdfium.PdfPage, context: ExtractContext) -> tuple[Image.Image | None, str]:
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
            width, height = image.get_px_size()
            if width * height > context.limits.max_image_pixels:
                return None, f"image of {width}x{height} pixels too large to render for OCR"
        width, height = page.get_size()
        scale = min(self._render_dpi / 72, self._max_render_side / max(width, height, 1))
        try:
            bitmap = page.render(scale=scale, grayscale=True)
        except pdfium.PdfiumError as exc:
            return None, f"cannot render for OCR ({exc})"
        image = bitmap.to_pil().copy()  # to_pil() shares the bitmap's buffer, freed with it
        image.info["dpi"] = (scale * 72, scale * 72)
        return image, ""


def _pdfium_document(source: Path, password: str | None) -> pdfium.PdfDocument:
    """Open through a file object, not the path: pypdfium2 resolves paths, and an in-memory part
    (``/proc/self/fd/N`` of a memfd) resolves to ``/memfd:… (deleted)``, which cannot be opened."""
    f = open(source, "rb")  # noqa: SIM115 - pdfium closes it with the document (autoclose)
    try:
        return pdfium.PdfDocument(f, password=password, autoclose=True)
    except BaseException:
        f.close()
        raise


def _open(source: Path, context: ExtractContext) -> _Document:
    """Open with both libraries, trying the empty password and then ``context.password``."""
    document = _Document()
    passwords: list[str | None] = [None, context.password] if context.password else [None]
    for password in passwords:
        try:
            document.pdfium = _pdfium_document(source, password)
            break
        except pdfium.PdfiumError as exc:
            if exc.err_code != _PDFIUM_PASSWORD_ERROR:
                document.pdfium_error = str(exc)
                break
            document.password_refused = True
            document.pdfium_error = "password refused"
    try:
        reader = pypdf.PdfReader(source, strict=False)
        if reader.is_encrypted and not _decrypt(reader, passwords):
            document.password_refused = document.password_refused or document.pdfium is None
            document.pypdf_error = "cannot decrypt"
        else:
            len(reader.pages)  # reads the page tree: the first thing a damaged file breaks
            document.pypdf = reader
    except _PYPDF_ERRORS as exc:
        document.pypdf_error = _short(exc)
    if document.pdfium is None and document.pypdf is None:
        if document.password_refused:
            reason = "wrong password" if context.password else "password required"
            raise EncryptedDocumentError(f"encrypted: {reason}")
        reason = _short_pdfium(document.pdfium_error) or "unreadable"
        raise CorruptDocumentError(f"corrupt: {reason} (pypdf: {document.pypdf_error})")
    if document.pdfium is None:
        reason = _short_pdfium(document.pdfium_error)
        document.warnings.append(f"PDFium cannot read this file ({reason}); text by pypdf, no OCR")
    elif document.pypdf is None:
        document.warnings.append(f"pypdf cannot read this file ({document.pypdf_error}); no metadata or form fields")
    return document


def _decrypt(reader: pypdf.PdfReader, passwords: list[str | None]) -> bool:
    for password in passwords:
        try:
            if reader.decrypt(password or "") != pypdf.PasswordType.NOT_DECRYPTED:
                return True
        except _PYPDF_ERRORS as exc:  # unsupported security handler, broken /Encrypt
            log.info("pypdf cannot decrypt: %s", exc)
            return False
    return False


def _layer_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    lines = (join_cjk(line).rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(lines).strip("\n")


def _looks_scanned(page: pdfium.PdfPage) -> bool:
    """Whether a page without a text layer draws something OCR could read."""
    paths = 0
    for obj in page.get_objects(max_depth=4):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return True
        if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            paths += 1
            if paths >= _MIN_OUTLINE_PATHS:
                return True
    return False


def _pypdf_page_count(document: _Document) -> int:
    return len(document.pypdf.pages) if document.pypdf is not None else 0


def _pypdf_page_text(document: _Document, number: int) -> str:
    assert document.pypdf is not None
    try:
        text = document.pypdf.pages[number - 1].extract_text()
    except _PYPDF_ERRORS as exc:
        log.info("pypdf cannot extract page %d: %s", number, exc)
        return ""
    return "\n".join(join_cjk(line).rstrip() for line in text.splitlines()).strip("\n")


def _metadata(document: _Document) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if document.pdfium is not None:
        version = document.pdfium.get_version()
        if version:
            metadata["pdf_version"] = f"{version // 10}.{version % 10}"
    reader = document.pypdf
    if reader is None:
        return metadata
    if reader.is_encrypted:
        metadata["encrypted"] = "yes"
    try:
        info = reader.metadata
        if info is None:
            return metadata
        for key, name in _INFO_KEYS.items():
            value = info.get(key)
            if isinstance(value, str) and value.strip():
                metadata[name] = value.strip().replace("\x00", "")
        for attribute, name in (("creation_date", "date"), ("modification_date", "modified")):
            try:
                moment = getattr(info, attribute)
            except _PYPDF_ERRORS:  # a date pypdf cannot parse: keep it as written
                moment = info.get("/CreationDate" if name == "date" else "/ModDate")
            if moment:
                metadata[name] = moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
    except _PYPDF_ERRORS as exc:
        log.info("pypdf cannot read the document info: %s", exc)
    return metadata


def _form_lines(
    document: _Document, xfa: bool, context: ExtractContext, problems: list[str]
) -> list[tuple[str, str]]:
    """What a person filled in, as (field, value) pairs; PDFium's text layer lacks it.

    Only human values count: text fields as given, the chosen items of choice fields, checked
    buttons by their export value. Never a signature field (its value is a dictionary holding
    /ByteRange and kilobytes of /Contents), never other objects, never binary read as text.
    An XFA form's values are its data packet, which the AcroForm fields (when there are any)
    only mirror; they are used when the packet holds any.
    """
    if document.pypdf is None:
        return []
    pairs = _xfa_data(document, context, problems) if xfa else []
    if not pairs:
        pairs = _acroform_values(document)
    lines: list[tuple[str, str]] = []
    for name, raw in pairs:
        value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not value or _looks_binary(value):
            continue
        if len(value) > _MAX_FIELD_CHARS:
            problems.append(f"form field {name[:80]}: value cut to {_MAX_FIELD_CHARS} of {len(value)} characters")
            value = value[:_MAX_FIELD_CHARS]
        lines.append((name, value))
    return lines


def _acroform_values(document: _Document) -> list[tuple[str, str]]:
    assert document.pypdf is not None
    try:
        fields = document.pypdf.get_fields() or {}
    except _PYPDF_ERRORS as exc:
        log.info("pypdf cannot read the form: %s", exc)
        return []
    pairs: list[tuple[str, str]] = []
    for name, form_field in fields.items():
        if not isinstance(form_field, DictionaryObject):
            continue
        try:
            kind = _field_kind(form_field)
            if kind == "/Sig":  # a signature is verified, not read
                continue
            options = form_field.get("/Opt")
            values = _human_values(form_field.get("/V"), kind, options if isinstance(options, ArrayObject) else None)
        except _PYPDF_ERRORS as exc:  # a broken reference inside one field spoils that field only
            log.info("pypdf cannot read a form field: %s", _short(exc))
            continue
        if values:
            pairs.append((str(name), ", ".join(values)))
    return pairs


def _field_kind(form_field: DictionaryObject) -> str | None:
    """/Tx, /Ch, /Btn or /Sig; inherited from the parent field when the field does not say."""
    kind = form_field.get("/FT")
    reference = getattr(form_field, "indirect_reference", None)
    node = reference.get_object() if reference is not None else None
    for _ in range(32):  # field trees are shallow; a /Parent cycle must not loop
        if kind is not None or not isinstance(node, DictionaryObject):
            break
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
        kind = node.get("/FT") if isinstance(node, DictionaryObject) else None
    return str(kind) if kind is not None else None


def _human_values(value: object, kind: str | None, options: ArrayObject | None) -> list[str]:
    """The strings in a field's /V that someone typed or chose; nothing for any other object."""
    if isinstance(value, ArrayObject):  # the items chosen in a multiple-choice list
        if kind not in ("/Ch", None):
            return []
        return [text for item in value if isinstance(item, str | bytes) for text in _human_values(item, kind, options)]
    if isinstance(value, NameObject):
        # Buttons: unchecked is /Off, checked is the export name ("/Yes"), or an index into /Opt.
        name = str(value)[1:]
        if not name or name == "Off":
            return []
        return [_option_text(name, options, index=kind == "/Btn")]
    if isinstance(value, ByteStringObject):
        # Bytes that are not PDFDocEncoding: human text only if they are UTF-8 (sloppy producers).
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return []
        value = str(value)
    if isinstance(value, str):  # TextStringObject
        if kind == "/Btn" and value in ("Off", ""):
            return []
        return [_option_text(value, options, index=False) if kind == "/Ch" else value]
    return []  # dictionaries (a /Sig value), streams, numbers, null: not a person's input


def _option_text(value: str, options: ArrayObject | None, *, index: bool) -> str:
    """The display text of an export value, from a field's /Opt when it has one."""
    if not options:
        return value
    if index and value.isdigit() and int(value) < len(options):
        item = options[int(value)]
        return str(item) if isinstance(item, str) else value
    for item in options:
        # A choice field's /Opt holds either texts or [export value, display text] pairs.
        if isinstance(item, ArrayObject) and len(item) == 2 and str(item[0]) == value and isinstance(item[1], str):
            return str(item[1])
    return value


def _looks_binary(value: str) -> bool:
    """Whether a string is binary data that happens to decode: control codes, hex or base64."""
    sample = value[: _MAX_FIELD_CHARS * 4]
    odd = sum(1 for char in sample if char not in "\t\n\r" and (
        char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn")))
    if odd > _MAX_BINARY_SHARE * len(sample):
        return True
    compact = "".join(sample.split())
    # Hex dumps may be spaced; base64 (an image in XFA data) has line breaks but no spaces.
    return bool(_HEX_DUMP.fullmatch(compact) or (" " not in sample and _BASE64.fullmatch(compact)))


def _is_xfa(document: _Document) -> bool:
    """Whether the document is an XFA form: its /AcroForm carries an /XFA entry."""
    if document.pypdf is None:
        return False
    try:
        form = document.pypdf.root_object.get("/AcroForm")
        form = form.get_object() if form is not None else None
        return isinstance(form, DictionaryObject) and form.get("/XFA") is not None
    except _PYPDF_ERRORS as exc:
        log.info("pypdf cannot read the form: %s", _short(exc))
        return False


def _xfa_data(document: _Document, context: ExtractContext, problems: list[str]) -> list[tuple[str, str]]:
    """Field values of an XFA form, from its datasets packet (<xfa:datasets>/<xfa:data>).

    The template packet holds labels and placeholder texts, which are not what was filled in.
    """
    assert document.pypdf is not None
    try:
        packet = _xfa_datasets(document)
        if packet is None:
            return []
        if len(packet) > context.limits.max_expanded_bytes:
            problems.append("XFA form data over the size limit was not read")
            return []
        return _xfa_values(packet)
    except _PYPDF_ERRORS as exc:
        problems.append(f"XFA form data unreadable ({_short(exc)})")
    except Exception as exc:  # lxml.etree.XMLSyntaxError, imported lazily
        problems.append(f"XFA form data is not well-formed XML ({_short(exc)})")
    return []


def _xfa_datasets(document: _Document) -> bytes | None:
    """The datasets packet: one named stream of the /XFA array, or inside the single XDP stream."""
    assert document.pypdf is not None
    form = document.pypdf.root_object["/AcroForm"].get_object()
    if not isinstance(form, DictionaryObject):
        return None
    xfa = form["/XFA"].get_object()
    if isinstance(xfa, StreamObject):
        return bytes(xfa.get_data())
    if not isinstance(xfa, ArrayObject):
        return None
    for position in range(0, len(xfa) - 1, 2):  # [name, stream, name, stream, ...]
        if str(xfa[position]) == "datasets":
            stream = xfa[position + 1].get_object()
            return bytes(stream.get_data()) if isinstance(stream, StreamObject) else None
    return None


def _xfa_values(packet: bytes) -> list[tuple[str, str]]:
    from lxml import etree  # type: ignore[import-untyped]

    # No entity expansion, no network: a form's XML is as untrusted as the rest of the file.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    root = etree.fromstring(packet, parser)
    if root is None:
        return []
    data = next((element for element in root.iter() if isinstance(element.tag, str)
                 and etree.QName(element).localname == "data"
                 and (etree.QName(element).namespace or "").startswith(_XFA_DATA_NAMESPACE)), None)
    if data is None:
        return []
    pairs: list[tuple[str, str]] = []
    walker = etree.iterwalk(data, events=("start",))
    for _event, element in walker:
        if element is data or not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        content_type = next((v for k, v in element.attrib.items() if k.rpartition("}")[2] == "contentType"), None)
        if content_type is not None:  # rich text keeps its words; images and other payloads none
            walker.skip_subtree()
            if content_type.startswith("text/"):
                pairs.append((name, "".join(element.itertext())))
        elif len(element) == 0 and element.text:
            pairs.append((name, element.text))
    return pairs


def _without_xfa_placeholder(text: str) -> tuple[str, bool]:
    """The page text without Adobe's "Please wait…" message; whether there was one."""
    if not any(_XFA_PLACEHOLDER_PATTERNS[marker].search(text) for marker in _XFA_PLACEHOLDER_MARKERS):
        return text, False
    for sentence in _XFA_PLACEHOLDER_SENTENCES:
        text = _XFA_PLACEHOLDER_PATTERNS[sentence].sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text, True


def _spacing_tolerant(sentence: str) -> re.Pattern[str]:
    words = (re.escape(word).replace("®", "®?").replace(r"\.\.\.", r"(?:\.\.\.|…)?") for word in sentence.split())
    return re.compile(r"\s*".join(words))


_XFA_PLACEHOLDER_PATTERNS = {
    sentence: _spacing_tolerant(sentence) for sentence in (*_XFA_PLACEHOLDER_MARKERS, *_XFA_PLACEHOLDER_SENTENCES)
}


def _attachments(document: _Document, context: ExtractContext, problems: list[str]) -> tuple[Attachment, ...]:
    """Embedded files (PDF portfolios, attached evidence), within the attachment limits."""
    if document.pypdf is None:
        return ()
    limits = context.limits
    found: list[Attachment] = []
    size = 0
    try:
        for name, contents in document.pypdf.attachments.items():
            for data in contents:
                if len(found) >= limits.max_attachments or size + len(data) > limits.max_expanded_bytes:
                    problems.append("embedded files over the attachment limits were left out")
                    return tuple(found)
                found.append(Attachment(filename=name, data=data))
                size += len(data)
    except _PYPDF_ERRORS as exc:
        problems.append(f"embedded files unreadable ({_short(exc)})")
    return tuple(found)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _short_pdfium(message: str) -> str:
    # "Failed to load document (PDFium: Data format error)." -> "data format error"
    if "PDFium: " in message:
        return message.split("PDFium: ", 1)[1].rstrip(").").lower()
    return message.lower()


@contextmanager
def _library_warnings_logged() -> Iterator[None]:
    """pypdf and pypdfium2 warn about damaged files; log it, never raise it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        log.info("%s: %s", warning.category.__name__, warning.message)


_: type[Extractor] = PdfExtractor
