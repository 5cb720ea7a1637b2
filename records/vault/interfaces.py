"""The vault's two seams: where sealed bytes live, and who holds the master key.

Values cross these seams, never library objects: a boto3 response or an hvac client never
leaves its adapter, and every adapter translates its library's errors into
:mod:`records.vault.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, NewType, Protocol

__all__ = ["BlobInfo", "BlobKey", "BlobStore", "KeyIdentity", "KeyProvider", "WrappedKey"]

BlobKey = NewType("BlobKey", str)
"""Where a sealed blob lives in its store: ``/``-separated segments, e.g. ``"3f/3f2a…"``."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A stored blob: its key and its size in bytes (sealed bytes, not plaintext)."""

    key: BlobKey
    size: int


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted under a master key.

    ``key_id`` names the provider and master key version, e.g. ``"file:3f2a9c0b1d4e5f60"``,
    ``"openbao:dossier:2"`` or ``"awskms:arn:aws:kms:…"``. The catalogue stores both fields next
    to the object's row; deleting them destroys the object (crypto-shredding).
    """

    key_id: str
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Which master key a provider holds, stable across ``rotate``: what an archive is pinned to.

    ``fingerprint`` tells re-created keys apart (a key file's first key id; for OpenBao a hash of
    mount, name and version 1's creation time; for KMS a hash of the account, region and
    configured key id). ``name`` is only for people: where the key lives.
    """

    provider: str
    name: str
    fingerprint: str

    def describe(self) -> str:
        return f"{self.provider} key {self.name} (fingerprint {self.fingerprint})"


class BlobStore(Protocol):
    """Write-once storage for sealed (already encrypted) document bytes.

    A BlobStore never sees plaintext and never decides who may read. Implementations MUST
    translate their client's exceptions into :mod:`records.vault.errors` and MUST hold at most
    a bounded buffer (not the whole blob) in memory.
    """

    name: ClassVar[str]  # "local" | "s3"

    def put(self, key: BlobKey, chunks: Iterable[bytes]) -> BlobInfo:
        """Store bytes under a new key. MUST be durable when this returns.

        If ``put`` raises, no blob is left under ``key`` (unless one was there before).

        Raises:
            BlobExistsError: the key is taken (blobs are write-once).
            StorageUnavailableError: the store cannot be reached or written.
        """
        ...

    def get(self, key: BlobKey) -> Iterator[bytes]:
        """Stream the bytes back in chunks.

        Raises:
            BlobNotFoundError: no blob under ``key`` (raised by the call, not on iteration).
            StorageUnavailableError: the store cannot be reached.
        """
        ...

    def stat(self, key: BlobKey) -> BlobInfo:
        """Size of the blob under ``key``. Raises BlobNotFoundError."""
        ...

    def delete(self, key: BlobKey) -> None:
        """Remove the blob; an absent key is not an error. Only disposition calls this."""
        ...

    def keys(self, prefix: str = "") -> Iterator[BlobKey]:
        """Every complete blob key starting with ``prefix``, for inventory (ARC-6, 清查盘点)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


class KeyProvider(Protocol):
    """Wraps and unwraps per-object data keys with a master key the app never stores.

    ``context`` (object id and kind) MUST be bound to the wrapped key so that a wrapped key
    copied onto another object does not unwrap. Master keys that were current once MUST stay
    usable for ``unwrap`` after ``rotate``.
    """

    @property
    def name(self) -> str:
        """ "file" | "openbao" | "awskms" (a ClassVar on each provider; a property here so a wrapper can pass it on)."""
        ...

    @property
    def current_key_id(self) -> str:
        """Id of the master key ``wrap`` uses now."""
        ...

    def wrap(self, data_key: bytes | bytearray, *, context: Mapping[str, str]) -> WrappedKey:
        """Encrypt ``data_key`` under the current master key, bound to ``context``.

        Raises:
            KeyUnavailableError: the key file or key cannot be used (unreadable, refused).
            KeyServiceUnavailableError: the key service cannot be reached right now.
            KeyMismatchError: (a pinned provider) not the key the archive is pinned to.
        """
        ...

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        """Decrypt a wrapped data key with the master key named by ``wrapped.key_id``.

        Raises:
            KeyNotFoundError: this provider does not hold that master key.
            WrongKeyError: authentication failed (a different key or context).
            KeyUnavailableError: the key service or key file cannot be used.
        """
        ...

    def rotate(self) -> str:
        """Make a new master key current and return its id; older keys stay usable for unwrap."""
        ...

    def identify(self) -> KeyIdentity:
        """Which master key this provider holds, read without creating anything.

        Raises:
            KeyNotFoundError: the key service holds no such key (or the key file none).
            KeyUnavailableError, KeyServiceUnavailableError: as for ``wrap``.
        """
        ...

    def close(self) -> None:
        """Release connections; the provider is not used afterwards."""
        ...
