"""Word documents: .docx through python-docx and the package XML, legacy .doc through antiword.

DOCX text is read from the WordprocessingML itself rather than python-docx's paragraph API,
because that API skips text boxes, content controls and tracked insertions, and breaks on
malformed tables. The zip is inspected before anything is decompressed (zip-bomb guard).

Nothing in a .docx is silently missed (issue #13; filed material true and complete, ARC-1-06,
and searchable with its supporting evidence, ARC-2-08):

* ``w:altChunk`` parts (HTML, MHT web archives, RTF, plain text, XHTML or another Word
  document imported into this one) are decoded by their own charset and their text placed
  where the chunk stands; a chunk that cannot be read is named in a warning.
* Pictures (``word/media``: PNG, JPEG, GIF, TIFF, BMP) are OCR'd like scans in PDFs and mail
  (:func:`ingest.extractors._office.ocr_picture`), their text placed where the picture stands,
  set off by blank lines (no marker line: "image" must not match every document with a
  picture; ``page_info`` records what was OCR'd). Low confidence, a picture over the pixel limit
  or one that cannot be decoded flags the document for review; a large EMF/WMF (a pasted chart,
  most often) is a note. Icons and tiny pictures are skipped, the count is capped.
* Embedded objects (``word/embeddings``) come back as attachments that ingest files as child
  documents: the file inside an OLE "Package" (``\\x01Ole10Native``) under its own name, the
  PDF or Office package inside ``CONTENTS``/``package`` streams, or the object itself when it
  is a Word, Excel, PowerPoint or Outlook compound file. Equation objects (Equation 3.0,
  MathType) are not filed (they are formulae, never evidence): a note counts them.

Legacy .doc goes to antiword, which is handed the file as an inherited descriptor: an
in-memory part (a memfd, see ``ingest.workers``) never touches disk.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import struct
import subprocess
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from ingest.extractors._office import core_properties, head, ocr_picture
from ingest.extractors._zip import guard_members
from ingest.model import Attachment, ExtractContext, Extraction, Limits, PageInfo

if TYPE_CHECKING:
    from lxml.etree import _Element

    from ingest.interfaces import OcrEngine

__all__ = ["DocExtractor", "DocxExtractor"]

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

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

_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_V = "{urn:schemas-microsoft-com:vml}"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_IMAGE_TAGS = frozenset({_A + "blip", _V + "imagedata"})
_MAX_IMAGES = 50               # per document: bounds the OCR time one .docx can take
_OCR_TIME_SHARE = 0.5          # of limits.timeout_seconds, so the text found so far is kept
# Embedded objects that are formulae, not documents: not filed as (unsupported) child documents.
_EQUATION_PROG_IDS = re.compile(rb"Equation\.[A-Za-z0-9]+|MathType|DSMT\d")
# Compound-file streams that make an embedded object a document of its own (ingest.detect reads them).
_OLE_DOCUMENTS = (
    ("WordDocument", ".doc"), ("Workbook", ".xls"), ("Book", ".xls"),
    ("PowerPoint Document", ".ppt"), ("EncryptedPackage", ".docx"),
)


class DocxExtractor:
    """Extracts Word 2007+ documents (.docx, .docm): text in document order with altChunks and
    OCR'd pictures in place, headers/footers, notes, core metadata, embedded files.

    Args:
        ocr: The OCR engine for pictures; the process's shared
            :class:`ingest.ocr.TesseractOcrEngine` (loaded only when a picture needs it) when ``None``.
    """

    name: ClassVar[str] = "docx"
    media_types: ClassVar[frozenset[str]] = frozenset({
        _DOCX_TYPE,
        "application/vnd.ms-word.document.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    })
    takes_password: ClassVar[bool] = True   # an encrypted package is decrypted with context.password

    def __init__(self, ocr: OcrEngine | None = None) -> None:
        self._ocr = ocr

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return body (paragraphs, tables, text boxes), headers/footers, notes and core metadata.

        Raises:
            TooLargeError: the file or its decompressed parts exceed the limits.
            EncryptedDocumentError: a password-protected (encrypted OOXML) document without
                the right ``context.password``.
            CorruptDocumentError: not a zip, truncated, or no readable main document.
        """
        limits = context.limits
        signature = head(source, limits)
        if signature.startswith(_CFB_MAGIC):
            if _ole_has(source, "EncryptedPackage"):
                # Encrypted OOXML under a .docx type: the encrypted-Office reader decrypts it (or says why not).
                from ingest.extractors.office_crypto import OfficeCryptoExtractor

                return OfficeCryptoExtractor().extract(source, media_type, context)
            if _ole_has(source, "WordDocument"):
                # A legacy .doc under a .docx name or media type: hand it to antiword.
                return DocExtractor().extract(source, "application/msword", context)
            raise UnsupportedFormatError("OLE compound file, not a Word document")
        if not signature.startswith(_ZIP_MAGIC):
            raise CorruptDocumentError("not a zip package (DOCX)")
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptDocumentError(f"damaged or truncated zip package: {exc}") from exc
        with archive:
            guard_members(archive.infolist(), limits)
            warnings: list[str] = []
            parts = _parts_via_python_docx(source, warnings)
            if parts is None:
                parts = _parts_via_zip(archive)
            package = _Package(archive, context, self._engine, warnings)
            text = _assemble(parts, package)
            leftover = package.unplaced_images()
            if leftover:
                text = f"{text}\n\n{leftover}".strip()
            package.report()
            metadata = core_properties(archive)
            notes = package.notes
            attachments = _embeddings(archive, context, warnings, notes)
        languages: tuple[str, ...] = ()
        if package.models:
            from ingest.language import count_scripts
            from ingest.ocr import scripts_to_languages

            languages = scripts_to_languages(count_scripts(text), package.models)
        return Extraction(text=text, languages=languages, metadata=metadata, page_info=tuple(package.pages),
                          warnings=tuple(warnings), attachments=tuple(attachments), notes=tuple(dict.fromkeys(notes)))

    def _engine(self) -> OcrEngine:
        if self._ocr is None:
            from ingest.ocr import default_engine

            self._ocr = default_engine()
        return self._ocr


