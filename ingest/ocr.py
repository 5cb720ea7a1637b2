"""OCR with Tesseract (through tesserocr), routed between Simplified and Traditional Chinese.

One :class:`TesseractOcrEngine` lives in each worker process and keeps one initialised
Tesseract API per language string, because loading ``chi_sim`` or ``chi_tra`` takes longer
than recognising a page.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from PIL import Image

from ingest.language import (
    ScriptCounts,
    count_scripts,
    drop_stray_han,
    join_cjk,
    languages_from_counts,
    looks_like_language,
)
from ingest.model import ExtractContext, PageInfo
from records.errors import ConfigurationError

# One OCR thread per worker process: the pool already runs one worker per core, and an OpenMP
# build of Tesseract with its default thread count is several times slower on our 2-core
# machines. Must be set before the library loads; an operator's explicit value wins.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import tesserocr  # type: ignore[import-untyped]  # noqa: E402

if TYPE_CHECKING:
    from ingest.interfaces import OcrEngine

log = logging.getLogger(__name__)

__all__ = [
    "OcrText", "PageReading", "TesseractOcrEngine", "VerticalColumn", "columns_as_lines", "default_engine",
    "find_tessdata", "read_page", "scripts_to_languages", "vertical_columns",
]

# Where Debian (tesseract-ocr-*), Fedora, Alpine and source builds put the language data.
_TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tesseract-ocr/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/*/tessdata",
    "/opt/homebrew/share/tessdata",
)
_CHINESE = ("chi_sim", "chi_tra")
# Page-reading rules, measured with benchmarks/ocr_quality.py (see TesseractOcrEngine).
_GLYPH_TARGET = 20           # px: Chinese glyph height the Tesseract models read best
_GLYPH_BAND = (16, 25)       # px: pages with glyphs outside this are scaled to _GLYPH_TARGET
_HEIGHT_MIN_SAMPLES = 10     # words needed before their median height is trusted
# Stray "Han" the Chinese model reads in a Latin page's specks: per Latin letter, and at least.
_LATIN_PAGE_HAN_SHARE = 0.1
_LATIN_PAGE_STRAY_HAN = 2
_MIXED_MIN_LATIN = 30        # Latin letters that make a Chinese page worth an extra +eng reading
_MIXED_LATIN_SHARE = 0.2
_PROBE_MAX_SIDE = 2000       # px: long side of the copy that text height is measured on
_OSD_MAX_SIDE = 1600         # px: orientation and script detection runs on a copy this size
# Orientation confidence needed to turn a page. Upright pages were misjudged with up to 2.1,
# turned ones were recognised with 6.5 and more (OCRmyPDF's default, 14, missed most faxes).
_MIN_ORIENT_CONF = 5.0
_POOR_READING = 50.0         # mean confidence under which a hesitant orientation guess is tried
_LATIN_ACCEPT = 80.0         # eng confidence that settles a page the detector calls Latin


@dataclass(frozen=True, slots=True)
class OcrText:
    """Text Tesseract recognised on one page (satisfies ``ingest.interfaces.OcrResult``)."""

    text: str
    confidence: float      # mean word confidence 0-100; 0 when no word was found
    language: str          # Tesseract language string used, e.g. "chi_sim+eng"


class TesseractOcrEngine:
    """Recognises Chinese (Simplified or Traditional) and English pages with Tesseract.

    How a page is read (each rule measured with ``benchmarks/ocr_quality.py``):

    0. Tesseract's orientation and script detection turns upside-down and sideways scans
       upright (when unsure, only if the page reads badly as it lies); a page it calls Latin
       is read with the other languages (``eng``) first, and that reading is kept if it is
       confident.
    1. The page is scaled so that its glyphs are ~20 px tall (measured by layout analysis):
       at 300 dpi, body text is 40-60 px, and shrinking it to 20 px cut the Chinese error rate
       2-4 times on clean scans and faxes alike.
    2. It is read with the first Chinese model alone (``chi_sim``). Adding ``+eng`` here makes
       Tesseract read smudged Chinese as Latin garbage: on faxes it doubled the error rate.
    3. If that reading is unsure (``retry_below``), the other Chinese model (``chi_tra``) reads
       the page too, and wins if its mean word confidence is ``prefer_margin`` higher.
       ``chi_sim`` and ``chi_tra`` are never loaded into one API: they confuse each other.
    4. A page with (almost) no Han is read with the other languages alone (``eng``); a page
       with much Latin among the Han is also read with ``chi_xxx+eng``; the more confident
       reading wins.
    5. A page set in vertical columns (:func:`vertical_columns`) is also read re-set as
       horizontal lines, one per column, right to left (:func:`columns_as_lines`); the more
       confident reading wins. The installed models read horizontal lines only.

    Safe to share between threads: recognition is serialised by a lock.

    Args:
        tessdata: The directory holding ``*.traineddata``; found with :func:`find_tessdata`
            when ``None``.
        retry_below: Mean confidence under which the other Chinese model is also tried.
        prefer_margin: How many points more confident another reading must be to replace the
            first. Tesseract's Traditional model reads Simplified text almost as confidently
            (within 0.3 points, in Traditional characters); on Traditional text it beats ``chi_sim``
            by 6 points or more.
    """

    name: ClassVar[str] = "tesseract"

    def __init__(
        self,
        tessdata: Path | None = None,
        *,
        retry_below: float = 90.0,
        prefer_margin: float = 2.0,
    ) -> None:
        self._tessdata = tessdata
        self._retry_below = retry_below
        self._prefer_margin = prefer_margin
        self._apis: dict[str, tesserocr.PyTessBaseAPI] = {}
        self._lock = threading.Lock()

    @property
    def tessdata(self) -> Path:
        """The language data directory in use."""
        if self._tessdata is None:
            self._tessdata = find_tessdata()
        return self._tessdata

    def check(self, languages: Sequence[str]) -> None:
        """Fail now, not on the first scanned page, if language data is missing.

        Raises:
            ConfigurationError: no tessdata directory, or a language's data is not in it.
        """
        missing = [lang for lang in languages if not (self.tessdata / f"{lang}.traineddata").is_file()]
        if missing:
            packages = " ".join("tesseract-ocr-" + lang.replace("_", "-") for lang in missing)
            raise ConfigurationError(
                f"Tesseract language data missing in {self.tessdata}: {', '.join(missing)}"
                f" (Debian: apt-get install {packages})"
            )

    def recognise(self, image: Image.Image, languages: tuple[str, ...]) -> OcrText:
        """Read one page image.

        Args:
            image: The page, with square pixels; any mode. Its ``dpi`` info, if plausible, is
                passed to Tesseract.
            languages: Tesseract languages allowed, e.g. ``("chi_sim", "chi_tra", "eng")``.

        Raises:
            ConfigurationError: language data is missing.
        """
        if not languages:
            raise ConfigurationError("OCR needs at least one language")
        self.check(languages)
        page = _Page(_to_greyscale(image), _source_dpi(image))
        chinese = [lang for lang in languages if lang in _CHINESE]
        others = "+".join(lang for lang in languages if lang not in _CHINESE)
        with self._lock:
            rotation, confident, script = self._orientation(page)
            if rotation and confident:
                page = page.rotated(rotation)
            best = self._read_page(page, chinese, others, script)
            # A hesitant orientation guess is tried only when the page as it lies reads badly.
            if rotation and not confident and best.result.confidence < _POOR_READING:
                best = self._better(best, self._read_page(page.rotated(rotation), chinese, others, script))
            columns = vertical_columns(page.image) if chinese else None
            if columns:
                lines = _Page(columns_as_lines(page.image, columns), page.dpi)
                best = self._better(best, self._read_chinese(lines, chinese, ""))
        return best.result

    def _read_page(self, page: _Page, chinese: list[str], others: str, script: str) -> _Reading:
        if not chinese:
            return self._read(others, page)
        latin = None
        if others and script == "Latin":
            latin = self._read(others, page)
            if latin.result.confidence >= _LATIN_ACCEPT:
                return latin
        best = self._read_chinese(page, chinese, others)
        if latin is not None and latin.result.confidence > best.result.confidence:
            return latin
        return best

    def _read_chinese(self, page: _Page, chinese: list[str], others: str) -> _Reading:
        height = self._text_height(page, chinese[0])
        original = page
        if height and not _GLYPH_BAND[0] <= height <= _GLYPH_BAND[1]:
            page = page.scaled(_GLYPH_TARGET / height)
        first = self._read(chinese[0], page)
        counts = first.counts
        if others and counts.latin and counts.han <= max(_LATIN_PAGE_STRAY_HAN, _LATIN_PAGE_HAN_SHARE * counts.latin):
            return self._better(first, self._read(others, original))
        best = first
        for language in chinese[1:]:
            if best.result.confidence >= self._retry_below:
                break
            best = self._better(best, self._read(language, page))
        counts = best.counts
        if others and counts.latin >= _MIXED_MIN_LATIN and counts.latin >= _MIXED_LATIN_SHARE * counts.letters:
            best = self._better(best, self._read(f"{best.result.language}+{others}", page))
        return best

    def _text_height(self, page: _Page, language: str) -> float:
        """Median height of the page's words in px (Chinese: of its glyphs); 0 if too few.

        From Tesseract's layout analysis alone, without recognition: a tenth of a reading's
        time. Measured on a copy reduced to ``_PROBE_MAX_SIDE``, and scaled back.
        """
        factor = min(1.0, _PROBE_MAX_SIDE / max(page.image.size))
        api = self._api(language)
        api.SetImage(page.scaled(factor).image if factor < 1 else page.image)
        heights: list[int] = []
        try:
            iterator = api.AnalyseLayout()
            level = tesserocr.RIL.WORD
            for word in tesserocr.iterate_level(iterator, level) if iterator is not None else ():
                box = word.BoundingBox(level)
                if box:
                    heights.append(box[3] - box[1])
        finally:
            api.Clear()
        if len(heights) < _HEIGHT_MIN_SAMPLES:
            return 0.0
        return sorted(heights)[len(heights) // 2] / factor

    def _orientation(self, page: _Page) -> tuple[int, bool, str]:
        """How to turn the page upright, whether that is certain, and the page's script.

        Tesseract's orientation and script detection (``osd``) on a copy of the page reduced
        to ``_OSD_MAX_SIDE``: as reliable as on the full page, and 2-3 times faster. Returns
        degrees to turn counter-clockwise, ``(0, False, "")`` if there is too little text.
        """
        if not (self.tessdata / "osd.traineddata").is_file():
            return 0, False, ""
        api = self._api("osd", tesserocr.PSM.OSD_ONLY)
        scale = min(1.0, _OSD_MAX_SIDE / max(page.image.size))
        api.SetImage(page.scaled(scale).image if scale < 1 else page.image)
        try:
            found = api.DetectOrientationScript()
        except RuntimeError:
            found = None
        finally:
            api.Clear()
        if not found:
            return 0, False, ""
        log.debug("osd: %s", found)
        return int(found["orient_deg"]), found["orient_conf"] >= _MIN_ORIENT_CONF, str(found["script_name"])

    def close(self) -> None:
        """Free the loaded models (the worker is going away)."""
        with self._lock:
            for api in self._apis.values():
                api.End()
            self._apis.clear()

    def _better(self, current: _Reading, challenger: _Reading) -> _Reading:
        margin = challenger.result.confidence - current.result.confidence
        return challenger if margin >= self._prefer_margin else current

    def _read(self, language: str, page: _Page) -> _Reading:
        started = time.perf_counter()
        api = self._api(language)
        api.SetImage(page.image)
        if page.dpi is not None:
            api.SetSourceResolution(page.dpi)
        try:
            text = _tidy(api.GetUTF8Text())
            confidences = api.AllWordConfidences()
        finally:
            api.Clear()
        # Words without text (a big blot, a logo) have confidences too; no text means no reading.
        confidence = round(sum(confidences) / len(confidences), 1) if confidences and text else 0.0
        log.debug(
            "read %s at %dx%d: confidence %.1f, %d chars, %.2f s", language, page.image.width,
            page.image.height, confidence, len(text), time.perf_counter() - started,
        )
        return _Reading(OcrText(text, confidence, language), count_scripts(text))

    def _api(self, language: str, psm: int = tesserocr.PSM.AUTO) -> tesserocr.PyTessBaseAPI:
        api = self._apis.get(language)
        if api is None:
            try:
                api = tesserocr.PyTessBaseAPI(path=str(self.tessdata), lang=language, psm=psm)
            except RuntimeError as exc:
                raise ConfigurationError(f"Tesseract cannot load {language!r} from {self.tessdata}: {exc}") from exc
            self._apis[language] = api
        return api


@dataclass(frozen=True, slots=True)
class _Page:
    image: Image.Image
    dpi: int | None

    def rotated(self, degrees: int) -> _Page:
        return _Page(self.image.rotate(degrees, expand=True, fillcolor=255), self.dpi)

    def scaled(self, factor: float) -> _Page:
        size = (max(1, round(self.image.width * factor)), max(1, round(self.image.height * factor)))
        dpi = round(self.dpi * factor) if self.dpi else None
        return _Page(self.image.resize(size, Image.Resampling.LANCZOS), dpi)


@dataclass(frozen=True, slots=True)
class _Reading:
    result: OcrText
    counts: ScriptCounts


@functools.cache
def default_engine() -> TesseractOcrEngine:
    """The process's shared engine: the PDF and image extractors then load each model once.

    Created on first use, never at import; each worker process gets its own.
    """
    return TesseractOcrEngine()


@dataclass(frozen=True, slots=True)
class PageReading:
    """One OCR'd page as an extractor records it."""

    text: str
    info: PageInfo
    warnings: tuple[str, ...] = ()


