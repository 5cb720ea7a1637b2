"""LocalBlobStore: write-once, durable-before-success, listable, deletable."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.vault.backends.local import LocalBlobStore
from records.vault.errors import BlobExistsError, BlobNotFoundError, StorageUnavailableError
from records.vault.interfaces import BlobKey


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    root = tmp_path / "vault"
    root.mkdir()
    return LocalBlobStore(root)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_then_get_returns_the_same_bytes(store: LocalBlobStore) -> None:
    """What was put comes back unchanged, with its size."""
    data = os.urandom(3 * 1024 * 1024 + 5)
    info = store.put(BlobKey("ab/cd/abcdef"), [data[:1000], data[1000:]])
    assert info.size == len(data) == store.stat(BlobKey("ab/cd/abcdef")).size
    assert b"".join(store.get(BlobKey("ab/cd/abcdef"))) == data


def test_a_blob_key_cannot_be_written_twice(store: LocalBlobStore) -> None:
    """Blobs are write-once: a second put fails and the first blob is untouched."""
    key = BlobKey("ab/cd/abcdef")
    store.put(key, [b"first"])
    with pytest.raises(BlobExistsError) as caught:
        store.put(key, [b"second"])
    assert caught.value.key == key
    assert b"".join(store.get(key)) == b"first"


def test_successful_put_leaves_no_partial_file_and_a_private_blob(store: LocalBlobStore) -> None:
    """After put returns only the final file exists, readable by its owner only."""
    store.put(BlobKey("ab/cd/abcdef"), [b"x" * 100])
    files = _files(store.root)
    assert [p.relative_to(store.root).as_posix() for p in files] == ["ab/cd/abcdef"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_a_failing_producer_leaves_nothing_behind(store: LocalBlobStore) -> None:
    """If the bytes cannot be produced to the end, no blob and no partial file remain."""

    def broken() -> Iterator[bytes]:
        yield b"some bytes"
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError):
        store.put(BlobKey("ab/cd/abcdef"), broken())
    assert _files(store.root) == []
    with pytest.raises(BlobNotFoundError):
        store.stat(BlobKey("ab/cd/abcdef"))


def test_keys_lists_complete_blobs_only(store: LocalBlobStore) -> None:
    """Inventory sees every stored blob, filtered by prefix, and never a crashed write's leftovers."""
    for key in ["ab/cd/abcd1", "ab/ce/abce2", "ff/00/ff003"]:
        store.put(BlobKey(key), [b"sealed"])
    (store.root / "ab" / "cd" / "abcd9.1234.partial").write_bytes(b"half")
    assert list(store.keys()) == ["ab/cd/abcd1", "ab/ce/abce2", "ff/00/ff003"]
    assert list(store.keys("ab/")) == ["ab/cd/abcd1", "ab/ce/abce2"]
    assert list(store.keys("ab/cd/")) == ["ab/cd/abcd1"]
    assert list(store.keys("zz")) == []


def test_old_partial_files_can_be_discarded(store: LocalBlobStore) -> None:
    """Leftovers of crashed writes older than the cut-off are removed; fresh ones are kept."""
    store.put(BlobKey("ab/cd/abcd1"), [b"sealed"])
    old = store.root / "ab" / "cd" / "abcd2.aaaa.partial"
    new = store.root / "ab" / "cd" / "abcd3.bbbb.partial"
    old.write_bytes(b"half")
    new.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.discard_partials(older_than_seconds=3600) == 1
    assert not old.exists() and new.exists()
    assert list(store.keys()) == ["ab/cd/abcd1"]


def test_delete_removes_the_blob_and_tolerates_absence(store: LocalBlobStore) -> None:
    """A deleted blob is gone; deleting what is not there is not an error."""
    key = BlobKey("ab/cd/abcdef")
    store.put(key, [b"sealed"])
    store.delete(key)
    store.delete(key)
    with pytest.raises(BlobNotFoundError):
        store.get(key)
    assert list(store.keys()) == []


def test_get_of_a_missing_blob_fails_at_the_call(store: LocalBlobStore) -> None:
    """A missing blob is reported before any iteration starts."""
    with pytest.raises(BlobNotFoundError):
        store.get(BlobKey("ab/cd/nothing"))


def test_a_missing_vault_directory_is_reported_not_recreated(tmp_path: Path) -> None:
    """If the vault directory is gone (e.g. an unmounted volume) put fails instead of starting afresh."""
    store = LocalBlobStore(tmp_path / "not-there")
    with pytest.raises(StorageUnavailableError):
        store.put(BlobKey("ab/cd/abcdef"), [b"sealed"])
    assert not (tmp_path / "not-there").exists()


@pytest.mark.parametrize("bad", ["../escape", "ab/../../x", "/abs", "ab//cd", "ab/cd/x.partial", ""])
def test_keys_that_could_escape_the_root_are_refused(store: LocalBlobStore, bad: str) -> None:
    """Blob keys are relative names inside the vault directory, nothing else."""
    with pytest.raises(ValueError):
        store.put(BlobKey(bad), [b"x"])