class DocExtractor:
    """Extracts legacy Word 97-2003 documents (.doc) with antiword."""

    name: ClassVar[str] = "doc"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/msword"})
    takes_password: ClassVar[bool] = True   # RC4-encrypted .doc and encrypted OOXML under a .doc type

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return the text antiword finds; its stderr notes become warnings.

        Raises:
            TooLargeError: the file exceeds ``max_file_bytes``.
            EncryptedDocumentError: the document is password-protected.
            UnsupportedFormatError: RTF or a Word version antiword cannot read; antiword missing.
            CorruptDocumentError: antiword cannot read it, or timed out.
        """
        signature = head(source, context.limits)
        if signature.startswith(_ZIP_MAGIC):
            return DocxExtractor().extract(source, _DOCX_TYPE, context)
        if signature.startswith(b"{\\rtf"):
            raise UnsupportedFormatError("RTF document saved under a Word name")
        if signature.startswith(_CFB_MAGIC) and _ole_has(source, "EncryptedPackage"):
            # Encrypted OOXML under a .doc type: the encrypted-Office reader decrypts it (or says why not).
            from ingest.extractors.office_crypto import OfficeCryptoExtractor

            return OfficeCryptoExtractor().extract(source, media_type, context)
        if signature.startswith(_CFB_MAGIC):
            from ingest.extractors.office_crypto import word_fib_encrypted

            if word_fib_encrypted(source):
                return _decrypted_doc(source, context)
        antiword = shutil.which("antiword")
        if antiword is None:
            raise UnsupportedFormatError("antiword is not installed; .doc cannot be extracted")
        done, shown = _run_antiword(antiword, source, context.limits.timeout_seconds)
        message = " ".join(done.stderr.decode("utf-8", errors="replace").replace(shown, _display_name(source)).split())
        if done.returncode != 0:
            reason = message or f"antiword exit status {done.returncode}"
            _raise_unless_recoverable(reason)
            # antiword 0.37 cannot read a WordDocument stream kept in the OLE mini-stream
            # ("text stream too small"), which small files from WPS/OpenOffice often have.
            text = _piece_table_text(source) if signature.startswith(_CFB_MAGIC) else None
            if not text:
                raise (UnsupportedFormatError if "too small" in reason else CorruptDocumentError)(reason)
            return Extraction(text=text, warnings=(f"antiword failed ({reason[:200]}); "
                                                   "text read from the piece table without layout",))
        text = done.stdout.decode("utf-8", errors="replace").replace("\x00", "")
        notes = (f"antiword: {message[:300]}",) if message else ()
        return Extraction(text=text.strip("\n"), warnings=notes)


def _decrypted_doc(source: Path, context: ExtractContext) -> Extraction:
    """A legacy RC4 / RC4 CryptoAPI .doc (antiword: "Encrypted documents are not supported"),
    decrypted in memory with the supplied password and read as a plain .doc.

    Raises:
        EncryptedDocumentError: no password ("encrypted: password required") or a wrong one.
    """
    import dataclasses

    from ingest.extractors.office_crypto import decrypt_office
    from ingest.workers import extract

    plain = decrypt_office(source, context.password)   # the FIB of the plaintext is no longer marked
    inner = extract(plain, "application/msword", context)
    return dataclasses.replace(inner, metadata={**inner.metadata, "decrypted_from": "encrypted Word 97-2003 document"})


def _run_antiword(antiword: str, source: Path, timeout: float) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """antiword's run on the file, and the path it was given (to take out of its messages).

    antiword gets the file as a descriptor it inherits (``/dev/fd/N``), never a path of ours: an
    in-memory part is ``/proc/self/fd/N`` of a memfd in this process, which a child process
    cannot resolve ("I can't open '6' for reading"), and copying it to a temporary file would
    put plaintext on disk.

    Raises:
        CorruptDocumentError: antiword did not finish within ``timeout`` seconds.
    """
    fd = os.open(source, os.O_RDONLY)   # a new open file description: antiword's seeks are its own
    shown = f"/dev/fd/{fd}"
    try:
        # -w 0: no re-wrapping, which would split Chinese phrases across lines.
        done = subprocess.run(
            [antiword, "-w", "0", "-m", "UTF-8.txt", shown],
            capture_output=True, timeout=timeout, check=False, pass_fds=(fd,),
            env={**os.environ, "LC_ALL": "C.UTF-8"}, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise CorruptDocumentError(f"antiword timed out after {exc.timeout:.0f} s") from exc
    finally:
        os.close(fd)
    return done, shown


def _display_name(source: Path) -> str:
    """The file's name for messages; an in-memory part (``/proc/self/fd/N``) has none."""
    return "the document" if str(source).startswith(("/proc/self/fd/", "/dev/fd/")) else source.name


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


