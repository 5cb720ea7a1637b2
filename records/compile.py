"""The dossier as an archival unit: its table of contents 卷内目录 and the compiled, paginated volume.

A dossier is filed as a volume (立卷归档, ARC-1-02, ARC-1-05) whose items carry sequence
numbers (ARC-2-14, ARC-3-06). Sealed, inspected or transferred, it travels as **one PDF**: the
contents page(s) first, then every item in order, each page numbered "第 N 页 / 共 M 页" with the
dossier's and the item's number at the bottom, so a page that comes loose names where it belongs.

How each item becomes pages:

- **PDF** originals as they are (pypdf). One that needs a password, or that pypdf cannot read,
  becomes a placeholder page saying so; a single page that cannot be stamped becomes a
  placeholder page in its place, so the count the contents promised still holds.
- **Images** (JPEG, PNG, multi-page TIFF faxes, …) one page per frame (Pillow), fitted to A4 at
  the frame's physical proportions (a fax at 204 × 98 dpi is not squashed), landscape when wide.
- **Everything else** (text, e-mail, Word, .msg …) its extracted text on A4 pages (reportlab),
  under a header line with the item number and file name.
- Nothing to show (no original left, no text) → one placeholder page with the item number, the
  format and the SHA-256, so the volume still accounts for the item.

Only the **current version** of each item goes into the volume: the contents lists each item
(件) once, as the dossier stands. Earlier versions were corrected (INT-Q-04); they stay in the
vault, in ``show`` and in a BagIt export, but printing them would put two versions of one item
under one number. The contents entry carries the version's item number (``…-03.v2``), so the
reader sees that a correction exists.

The page numbers in the contents must be those of the pages: every item is rendered first and
its pages counted, then the number of contents pages follows from the number of rows (fixed row
height, titles cut to two lines), then each item's first page. Only then is the contents drawn
and every page stamped.

Access: compiling reads every original of the dossier, which is taking its files out (ACS-12):
it is decided ONCE by the gate as ``Action.EXPORT`` on the dossier (archivists any dossier,
managers their departments; handlers, regulators and auditors are refused) and leaves one
access-log entry. The originals and texts are then read through the records service, which
writes no entries of its own — like a BagIt export, the one decision covers the whole package.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from records.access.identity import Action, Identity, RequestContext
from records.clock import Clock
from records.errors import DocumentNotFoundError
from records.model import DocumentInfo, DocumentKind, DossierInfo
from records.pdf_fonts import register_cjk_font

if TYPE_CHECKING:  # the gate and the records core are handed in; pypdf loads only when a volume is made
    from pypdf import PageObject

    from records.access.gate import Gate
    from records.service import RecordsService

__all__ = ["KIND_ZH", "ROWS_PER_CONTENTS_PAGE", "CompiledDossier", "Contents", "ContentsEntry", "DossierCompiler", "Rendering", "current_versions",
           "title_of"]

_NO_CONTEXT = RequestContext()

KIND_ZH: Mapping[DocumentKind, str] = {
    DocumentKind.COMPLAINT_LETTER: "投诉信", DocumentKind.FAX: "传真", DocumentKind.EMAIL: "电子邮件",
    DocumentKind.ORAL_COMPLAINT_RECORD: "口头投诉记录", DocumentKind.POWER_OF_ATTORNEY: "授权委托书",
    DocumentKind.ACCEPTANCE_NOTICE: "受理通知书", DocumentKind.NON_ACCEPTANCE_NOTICE: "不予受理通知书",
    DocumentKind.INVESTIGATION_MINUTES: "调查笔录", DocumentKind.EVIDENCE: "证据材料",
    DocumentKind.DECISION: "处理决定", DocumentKind.REPLY_LETTER: "答复书",
    DocumentKind.EXTENSION_NOTICE: "延期通知书", DocumentKind.FOLLOW_UP_RECORD: "回访记录",
    DocumentKind.OTHER: "其他",
}
"""The kinds as the contents page names them (zh-CN: the volume is an archival document, not a page)."""

_PDF = "application/pdf"
_MAIL_TYPES = ("message/rfc822", "application/vnd.ms-outlook")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp", "image/bmp", "image/x-ms-bmp")
_MM = 72 / 25.4
_A4 = (210 * _MM, 297 * _MM)
_SIDE, _TOP, _BOTTOM = 20 * _MM, 18 * _MM, 22 * _MM     # the footer stamp lives in the bottom margin
_TEXT_SIZE, _TEXT_LEADING, _HEADER_SIZE = 10.5, 16.0, 9.0
# Contents columns: heading, width (mm). The title takes what is left of the 170 mm between margins.
_COLUMNS: tuple[tuple[str, float], ...] = (("序号", 10), ("件号", 32), ("类型", 24), ("题名", 0), ("日期", 20),
                                           ("页数", 12), ("页号", 12))
_ROW_HEIGHT, _HEAD_HEIGHT, _CELL_SIZE = 11 * _MM, 8 * _MM, 9.0
_TABLE_TOP = _A4[1] - _TOP - 26 * _MM                     # below the title and the dossier lines
ROWS_PER_CONTENTS_PAGE = int((_TABLE_TOP - _HEAD_HEIGHT - _BOTTOM) // _ROW_HEIGHT)
"""Rows of the contents on one page (fixed row height): how many contents pages a dossier needs."""


class Rendering(StrEnum):
    """How an item became pages of the volume."""

    PDF = "pdf"                  # the original PDF's own pages
    IMAGE = "image"              # one page per image frame
    TEXT = "text"                # the extracted text, typeset
    PLACEHOLDER = "placeholder"  # a page that names the item and says why it cannot be shown


@dataclass(frozen=True, slots=True)
class ContentsEntry:
    """One row of the contents 卷内目录 (ARC-2-14): an item, where it starts and how many pages it has."""

    seq: int                 # 序号: 1.. in the order of the volume
    item_number: str         # 件号 (ARC-3-06), with ``.vN`` when a corrected version is the current one
    kind: DocumentKind
    title: str               # 题名: the first meaningful line of the text, an e-mail's subject, or the file name
    date: date               # 日期: when the item was received (archive time)
    pages: int               # 页数
    first_page: int          # 页号: the item's first page in the volume (the contents pages come first)
    filename: str
    media_type: str
    rendering: Rendering
    note: str | None = None  # why an item (or a page of it) is a placeholder

    @property
    def kind_label(self) -> str:
        return KIND_ZH.get(self.kind, str(self.kind))

    @property
    def last_page(self) -> int:
        return self.first_page + self.pages - 1


@dataclass(frozen=True, slots=True)
class Contents:
    """The contents of a dossier's volume: its rows and how many pages the volume has."""

    dossier: DossierInfo
    entries: tuple[ContentsEntry, ...]
    contents_pages: int
    total_pages: int


