"""E-mail (RFC 822/MIME, mbox, Apple .emlx) → text, header metadata and attachments.

Parsed with the stdlib ``email`` package under a compat32-based policy that hands back header
values untouched: we decode RFC 2047 words, RFC 2231 parameters and raw 8-bit headers
ourselves, because the modern policy decodes with the declared charset (``gb2312`` labels on
GBK text become replacement characters), can raise on broken headers, and spends seconds on
pathological ones. Body text goes through ``_mime.decode_text`` (BOM, a label the bytes
agree with, UTF-8, strict CJK, then a guess with a warning) for the same reason. A file saved as
UTF-16/UTF-32 (with or without BOM, as some Windows tools do) is decoded before parsing.

Choices:
- mbox: the text of every message (up to ``limits.max_attachments`` messages) and the
  attachments of all of them; metadata comes from the first message plus ``messages``.
- Attachments over ``limits.max_attachments`` or ``limits.max_expanded_bytes`` are dropped
  with a warning (the original file is kept, so nothing is lost; the text still gets filed).
- Nested ``message/rfc822`` parts: their text is appended after a marker line, and each is
  also returned as an ``.eml`` attachment, while ``context.depth`` + nesting stays within
  ``limits.max_depth``. Their own attachments are not returned here: they travel inside the
  ``.eml`` and come out when the pipeline ingests it.
- A message whose only body is PGP/MIME or S/MIME encrypted → ``EncryptedDocumentError``.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.utils
import mimetypes
import re
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from io import BytesIO
from pathlib import Path
from typing import ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from ingest.extractors._mime import declared_markup_encoding, decode_text, html_to_text, read_bounded, Walk, sniff_utf16
from ingest.model import Attachment, ExtractContext, Extraction

__all__ = ["EmailExtractor"]

_MAX_MIME_NESTING = 64              # multipart levels we walk; bombs go thousands deep
_MAX_HEADER_CHARS = 32 * 1024       # one decoded header value in text and metadata
_SUMMARY_HEADERS = (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Date", "date"), ("Subject", "subject"))
# A "From " envelope line that starts the file or follows a blank line, and is followed by a
# header line; mboxcl files leave body lines beginning "From " unescaped.
_MBOX_SEPARATOR = re.compile(rb"(?:\A|(?<=\n\n)|(?<=\n\r\n))From [^\r\n]*\r?\n(?=[!-9;-~]+:)")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCRYPTED_TYPES = frozenset({"multipart/encrypted", "application/pgp-encrypted"})


class _RawHeaders(Compat32):
    """compat32, but header values come back exactly as read (8-bit bytes as surrogates)."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaders()


