"""Errors raised by extractors; each maps to a recorded outcome (never a crashed batch).

    IngestError(DossierError)      family base (never raised itself)
    ├── EncryptedDocumentError     → outcome "encrypted" (no or wrong password)
    ├── CorruptDocumentError       → outcome "corrupt" (cannot be parsed; also timeouts and crashes)
    ├── UnsupportedFormatError     → outcome "unsupported"
    └── TooLargeError              → outcome "too_large" (size limits, decompression bombs)
    MailboxError (ingest.channels.imap) is an IngestError too, of category UnavailableError.

The four above are of category :class:`~records.errors.InvalidContentError` (the file sent
cannot be filed as it is: exit 4, HTTP 422) when one reaches a caller instead of an outcome.
"""

from __future__ import annotations

from records.errors import DossierError, InvalidContentError


class IngestError(DossierError):
    """Family base of ingest errors; ``reason`` is the short message recorded with the outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncryptedDocumentError(IngestError, InvalidContentError):
    """The file is encrypted and no (correct) password was supplied."""


class CorruptDocumentError(IngestError, InvalidContentError):
    """The file is damaged or not what its content claims to be."""


class UnsupportedFormatError(IngestError, InvalidContentError):
    """No extractor handles this media type."""


class TooLargeError(IngestError, InvalidContentError):
    """The file, or what it expands to, exceeds the configured limits."""
