"""Seams of ingest: extractors (one per format family) and the OCR engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from ingest.model import ExtractContext, Extraction

if TYPE_CHECKING:
    from PIL.Image import Image


class Extractor(Protocol):
    """Turns one file of a supported media type into text, pages and metadata.

    MUST NOT write document plaintext to disk (attachments are returned in memory). MUST raise
    an ``ingest.errors.IngestError`` subclass for bad input it recognises (encrypted, corrupt,
    too large); any other exception is caught by the pipeline and recorded as ``corrupt``.
    MUST respect ``context.limits``.
    """

    name: ClassVar[str]
    media_types: ClassVar[frozenset[str]]

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction: ...


class OcrResult(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float:
        """Mean word confidence 0-100."""
    @property
    def language(self) -> str:
        """Tesseract language string used, e.g. "chi_sim"."""


class OcrEngine(Protocol):
    """Recognises the text of one page image (Chinese Simplified/Traditional and English)."""

    name: ClassVar[str]

    def recognise(self, image: Image, languages: tuple[str, ...]) -> OcrResult: ...
