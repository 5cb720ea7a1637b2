"""Vault over the local store and a key file: sealed at rest, loud on damage, shreddable."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.vault import (
    BlobExistsError,
    BlobNotFoundError,
    IntegrityError,
    SealedObject,
    Vault,
    WrappedKey,
    WrongKeyError,
    blob_key_for,
)
from records.vault.backends.local import LocalBlobStore
from records.vault.envelope import sealed_size
from records.vault.keys import FileKeyProvider, create_key_file

SEG = 4096
MARKER = b"COMPLAINT-PLAINTEXT-MARKER-7f3a9c"


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    (tmp_path / "vault").mkdir()
    create_key_file(tmp_path / "master.key")
    v = Vault(LocalBlobStore(tmp_path / "vault"), FileKeyProvider(tmp_path / "master.key"), segment_size=SEG)
    yield v
    v.close()


def _blob_path(vault: Vault, sealed: SealedObject) -> Path:
    store = vault.store
    assert isinstance(store, LocalBlobStore)
    return store.root / sealed.blob_key


def _oid() -> str:
    return uuid.uuid4().hex


def _store(vault: Vault, data: bytes, kind: str = "original") -> SealedObject:
    return vault.store_object(_oid(), kind, [data[i : i + 1000] for i in range(0, len(data), 1000)])


def test_stored_object_opens_to_the_same_bytes(vault: Vault) -> None:
    """What was filed is what is retrieved, with its size and SHA-256 recorded."""
    data = os.urandom(5 * SEG + 123)
    sealed = _store(vault, data)
    assert (sealed.size, sealed.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert sealed.stored_size == sealed_size(len(data), SEG) == _blob_path(vault, sealed).stat().st_size
    out = vault.open_object(sealed.object_id, "original", sealed.wrapped_key, expected_sha256=sealed.sha256)
    assert b"".join(out) == data


def test_an_empty_object_round_trips(vault: Vault) -> None:
    """A zero-byte file can be filed and retrieved."""
    sealed = vault.store_object(_oid(), "original", [])
    assert sealed.size == 0
    assert b"".join(vault.open_object(sealed.object_id, "original", sealed.wrapped_key,
                                      expected_sha256=sealed.sha256)) == b""


def test_no_plaintext_reaches_any_file_under_the_store(vault: Vault, tmp_path: Path) -> None:
    """Plaintext never touches disk: no stored file contains any part of a distinctive plaintext."""
    data = MARKER * 2000  # spans many segments
    sealed = _store(vault, data)
    b"".join(vault.open_object(sealed.object_id, "original", sealed.wrapped_key))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == sealed.object_id for p in files)
    for path in files:
        content = path.read_bytes()
        assert MARKER[:16] not in content and MARKER[-16:] not in content, path


def test_one_flipped_byte_in_the_stored_blob_fails_retrieval(vault: Vault) -> None:
    """Changing one byte of a blob on disk makes retrieval raise IntegrityError."""
    sealed = _store(vault, os.urandom(3 * SEG))
    path = _blob_path(vault, sealed)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x40
    path.write_bytes(damaged)
    with pytest.raises(IntegrityError) as caught:
        b"".join(vault.open_object(sealed.object_id, "original", sealed.wrapped_key))
    assert caught.value.object_id == sealed.object_id


def test_a_truncated_blob_fails_retrieval(vault: Vault) -> None:
    """A blob that lost its tail on disk is reported, not returned short."""
    sealed = _store(vault, os.urandom(3 * SEG))
    path = _blob_path(vault, sealed)
    path.write_bytes(path.read_bytes()[: -(SEG + 16)])
    with pytest.raises(IntegrityError):
        vault.verify_object(sealed.object_id, "original", sealed.wrapped_key, sealed.sha256)


def test_a_hash_mismatch_fails_before_the_last_chunk(vault: Vault) -> None:
    """When the recorded hash differs, the stream raises before handing out its final chunk."""
    data = os.urandom(3 * SEG)
    sealed = _store(vault, data)
    received = bytearray()
    with pytest.raises(IntegrityError) as caught:
        for chunk in vault.open_object(sealed.object_id, "original", sealed.wrapped_key, expected_sha256="0" * 64):
            received += chunk
    assert caught.value.reason == "hash mismatch"
    assert len(received) < len(data)


def test_a_blob_swapped_for_another_objects_blob_fails(vault: Vault) -> None:
    """Copying one object's sealed bytes over another's is detected."""
    a, b = _store(vault, b"A" * 5000), _store(vault, b"B" * 5000)
    _blob_path(vault, b).write_bytes(_blob_path(vault, a).read_bytes())
    with pytest.raises(IntegrityError):
        vault.verify_object(b.object_id, "original", b.wrapped_key, b.sha256)


def test_rewrap_after_rotation_leaves_blobs_untouched(vault: Vault) -> None:
    """`dossier keys rotate` re-wraps data keys under the new master key without rewriting blobs."""
    sealed = _store(vault, os.urandom(2 * SEG))
    path = _blob_path(vault, sealed)
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    new_key = vault.rotate_master_key()
    rewrapped = vault.rewrap(sealed.wrapped_key, object_id=sealed.object_id, kind="original")
    assert rewrapped.key_id == new_key != sealed.wrapped_key.key_id
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    vault.verify_object(sealed.object_id, "original", rewrapped, sealed.sha256)
    assert vault.rewrap(rewrapped, object_id=sealed.object_id, kind="original") is rewrapped


def test_without_its_own_wrapped_key_an_object_cannot_be_opened(vault: Vault) -> None:
    """Crypto-shredding: once an object's wrapped key is gone, no other key in the catalogue opens it."""
    victim, other = _store(vault, MARKER * 10), _store(vault, MARKER * 10)
    with pytest.raises(WrongKeyError):
        vault.open_object(victim.object_id, "original", other.wrapped_key)
    forged = WrappedKey(victim.wrapped_key.key_id, other.wrapped_key.ciphertext)
    with pytest.raises(WrongKeyError):
        vault.open_object(victim.object_id, "original", forged)


def test_an_object_id_can_be_stored_only_once(vault: Vault) -> None:
    """Filing under an id already in use fails and keeps the first object intact."""
    first = _store(vault, b"first" * 100)
    with pytest.raises(BlobExistsError):
        vault.store_object(first.object_id, "original", [b"second"])
    vault.verify_object(first.object_id, "original", first.wrapped_key, first.sha256)


def test_deleted_object_is_gone(vault: Vault) -> None:
    """After disposition deletes an object its blob is not found."""
    sealed = _store(vault, b"x" * 100)
    vault.delete_object(sealed.object_id)
    with pytest.raises(BlobNotFoundError):
        vault.open_object(sealed.object_id, "original", sealed.wrapped_key)


def test_the_blob_key_fans_out_by_id_prefix() -> None:
    """Blob keys spread objects over directories by the start of their id; ids cannot escape."""
    assert blob_key_for("3f2a9c0b") == "3f/3f2a9c0b"
    with pytest.raises(ValueError):
        blob_key_for("../etc/passwd")
