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


def _sheet() -> Extractor:
    from ingest.extractors.sheet import SpreadsheetExtractor

    return SpreadsheetExtractor()


def _slides() -> Extractor:
    from ingest.extractors.slides import SlidesExtractor

    return SlidesExtractor()


def _ofd() -> Extractor:
    from ingest.extractors.ofd import OfdExtractor

    return OfdExtractor()


def _zip() -> Extractor:
    from ingest.extractors.archive import ZipExtractor

    return ZipExtractor()


def _rtf() -> Extractor:
    from ingest.extractors.rtf import RtfExtractor

    return RtfExtractor()


def _mht() -> Extractor:
    from ingest.extractors.mht import WebArchiveExtractor

    return WebArchiveExtractor()


def _office_crypto() -> Extractor:
    from ingest.extractors.office_crypto import OfficeCryptoExtractor

    return OfficeCryptoExtractor()


_FACTORIES: dict[str, Callable[[], Extractor]] = {
    # Spreadsheets (.xlsx, .xls and WPS .et) and presentations: helper modules of issue #13.
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _sheet,
    "application/vnd.ms-excel": _sheet,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _slides,
    "application/ofd": _ofd,                        # GB/T 33190 fixed-layout documents, e-invoices
    "application/zip": _zip,                        # members become child documents
    "text/rtf": _rtf, "application/rtf": _rtf,
    "multipart/related": _mht, "application/x-mimearchive": _mht,   # web pages saved as .mht/.mhtml
    "application/x-ms-office-encrypted": _office_crypto,   # password-protected .docx/.xlsx/.pptx
    # Subtitles without a BOM (libmagic names them by their syntax): plain text to read.
    "application/x-subrip": _text, "text/vtt": _text,
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
        raise UnsupportedFormatError(unsupported_reason(media_type))
    if media_type not in _cache:
        extractor = factory()
        for mt in extractor.media_types:
            _cache.setdefault(mt, extractor)
        _cache[media_type] = extractor
    return _cache[media_type]


def supported_media_types() -> frozenset[str]:
    return frozenset(_FACTORIES)


# Formats a complaint office meets that nothing here reads, named so the outcome says what the
# file is (the original is always kept).
_UNREAD = {
    "application/x-7z-compressed": "7-Zip archive (.7z): members are not extracted",
    "application/x-rar": "RAR archive (.rar): members are not extracted",
    "application/vnd.rar": "RAR archive (.rar): members are not extracted",
    "application/vnd.ms-powerpoint": "PowerPoint 97-2003 presentation (.ppt/WPS .dps): not read; save as .pptx",
    "application/vnd.ms-works": "Microsoft Works document: not read",
    "application/x-ole-storage": "OLE compound file of an unknown application",
}


def unsupported_reason(media_type: str) -> str:
    """The outcome message for a type no extractor reads, naming the format where it is known."""
    known = _UNREAD.get(media_type)
    return f"unsupported format {media_type}" + (f" ({known})" if known else "")