def _ole_has(source: Path, stream: str) -> bool:
    """Whether an OLE compound file has a top-level stream of this name."""
    import olefile

    try:
        with olefile.OleFileIO(str(source)) as ole:
            return bool(ole.exists(stream))
    except (OSError, ValueError, IndexError, KeyError):  # olefile's damaged-file errors
        return False


def _parts_via_python_docx(source: Path, warnings: list[str]) -> list[tuple[str, _Element]] | None:
    """(part name, root element) for the main document, headers/footers and notes."""
    import docx

    try:
        document = docx.Document(str(source))
        parts: list[tuple[str, _Element]] = [(str(document.part.partname), document.element)]
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


def _assemble(parts: list[tuple[str, _Element]], package: _Package | None = None) -> str:
    """Body (the first part) first, then distinct header/footer texts, then notes.

    With a package, altChunks and pictures are read where they stand in each part.
    """
    (main, body_root), rest = parts[0], parts[1:]
    texts = [_text(body_root, package.inline_for(main) if package else None).strip()]
    for name, root in sorted(rest, key=lambda item: _part_order(item[0])):
        text = _text(root, package.inline_for(name) if package else None).strip()
        if text and text not in texts:    # many sections repeat the same header
            texts.append(text)
    return "\n\n".join(texts).strip()


