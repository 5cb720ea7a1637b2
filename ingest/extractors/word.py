"""Word documents: .docx through python-docx and the package XML, legacy .doc through antiword.

DOCX text is read from the WordprocessingML itself rather than python-docx's paragraph API,
because that API skips text boxes, content controls and tracked insertions, and breaks on
malformed tables. The zip is inspected before anything is decompressed (zip-bomb guard).
Embedded files (``word/embeddings/``) are returned as attachments, within limits.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError, UnsupportedFormatError
from ingest.model import Attachment, ExtractContext, Extraction, Limits

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["DocExtractor", "DocxExtractor"]

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_MEMBERS = 10_000
_MAX_RATIO = 200            # deflate tops out near 1000:1; real OOXML parts stay under ~30:1
_RATIO_FLOOR = 1024 * 1024  # small members may compress absurdly well without harm

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_TEXT_TAGS = frozenset({_W + "t", _M + "t"})
_SKIP_TAGS = frozenset({
    _MC + "Fallback",       # repeats the mc:Choice content (text boxes would appear twice)
    _W + "delText", _W + "instrText", _W + "delInstrText",   # deleted text, field codes
    _W + "rt",              # ruby (phonetic guide) annotation over the base text
    _W + "pPr", _W + "rPr", _W + "sectPr", _W + "tblPr", _W + "trPr", _W + "tcPr",
})
_BREAK_TAGS = frozenset({_W + "br", _W + "cr"})
_NOTE_PARTS = frozenset({"footnotes", "endnotes", "comments"})
_HEADER_FOOTER = re.compile(r"/word/(header|footer)(\d*)\.xml$")
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class DocxExtractor:
    """Extracts Word 2007+ documents (.docx, .docm)."""

    name: ClassVar[str] = "docx"
    media_types: ClassVar[frozenset[str]] = frozenset({
        _DOCX_TYPE,
        "application/vnd.ms-word.document.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    })

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return body (paragraphs, tables, text boxes), headers/footers, notes and core metadata.

        Raises:
            TooLargeError: the file or its decompressed parts exceed the limits.
            EncryptedDocumentError: a password-protected (encrypted OOXML) document.
            CorruptDocumentError: not a zip, truncated, or no readable main document.
        """
        limits = context.limits
        head = _head(source, limits)
        if head.startswith(_CFB_MAGIC):
            if _ole_has(source, "EncryptedPackage"):
                raise EncryptedDocumentError("password-protected Word document (encrypted OOXML)")
            if _ole_has(source, "WordDocument"):
                # A legacy .doc under a .docx name or media type: hand it to antiword.
                return DocExtractor().extract(source, "application/msword", context)
            raise UnsupportedFormatError("OLE compound file, not a Word document")
        if not head.startswith(_ZIP_MAGIC):
            raise CorruptDocumentError("not a zip package (DOCX)")
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptDocumentError(f"damaged or truncated zip package: {exc}") from exc
        with archive:
            _guard(archive.infolist(), limits)
            warnings: list[str] = []
            parts = _parts_via_python_docx(source, warnings)
            if parts is None:
                parts = _parts_via_zip(archive)
            text = _assemble(parts)
            metadata = _core_properties(archive)
            attachments = _embeddings(archive, context, warnings)
        return Extraction(text=text, metadata=metadata, warnings=tuple(warnings),
                          attachments=tuple(attachments))


