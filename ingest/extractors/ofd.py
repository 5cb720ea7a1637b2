"""OFD (GB/T 33190-2016, the national fixed-layout format of government documents and
e-invoices) → text in reading order, DocInfo metadata and embedded attachments.

An OFD is a zip: ``OFD.xml`` names each document's root (``DocBody/DocRoot`` → ``Document.xml``),
which lists its pages (``Pages/Page/@BaseLoc`` → ``Content.xml``), template pages, annotations,
attachments and signatures. Text lives in ``TextObject``/``TextCode`` elements placed by
coordinates (millimetres, y downwards), not in reading order, so each page's text pieces —
from the page itself, the template pages it uses (an e-invoice's labels "购买方", "名称" are
in the template, the values on the page), composite graphic units it references, and its
annotations' appearances — are gathered with their positions, grouped into lines by baseline
and ordered left to right; the characters of a line are joined (no spaces inside Chinese
phrases, so they stay searchable), with one space where a visible gap separates two pieces.

Custom tags (an e-invoice's ``InvoiceNo``, ``BuyerName`` ... pointing at page objects) become
``tag_*`` metadata. The XML is read directly with lxml by local names, because writers differ in namespace
(``http://www.ofdspec.org/2016``, the older ``http://www.ofdspec.org``, a default namespace,
or none). Signatures (``Signs/``) are never read as text: seals and signed digests are binary.
A page without text objects is a scan: its largest picture is OCR'd (``ingest.ocr.read_page``),
as scanned PDF pages are.
The zip is checked against the bomb limits before anything is inflated (``_zip.guard_members``).
Composite units may place one another many times over (a 1.5 KB file placing a unit 20 times at
each of four levels asks for 160,000 runs), so each unit's runs are worked out once and moved
into place, and one budget of runs and characters per package ends the reading with a warning
(issue #13 item 8: text kept for the index is bounded). ``DeltaX``'s ``g N d`` shorthand is
expanded only as far as the run has characters.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import sys
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from ingest.extractors._zip import guard_members, read_member
from ingest.language import detect_languages
from ingest.model import Attachment, ExtractContext, Extraction, PageInfo

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lxml.etree import _Element
    from PIL import Image

    from ingest.interfaces import OcrEngine

__all__ = ["OfdExtractor"]

_ZIP_MAGIC = b"PK\x03\x04"
_MAX_COMPOSITE_DEPTH = 4        # composite units may nest; hostile files could loop
_MAX_OCR_SIDE = 6000            # px: larger page pictures are scaled down before OCR
_MAX_PIECES = 200_000           # text runs per package: composite units can repeat each other
_ENCRYPTED_FLAG = 0x1           # zip general-purpose flag bit 0
_DOCINFO_FIELDS = {"Title": "title", "Author": "author", "Subject": "subject", "Abstract": "description",
                   "CreationDate": "created", "ModDate": "modified", "Creator": "creator",
                   "DocID": "doc_id", "DocUsage": "doc_usage"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True, slots=True)
class _Piece:
    """One positioned run of text on a page (page coordinates, millimetres)."""

    x: float
    y: float                # baseline
    end: float              # x where the run's last glyph ends (estimated)
    size: float             # font size, for line tolerance and gap judgement
    text: str


class OfdExtractor:
    """Extracts OFD documents (.ofd: e-invoices, official documents, archival copies)."""

    name: ClassVar[str] = "ofd"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/ofd"})
    takes_password: ClassVar[bool] = True   # zip-encrypted parts; handed on to its attachments

    def __init__(self, ocr: OcrEngine | None = None) -> None:
        self._ocr = ocr

    def engine(self) -> OcrEngine:
        """The OCR engine for scanned pages; the process's shared one, loaded on first need."""
        if self._ocr is None:
            from ingest.ocr import default_engine

            self._ocr = default_engine()
        return self._ocr

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return page text in reading order, DocInfo metadata and attachments (embedded files).

        Raises:
            TooLargeError: the file or what it expands to exceeds the limits.
            CorruptDocumentError: not a zip, no ``OFD.xml``, or no readable document root.
        """
        limits = context.limits
        size = source.stat().st_size
        if size > limits.max_file_bytes:
            raise TooLargeError(f"file is {size} bytes, limit is {limits.max_file_bytes}")
        with source.open("rb") as handle:
            if handle.read(4) != _ZIP_MAGIC:
                raise CorruptDocumentError("not a zip package (OFD)")
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CorruptDocumentError(f"damaged or truncated OFD package: {exc}") from exc
        with archive:
            guard_members(archive.infolist(), limits, what="OFD package")
            return _Reader(_Package(archive, context.password), context, self).read()


class _Package:
    """The zip's members by normalised name (case-insensitive: writers disagree on case)."""

    def __init__(self, archive: zipfile.ZipFile, password: str | None = None) -> None:
        self.archive = archive
        self.password = password
        self.members = {info.filename.lstrip("/").lower(): info
                        for info in archive.infolist() if not info.is_dir()}

    def find(self, *candidates: str) -> str | None:
        """The first candidate path present in the package (normalised, without a leading /)."""
        for candidate in candidates:
            name = posixpath.normpath(candidate.replace("\\", "/")).lstrip("/")
            if name.lower() in self.members:
                return self.members[name.lower()].filename
        return None

    def resolve(self, loc: str | None, base_dir: str, doc_dir: str = "") -> str | None:
        """A ``ST_Loc`` reference: absolute from the package root when it starts with ``/``,
        else relative to the referring file; some writers make it relative to the document
        root or the package root instead, so those are tried too."""
        if not loc or not loc.strip():
            return None
        loc = loc.strip()
        if loc.startswith("/"):
            return self.find(loc)
        return self.find(posixpath.join(base_dir, loc), posixpath.join(doc_dir, loc), loc)

    def read(self, name: str) -> bytes:
        """A member's bytes.

        Raises:
            EncryptedDocumentError: the member is zip-encrypted and no given password opens it.
            CorruptDocumentError: the member's compression method is one the reader lacks.
            TooLargeError: the member inflates beyond its stated size.
        """
        info = self.archive.getinfo(name)
        passwords: list[bytes | None] = [None]
        if info.flag_bits & _ENCRYPTED_FLAG:
            if not self.password:
                raise EncryptedDocumentError(f"OFD part {name} is encrypted (no password given)")
            # As for zip archives: Chinese Windows tools encrypt with the GBK bytes of a password.
            passwords = list(dict.fromkeys(self.password.encode(c, errors="ignore") for c in ("utf-8", "gb18030")))
        for pwd in passwords:
            try:
                return read_member(self.archive, info, pwd)
            except NotImplementedError as exc:     # e.g. deflate64, or AES (method 99)
                raise CorruptDocumentError(f"OFD part {name}: compression method not supported ({exc})") from exc
            except (RuntimeError, zipfile.BadZipFile, zlib.error) as exc:
                if pwd is None:
                    if isinstance(exc, RuntimeError):
                        raise CorruptDocumentError(f"OFD part {name} unreadable: {exc}") from exc
                    raise
                continue    # "Bad password", or a wrong one that passed the check byte: next encoding
        raise EncryptedDocumentError(f"OFD part {name} is encrypted (wrong password)")

    def xml(self, name: str | None) -> _Element | None:
        """A member parsed as XML, or None when absent or not well-formed."""
        if name is None:
            return None
        from lxml import etree

        try:
            # No entity expansion, no network: XML bombs stay inert.
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            return etree.fromstring(self.read(name), parser)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
            return None


