"""Spreadsheets: .xlsx/.xlsm through openpyxl (streaming), .xls and WPS .et through xlrd.

A complaint office lives on registers (登记台账, 信访人名单): lists of petitioners, case
ledgers and statistics kept as workbooks (ARC-4 registers and ledgers, ARC-5-03 the customer
information base, INT-F-01 the complainant's details). Their text must be searchable as the
office sees it: each row one line, cells joined by a tab, numbers as displayed (``12``, not
``12.0``), dates as ISO dates, formulas by their cached values.

Text layout, one block per sheet (so page N is sheet N, as with PDF pages)::

    [登记表]
    编号<TAB>信访人<TAB>日期
    1<TAB>王喆<TAB>2026-03-01
    \\f[内部备注] (hidden sheet)
    ...

Workbooks can be huge (a 100k-row register): OOXML is streamed row by row (openpyxl
``read_only``), the zip is inspected before anything is decompressed (zip-bomb guard), and
reading stops at a cell and character budget with a warning naming the sheet where it stopped.
Encrypted workbooks (legacy RC4 ``FILEPASS``, or OOXML inside an OLE ``EncryptedPackage``) open
with the supplied password through :mod:`ingest.extractors.office_crypto`. Nothing is written to
disk: decrypted bytes stay in memory.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import functools
import io
import operator
import posixpath
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, ClassVar

from ingest.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    IngestError,
    UnsupportedFormatError,
)
from ingest.extractors._mime import read_bounded
from ingest.extractors._office import core_properties, head, ole_streams
from ingest.extractors._office import reason as _reason
from ingest.extractors._zip import guard_members
from ingest.language import detect_languages
from ingest.model import ExtractContext, Extraction

if TYPE_CHECKING:
    from ingest.interfaces import Extractor

__all__ = ["SpreadsheetExtractor"]

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLS = "application/vnd.ms-excel"
# A register of 100k rows by 10 columns is a million cells; beyond that a workbook is data, not
# a document, and its first million cells are what a reader would search anyway.
MAX_CELLS = 1_000_000
# Cells looked at, empty ones included, per non-empty cell allowed: openpyxl pads every row to
# its last cell, so a row holding only <c r="XFD1"/> is 16,384 cells of work. A 100k-row sparse
# register of 50 columns is 5M visits; a few KB of such rows would otherwise hold a worker for
# minutes (reading stops at the cap, with a warning).
VISITS_PER_CELL = 20
# Excel's own row limit: a worksheet claiming rows beyond it (r="999999999") is hostile, and
# openpyxl would otherwise yield every empty row in between.
MAX_ROWS_PER_SHEET = 1_048_576
# Whitespace inside a cell would break "one row, one line; cells split by tabs".
_CELL_BREAKS = re.compile(r"[\t\r\n\v\f]+")
_FIXED_DECIMALS = re.compile(r"^[#,]*0\.(0+)$")
_PERCENT = re.compile(r"^0(?:\.(0+))?%$")
_MAX_NOTES = 20
_SHEET_RELS = re.compile(r"(.*)/_rels/([^/]+)\.rels")
_SML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class SpreadsheetExtractor:
    """Extracts workbooks: Excel 2007+ (.xlsx, .xlsm), Excel 97-2003 (.xls) and WPS (.et).

    The container is recognised by its bytes, not the media type: an .xls renamed .xlsx, or
    an encrypted .xlsx (an OLE file), is read all the same.

    Args:
        max_cells: Non-empty cells read per workbook; reading stops there with a warning.
    """

    name: ClassVar[str] = "spreadsheet"
    media_types: ClassVar[frozenset[str]] = frozenset({
        _XLSX,
        "application/vnd.ms-excel.sheet.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
        _XLS,
    })
    takes_password: ClassVar[bool] = True

    def __init__(self, *, max_cells: int = MAX_CELLS) -> None:
        self._max_cells = max_cells

    def extract(self, source: Path, media_type: str, context: ExtractContext) -> Extraction:
        """Return every sheet's rows as tab-separated lines, with the workbook's metadata.

        Raises:
            TooLargeError: the file, or the sum of its zip members, exceeds the limits.
            EncryptedDocumentError: the workbook is encrypted and no (correct) password was given.
            UnsupportedFormatError: an OLE file without a workbook stream (not a spreadsheet).
            CorruptDocumentError: truncated, damaged or not a workbook at all.
        """
        signature = head(source, context.limits)
        if signature.startswith(_ZIP_MAGIC):
            with source.open("rb") as handle:
                return _read_xlsx(handle, context, self._max_cells)
        if signature.startswith(_CFB_MAGIC):
            streams = ole_streams(source)
            if "encryptedpackage" in streams:
                return _read_xlsx(io.BytesIO(_decrypt(source, context)), context, self._max_cells)
            if not streams & {"workbook", "book"}:
                raise UnsupportedFormatError("OLE compound file without a Workbook stream: not a spreadsheet")
            return _read_xls(source, context, self._max_cells)
        raise CorruptDocumentError("not a spreadsheet: neither a zip package (.xlsx) nor an OLE file (.xls)")


@dataclass(slots=True)
class _Budget:
    """What is left to read: cells and characters, across all sheets of one workbook."""

    limit: int                            # the cell cap, for the warning
    cells: int
    chars: int
    visits: int                           # cells looked at, empty ones included
    stopped: str | None = None            # the warning, once a cap is reached
    warnings: list[str] = field(default_factory=list)

    def visit(self, cells: int, sheet: str) -> bool:
        """Count a row's width (empty cells too) in; False (and a warning) when over the work cap."""
        if cells > self.visits:
            self.stopped = (f"workbook truncated: reading stopped in sheet {sheet!r} after "
                            f"{self.limit * VISITS_PER_CELL:,} cells (mostly empty) were looked at")
            return False
        self.visits -= cells
        return True

    def take(self, line: str, cells: int, sheet: str) -> bool:
        """Count one line in; False (and a warning) when it no longer fits."""
        if cells > self.cells or len(line) + 1 > self.chars:
            cap = f"{self.limit:,} cells" if cells > self.cells else "the text size limit"
            self.stopped = f"workbook truncated at {cap}: reading stopped in sheet {sheet!r}"
            return False
        self.cells -= cells
        self.chars -= len(line) + 1
        return True


