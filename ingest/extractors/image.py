"""Scans, faxes and photos: every TIFF page (G3/G4 faxes included) read with Pillow and OCR'd."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from PIL import Image, ImageFile, UnidentifiedImageError

from ingest.errors import CorruptDocumentError, TooLargeError
from ingest.language import count_scripts
from ingest.model import ExtractContext, Extraction, PageInfo
from ingest.ocr import default_engine, read_page, scripts_to_languages

if TYPE_CHECKING:
    from ingest.interfaces import Extractor, OcrEngine

__all__ = ["ImageExtractor", "for_ocr", "square_pixels", "with_8bit_colormap"]

log = logging.getLogger(__name__)

# Errors Pillow and its decoders raise for damaged files (libtiff: OSError; headers: SyntaxError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError)
# Only TIFF pages are document pages; the extra frames of GIF, WebP or APNG are animation.
_MULTIPAGE_FORMATS = frozenset({"TIFF"})

# TIFF/EXIF tags worth keeping, by tag number. Fax software writes the sender and time here.
_TAGS = {
    269: "title",              # DocumentName
    270: "description",        # ImageDescription (fax servers: sender id, subject)
    271: "make",
    272: "model",
    285: "page_name",
    305: "software",
    306: "date",               # DateTime, "YYYY:MM:DD HH:MM:SS"
    315: "author",             # Artist
    316: "host_computer",
    33432: "copyright",
    326: "fax_bad_lines",      # BadFaxLines
    327: "fax_clean_data",     # CleanFaxData: 0 clean, 1 regenerated, 2 unclean
    328: "fax_consecutive_bad_lines",
    34908: "fax_recv_params",
    34909: "fax_subaddress",
    34910: "fax_recv_time",    # seconds the transmission took
    34911: "fax_dcs",          # the T.30 Digital Command Signal: how the call was negotiated
}
_COLORMAP = 320                # TIFF ColorMap tag of palette images
_COMPRESSION = {"tiff_ccitt": "CCITT RLE", "group3": "CCITT G3", "group4": "CCITT G4"}
# Resolutions closer than this are treated as square (scanners write 299.9 x 300).
_SQUARE_TOLERANCE = 0.05
# Pages beyond this long side are shrunk before OCR: 5000 px is A3 at 300 dpi, and bigger
# pages only make Tesseract slower without making the text more legible.
_MAX_OCR_SIDE = 5000


class ImageExtractor:
    """Extracts text from images by OCR: every page of a TIFF, the first frame of the others.

    Raises ``TooLargeError`` for pages over ``limits.max_image_pixels``, and
    ``CorruptDocumentError`` when not even the first page can be decoded. Pages beyond
    ``limits.max_pages`` are not read: the first ones are kept and a warning says so. A page
    that cannot be decoded after the first ends the reading, with a warning. Pages OCR'd with
    a mean confidence below ``context.low_confidence``, or whose text does not read as language,
    get a warning (flagged for review: :func:`ingest.ocr.read_page`). Palette TIFFs whose colour
    map holds 8-bit values are read as libtiff reads them, not as an all-black page.

    Args:
        ocr: The OCR engine; the process's shared :class:`ingest.ocr.TesseractOcrEngine` when
            ``None``.
    """

    name: ClassVar[str] = "image"
    media_types: ClassVar[frozenset[str]] = frozenset(
        {"image/tiff", "image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp"}
    )

    def __init__(self, ocr: OcrEngine | None = None) -> None:
        self._ocr: OcrEngine = ocr if ocr is not None else default_engine()

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Read and OCR the pages of one image file.

        Raises:
            CorruptDocumentError: not an image Pillow can decode, or its first page is broken.
            TooLargeError: a page has more pixels than ``context.limits.max_image_pixels``.
        """
        texts: list[str] = []
        infos: list[PageInfo] = []
        problems: list[str] = []
        metadata: dict[str, str] = {}
        models: list[tuple[str, int]] = []
        with _pillow_guarded():
            for number, page in _pages(source, context, metadata, problems):
                if not context.ocr_enabled:
                    infos.append(PageInfo(number=number, chars=0))
                    continue
                reading = read_page(self._ocr, _for_ocr(page), number, context)
                texts.append(reading.text)
                infos.append(reading.info)
                problems.extend(reading.warnings)
                if reading.info.language:
                    models.append((reading.info.language, count_scripts(reading.text).han))
        # "\f" between pages, as pdftotext does; blank pages stay, so page N is chunk N.
        text = "\f".join(texts) if any(t.strip() for t in texts) else ""
        if context.ocr_enabled and infos and not text:
            problems.append("no text recognised")
        return Extraction(
            text=text,
            pages=len(infos),
            languages=scripts_to_languages(count_scripts(text), models),
            metadata=metadata,
            page_info=tuple(infos),
            warnings=tuple(problems),
        )


