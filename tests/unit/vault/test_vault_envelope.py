"""Segmented AES-256-GCM: round trips at every boundary, and every kind of tampering fails loudly."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from records.vault.envelope import HEADER_SIZE, TAG_SIZE, open_stream, seal_stream, sealed_size
from records.vault.errors import IntegrityError

SEG = 64
KEY = bytes(range(32))


def _pieces(data: bytes, seed: int, largest: int = 3 * SEG) -> Iterator[bytes]:
    rng = random.Random(seed)
    i = 0
    while i < len(data):
        j = i + rng.randint(1, largest)
        yield data[i:j]
        i = j


def _seal(data: bytes, object_id: str = "obj-1", kind: str = "original") -> bytes:
    return b"".join(seal_stream(KEY, object_id, kind, [data], SEG))


def _open(sealed: bytes, object_id: str = "obj-1", kind: str = "original", key: bytes = KEY) -> bytes:
    return b"".join(open_stream(key, object_id, kind, [sealed]))


def _segments(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    return sealed[:HEADER_SIZE], [body[i : i + SEG + TAG_SIZE] for i in range(0, len(body), SEG + TAG_SIZE)]


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 5 * SEG + 7])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_size_round_trips_whatever_the_chunking(size: int, seed: int) -> None:
    """Objects of any size, fed and read back in arbitrary pieces, come back byte for byte."""
    data = os.urandom(size)
    sealed = b"".join(seal_stream(KEY, "obj-1", "original", _pieces(data, seed), SEG))
    assert len(sealed) == sealed_size(size, SEG)
    assert b"".join(open_stream(KEY, "obj-1", "original", _pieces(sealed, seed + 10))) == data


def test_mutable_input_buffers_are_not_aliased() -> None:
    """A producer that reuses one bytearray for every piece still seals what it produced."""
    data = os.urandom(4 * SEG)
    buf = bytearray(SEG)

    def reusing() -> Iterator[bytes]:
        for i in range(0, len(data), SEG):
            buf[:] = data[i : i + SEG]
            yield buf  # type: ignore[misc]

    sealed = b"".join(seal_stream(KEY, "obj-1", "original", reusing(), SEG))
    assert _open(sealed) == data


def test_sealing_the_same_bytes_twice_gives_different_ciphertext() -> None:
    """The random nonce prefix makes every sealing unique, even under the same key."""
    data = b"same bytes" * 20
    assert _seal(data) != _seal(data)


def test_every_single_flipped_byte_is_detected() -> None:
    """Flipping any one byte of a sealed object, header or segment, makes opening fail."""
    sealed = _seal(os.urandom(3 * SEG + 10))
    for i in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[i] ^= 0x01
        with pytest.raises(IntegrityError):
            _open(bytes(damaged))


def test_dropping_the_last_segment_is_reported_as_truncation() -> None:
    """A blob cut at a segment boundary fails as truncated, not silently short."""
    header, segs = _segments(_seal(os.urandom(3 * SEG + 10)))
    with pytest.raises(IntegrityError) as caught:
        _open(header + b"".join(segs[:-1]))
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize("keep", [0, 5, HEADER_SIZE, HEADER_SIZE + 10, HEADER_SIZE + SEG + TAG_SIZE + 3])
def test_any_truncation_fails(keep: int) -> None:
    """A blob cut anywhere, even inside the header, fails to open."""
    sealed = _seal(os.urandom(3 * SEG))
    with pytest.raises(IntegrityError):
        _open(sealed[:keep])


def test_appended_bytes_fail() -> None:
    """Bytes added after the final segment make opening fail."""
    with pytest.raises(IntegrityError):
        _open(_seal(os.urandom(2 * SEG)) + b"x" * (SEG + TAG_SIZE))


def test_reordered_segments_fail() -> None:
    """Swapping two segments makes opening fail: the position is authenticated."""
    header, segs = _segments(_seal(os.urandom(4 * SEG)))
    segs[0], segs[1] = segs[1], segs[0]
    with pytest.raises(IntegrityError):
        _open(header + b"".join(segs))


def test_duplicated_segment_fails() -> None:
    """Repeating a segment makes opening fail."""
    header, segs = _segments(_seal(os.urandom(4 * SEG)))
    with pytest.raises(IntegrityError):
        _open(header + segs[0] + b"".join(segs))


def test_opening_under_another_object_id_fails() -> None:
    """A blob copied onto another object's name does not open as that object."""
    sealed = _seal(b"complaint" * 30, object_id="obj-1")
    with pytest.raises(IntegrityError):
        _open(sealed, object_id="obj-2")


def test_opening_as_another_kind_fails() -> None:
    """An original cannot be passed off as the extracted text of the same object, or back."""
    sealed = _seal(b"complaint" * 30, kind="original")
    with pytest.raises(IntegrityError):
        _open(sealed, kind="text")


def test_opening_with_another_data_key_fails() -> None:
    """Only the object's own data key opens it."""
    with pytest.raises(IntegrityError):
        _open(_seal(b"complaint"), key=os.urandom(32))


def test_not_a_sealed_object_fails_with_a_clear_reason() -> None:
    """Plain bytes where a sealed blob should be are reported as such."""
    with pytest.raises(IntegrityError) as caught:
        _open(b"%PDF-1.7 " + os.urandom(100))
    assert "not a sealed object" in caught.value.reason


def test_segment_size_and_key_length_are_checked_up_front() -> None:
    """Bad parameters are a ValueError from the call, before any output."""
    with pytest.raises(ValueError):
        seal_stream(KEY, "obj-1", "original", [], segment_size=8)
    with pytest.raises(ValueError):
        seal_stream(b"short", "obj-1", "original", [])
