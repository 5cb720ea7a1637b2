"""The vault: a BlobStore and a KeyProvider composed into sealed, per-object encryption.

Each object gets a fresh random 256-bit data key. The data key is wrapped by the key provider
(bound to the object id and kind) and the object is sealed with it by
:mod:`records.vault.envelope` as it streams into the blob store, so plaintext is only ever in
memory, one segment at a time, and never on disk.

The vault does not keep wrapped keys: the caller persists :attr:`SealedObject.wrapped_key` in
the catalogue, in the same transaction as the document row. Deleting that wrapped key makes
the object unrecoverable even while its blob still exists (crypto-shredding); the blob itself
is removed with :meth:`Vault.delete_object`.

Objects filed into a dossier (issue #12) have their data key wrapped under **the dossier's own
key** (:mod:`records.vault.dossier_keys`; key id ``dossier:<dossier id>``) instead of the master
key, so that destroying the dossier's key makes the wrapped keys useless wherever copies of the
catalogue survive (backups, WAL, replicas) — even to someone holding the master key. The intake
queue's staging copies are filed for one dossier, and are wrapped under its key as well.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records.vault.dossier_keys import DOSSIER_KEY_PREFIX, DossierKeyring
from records.vault.envelope import DATA_KEY_SIZE, DEFAULT_SEGMENT_SIZE, canonical_context, open_stream, seal_stream
from records.vault.errors import IntegrityError, WrongKeyError
from records.vault.interfaces import BlobKey, BlobStore, KeyProvider, WrappedKey

__all__ = ["SealedObject", "Vault", "blob_key_for"]

_OBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,99}$")
# Below this a chunk is hashed inline: handing it to a thread costs more than hashing it.
_BACKGROUND_HASH_FROM = 64 * 1024


@dataclass(frozen=True, slots=True)
class SealedObject:
    """What the catalogue must record about a stored object to open it again.

    Attributes:
        object_id: the caller's id for the object; bound into the encryption.
        blob_key: where the sealed bytes are in the blob store.
        wrapped_key: the object's data key, wrapped; losing it destroys the object.
        size: plaintext bytes.
        sha256: hex SHA-256 of the plaintext.
        stored_size: sealed bytes in the store (plaintext + header + 16 bytes per segment).
    """

    object_id: str
    blob_key: BlobKey
    wrapped_key: WrappedKey
    size: int
    sha256: str
    stored_size: int


def blob_key_for(object_id: str) -> BlobKey:
    """Where ``object_id`` is stored: fanned out by its first two characters, ``"3f/3f2a…"``.

    One level of 256 directories (for hex ids): all of them exist after the first few thousand
    objects, and a million objects is still only ~4,000 entries per directory. A second level
    (65,536 directories) would make most puts of a young archive pay for a mkdir and its
    fsync, measured at about 0.6 ms on top of a 2 ms put of 1 MiB.

    Raises:
        ValueError: the id is not 4-100 characters of ``[A-Za-z0-9_-]`` (it becomes a path).
    """
    if not _OBJECT_ID.match(object_id):
        raise ValueError(f"invalid object id {object_id!r}")
    return BlobKey(f"{object_id[:2]}/{object_id}")


class Vault:
    """Stores and opens objects sealed under per-object data keys.

    Args:
        store: where sealed bytes go.
        keys: who wraps the data keys.
        segment_size: plaintext bytes per sealed segment (memory use is about one segment).
        dossier_keys: the per-dossier keyring; objects stored with a ``dossier_id`` are wrapped
            under that dossier's key (required for them).
    """

    def __init__(self, store: BlobStore, keys: KeyProvider, *, segment_size: int = DEFAULT_SEGMENT_SIZE,
                 dossier_keys: DossierKeyring | None = None) -> None:
        self._store = store
        self._keys = keys
        self.dossier_keys = dossier_keys
        self._segment_size = segment_size
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def store(self) -> BlobStore:
        return self._store

    @property
    def keys(self) -> KeyProvider:
        return self._keys

    def store_object(self, object_id: str, kind: str, chunks: Iterable[bytes], *,
                     dossier_id: str | None = None) -> SealedObject:
        """Seal a plaintext stream under a new data key and store it durably.

        Args:
            object_id: a new id (it names the blob; blobs are write-once).
            kind: what the object is to its document, e.g. "original"; bound into the seal.
            chunks: the plaintext, in pieces of any size.
            dossier_id: the dossier it is filed into: its data key is then wrapped under that
                dossier's key, and dies with it.

        Returns:
            What the catalogue must keep, above all ``wrapped_key``.

        Raises:
            BlobExistsError: an object with this id is already stored.
            StorageUnavailableError, KeyUnavailableError: a backend cannot be used.
        """
        key = blob_key_for(object_id)
        kind = str(kind)
        context = _context(object_id, kind)
        hasher = _Sha256(self._hash_pool())
        size = 0

        def plaintext() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                if not isinstance(chunk, bytes):
                    chunk = bytes(chunk)  # hashed concurrently, so it must not change under us
                hasher.update(chunk)
                size += len(chunk)
                yield chunk

        data_key = bytearray(os.urandom(DATA_KEY_SIZE))
        try:
            wrapped = self._wrap(data_key, object_id, kind, dossier_id)
            sealed = seal_stream(data_key, object_id, kind, plaintext(), self._segment_size)
        finally:
            _wipe(data_key)  # the cipher context holds its own copy from here on
        info = self._store.put(key, sealed)
        return SealedObject(object_id=object_id, blob_key=key, wrapped_key=wrapped, size=size,
                            sha256=hasher.hexdigest(), stored_size=info.size)

    def open_object(self, object_id: str, kind: str, wrapped: WrappedKey, *,
                    expected_sha256: str | None = None) -> Iterator[bytes]:
        """Stream an object's plaintext, authenticated segment by segment.

        Key and blob problems are raised by this call; damage is raised during iteration.
        Every yielded chunk is authentic, but a truncated blob or a hash mismatch can only be
        known at the end, so callers MUST write to a temporary file (or buffer) and only keep
        the result once iteration has completed. When ``expected_sha256`` is given, the final
        chunk is held back until the whole plaintext's hash has matched.

        Raises:
            KeyNotFoundError, WrongKeyError, KeyUnavailableError: the data key cannot be unwrapped.
            BlobNotFoundError: no blob for this object.
            IntegrityError: (on iteration) the blob was altered or truncated, or the hash differs.
        """
        kind = str(kind)
        data_key = self._unwrap(wrapped, object_id, kind)
        try:
            blob = self._store.get(blob_key_for(object_id))
            plain = open_stream(data_key, object_id, kind, blob)
        finally:
            _wipe(data_key)
        if expected_sha256 is None:
            return plain
        return _hash_checked(object_id, plain, expected_sha256, _Sha256(self._hash_pool()))

    def verify_object(self, object_id: str, kind: str, wrapped: WrappedKey, expected_sha256: str) -> None:
        """Read an object through and check it against its recorded hash (ARC-6).

        Raises:
            IntegrityError: altered, truncated, or a different hash.
            VaultError: any other reason it cannot be opened.
        """
        for _ in self.open_object(object_id, kind, wrapped, expected_sha256=expected_sha256):
            pass

    def rewrap(self, wrapped: WrappedKey, *, object_id: str, kind: str) -> WrappedKey:
        """The same data key wrapped under the current master key; the blob is not touched.

        Returns ``wrapped`` itself when it is already under the current key.
        """
        if wrapped.key_id == self._keys.current_key_id or wrapped.key_id.startswith(DOSSIER_KEY_PREFIX):
            return wrapped  # a dossier-wrapped key follows its dossier key (DossierKeyring.rewrap)
        kind = str(kind)
        data_key = self._unwrap(wrapped, object_id, kind)
        try:
            return self._keys.wrap(data_key, context=_context(object_id, kind))
        finally:
            _wipe(data_key)

    def rotate_master_key(self) -> str:
        """Make a new master key current; returns its id. Re-wrap existing keys with :meth:`rewrap`."""
        return self._keys.rotate()

    def delete_object(self, object_id: str) -> None:
        """Remove the object's blob (absent is fine). Shredding is deleting its wrapped key."""
        self._store.delete(blob_key_for(object_id))

    def close(self) -> None:
        """Close the blob store and the key provider."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
        try:
            self._store.close()
        finally:
            if self.dossier_keys is not None:
                self.dossier_keys.close()
            self._keys.close()

    def _hash_pool(self) -> ThreadPoolExecutor:
        # SHA-256 runs beside encryption and I/O (hashlib releases the GIL), which is most of
        # the difference between hashing-then-sealing and raw AES-GCM speed.
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                                thread_name_prefix="vault-sha256")
            return self._pool

    def wrap_for_dossier(self, wrapped: WrappedKey, *, object_id: str, kind: str, dossier_id: str) -> WrappedKey:
        """The same data key wrapped under ``dossier_id``'s key (objects filed before issue #12)."""
        if wrapped.key_id.startswith(DOSSIER_KEY_PREFIX):
            return wrapped
        data_key = self._unwrap(wrapped, object_id, str(kind))
        try:
            return self._wrap(data_key, object_id, str(kind), dossier_id)
        finally:
            _wipe(data_key)

    def _wrap(self, data_key: bytes | bytearray, object_id: str, kind: str, dossier_id: str | None) -> WrappedKey:
        context = _context(object_id, kind)
        if dossier_id is None:
            return self._keys.wrap(data_key, context=context)
        if self.dossier_keys is None:
            raise ValueError("this vault has no dossier keyring")
        nonce = os.urandom(12)
        aad = canonical_context({**context, "dossier_id": dossier_id})
        sealed = AESGCM(self.dossier_keys.key(dossier_id)).encrypt(nonce, bytes(data_key), aad)
        return WrappedKey(DOSSIER_KEY_PREFIX + dossier_id, b"\x01" + nonce + sealed)

    def _unwrap(self, wrapped: WrappedKey, object_id: str, kind: str) -> bytearray:
        if wrapped.key_id.startswith(DOSSIER_KEY_PREFIX):
            dossier_id = wrapped.key_id[len(DOSSIER_KEY_PREFIX):]
            if self.dossier_keys is None:
                raise WrongKeyError(wrapped.key_id, "dossier-keyring")
            aad = canonical_context({**_context(object_id, kind), "dossier_id": dossier_id})
            blob = wrapped.ciphertext
            try:
                if blob[:1] != b"\x01":
                    raise InvalidTag
                plain = AESGCM(self.dossier_keys.key(dossier_id)).decrypt(blob[1:13], blob[13:], aad)
            except InvalidTag as exc:
                raise WrongKeyError(wrapped.key_id, "dossier-keyring") from exc
            return bytearray(plain)
        data_key = bytearray(self._keys.unwrap(wrapped, context=_context(object_id, kind)))
        if len(data_key) != DATA_KEY_SIZE:
            _wipe(data_key)
            raise WrongKeyError(wrapped.key_id, self._keys.name)
        return data_key