def _local(element: _Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: _Element | None, name: str) -> Iterator[_Element]:
    if element is None:
        return
    for child in element:
        if _local(child) == name:
            yield child


def _child(element: _Element | None, *path: str) -> _Element | None:
    """The first descendant along a path of local names."""
    for name in path:
        element = next(_children(element, name), None)
        if element is None:
            return None
    return element


def _text_of(element: _Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _numbers(value: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(value or "")]


def _deltas(value: str | None, limit: int | None = None) -> list[float]:
    """``DeltaX``/``DeltaY`` values, expanding the ``g N d`` shorthand (N times d), at most
    ``limit`` of them (a run of n characters has n - 1 advances; a hostile ``g 100000 1`` repeated
    would otherwise take gigabytes)."""
    cap = sys.maxsize if limit is None else max(limit, 0)
    out: list[float] = []
    tokens = (value or "").split()
    i = 0
    while i < len(tokens) and len(out) < cap:
        if tokens[i] == "g" and i + 2 < len(tokens):
            try:
                out.extend([float(tokens[i + 2])] * max(min(int(float(tokens[i + 1])), cap - len(out)), 0))
            except (ValueError, OverflowError):    # "g nan 1", "g 1e999 1"
                pass
            i += 3
            continue
        try:
            out.append(float(tokens[i]))
        except ValueError:
            pass
        i += 1
    return out


class _Reader:
    """One extraction: walks the documents of the package, gathers text, metadata, attachments."""

    def __init__(self, package: _Package, context: ExtractContext, owner: OfdExtractor) -> None:
        self.package = package
        self.context = context
        self.owner = owner
        self.infos: list[PageInfo] = []
        self.warnings: list[str] = []
        self.metadata: dict[str, str] = {}
        self.attachments: list[Attachment] = []
        self.expanded = 0
        self.objects: dict[str, str] = {}      # text object ID → its text, for custom tags
        self.layout = _Layout(context.limits.max_text_chars)

    def read(self) -> Extraction:
        ofd_name = self.package.find("OFD.xml")
        root = self.package.xml(ofd_name)
        if root is None:
            raise CorruptDocumentError("no readable OFD.xml in the package")
        bodies = list(_children(root, "DocBody"))
        pages: list[str] = []
        for index, body in enumerate(bodies):
            if index == 0:
                self._doc_info(_child(body, "DocInfo"))
            doc_name = self.package.resolve(_text_of(_child(body, "DocRoot")), "")
            document = self.package.xml(doc_name)
            if document is None:
                self.warnings.append(f"document root {_text_of(_child(body, 'DocRoot')) or '(none)'} missing or unreadable")
                continue
            pages.extend(self._document(document, doc_name or ""))
        if not bodies or (not pages and all(w.startswith("document root") for w in self.warnings)):
            raise CorruptDocumentError("OFD package has no readable document")
        if self.layout.cut:
            self.warnings.append(f"text cut: the document places more than {_MAX_PIECES:,} text runs or "
                                 f"{self.layout.max_chars:,} characters (composite units repeated); the rest "
                                 "not read for the index, the original is kept whole")
        # "\f" between pages, as the PDF extractor does; blank pages stay, so page N is chunk N.
        text = "\f".join(pages) if any(page.strip() for page in pages) else ""
        if pages and not text:
            self.warnings.append("no text recognised")
        return Extraction(text=text, pages=len(pages), languages=detect_languages(text), metadata=self.metadata,
                          page_info=tuple(self.infos), warnings=tuple(self.warnings),
                          attachments=tuple(self.attachments))

    # --- metadata ---------------------------------------------------------------------------

    def _doc_info(self, info: _Element | None) -> None:
        if info is None:
            return
        for element in info:
            name = _local(element)
            if name in _DOCINFO_FIELDS and (value := _text_of(element)):
                self.metadata[_DOCINFO_FIELDS[name]] = value[:1000]
            elif name == "Keywords":
                words = [_text_of(k) for k in _children(element, "Keyword")]
                if words := [w for w in words if w]:
                    self.metadata["keywords"] = "; ".join(words)[:1000]
            elif name == "CustomDatas":
                for custom in _children(element, "CustomData"):
                    key, value = custom.get("Name", "").strip(), _text_of(custom)
                    if key and value and len(self.metadata) < 50:
                        self.metadata.setdefault(f"custom_{key}"[:100], value[:1000])

    # --- one document -----------------------------------------------------------------------

    def _document(self, document: _Element, doc_name: str) -> list[str]:
        doc_dir = posixpath.dirname(doc_name)
        common = _child(document, "CommonData")
        templates = {t.get("ID", ""): self.package.resolve(t.get("BaseLoc"), doc_dir, doc_dir)
                     for t in _children(common, "TemplatePage")}
        resources = [self.package.resolve(_text_of(r), doc_dir, doc_dir)
                     for name in ("PublicRes", "DocumentRes") for r in _children(common, name)]
        units = _Units(self.package, [r for r in resources if r])
        self.layout.cache.clear()       # unit IDs are unique within one document only
        entries = list(_children(_child(document, "Pages"), "Page"))
        limit = self.context.limits.max_pages
        if len(entries) > limit:
            self.warnings.append(f"only the first {limit} of {len(entries)} pages read (max_pages)")
            entries = entries[:limit]
        annotations = self._annotations(document, doc_dir)
        pages: list[str] = []
        for entry in entries:
            page_name = self.package.resolve(entry.get("BaseLoc"), doc_dir, doc_dir)
            page = self.package.xml(page_name)
            if page is None:
                self.warnings.append(f"page {entry.get('BaseLoc') or '(no BaseLoc)'} missing or unreadable")
                pages.append("")
                self.infos.append(PageInfo(len(self.infos) + 1, 0))
                continue
            page_dir = posixpath.dirname(page_name or "")
            page_units = units.with_files([self.package.resolve(_text_of(r), page_dir, doc_dir)
                                           for r in _children(page, "PageRes")])
            pieces: list[_Piece] = []
            contents: list[_Element] = []
            used = [t.get("TemplateID", "") for t in _children(page, "Template")]
            for template_id in used:
                template = self.package.xml(templates.get(template_id))
                if template is not None and (content := _child(template, "Content")) is not None:
                    contents.append(content)
                    pieces.extend(self.layout.place(content, page_units))
            body = _child(page, "Content")
            if body is not None:
                contents.append(body)
            pieces.extend(self.layout.place(body, page_units, ids=self.objects))
            number = len(self.infos) + 1
            if not pieces and not self.layout.cut:
                # A scanned page: no text objects, the page is a picture. OCR it, as PDF scans are.
                reading = self._scan(contents, page_units, number)
                if reading is not None:
                    pages.append(reading)
                    continue
            remarks: list[str] = []
            for annotation in annotations.get(entry.get("ID", ""), []):
                pieces.extend(self.layout.place(annotation[0], page_units, origin=annotation[1]))
                if annotation[2]:
                    remarks.append(annotation[2])
            pages.append("\n".join([_lines(pieces), *remarks]).strip())
            self.infos.append(PageInfo(number, len(pages[-1])))
        self._attachments(document, doc_dir)
        self._custom_tags(document, doc_dir)
        return pages

    def _custom_tags(self, document: _Element, doc_dir: str) -> None:
        """Semantic tags (``CustomTags``): an e-invoice names its fields (``InvoiceNo``,
        ``BuyerName``, ``TaxInclusiveTotalAmount`` ...) by referring to page objects; each
        becomes metadata ``tag_<name>`` with the text of the objects it refers to."""
        index_name = self.package.resolve(_text_of(_child(document, "CustomTags")), doc_dir, doc_dir)
        index = self.package.xml(index_name)
        if index is None:
            return
        index_dir = posixpath.dirname(index_name or "")
        for tag in _children(index, "CustomTag"):
            tree = self.package.xml(self.package.resolve(_text_of(_child(tag, "FileLoc")), index_dir, doc_dir))
            if tree is None:
                continue
            for element in tree.iter():
                name = _local(element)
                if not name or name == "ObjectRef" or len(self.metadata) >= 100:
                    continue
                refs = list(_children(element, "ObjectRef"))
                if refs:
                    value = "".join(self.objects.get(_text_of(ref), "") for ref in refs)
                elif len(element) == 0:
                    value = _text_of(element)     # some writers put the value itself in the tag
                else:
                    continue
                if value:
                    self.metadata.setdefault(f"tag_{name}"[:100], value[:1000])

    def _scan(self, contents: list[_Element], units: _Units, number: int) -> str | None:
        """OCR the largest picture of a page without text objects; None when there is none."""
        images = [(_area(element), element) for content in contents for element in content.iter()
                  if _local(element) == "ImageObject"]
        if not images:
            return None
        if not self.context.ocr_enabled:
            self.infos.append(PageInfo(number, 0))
            return ""
        _size, element = max(images, key=lambda pair: pair[0])
        image = self._picture(units.media(element.get("ResourceID", "")), _numbers(element.get("Boundary")), number)
        if image is None:
            self.infos.append(PageInfo(number, 0))
            return ""
        from ingest.ocr import read_page

        reading = read_page(self.owner.engine(), image, number, self.context)
        self.infos.append(reading.info)
        self.warnings.extend(reading.warnings)
        return reading.text.strip()

    def _picture(self, member: str | None, box: list[float], number: int) -> Image.Image | None:
        """A page picture decoded within the pixel limit, with its resolution; None with a
        warning when it cannot be."""
        from PIL import Image, UnidentifiedImageError

        if member is None:
            self.warnings.append(f"page {number}: picture missing from the package")
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # our limit is enforced below
                image = Image.open(io.BytesIO(self.package.read(member)))
                if image.width * image.height > self.context.limits.max_image_pixels:
                    self.warnings.append(f"page {number}: picture of {image.width}x{image.height} pixels "
                                         "over max_image_pixels, not read")
                    return None
                image.load()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, zipfile.BadZipFile, zlib.error) as exc:
            # JBIG2 and other codecs Pillow lacks end here.
            self.warnings.append(f"page {number}: picture not decodable ({type(exc).__name__}), not read by OCR")
            return None
        # The picture's resolution follows from its printed width (OFD measures in millimetres).
        dpi = image.width / (box[2] / 25.4) if len(box) >= 4 and box[2] > 0 else 0.0
        longest = max(image.size)
        page: Image.Image = image
        if longest > _MAX_OCR_SIDE:
            scale = _MAX_OCR_SIDE / longest
            dpi *= scale
            page = (image.convert("L") if image.mode in ("1", "P") else image).resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
        if 50 <= dpi <= 1200:
            page.info["dpi"] = (dpi, dpi)
        return page

    def _annotations(self, document: _Element, doc_dir: str) -> dict[str, list[tuple[_Element, tuple[float, float], str]]]:
        """Per page ID: (appearance element, its origin, remark) of each annotation."""
        found: dict[str, list[tuple[_Element, tuple[float, float], str]]] = {}
        index_name = self.package.resolve(_text_of(_child(document, "Annotations")), doc_dir, doc_dir)
        index = self.package.xml(index_name)
        if index is None:
            return found
        index_dir = posixpath.dirname(index_name or "")
        for page in _children(index, "Page"):
            annots = self.package.xml(self.package.resolve(_text_of(_child(page, "FileLoc")), index_dir, doc_dir))
            for annot in _children(annots, "Annot"):
                appearance = _child(annot, "Appearance")
                box = _numbers(appearance.get("Boundary") if appearance is not None else None)
                origin = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
                remark = _text_of(_child(annot, "Remark"))
                if appearance is not None or remark:
                    found.setdefault(page.get("PageID", ""), []).append((appearance, origin, remark))
        return found

    def _attachments(self, document: _Element, doc_dir: str) -> None:
        """Files embedded in the document (``Attachments.xml``), within depth and size limits."""
        index_name = self.package.resolve(_text_of(_child(document, "Attachments")), doc_dir, doc_dir)
        index = self.package.xml(index_name)
        if index is None:
            return
        entries = list(_children(index, "Attachment"))
        if not entries:
            return
        limits = self.context.limits
        if self.context.depth >= limits.max_depth:
            self.warnings.append(f"{len(entries)} attachment(s) not extracted: max_depth reached")
            return
        index_dir = posixpath.dirname(index_name or "")
        for entry in entries:
            member = self.package.resolve(_text_of(_child(entry, "FileLoc")), index_dir, doc_dir)
            if member is None:
                self.warnings.append(f"attachment {entry.get('Name') or '(unnamed)'} missing from the package")
                continue
            size = self.package.archive.getinfo(member).file_size
            if len(self.attachments) >= limits.max_attachments or self.expanded + size > limits.max_expanded_bytes:
                self.warnings.append("attachments dropped: over max_attachments or max_expanded_bytes")
                return
            try:
                data = self.package.read(member)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error,
                    EncryptedDocumentError, CorruptDocumentError) as exc:
                self.warnings.append(f"attachment {member} unreadable: {exc}")
                continue
            self.expanded += len(data)
            self.attachments.append(Attachment(_attachment_name(entry, member), data, None))