@dataclass(frozen=True, slots=True)
class CompiledDossier:
    """A compiled volume: the dossier, its contents, and the PDF (contents pages first)."""

    dossier: DossierInfo
    entries: tuple[ContentsEntry, ...]
    contents_pages: int
    total_pages: int
    pdf: bytes


@dataclass(slots=True)
class _Part:
    """One item's pages before numbering: a PDF (reportlab's or the original) and what it is."""

    doc: DocumentInfo
    title: str
    rendering: Rendering
    pdf: bytes
    pages: int
    note: str | None = None


class DossierCompiler:
    """Contents and compiled volume of a dossier, decided once as EXPORT and logged once (ACS-12).

    Args:
        gate: decides and logs the one EXPORT of the dossier.
        records: reads the originals and texts once the gate allowed (no entries of its own).
        tz: the archive's zone (receipt dates on the contents).
        clock: the archive's clock (the compilation time in the PDF's metadata).
    """

    def __init__(self, gate: Gate, records: RecordsService, *, tz: ZoneInfo, clock: Clock) -> None:
        self._gate, self._records, self._tz, self._clock = gate, records, tz, clock

    def contents(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
                 details: Mapping[str, str] | None = None) -> list[ContentsEntry]:
        """The contents 卷内目录 of dossier ``number`` with the page numbers of its compiled volume.

        The page counts come from rendering every item, so this reads every original: it is
        decided and logged exactly like :meth:`compile`.

        Raises:
            AccessDeniedError: the caller may not export this dossier (logged).
            DossierNotFoundError: no such dossier (logged, refused like a hidden one).
            IntegrityError: a stored original failed authentication; nothing is handed out.
        """
        return list(self.table_of_contents(who, number, context=context, details=details).entries)

    def table_of_contents(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
                          details: Mapping[str, str] | None = None) -> Contents:
        """:meth:`contents` with the dossier and the page counts (for a page that shows them); decided and logged once."""
        dossier = self._authorize(who, number, context, details, "contents")
        entries, contents_pages, parts = self._layout(who, dossier)
        return Contents(dossier, entries, contents_pages, contents_pages + sum(p.pages for p in parts))

    def compile(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
                details: Mapping[str, str] | None = None) -> bytes:
        """The whole dossier as one paginated PDF: contents page(s), then every item (see the module docstring)."""
        return self.volume(who, number, context=context, details=details).pdf

    def volume(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
               details: Mapping[str, str] | None = None) -> CompiledDossier:
        """:meth:`compile` with its contents and page counts (for a command's summary line).

        Raises:
            AccessDeniedError: the caller may not export this dossier (logged).
            DossierNotFoundError: no such dossier (logged, refused like a hidden one).
            IntegrityError: a stored original failed authentication; no volume is made.
        """
        dossier = self._authorize(who, number, context, details, "compiled_pdf")
        entries, contents_pages, parts = self._layout(who, dossier)
        total = contents_pages + sum(p.pages for p in parts)
        contents = _contents_pdf(dossier, entries, contents_pages, total)
        pdf = _assemble(dossier, entries, contents, contents_pages, parts, total,
                        created=_pdf_date(self._clock().astimezone(self._tz)))
        return CompiledDossier(dossier, entries, contents_pages, total, pdf)

    # ------------------------------------------------------------------ helpers
    def _authorize(self, who: Identity, number: str, context: RequestContext, details: Mapping[str, str] | None,
                   what: str) -> DossierInfo:
        # One decision for the whole volume, as the gate takes it for any dossier (one entry).
        return self._gate.dossier(who, number, action=Action.EXPORT, context=context,
                                  details={**(details or {}), "export": what})

    def _layout(self, who: Identity, dossier: DossierInfo) -> tuple[tuple[ContentsEntry, ...], int, list[_Part]]:
        parts = [self._part(who, doc) for doc in current_versions(dossier.documents)]
        contents_pages = max(1, math.ceil(len(parts) / ROWS_PER_CONTENTS_PAGE))
        entries: list[ContentsEntry] = []
        page = contents_pages + 1
        for seq, part in enumerate(parts, start=1):
            doc = part.doc
            entries.append(ContentsEntry(
                seq=seq, item_number=doc.item_number, kind=doc.kind, title=part.title,
                date=doc.received_at.astimezone(self._tz).date(), pages=part.pages, first_page=page,
                filename=doc.filename, media_type=doc.media_type, rendering=part.rendering, note=part.note))
            page += part.pages
        return tuple(entries), contents_pages, parts

    def _part(self, who: Identity, doc: DocumentInfo) -> _Part:
        text, metadata = self._text(who, doc)
        mt = doc.media_type.split(";", 1)[0].strip().lower()
        try:
            _, stream = self._records.retrieve_document(who.name, doc.item_number)
            data: bytes | None = b"".join(stream)  # authenticated to its last byte (IntegrityError otherwise)
        except DocumentNotFoundError:  # its key was destroyed: nothing left to show but the record
            data = None
        if text is None and data is not None and mt.startswith("text/") and mt != "text/html":
            text = _decode(data)  # a plain-text original filed without extraction
        title = title_of(text, metadata, doc.filename, media_type=mt)
        problem: str | None = "原件已不在库中" if data is None else None
        if data is not None and mt == _PDF:
            pdf, pages, problem = _original_pdf(data)
            if pdf is not None:
                return _Part(doc, title, Rendering.PDF, pdf, pages)
        elif data is not None and mt in _IMAGE_TYPES:
            rendered = _image_pages(doc, data)
            if rendered is not None:
                return _Part(doc, title, Rendering.IMAGE, *rendered)
            problem = "图像无法读取"
        if text and text.strip() and mt != _PDF:  # an unreadable PDF is not replaced by its text: the volume says so
            pdf, pages = _text_pages(doc, text)
            return _Part(doc, title, Rendering.TEXT, pdf, pages)
        problem = problem or "无可呈现的内容（无提取文本）"
        return _Part(doc, title, Rendering.PLACEHOLDER, _placeholder_pdf(doc, problem), 1, problem)

    def _text(self, who: Identity, doc: DocumentInfo) -> tuple[str | None, dict[str, str]]:
        if not doc.text_chars:
            return None, {}
        try:
            _, text, metadata = self._records.document_text(who.name, doc.item_number)
        except DocumentNotFoundError:  # no text object (or it was destroyed)
            return None, {}
        return text, metadata


