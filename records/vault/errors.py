"""Errors of the vault: sealed storage and the keys that open it.

::

    VaultError(DossierError)       family base; [the category in records.errors that maps it]
    ├── BlobExistsError            [DataIntegrity] the blob key is taken (blobs are write-once)
    ├── BlobNotFoundError          [DataIntegrity] (LookupError) no blob under that key
    ├── StorageUnavailableError    [Unavailable] the blob store cannot be reached or written
    ├── IntegrityError             [DataIntegrity] stored bytes fail authentication, are truncated or mis-hashed
    ├── KeyNotFoundError           [KeyProblem] the provider does not hold the master key a data key was wrapped with
    ├── KeyUnavailableError        [KeyProblem] the key service is unreachable, or the key file unreadable
    └── WrongKeyError              [KeyProblem] unwrapping failed authentication (wrong key or wrong context)

A missing blob is an integrity failure rather than "not found": the catalogue names the object,
so the archive has lost (or never finished writing) something it sealed.

Adapters raise these with ``raise … from exc`` so the library error stays in ``__cause__``.
"""

from __future__ import annotations

from records.errors import DataIntegrityError, DossierError, KeyProblemError, UnavailableError

__all__ = [
    "BlobExistsError",
    "BlobNotFoundError",
    "IntegrityError",
    "KeyNotFoundError",
    "KeyUnavailableError",
    "StorageUnavailableError",
    "VaultError",
    "WrongKeyError",
]


class VaultError(DossierError):
    """Family base of sealed-storage and key errors (never raised itself)."""


class BlobExistsError(VaultError, DataIntegrityError):
    """A blob already exists under ``key``; blobs are never overwritten."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a blob already exists under {key!r}")
        self.key = key


class BlobNotFoundError(VaultError, DataIntegrityError, LookupError):
    """No blob is stored under ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no blob under {key!r}")
        self.key = key


class StorageUnavailableError(VaultError, UnavailableError):
    """The blob store ``backend`` cannot be reached or written; ``cause`` says why."""

    code = "storage_unavailable"

    def __init__(self, backend: str, cause: str) -> None:
        super().__init__(f"blob store {backend} unavailable: {cause}")
        self.backend = backend
        self.cause = cause


class IntegrityError(VaultError, DataIntegrityError):
    """The stored object ``object_id`` is not what was sealed; ``reason`` says how.

    Reasons include "authentication failed", "truncated", "hash mismatch", "not a sealed object".
    """

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(f"object {object_id}: {reason}")
        self.object_id = object_id
        self.reason = reason


class KeyNotFoundError(VaultError, KeyProblemError):
    """The key provider does not hold master key ``key_id`` (e.g. the wrong key file)."""

    def __init__(self, key_id: str, provider: str) -> None:
        super().__init__(f"master key {key_id} is not held by key provider {provider}")
        self.key_id = key_id
        self.provider = provider


class KeyUnavailableError(VaultError, KeyProblemError):
    """The key provider cannot be used right now: service unreachable, key file unreadable."""

    def __init__(self, provider: str, cause: str) -> None:
        super().__init__(f"key provider {provider} unavailable: {cause}")
        self.provider = provider
        self.cause = cause


class WrongKeyError(VaultError, KeyProblemError):
    """Unwrapping under ``key_id`` failed authentication: a different key or context was used."""

    def __init__(self, key_id: str, provider: str) -> None:
        super().__init__(f"data key does not unwrap under master key {key_id} ({provider}): wrong key or context")
        self.key_id = key_id
        self.provider = provider
