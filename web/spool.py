"""Where an upload waits between the socket and the vault: never as plaintext on disk.

Werkzeug spools every uploaded file over 500 KB into an unnamed temporary file before the view
runs, so a scanned complaint would sit in /tmp in clear until the request ends (and in freed
disk blocks after). :class:`EncryptedSpool` keeps the first megabytes in memory and encrypts the
rest with AES-256-CTR under a key that exists only in this process's memory; CTR allows reading
back from any offset, which is all the form parser and the upload route need.
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import IO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Request

MEMORY_BYTES = 4 * 1024 * 1024  # smaller uploads never touch the disk at all
_BLOCK = 16


class EncryptedSpool(io.RawIOBase):
    """A seekable read/write byte stream: in memory up to ``memory_bytes``, then an anonymous
    temporary file holding only AES-CTR ciphertext under a per-spool random key."""

    def __init__(self, memory_bytes: int = MEMORY_BYTES) -> None:
        super().__init__()
        self._memory: io.BytesIO | None = io.BytesIO()
        self._limit = memory_bytes
        self._file: IO[bytes] | None = None
        self._key = os.urandom(32)
        self._nonce = int.from_bytes(os.urandom(_BLOCK), "big")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos if self._memory is None else self._memory.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._memory is not None:
            return self._memory.seek(offset, whence)
        assert self._file is not None
        end = self._file.seek(0, io.SEEK_END)
        self._pos = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset, io.SEEK_END: end + offset}[whence]
        return self._pos

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        data = bytes(data)
        if self._memory is not None:
            if self._memory.tell() + len(data) <= self._limit:
                return self._memory.write(data)
            self._to_disk()
        assert self._file is not None
        self._file.seek(self._pos)
        self._file.write(self._crypt(self._pos, data))
        self._pos += len(data)
        return len(data)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._memory is not None:
            return self._memory.readinto(buffer)
        assert self._file is not None
        self._file.seek(self._pos)
        chunk = self._file.read(len(buffer))
        plain = self._crypt(self._pos, chunk)
        buffer[: len(plain)] = plain
        self._pos += len(plain)
        return len(plain)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()

    def _to_disk(self) -> None:
        assert self._memory is not None
        held, pos = self._memory.getvalue(), self._memory.tell()
        self._file = tempfile.TemporaryFile()  # unnamed; holds ciphertext only
        self._file.write(self._crypt(0, held))
        self._memory, self._pos = None, pos

    def _crypt(self, offset: int, data: bytes) -> bytes:
        """AES-CTR at byte ``offset`` (encryption and decryption are the same operation)."""
        block, skip = divmod(offset, _BLOCK)
        counter = ((self._nonce + block) % (1 << 128)).to_bytes(_BLOCK, "big")
        cipher = Cipher(algorithms.AES(self._key), modes.CTR(counter)).encryptor()
        return cipher.update(bytes(skip) + data)[skip:] + cipher.finalize()


class SpoolingRequest(Request):
    """Flask's request, with uploaded files held in an :class:`EncryptedSpool`."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BufferedRandom(EncryptedSpool())  # type: ignore[arg-type]