# ---------------------------------------------------------------------- which items, what title
def current_versions(documents: Sequence[DocumentInfo]) -> list[DocumentInfo]:
    """Each item once, in item order, as its latest version (``-03.v2`` replaces ``-03``)."""
    latest: dict[str, DocumentInfo] = {}
    for doc in documents:
        base = doc.item_number.partition(".v")[0]
        if base not in latest or doc.version > latest[base].version:
            latest[base] = doc
    return sorted(latest.values(), key=lambda d: _item_key(d.item_number))


def _item_key(item_number: str) -> tuple[int, str]:
    seq = item_number.partition(".v")[0].rpartition("-")[2]
    return (int(seq), item_number) if seq.isdigit() else (0, item_number)


def title_of(text: str | None, metadata: Mapping[str, str], filename: str, *, media_type: str = "",
             limit: int = 80) -> str:
    """An item's title 题名: an e-mail's subject, else the first meaningful line of its text, else its file name.

    A meaningful line has at least two letters or CJK characters: a page number, a date rule or a
    line of dashes is no title. Only e-mails are titled by their metadata: a PDF's or Word
    file's "subject" and "title" are whatever the producing program put there ("unspecified").
    """
    subject = (metadata.get("subject") or "").strip() if media_type.split(";")[0].strip().lower() in _MAIL_TYPES else ""
    if subject:
        return _clip(subject, limit)
    for line in (text or "").splitlines():
        line = " ".join(line.replace("\u3000", " ").split())
        if sum(1 for ch in line if unicodedata.category(ch)[0] == "L") >= 2:
            return _clip(line, limit)
    return filename


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):  # our complaints' usual codes; the extracted text is preferred
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------- an item's pages
def _canvas(buf: io.BytesIO, pagesize: tuple[float, float] = _A4) -> Any:
    from reportlab.pdfgen.canvas import Canvas

    return Canvas(buf, pagesize=pagesize, pageCompression=1, invariant=1)


