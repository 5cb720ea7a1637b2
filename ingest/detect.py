"""Format detection by content (libmagic), refined where libmagic is known to be vague.

Never by extension alone: the name is only a tie-breaker for text that could be several things.

A byte-order mark settles it: a file that starts with a UTF-8/UTF-16/UTF-32 BOM and decodes to
printable text is text (or mail, when the decoded text opens with mail headers), whatever
libmagic calls it (it names subtitles ``application/x-subrip``/``text/vtt``, which nothing reads).
BOM-less UTF-16 is recognised by what it decodes to, and checked for mail headers the same way.

Containers are told apart by what they hold (issue #13, item 4): a zip by its members
(``word/document.xml`` → DOCX, ``xl/workbook.xml`` → XLSX, ``ppt/presentation.xml`` → PPTX,
``OFD.xml`` → OFD, anything else → a zip archive); an OLE compound file by its streams
(Outlook ``__substg1.0_*``, ``WordDocument`` → .doc/WPS .wps, ``Workbook``/``Book`` → .xls/WPS
.et, ``PowerPoint Document`` → .ppt). RTF is RTF under any name (``{\\rtf``).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

import magic

from ingest.extractors._mime import BOMS

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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLS = "application/vnd.ms-excel"          # also WPS Spreadsheets .et (a BIFF8 "Workbook" stream)
PPT = "application/vnd.ms-powerpoint"     # no reader: filed as unsupported, by name
OFD = "application/ofd"                   # GB/T 33190 fixed-layout documents (e-invoices)
ZIP = "application/zip"
RTF = "text/rtf"
MHT = "multipart/related"                 # a web page saved as .mht/.mhtml (RFC 2557)
# Zip-based packages told apart by a member only they have (libmagic relies on member order,
# which writers do not keep: a .pptx or an OFD is often just "application/zip" to it).
_PACKAGE_MEMBERS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX),
                    ("ppt/presentation.xml", PPTX), ("OFD.xml", OFD))
_GENERIC_ZIP_TYPES = frozenset({ZIP, "application/octet-stream", DOCX, XLSX, PPTX})

# Text types with a reader of their own, kept when a BOM precedes them; any other type
# libmagic gives a BOM-marked text file becomes plain text.
_MARKED_TEXT_TYPES = frozenset({"text/html", "text/xml", "application/xml", "text/csv", "text/markdown"})


def detect_media_type(source: Path | bytes) -> str:
    """The media type of a file or buffer, judged by its content."""
    head = source[:_HEAD] if isinstance(source, bytes) else _read_head(source)
    if not head.strip():
        return "application/x-empty"
    found = magic.from_buffer(head, mime=True)
    if head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n").startswith(b"{\\rtf"):
        return RTF          # under any name (.doc, .wps, .txt): Word and WPS save RTF so
    marked = _bom_text(head)
    if marked is not None:
        return _mail_type(marked.encode("utf-8")) or (found if found in _MARKED_TEXT_TYPES else TEXT)
    if found == "application/x-dosexec" and not head.startswith(b"MZ") and _plain_bytes(head):
        # libmagic's headerless COM guess: GBK/GB18030 text opening with 0xB8 ("附", "该") or
        # Latin text with 0xE9 ("é") reads as an x86 MOV/JMP. Code has control bytes; text has none.
        found = TEXT
    if head.startswith(_OLE_MAGIC):
        return _ole_type(source, found)
    if head.startswith(b"PK\x03\x04") and found in _GENERIC_ZIP_TYPES:
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
    for bom, codec in BOMS:
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
    if len(names & _MAIL_HEADERS) < 2:
        return None
    return MHT if _web_archive(top, names) else EML


def _web_archive(top: bytes, names: set[bytes]) -> bool:
    """A web page saved as .mht/.mhtml (RFC 2557): a multipart/related message no one mailed.
    Browsers write ``From: <Saved by ...>`` or ``Snapshot-Content-Location``, and never
    ``To``/``Received``. Filed as a web page, not as an e-mail."""
    if not re.search(rb"(?im)^content-type:\s*multipart/related", top):
        return False
    saved = b"snapshot-content-location" in names or re.search(rb"(?im)^from:\s*<?saved by ", top) is not None
    return saved or not names & {b"to", b"cc", b"received", b"delivered-to", b"message-id"}


def _zip_type(source: Path | bytes, found: str) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated package still starts like one; the Word extractor names the damage.
        head = source[:_HEAD] if isinstance(source, bytes) else _read_head(source)
        for prefix, media_type in ((b"word/", DOCX), (b"xl/", XLSX), (b"ppt/", PPTX), (b"OFD.xml", OFD)):
            if prefix in head:
                return media_type
        return DOCX if b"[Content_Types].xml" in head else found
    for member, media_type in _PACKAGE_MEMBERS:
        if member in names:
            return media_type
    if any(name.lower() == "ofd.xml" for name in names):
        return OFD
    # A package that lost its main part stays what libmagic saw (its extractor names the
    # damage); anything else is an archive whose members are filed as documents.
    return found if found in (DOCX, XLSX, PPTX) else ZIP


def _ole_type(source: Path | bytes, found: str) -> str:
    """Compound files: Outlook message, an encrypted OOXML package, Word/Excel/PowerPoint 97-2003."""
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
        # Password-protected .docx/.xlsx/.pptx: which one shows only once decrypted
        # (ingest.extractors.office_crypto does, then hands it to that format's extractor).
        return "application/x-ms-office-encrypted"
    if "WordDocument" in streams:
        return DOC          # also WPS Writer .wps, which writes a Word 97 stream
    if "Workbook" in streams or "Book" in streams:
        return XLS          # BIFF8 "Workbook" (Excel 97+, WPS .et), BIFF5 "Book" (Excel 5/95)
    if "PowerPoint Document" in streams or "PP97_DUALSTORAGE/PowerPoint Document" in streams:
        return PPT          # also WPS Presentation .dps
    return found