class EmailExtractor:
    """Extracts RFC 822 messages, mbox mailboxes and Apple Mail .emlx files."""

    name: ClassVar[str] = "email"
    media_types: ClassVar[frozenset[str]] = frozenset({"message/rfc822", "application/mbox"})
    takes_password: ClassVar[bool] = True   # handed on to its attachments (ingest/workers.py)

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return header block + body text, header metadata and attachments of one mail file.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes`` or nests MIME beyond parsing.
            EncryptedDocumentError: the body is PGP/MIME or S/MIME encrypted.
            CorruptDocumentError: the file holds no message at all.
        """
        walk = Walk(context.limits, context.depth)
        raw = _unwrap(read_bounded(source, context.limits), walk)
        if not raw.strip():
            raise CorruptDocumentError("empty message")
        chunks = _split_mbox(raw)
        if len(chunks) > context.limits.max_attachments:
            walk.warn(f"mailbox has {len(chunks)} messages; only the first "
                      f"{context.limits.max_attachments} were extracted")
            chunks = chunks[: context.limits.max_attachments]
        metadata: dict[str, str] = {}
        for index, chunk in enumerate(chunks):
            message = _parse(chunk)
            if index:
                walk.texts.append(f"\n\n===== message {index + 1} =====\n")
            header_text, fields = _summary(message)
            walk.texts.append(header_text)
            if index == 0:
                metadata = fields
            _collect(message, walk, nesting=0, level=0, attachments_wanted=True)
        if len(chunks) > 1:
            metadata["messages"] = str(len(chunks))
        body = "".join(walk.texts).replace("\r\n", "\n").strip()
        if walk.encrypted and not walk.bodies:
            raise EncryptedDocumentError("message body is encrypted (PGP/MIME or S/MIME)")
        if walk.dropped:
            walk.warn(f"{walk.dropped} attachment(s) dropped: over max_attachments or max_expanded_bytes")
        return Extraction(text=body, metadata=metadata, warnings=tuple(walk.warnings),
                          attachments=tuple(walk.attachments))


def _unwrap(data: bytes, walk: Walk) -> bytes:
    """Undo whole-file wrappers: UTF-16 saved mail and the .emlx byte-count line."""
    order = sniff_utf16(data[:4096])
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or order:
        # Some Windows tools save .eml as UTF-16 (or -32); MIME parsing needs bytes in an
        # ASCII superset. decode_text honours the BOM, else the sniffed byte order.
        decoded = decode_text(data, order)
        for note in decoded.warnings:
            walk.warn(f"message file: {note}")
        return decoded.text.encode("utf-8")
    data = data.removeprefix(b"\xef\xbb\xbf")
    first, sep, rest = data.partition(b"\n")
    if sep and first.strip().isdigit() and len(first) < 12:
        # Apple Mail .emlx: a byte count, the message, then an XML property list.
        return rest[: int(first.strip())]
    return data


def _split_mbox(data: bytes) -> list[bytes]:
    if not data.startswith(b"From "):
        return [data]
    starts = [match.start() for match in _MBOX_SEPARATOR.finditer(data)] or [0]
    chunks = [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]
    return [chunk for chunk in chunks if chunk.strip()] or [data]


def _parse(data: bytes) -> Message:
    try:
        return email.message_from_bytes(data, policy=_POLICY)
    except RecursionError as exc:
        raise TooLargeError("MIME parts nested too deeply to parse") from exc


def _summary(message: Message) -> tuple[str, dict[str, str]]:
    """The header block that starts the text, and the header metadata."""
    lines: list[str] = []
    metadata: dict[str, str] = {}
    for header, key in _SUMMARY_HEADERS:
        values = [_decode_header(v) for v in message.get_all(header, [])]
        value = ", ".join(v for v in values if v)
        if not value:
            continue
        lines.append(f"{header}: {value}")
        metadata[key] = value
    if "date" in metadata:
        metadata["date"] = _iso_date(metadata["date"])
    message_id = _decode_header(message.get("Message-ID", "") or "")
    if message_id:
        metadata["message_id"] = message_id
    if "subject" in metadata:
        metadata["title"] = metadata["subject"]
    if "from" in metadata:
        metadata["author"] = metadata["from"]
    return "\n".join(lines) + "\n\n", metadata


def _decode_header(raw: str) -> str:
    """Decode one raw header value: 8-bit bytes, RFC 2047 words, folding; never raises."""
    if len(raw) > _MAX_HEADER_CHARS:
        raw = raw[:_MAX_HEADER_CHARS]
    raw = _FOLD.sub("", raw)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # Unencoded 8-bit header (common from Chinese clients): detect its charset.
        raw = decode_text(raw.encode("ascii", "surrogateescape")).text
    try:
        parts = email.header.decode_header(raw)
    except (email.errors.HeaderParseError, ValueError, LookupError):
        return raw.strip()
    pieces: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            pieces.append(chunk)
        elif charset is None:
            pieces.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            pieces.append(decode_text(chunk, charset).text)
    return " ".join("".join(pieces).split())[:_MAX_HEADER_CHARS]


def _iso_date(value: str) -> str:
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return value


def _collect(part: Message, walk: Walk, *, nesting: int, level: int, attachments_wanted: bool) -> None:
    """Walk one MIME entity, appending body text and attachments to ``walk``.

    ``nesting`` counts MIME levels (bounded against bombs); ``level`` counts enclosing
    messages (bounded by ``max_depth`` together with the context's depth).
    """
    if nesting > _MAX_MIME_NESTING:
        walk.warn(f"MIME parts nested deeper than {_MAX_MIME_NESTING} levels were skipped")
        return
    ctype = part.get_content_type()
    if ctype in ("message/rfc822", "message/global"):
        _nested_message(part, walk, nesting, level + 1, attachments_wanted)
        return
    if ctype in _ENCRYPTED_TYPES or _is_smime_envelope(part):
        walk.encrypted += 1
        walk.warn("encrypted MIME part (PGP/MIME or S/MIME) not readable")
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/alternative":
            children = _best_alternative(children)
        elif ctype == "multipart/signed" and len(children) > 1:
            children = children[:1]    # the second part is the signature itself
        for child in children:
            _collect(child, walk, nesting=nesting + 1, level=level, attachments_wanted=attachments_wanted)
        return
    if ctype == "message/delivery-status" or ctype == "text/rfc822-headers":
        walk.texts.append(_payload_text(part, walk) + "\n")
        return
    if ctype.startswith("text/") and not _is_attachment(part):
        text = _payload_text(part, walk)
        if text.strip():
            walk.bodies += 1
            walk.texts.append(text.rstrip() + "\n\n")
        return
    if attachments_wanted:
        _attach(part, walk)


def _best_alternative(children: list[Message]) -> list[Message]:
    """Prefer text/plain, then text/html, then the last structured alternative."""
    by_type = {c.get_content_type(): c for c in children}
    for preferred in ("text/plain", "text/html"):
        candidate = by_type.get(preferred)
        if candidate is not None and _payload_bytes(candidate).strip():
            return [candidate]
    structured = [c for c in children if c.is_multipart()]
    return structured[-1:] or children[-1:]


def _payload_bytes(part: Message) -> bytes:
    """The transfer-decoded body of a leaf part (lenient about bad base64, like mail clients)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _payload_text(part: Message, walk: Walk) -> str:
    if part.is_multipart():
        # message/delivery-status parses into header blocks; show them as written.
        return "\n".join(
            "\n".join(f"{k}: {_decode_header(v)}" for k, v in block.items())
            for block in part.get_payload() if isinstance(block, Message))
    payload = _payload_bytes(part)
    walk.expanded += len(payload)
    ctype = part.get_content_type()
    declared = part.get_content_charset()
    if ctype == "text/html" and not declared:
        declared = declared_markup_encoding(payload, is_html=True)
    # By evidence, as for text files: strict CJK decodes before any single-byte guess, so a
    # large GB18030 body under no (or a Western) label is not read as a Cyrillic code page.
    decoded = decode_text(payload, declared)
    for note in decoded.warnings:
        walk.warn(f"{ctype} part: {note}")
    return html_to_text(decoded.text) if ctype == "text/html" else decoded.text


def _nested_message(part: Message, walk: Walk, nesting: int, level: int, attachments_wanted: bool) -> None:
    if walk.base_depth + level > walk.limits.max_depth:
        walk.warn(f"attached message beyond max_depth {walk.limits.max_depth} skipped")
        return
    inner = part.get_payload()
    message = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
    if message is None:
        # message/rfc822 sent base64-encoded: the parser leaves it as a string.
        message = _parse(_payload_bytes(part))
    header_text, fields = _summary(message)
    walk.texts.append(f"\n----- attached message: {fields.get('subject', '')} -----\n{header_text}")
    marker = len(walk.texts)
    _collect(message, walk, nesting=nesting + 1, level=level, attachments_wanted=False)
    if len(walk.texts) == marker:
        walk.texts.append("\n")
    if attachments_wanted:
        data = _serialise(message, walk)
        if data is not None:
            name = _filename(part) or _safe_name(fields.get("subject")) + ".eml"
            walk.add(Attachment(name, data, "message/rfc822"))


def _serialise(message: Message, walk: Walk) -> bytes | None:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=_POLICY).flatten(message)
    except (RecursionError, LookupError, UnicodeError, ValueError) as exc:
        walk.warn(f"attached message could not be re-serialised: {type(exc).__name__}")
        return None
    return buffer.getvalue()


