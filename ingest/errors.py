"""Errors raised by extractors; each maps to a recorded outcome (never a crashed batch).

    IngestError(DossierError)
    ├── EncryptedDocumentError     → outcome "encrypted" (no or wrong password)
    ├── CorruptDocumentError       → outcome "corrupt" (cannot be parsed; also timeouts and crashes)
    ├── UnsupportedFormatError     → outcome "unsupported"
    └── TooLargeError              → outcome "too_large" (size limits, decompression bombs)
"""

from __future__ import annotations

from records.errors import DossierError


class IngestError(DossierError):
    """Base of ingest errors; ``reason`` is the short message recorded with the outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncryptedDocumentError(IngestError):
    """The file is encrypted and no (correct) password was supplied."""


class CorruptDocumentError(IngestError):
    """The file is damaged or not what its content claims to be."""


class UnsupportedFormatError(IngestError):
    """No extractor handles this media type."""


class TooLargeError(IngestError):
    """The file, or what it expands to, exceeds the configured limits."""
