"""Files that survive a crash: write a temporary file, fsync it, rename it into place, fsync the directory.

A rename is atomic but not durable until the directory entry itself reaches the disk, and the
new file's contents are not durable until the file is fsynced before the rename. Every file the
archive must not lose or find half-written (key files, certificates, index pointers, checkpoints)
goes through :func:`write_atomic`; code that renames or links something itself calls
:func:`fsync_dir` afterwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["fsync_dir", "write_atomic"]


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (a new, renamed or removed name) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old file or the new one, whole.

    The temporary file is created in the same directory (a rename cannot cross filesystems) with
    ``mode`` from the start, so a secret is never readable by others, not even for a moment.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