def read_page(engine: OcrEngine, image: Image.Image, number: int, context: ExtractContext) -> PageReading:
    """OCR one page and judge it, flagging for review what is unsure or does not read as language.

    A page read with low confidence, or whose text does not read as language
    (:func:`ingest.language.looks_like_language`), gets a warning; stray Han in a page judged
    English is dropped (:func:`ingest.language.drop_stray_han`).

    The one place every extractor judges OCR'd pages (issue #13): letter and fax scans
    (INT-CH-01/02) are filed with a warning a reviewer sees (ARC-5-02), never silently as ``ok``.

    Args:
        engine: Any OCR engine.
        image: The page, with square pixels.
        number: The 1-based page number, for the page info and warnings.
        context: Gives the OCR languages and the ``low_confidence`` threshold.
    """
    try:
        result = engine.recognise(image, context.ocr_languages)
    except RuntimeError as exc:  # tesserocr's error for an image it cannot take
        return PageReading("", PageInfo(number=number, chars=0, ocr=True), (f"page {number}: OCR failed ({exc})",))
    # Specks and empty boxes the Chinese model read as "上" in an English page are not text.
    text = drop_stray_han(result.text)
    readable = looks_like_language(text)
    info = PageInfo(number=number, chars=len(text), ocr=True, confidence=result.confidence, language=result.language,
                    readable=readable)
    problems: list[str] = []
    # A blank page (the back of a letter) has no words to be unsure about.
    if text.strip() and result.confidence < context.low_confidence:
        problems.append(f"page {number}: low OCR confidence {result.confidence:.0f}")
    # Confidence is Tesseract's certainty about glyphs, not whether they say anything: a photograph
    # read as "potatopeeoeerengeogoeoona" can score 71. The text itself is judged as well.
    if not readable:
        problems.append(f"page {number}: OCR text does not read as language; flagged for review")
    return PageReading(text, info, tuple(problems))