def _attachment_name(entry: _Element, member: str) -> str:
    """The attachment's declared name, with its declared format as extension when it has none."""
    name = (entry.get("Name") or "").strip() or posixpath.basename(member)
    extension = (entry.get("Format") or "").strip().lstrip(".")
    if extension and "." not in name and len(extension) <= 8:
        name = f"{name}.{extension}"
    return name.replace("/", "_").replace("\\", "_")


class _Units:
    """Composite graphic units (``CompositeGraphicUnit``) and multimedia files (``MultiMedia``,
    for OCR of scanned pages) of the resource files, loaded on demand."""

    def __init__(self, package: _Package, files: list[str], cache: dict[str, _Element] | None = None) -> None:
        self.package = package
        self.files = files
        self.loaded: set[str] = set()
        self.units: dict[str, _Element] = cache if cache is not None else {}
        self.media_files: dict[str, str | None] = {}

    def with_files(self, more: list[str | None]) -> _Units:
        extra = [f for f in more if f and f not in self.files]
        if not extra:
            return self
        other = _Units(self.package, [*self.files, *extra])
        other.units = dict(self.units)
        other.media_files = dict(self.media_files)
        other.loaded = set(self.loaded)
        return other

    def get(self, resource_id: str) -> _Element | None:
        """The composite graphic unit of this ID, or None."""
        self._load_until(lambda: resource_id in self.units)
        return self.units.get(resource_id)

    def media(self, resource_id: str) -> str | None:
        """The package member of the multimedia resource (an image) of this ID, or None."""
        self._load_until(lambda: resource_id in self.media_files)
        return self.media_files.get(resource_id)

    def _load_until(self, found: Callable[[], bool]) -> None:
        for name in self.files:
            if found():
                return
            if name in self.loaded:
                continue
            self.loaded.add(name)
            res = self.package.xml(name)
            if res is None:
                continue
            # Media paths are relative to the resource file's BaseLoc folder.
            base = posixpath.join(posixpath.dirname(name), res.get("BaseLoc", "") or "")
            for group in _children(res, "CompositeGraphicUnits"):
                for unit in _children(group, "CompositeGraphicUnit"):
                    self.units.setdefault(unit.get("ID", ""), unit)
            for group in _children(res, "MultiMedias"):
                for media in _children(group, "MultiMedia"):
                    loc = _text_of(_child(media, "MediaFile"))
                    self.media_files.setdefault(media.get("ID", ""), self.package.resolve(loc, base, posixpath.dirname(name)))


