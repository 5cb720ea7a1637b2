"""Zip archives: members filed as child documents under their real names (GBK names from Chinese
Windows included), passwords, junk skipped, bomb limits (issue #13, item 4)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from ingest.detect import ZIP, detect_media_type
from ingest.errors import EncryptedDocumentError, TooLargeError
from ingest.extractors import extractor_for
from ingest.model import ExtractContext, Extraction, Limits

LETTER = "投诉信：小区物业长期不处理漏水问题。".encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if name.endswith("/"):
                z.mkdir(name.rstrip("/"))
            else:
                z.writestr(name, data)
    return buf.getvalue()


def _zipcrypto(data: bytes, password: bytes, crc: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1), which the stdlib reads but cannot write."""
    def crc_byte(value: int, byte: int) -> int:
        return ~zlib.crc32(bytes([byte]), ~value & 0xFFFFFFFF) & 0xFFFFFFFF

    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for plain in bytes(range(11)) + bytes([crc >> 24]) + data:
        temp = keys[2] | 2
        out.append(plain ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(plain)
    return bytes(out)


def _raw_zip(members: list[tuple[bytes, bytes, bool]], *, password: bytes | None = None) -> bytes:
    """A stored zip written byte by byte: (raw name, data, utf8 flag), optionally ZipCrypto-encrypted.
    Lets a test write GBK names without the UTF-8 flag, as Windows in Chinese does."""
    body, central = bytearray(), bytearray()
    for name, data, utf8 in members:
        crc = zlib.crc32(data)
        flags = (0x800 if utf8 else 0) | (0x1 if password else 0)
        stored = _zipcrypto(data, password, crc) if password else data
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0x21, crc, len(stored), len(data),
                             len(name), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 0, 0, 0x21, crc, len(stored),
                               len(data), len(name), 0, 0, 0, 0, 0, len(body)) + name
        body += header + name + stored
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0)
    return bytes(body + central + end)


def _extract(tmp_path: Path, data: bytes, context: ExtractContext | None = None) -> Extraction:
    path = tmp_path / "材料.zip"
    path.write_bytes(data)
    media_type = detect_media_type(path)
    assert media_type == ZIP
    return extractor_for(media_type).extract(path, media_type, context or ExtractContext())


def test_members_become_attachments_under_their_paths(tmp_path: Path) -> None:
    """GIVEN a zip of a complaint's material: nested folders, an empty folder and macOS junk
    WHEN extracted
    THEN each real file is an attachment named by its path in the archive (folders kept), the junk
    and folders are skipped, and the archive's text lists the names so a search finds it."""
    data = _zip({
        "信访材料/": b"",
        "信访材料/投诉信.txt": LETTER,
        "信访材料/证据/照片1.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
        "__MACOSX/信访材料/._投诉信.txt": b"\0\5\26\7",
        "信访材料/.DS_Store": b"\0\0\0\1Bud1",
        "Thumbs.db": b"\xd0\xcf\x11\xe0",
    })
    result = _extract(tmp_path, data)
    assert [(a.filename, a.data) for a in result.attachments] == [
        ("信访材料/投诉信.txt", LETTER), ("信访材料/证据/照片1.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")]
    assert result.text.splitlines() == ["信访材料/投诉信.txt", "信访材料/证据/照片1.jpg"]
    assert result.warnings == ()


def test_gbk_member_names_from_chinese_windows_are_read_right(tmp_path: Path) -> None:
    """GIVEN a zip written by a Chinese Windows tool: GBK names without the UTF-8 flag (the stdlib
    reads them as cp437 mojibake), beside a UTF-8-flagged name and a UTF-8 name without the flag
    WHEN extracted
    THEN every name comes out as written."""
    data = _raw_zip([("投诉信.txt".encode("gbk"), LETTER, False),
                     ("答复意见.txt".encode(), b"reply", True),
                     ("附件/证据清单.txt".encode(), b"list", False)])
    assert [a.filename for a in _extract(tmp_path, data).attachments] == [
        "投诉信.txt", "答复意见.txt", "附件/证据清单.txt"]


