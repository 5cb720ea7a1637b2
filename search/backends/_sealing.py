"""Keeps document content in the embedded index unreadable without the archive's key.

The FTS5 index stores, per document, the title and text it needs for hit titles and snippets.
They are compressed and sealed with AES-256-GCM (random 96-bit nonce, the document id as
associated data, so a sealed row cannot be moved to another document). Names used as exact
filters (respondent, complainant) are stored only as keyed HMAC-SHA256 digests.

Three sub-keys are derived with HKDF-SHA256 from the one key the composition root passes in, so
the same key material is never used for two purposes: one seals fields, one keys the digests, and
one is the page key with which SQLite3 Multiple Ciphers encrypts every page of the index file and
its WAL (``Sealer.page_key``; issue #12 item 2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dossier-search/" + purpose).derive(key)


class Sealer:
    """Seals stored fields and keys filter values for one index."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the search index key must be at least 32 bytes")
        self._aead = AESGCM(_derive(key, b"fields"))
        self._mac_key = _derive(key, b"keywords")
        #: 256 uniformly random bits for the page cipher (``PRAGMA hexkey``), never the sealing key.
        self.page_key = _derive(key, b"pages")

    def seal(self, document_id: str, fields: dict[str, str]) -> bytes:
        nonce = os.urandom(12)
        plain = zlib.compress(json.dumps(fields, ensure_ascii=False).encode("utf-8"), 6)
        return _VERSION + nonce + self._aead.encrypt(nonce, plain, document_id.encode("utf-8"))

    def open(self, document_id: str, sealed: bytes) -> dict[str, str]:
        """Raises ValueError if the row was tampered with or sealed under another key."""
        if sealed[:1] != _VERSION:
            raise ValueError("unknown sealed-field version")
        try:
            plain = self._aead.decrypt(sealed[1:13], sealed[13:], document_id.encode("utf-8"))
        except InvalidTag as exc:
            raise ValueError("sealed fields fail authentication (wrong key or tampered row)") from exc
        fields: dict[str, str] = json.loads(zlib.decompress(plain))
        return fields

    def mac(self, value: str) -> bytes:
        return hmac.new(self._mac_key, value.encode("utf-8"), hashlib.sha256).digest()[:16]