def scripts_to_languages(counts: ScriptCounts, models: Sequence[tuple[str, int]]) -> tuple[str, ...]:
    """Languages of OCR'd text; undecided Chinese is settled by the model that read most Han.

    Args:
        counts: Script counts of the whole text.
        models: (Tesseract language string, Han characters it read) per page.
    """
    languages = languages_from_counts(counts)
    if "zh" not in languages:
        return languages
    simplified = sum(han for language, han in models if "chi_sim" in language)
    traditional = sum(han for language, han in models if "chi_tra" in language)
    if simplified == traditional:
        return languages
    tag = "zh-Hans" if simplified > traditional else "zh-Hant"
    return tuple(tag if language == "zh" else language for language in languages)


def find_tessdata() -> Path:
    """The tessdata directory of the installed language packs, newest Tesseract first.

    Raises:
        ConfigurationError: none was found.
    """
    # Tesseract's own override, as the command-line tool honours it.
    prefix = os.environ.get("TESSDATA_PREFIX")
    candidates = [Path(prefix), Path(prefix) / "tessdata"] if prefix else []
    for pattern in _TESSDATA_GLOBS:
        root = Path("/")
        candidates += sorted(root.glob(pattern.lstrip("/")), key=_version_key, reverse=True)
    for directory in candidates:
        if directory.is_dir() and any(directory.glob("*.traineddata")):
            return directory
    raise ConfigurationError(
        "no Tesseract language data found (Debian: apt-get install tesseract-ocr-chi-sim "
        "tesseract-ocr-chi-tra tesseract-ocr-eng)"
    )


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/share/tesseract-ocr/5/tessdata sorts above .../4.00/tessdata
    return tuple(int(part) for part in re.findall(r"\d+", str(path)))