def _context(object_id: str, kind: str) -> Mapping[str, str]:
    return {"object_id": object_id, "kind": kind}


def _wipe(secret: bytearray) -> None:
    # Python cannot scrub immutable bytes; zeroing the one mutable copy we own is what it allows.
    secret[:] = bytes(len(secret))


class _Sha256:
    """SHA-256 of a stream, computed on a worker thread at most one chunk behind the caller.

    Waiting for the previous chunk before handing over the next keeps the order and bounds
    memory to two chunks.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._hash = hashlib.sha256()
        self._pool = pool
        self._pending: Future[None] | None = None

    def update(self, chunk: bytes) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if len(chunk) < _BACKGROUND_HASH_FROM:
            self._hash.update(chunk)
        else:
            self._pending = self._pool.submit(self._hash.update, chunk)

    def hexdigest(self) -> str:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        return self._hash.hexdigest()


def _hash_checked(object_id: str, plain: Iterator[bytes], expected_sha256: str, hasher: _Sha256) -> Iterator[bytes]:
    held: bytes | None = None
    for chunk in plain:
        hasher.update(chunk)
        if held:
            yield held
        held = chunk
    if hasher.hexdigest() != expected_sha256.lower():
        raise IntegrityError(object_id, "hash mismatch")
    if held:
        yield held
