"""The BlobStore contract, run against every backend: local directory and S3 (real SeaweedFS)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.vault.backends.local import LocalBlobStore
from records.vault.errors import BlobExistsError, BlobNotFoundError
from records.vault.interfaces import BlobKey, BlobStore


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        (tmp_path / "vault").mkdir()
        s: BlobStore = LocalBlobStore(tmp_path / "vault")
    else:
        from records.vault.backends.s3 import S3BlobStore

        seaweedfs = request.getfixturevalue("seaweedfs")
        s = S3BlobStore(request.getfixturevalue("s3_bucket"), "vault", seaweedfs.client(), part_size=5 * 1024 * 1024)
    yield s
    s.close()


def test_put_then_get_round_trips(store: BlobStore) -> None:
    """Bytes put in arbitrary chunks come back identical, and stat reports their size."""
    data = os.urandom(200_000)
    info = store.put(BlobKey("ab/cd/abcd01"), [data[i : i + 7000] for i in range(0, len(data), 7000)])
    assert info.size == len(data) == store.stat(BlobKey("ab/cd/abcd01")).size
    assert b"".join(store.get(BlobKey("ab/cd/abcd01"))) == data


def test_an_empty_blob_round_trips(store: BlobStore) -> None:
    """A zero-byte blob is stored and read back."""
    assert store.put(BlobKey("ab/cd/abcd02"), []).size == 0
    assert b"".join(store.get(BlobKey("ab/cd/abcd02"))) == b""


def test_blobs_larger_than_one_request_round_trip(store: BlobStore) -> None:
    """A blob bigger than the upload part size is stored whole (multipart on S3)."""
    block = os.urandom(1024 * 1024)
    store.put(BlobKey("ab/cd/abcd03"), [block] * 11)
    assert store.stat(BlobKey("ab/cd/abcd03")).size == 11 * len(block)
    got = b"".join(store.get(BlobKey("ab/cd/abcd03")))
    assert got == block * 11


def test_write_once(store: BlobStore) -> None:
    """A taken key cannot be written again and keeps its first content."""
    store.put(BlobKey("ab/cd/abcd04"), [b"first"])
    with pytest.raises(BlobExistsError):
        store.put(BlobKey("ab/cd/abcd04"), [b"second"])
    assert b"".join(store.get(BlobKey("ab/cd/abcd04"))) == b"first"


def test_missing_blobs_are_not_found(store: BlobStore) -> None:
    """get and stat of an absent key raise BlobNotFoundError (get at the call, not on iteration)."""
    with pytest.raises(BlobNotFoundError):
        store.get(BlobKey("ab/cd/nothing"))
    with pytest.raises(BlobNotFoundError):
        store.stat(BlobKey("ab/cd/nothing"))


def test_delete_is_idempotent(store: BlobStore) -> None:
    """Deleting removes the blob; deleting again is fine."""
    store.put(BlobKey("ab/cd/abcd05"), [b"x"])
    store.delete(BlobKey("ab/cd/abcd05"))
    store.delete(BlobKey("ab/cd/abcd05"))
    with pytest.raises(BlobNotFoundError):
        store.stat(BlobKey("ab/cd/abcd05"))


def test_keys_lists_by_prefix(store: BlobStore) -> None:
    """Inventory lists exactly the stored keys under a prefix."""
    for key in ["ab/cd/abcd06", "ab/ce/abce07", "ff/00/ff0008"]:
        store.put(BlobKey(key), [b"x"])
    assert sorted(store.keys()) == ["ab/cd/abcd06", "ab/ce/abce07", "ff/00/ff0008"]
    assert sorted(store.keys("ab/")) == ["ab/cd/abcd06", "ab/ce/abce07"]
    assert list(store.keys("zz/")) == []


def test_a_failed_put_leaves_no_blob(store: BlobStore) -> None:
    """If the producer fails mid-stream, nothing is stored under the key, even for large blobs."""

    def broken() -> Iterator[bytes]:
        for _ in range(7):
            yield os.urandom(1024 * 1024)
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError):
        store.put(BlobKey("ab/cd/abcd09"), broken())
    with pytest.raises(BlobNotFoundError):
        store.stat(BlobKey("ab/cd/abcd09"))
    store.put(BlobKey("ab/cd/abcd09"), [b"retry works"])