def _to_greyscale(image: Image.Image) -> Image.Image:
    """8-bit greyscale on white, the input Tesseract's own binarisation does best with."""
    if image.mode == "L":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float scans: stretch their range to 8 bits; convert("L") would clip it.
        floats = image.convert("F")
        low, high = (float(v) for v in floats.getextrema())  # type: ignore[arg-type]
        scale = 255 / (high - low) if high > low else 0.0
        return floats.point(lambda v: (v - low) * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return image.convert("L")


def _source_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0]))  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    # 1 and 72 are what software writes when it does not know; Tesseract's own estimate is better.
    return value if 50 <= value <= 2400 and value != 72 else None


def _tidy(text: str) -> str:
    # Tesseract separates CJK characters with spaces it has no reason for.
    lines = [join_cjk(line).rstrip() for line in text.replace("\f", "").splitlines()]
    return "\n".join(lines).strip("\n")


# --- Vertical CJK (issue #13): columns read top to bottom, right to left ------------------------
#
# The installed Chinese models read horizontal lines only; a page set in columns (gazettes,
# notices, couplets) comes out one character per line or as nonsense. A page whose ink stands in
# tall columns of square glyphs is therefore re-set: each column, cut into its glyphs, becomes one
# horizontal line, columns right to left, and that page is read as well; the more confident
# reading wins, so a horizontal page that happens to look columnar loses nothing.
_VERTICAL_PROBE_SIDE = 1600   # px: long side of the copy the layout is measured on
_INK = 128                    # grey level under which a pixel is ink
_MIN_COLUMNS = 2
_MIN_COLUMN_ASPECT = 3.0      # a column is at least this many times taller than wide
_MIN_COLUMN_WIDTH = 8         # px on the probe: narrower runs are rules and specks
_GLYPH_SQUARE = (0.6, 1.5)    # glyph height / column width of CJK glyphs set in a column
_MIN_COLUMN_INK = 0.8         # share of the page's ink the columns must hold
_FULL_GLYPH = 0.7             # a glyph this tall (per column width) shows the column's pitch
_MAX_PITCH = 1.8              # per column width: centres further apart have a cell between them