class DocExtractor:
    """Extracts legacy Word 97-2003 documents (.doc) with antiword."""

    name: ClassVar[str] = "doc"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/msword"})

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the text antiword finds; its stderr notes become warnings.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``.
            EncryptedDocumentError: the document is password-protected.
            UnsupportedFormatError: RTF or a Word version antiword cannot read; antiword missing.
            CorruptDocumentError: antiword cannot read it, or timed out.
        """
        head = _head(source, context.limits)
        if head.startswith(_ZIP_MAGIC):
            return DocxExtractor().extract(source, _DOCX_TYPE, context)
        if head.startswith(b"{\\rtf"):
            raise UnsupportedFormatError("RTF document saved under a Word name")
        if head.startswith(_CFB_MAGIC) and _ole_has(source, "EncryptedPackage"):
            raise EncryptedDocumentError("password-protected Word document (encrypted OOXML)")
        antiword = shutil.which("antiword")
        if antiword is None:
            raise UnsupportedFormatError("antiword is not installed; .doc cannot be extracted")
        try:
            # -w 0: no re-wrapping, which would split Chinese phrases across lines.
            done = subprocess.run(
                [antiword, "-w", "0", "-m", "UTF-8.txt", str(source)],
                capture_output=True, timeout=context.limits.timeout_seconds, check=False,
                env={**os.environ, "LC_ALL": "C.UTF-8"}, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise CorruptDocumentError(f"antiword timed out after {exc.timeout:.0f} s") from exc
        message = " ".join(done.stderr.decode("utf-8", errors="replace").replace(str(source), source.name).split())
        if done.returncode != 0:
            reason = message or f"antiword exit status {done.returncode}"
            _raise_unless_recoverable(reason)
            # antiword 0.37 cannot read a WordDocument stream kept in the OLE mini-stream
            # ("text stream too small"), which small files from WPS/OpenOffice often have.
            text = _piece_table_text(source) if head.startswith(_CFB_MAGIC) else None
            if not text:
                raise (UnsupportedFormatError if "too small" in reason else CorruptDocumentError)(reason)
            return Extraction(text=text, warnings=(f"antiword failed ({reason[:200]}); "
                                                   "text read from the piece table without layout",))
        text = done.stdout.decode("utf-8", errors="replace").replace("\x00", "")
        notes = (f"antiword: {message[:300]}",) if message else ()
        return Extraction(text=text.strip("\n"), warnings=notes)


def _raise_unless_recoverable(message: str) -> None:
    """Raise for antiword failures that a second reader cannot fix (encryption, other formats)."""
    lowered = message.lower()
    if "encrypted" in lowered:
        raise EncryptedDocumentError(f"password-protected Word document ({message})")
    if any(word in lowered for word in ("rich text format", "before word 6", "excel", "powerpoint",
                                        "word perfect", "opendocument", "html file", "xml file",
                                        "does not contain a word document")):
        raise UnsupportedFormatError(message)


def _piece_table_text(source: Path) -> str | None:
    """Plain text of a Word 97-2003 file read from its piece table (MS-DOC 2.4.1), or None.

    Layout is lost; paragraph, cell and line marks become newlines and tabs, and field codes
    are dropped (their displayed results are kept).
    """
    import olefile

    try:
        with olefile.OleFileIO(str(source)) as ole:
            word = ole.openstream("WordDocument").read()
            ident, n_fib = struct.unpack_from("<HH", word, 0)
            flags = struct.unpack_from("<H", word, 0x0A)[0]
            if ident != 0xA5EC or n_fib < 0x00C1 or flags & 0x0100:   # Word 97+, not encrypted
                return None
            table = ole.openstream("1Table" if flags & 0x0200 else "0Table").read()
            fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x01A2)
    except (OSError, ValueError, struct.error, KeyError, IndexError):
        return None
    clx = table[fc_clx:fc_clx + lcb_clx]
    at = 0
    while at < len(clx) and clx[at] == 0x01:          # Prc: formatting, skipped
        at += 3 + int.from_bytes(clx[at + 1:at + 3], "little")
    if at + 5 > len(clx) or clx[at] != 0x02:
        return None
    plc = clx[at + 5:at + 5 + int.from_bytes(clx[at + 1:at + 5], "little")]
    pieces = (len(plc) - 4) // 12
    if pieces <= 0:
        return None
    cps = struct.unpack_from(f"<{pieces + 1}I", plc, 0)
    out: list[str] = []
    for index in range(pieces):
        fc = struct.unpack_from("<I", plc, 4 * (pieces + 1) + 8 * index + 2)[0]
        count = max(0, cps[index + 1] - cps[index])
        if fc & 0x40000000:       # "compressed": one byte per character, Windows-1252
            start = (fc & 0x3FFFFFFF) // 2
            out.append(word[start:start + count].decode("cp1252", errors="replace"))
        else:
            out.append(word[fc:fc + 2 * count].decode("utf-16-le", errors="replace"))
    return _clean_word_text("".join(out)) or None


def _clean_word_text(raw: str) -> str:
    out: list[str] = []
    fields: list[bool] = []                 # per open field: still inside its instructions?
    for ch in raw:
        if ch == "\x13":
            fields.append(True)
        elif ch == "\x14":
            if fields:
                fields[-1] = False
        elif ch == "\x15":
            if fields:
                fields.pop()
        elif fields and fields[-1]:
            continue
        elif ch in "\r\x0b\x0c":
            out.append("\n")
        elif ch == "\x07":
            out.append("\t")
        elif ch == "\t" or ch >= " ":
            out.append(ch)
    return "\n".join(line.rstrip() for line in "".join(out).split("\n")).strip()


def _head(source: Path, limits: Limits) -> bytes:
    size = source.stat().st_size
    if size > limits.max_file_bytes:
        raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
    with source.open("rb") as handle:
        return handle.read(8)


def _ole_has(source: Path, stream: str) -> bool:
    """Whether an OLE compound file has a top-level stream of this name."""
    import olefile

    try:
        with olefile.OleFileIO(str(source)) as ole:
            return bool(ole.exists(stream))
    except (OSError, ValueError, IndexError, KeyError):  # olefile's damaged-file errors
        return False


def _guard(members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse zip bombs from the central directory alone, before decompressing anything."""
    if len(members) > _MAX_MEMBERS:
        raise TooLargeError(f"zip package has {len(members)} members")
    total = sum(member.file_size for member in members)
    if total > limits.max_expanded_bytes:
        raise TooLargeError(f"zip package expands to {total} bytes, limit is {limits.max_expanded_bytes}")
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > _MAX_RATIO * max(member.compress_size, 1):
            raise TooLargeError(f"zip member {member.filename} compresses {member.file_size}:"
                                f"{member.compress_size}, a decompression bomb")


