"""Sealed bytes at rest: envelope encryption over pluggable blob stores and key providers.

Every stored object is sealed with its own random AES-256 data key (AES-256-GCM in
fixed-size, individually authenticated segments); the data key is wrapped by a master key
held by a :class:`KeyProvider` (key file, OpenBao/Vault transit, AWS KMS), and the sealed
bytes go to a :class:`BlobStore` (local directory, S3). Plaintext never touches disk here.

This package may import ``records.errors`` and ``records.settings`` only; nothing in it
decides who may read (that is ``records.access``).
"""

from __future__ import annotations

from records.vault import errors, interfaces
from records.vault.backends import open_blob_store, prepare_blob_store
from records.vault.errors import (
    BlobExistsError,
    BlobNotFoundError,
    IntegrityError,
    KeyMismatchError,
    KeyNotFoundError,
    KeyServiceUnavailableError,
    KeyUnavailableError,
    StorageUnavailableError,
    VaultError,
    WrongKeyError,
)
from records.vault.interfaces import BlobInfo, BlobKey, BlobStore, KeyProvider, WrappedKey
from records.vault.keys import create_key_file, open_key_provider
from records.vault.vault import SealedObject, Vault, blob_key_for

__all__ = [
    "BlobExistsError",
    "BlobInfo",
    "BlobKey",
    "BlobNotFoundError",
    "BlobStore",
    "IntegrityError",
    "KeyMismatchError",
    "KeyNotFoundError",
    "KeyProvider",
    "KeyServiceUnavailableError",
    "KeyUnavailableError",
    "SealedObject",
    "StorageUnavailableError",
    "Vault",
    "VaultError",
    "WrappedKey",
    "WrongKeyError",
    "blob_key_for",
    "create_key_file",
    "errors",
    "interfaces",
    "open_blob_store",
    "prepare_blob_store",
    "open_key_provider",
]
