"""Presentations: .pptx/.pptm through python-pptx, slide by slide, pictures OCR'd.

Briefings, hearing summaries and training decks reach a complaint office as PowerPoint files;
their text must be searchable like any letter (ARC-5-02: material is filed with what was and was
not read). Each slide becomes one block, blocks separated by ``\\f`` (slide N is page N)::

    Slide 1: 信访工作情况汇报          <- the title placeholder, or "Slide 1" without one
    本月受理投诉 35 件                 <- text frames in reading order (top, then left)
    类别<TAB>件数                      <- table rows, cells joined by a tab
    Notes: 请补充上月数据              <- speaker notes

Groups are walked recursively, SmartArt text is read from its data part, chart titles are kept.
Pictures (scanned letters pasted into a slide are common) are OCR'd like images in mail and
PDF, when OCR is enabled: each distinct picture once, at most ``MAX_OCR_PICTURES`` per deck,
by :func:`ingest.extractors._office.ocr_picture` (icons skipped; a picture over the pixel limit
or undecodable is named in a warning, a large EMF/WMF in a note). The zip is inspected before anything is decompressed (zip-bomb
guard); encrypted decks open with the supplied password, decrypted in memory only.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from ingest.errors import (
    CorruptDocumentError,
    IngestError,
    UnsupportedFormatError,
)
from ingest.extractors._office import core_properties, head, ocr_picture, ole_streams
from ingest.extractors._office import reason as _reason
from ingest.extractors._zip import guard_members
from ingest.language import count_scripts
from ingest.model import ExtractContext, Extraction, PageInfo
from ingest.ocr import scripts_to_languages

if TYPE_CHECKING:
    from ingest.interfaces import Extractor, OcrEngine

__all__ = ["MAX_OCR_PICTURES", "SlidesExtractor"]

log = logging.getLogger(__name__)

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# OCR is the expensive part of a deck: a 200-slide deck of screenshots must not hold a worker
# for an hour. The first pictures are read, and a warning says how many were not.
MAX_OCR_PICTURES = 30
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_DIAGRAM_URI = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_DGM = "{http://schemas.openxmlformats.org/drawingml/2006/diagram}"
_PRESENTATION_MAIN = b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
_OTHER_MAIN_TYPES = (
    b"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    b"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    b"application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
)


class SlidesExtractor:
    """Extracts PowerPoint 2007+ presentations (.pptx, .pptm), slide shows (.ppsx) and templates (.potx).

    Args:
        ocr: The OCR engine for pictures; the process's shared engine
            (:func:`ingest.ocr.default_engine`) when ``None``, created on the first picture.
        max_ocr_pictures: Distinct pictures OCR'd per presentation; the rest get a warning.
    """

    name: ClassVar[str] = "slides"
    media_types: ClassVar[frozenset[str]] = frozenset({
        _PPTX,
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    })
    takes_password: ClassVar[bool] = True

    def __init__(self, ocr: OcrEngine | None = None, *, max_ocr_pictures: int = MAX_OCR_PICTURES) -> None:
        self._ocr = ocr
        self.max_ocr_pictures = max_ocr_pictures

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return each slide's title, text, tables and notes, and the text of its pictures.

        Raises:
            TooLargeError: the file, or the sum of its zip members, exceeds the limits.
            EncryptedDocumentError: the deck is encrypted and no (correct) password was given.
            UnsupportedFormatError: a legacy PowerPoint 97-2003 (.ppt) or another OLE file.
            CorruptDocumentError: truncated, damaged or not a presentation.
        """
        signature = head(source, context.limits)
        if signature.startswith(_ZIP_MAGIC):
            with source.open("rb") as handle:
                return self._read(handle, context)
        if signature.startswith(_CFB_MAGIC):
            streams = ole_streams(source)
            if "encryptedpackage" in streams:
                from ingest.extractors.office_crypto import decrypt_office

                return self._read(io.BytesIO(decrypt_office(source, context.password)), context)
            if "powerpoint document" in streams:
                raise UnsupportedFormatError("legacy PowerPoint 97-2003 presentation (.ppt) is not read")
            raise UnsupportedFormatError("OLE compound file, not a PowerPoint presentation")
        raise CorruptDocumentError("not a presentation: not a zip package (PPTX)")

    def _read(self, handle: IO[bytes], context: ExtractContext) -> Extraction:
        try:
            with zipfile.ZipFile(handle) as archive:
                guard_members(archive.infolist(), context.limits, what="PPTX package")
                if "ppt/presentation.xml" not in archive.namelist():
                    raise CorruptDocumentError("no ppt/presentation.xml in the package (not a PPTX)")
                metadata = core_properties(archive)
                handle = _as_presentation(archive) or handle
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise CorruptDocumentError(f"damaged or truncated zip package (PPTX): {_reason(exc)}") from exc
        handle.seek(0)
        import pptx

        try:
            deck = pptx.Presentation(handle)
        except IngestError:
            raise
        except Exception as exc:  # python-pptx: KeyError, ValueError, BadZipFile, lxml errors, ...
            raise CorruptDocumentError(f"unreadable presentation: {_reason(exc)}") from exc
        reader = _DeckReader(self, context)
        blocks: list[str] = []
        infos: list[PageInfo] = []
        for number, slide in enumerate(_slides(deck, reader.warnings), start=1):
            if number > context.limits.max_pages:
                reader.warnings.append(f"only the first {context.limits.max_pages} slides were read (page limit)")
                break
            try:
                text = reader.slide_text(number, slide)
            except IngestError:
                raise
            except Exception as exc:  # one damaged slide (a broken relationship) must not cost the deck
                reader.warnings.append(f"slide {number}: unreadable ({_reason(exc)})")
                text = f"Slide {number}"
            blocks.append(text)
            readings = reader.readings.pop(number, [])
            confidences = [r.confidence for r in readings if r.confidence is not None]
            infos.append(PageInfo(
                number=number, chars=len(text), ocr=bool(readings),
                confidence=min(confidences) if confidences else None,
                language=readings[0].language if readings else None,
            ))
        if reader.skipped:
            reader.warnings.append(f"{reader.skipped} picture(s) not OCR'd: only the first "
                                   f"{self.max_ocr_pictures} pictures of a presentation are read")
        text = "\f".join(blocks)
        return Extraction(
            text=text,
            pages=len(blocks),
            languages=scripts_to_languages(count_scripts(text), reader.models),
            metadata=metadata,
            page_info=tuple(infos),
            warnings=tuple(reader.warnings),
            notes=tuple(dict.fromkeys(reader.notes)),
        )

    def engine(self) -> OcrEngine:
        if self._ocr is None:
            from ingest.ocr import default_engine

            self._ocr = default_engine()
        return self._ocr