def _part_order(name: str) -> tuple[int, str, int]:
    match = _HEADER_FOOTER.search(name)
    if match:
        return (1 if match.group(1) == "header" else 2, "", int(match.group(2) or 0))
    return (3, name, 0)


def _text(root: _Element, inline: Callable[[_Element, bool], str] | None = None) -> str:
    """Text of a WordprocessingML tree in document order, tables as tab-separated rows.

    Args:
        root: The part's root element.
        inline: Gives the text of an ``w:altChunk`` or picture element where it stands (the flag
            says the picture is an embedded object's preview, not content).
    """
    from lxml import etree

    out: list[str] = []
    objects = 0             # inside w:object: its picture is the icon or preview of an OLE object
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == _W + "object":
            objects += 1 if event == "start" else -1
        if event == "start":
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
            elif inline is not None and (tag == _W + "altChunk" or tag in _IMAGE_TAGS):
                found = inline(element, objects > 0)
                if found:
                    out.append(f"\n{found}\n")
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


class _Package:
    """Relationships, content types and inline content (altChunks, pictures) of one open .docx.

    One per extraction; the pictures it OCRs and the warnings it gathers belong to that call.
    """

    def __init__(self, archive: zipfile.ZipFile, context: ExtractContext,
                 engine: Callable[[], OcrEngine], warnings: list[str]) -> None:
        self._archive = archive
        self._context = context
        self._engine = engine
        self._warnings = warnings
        # OPC part names are case-insensitive; zip member names are what the writer chose.
        self._members = {info.filename.lower(): info for info in archive.infolist() if not info.is_dir()}
        self._rels: dict[str, dict[str, tuple[str, bool]]] = {}
        self._types: tuple[dict[str, str], dict[str, str]] | None = None
        self._read: dict[str, str] = {}          # picture member -> its inline text ("" when skipped)
        self._previews: set[str] = set()          # pictures that are embedded objects' icons
        self._skipped_count = 0
        self._too_many = 0
        self._started = time.monotonic()
        self.pages: list[PageInfo] = []           # one per OCR'd picture, numbered in reading order
        self.models: list[tuple[str, int]] = []   # (tesseract language, Han read) per picture
        self.notes: list[str] = []                # benign: large vector pictures, objects not filed

    def inline_for(self, part: str) -> Callable[[_Element, bool], str]:
        """The ``inline`` callback of :func:`_text` for one part (``/word/document.xml``)."""
        member = part.lstrip("/")

        def inline(element: _Element, preview: bool) -> str:
            if element.tag == _W + "altChunk":
                return self._alt_chunk(member, element.get(_R + "id") or "")
            target = self._target(member, element.get(_R + "embed") or element.get(_R + "id") or "")
            if target is None:
                return ""
            if preview:
                self._previews.add(target)
                return ""
            return self._picture(target)

        return inline

    def unplaced_images(self) -> str:
        """Text of pictures in ``word/media`` that no walked part placed (e.g. used only in a
        chart or an unread part), each set off by a blank line."""
        texts = []
        for name, info in self._members.items():
            if name.startswith("word/media/") and name not in self._read and name not in self._previews:
                found = self._picture(info.filename.lower())
                if found:
                    texts.append(found)
        return "\n\n".join(texts)

    def report(self) -> None:
        """Add the warning that summarises the pictures (cap reached)."""
        if self._too_many:
            self._warn(f"{self._too_many} more picture(s) not OCR'd: only the first {_MAX_IMAGES} "
                       "(or as many as the time allowed) are read per document")

    # -- relationships -----------------------------------------------------------------------

    def _target(self, member: str, rid: str) -> str | None:
        """The (lower-case) zip member a relationship of ``member`` points to, if internal."""
        found = self._relationships(member).get(rid)
        if found is None or found[1]:
            return None
        return found[0]

    def _relationships(self, member: str) -> dict[str, tuple[str, bool]]:
        """Id -> (lower-case target member, external?) from the part's ``_rels/….rels``."""
        if member not in self._rels:
            folder, name = posixpath.split(member)
            rels: dict[str, tuple[str, bool]] = {}
            root = self._xml(posixpath.join(folder, "_rels", name + ".rels"))
            for rel in root.iter(_PKG_RELS + "Relationship") if root is not None else ():
                target = unquote(rel.get("Target") or "")
                external = rel.get("TargetMode") == "External"
                if not external:
                    target = target.lstrip("/") if target.startswith("/") else \
                        posixpath.normpath(posixpath.join(folder, target))
                rels[rel.get("Id") or ""] = (target if external else target.lower(), external)
            self._rels[member] = rels
        return self._rels[member]

    def _content_type(self, member: str) -> str:
        if self._types is None:
            defaults: dict[str, str] = {}
            overrides: dict[str, str] = {}
            root = self._xml("[content_types].xml")
            for element in root.iter() if root is not None else ():
                if element.tag == _CONTENT_TYPES + "Default":
                    defaults[(element.get("Extension") or "").lower()] = element.get("ContentType") or ""
                elif element.tag == _CONTENT_TYPES + "Override":
                    overrides[(element.get("PartName") or "").lstrip("/").lower()] = element.get("ContentType") or ""
            self._types = (defaults, overrides)
        defaults, overrides = self._types
        return (overrides.get(member) or defaults.get(posixpath.splitext(member)[1].lstrip("."), "")).lower()

    def _xml(self, member: str) -> _Element | None:
        info = self._members.get(member.lower())
        if info is None:
            return None
        try:
            return _parse_xml(self._archive.read(info))
        except Exception:  # a damaged .rels costs what it points to; the warning says what
            return None

    def _bytes(self, member: str) -> bytes:
        """Raises KeyError (no such member) or the zip's errors for a damaged one."""
        return self._archive.read(self._members[member])

    # -- altChunks --------------------------------------------------------------------------

    def _alt_chunk(self, member: str, rid: str) -> str:
        found = self._relationships(member).get(rid)
        if found is None:
            self._warn(f"altChunk {rid or '(no id)'} in {member}: no such relationship, its content is missing")
            return ""
        target, external = found
        if external:
            self._warn(f"altChunk in {member} refers to an external file ({target[:100]}), not read")
            return ""
        name = self._members[target].filename if target in self._members else target
        try:
            data = self._bytes(target)
        except KeyError:
            self._warn(f"altChunk {name}: part missing from the package")
            return ""
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
            self._warn(f"altChunk {name} unreadable ({exc})")
            return ""
        try:
            text, notes = _chunk_text(data, self._content_type(target), self._context.limits)
        except Exception as exc:  # any parser failure on the chunk must cost only the chunk
            self._warn(f"altChunk {name} unreadable ({type(exc).__name__}: {str(exc)[:120]})")
            return ""
        for note in notes:
            self._warn(f"altChunk {name}: {note}")
        return text

    # -- pictures ---------------------------------------------------------------------------

    def _picture(self, member: str) -> str:
        """The OCR text of a picture (read once, repeated where reused); "" when not read."""
        if member in self._read:
            return self._read[member]
        self._read[member] = ""
        info = self._members.get(member)
        if info is None or not self._context.ocr_enabled:
            return ""
        budget = self._context.limits.timeout_seconds * _OCR_TIME_SHARE
        if len(self.pages) >= _MAX_IMAGES or time.monotonic() - self._started > budget:
            self._too_many += 1
            return ""
        try:
            data = self._bytes(member)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
            self._warn(f"picture {info.filename} unreadable ({str(exc)[:120] or type(exc).__name__})")
            return ""
        number = len(self.pages) + 1
        found = ocr_picture(data, f"picture {info.filename}", self._context, self._engine, number=number)
        for warning in found.warnings:
            self._warn(warning)
        self.notes.extend(found.notes)
        if found.reading is None:
            return ""
        from ingest.language import count_scripts

        self.pages.append(found.reading.info)
        if found.reading.info.language:
            self.models.append((found.reading.info.language, count_scripts(found.reading.text).han))
        self._read[member] = found.reading.text.strip()
        return self._read[member]

    def _warn(self, message: str) -> None:
        if message not in self._warnings:
            self._warnings.append(message)