def test_big5_and_shift_jis_member_names_are_not_read_as_gbk(tmp_path: Path) -> None:
    """GIVEN a zip from Taiwan/Hong Kong Windows (Big5 names without the UTF-8 flag), beside a GBK
    name and a Japanese (Shift_JIS) one; GB18030 "decodes" the Big5 bytes too, into rare characters
    WHEN extracted
    THEN each name comes out as written."""
    data = _raw_zip([("證據資料.txt".encode("big5"), LETTER, False),
                     ("投诉信.txt".encode("gbk"), LETTER, False),
                     ("申し立て.txt".encode("shift_jis"), LETTER, False)])
    assert [a.filename for a in _extract(tmp_path, data).attachments] == ["證據資料.txt", "投诉信.txt", "申し立て.txt"]


def _unicode_path(raw_name: str, name: str) -> bytes:
    """Info-ZIP's Unicode Path extra field (0x7075) naming ``name`` for the header name ``raw_name``."""
    body = b"\x01" + struct.pack("<I", zlib.crc32(raw_name.encode())) + name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def test_unicode_path_field_is_trusted_only_while_its_crc_matches_the_name(tmp_path: Path) -> None:
    """GIVEN a member whose Unicode Path field names it in Chinese for its header name, and one
    renamed by a tool that left the old field in place (its CRC is of another name)
    WHEN extracted
    THEN the first is named by the field, the second by its header name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for header_name, field in (("tousu.txt", _unicode_path("tousu.txt", "投诉信.txt")),
                                   ("renamed.txt", _unicode_path("old.txt", "旧名.txt"))):
            info = zipfile.ZipInfo(header_name)
            info.extra = field
            z.writestr(info, b"text")
    assert [a.filename for a in _extract(tmp_path, buf.getvalue()).attachments] == ["投诉信.txt", "renamed.txt"]


def test_encrypted_members_open_with_the_password(tmp_path: Path) -> None:
    """GIVEN a ZipCrypto-encrypted zip
    WHEN extracted with its password, without one, and with a wrong one
    THEN the members come out with the password; otherwise the archive is encrypted, naming why."""
    data = _raw_zip([("投诉信.txt".encode(), LETTER, True)], password=b"xf2024")
    opened = _extract(tmp_path, data, ExtractContext(password="xf2024"))
    assert [(a.filename, a.data) for a in opened.attachments] == [("投诉信.txt", LETTER)]
    with pytest.raises(EncryptedDocumentError, match="no password"):
        _extract(tmp_path, data)
    with pytest.raises(EncryptedDocumentError, match="wrong password"):
        _extract(tmp_path, data, ExtractContext(password="nope"))
    assert extractor_for(ZIP).takes_password is True  # type: ignore[attr-defined]


def test_a_locked_member_among_open_ones_is_named(tmp_path: Path) -> None:
    """GIVEN a zip holding an open member and (from a second archive merged in) an encrypted one
    WHEN extracted without a password
    THEN the open member is filed and a warning names the locked one."""
    locked = _raw_zip([("密件.txt".encode(), b"secret", True)], password=b"pw")
    buf = io.BytesIO(locked)
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("公开.txt", b"open")
    result = _extract(tmp_path, buf.getvalue())
    assert [a.filename for a in result.attachments] == ["公开.txt"]
    assert any("密件.txt" in w and "password" in w for w in result.warnings)


def test_bomb_limits_hold(tmp_path: Path) -> None:
    """GIVEN a zip holding a decompression bomb, and one with more members than max_attachments
    WHEN extracted
    THEN the bomb is too large before anything is inflated; the extra members are left out with
    a warning, and beyond max_depth nothing is unpacked."""
    with pytest.raises(TooLargeError):
        _extract(tmp_path, _zip({"readme.txt": b"hi", "zeros.bin": b"\0" * (8 * 1024 * 1024)}))
    many = _zip({f"{n}.txt": b"x" * n for n in range(1, 6)})
    capped = _extract(tmp_path, many, ExtractContext(limits=Limits(max_attachments=3)))
    assert len(capped.attachments) == 3
    assert any("max_attachments" in w for w in capped.warnings)
    deep = _extract(tmp_path, many, ExtractContext(depth=5))
    assert deep.attachments == () and any("max_depth" in w for w in deep.warnings)
    assert len(deep.text.splitlines()) == 5