def square_pixels(image: Image.Image) -> Image.Image:
    """The image resampled so that its pixels are square.

    Fax "normal" mode is 204 x 98 dpi: each scan line is twice as tall as a pixel is wide, and
    letters come out squashed unless the lower-resolution axis is stretched. The result's
    ``dpi`` info is the higher of the two resolutions. Images without resolution info, or
    with square pixels, are returned as they are.
    """
    xres, yres = _resolution(image)
    if not xres or not yres or abs(xres - yres) <= _SQUARE_TOLERANCE * max(xres, yres):
        return image
    dpi = max(xres, yres)
    size = (round(image.width * dpi / xres), round(image.height * dpi / yres))
    # A 1-bit fax stretched in greyscale keeps its strokes smooth; Tesseract binarises again.
    source = image.convert("L") if image.mode in ("1", "P") else image
    squared = source.resize(size, Image.Resampling.BICUBIC)
    squared.info["dpi"] = (dpi, dpi)
    return squared


def _pages(
    source: Path, context: ExtractContext, metadata: dict[str, str], problems: list[str]
) -> Iterator[tuple[int, Image.Image]]:
    """Each decodable page, 1-based, with square pixels; fills ``metadata`` from page 1."""
    limits = context.limits
    try:
        image = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"too large: {exc}") from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        raise CorruptDocumentError(f"corrupt: not a readable image ({_reason(exc)})") from exc
    with image:
        multipage = image.format in _MULTIPAGE_FORMATS
        metadata.update(_metadata(image))
        index = 0
        while True:
            pixels = image.width * image.height
            if pixels > limits.max_image_pixels:
                raise TooLargeError(
                    f"too large: page {index + 1} has {pixels} pixels (limit {limits.max_image_pixels})"
                )
            page = _decode(source, image, index, problems)
            if page is None:
                return
            yield index + 1, square_pixels(page)
            if not multipage:
                return
            index += 1
            try:
                image.seek(index)
            except EOFError:
                return
            except _DECODE_ERRORS as exc:
                problems.append(f"page {index + 1}: unreadable, later pages skipped ({_reason(exc)})")
                return
            if index >= limits.max_pages:
                problems.append(f"only the first {limits.max_pages} pages were read (page limit)")
                return


def _decode(source: Path, image: Image.Image, index: int, problems: list[str]) -> Image.Image | None:
    """The decoded page, possibly partial; ``None`` when a later page cannot be decoded."""
    try:
        image.load()
        return _with_8bit_colormap(image, image.copy())
    except _DECODE_ERRORS as exc:
        reason = _reason(exc)
    # A fax cut off in transmission still has its first lines: read what is there, and say so.
    partial = _decode_truncated(source, index)
    if partial is not None:
        problems.append(f"page {index + 1}: image damaged or truncated, read only in part ({reason})")
        return partial
    if index == 0:
        raise CorruptDocumentError(f"corrupt: cannot decode image ({reason})")
    problems.append(f"page {index + 1}: unreadable, later pages skipped ({reason})")
    return None


def _decode_truncated(source: Path, index: int) -> Image.Image | None:
    # LOAD_TRUNCATED_IMAGES is a Pillow global; workers decode one file at a time, and it is
    # restored at once.
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(source) as image:
            image.seek(index)
            image.load()
            return _with_8bit_colormap(image, image.copy())
    except (Image.DecompressionBombError, *_DECODE_ERRORS):
        return None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _with_8bit_colormap(image: Image.Image, page: Image.Image) -> Image.Image:
    """``page`` with its palette read right when the TIFF's ColorMap holds 8-bit values.

    TIFF colour maps are 16-bit (0-65535), and Pillow keeps each entry's high byte. Some
    writers put 8-bit values (0-255) in those fields: Pillow then maps every index to black and
    a typed page is lost. libtiff's rule (``checkcmap``, used by tiff2pdf and its RGBA reader)
    is to take a map whose every value is under 256 as 8-bit; we do the same.
    """
    if image.format != "TIFF" or page.mode != "P":
        return page
    colormap = image.tag_v2.get(_COLORMAP)  # type: ignore[attr-defined]
    if not colormap or len(colormap) % 3 or max(colormap) > 255 or max(colormap) == 0:
        return page
    log.info("TIFF colour map holds 8-bit values: read as 8-bit, as libtiff does")
    # ColorMap is all reds, then all greens, then all blues: Pillow's planar "RGB;L".
    page.putpalette(bytes(colormap), rawmode="RGB;L")
    return page