class _Layout:
    """The text runs of one package's contents, within one budget of runs and characters.

    Composite units may place one another many times over, so each unit's runs are worked out
    once (per nesting depth) and moved into place; a unit placing itself is skipped. Once the
    budget is spent nothing more is read and ``cut`` says so.
    """

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars if max_chars > 0 else sys.maxsize
        self.pieces_left = _MAX_PIECES
        self.chars_left = self.max_chars
        self.cut = False
        self.cache: dict[tuple[str, int], list[_Piece]] = {}
        self.open: set[str] = set()

    def place(self, content: _Element | None, units: _Units, *, origin: tuple[float, float] = (0.0, 0.0),
              ids: dict[str, str] | None = None) -> list[_Piece]:
        """The runs under a page's ``Content`` (layers, page blocks), a template's or an
        annotation's appearance, in page coordinates, counted against the budget."""
        found = self._gather(content, units, depth=0, ids=ids, room=(self.pieces_left, self.chars_left))
        kept = _fitting(found, self.pieces_left, self.chars_left)
        if len(kept) < len(found):
            self.cut = True
        self.pieces_left -= len(kept)
        self.chars_left -= sum(len(piece.text) for piece in kept)
        return [_moved(piece, origin) for piece in kept] if origin != (0.0, 0.0) else kept

    def _gather(self, content: _Element | None, units: _Units, *, depth: int, ids: dict[str, str] | None,
                room: tuple[int, int]) -> list[_Piece]:
        out: list[_Piece] = []
        if content is None:
            return out
        pieces_room, chars_room = room
        chars = 0
        for element in content.iter():
            name = _local(element)
            if name not in ("TextObject", "CompositeObject"):
                continue
            if len(out) >= pieces_room or chars >= chars_room:
                self.cut = True
                break
            if name == "TextObject":
                found = _text_object(element, (0.0, 0.0))
                if ids is not None and element.get("ID"):
                    ids[element.get("ID", "")] = "".join(piece.text for piece in found)
            elif name == "CompositeObject" and depth < _MAX_COMPOSITE_DEPTH:
                resource_id = element.get("ResourceID", "")
                box = _numbers(element.get("Boundary"))
                if len(box) < 2 or resource_id in self.open:
                    continue
                key = (resource_id, depth + 1)
                if key not in self.cache:
                    unit = units.get(resource_id)
                    if unit is None:
                        continue
                    self.open.add(resource_id)
                    self.cache[key] = self._gather(_child(unit, "Content"), units, depth=depth + 1, ids=None,
                                                   room=(pieces_room - len(out), chars_room - chars))
                    self.open.discard(resource_id)
                fitted = _fitting(self.cache[key], pieces_room - len(out), chars_room - chars)
                if len(fitted) < len(self.cache[key]):
                    self.cut = True
                found = [_moved(piece, (box[0], box[1])) for piece in fitted]
            else:
                continue
            out.extend(found)
            chars += sum(len(piece.text) for piece in found)
        return out


