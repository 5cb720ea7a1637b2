"""Zip archives → their members as attachments (filed as child documents), and a short listing.

A complaint often arrives as one zip of scans, letters and spreadsheets. Each member becomes an
:class:`~ingest.model.Attachment` under its path in the archive (folders kept: ``材料/证据1.jpg``),
which ingest detects again by content and files as a child document, depth-bounded. The zip's
own text is the list of member names, so a search for a file name finds the archive.

Choices:
- Member names: the UTF-8 flag, or Info-ZIP's Unicode path field when its CRC matches the raw
  name it stands for; otherwise the raw bytes are tried as UTF-8, then as GB18030 and Big5-HKSCS
  (Windows in Chinese writes names in GBK or Big5 without saying so, and the stdlib's cp437
  reading turns "投诉信.doc" into "═╢╦▀╨┼.doc"). GB18030 decodes almost any bytes, so the two
  are weighed like file contents (``_mime._everyday_share``): the decode made of everyday
  characters wins ("證據資料" in Big5 is "靡沮戈" read as GBK); when neither reads as Chinese, a
  Shift_JIS decode showing kana (Japanese Windows); cp437 last.
- Skipped: directories, macOS resource forks (``__MACOSX/``, ``._*``), ``.DS_Store``,
  ``Thumbs.db``, ``desktop.ini``.
- Bomb limits from the central directory, before inflating anything (``_zip``): a member whose
  ratio only a bomb reaches, or an absurd member count → ``TooLargeError``; beyond
  ``max_attachments`` or ``max_expanded_bytes`` members are left out with a warning (the
  original archive is filed whole either way).
- Encrypted members (ZipCrypto) are opened with ``context.password``; AES members (method 99)
  cannot be by the standard library and are named in a warning. An archive whose members are
  all encrypted and none could be opened → ``EncryptedDocumentError``.
- 7z and RAR archives are not read (no reader is installed); they are filed ``unsupported``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from ingest.extractors._mime import _everyday_share
from ingest.extractors._zip import MAX_MEMBERS, is_bomb, read_member
from ingest.model import Attachment, ExtractContext, Extraction

__all__ = ["ZipExtractor", "member_name"]

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_AES_METHOD = 99
_UNICODE_PATH_FIELD = 0x7075
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_LISTED = 500                   # member names kept in the archive's own text
_MIN_EVERYDAY = 0.5              # share of everyday characters below which a Chinese decode is doubted


class ZipExtractor:
    """Extracts zip archives: members become child documents; the text lists their names."""

    name: ClassVar[str] = "zip"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/zip", "application/x-zip-compressed"})
    takes_password: ClassVar[bool] = True

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the member listing as text and the members as attachments, within limits.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``, or the archive is a zip bomb.
            EncryptedDocumentError: every member is encrypted and none opens with the password.
            CorruptDocumentError: not a zip, or its central directory is damaged.
        """
        limits = context.limits
        size = source.stat().st_size
        if size > limits.max_file_bytes:
            raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
        with source.open("rb") as handle:
            if handle.read(4) not in _ZIP_MAGICS:
                raise CorruptDocumentError("not a zip archive")
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptDocumentError(f"damaged or truncated zip archive: {exc}") from exc
        with archive:
            return _Unpacker(archive, context).run()


def member_name(info: zipfile.ZipInfo) -> str:
    """The real name of a member, recovering names the stdlib read as cp437."""
    unicode_path = _unicode_path_field(info)
    if unicode_path is not None:
        return unicode_path
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    if raw.isascii():
        return info.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    decodes = []
    for codec in ("gb18030", "big5hkscs"):          # ties go to GB18030, the mainland's
        try:
            decodes.append(raw.decode(codec))
        except UnicodeDecodeError:
            continue
    best = max(decodes, key=_everyday_share) if decodes else None
    if best is None or _everyday_share(best) < _MIN_EVERYDAY:
        # Neither reads as Chinese: a Japanese Windows name (Shift_JIS) shows kana when decoded so.
        try:
            japanese = raw.decode("cp932")
        except UnicodeDecodeError:
            japanese = ""
        if any("\u3040" <= c <= "\u30ff" for c in japanese):
            return japanese
    return best if best is not None else info.filename