def _for_ocr(page: Image.Image) -> Image.Image:
    """The page shrunk to at most ``_MAX_OCR_SIDE`` on its long side, its dpi scaled with it."""
    longest = max(page.size)
    if longest <= _MAX_OCR_SIDE:
        return page
    scale = _MAX_OCR_SIDE / longest
    smaller = page.convert("L") if page.mode in ("1", "P") else page
    smaller = smaller.resize((round(page.width * scale), round(page.height * scale)), Image.Resampling.LANCZOS)
    xres, yres = _resolution(page)
    if xres and yres:
        smaller.info["dpi"] = (xres * scale, yres * scale)
    return smaller


def _metadata(image: Image.Image) -> dict[str, str]:
    metadata = {"format": str(image.format), "mode": image.mode, "width": str(image.width), "height": str(image.height)}
    xres, yres = _resolution(image)
    if xres and yres:
        metadata["dpi"] = f"{xres:g}x{yres:g}"
    compression = image.info.get("compression")
    if isinstance(compression, str):
        metadata["compression"] = _COMPRESSION.get(compression, compression)
    try:
        exif = image.getexif()
    except _DECODE_ERRORS:
        exif = Image.Exif()
    for tag, key in _TAGS.items():
        value = _tag_text(exif.get(tag))
        if value:
            metadata[key] = value
    if "date" in metadata:
        metadata["date"] = _iso_date(metadata["date"])
    for key in ("Title", "Author", "Description"):  # PNG text chunks
        chunk = image.info.get(key)
        if isinstance(chunk, str) and chunk.strip():
            metadata.setdefault(key.lower(), chunk.strip())
    return metadata


def _tag_text(value: object) -> str:
    if isinstance(value, tuple):
        value = " ".join(str(item) for item in value)
    if isinstance(value, str) and not value.isascii():
        # Pillow reads TIFF ASCII tags as Latin-1, but Chinese fax machines and scanners write
        # GBK (or UTF-8) there: undo that reading and decode properly.
        with contextlib.suppress(UnicodeEncodeError):
            value = value.encode("latin-1")
    if isinstance(value, bytes):
        value = _decode_tag(value)
    return str(value).replace("\x00", " ").strip() if value is not None else ""


def _decode_tag(data: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _iso_date(value: str) -> str:
    # "2011:12:10 11:18:30" -> "2011-12-10T11:18:30"; anything else is kept as written.
    date, _, time = value.partition(" ")
    if len(date) == 10 and date[4] == ":" and date[7] == ":":
        return date.replace(":", "-") + ("T" + time if time else "")
    return value


def _resolution(image: Image.Image) -> tuple[float, float]:
    # "resolution" is what Pillow reports when the TIFF's unit is unknown: still a valid ratio.
    value = image.info.get("dpi") or image.info.get("resolution")
    try:
        xres, yres = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return 0.0, 0.0
    # 1 x 1 is what Pillow reports for a TIFF that states no resolution at all.
    return (xres, yres) if xres > 1 and yres > 1 else (0.0, 0.0)


def _reason(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def _pillow_guarded() -> Iterator[None]:
    """Pillow's warnings are logged, never raised (tests and some hosts turn them into errors).

    DecompressionBombWarning is dropped: ``limits.max_image_pixels`` is the guard we enforce.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        if not issubclass(warning.category, Image.DecompressionBombWarning):
            log.info("Pillow: %s", warning.message)


# Public for the pictures inside documents (ingest.extractors._office.ocr_picture): read like scans.
for_ocr = _for_ocr
with_8bit_colormap = _with_8bit_colormap

_: type[Extractor] = ImageExtractor
