"""Watermarked copies for regulators: every page stamped with who, under which grant, and when.

Issue #5 (4), ACS-04: a regulator never receives an original, only a stamped PDF, so a copy
that leaves the archive names the person, the grant and its purpose, and the time it left.

- **PDF** → each page merged (pypdf) with a reportlab-drawn overlay: the stamp lines diagonally
  across the page in light grey, and once more as a footer line. Page rotation is first moved
  into the content (``transfer_rotation_to_content``) and the overlay is drawn at the visible
  box's size and offset, so rotated, landscape and odd-sized pages are stamped upright where the
  reader sees them. PDFs encrypted with the empty user password (permissions only) are opened and
  the stamped copy is written unencrypted; anything needing a real password is refused with
  :class:`WatermarkEncryptedError`.
- **Images** (PNG, JPEG, TIFF incl. multi-page faxes, GIF, WebP, BMP) → one PDF page per frame at
  the frame's resolution, with the same stamp.
- **Everything else** (email, Word, text) → a stamped PDF of the document's extracted text, which
  the caller passes as ``text=`` (the catalogue keeps it; this module never parses documents).
  ``text/*`` originals are decoded directly when no text is given. Without text the type is
  refused with :class:`WatermarkUnsupportedError`.

All drawing uses the archive's one CJK font (:func:`records.pdf_fonts.register_cjk_font`), so
Chinese names are stamped and can be extracted again as text.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from records.access.errors import AccessError
from records.errors import ForbiddenError
from records.access.identity import Grant, Identity
from records.pdf_fonts import register_cjk_font

__all__ = [
    "PDF", "WatermarkEncryptedError", "WatermarkError", "WatermarkUnsupportedError", "renders_text", "stamp_lines",
    "watermark_document",
]

PDF = "application/pdf"
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp", "image/bmp", "image/x-ms-bmp")
_GREY, _ALPHA = 0.55, 0.28   # diagonal stamp: visible on white and on scans, text beneath stays legible
_FOOTER_GREY = 0.35
_A4 = (595.2756, 841.8898)
_TEXT_SIZE, _TEXT_LEADING, _TEXT_MARGIN = 10.5, 15.0, 56.0


class WatermarkError(AccessError, ForbiddenError):
    """No stamped copy can be made, so a regulator gets nothing (the original is never sent instead).

    Forbidden rather than invalid: the only form the policy allows this caller cannot be made,
    so the answer is a refusal (exit 11, 403), exactly as if the policy had said no.
    """

    code = "watermark_failed"

    def __init__(self, media_type: str, reason: str) -> None:
        super().__init__(f"cannot make a watermarked copy of this {media_type} document: {reason}")
        self.media_type = media_type
        self.reason = reason


class WatermarkEncryptedError(WatermarkError):
    """The PDF needs a password to open; its pages cannot be stamped."""


class WatermarkUnsupportedError(WatermarkError):
    """The type cannot be stamped (no extracted text to render), or the file is unreadable as its type."""


def renders_text(media_type: str) -> bool:
    """Whether a stamped copy of this type is made from its extracted text (neither PDF nor image)."""
    mt = media_type.split(";", 1)[0].strip().lower()
    return mt != PDF and mt not in _IMAGE_TYPES


def stamp_lines(identity: Identity, grant: Grant | None, now: datetime, tz: tzinfo) -> list[str]:
    """The stamp's three lines: who, under which grant and for what purpose, and when (local time)."""
    local = now.astimezone(tz)
    grant_line = (f"授权 grant {grant.grant_id} 用途 purpose: {grant.purpose}" if grant is not None
                  else "授权 grant: -")
    return [f"{identity.name} 监管查阅副本 regulator copy", grant_line,
            f"下载 downloaded {local:%Y-%m-%d %H:%M:%S} UTC{local:%z}"]


def watermark_document(data: bytes, media_type: str, lines: list[str], *,
                       text: str | None = None) -> tuple[bytes, str]:
    """A stamped PDF of ``data`` and its media type (always ``application/pdf``).

    Args:
        data: the original bytes.
        media_type: the original's detected media type.
        lines: what to stamp (see :func:`stamp_lines`).
        text: the document's extracted text, used for types that are neither PDF nor image.

    Raises:
        WatermarkEncryptedError: a PDF that only opens with a password.
        WatermarkUnsupportedError: no way to render this type, or the bytes are not readable as it.
    """
    if not lines:
        raise ValueError("a watermark needs at least one line")
    mt = media_type.split(";", 1)[0].strip().lower()
    if mt == PDF:
        return _stamp_pdf(data, lines), PDF
    if mt in _IMAGE_TYPES:
        return _image_pdf(data, mt, lines), PDF
    if text is None and mt.startswith("text/"):
        text = _decode(data)
    if text is None:
        raise WatermarkUnsupportedError(mt, "no extracted text to render into a stamped copy")
    return _text_pdf(text, lines), PDF