_MHT_TYPES = ("message/rfc822", "multipart/related", "application/x-mimearchive")
_RTF_TYPES = ("application/rtf", "text/rtf")


def _chunk_text(data: bytes, content_type: str, limits: Limits) -> tuple[str, list[str]]:
    """Text of one altChunk part and notes on its decoding, by content type, then by content.

    Word imports HTML (``text/html``), MHT web archives (``message/rfc822``), RTF, plain text,
    XHTML and other WordprocessingML documents as altChunks.
    """
    from ingest.extractors._mime import declared_markup_encoding, decode_text, html_to_text

    head = data[:2048].lstrip()
    if data.startswith(_ZIP_MAGIC) or "wordprocessingml" in content_type:
        return _chunk_word(data, limits), []
    if head.startswith(b"{\\rtf") or content_type in _RTF_TYPES:
        return _rtf_text(data)
    if content_type in _MHT_TYPES or (content_type not in ("text/html", "application/xhtml+xml")
                                      and re.match(rb"(?i)(mime-version|content-type)\s*:", head)):
        return _mht_text(data)
    if content_type == "text/plain":
        decoded = decode_text(data)
        return decoded.text.strip(), list(decoded.warnings)
    # HTML and XHTML (and anything unlabelled that is markup): the charset the markup declares.
    is_html = "xml" not in content_type or b"<html" in head.lower()
    decoded = decode_text(data, declared_markup_encoding(data, is_html=is_html))
    markup = content_type in ("text/html", "application/xhtml+xml") or head.startswith(b"<")
    if markup or "<html" in decoded.text[:2048].lower():
        return html_to_text(decoded.text), list(decoded.warnings)
    return decoded.text.strip(), list(decoded.warnings)