def _parts_via_python_docx(source: Path, warnings: list[str]) -> list[tuple[str, _Element]] | None:
    """(part name, root element) for the main document, headers/footers and notes."""
    import docx

    try:
        document = docx.Document(str(source))
        parts: list[tuple[str, _Element]] = [("/word/document.xml", document.element)]
        for part in document.part.package.iter_parts():
            name = str(part.partname)
            if name == str(document.part.partname) or not _wanted(name):
                continue
            element = getattr(part, "element", None)
            parts.append((name, element if element is not None else _parse_xml(part.blob)))
    except Exception as exc:  # any failure here has the raw-zip reader, with named errors, behind it
        if "content type" not in str(exc):     # .docm/.dotx: python-docx only opens .docx
            # python-docx loads every part (themes, fonts); one damaged part need not cost the text.
            warnings.append(f"package partly damaged ({type(exc).__name__}: {str(exc)[:120]}); "
                            "text read from the zip directly")
        return None
    return parts


def _parts_via_zip(archive: zipfile.ZipFile) -> list[tuple[str, _Element]]:
    parts: list[tuple[str, _Element]] = []
    names = [info.filename for info in archive.infolist()]
    main = "word/document.xml" if "word/document.xml" in names else None
    if main is None:
        raise CorruptDocumentError("no word/document.xml in the package")
    for name in [main, *(n for n in names if n != main and _wanted("/" + n))]:
        try:
            parts.append(("/" + name, _parse_xml(archive.read(name))))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
            if name == main:
                raise CorruptDocumentError(f"main document unreadable: {exc}") from exc
        except Exception as exc:  # lxml.etree.XMLSyntaxError, imported lazily
            if name == main:
                raise CorruptDocumentError(f"main document is not well-formed XML: {exc}") from exc
    return parts


