"""What the Office extractors (Word, Excel, PowerPoint) share: one way to check the head of a
file, list an OLE file's streams, read an OOXML package's core properties and OCR a picture.

Written once so that a picture pasted into a Word letter, a slide or an OFD page is judged by
the same rules as a scan (issue #13; ARC-5-02 material is filed with what was and was not read,
ARC-2-08 searchable with its supporting evidence): decoded within ``limits.max_image_pixels``
(decompression bombs included), palette TIFFs read as libtiff reads them, square pixels, the long
side shrunk to 5000 px, icons skipped, and a warning whenever a picture that may hold text could
not be read. ``ocr_picture`` takes bytes and a label, so any container (OFD too) can use it.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ingest.errors import CorruptDocumentError, TooLargeError
from ingest.model import ExtractContext, Limits

if TYPE_CHECKING:
    from PIL.Image import Image

    from ingest.interfaces import OcrEngine
    from ingest.ocr import PageReading

__all__ = ["MIN_OCR_PIXELS", "PictureReading", "core_properties", "head", "ocr_picture", "ole_streams",
           "reason"]

# Bullets, logos, icons and rules hold no line worth an OCR pass; a thin strip of text still does.
MIN_OCR_PIXELS = 64 * 64
_MIN_OCR_SIDE = 16
# Vector pictures (EMF/WMF) cannot be rasterised here. Small ones are drawings; big ones are
# often pasted Excel charts, sometimes a wrapped scan: noted, not a warning (outcome unchanged).
_LARGE_VECTOR_BYTES = 64 * 1024
_OCR_FORMATS = frozenset({"PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP", "MPO"})
_VECTOR_FORMATS = frozenset({"WMF", "EMF"})
# Errors Pillow and its decoders raise for damaged pictures (libtiff: OSError; headers: SyntaxError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                  ZeroDivisionError, zipfile.BadZipFile)
_CORE_FIELDS = {"title": "title", "creator": "author", "subject": "subject", "keywords": "keywords",
                "description": "description", "lastModifiedBy": "last_modified_by",
                "created": "created", "modified": "modified"}
_CORE_REL = "/metadata/core-properties"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def head(source: Path, limits: Limits) -> bytes:
    """The first 8 bytes of the file (enough for the zip and OLE signatures).

    Raises:
        TooLargeError: the file exceeds ``limits.max_file_bytes``.
    """
    size = source.stat().st_size
    if size > limits.max_file_bytes:
        raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
    with source.open("rb") as handle:
        return handle.read(8)


def ole_streams(source: Path) -> set[str]:
    """Lower-cased names of the OLE compound file's top-level streams.

    Raises:
        CorruptDocumentError: the compound file structure is damaged.
    """
    import olefile

    try:
        with olefile.OleFileIO(str(source)) as ole:
            return {entry[0].lower() for entry in ole.listdir(streams=True, storages=False) if len(entry) == 1}
    except (OSError, ValueError, IndexError, KeyError) as exc:  # olefile's damaged-file errors
        raise CorruptDocumentError(f"damaged OLE compound file: {reason(exc)}") from exc


def reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none), for a warning."""
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    """Title, author, subject, keywords, description, last editor and dates of an OOXML package
    (Word, Excel, PowerPoint), from its core-properties part, values as written (W3C dates such
    as ``2026-03-01T09:30:00Z``: no date parsing that could fail). Absent or damaged: none."""
    root = _member_xml(archive, _core_part(archive))
    if root is None:
        return {}
    metadata: dict[str, str] = {}
    for element in root:
        if not isinstance(element.tag, str):
            continue
        key = _CORE_FIELDS.get(element.tag.rsplit("}", 1)[-1])
        value = " ".join("".join(element.itertext()).split())
        if key and value:
            metadata[key] = value[:1000]
    return metadata


def _core_part(archive: zipfile.ZipFile) -> str:
    """The core-properties part the package relationships name; docProps/core.xml by default."""
    rels = _member_xml(archive, "_rels/.rels")
    for rel in rels.iter(_PKG_RELS + "Relationship") if rels is not None else ():
        if str(rel.get("Type", "")).endswith(_CORE_REL) and rel.get("TargetMode") != "External":
            return str(rel.get("Target", "")).lstrip("/")
    return "docProps/core.xml"


