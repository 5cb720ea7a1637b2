"""Outlook .msg (OLE compound file) → text, header metadata and attachments, via extract-msg.

ANSI (non-Unicode) stores are where Chinese mail goes wrong: extract-msg maps code page 936
to strict ``gb2312`` and, when PR_MESSAGE_CODEPAGE is missing, assumes ISO-8859-15. We pick
the code page ourselves (PR_MESSAGE_CODEPAGE, else the locale's ANSI code page, else
PR_INTERNET_CPID, else detection on the raw subject and body), upgrade it to its superset
(936 → GB18030) and check it against the raw bytes before handing it to extract-msg.

Embedded messages are returned as ``.msg`` attachments (re-exported by extract-msg) and their
text is appended after a marker line, both only while nesting stays within ``max_depth``.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError, UnsupportedFormatError
from ingest.extractors._mime import declared_markup_encoding, decode_text, Walk, html_to_text
from ingest.model import Attachment, ExtractContext, Extraction

if TYPE_CHECKING:
    from extract_msg.msg_classes import MSGFile

__all__ = ["MsgExtractor"]

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PR_MESSAGE_CODEPAGE = "3FFD0003"
_PR_INTERNET_CPID = "3FDE0003"
_PR_MESSAGE_LOCALE_ID = "3FF10003"
# Windows ANSI code page → the codec we decode it with (supersets where one exists).
_CODE_PAGES = {
    874: "cp874", 932: "cp932", 936: "gb18030", 949: "cp949", 950: "cp950", 1250: "cp1250",
    1251: "cp1251", 1252: "cp1252", 1253: "cp1253", 1254: "cp1254", 1255: "cp1255",
    1256: "cp1256", 1257: "cp1257", 1258: "cp1258", 20936: "gb18030", 54936: "gb18030",
    65001: "utf-8",
}
# Internet (MIME) code pages → the ANSI code page a Windows client stores alongside them.
_INTERNET_TO_ANSI = {
    50220: 932, 50221: 932, 50222: 932, 51932: 932, 52936: 936, 51936: 936, 50225: 949,
    51949: 949, 20866: 1251, 21866: 1251, 28595: 1251, 28591: 1252, 28605: 1252,
    28592: 1250, 28597: 1253, 28599: 1254, 28598: 1255, 28596: 1256, 28594: 1257,
}
# Primary language of an LCID → ANSI code page (Chinese depends on the sub-language).
_LANGUAGE_TO_ANSI = {
    0x11: 932, 0x12: 949, 0x19: 1251, 0x22: 1251, 0x23: 1251, 0x02: 1251, 0x1C: 1250,
    0x05: 1250, 0x15: 1250, 0x0E: 1250, 0x1B: 1250, 0x24: 1250, 0x1A: 1250, 0x18: 1250,
    0x08: 1253, 0x1F: 1254, 0x0D: 1255, 0x01: 1256, 0x25: 1257, 0x26: 1257, 0x27: 1257,
    0x1E: 874, 0x2A: 1258,
}
_TRADITIONAL_CHINESE_LCIDS = frozenset({0x0404, 0x0C04, 0x1404, 0x7C04})


class MsgExtractor:
    """Extracts Outlook items (.msg: mail, appointments, contacts, tasks, notes)."""

    name: ClassVar[str] = "msg"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/vnd.ms-outlook"})
    takes_password: ClassVar[bool] = True   # handed on to its attachments (ingest/workers.py)

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return header block + body text, header metadata and attachments of one .msg file.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``.
            EncryptedDocumentError: the item is S/MIME encrypted, or is an encrypted
                Office package rather than a message.
            UnsupportedFormatError: an OLE compound file that is not an Outlook item.
            CorruptDocumentError: the file cannot be parsed as an OLE compound file.
        """
        size = source.stat().st_size
        if size > context.limits.max_file_bytes:
            raise TooLargeError(f"file is {size} bytes, limit is {context.limits.max_file_bytes}")
        with source.open("rb") as handle:
            if handle.read(8) != _CFB_MAGIC:
                raise CorruptDocumentError("not an OLE compound file (Outlook .msg)")
        walk = Walk(context.limits, context.depth)
        with _library_log() as logged:
            msg = _open(source)
            try:
                encoding = _ansi_encoding(msg, walk)
                if encoding is not None:
                    msg.close()
                    logged.clear()     # complaints about the code page we just replaced
                    msg = _open(source, overrideEncoding=encoding)
                metadata = _message(msg, walk, level=0)
            finally:
                msg.close()
        for line in logged:
            walk.warn(f"Outlook message: {line[:200]}")
        if walk.dropped:
            walk.warn(f"{walk.dropped} attachment(s) dropped: over max_attachments or max_expanded_bytes")
        if encoding is not None:
            metadata["encoding"] = encoding
        text = "".join(walk.texts).replace("\x00", "").replace("\r\n", "\n").strip()
        return Extraction(text=text, metadata=metadata,
                          warnings=tuple(walk.warnings), attachments=tuple(walk.attachments))


