"""Sealed blobs as files under one directory: the embedded default.

A blob key's ``/``-separated segments become directories, so the vault's key fan-out
(``3f/3f2a…``) keeps directories small.

Durable means: the bytes are written to ``<final>.<random>.partial`` (created with
``O_EXCL``, mode 0600) and fsynced; the partial is hard-linked to the final name — ``link``
fails if that name exists, which gives write-once semantics that ``rename`` would not; then the
partial is unlinked and the directory fsynced, so the new name survives a crash. New fan-out
directories are fsynced into their parents too.

A crash can leave ``*.partial`` files behind. They hold sealed bytes only (never plaintext),
are never listed or read as blobs, and :meth:`LocalBlobStore.discard_partials` removes old ones.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from records.vault.errors import BlobExistsError, BlobNotFoundError, StorageUnavailableError
from records.vault.interfaces import BlobInfo, BlobKey, BlobStore
from records.durable import fsync_dir

__all__ = ["LocalBlobStore"]

_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")
_PARTIAL = ".partial"
# Large enough that a small object is one read and segments rarely straddle two reads.
_READ_SIZE = 4 * 1024 * 1024
_WRITEBACK_EVERY = 8 * 1024 * 1024


class LocalBlobStore:
    """Write-once blobs in a local directory tree (see the module docstring for durability).

    Args:
        root: the vault directory; it must exist (``dossier init`` creates it), so that an
            unmounted volume is noticed instead of silently filling an empty mount point.
    """

    name: ClassVar[str] = "local"

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    def put(self, key: BlobKey, chunks: Iterable[bytes]) -> BlobInfo:
        final = self._path(key)
        if final.exists():
            raise BlobExistsError(key)
        created = self._makedirs(final.parent)
        partial = final.with_name(f"{final.name}.{secrets.token_hex(6)}{_PARTIAL}")
        size = 0
        try:
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                f = os.fdopen(fd, "wb")
            except OSError as exc:
                raise self._unavailable(exc) from exc
            with f:
                # The input is pulled outside the OSError translation: a failing producer is
                # the caller's error, not the store's.
                kicked = 0
                for chunk in chunks:
                    try:
                        f.write(chunk)
                        if size + len(chunk) - kicked >= _WRITEBACK_EVERY:
                            # Start writing back what we have so far, so the final fsync
                            # waits only for the tail instead of the whole blob.
                            f.flush()
                            _start_writeback(f.fileno(), kicked, size + len(chunk) - kicked)
                            kicked = size + len(chunk)
                    except OSError as exc:
                        raise self._unavailable(exc) from exc
                    size += len(chunk)
                try:
                    f.flush()
                    os.fsync(f.fileno())
                    # New fan-out directories become durable in their parents. Done after the
                    # file's fsync, which on journalling filesystems has usually committed them
                    # already, so these cost little.
                    for d in created:
                        fsync_dir(d.parent)
                except OSError as exc:
                    raise self._unavailable(exc) from exc
            try:
                os.link(partial, final)
            except FileExistsError:
                raise BlobExistsError(key) from None
            except OSError as exc:
                raise self._unavailable(exc) from exc
        finally:
            try:
                os.unlink(partial)
            except FileNotFoundError:
                pass
        try:
            fsync_dir(final.parent)
        except OSError as exc:
            raise self._unavailable(exc) from exc
        return BlobInfo(key=key, size=size)

    def get(self, key: BlobKey) -> Iterator[bytes]:
        path = self._path(key)
        # Checked now so a missing blob is reported by the call; the file is opened lazily so
        # that an iterator that is never consumed holds no open file.
        self.stat(key)
        return self._read(key, path)

    def stat(self, key: BlobKey) -> BlobInfo:
        try:
            st = os.stat(self._path(key))
        except FileNotFoundError:
            raise self._missing(key) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc
        return BlobInfo(key=key, size=st.st_size)

    def delete(self, key: BlobKey) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._unavailable(exc) from exc
        try:
            fsync_dir(path.parent)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def keys(self, prefix: str = "") -> Iterator[BlobKey]:
        # Walk only the subtree the prefix can live in.
        head, _, _ = prefix.rpartition("/")
        start = self._root / head if head else self._root
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self._root).as_posix()
            for name in sorted(filenames):
                if name.endswith(_PARTIAL) or not _SEGMENT.match(name):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    yield BlobKey(key)

    def discard_partials(self, older_than_seconds: float = 3600.0) -> int:
        """Remove ``*.partial`` files left by crashed writers; returns how many were removed.

        Only files older than ``older_than_seconds`` go, so a write in progress is not disturbed.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for dirpath, _dirs, filenames in os.walk(self._root):
            for name in filenames:
                if not name.endswith(_PARTIAL):
                    continue
                path = Path(dirpath) / name
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def close(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------------ helpers
    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not all(_SEGMENT.match(p) for p in parts) or parts[-1].endswith(_PARTIAL):
            raise ValueError(f"invalid blob key {key!r}")
        return self._root.joinpath(*parts)

    def _makedirs(self, directory: Path) -> list[Path]:
        """Create missing fan-out directories; returns those made, outermost first."""
        if directory.is_dir():
            return []
        if not self._root.is_dir():
            raise StorageUnavailableError(self.name, f"vault directory {self._root} does not exist")
        missing = []
        d = directory
        while not d.is_dir():
            missing.append(d)
            d = d.parent
        created = []
        for d in reversed(missing):
            try:
                os.mkdir(d, 0o700)
            except FileExistsError:
                continue  # made by a concurrent writer, who makes it durable
            except OSError as exc:
                raise self._unavailable(exc) from exc
            created.append(d)
        return created

    def _read(self, key: BlobKey, path: Path) -> Iterator[bytes]:
        try:
            f = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise self._missing(key) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc
        with f:
            while True:
                try:
                    chunk = f.read(_READ_SIZE)
                except OSError as exc:
                    raise self._unavailable(exc) from exc
                if not chunk:
                    return
                yield chunk

    def _missing(self, key: BlobKey) -> BlobNotFoundError | StorageUnavailableError:
        # Without the vault directory itself (a volume not mounted, a share gone) every blob is
        # "missing": that is the store being unavailable (exit 14), not lost data (exit 6).
        if not self._root.is_dir():
            return StorageUnavailableError(self.name, f"vault directory {self._root} does not exist")
        return BlobNotFoundError(key)

    def _unavailable(self, exc: OSError) -> StorageUnavailableError:
        where = f" ({exc.filename})" if exc.filename else ""
        return StorageUnavailableError(self.name, f"{exc.strerror or exc}{where}")


def _start_writeback(fd: int, offset: int, length: int) -> None:
    # Linux only; elsewhere the final fsync does all the work.
    sync_file_range = getattr(os, "sync_file_range", None)
    if sync_file_range is not None:
        sync_file_range(fd, offset, length, getattr(os, "SYNC_FILE_RANGE_WRITE"))




_: type[BlobStore] = LocalBlobStore