def _unicode_path_field(info: zipfile.ZipInfo) -> str | None:
    """Info-ZIP's Unicode Path extra field (0x7075): version, CRC of the raw name, UTF-8 name.

    The field is trusted only while its CRC is that of the name in the header: a tool that renamed
    the member without updating the field left a stale name there (APPNOTE 4.6.9)."""
    extra = info.extra
    raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437", errors="replace")
    at = 0
    while at + 4 <= len(extra):
        field_id, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + length]
        if field_id == _UNICODE_PATH_FIELD and len(body) > 5 and body[0] == 1:
            if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
                return None
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + length
    return None


def _junk(name: str) -> bool:
    path = PurePosixPath(name)
    return (not path.name or path.parts[0] == "__MACOSX" or path.name.startswith("._")
            or path.name.lower() in _JUNK_NAMES)


class _Unpacker:
    """One extraction's members, warnings and counters."""

    def __init__(self, archive: zipfile.ZipFile, context: ExtractContext) -> None:
        self.archive = archive
        self.context = context
        self.warnings: list[str] = []
        self.attachments: list[Attachment] = []

    def run(self) -> Extraction:
        limits = self.context.limits
        infos = self.archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise TooLargeError(f"zip archive has {len(infos)} members")
        members = [(info, name) for info in infos
                   if not info.is_dir() and not _junk(name := member_name(info).replace("\\", "/").lstrip("/"))]
        for info, name in members:
            if is_bomb(info):
                raise TooLargeError(f"zip member {name} compresses {info.file_size}:{info.compress_size}, "
                                    "a decompression bomb")
        names = [name for _info, name in members]
        if self.context.depth >= limits.max_depth:
            if members:
                self.warnings.append(f"{len(members)} member(s) not extracted: max_depth reached")
        else:
            self._unpack(members)
        listing = names[:_LISTED]
        if len(names) > _LISTED:
            listing.append(f"… {len(names) - _LISTED} more")
        return Extraction(text="\n".join(listing), metadata={"members": str(len(names))},
                          warnings=tuple(self.warnings), attachments=tuple(self.attachments))

    def _unpack(self, members: list[tuple[zipfile.ZipInfo, str]]) -> None:
        limits = self.context.limits
        expanded = dropped = 0
        locked: list[str] = []
        for info, name in members:
            if len(self.attachments) >= limits.max_attachments or expanded + info.file_size > limits.max_expanded_bytes:
                dropped += 1
                continue
            data = self._read(info, name, locked)
            if data is None:
                continue
            expanded += len(data)
            self.attachments.append(Attachment(name, data, None))
        if dropped:
            self.warnings.append(f"{dropped} member(s) not extracted: over max_attachments or max_expanded_bytes")
        if locked and len(locked) == len(members):
            reason = "wrong password for" if self.context.password else "no password given for"
            raise EncryptedDocumentError(f"encrypted zip archive ({reason} all {len(locked)} member(s))")
        if locked:
            shown = ", ".join(locked[:5]) + (f" and {len(locked) - 5} more" if len(locked) > 5 else "")
            why = "the password does not open" if self.context.password else "encrypted, no password given:"
            self.warnings.append(f"{why} {shown}")

    def _read(self, info: zipfile.ZipInfo, name: str, locked: list[str]) -> bytes | None:
        """A member's bytes, or None (with a warning, or the name added to ``locked``)."""
        encrypted = bool(info.flag_bits & _ENCRYPTED_FLAG)
        if encrypted and info.compress_type == _AES_METHOD:
            self.warnings.append(f"{name} is AES-encrypted, which cannot be opened here")
            locked.append(name)
            return None
        if encrypted and not self.context.password:
            locked.append(name)
            return None
        passwords: list[bytes | None] = [None]
        if encrypted and self.context.password:
            # Chinese Windows tools encrypt with the GBK bytes of a password, others with UTF-8.
            passwords = list(dict.fromkeys(self.context.password.encode(c, errors="ignore")
                                           for c in ("utf-8", "gb18030")))
        for pwd in passwords:
            try:
                return read_member(self.archive, info, pwd)
            except NotImplementedError as exc:      # compression method the stdlib lacks (e.g. 9: deflate64)
                self.warnings.append(f"{name} not extracted: {exc}")
                return None
            except (RuntimeError, zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
                if encrypted:
                    # "Bad password", or a wrong password that passed the one-byte check and
                    # then fails to inflate or its CRC: try the next encoding of the password.
                    continue
                self.warnings.append(f"{name} unreadable: {exc}")
                return None
        locked.append(name)
        return None