@dataclass(slots=True)
class _DeckReader:
    """Walks one deck's slides; remembers which pictures were OCR'd (each once)."""

    owner: SlidesExtractor
    context: ExtractContext
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    readings: dict[int, list[PageInfo]] = field(default_factory=dict)   # slide → OCR'd pictures
    models: list[tuple[str, int]] = field(default_factory=list)         # (model, Han read), for languages
    seen: set[str] = field(default_factory=set)
    ocr_count: int = 0
    skipped: int = 0

    def slide_text(self, number: int, slide: Any) -> str:
        title_shape = slide.shapes.title
        title = _one_line(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
        heading = f"Slide {number}: {title}" if title else f"Slide {number}"
        # A hidden slide is still part of the file (and often its most telling part): read, and named so.
        lines = [heading + (" (hidden slide)" if slide._element.get("show") in ("0", "false") else "")]
        skip = title_shape.shape_id if title_shape is not None and title else None
        lines.extend(self._shapes(number, slide, slide.shapes, skip))
        notes = _notes(slide)
        if notes:
            lines.append("Notes: " + notes)
        return "\n".join(line for line in lines if line.strip())

    def _shapes(self, number: int, slide: Any, shapes: Iterable[Any], skip: int | None) -> Iterator[str]:
        for shape in sorted(shapes, key=_reading_order):
            if skip is not None and getattr(shape, "shape_id", None) == skip:
                continue
            yield from self._shape(number, slide, shape)

    def _shape(self, number: int, slide: Any, shape: Any) -> Iterator[str]:
        from pptx.enum.shapes import MSO_SHAPE_TYPE

        kind = _shape_type(shape)
        if kind == MSO_SHAPE_TYPE.GROUP:
            yield from self._shapes(number, slide, shape.shapes, None)
            return
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from _frame_lines(shape.text_frame)
        if getattr(shape, "has_table", False) and shape.has_table:
            yield from _table_lines(shape.table)
        if getattr(shape, "has_chart", False) and shape.has_chart:
            chart = shape.chart
            if chart.has_title and chart.chart_title.has_text_frame:
                yield from _frame_lines(chart.chart_title.text_frame)
        if _is_diagram(shape):
            yield from _diagram_lines(slide, shape)
        image = _picture_blob(shape)
        if image is not None:
            text = self._ocr_picture(number, image)
            if text:
                yield text

    def _ocr_picture(self, number: int, blob: bytes) -> str:
        if not self.context.ocr_enabled:
            return ""
        digest = hashlib.sha256(blob).hexdigest()
        if digest in self.seen:       # a logo on every slide is read once
            return ""
        self.seen.add(digest)
        if self.ocr_count >= self.owner.max_ocr_pictures:
            self.skipped += 1
            return ""
        found = ocr_picture(blob, f"slide {number} picture", self.context, self.owner.engine, number=number)
        self.warnings.extend(found.warnings)
        self.notes.extend(found.notes)
        reading = found.reading
        if reading is None:
            return ""
        self.ocr_count += 1
        self.readings.setdefault(number, []).append(reading.info)
        if reading.info.language:
            self.models.append((reading.info.language, count_scripts(reading.text).han))
        return reading.text.replace("\f", "\n").strip()    # "\f" separates slides only


def _as_presentation(archive: zipfile.ZipFile) -> IO[bytes] | None:
    """A slide show (.ppsx) or template (.potx) repackaged in memory as a presentation, or None.

    They differ from a .pptx only in the main part's content type, which python-pptx refuses.
    The members were sized by the zip guard already; they are copied, not re-compressed.
    """
    types = archive.read("[Content_Types].xml")
    if not any(kind in types for kind in _OTHER_MAIN_TYPES):
        return None
    for kind in _OTHER_MAIN_TYPES:
        types = types.replace(kind, _PRESENTATION_MAIN)
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
        for info in archive.infolist():
            target.writestr(info.filename, types if info.filename == "[Content_Types].xml" else archive.read(info))
    return copy


def _slides(deck: Any, warnings: list[str]) -> Iterator[Any]:
    """The deck's slides; a slide whose part is missing is skipped, with a warning."""
    slides = deck.slides
    for index in range(len(slides)):
        try:
            yield slides[index]
        except Exception as exc:  # a dangling relationship in presentation.xml
            warnings.append(f"slide {index + 1}: missing or unreadable ({_reason(exc)})")


def _reading_order(shape: Any) -> tuple[int, int]:
    """Top, then left. Placeholders inherit their position from the layout; unknown is first."""
    try:
        return int(shape.top or 0), int(shape.left or 0)
    except Exception:  # a placeholder whose layout lost its position
        return 0, 0


def _shape_type(shape: Any) -> Any:
    try:
        return shape.shape_type
    except NotImplementedError:   # python-pptx has no type for some auto-shapes
        return None


def _frame_lines(frame: Any) -> Iterator[str]:
    for paragraph in frame.paragraphs:
        # python-pptx renders a soft line break (<a:br>) as "\v".
        for line in paragraph.text.replace("\v", "\n").split("\n"):
            if line.strip():
                yield line.rstrip()


def _table_lines(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells = [("" if cell.is_spanned else _one_line(cell.text)) for cell in row.cells]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield "\t".join(cells)


def _is_diagram(shape: Any) -> bool:
    element = getattr(shape, "_element", None)
    data = element.find(f".//{_A}graphicData") if element is not None else None
    return data is not None and data.get("uri") == _DIAGRAM_URI


def _diagram_lines(slide: Any, shape: Any) -> Iterator[str]:
    """SmartArt text lives in its own data part, which the slide's graphic frame points to."""
    ids = shape._element.find(f".//{_DGM}relIds")
    target = ids.get(f"{_R}dm") if ids is not None else None
    if not target:
        return
    try:
        part = slide.part.related_part(target)
        from lxml import etree

        root = etree.fromstring(part.blob, etree.XMLParser(resolve_entities=False, no_network=True))
    except Exception as exc:  # a missing or damaged diagram part
        log.debug("SmartArt data unreadable: %s", exc)
        return
    for paragraph in root.iter(f"{_A}p"):
        line = "".join(t.text or "" for t in paragraph.iter(f"{_A}t")).strip()
        if line:
            yield line


def _picture_blob(shape: Any) -> bytes | None:
    """The image bytes of a picture (or picture placeholder); None for anything else."""
    from pptx.shapes.picture import Picture
    from pptx.shapes.placeholder import PlaceholderPicture

    if not isinstance(shape, (Picture, PlaceholderPicture)):
        return None
    try:
        return bytes(shape.image.blob)
    except Exception:  # a linked (not embedded) or missing image
        return None


def _notes(slide: Any) -> str:
    try:
        if not slide.has_notes_slide:
            return ""
        frame = slide.notes_slide.notes_text_frame
    except Exception:  # a damaged notes part costs the notes only
        return ""
    return "\n".join(_frame_lines(frame)) if frame is not None else ""


def _one_line(text: str) -> str:
    return " ".join(text.replace("\v", " ").split())


_: type[Extractor] = SlidesExtractor
