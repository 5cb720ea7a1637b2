"""Static registry of extractors by media type (architecture §4): no discovery, lazy imports."""

from __future__ import annotations

from collections.abc import Callable

from ingest.errors import UnsupportedFormatError
from ingest.interfaces import Extractor


def _pdf() -> Extractor:
    from ingest.extractors.pdf import PdfExtractor

    return PdfExtractor()


def _image() -> Extractor:
    from ingest.extractors.image import ImageExtractor

    return ImageExtractor()


def _email() -> Extractor:
    from ingest.extractors.eml import EmailExtractor

    return EmailExtractor()


def _msg() -> Extractor:
    from ingest.extractors.msg import MsgExtractor

    return MsgExtractor()


def _docx() -> Extractor:
    from ingest.extractors.word import DocxExtractor

    return DocxExtractor()


def _doc() -> Extractor:
    from ingest.extractors.word import DocExtractor

    return DocExtractor()


def _text() -> Extractor:
    from ingest.extractors.text import TextExtractor

    return TextExtractor()


_FACTORIES: dict[str, Callable[[], Extractor]] = {
    "application/pdf": _pdf,
    "image/tiff": _image, "image/png": _image, "image/jpeg": _image, "image/gif": _image,
    "image/bmp": _image, "image/x-ms-bmp": _image, "image/webp": _image,
    "message/rfc822": _email, "application/mbox": _email,
    "application/vnd.ms-outlook": _msg,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/msword": _doc,
    "text/plain": _text, "text/html": _text, "text/csv": _text, "text/markdown": _text,
    "text/xml": _text, "application/xml": _text,
}

_cache: dict[str, Extractor] = {}


def extractor_for(media_type: str) -> Extractor:
    """The extractor for a media type (one instance per process, so OCR models load once).

    Raises:
        UnsupportedFormatError: nothing reads this type.
    """
    factory = _FACTORIES.get(media_type)
    if factory is None:
        raise UnsupportedFormatError(f"unsupported format {media_type}")
    if media_type not in _cache:
        extractor = factory()
        for mt in extractor.media_types:
            _cache.setdefault(mt, extractor)
        _cache[media_type] = extractor
    return _cache[media_type]


def supported_media_types() -> frozenset[str]:
    return frozenset(_FACTORIES)