def _printable(text: str) -> str:
    # Control characters print as boxes or nothing; characters beyond the BMP are not in the CID font.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc" and ord(ch) <= 0xFFFF)


def _fit(text: str, font: str, size: float, width: float) -> str:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = _printable(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, font: str, size: float, width: float) -> Iterator[str]:
    """Lines that fit ``width`` points, broken at any character (CJK has no spaces to break at)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line, used = "", 0.0
        for ch in _printable(para.replace("\t", "    ")):
            cw = stringWidth(ch, font, size)
            if used + cw > width and line:
                yield line
                line, used = "", 0.0
            line, used = line + ch, used + cw
        yield line


def _header(c: Any, doc: DocumentInfo, width: float, height: float) -> float:
    """The item's header line (item number, file name) at the top; returns the y below it."""
    font = register_cjk_font()
    y = height - _TOP
    c.setFont(font, _HEADER_SIZE)
    c.setFillGray(0.3)
    c.drawString(_SIDE, y, _fit(f"{doc.item_number}  {doc.filename}", font, _HEADER_SIZE, width - 2 * _SIDE))
    c.setStrokeGray(0.6)
    c.setLineWidth(0.5)
    c.line(_SIDE, y - 4, width - _SIDE, y - 4)
    c.setFillGray(0)
    return y - 4 - 6 * _MM


