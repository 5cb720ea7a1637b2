"""What the document viewer shows of an original: page images, and Word or e-mail as sanitised HTML.

Issue #11 item 3. Complaints arrive as TIFF faxes, scans, PDFs, Word files and e-mails; a browser
shows only some of them, so the viewer renders them here, server-side, from bytes the caller has
already been given by the gate (``Gate.copy`` / ``Gate.original``). Nothing in this module reads
the archive, decides access or writes a log entry: it is pure bytes → PNG / HTML, so every door
that serves what it makes stays the gate's.

- **Pages** (:func:`page_count`, :func:`render_page`, :func:`thumbnail`): one PNG per TIFF/GIF/WebP
  frame (Pillow), one per PDF page (pypdfium2). A regulator's pages are rendered from the stamped
  PDF the gate makes for them (ACS-04), so the stamp is in the pixels they see.
- **HTML** (:func:`render_html`): ``.docx`` paragraphs and tables (python-docx), e-mail (``.eml``,
  ``.msg``) headers, body and attachment names. Every string taken from a document is escaped;
  no markup from a document is ever passed through. An HTML-only mail body is reduced to its text
  (BeautifulSoup) and then escaped, so a ``<script>`` in a complaint is shown, never run.
- **Masking** (:func:`mask_personal_numbers`): phone and identity-card numbers in text shown to a
  regulator (INT-CH-05: a complainant's phone is personal data; a regulator inspects handling, not
  how to reach the complainant).
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, MIMEPart
from typing import Any
from pathlib import PurePath

from markupsafe import Markup, escape

__all__ = [
    "DOCX", "EML", "MSG", "PDF", "Rendered", "ViewerError", "iter_children", "mask_personal_numbers", "page_count",
    "paged", "render_html", "render_page", "renders_html", "thumbable", "thumbnail",
]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EML = "message/rfc822"
MSG = "application/vnd.ms-outlook"
_IMAGES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp", "image/bmp", "image/x-ms-bmp")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".webp", ".bmp", ".pdf")
# Pages wider than this are scaled down: an A4 page at 300 dpi is 2480 px; more only costs bytes.
MAX_PAGE_WIDTH = 2480
THUMB_SIZE = (120, 160)
_PDF_SCALE = 2.0  # 144 dpi: a stamped A4 page is about 1190 px wide, the stamp readable


class ViewerError(ValueError):
    """The bytes cannot be rendered as the type says (a damaged image, a page that is not there)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A document as safe HTML: header rows (label, value), the body, the names of its attachments."""

    html: Markup
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[str, ...] = field(default=())


def _base(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def paged(media_type: str) -> bool:
    """Whether the viewer shows this type as page images (images, TIFF faxes, PDF)."""
    mt = _base(media_type)
    return mt == PDF or mt in _IMAGES


def thumbable(obj: object) -> bool:
    """Whether a document (or a search hit) has a first-page thumbnail: by media type, else by file name.

    A search hit carries no media type; its ``title`` is its file name (or, for an e-mail, the
    subject, which is never taken for a file name).
    """
    media_type = getattr(obj, "media_type", None)
    if isinstance(media_type, str) and media_type:
        return paged(media_type)
    name = getattr(obj, "filename", None)
    if name is None and str(getattr(obj, "kind", "")) != "email":
        name = getattr(obj, "title", None)
    return isinstance(name, str) and PurePath(name.lower()).suffix in _IMAGE_SUFFIXES


def renders_html(media_type: str) -> bool:
    """Whether :func:`render_html` has a rendering for this type (Word, e-mail)."""
    return _base(media_type) in (DOCX, EML, MSG)


# ---------------------------------------------------------------------- pages
def page_count(data: bytes, media_type: str) -> int:
    """The number of pages (frames) in ``data``; :class:`ViewerError` if it cannot be opened."""
    if _base(media_type) == PDF:
        with _pdf(data) as pdf:
            return len(pdf)
    with _image(data) as img:
        return int(getattr(img, "n_frames", 1) or 1)


def render_page(data: bytes, media_type: str, number: int, *, max_width: int = MAX_PAGE_WIDTH) -> bytes:
    """Page ``number`` (1-based) of ``data`` as PNG bytes, at most ``max_width`` pixels wide.

    Raises:
        ViewerError: not an image or PDF, unreadable, or no such page.
    """
    return _png(_page_image(data, media_type, number), max_width)


def thumbnail(data: bytes, media_type: str, *, size: tuple[int, int] = THUMB_SIZE) -> bytes:
    """A small PNG of the first page (aspect kept, within ``size``)."""
    img = _page_image(data, media_type, 1)
    img.thumbnail(size)
    return _png(img, size[0])


def _page_image(data: bytes, media_type: str, number: int):  # type: ignore[no-untyped-def]  # a PIL image
    from PIL import Image

    if number < 1:
        raise ViewerError(f"no page {number}")
    if _base(media_type) == PDF:
        with _pdf(data) as pdf:
            if number > len(pdf):
                raise ViewerError(f"no page {number}")
            page = pdf[number - 1]
            try:
                return page.render(scale=_PDF_SCALE).to_pil()
            finally:
                page.close()
    if _base(media_type) not in _IMAGES:
        raise ViewerError(f"{media_type} has no pages to show")
    with _image(data) as img:
        if number > int(getattr(img, "n_frames", 1) or 1):
            raise ViewerError(f"no page {number}")
        try:
            img.seek(number - 1)
            frame = img.copy()
        except (OSError, ValueError, EOFError) as exc:
            raise ViewerError(f"unreadable page {number} ({type(exc).__name__})") from exc
    if frame.mode == "1":
        return frame.convert("L")  # bilevel faxes: 8-bit grey scales down smoothly
    if frame.mode in ("RGBA", "LA", "P", "PA"):
        rgba = frame.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return frame if frame.mode in ("L", "RGB") else frame.convert("RGB")


def _png(img, max_width: int) -> bytes:  # type: ignore[no-untyped-def]
    from PIL import Image

    if img.width > max_width:
        img = img.resize((max_width, max(1, round(img.height * max_width / img.width))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


class _image:
    """``with _image(data) as img``: Pillow's image, its errors turned into :class:`ViewerError`."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __enter__(self):  # type: ignore[no-untyped-def]
        from PIL import Image, UnidentifiedImageError

        try:
            self._img = Image.open(io.BytesIO(self._data))
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ViewerError(f"unreadable image ({type(exc).__name__})") from exc
        return self._img

    def __exit__(self, *exc: object) -> None:
        self._img.close()