@dataclass(frozen=True, slots=True)
class VerticalColumn:
    """One column of vertically set text, in page pixels."""

    left: int
    right: int
    glyphs: tuple[tuple[int, int], ...]   # (top, bottom) of each glyph, top to bottom


def _runs(profile: Sequence[int], threshold: int = 0) -> list[tuple[int, int]]:
    """[start, end) of the runs of values above ``threshold``."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, value in enumerate(profile):
        if value > threshold and start is None:
            start = index
        elif value <= threshold and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(profile)))
    return runs


def _profile(mask: Image.Image, axis: str) -> list[int]:
    """Ink per column (``axis="x"``) or per row (``"y"``) of a 0/255 mask, as 0-255 averages."""
    size = (mask.width, 1) if axis == "x" else (1, mask.height)
    return list(mask.resize(size, Image.Resampling.BOX).tobytes())


def _ink_glyphs(runs: Sequence[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """Ink rows of a column joined into glyphs while a glyph stays about square (二, 三, 六 have gaps)."""
    glyphs: list[tuple[int, int]] = []
    for top, bottom in runs:
        if glyphs and bottom - glyphs[-1][0] <= _GLYPH_SQUARE[1] * width * 0.8:
            glyphs[-1] = (glyphs[-1][0], bottom)
        else:
            glyphs.append((top, bottom))
    return glyphs


def _cells(runs: Sequence[tuple[int, int]], greedy: Sequence[tuple[int, int]], width: int,
           height: int) -> list[tuple[int, int]]:
    """The glyph cells of one column, top to bottom, as (top, bottom) rows.

    CJK is set on a grid: once a few full-size glyphs show the column's pitch, each ink row
    joins the cell its centre falls in (一 above 二 stay two glyphs). Without them, the glyphs
    joined by :func:`_ink_glyphs` are the cells.
    """
    centres = [(top + bottom) / 2 for top, bottom in greedy if bottom - top >= _FULL_GLYPH * width]
    steps = sorted(b - a for a, b in itertools.pairwise(centres) if b - a < _MAX_PITCH * width)
    if len(steps) < 2:
        return list(greedy)
    # The mean of the steps near the median one: steps over a misjudged glyph are left out, and
    # the mean is finer than one step measured in whole pixels on the small probe.
    rough = steps[len(steps) // 2]
    near = [step for step in steps if abs(step - rough) <= 0.15 * rough]
    pitch = sum(near) / len(near)
    # Where the cells' centres lie: the ink-weighted circular mean of the rows' centres, so that
    # full glyphs decide and a lone stroke (一, the dots of 六) does not.
    cosine = sum((bottom - top) * math.cos(math.tau * (top + bottom) / 2 / pitch) for top, bottom in runs)
    sine = sum((bottom - top) * math.sin(math.tau * (top + bottom) / 2 / pitch) for top, bottom in runs)
    phase = math.atan2(sine, cosine) / math.tau * pitch
    grouped: dict[int, tuple[int, int]] = {}
    for top, bottom in runs:
        cell = round(((top + bottom) / 2 - phase) / pitch)
        low, high = grouped.get(cell, (top, bottom))
        grouped[cell] = (min(low, top), max(high, bottom))
    # Whole cells, as horizontal text has them: where a glyph sits in its cell is part of it
    # (一 in the middle, 二 filling it); ink sticking out of its cell is kept.
    return [
        (max(0, min(low, round(phase + (cell - 0.5) * pitch))),
         min(height, max(high, round(phase + (cell + 0.5) * pitch))))
        for cell, (low, high) in sorted(grouped.items())
    ]


def vertical_columns(image: Image.Image) -> list[VerticalColumn] | None:
    """The columns of a page set vertically, right to left, in ``image``'s pixels; else ``None``.

    Vertical when most ink stands in at least two tall columns of roughly square glyphs, and the
    gaps between columns are wider than the gaps between the glyphs in them (in a horizontal page
    on a character grid it is the other way round: lines are further apart than characters).
    """
    grey = image if image.mode == "L" else image.convert("L")
    factor = min(1.0, _VERTICAL_PROBE_SIDE / max(grey.size))
    probe = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
                        Image.Resampling.BOX) if factor < 1 else grey
    mask = probe.point(lambda v: 255 if v < _INK else 0)
    profile = _profile(mask, "x")
    total = sum(profile)
    if not total:
        return None
    columns: list[VerticalColumn] = []
    glyph_gaps: list[int] = []
    inside = 0
    for left, right in _runs(profile):
        width = right - left
        strip = mask.crop((left, 0, right, mask.height))
        box = strip.getbbox()
        if width < _MIN_COLUMN_WIDTH or box is None or box[3] - box[1] < _MIN_COLUMN_ASPECT * width:
            continue
        runs = _runs(_profile(strip, "y"))
        glyphs = _ink_glyphs(runs, width)
        heights = sorted(bottom - top for top, bottom in glyphs)
        if len(glyphs) < 3 or not _GLYPH_SQUARE[0] <= heights[len(heights) // 2] / width <= _GLYPH_SQUARE[1]:
            continue
        glyph_gaps += [b[0] - a[1] for a, b in itertools.pairwise(glyphs)]
        columns.append(VerticalColumn(left, right, tuple(_cells(runs, glyphs, width, mask.height))))
        inside += sum(profile[left:right])
    if len(columns) < _MIN_COLUMNS or inside < _MIN_COLUMN_INK * total:
        return None
    column_gaps = sorted(b.left - a.right for a, b in itertools.pairwise(columns))
    glyph_gaps.sort()
    if not glyph_gaps or column_gaps[len(column_gaps) // 2] <= glyph_gaps[len(glyph_gaps) // 2]:
        return None
    scale = 1 / factor
    return [
        VerticalColumn(round(c.left * scale), round(c.right * scale),
                       tuple((round(top * scale), round(bottom * scale)) for top, bottom in c.glyphs))
        for c in reversed(columns)
    ]


def columns_as_lines(image: Image.Image, columns: Sequence[VerticalColumn]) -> Image.Image:
    """A page with each column's glyphs set side by side, one line per column, in reading order."""
    grey = image if image.mode == "L" else image.convert("L")
    em = max(column.right - column.left for column in columns)
    band = max(bottom - top for column in columns for top, bottom in column.glyphs)
    gap, leading, margin = em // 8, band // 2, em
    width = 2 * margin + (em + gap) * max(len(column.glyphs) for column in columns)
    page = Image.new("L", (width, 2 * margin + len(columns) * (band + leading)), 255)
    y = margin
    for column in columns:
        x = margin
        for top, bottom in column.glyphs:
            cell = grey.crop((column.left, top, column.right, bottom))
            box = cell.point(lambda v: 255 if v < _INK else 0).getbbox()
            if box is None:
                continue
            if box[2] - box[0] < em / 2 and box[3] - box[1] < em / 2:
                # Punctuation (、，。) sits top right in a column, on the foot of a horizontal line.
                mark = cell.crop(box)
                page.paste(mark, (x, y + (band + em) // 2 - mark.height))
                x += mark.width + gap
                continue
            page.paste(cell, (x, y + (band - cell.height) // 2))
            x += cell.width + gap
        y += band + leading
    page.info["dpi"] = grey.info.get("dpi", (300, 300))
    return page


_: type[OcrEngine] = TesseractOcrEngine  # conformance, checked by mypy