def _fitting(pieces: list[_Piece], room: int, chars: int) -> list[_Piece]:
    """The leading pieces that fit in ``room`` runs and ``chars`` characters (the first one
    crossing the character budget included, so a long run is not lost whole)."""
    if len(pieces) <= room and sum(len(piece.text) for piece in pieces) <= chars:
        return pieces
    kept: list[_Piece] = []
    for piece in pieces[:max(room, 0)]:
        if chars <= 0:
            break
        kept.append(piece)
        chars -= len(piece.text)
    return kept


def _moved(piece: _Piece, by: tuple[float, float]) -> _Piece:
    return _Piece(piece.x + by[0], piece.y + by[1], piece.end + by[0], piece.size, piece.text)


def _area(element: _Element) -> float:
    box = _numbers(element.get("Boundary"))
    return box[2] * box[3] if len(box) >= 4 else 0.0


def _text_object(element: _Element, origin: tuple[float, float]) -> list[_Piece]:
    """Each ``TextCode`` of a ``TextObject`` as a piece in page coordinates.

    A code's X/Y are in the object's space (its ``Boundary`` origin, then its ``CTM``); a code
    without X or Y continues where the previous one ended, as the standard says.
    """
    box = _numbers(element.get("Boundary"))
    bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
    ctm = _numbers(element.get("CTM"))
    a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    scale = math.hypot(c, d) or 1.0
    sizes = _numbers(element.get("Size"))
    size = (sizes[0] if sizes else 3.5) * scale
    pieces: list[_Piece] = []
    x = y = 0.0
    for code in element:
        if _local(code) != "TextCode":
            continue
        text = "".join(code.itertext())
        xs, ys = _numbers(code.get("X")), _numbers(code.get("Y"))
        x = xs[0] if xs else x
        y = ys[0] if ys else y
        if not text.strip():
            continue
        advances = _deltas(code.get("DeltaX"), limit=len(text) - 1)
        # Glyph advance where DeltaX is silent: a full em for CJK, about half for Latin.
        width = sum(advances) + sum(1.0 if ord(ch) > 0x2E7F else 0.55
                                    for ch in text[len(advances):]) * (size / scale)
        px, py = a * x + c * y + e, b * x + d * y + f
        ex = a * (x + width) + c * y + e
        pieces.append(_Piece(origin[0] + bx + px, origin[1] + by + py, origin[0] + bx + ex, size, text))
        x += width
    return pieces


def _lines(pieces: list[_Piece]) -> str:
    """Pieces grouped into lines by baseline (top to bottom), each line left to right.

    Two pieces share a line when their baselines differ by less than 40% of the smaller font
    (invoices misalign values and labels by a fraction of a millimetre). Characters are joined;
    a gap wider than the font size becomes one space.
    """
    lines: list[list[_Piece]] = []
    for piece in sorted(pieces, key=lambda p: (p.y, p.x)):
        line = lines[-1] if lines else None
        if line is not None and abs(piece.y - line[0].y) <= max(0.4 * min(piece.size, line[0].size), 0.5):
            line.append(piece)
        else:
            lines.append([piece])
    out: list[str] = []
    for line in lines:
        parts: list[str] = []
        end = None
        for piece in sorted(line, key=lambda p: p.x):
            if end is not None and piece.x - end > piece.size:
                parts.append(" ")
            parts.append(piece.text)
            end = piece.end if end is None else max(end, piece.end)
        out.append("".join(parts).strip())
    return "\n".join(line for line in out if line)