def _mht_text(data: bytes) -> tuple[str, list[str]]:
    """Text of an MHT web archive (MIME multipart/related): its HTML part, else its plain text."""
    import email
    from email import policy
    from email.message import Message

    from ingest.extractors._mime import declared_markup_encoding, decode_text, html_to_text

    message = email.message_from_bytes(data, policy=policy.compat32)
    chosen: dict[str, Message] = {}
    for candidate in message.walk():
        kind = candidate.get_content_type()
        if not candidate.is_multipart() and kind in ("text/html", "text/plain"):
            chosen.setdefault(kind, candidate)
    part = chosen.get("text/html") or chosen.get("text/plain")
    if part is None:
        raise ValueError("web archive has no HTML or text part")
    payload = part.get_payload(decode=True)
    body = payload if isinstance(payload, bytes) else b""
    if part.get_content_type() == "text/html":
        declared = part.get_content_charset() or declared_markup_encoding(body, is_html=True)
        decoded = decode_text(body, declared)
        return html_to_text(decoded.text), list(decoded.warnings)
    decoded = decode_text(body, part.get_content_charset())
    return decoded.text.strip(), list(decoded.warnings)


def _rtf_text(data: bytes) -> tuple[str, list[str]]:
    """Text of an RTF chunk (code page from ``\\ansicpg``/font charsets) and decoding notes."""
    from ingest.extractors.rtf import rtf_text

    notes: list[str] = []
    return rtf_text(data, notes), notes