def _budget(context: ExtractContext, max_cells: int) -> _Budget:
    """Cells up to ``max_cells``; characters up to the text kept for the index (``max_text_chars``:
    reading further would only be cut off) and within ``max_expanded_bytes`` (4 bytes a character)."""
    limits = context.limits
    chars = limits.max_expanded_bytes // 4
    kept = getattr(limits, "max_text_chars", 0)
    if kept:
        chars = min(chars, kept)
    return _Budget(limit=max_cells, cells=max_cells, chars=max(1, chars), visits=max_cells * VISITS_PER_CELL)


# --- Excel 2007+ ----------------------------------------------------------------------------------


def _read_xlsx(handle: IO[bytes], context: ExtractContext, max_cells: int) -> Extraction:
    """Stream an OOXML workbook (a file object, so any name or memfd path works)."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptDocumentError(f"damaged or truncated zip package (XLSX): {_reason(exc)}") from exc
    with archive:
        guard_members(archive.infolist(), context.limits, what="XLSX package")
        names = set(archive.namelist())
        comments = _comments_by_sheet(archive)
        metadata = core_properties(archive)
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise CorruptDocumentError("no workbook part in the package (not an XLSX)")
    handle.seek(0)
    import openpyxl

    budget = _budget(context, max_cells)
    blocks: list[str] = []
    with _library_warnings() as notes:
        try:
            # read_only streams each sheet's XML; data_only gives formulas' cached values.
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        except IngestError:
            raise
        except Exception as exc:  # openpyxl raises KeyError, ValueError, BadZipFile, lxml errors, ...
            raise CorruptDocumentError(f"unreadable workbook: {_reason(exc)}") from exc
        try:
            sheets = list(book.worksheets)
            failed: list[str] = []
            for sheet in sheets:
                if budget.stopped:
                    break
                hidden = getattr(sheet, "sheet_state", "visible") != "visible"
                try:
                    # Declared dimensions are often wrong (or hostile: A1:XFD1048576); rows are
                    # then as wide as their last cell.
                    with contextlib.suppress(AttributeError):
                        sheet.reset_dimensions()
                    rows = _xlsx_rows(sheet, budget)
                    notes_of_cells = comments.get(str(getattr(sheet, "_worksheet_path", "")).lstrip("/"), [])
                    blocks.append(_sheet_block(sheet.title, hidden, rows, budget, notes_of_cells))
                except IngestError:
                    raise
                except Exception as exc:  # a damaged sheet part (truncated member, bad XML): keep the others
                    failed.append(f"sheet {sheet.title!r} unreadable ({_reason(exc)})")
                    blocks.append(_heading(sheet.title, hidden))
            if sheets and len(failed) == len(sheets):
                raise CorruptDocumentError(f"no sheet readable: {failed[0]}")
            budget.warnings.extend(failed)
        finally:
            book.close()
    return _extraction(blocks, len(sheets), metadata, budget, notes)


def _comments_by_sheet(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """Cell comments (批注, often the clerk's remarks on a petitioner) per worksheet part.

    openpyxl's streaming mode does not read them, so they come from the package: each sheet's
    relationships name its comments part. Lines read "Comment A1 (author): text". A damaged
    comments part costs its comments only.
    """
    found: dict[str, list[str]] = {}
    for rels_name in archive.namelist():
        match = _SHEET_RELS.fullmatch(rels_name)
        if not match:
            continue
        try:
            rels = _parse_xml(archive.read(rels_name))
            targets = [rel.get("Target", "") for rel in rels
                       if str(rel.get("Type", "")).endswith("/comments")]
            lines: list[str] = []
            for target in targets:
                part = str(PurePosixPath(target).relative_to("/")) if target.startswith("/") else \
                    posixpath.normpath(posixpath.join(match.group(1), target))
                root = _parse_xml(archive.read(part))
                authors = [" ".join("".join(a.itertext()).split()) for a in root.iter(f"{_SML}author")]
                for comment in root.iter(f"{_SML}comment"):
                    text = _display("".join(t.text or "" for t in comment.iter(f"{_SML}t")))
                    if not text:
                        continue
                    index = int(comment.get("authorId", "-1") or -1)
                    author = f" ({authors[index]})" if 0 <= index < len(authors) and authors[index] else ""
                    lines.append(f"Comment {comment.get('ref', '')}{author}: {text}")
        except Exception:  # missing part, bad XML, bad index: the cells are still read
            continue
        found[f"{match.group(1)}/{match.group(2)}"] = lines
    return found


def _parse_xml(data: bytes) -> Any:
    from lxml import etree

    # No entity expansion, no network: XML bombs stay inert.
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _xlsx_rows(sheet: Any, budget: _Budget) -> Iterator[list[str]]:
    """Each row's cells as text, up to its last non-empty one; every cell looked at is counted."""
    from openpyxl.cell.read_only import EMPTY_CELL

    present = functools.partial(operator.is_not, EMPTY_CELL)
    for count, row in enumerate(sheet.iter_rows(), start=1):
        if count > MAX_ROWS_PER_SHEET:
            raise _RowCap
        if not budget.visit(len(row), sheet.title):
            return
        # openpyxl fills the gaps with one EMPTY_CELL object: they are skipped at C speed.
        cells = [(cell.column, text) for cell in filter(present, row) if (text := _xlsx_cell(cell))]
        line = [""] * (cells[-1][0] if cells else 0)
        for column, text in cells:
            line[column - 1] = text
        yield line


def _xlsx_cell(cell: Any) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number_format = getattr(cell, "number_format", None)
        if isinstance(value, int) and number_format in (None, "General"):
            return str(value)        # exact, however long (an ID number typed as a number)
        return _number(float(value), number_format)
    return _display(value)


# --- Excel 97-2003 and WPS .et --------------------------------------------------------------------


def _read_xls(source: Path, context: ExtractContext, max_cells: int) -> Extraction:
    import xlrd

    data = read_bounded(source, context.limits)
    notes = _XlrdLog()
    try:
        book = _open_xls(data, notes)
    except EncryptedDocumentError:
        data = _decrypt(source, context)
        book = _open_xls(data, notes, decrypted=True)
    budget = _budget(context, max_cells)
    blocks: list[str] = []
    try:
        for index in range(book.nsheets):
            if budget.stopped:
                break
            try:
                sheet = book.sheet_by_index(index)
            except Exception as exc:  # xlrd: XLRDError, struct.error, IndexError, ...
                if index == book.nsheets - 1 and not blocks:
                    raise CorruptDocumentError(f"no sheet readable: {_reason(exc)}") from exc
                budget.warnings.append(f"sheet {index + 1} unreadable ({_reason(exc)})")
                continue
            hidden = getattr(sheet, "visibility", 0) != 0
            blocks.append(_sheet_block(sheet.name, hidden, _xls_rows(sheet, book.datemode, xlrd, budget), budget))
            book.unload_sheet(index)
        sheets = book.nsheets
    finally:
        book.release_resources()
    metadata = _ole_metadata(data)
    return _extraction(blocks, sheets, metadata, budget, notes.notes)


def _open_xls(data: bytes, notes: _XlrdLog, *, decrypted: bool = False) -> Any:
    import xlrd

    try:
        # on_demand: one sheet parsed at a time; dates are recognised from the XF records
        # even without formatting_info.
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=notes)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower() and not decrypted:
            raise EncryptedDocumentError("password-protected Excel workbook") from exc
        raise CorruptDocumentError(f"unreadable Excel workbook: {_reason(exc)}") from exc
    except Exception as exc:  # xlrd raises struct.error, IndexError, AssertionError on damage
        raise CorruptDocumentError(f"unreadable Excel workbook: {_reason(exc)}") from exc