def _text_pages(doc: DocumentInfo, text: str) -> tuple[bytes, int]:
    font = register_cjk_font()
    w, h = _A4
    rows = list(_wrap(text.strip("\n"), font, _TEXT_SIZE, w - 2 * _SIDE)) or [""]
    buf = io.BytesIO()
    c = _canvas(buf)
    pages, i = 0, 0
    while i < len(rows) or pages == 0:
        y = _header(c, doc, w, h)
        c.setFont(font, _TEXT_SIZE)
        while i < len(rows) and y >= _BOTTOM:
            c.drawString(_SIDE, y, rows[i])
            y -= _TEXT_LEADING
            i += 1
        c.showPage()
        pages += 1
    c.save()
    return buf.getvalue(), pages


def _frames(data: bytes) -> Iterator[tuple[Any, float, float]]:
    """Each frame as a greyscale or RGB PIL image with its resolution (dpi x, dpi y; 0 when unknown)."""
    from PIL import Image, ImageSequence

    img = Image.open(io.BytesIO(data))
    for frame in ImageSequence.Iterator(img):
        dpi = frame.info.get("dpi") or (0, 0)
        px = frame.copy()
        if px.mode == "1":
            px = px.convert("L")
        elif px.mode in ("RGBA", "LA", "P", "PA"):
            rgba = px.convert("RGBA")
            px = Image.new("RGB", rgba.size, "white")
            px.paste(rgba, mask=rgba.getchannel("A"))
        elif px.mode not in ("L", "RGB"):  # CMYK, I;16, F, YCbCr …
            px = px.convert("RGB")
        yield px, float(dpi[0] or 0), float(dpi[1] or 0)


def _image_pages(doc: DocumentInfo, data: bytes) -> tuple[bytes, int] | None:
    """One A4 page per frame, the frame fitted at its physical proportions; None if unreadable."""
    from PIL import UnidentifiedImageError
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = _canvas(buf)
    pages = 0
    try:
        for px, dpi_x, dpi_y in _frames(data):
            w_px, h_px = px.size
            aspect = (w_px / dpi_x) / (h_px / dpi_y) if dpi_x > 1 and dpi_y > 1 else w_px / h_px
            size = (_A4[1], _A4[0]) if aspect > 1.15 else _A4  # wide scans on landscape pages
            c.setPageSize(size)
            top = _header(c, doc, *size)
            box_w, box_h = size[0] - 2 * _SIDE, top - _BOTTOM
            scale = min(box_w / aspect, box_h)
            w, h = scale * aspect, scale
            c.drawImage(ImageReader(px), (size[0] - w) / 2, top - h, width=w, height=h)
            c.showPage()
            pages += 1
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, ZeroDivisionError):
        return None
    if not pages:
        return None
    c.save()
    return buf.getvalue(), pages