def _chunk_word(data: bytes, limits: Limits) -> str:
    """Body text of a WordprocessingML altChunk: a whole .docx package, or a bare document part."""
    if not data.startswith(_ZIP_MAGIC):
        return _text(_parse_xml(data)).strip()
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        guard_members(inner.infolist(), limits)
        return _text(_parse_xml(inner.read("word/document.xml"))).strip()


def _embeddings(archive: zipfile.ZipFile, context: ExtractContext, warnings: list[str],
                notes: list[str]) -> list[Attachment]:
    """Files embedded in the document (OLE objects opened to the file inside, nested packages),
    within limits; equation objects are counted in a note, not filed."""
    members = [info for info in archive.infolist()
               if info.filename.startswith("word/embeddings/") and not info.is_dir()]
    if not members:
        return []
    if context.depth >= context.limits.max_depth:
        warnings.append(f"{len(members)} embedded file(s) not extracted: max_depth reached")
        return []
    attachments: list[Attachment] = []
    total = equations = 0
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
        if _is_equation(data):
            equations += 1
            continue
        attachments.append(_embedded_file(info.filename, data, warnings))
    if equations:
        notes.append(f"{equations} embedded equation object(s) not filed")
    return attachments


def _is_equation(data: bytes) -> bool:
    """Whether an embedded OLE object is an Equation Editor or MathType formula (its
    ``\\x01CompObj`` stream names the class): a formula of the text, not a document to file."""
    if not data.startswith(_CFB_MAGIC):
        return False
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            if not ole.exists("\x01CompObj") or ole.exists("\x01Ole10Native"):
                return False
            comp_obj = ole.openstream("\x01CompObj").read(4096)
    except (OSError, ValueError, IndexError, KeyError, struct.error):
        return False
    return _EQUATION_PROG_IDS.search(comp_obj) is not None


def _embedded_file(member: str, data: bytes, warnings: list[str]) -> Attachment:
    """The attachment for one ``word/embeddings`` member: the file inside an OLE object when
    there is one, else the member as it is (ingest detects it by content either way)."""
    name = PurePosixPath(member).name
    if not data.startswith(_CFB_MAGIC):
        return Attachment(name, data, None)     # .docx/.xlsx/.pptx packages and plain files
    try:
        found = ole_object_file(name, data)
    except ValueError as exc:
        warnings.append(f"embedded object {member}: {exc}; filed as it is")
        return Attachment(name, data, None)
    if found is None:
        return Attachment(name, data, None)     # an object of no document format: its outcome says so
    return Attachment(found[0], found[1], None)


def ole_object_file(name: str, data: bytes) -> tuple[str, bytes] | None:
    """The file an embedded OLE object (``oleObject1.bin``) holds, with a file name, or None.

    * An OLE Package (``\\x01Ole10Native``: what Word and WPS make of a file dropped into a
      document) holds the file itself, under the name it had on the sender's disk.
    * Acrobat documents keep the PDF in a ``CONTENTS`` stream; Office 2007+ objects embedded
      by WPS or Office keep their zip package in a ``package`` stream.
    * A Word 97-2003, Excel, PowerPoint or Outlook object is itself that compound file: the
      object is returned, with the extension of what it is.

    Args:
        name: The member's file name, e.g. ``oleObject3.bin``.
        data: The compound file's bytes.

    Raises:
        ValueError: the object is damaged, or a Package in it cannot be read.
    """
    import olefile

    stem = PurePosixPath(name).stem
    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError, IndexError, KeyError, struct.error) as exc:
        raise ValueError(f"damaged compound file ({str(exc)[:100]})") from exc
    with ole:
        try:
            if ole.exists("\x01Ole10Native"):
                return _ole10_native(ole.openstream("\x01Ole10Native").read(), stem)
            for stream in ("CONTENTS", "package"):
                if ole.exists(stream) and ole.get_type(stream) == olefile.STGTY_STREAM:
                    payload = ole.openstream(stream).read()
                    return stem + _suffix_of(payload), payload
            entries = ["/".join(entry) for entry in ole.listdir(streams=True, storages=True)]
        except (OSError, ValueError, IndexError, KeyError, struct.error) as exc:
            raise ValueError(f"damaged compound file ({str(exc)[:100]})") from exc
    if any(entry.startswith(("__substg1.0_", "__properties_version1.0")) for entry in entries):
        return _named(name, stem, ".msg"), data
    for stream, suffix in _OLE_DOCUMENTS:
        if stream in entries:
            return _named(name, stem, suffix), data
    return None