def _xls_rows(sheet: Any, datemode: int, xlrd: Any, budget: _Budget) -> Iterator[list[str]]:
    for index in range(min(sheet.nrows, MAX_ROWS_PER_SHEET)):
        row = sheet.row(index)
        if not budget.visit(len(row), sheet.name):
            return
        yield [_xls_cell(cell, datemode, xlrd) for cell in row]


def _xls_cell(cell: Any, datemode: int, xlrd: Any) -> str:
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_DATE:
        try:
            return _display(xlrd.xldate.xldate_as_datetime(value, datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return _number(float(value), None)
    if kind == xlrd.XL_CELL_NUMBER:
        return _number(float(value), None)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERROR"))
    return _display(value)


def _ole_metadata(data: bytes) -> dict[str, str]:
    """Title, author and dates from the OLE SummaryInformation stream, decoded by its codepage."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            meta = ole.get_metadata()
    except Exception:  # absent or damaged metadata is not a reason to lose the workbook
        return {}
    codec = _codepage(getattr(meta, "codepage", None))
    metadata: dict[str, str] = {}
    for attribute, key in (("title", "title"), ("author", "author"), ("subject", "subject"),
                           ("keywords", "keywords"), ("last_saved_by", "last_modified_by"),
                           ("create_time", "created"), ("last_saved_time", "modified")):
        value = getattr(meta, attribute, None)
        if isinstance(value, bytes):
            value = value.decode(codec, errors="replace")
        if isinstance(value, dt.datetime):
            value = value.isoformat(timespec="seconds")
        text = " ".join(str(value).replace("\x00", "").split()) if value else ""
        if text:
            metadata[key] = text[:1000]
    return metadata


def _codepage(number: object) -> str:
    if number in (65001, 1200):
        return "utf-8" if number == 65001 else "utf-16-le"
    if isinstance(number, int):
        with contextlib.suppress(LookupError):
            return "gb18030" if number == 936 else codecs.lookup(f"cp{number}").name
    return "cp1252"


# --- shared ---------------------------------------------------------------------------------------


class _RowCap(Exception):
    """A sheet has more rows than Excel allows."""


def _sheet_block(name: str, hidden: bool, rows: Iterable[list[str]], budget: _Budget,
                 comments: Iterable[str] = ()) -> str:
    """The heading, the non-empty rows and then the cell comments of one sheet, within the budget."""
    lines = [_heading(name, hidden)]
    try:
        for cells in rows:
            # Trailing empty cells are layout, not content; leading ones keep column positions.
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            line = "\t".join(cells)
            if not budget.take(line, sum(1 for cell in cells if cell), name):
                break
            lines.append(line)
    except _RowCap:
        budget.warnings.append(f"sheet {name!r} has more than {MAX_ROWS_PER_SHEET:,} rows; the rest was not read")
    for comment in comments:
        if budget.stopped or not budget.take(comment, 1, name):
            break
        lines.append(comment)
    return "\n".join(lines)


def _heading(name: str, hidden: bool) -> str:
    return f"[{name}]" + (" (hidden sheet)" if hidden else "")


def _extraction(blocks: list[str], sheets: int, metadata: dict[str, str], budget: _Budget,
                notes: list[str]) -> Extraction:
    problems = list(budget.warnings)
    if budget.stopped:
        problems.append(budget.stopped)
    # "\f" between sheets, as between PDF pages: sheet N is page N.
    text = "\f".join(blocks)
    return Extraction(text=text, pages=sheets, languages=detect_languages(text), metadata=metadata,
                      warnings=tuple(problems), notes=tuple(dict.fromkeys(notes)))


def _number(value: float, number_format: str | None) -> str:
    """A number as Excel shows it in the common formats: 12 not 12.0, 12% for 0.12 as a percent."""
    fmt = (number_format or "").strip()
    if fmt and fmt != "General":
        if match := _PERCENT.match(fmt):
            return f"{value * 100:.{len(match.group(1) or '')}f}%"
        if match := _FIXED_DECIMALS.match(fmt):
            # Decimals as shown, but no thousands separator: "1200.50" is what a search types.
            return f"{value:.{len(match.group(1))}f}"
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # 15 significant digits, as Excel stores them: 0.1+0.2 shows as 0.3.
    return f"{value:.15g}"


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value, None)
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return _CELL_BREAKS.sub(" ", str(value).replace("\x00", "")).strip()


def _decrypt(source: Path, context: ExtractContext) -> bytes:
    """The plaintext, in memory. Without a password only Excel's built-in default is tried.

    Raises:
        EncryptedDocumentError: no password (and the default did not open it), or a wrong one.
    """
    from ingest.extractors.office_crypto import decrypt_office

    return decrypt_office(source, context.password)


class _XlrdLog(io.StringIO):
    """Collects xlrd's diagnostics ("WARNING *** OLE2 inconsistency") as notes, not stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def write(self, text: str) -> int:
        if text.strip() and len(self.notes) < _MAX_NOTES:
            self.notes.append(f"xlrd: {' '.join(text.split())[:200]}")
        return len(text)


@contextlib.contextmanager
def _library_warnings() -> Iterator[list[str]]:
    """openpyxl warns about every extension it ignores (data validation, conditional formatting,
    "no default style" in WPS files): listed as notes, which leave the outcome ``ok`` (item 7)."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    for warning in caught[:_MAX_NOTES]:
        notes.append(f"openpyxl: {str(warning.message)[:200]}")


_: type[Extractor] = SpreadsheetExtractor
