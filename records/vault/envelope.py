"""Streaming AEAD: AES-256-GCM over fixed-size segments, one random data key per object.

Format (version 1), in the style of Tink's streaming AEAD ("STREAM" construction)::

    header   = b"DSV1" || version (u8 = 1) || segment_size (u32 BE) || nonce_prefix (7 random bytes)
    segment  = AES-256-GCM(data_key, nonce, plaintext_i, aad) = ciphertext_i || tag (16 bytes)
    nonce    = nonce_prefix (7) || i (u32 BE) || last (u8: 1 for the final segment, else 0)
    aad      = header || canonical_context({"object_id": …, "kind": …})

Every segment holds ``segment_size`` plaintext bytes except the last, which holds 1 to
``segment_size`` bytes (0 only for an empty object), so both sides find segment boundaries
from the header alone and memory stays at about one segment whatever the object's size.

What is authenticated, and why:

* each segment's bytes, by its GCM tag;
* its position, by the counter in the nonce — reordered or duplicated segments fail;
* the end of the stream, by the last-flag in the nonce — dropping trailing segments makes the new
  final segment fail, because it was sealed with flag 0;
* the header (segment size, nonce prefix), by being part of the AAD;
* which object this is, by the object id and kind in the AAD — a blob copied onto another
  object's name, or opened as the wrong kind, fails.

Any failure raises :class:`~records.vault.errors.IntegrityError`. Plaintext segments are yielded
as soon as each is authenticated, so a stream cut short raises only at its end: consumers
MUST treat what they received as provisional until iteration completes.

This module is pure: it only needs ``cryptography`` and touches no disk.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records.vault.errors import IntegrityError

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "HEADER_SIZE",
    "MAX_SEGMENT_SIZE",
    "MIN_SEGMENT_SIZE",
    "TAG_SIZE",
    "canonical_context",
    "open_stream",
    "seal_stream",
    "sealed_size",
]

MAGIC = b"DSV1"
FORMAT_VERSION = 1
_HEADER = struct.Struct(">4sBI7s")
HEADER_SIZE = _HEADER.size  # 16
TAG_SIZE = 16
DATA_KEY_SIZE = 32
DEFAULT_SEGMENT_SIZE = 1024 * 1024
MIN_SEGMENT_SIZE = 16
# A reader allocates one segment from a header it has not yet authenticated; the cap keeps a
# forged header from making it allocate gigabytes.
MAX_SEGMENT_SIZE = 64 * 1024 * 1024
_MAX_SEGMENTS = 2**32
_U32 = struct.Struct(">I")
_NONCE_TAIL = struct.Struct(">IB")


def canonical_context(context: Mapping[str, str]) -> bytes:
    """Unambiguous bytes for a string mapping, for use as associated data.

    Keys are sorted; every key and value is UTF-8 with a u32 length prefix, so no two
    different mappings encode alike ("a"+"bc" never equals "ab"+"c").
    """
    out = bytearray()
    for name in sorted(context):
        for text in (name, context[name]):
            raw = str(text).encode("utf-8")
            out += _U32.pack(len(raw))
            out += raw
    return bytes(out)


def sealed_size(plaintext_size: int, segment_size: int = DEFAULT_SEGMENT_SIZE) -> int:
    """Bytes :func:`seal_stream` produces for ``plaintext_size`` bytes of plaintext."""
    segments = max(1, -(-plaintext_size // segment_size))
    return HEADER_SIZE + plaintext_size + segments * TAG_SIZE


def seal_stream(
    data_key: bytes | bytearray,
    object_id: str,
    kind: str,
    chunks: Iterable[bytes],
    segment_size: int = DEFAULT_SEGMENT_SIZE,
) -> Iterator[bytes]:
    """Encrypt a plaintext stream; yields the header, then one sealed segment at a time.

    The key is taken into the cipher context at once, so the caller may wipe ``data_key`` as
    soon as this returns, before iterating.

    Args:
        data_key: 32 random bytes used for this object only.
        object_id: bound into every segment's associated data.
        kind: what the object is to its document (e.g. "original"); bound likewise.
        chunks: plaintext in pieces of any size.
        segment_size: plaintext bytes per segment.

    Raises:
        ValueError: bad key length or segment size (raised by the call, not on iteration).
    """
    _check_key(data_key)
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"segment_size must be {MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE}, not {segment_size}")
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, segment_size, os.urandom(7))
    return _seal(AESGCM(data_key), header, _aad(header, object_id, kind), chunks, segment_size)


def _seal(aead: AESGCM, header: bytes, aad: bytes, chunks: Iterable[bytes], segment_size: int) -> Iterator[bytes]:
    prefix = header[-7:]
    yield header
    for counter, (piece, last) in enumerate(_segments(chunks, segment_size)):
        if counter >= _MAX_SEGMENTS:
            raise ValueError("object too large for the segment counter; use a larger segment_size")
        yield aead.encrypt(prefix + _NONCE_TAIL.pack(counter, last), piece, aad)


def open_stream(
    data_key: bytes | bytearray,
    object_id: str,
    kind: str,
    chunks: Iterable[bytes],
) -> Iterator[bytes]:
    """Decrypt and authenticate a sealed stream; yields plaintext one segment at a time.

    Args:
        data_key: the object's data key (already unwrapped).
        object_id: the id the object was sealed under.
        kind: the kind it was sealed as.
        chunks: the sealed bytes in pieces of any size.

    Raises:
        IntegrityError: (on iteration) not a sealed object, a segment fails authentication,
            or the stream is truncated. Earlier segments may already have been yielded.
        ValueError: bad key length (raised by the call).
    """
    _check_key(data_key)
    return _open(AESGCM(data_key), object_id, kind, chunks)


def _open(aead: AESGCM, object_id: str, kind: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    header, rest = _read_header(object_id, chunks)
    magic, version, segment_size, prefix = _HEADER.unpack(header)
    if magic != MAGIC:
        raise IntegrityError(object_id, "not a sealed object (bad magic)")
    if version != FORMAT_VERSION:
        raise IntegrityError(object_id, f"unsupported sealed format version {version}")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise IntegrityError(object_id, "header damaged (segment size out of range)")
    aad = _aad(header, object_id, kind)
    for counter, (piece, last) in enumerate(_segments(rest, segment_size + TAG_SIZE)):
        if counter >= _MAX_SEGMENTS:
            raise IntegrityError(object_id, "too many segments")
        if last and len(piece) < TAG_SIZE:
            raise IntegrityError(object_id, "truncated")
        try:
            yield aead.decrypt(prefix + _NONCE_TAIL.pack(counter, last), piece, aad)
        except InvalidTag:
            if last and _opens_as_middle(aead, prefix, counter, piece, aad):
                raise IntegrityError(object_id, "truncated") from None
            raise IntegrityError(object_id, f"authentication failed (segment {counter})") from None


def _opens_as_middle(aead: AESGCM, prefix: bytes, counter: int, piece: bytes | bytearray | memoryview, aad: bytes) -> bool:
    # Only on the failure path: tells "segments were cut off" apart from "bytes were changed".
    try:
        aead.decrypt(prefix + _NONCE_TAIL.pack(counter, 0), piece, aad)
    except InvalidTag:
        return False
    return True


def _check_key(data_key: bytes | bytearray) -> None:
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes, not {len(data_key)}")


def _aad(header: bytes, object_id: str, kind: str) -> bytes:
    return header + canonical_context({"object_id": object_id, "kind": kind})


def _read_header(object_id: str, chunks: Iterable[bytes]) -> tuple[bytes, Iterator[bytes]]:
    it = iter(chunks)
    got = b""
    for chunk in it:
        got = got + bytes(chunk) if got else chunk  # usually the first chunk holds it all: no copy
        if len(got) >= HEADER_SIZE:
            break
    if len(got) < HEADER_SIZE:
        raise IntegrityError(object_id, "truncated (no complete header)")
    head = bytes(got[:HEADER_SIZE])
    tail = memoryview(got)[HEADER_SIZE:]

    def rest() -> Iterator[bytes]:
        if tail:
            yield tail  # type: ignore[misc]  # a read-only view, which _segments takes as is
        yield from it

    return head, rest()


def _segments(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes | bytearray | memoryview, bool]]:
    """Re-cut a byte stream into ``(piece, is_last)`` of exactly ``size`` bytes, the last 0..size.

    A full piece is held back until more input proves it is not the last. Whole pieces inside a
    large ``bytes`` chunk are handed out as views, not copies.
    """
    buf = bytearray()
    held: bytes | bytearray | memoryview | None = None
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        if held is not None:
            yield held, False
            held = None
        if not (isinstance(chunk, bytes) or (isinstance(chunk, memoryview) and isinstance(chunk.obj, bytes))):
            # Views below outlive this step; a producer reusing a mutable buffer would change
            # (or be unable to resize) bytes we still point at.
            chunk = bytes(chunk)
        view = memoryview(chunk)
        pos = 0
        if buf:
            take = min(size - len(buf), n)
            buf += view[:take]
            pos = take
            if len(buf) < size:
                continue
            held, buf = buf, bytearray()
            if pos == n:
                continue
            yield held, False
            held = None
        while n - pos > size:
            yield view[pos : pos + size], False
            pos += size
        if n - pos == size:
            held = view[pos:]
        else:
            buf += view[pos:]
    if held is not None:
        yield held, True
    else:
        yield buf, True