def _ole10_native(stream: bytes, stem: str) -> tuple[str, bytes]:
    """File name and bytes of an OLE Package's ``\\x01Ole10Native`` stream.

    Layout (as oletools' oleobj reads it): size (u32), flags (u16), label (ANSI, NUL-ended),
    source path (NUL-ended), flags (u16), type (u16: 3 embedded, 1 linked), temp-path length
    (u32) and path, data length (u32) and data; then, from Office 2007 on, the temp path, label
    and source path again in UTF-16 (u32 character count each).

    Raises:
        ValueError: a linked (not embedded) file, or a stream that does not follow the layout.
    """
    try:
        at = 6
        label, at = _cstring(stream, at)
        source_path, at = _cstring(stream, at)
        _flags, kind, temp_length = struct.unpack_from("<HHI", stream, at)
        at += 8 + temp_length
        if kind == 1:
            raise ValueError(f"a link to {_ansi(source_path)[:120]}, not an embedded file")
        (size,) = struct.unpack_from("<I", stream, at)
        at += 4
        if at + size > len(stream):
            raise ValueError("embedded file is cut short")
        payload = stream[at:at + size]
        at += size
        wide: list[str] = []
        for _ in range(3):          # temp path, label, source path in UTF-16, when present
            if at + 4 > len(stream):
                break
            (count,) = struct.unpack_from("<I", stream, at)
            if at + 4 + 2 * count > len(stream):
                break
            wide.append(stream[at + 4:at + 4 + 2 * count].decode("utf-16-le", errors="replace"))
            at += 4 + 2 * count
    except struct.error as exc:
        raise ValueError("OLE Package stream does not follow the Ole10Native layout") from exc
    candidates = [wide[1] if len(wide) > 1 else "", _ansi(label),
                  wide[2] if len(wide) > 2 else "", _ansi(source_path)]
    for candidate in candidates:
        filename = _file_name(candidate)
        if filename:
            return filename, payload
    return stem + _suffix_of(payload), payload


def _cstring(data: bytes, at: int) -> tuple[bytes, int]:
    end = data.find(b"\x00", at, at + 4096)
    if end < 0:
        raise struct.error("unterminated string")
    return data[at:end], end + 1


def _ansi(raw: bytes) -> str:
    """A name in the sender's ANSI code page, unknown to us: UTF-8, else GBK (this archive's
    senders), else Windows-1252."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")


def _file_name(path: str) -> str:
    """The last component of a Windows or POSIX path, without control characters."""
    name = re.split(r"[\\/]", path.strip())[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:200]


def _named(name: str, stem: str, suffix: str) -> str:
    return name if name.lower().endswith(suffix) else stem + suffix


def _suffix_of(payload: bytes) -> str:
    """A file-name extension for bytes found in an object (cosmetic: ingest detects by content)."""
    if payload.startswith(b"%PDF") or b"%PDF-" in payload[:1024]:
        return ".pdf"
    if payload.startswith(_ZIP_MAGIC):
        head = payload[:65536]
        for marker, suffix in ((b"word/", ".docx"), (b"xl/", ".xlsx"), (b"ppt/", ".pptx")):
            if marker in head:
                return suffix
        return ".zip"
    return ".bin"