# PDFium is not thread-safe (pypdfium2 says so): two requests rendering thumbnails at once in a
# threaded server crashed the process with a segfault. One document is open at a time per process;
# gunicorn's worker processes still render in parallel.
_PDFIUM = threading.Lock()


class _pdf:
    """``with _pdf(data) as pdf``: a pypdfium2 document, closed after use, PDFium held meanwhile."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __enter__(self):  # type: ignore[no-untyped-def]
        import pypdfium2 as pdfium  # type: ignore[import-untyped]

        _PDFIUM.acquire()
        try:
            self._pdf = pdfium.PdfDocument(self._data)
        except BaseException as exc:
            _PDFIUM.release()
            if isinstance(exc, pdfium.PdfiumError):
                raise ViewerError(f"unreadable PDF ({exc})") from exc
            raise
        return self._pdf

    def __exit__(self, *exc: object) -> None:
        try:
            self._pdf.close()
        finally:
            _PDFIUM.release()


# ---------------------------------------------------------------------- HTML
def render_html(data: bytes, media_type: str) -> Rendered | None:
    """Word or e-mail as escaped HTML; ``None`` for other types or bytes that do not parse as the type."""
    mt = _base(media_type)
    try:
        if mt == DOCX:
            return _docx(data)
        if mt == EML:
            return _eml(data)
        if mt == MSG:
            return _msg(data)
    except Exception:  # noqa: BLE001 — a damaged original: the extracted text and the download remain
        return None
    return None


def _docx(data: bytes) -> Rendered:
    """Paragraphs and tables in document order; headings as ``<h3>``; everything escaped."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text
            if not text.strip():
                continue
            style = (block.style.name if block.style is not None else "") or ""
            tag = "h3" if style.lower().startswith(("heading", "title")) else "p"
            parts.append(f"<{tag}>{escape(text)}</{tag}>")
        elif isinstance(block, Table):
            rows = "".join("<tr>" + "".join(f"<td>{escape(cell.text)}</td>" for cell in row.cells) + "</tr>"
                           for row in block.rows)
            parts.append(f'<table class="doc-table">{rows}</table>')
    return Rendered(Markup("\n".join(parts)))