# ---------------------------------------------------------------------- drawing the stamp
def _draw_stamp(c: Any, width: float, height: float, lines: list[str]) -> None:
    """Draw the diagonal stamp and the footer on reportlab canvas ``c`` over a width × height page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = register_cjk_font()
    # The largest size at which the block of lines, turned along the diagonal, stays on the page.
    angle = math.atan2(height, width)
    cos, sin = math.cos(angle), math.sin(angle)
    a = max(stringWidth(line, font, 1.0) for line in lines) or 1.0   # block width per point of size
    b = 1.3 * len(lines)                                             # block height per point of size
    size = max(4.0, min(40.0, 0.9 * min(width / (a * cos + b * sin), height / (a * sin + b * cos))))
    c.saveState()
    c.setFillColorRGB(_GREY, _GREY, _GREY, alpha=_ALPHA)
    c.translate(width / 2, height / 2)
    c.rotate(math.degrees(angle))
    c.setFont(font, size)
    top = (len(lines) - 1) * size * 1.3 / 2
    for n, line in enumerate(lines):
        c.drawCentredString(0, top - n * size * 1.3 - size / 3, line)
    c.restoreState()

    footer = "  |  ".join(lines)
    margin = min(18.0, width * 0.05)
    fsize = max(3.0, min(7.0, (width - 2 * margin) / (stringWidth(footer, font, 1.0) or 1.0)))
    c.saveState()
    c.setFillColorRGB(_FOOTER_GREY, _FOOTER_GREY, _FOOTER_GREY)
    c.setFont(font, fsize)
    c.drawString(margin, max(2.0, min(10.0, height * 0.02)), footer)
    c.restoreState()


def _canvas(buf: io.BytesIO, pagesize: tuple[float, float]) -> Any:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(buf, pagesize=pagesize, pageCompression=1, invariant=1)
    c.setTitle("watermarked copy")
    return c


# ---------------------------------------------------------------------- PDF
def _overlay(width: float, height: float, lines: list[str]) -> Any:
    from pypdf import PdfReader

    buf = io.BytesIO()
    c = _canvas(buf, (width, height))
    _draw_stamp(c, width, height, lines)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def _stamp_pdf(data: bytes, lines: list[str]) -> bytes:
    from pypdf import PasswordType, PdfReader, PdfWriter, Transformation
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise WatermarkEncryptedError(PDF, f"unsupported encryption ({exc})") from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise WatermarkEncryptedError(PDF, "it is encrypted with a password")
        writer = PdfWriter(clone_from=reader)
        overlays: dict[tuple[float, float], Any] = {}
        for page in writer.pages:
            page.transfer_rotation_to_content()  # the stamp goes upright on the page as displayed
            box = page.cropbox
            w, h = float(box.width), float(box.height)
            key = (round(w, 1), round(h, 1))
            if key not in overlays:
                overlays[key] = _overlay(w, h, lines)
            page.merge_transformed_page(overlays[key], Transformation().translate(float(box.left), float(box.bottom)))
        if not writer.pages:
            raise WatermarkUnsupportedError(PDF, "the PDF has no pages")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except FileNotDecryptedError as exc:
        raise WatermarkEncryptedError(PDF, "it is encrypted with a password") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WatermarkUnsupportedError(PDF, f"unreadable PDF ({type(exc).__name__})") from exc


# ---------------------------------------------------------------------- images
def _frames(data: bytes, media_type: str) -> Iterator[tuple[Any, float, float]]:
    """Each frame as an RGB/greyscale PIL image with its resolution (dpi x, dpi y; 0 when unknown)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        for frame in ImageSequence.Iterator(img):
            dpi = frame.info.get("dpi") or (0, 0)
            px = frame.copy()
            if px.mode in ("1", "L", "RGB"):
                px = px.convert("L") if px.mode == "1" else px
            elif px.mode in ("RGBA", "LA", "P", "PA"):
                rgba = px.convert("RGBA")
                px = Image.new("RGB", rgba.size, "white")
                px.paste(rgba, mask=rgba.getchannel("A"))
            else:  # CMYK, I;16, F, YCbCr …
                px = px.convert("RGB")
            yield px, float(dpi[0] or 0), float(dpi[1] or 0)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise WatermarkUnsupportedError(media_type, f"unreadable image ({type(exc).__name__})") from exc


def _image_pdf(data: bytes, media_type: str, lines: list[str]) -> bytes:
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = _canvas(buf, _A4)
    pages = 0
    for px, dpi_x, dpi_y in _frames(data, media_type):
        w_px, h_px = px.size
        if dpi_x > 1 and dpi_y > 1:  # true size (a fax at 204 × 98 dpi is not squashed)
            w, h = w_px / dpi_x * 72, h_px / dpi_y * 72
        else:  # unknown resolution: fit the width of an A4 page
            w, h = _A4[0], _A4[0] * h_px / w_px
        c.setPageSize((w, h))
        c.drawImage(ImageReader(px), 0, 0, width=w, height=h)
        _draw_stamp(c, w, h, lines)
        c.showPage()
        pages += 1
    if not pages:
        raise WatermarkUnsupportedError(media_type, "the image has no frames")
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------- text
def _decode(data: bytes) -> str:
    """A text original without extracted text: UTF-8, else GB18030 (our complaints' usual legacy code), else a guess."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _wrap(text: str, font: str, width: float) -> Iterator[str]:
    """Lines that fit ``width`` points, broken at any character (CJK has no spaces to break at)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line, used = "", 0.0
        for ch in para.replace("\t", "    "):
            if unicodedata.category(ch) == "Cc":
                continue
            cw = stringWidth(ch, font, _TEXT_SIZE)
            if used + cw > width and line:
                yield line
                line, used = "", 0.0
            line, used = line + ch, used + cw
        yield line


def _text_pdf(text: str, lines: list[str]) -> bytes:
    font = register_cjk_font()
    w, h = _A4
    per_page = int((h - 2 * _TEXT_MARGIN) // _TEXT_LEADING)
    rows = list(_wrap(text, font, w - 2 * _TEXT_MARGIN)) or [""]
    buf = io.BytesIO()
    c = _canvas(buf, _A4)
    for start in range(0, len(rows), per_page):
        c.setFont(font, _TEXT_SIZE)
        y = h - _TEXT_MARGIN
        for row in rows[start:start + per_page]:
            c.drawString(_TEXT_MARGIN, y, row)
            y -= _TEXT_LEADING
        _draw_stamp(c, w, h, lines)
        c.showPage()
    c.save()
    return buf.getvalue()