def _open(source: Path, **options: object) -> MSGFile:
    import extract_msg
    from extract_msg.enums import ErrorBehavior
    from extract_msg.exceptions import ExMsgBaseException

    try:
        msg = extract_msg.openMsg(str(source), strict=False, delayAttachments=True,
                                  errorBehavior=ErrorBehavior.SUPPRESS_ALL, **options)
    except (ExMsgBaseException, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise CorruptDocumentError(f"unreadable Outlook message: {exc}") from exc
    if not msg.classType:
        streams = {"/".join(entry) for entry in msg.listDir()}
        msg.close()
        if "EncryptedPackage" in streams:
            raise EncryptedDocumentError("encrypted Office document, not an Outlook message")
        if any(name.startswith(("__substg1.0_", "__properties_version1.0")) for name in streams):
            raise CorruptDocumentError("Outlook message without a readable message class")
        raise UnsupportedFormatError("OLE compound file is not an Outlook item")
    return msg


@contextmanager
def _library_log() -> Iterator[list[str]]:
    """Collect extract-msg's ERROR records (errors it suppresses for us) for warnings, and
    keep its WARNING-level guesses, which we override, out of the operator log."""
    logger = logging.getLogger("extract_msg")
    logged: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = _Collect(level=logging.ERROR)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logged
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _ansi_encoding(msg: MSGFile, walk: Walk) -> str | None:
    """The codec for an ANSI store's 8-bit strings, or None for a Unicode store."""
    if msg.areStringsUnicode:
        return None
    candidates: list[str] = []
    for code_page in (_int_prop(msg, _PR_MESSAGE_CODEPAGE), _locale_code_page(msg),
                      _internet_code_page(msg)):
        if code_page in _CODE_PAGES:
            candidates.append(_CODE_PAGES[code_page])
    raw = b"\n".join(s for s in (msg.getStream("__substg1.0_0037001E"),
                                 msg.getStream("__substg1.0_1000001E")) if s)
    for codec in candidates:
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    if raw and not raw.isascii():
        detected = decode_text(raw).encoding
        try:
            codecs.lookup(detected)
        except LookupError:     # iconv-only charsets cannot be handed to extract-msg
            detected = "cp1252"
        walk.warn(f"Outlook message code page missing or wrong; strings decoded as {detected}")
        return detected
    return candidates[0] if candidates else "cp1252"


def _int_prop(msg: MSGFile, prop: str) -> int | None:
    try:
        value = msg.getPropertyVal(prop)
    except Exception:  # property stores of damaged files fail in many ways; absence is fine
        return None
    return value if isinstance(value, int) else None


def _locale_code_page(msg: MSGFile) -> int | None:
    lcid = _int_prop(msg, _PR_MESSAGE_LOCALE_ID)
    if lcid is None:
        return None
    if lcid & 0x3FF == 0x04:
        return 950 if lcid in _TRADITIONAL_CHINESE_LCIDS else 936
    return _LANGUAGE_TO_ANSI.get(lcid & 0x3FF, 1252)


def _internet_code_page(msg: MSGFile) -> int | None:
    code_page = _int_prop(msg, _PR_INTERNET_CPID)
    if code_page is None:
        return None
    return _INTERNET_TO_ANSI.get(code_page, code_page)


def _message(msg: MSGFile, walk: Walk, *, level: int) -> dict[str, str]:
    """Append one item's header block, body and (at the top level) attachments to ``walk``."""
    metadata = _metadata(msg, walk)
    lines = [f"{label}: {metadata[key]}" for label, key in
             (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Date", "date"), ("Subject", "subject"))
             if metadata.get(key)]
    walk.texts.append("\n".join(lines) + "\n\n")
    body = _body(msg, walk)
    if body.strip():
        walk.texts.append(body.rstrip() + "\n")
    elif level == 0 and (metadata.get("message_class") or "").lower() == "ipm.note.smime":
        # IPM.Note.SMIME is encrypted or opaque-signed; extract-msg opens the signed kind,
        # so no readable body here means an envelope we hold no key for.
        raise EncryptedDocumentError("S/MIME encrypted Outlook message")
    _attachments(msg, walk, level=level)
    return metadata


def _metadata(msg: MSGFile, walk: Walk) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, attribute in (("subject", "subject"), ("from", "sender"), ("to", "to"),
                           ("cc", "cc"), ("message_id", "messageId"), ("message_class", "classType")):
        value = _field(msg, attribute, walk)
        if isinstance(value, str) and value.strip():
            metadata[key] = " ".join(value.split())
    date = _field(msg, "date", walk)
    if date is None:
        date = getattr(getattr(msg, "props", None), "date", None)
    if date is not None and hasattr(date, "isoformat"):
        metadata["date"] = date.isoformat()
    if "subject" in metadata:
        metadata["title"] = metadata["subject"]
    if "from" in metadata:
        metadata["author"] = metadata["from"]
    return metadata


def _field(item: object, attribute: str, walk: Walk) -> object:
    """One extract-msg property; a damaged property costs a warning, not the file."""
    try:
        return getattr(item, attribute, None)
    except Exception as exc:  # extract-msg raises a wide variety here on malformed stores
        walk.warn(f"Outlook message: {attribute} unreadable ({type(exc).__name__})")
        return None


def _body(msg: MSGFile, walk: Walk) -> str:
    """Plain body, else HTML body as text (extract-msg de-encapsulates RTF into either)."""
    plain = _field(msg, "body", walk)
    if isinstance(plain, str) and plain.strip():
        return plain
    has_html_stream = _exists(msg, "__substg1.0_10130102")
    if plain is not None and not has_html_stream:
        # Outlook keeps the bodies in sync: a blank plain body means a blank message, and
        # de-encapsulating the RTF to find out costs a second or more per item.
        return ""
    html = _field(msg, "htmlBody", walk)
    if isinstance(html, bytes) and html.strip():
        declared = declared_markup_encoding(html, is_html=True)
        if declared is None and not getattr(msg, "areStringsUnicode", True):
            declared = getattr(msg, "stringEncoding", None)
        decoded = decode_text(html, declared)
        for note in decoded.warnings:
            walk.warn(f"HTML body: {note}")
        return html_to_text(decoded.text)
    return ""


def _exists(msg: MSGFile, stream: str) -> bool:
    try:
        return bool(msg.exists(stream))
    except Exception:  # a damaged directory just means the stream is not usable
        return False


def _attachments(msg: MSGFile, walk: Walk, *, level: int) -> None:
    from extract_msg.enums import AttachmentType

    try:
        attachments = list(getattr(msg, "attachments", []) or [])
    except Exception as exc:  # a broken attachment table must not lose the message text
        walk.warn(f"Outlook message: attachments unreadable ({type(exc).__name__})")
        return
    for attachment in attachments:
        kind = getattr(attachment, "type", None)
        if kind in (AttachmentType.MSG, AttachmentType.SIGNED_EMBEDDED):
            _embedded(attachment, walk, level=level + 1)
        elif kind in (AttachmentType.DATA, AttachmentType.SIGNED, AttachmentType.CUSTOM):
            if level:       # files inside an embedded message travel in its exported bytes
                continue
            data = _field(attachment, "data", walk)
            if not isinstance(data, bytes):
                walk.warn("Outlook message: an attachment has no data")
                continue
            name = _attachment_name(attachment, walk) or f"attachment-{len(walk.attachments) + 1}.bin"
            mimetype = _field(attachment, "mimetype", walk)
            walk.add(Attachment(name, data, mimetype if isinstance(mimetype, str) else None))
        else:
            walk.warn(f"Outlook message: attachment of type {getattr(kind, 'name', kind)} skipped")


def _embedded(attachment: object, walk: Walk, *, level: int) -> None:
    if walk.base_depth + level > walk.limits.max_depth:
        walk.warn(f"embedded message beyond max_depth {walk.limits.max_depth} skipped")
        return
    from extract_msg.msg_classes import MSGFile

    inner = _field(attachment, "data", walk)
    if not isinstance(inner, MSGFile):
        walk.warn("Outlook message: embedded message unreadable")
        return
    found = _field(inner, "subject", walk)
    subject = found if isinstance(found, str) else ""
    walk.texts.append(f"\n----- attached message: {subject} -----\n")
    _message(inner, walk, level=level)
    if level == 1:   # deeper ones travel inside this one's exported bytes
        try:
            data = inner.exportBytes(allowBadEmbed=True)
        except Exception as exc:  # OleWriter rejects some damaged embeddings; text is kept
            walk.warn(f"Outlook message: embedded message not exportable ({type(exc).__name__})")
            return
        name = _attachment_name(attachment, walk) or (subject or "message")
        if not name.lower().endswith(".msg"):
            name += ".msg"
        walk.add(Attachment(name, data, "application/vnd.ms-outlook"))


def _attachment_name(attachment: object, walk: Walk) -> str | None:
    for attribute in ("longFilename", "shortFilename", "displayName", "name"):
        value = _field(attachment, attribute, walk)
        if isinstance(value, str) and value.strip():
            name = value.replace("\\", "/").rsplit("/", 1)[-1]
            name = "".join(ch for ch in name if ch.isprintable()).strip()
            if name:
                return name[:255]
    return None