def _member_xml(archive: zipfile.ZipFile, name: str) -> Any:
    """A package part parsed without entity expansion or network (XML bombs stay inert); None
    when absent or damaged. Members were sized by the zip guard before."""
    from lxml import etree

    try:
        return etree.fromstring(archive.read(name), etree.XMLParser(resolve_entities=False, no_network=True))
    except Exception:  # KeyError (absent), zip errors, XMLSyntaxError: the caller goes without
        return None


class PictureReading(NamedTuple):
    """What became of one picture: its OCR reading (None when not OCR'd), warnings (a picture
    that may hold text was not read: flagged for review) and notes (benign, outcome unchanged)."""

    reading: PageReading | None
    warnings: list[str]
    notes: list[str]


def ocr_picture(data: bytes, label: str, context: ExtractContext, engine: Callable[[], OcrEngine],
                *, number: int = 1, dpi: float | None = None) -> PictureReading:
    """OCR one picture found inside a document, as a scan would be.

    Args:
        data: The picture's bytes (PNG, JPEG, GIF, TIFF, BMP, WebP; EMF/WMF are noted only).
        label: How warnings name it, e.g. ``picture word/media/image3.png`` or ``slide 2 picture``.
        context: Limits (``max_image_pixels``), OCR languages and switch.
        engine: Gives the OCR engine; called only when there is a picture to read.
        number: The page number the reading's ``PageInfo`` carries.
        dpi: The resolution the container gives the picture (OFD: pixels over printed size),
            used when the picture states none; the OCR engine scales glyphs by it.

    Returns:
        The reading (its warnings moved to ``warnings``, relabelled "label: …"), or None for
        icons, vector pictures and pictures that could not be decoded or are over the limit.
    """
    if not context.ocr_enabled or not data:
        return PictureReading(None, [], [])
    image, problems, notes = _decoded(data, label, context.limits, dpi)
    if image is None:
        return PictureReading(None, problems, notes)
    import dataclasses

    from ingest.ocr import read_page

    reading = read_page(engine(), image, number, context)
    problems.extend(f"{label}: {w.removeprefix(f'page {number}: ')}" for w in reading.warnings)
    return PictureReading(dataclasses.replace(reading, warnings=()), problems, notes)


def _decoded(data: bytes, label: str, limits: Limits,
             dpi: float | None = None) -> tuple[Image | None, list[str], list[str]]:
    """The picture ready for OCR, or None with what to say about it."""
    from PIL import Image as PilImage
    from PIL import UnidentifiedImageError

    from ingest.extractors.image import for_ocr, square_pixels, with_8bit_colormap

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PilImage.DecompressionBombWarning)  # our limit is enforced below
            with PilImage.open(io.BytesIO(data)) as image:
                width, height = image.size
                if image.format in _VECTOR_FORMATS:
                    large = len(data) >= _LARGE_VECTOR_BYTES
                    return None, [], [f"{label}: vector picture (EMF/WMF) not OCR'd"] if large else []
                if image.format not in _OCR_FORMATS:
                    return None, [], [f"{label}: {image.format} picture not OCR'd"]
                if width * height < MIN_OCR_PIXELS or min(width, height) < _MIN_OCR_SIDE:
                    return None, [], []
                if width * height > limits.max_image_pixels:
                    return None, [f"{label} not OCR'd: {width}x{height} pixels is over the limit"], []
                image.load()
                page = with_8bit_colormap(image, image.copy())
    except PilImage.DecompressionBombError as exc:
        return None, [f"{label} not OCR'd: over the pixel limit ({reason(exc)[:120]})"], []
    except UnidentifiedImageError:
        if _is_vector(data):      # an EMF Pillow does not recognise (EMF+ only, or no header)
            return None, [], [f"{label}: vector picture (EMF/WMF) not OCR'd"] if len(data) >= _LARGE_VECTOR_BYTES else []
        return None, [], [f"{label}: not a picture format that can be OCR'd"]
    except _DECODE_ERRORS as exc:
        return None, [f"{label} unreadable ({reason(exc)[:120]})"], []
    if dpi and 50 <= dpi <= 1200 and not page.info.get("dpi"):
        page.info["dpi"] = (dpi, dpi)
    return for_ocr(square_pixels(page)), [], []


def _is_vector(data: bytes) -> bool:
    """EMF (" EMF" signature at byte 40) or WMF (placeable or standard header)."""
    return data[40:44] == b" EMF" or data.startswith((b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00", b"\x02\x00\x09\x00"))