def _original_pdf(data: bytes) -> tuple[bytes | None, int, str | None]:
    """The original PDF (opened without a password if it can be) and its page count, or why it cannot be used."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # permissions-only encryption opens with the empty password
            except (NotImplementedError, PyPdfError):
                opened = PasswordType.NOT_DECRYPTED
            if opened == PasswordType.NOT_DECRYPTED:
                return None, 0, "PDF 已加密，需要密码才能打开"
        pages = len(reader.pages)
        for page in reader.pages:
            page.cropbox  # noqa: B018 - touching each page's box finds a broken page tree now, not mid-volume
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return None, 0, "PDF 无法读取（文件损坏）"
    if not pages:
        return None, 0, "PDF 没有页面"
    return data, pages, None


def _placeholder_pdf(doc: DocumentInfo, problem: str, *, page: int | None = None) -> bytes:
    """One page that accounts for an item (or one page of it) the volume cannot show."""
    font = register_cjk_font()
    w, h = _A4
    buf = io.BytesIO()
    c = _canvas(buf)
    y = _header(c, doc, w, h) - 20 * _MM
    c.setFont(font, 16)
    c.drawCentredString(w / 2, y, "此件无法以页面呈现" if page is None else f"此件第 {page} 页无法呈现")
    y -= 16 * _MM
    c.setFont(font, 10.5)
    for label, value in (("件号", doc.item_number), ("文件名", doc.filename), ("格式", doc.media_type),
                         ("大小", f"{doc.size} 字节"), ("SHA-256", doc.sha256), ("原因", problem)):
        c.drawString(_SIDE + 10 * _MM, y, f"{label}：")
        c.drawString(_SIDE + 32 * _MM, y, _fit(value, font, 10.5, w - 2 * _SIDE - 32 * _MM))
        y -= 9 * _MM
    c.drawString(_SIDE + 10 * _MM, y - 6 * _MM,
                 _fit("原件保存在档案库中，可凭件号调阅并以 SHA-256 核对。", font, 10.5, w - 2 * _SIDE - 10 * _MM))
    c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------- the contents
def _contents_pdf(dossier: DossierInfo, entries: Sequence[ContentsEntry], pages: int, total: int) -> bytes:
    """The contents page(s): a fixed number of rows per page, so :meth:`DossierCompiler._layout` can count them."""
    font = register_cjk_font()
    w, h = _A4
    fixed = sum(width for _, width in _COLUMNS) * _MM
    widths = [(width * _MM if width else (w - 2 * _SIDE - fixed)) for _, width in _COLUMNS]
    edges = [_SIDE + sum(widths[:i]) for i in range(len(widths) + 1)]
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setTitle(f"卷内目录 {dossier.archive_number}")
    for p in range(pages):
        rows = entries[p * ROWS_PER_CONTENTS_PAGE:(p + 1) * ROWS_PER_CONTENTS_PAGE]
        c.setFont(font, 18)
        c.drawCentredString(w / 2, h - _TOP - 6 * _MM, "卷 内 目 录")
        c.setFont(font, 10)
        c.drawString(_SIDE, h - _TOP - 15 * _MM, f"档号：{dossier.archive_number}")
        c.drawRightString(w - _SIDE, h - _TOP - 15 * _MM, f"本卷共 {len(entries)} 件，{total} 页")
        c.drawString(_SIDE, h - _TOP - 21 * _MM,
                     _fit(f"投诉事项：{dossier.registration.matter}", font, 10, w - 2 * _SIDE))
        top = _TABLE_TOP
        bottom = top - _HEAD_HEIGHT - max(1, len(rows)) * _ROW_HEIGHT
        c.setLineWidth(0.6)
        for x in edges:
            c.line(x, top, x, bottom)
        c.line(_SIDE, top, w - _SIDE, top)
        c.line(_SIDE, top - _HEAD_HEIGHT, w - _SIDE, top - _HEAD_HEIGHT)
        c.setFont(font, 10)
        for (heading, _), left, width in zip(_COLUMNS, edges, widths):
            c.drawCentredString(left + width / 2, top - _HEAD_HEIGHT + 2.8 * _MM, heading)
        y = top - _HEAD_HEIGHT
        c.setFont(font, _CELL_SIZE)
        if not rows:
            c.drawCentredString(w / 2, y - _ROW_HEIGHT / 2 - 3, "（本卷尚无文件）")
            c.line(_SIDE, y - _ROW_HEIGHT, w - _SIDE, y - _ROW_HEIGHT)
        for e in rows:
            cells = [str(e.seq), e.item_number, e.kind_label, e.title, e.date.isoformat(), str(e.pages),
                     str(e.first_page)]
            for col, (text, left, width) in enumerate(zip(cells, edges, widths)):
                inner = width - 2 * _MM
                if col == 3:  # the title: up to two lines, the second cut with an ellipsis
                    lines = list(_wrap(text, font, _CELL_SIZE, inner))
                    shown = lines[:1] if len(lines) == 1 else [lines[0], _fit("".join(lines[1:]), font, _CELL_SIZE, inner)]
                    baselines = [y - _ROW_HEIGHT / 2 - 3] if len(shown) == 1 else [y - 4.6 * _MM, y - 8.8 * _MM]
                    for line, base in zip(shown, baselines):
                        c.drawString(left + _MM, base, line)
                else:
                    c.drawCentredString(left + width / 2, y - _ROW_HEIGHT / 2 - 3, _fit(text, font, _CELL_SIZE, inner))
            y -= _ROW_HEIGHT
            c.line(_SIDE, y, w - _SIDE, y)
        c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------- the volume
def _assemble(dossier: DossierInfo, entries: Sequence[ContentsEntry], contents: bytes, contents_pages: int,
              parts: Sequence[_Part], total: int, *, created: str) -> bytes:
    """Contents and items in one PDF, every page stamped with its number, with one bookmark per item."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    labels: list[str] = []
    for page in PdfReader(io.BytesIO(contents)).pages:
        _add_stamped(writer, page, dossier.archive_number, "卷内目录", len(labels) + 1, total)
        labels.append("卷内目录")
    for entry, part in zip(entries, parts):
        reader = PdfReader(io.BytesIO(part.pdf))
        if reader.is_encrypted:
            reader.decrypt("")  # checked when the part was made: the empty password opens it
        outline_at = len(writer.pages)
        for k, page in enumerate(reader.pages, start=1):
            where = f"件号 {entry.item_number}"
            try:
                _add_stamped(writer, page, dossier.archive_number, where, len(writer.pages) + 1, total)
            except Exception:  # noqa: BLE001 - one broken page of an original must not lose the volume
                if len(writer.pages) > outline_at + k - 1:  # added, then failed while stamping
                    writer.remove_page(len(writer.pages) - 1)
                stand_in = PdfReader(io.BytesIO(_placeholder_pdf(part.doc, "该页无法读取", page=k))).pages[0]
                _add_stamped(writer, stand_in, dossier.archive_number, where, len(writer.pages) + 1, total)
        writer.add_outline_item(title=f"{entry.seq}. {entry.item_number} {entry.title}", page_number=outline_at)
    assert len(writer.pages) == total, (len(writer.pages), total)  # the contents promised these numbers
    writer.add_metadata({"/Title": f"{dossier.archive_number} 卷内文件汇编", "/Subject": "卷内目录及卷内文件",
                         "/Creator": "Dossier complaint archive", "/CreationDate": created})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_date(moment: datetime) -> str:
    """A PDF date string (ISO 32000 7.9.4): ``D:20261103100000+08'00'``."""
    offset = moment.strftime("%z") or "+0000"
    return f"D:{moment:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}'"


