"""Format detection by content (libmagic), refined where libmagic is known to be vague.

Never by extension alone: the name is only a tie-breaker for text that could be several things.

A byte-order mark settles it: a file that starts with a UTF-8/UTF-16/UTF-32 BOM and decodes to
printable text is text (or mail, when the decoded text opens with mail headers), whatever
libmagic calls it (it names subtitles ``application/x-subrip``/``text/vtt``, which nothing reads).
BOM-less UTF-16 is recognised by what it decodes to, and checked for mail headers the same way.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

import magic

_HEAD = 64 * 1024
_HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{1,40}):[ \t]?", re.MULTILINE)
_MAIL_HEADERS = frozenset({
    b"from", b"to", b"subject", b"date", b"received", b"message-id", b"mime-version",
    b"return-path", b"delivered-to", b"content-type", b"reply-to", b"cc", b"x-mailer",
})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MSG = "application/vnd.ms-outlook"
DOC = "application/msword"
EML = "message/rfc822"
MBOX = "application/mbox"
TEXT = "text/plain"

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Text types with a reader of their own, kept when a BOM precedes them; any other type
# libmagic gives a BOM-marked text file becomes plain text.
_MARKED_TEXT_TYPES = frozenset({"text/html", "text/xml", "application/xml", "text/csv", "text/markdown"})


def detect_media_type(source: Path | bytes) -> str:
    """The media type of a file or buffer, judged by its content."""
    head = source[:_HEAD] if isinstance(source, bytes) else _read_head(source)
    if not head.strip():
        return "application/x-empty"
    found = magic.from_buffer(head, mime=True)
    marked = _bom_text(head)
    if marked is not None:
        return _mail_type(marked.encode("utf-8")) or (found if found in _MARKED_TEXT_TYPES else TEXT)
    if found == "application/x-dosexec" and not head.startswith(b"MZ") and _plain_bytes(head):
        # libmagic's headerless COM guess: GBK/GB18030 text opening with 0xB8 ("附", "该") or
        # Latin text with 0xE9 ("é") reads as an x86 MOV/JMP. Code has control bytes; text has none.
        found = TEXT
    if head.startswith(_OLE_MAGIC):
        return _ole_type(source, found)
    if head.startswith(b"PK\x03\x04") and found in ("application/zip", "application/octet-stream", DOCX):
        return _zip_type(source, found)
    if found == "application/octet-stream" or (found == TEXT and b"\x00" in head):
        # (ASCII letter pairs read as UTF-16 are CJK ideographs: only NUL-bearing text qualifies.)
        utf16 = _looks_utf16(head)
        if utf16 is not None:
            # Some Windows tools save .eml as UTF-16: the headers show only once decoded.
            decoded = codecs.getincrementaldecoder(utf16)("replace").decode(head, final=False)
            return _mail_type(decoded.encode("utf-8")) or TEXT
    if found in ("text/plain", "text/html", "application/octet-stream", EML, MBOX):
        mail = _mail_type(head)
        if mail:
            return mail
    return found


def _bom_text(head: bytes) -> str | None:
    """The decoded start of a file that opens with a byte-order mark and reads as text."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            try:
                # Incremental: the head may end inside a character.
                text = codecs.getincrementaldecoder(codec)("strict").decode(head[len(bom):], final=False)
            except UnicodeDecodeError:
                return None
            # Binary data may begin with BOM-like bytes by chance; text is (almost) all printable.
            sample = text[:4096]
            printable = sum(1 for c in sample if c.isprintable() or c in "\r\n\t\f")
            return text if printable >= 0.95 * len(sample) else None
    return None


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _plain_bytes(head: bytes) -> bool:
    """No control bytes but tab, line ends, form feed and ESC (ISO-2022): text, not code."""
    return _CONTROL_BYTES.search(head) is None


def _looks_utf16(head: bytes) -> str | None:
    """The byte order of BOM-less UTF-16 text, which libmagic calls data: it decodes to
    (almost) only ASCII, CJK ideographs and CJK/full-width punctuation (random bytes would not)."""
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) < 32:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        plausible = sum(
            1 for c in text
            if c in "\r\n\t" or " " <= c <= "~" or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        )
        if plausible >= 0.95 * len(text):
            return codec
    return None


def _read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_HEAD)


def _mail_type(head: bytes) -> str | None:
    """RFC 822 messages that libmagic calls text: mbox 'From ' lines, .emlx byte counts, or a
    block of known mail headers at the top."""
    lines = head.lstrip(b"\r\n").split(b"\n", 1)
    body = head
    if re.match(rb"^\d+\s*$", lines[0]) and len(lines) > 1:  # Apple .emlx: byte count, then the message
        body = lines[1]
    elif lines[0].startswith(b"From "):
        return MBOX if head.count(b"\nFrom ") >= 1 and b"\n\nFrom " in head else EML
    top = body.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    names = {m.group(1).lower() for m in _HEADER_LINE.finditer(top)}
    return EML if len(names & _MAIL_HEADERS) >= 2 else None


def _zip_type(source: Path | bytes, found: str) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated package still starts like one; the Word extractor names the damage.
        head = source[:_HEAD] if isinstance(source, bytes) else _read_head(source)
        return DOCX if b"word/" in head or b"[Content_Types].xml" in head else found
    if "word/document.xml" in names:
        return DOCX
    return found


def _ole_type(source: Path | bytes, found: str) -> str:
    """Compound files: Outlook message, Word 97-2003, or an encrypted OOXML package."""
    import io

    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as ole:
            streams = {"/".join(e) for e in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, NotImplementedError):
        return found
    if any(s.startswith("__substg1.0_") or s.startswith("__properties_version1.0") for s in streams):
        return MSG
    if "EncryptedPackage" in streams:
        return DOCX  # password-protected .docx: the Word extractor reports it as encrypted
    if "WordDocument" in streams:
        return DOC
    return found
