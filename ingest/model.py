"""Values that flow through ingest (pure). All are picklable: they cross worker processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class IngestOutcome(StrEnum):
    """What happened to one file. Every file gets one, and its original is always kept."""

    OK = "ok"
    OK_WITH_WARNINGS = "ok_with_warnings"   # e.g. low OCR confidence: flagged for review
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported"
    TOO_LARGE = "too_large"
    DUPLICATE = "duplicate"                 # already filed in this dossier: nothing filed twice


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits enforced by extractors and the worker pool."""

    max_file_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_image_pixels: int = 200_000_000       # decompression-bomb guard for images
    max_expanded_bytes: int = 256 * 1024 * 1024   # zip members, PDF streams, email parts
    max_attachments: int = 200
    max_depth: int = 5                        # nested messages / containers
    timeout_seconds: float = 300.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    # Text kept for the index and catalogue per file (issue #13 item 8); the original is kept whole.
    max_text_chars: int = 5_000_000


@dataclass(frozen=True, slots=True)
class ExtractContext:
    """What an extractor may know: limits, a password, OCR languages. Never settings."""

    limits: Limits = field(default_factory=Limits)
    password: str | None = None
    ocr_languages: tuple[str, ...] = ("chi_sim", "chi_tra", "eng")
    ocr_enabled: bool = True
    low_confidence: float = 60.0              # mean word confidence (0-100) below which a page is flagged
    depth: int = 0


@dataclass(frozen=True, slots=True)
class PageInfo:
    number: int                               # 1-based
    chars: int
    ocr: bool = False
    confidence: float | None = None           # mean OCR word confidence 0-100
    language: str | None = None               # tesseract language(s) used, e.g. "chi_sim+eng"
    readable: bool = True                     # OCR text reads as language (False: flagged for review whatever the confidence)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A part of a container (email attachment, embedded message), held in memory only."""

    filename: str
    data: bytes
    media_type: str | None = None             # as declared; ingest re-detects by content


@dataclass(frozen=True, slots=True)
class Extraction:
    """What an extractor found in one file."""

    text: str
    pages: int | None = None
    languages: tuple[str, ...] = ()           # detected scripts/languages, e.g. ("zh-Hans", "en")
    metadata: dict[str, str] = field(default_factory=dict)   # title, author, subject, from, to, date, ...
    page_info: tuple[PageInfo, ...] = ()
    warnings: tuple[str, ...] = ()            # non-fatal problems; any warning → ok_with_warnings
    attachments: tuple[Attachment, ...] = ()
    # Library notes that change nothing (a repaired slip, e.g. pypdf's "incorrect startxref
    # pointer"): listed in the file's warnings, outcome unchanged (ingest.workers, issue #13 item 7).
    notes: tuple[str, ...] = ()