def _add_stamped(writer: Any, page: PageObject, number: str, where: str, n: int, total: int) -> None:
    """Append ``page`` and stamp "档号 … · where" and "第 n 页 / 共 total 页" at the bottom of the page as displayed."""
    from pypdf import Transformation

    added = writer.add_page(page)
    added.transfer_rotation_to_content()  # the number goes upright at the bottom the reader sees
    box = added.cropbox
    width, height = float(box.width), float(box.height)
    added.merge_transformed_page(_footer(width, height, number, where, n, total),
                                 Transformation().translate(float(box.left), float(box.bottom)))


def _footer(width: float, height: float, number: str, where: str, n: int, total: int) -> PageObject:
    from pypdf import PdfReader
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = register_cjk_font()
    left, right = f"档号 {number} · {where}", f"第 {n} 页 / 共 {total} 页"
    margin = min(_SIDE, width * 0.06)
    room = width - 2 * margin
    size = min(9.0, room / ((stringWidth(left, font, 1) + stringWidth(right, font, 1)) * 1.15 or 1))
    y = max(4.0, min(10 * _MM, height * 0.03))
    buf = io.BytesIO()
    c = _canvas(buf, (width, height))
    c.setFont(font, size)
    c.setFillGray(0.2)
    c.drawString(margin, y, left)
    c.drawRightString(width - margin, y, right)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]