_HEADERS = (("From", "From"), ("To", "To"), ("Cc", "Cc"), ("Date", "Date"), ("Subject", "Subject"))


def _eml(data: bytes) -> Rendered:
    """Headers, the plain-text body (or the HTML body's text), attachment file names."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers = tuple((label, _header(message, name)) for label, name in _HEADERS if message.get(name) is not None)
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = _part_text(body)
        text = _html_text(content) if body.get_content_type() == "text/html" else content
    names = tuple(part.get_filename() or "" for part in message.iter_attachments())
    return Rendered(_pre(text), headers, tuple(n for n in names if n))


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except Exception:  # noqa: BLE001 — a malformed header is shown raw rather than failing the page
        return str(message.get_all(name, [""])[0])


def _part_text(part: MIMEPart) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError):
        raw = part.get_payload(decode=True)
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""


def _msg(data: bytes) -> Rendered:
    import extract_msg

    msg: Any = extract_msg.openMsg(data)  # a Message for mail; the library is untyped
    try:
        headers = tuple((label, str(value)) for label, value in (
            ("From", msg.sender), ("To", msg.to), ("Cc", msg.cc), ("Date", msg.date), ("Subject", msg.subject))
            if value)
        text = msg.body or ""
        if not text.strip() and getattr(msg, "htmlBody", None):
            raw = msg.htmlBody
            text = _html_text(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
        names = tuple(str(getattr(a, "longFilename", None) or getattr(a, "shortFilename", None) or "")
                      for a in msg.attachments)
    finally:
        msg.close()
    return Rendered(_pre(text), headers, tuple(n for n in names if n))


def _html_text(markup: str) -> str:
    """The text of an HTML body: scripts and styles dropped, tags stripped (the result is escaped later)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    return soup.get_text("\n")


def _pre(text: str) -> Markup:
    return Markup('<pre class="mail-body">') + escape(text.strip()) + Markup("</pre>")


# ---------------------------------------------------------------------- masking
# Mobile numbers (1[3-9] + 9 digits, optional +86 and separators), landlines (0 + area code + 7–8
# digits) and identity-card numbers (18 characters, the last may be X; the old 15-digit form).
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])|(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<![\d-])(0\d{2,3})[- ]?(\d{3,4})[- ]?(\d{4})(?!\d)")


def mask_personal_numbers(text: str) -> str:
    """``text`` with identity-card and phone numbers masked, the last four characters kept.

    ``110101199003077715`` → ``**************7715``, ``13812345678`` → ``138****5678``,
    ``010-62345678`` → ``010-****5678``: enough to tell two numbers apart, not to call or use them.
    """
    def ident(m: re.Match[str]) -> str:
        whole = m.group(0)
        return "*" * (len(whole) - 4) + whole[-4:]

    text = _ID.sub(ident, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)


def iter_children(documents: tuple[object, ...] | list[object], item: str) -> Iterator[object]:
    """The documents filed from ``item`` (an e-mail's attachments): those whose ``parent_item`` is it."""
    return (d for d in documents if getattr(d, "parent_item", None) == item)