def _wanted(part_name: str) -> bool:
    stem = PurePosixPath(part_name).stem
    return bool(_HEADER_FOOTER.search(part_name)) or (
        part_name.startswith("/word/") and part_name.count("/") == 2 and stem in _NOTE_PARTS)


def _parse_xml(data: bytes) -> _Element:
    from lxml import etree

    # No entity expansion, no network, default depth/size limits: XML bombs stay inert.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(data, parser)


def _assemble(parts: list[tuple[str, _Element]]) -> str:
    """Body (the first part) first, then distinct header/footer texts, then notes."""
    (_main, body_root), rest = parts[0], parts[1:]
    texts = [_text(body_root).strip()]
    for _name, root in sorted(rest, key=lambda item: _part_order(item[0])):
        text = _text(root).strip()
        if text and text not in texts:    # many sections repeat the same header
            texts.append(text)
    return "\n\n".join(texts).strip()


def _part_order(name: str) -> tuple[int, str, int]:
    match = _HEADER_FOOTER.search(name)
    if match:
        return (1 if match.group(1) == "header" else 2, "", int(match.group(2) or 0))
    return (3, name, 0)


def _text(root: _Element) -> str:
    """Text of a WordprocessingML tree in document order, tables as tab-separated rows."""
    from lxml import etree

    out: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
            elif tag in _TEXT_TAGS:
                out.append(element.text or "")
            elif tag == _W + "tab":
                out.append("\t")
            elif tag in _BREAK_TAGS:
                out.append("\n")
            elif tag == _W + "noBreakHyphen":
                out.append("-")
        elif tag == _W + "p":
            out.append("\n")
        elif tag == _W + "tc":
            if out and out[-1] == "\n":
                out[-1] = "\t"      # a cell's last paragraph ends in the cell separator
            else:
                out.append("\t")
        elif tag == _W + "tr":
            if out and out[-1] == "\t":
                out[-1] = "\n"
            else:
                out.append("\n")
    return "".join(out)


def _core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    """Title, author, dates, ... from docProps/core.xml, as written (no date parsing to fail)."""
    try:
        root = _parse_xml(archive.read("docProps/core.xml"))
    except Exception:  # absent or damaged metadata is not a reason to lose the document
        return {}
    wanted = {"title": "title", "creator": "author", "subject": "subject", "keywords": "keywords",
              "description": "description", "lastModifiedBy": "last_modified_by",
              "created": "created", "modified": "modified"}
    metadata: dict[str, str] = {}
    for element in root:
        if not isinstance(element.tag, str):
            continue
        local = element.tag.rsplit("}", 1)[-1]
        value = " ".join("".join(element.itertext()).split())
        if local in wanted and value:
            metadata[wanted[local]] = value[:1000]
    return metadata


def _embeddings(archive: zipfile.ZipFile, context: ExtractContext, warnings: list[str]) -> list[Attachment]:
    """Files embedded in the document (OLE objects, nested packages), within limits."""
    members = [info for info in archive.infolist()
               if info.filename.startswith("word/embeddings/") and not info.is_dir()]
    if not members:
        return []
    if context.depth >= context.limits.max_depth:
        warnings.append(f"{len(members)} embedded file(s) not extracted: max_depth reached")
        return []
    attachments: list[Attachment] = []
    total = 0
    for info in members:
        if len(attachments) >= context.limits.max_attachments or \
                total + info.file_size > context.limits.max_expanded_bytes:
            warnings.append("embedded files dropped: over max_attachments or max_expanded_bytes")
            break
        try:
            data = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
            warnings.append(f"embedded file {info.filename} unreadable: {exc}")
            continue
        total += len(data)
        attachments.append(Attachment(PurePosixPath(info.filename).name, data, None))
    return attachments
