"""Zip-bomb guard shared by every extractor that opens a zip (DOCX, OFD, plain zip archives).

A zip states each member's sizes in its central directory, so a bomb can be refused before a
single byte is inflated. The stated sizes are also enforced while reading (``read_member``),
since a hostile archive may lie in its directory.
"""

from __future__ import annotations

import zipfile

from ingest.errors import TooLargeError
from ingest.model import Limits

__all__ = ["MAX_MEMBERS", "guard_members", "read_member"]

MAX_MEMBERS = 10_000
_MAX_RATIO = 200            # deflate tops out near 1000:1; real documents stay under ~30:1
_RATIO_FLOOR = 1024 * 1024  # small members may compress absurdly well without harm


def guard_members(members: list[zipfile.ZipInfo], limits: Limits, *, what: str = "zip package") -> None:
    """Refuse zip bombs from the central directory alone, before decompressing anything.

    Raises:
        TooLargeError: too many members, too many expanded bytes, or a member whose
            compression ratio only a decompression bomb reaches.
    """
    if len(members) > MAX_MEMBERS:
        raise TooLargeError(f"{what} has {len(members)} members")
    total = sum(member.file_size for member in members)
    if total > limits.max_expanded_bytes:
        raise TooLargeError(f"{what} expands to {total} bytes, limit is {limits.max_expanded_bytes}")
    for member in members:
        if is_bomb(member):
            raise TooLargeError(f"zip member {member.filename} compresses {member.file_size}:"
                                f"{member.compress_size}, a decompression bomb")


def is_bomb(member: zipfile.ZipInfo) -> bool:
    """Whether one member's stated compression ratio is one only a decompression bomb reaches."""
    return member.file_size > _RATIO_FLOOR and member.file_size > _MAX_RATIO * max(member.compress_size, 1)


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
    """The bytes of one member, never more than its directory entry states (a lying entry is
    cut off there and reported).

    Raises:
        TooLargeError: the member inflates beyond its stated size.
    """
    with archive.open(member, pwd=pwd) as stream:
        data = stream.read(member.file_size + 1)
    if len(data) > member.file_size:
        raise TooLargeError(f"zip member {member.filename} inflates beyond its stated size")
    return data