def _attach(part: Message, walk: Walk) -> None:
    ctype = part.get_content_type()
    name = _filename(part)
    if ctype == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
        walk.warn("TNEF (winmail.dat) attachment kept undecoded")
    if ctype == "application/pkcs7-mime":
        walk.warn("S/MIME signed content kept as an attachment, not extracted")
    if len(walk.attachments) >= walk.limits.max_attachments:
        walk.dropped += 1
        return
    encoded = part.get_payload()
    if isinstance(encoded, str) and walk.expanded + len(encoded) * 3 // 4 > walk.limits.max_expanded_bytes:
        walk.dropped += 1
        return
    data = _payload_bytes(part)
    if not name:
        extension = mimetypes.guess_extension(ctype) or ".bin"
        name = f"part-{len(walk.attachments) + 1}{extension}"
    walk.add(Attachment(name, data, ctype))


def _filename(part: Message) -> str | None:
    """Attachment name from Content-Disposition or Content-Type, RFC 2231/2047 decoded."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, header=header)
        except (ValueError, IndexError, LookupError):
            continue
        if isinstance(value, tuple):
            charset, _language, text = value
            name = decode_text(text.encode("latin-1", "surrogateescape"), charset or None).text
        elif isinstance(value, str):
            name = _decode_header(email.utils.unquote(value))
        else:
            continue
        name = _safe_name(name)
        if name:
            return name
    return None


def _safe_name(name: str | None) -> str:
    """A bare file name: no directories, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:255] or "message"


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    return disposition == "attachment"


def _is_smime_envelope(part: Message) -> bool:
    if part.get_content_type() not in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return False
    smime_type = str(part.get_param("smime-type") or "").lower()
    return smime_type in ("enveloped-data", "authenveloped-data")
