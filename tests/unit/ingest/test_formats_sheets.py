"""Spreadsheets (issue #13 item 4): .xlsx registers, legacy .xls and WPS .et, streamed and bounded."""

from __future__ import annotations

import datetime as dt
import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from extract_msg.ole_writer import OleWriter
from msoffcrypto.format.ooxml import OOXMLFile

from ingest.errors import CorruptDocumentError, EncryptedDocumentError, TooLargeError
from ingest.extractors.sheet import SpreadsheetExtractor
from ingest.model import ExtractContext, Extraction, Limits

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
BIG_ROWS = 20_000


def _extract(path: Path, media_type: str = XLSX, context: ExtractContext | None = None) -> Extraction:
    return SpreadsheetExtractor().extract(path, media_type, context or ExtractContext())


def _register(tmp_path: Path) -> Path:
    """A petitioners' register: header, dates, numbers, Chinese, a merged total, a hidden sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "信访人登记"
    sheet.append(["编号", "信访人", "来访日期", "诉求金额", "办结率", "联系电话"])
    sheet.append([1, "王喆", dt.datetime(2026, 3, 1), 1200.0, 0.125, 13800138000])
    sheet["E2"].number_format = "0.0%"
    sheet["B2"].comment = Comment("重复信访，已三次", "张科长")
    sheet.append([2.0, "李秀英\n（代理人）", dt.date(2026, 3, 2), 0.1 + 0.2, None, None])
    sheet.merge_cells("A4:F4")
    sheet["A4"] = "合计：投诉两件"
    internal = book.create_sheet("内部备注")
    internal.sheet_state = "hidden"
    internal["A1"] = "不予公开"
    book.properties.title = "2026年信访人登记表"
    book.properties.creator = "市信访局"
    path = tmp_path / "register.xlsx"
    book.save(path)
    return path


@pytest.fixture(scope="module")
def big_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20,000-row register (80,000 cells) laid out as Excel writes it: a <dimension>, shared strings."""
    path = tmp_path_factory.mktemp("sheets") / "big.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "投诉台账"
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType='
        b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
        b' Target="sharedStrings.xml" Id="rId9"/></Relationships>'))
    strings = ["投诉事项：小区漏水", *(f"信访人{row}" for row in range(1, BIG_ROWS + 1))]
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{namespace}" count="{2 * BIG_ROWS}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{text}</t></si>" for text in strings) + "</sst>").encode()
    parts["xl/worksheets/sheet1.xml"] = (
        f'<worksheet xmlns="{namespace}"><dimension ref="A1:D{BIG_ROWS}"/><sheetData>'
        + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>{r}</v></c>'
                  f'<c r="C{r}" t="s"><v>0</v></c><c r="D{r}"><v>{13800000000 + r - 1}</v></c></row>'
                  for r in range(1, BIG_ROWS + 1))
        + "</sheetData></worksheet>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_rows_become_tab_separated_lines_under_a_sheet_heading(tmp_path: Path) -> None:
    """GIVEN a register WHEN extracted THEN each sheet starts with its name, each row is one line."""
    text = _extract(_register(tmp_path)).text
    lines = text.split("\f")[0].split("\n")
    assert lines[0] == "[信访人登记]"
    assert lines[1] == "编号\t信访人\t来访日期\t诉求金额\t办结率\t联系电话"


def test_numbers_and_dates_read_as_the_office_sees_them(tmp_path: Path) -> None:
    """GIVEN numbers and dates WHEN extracted THEN 1 not 1.0, ISO dates, percent as formatted, phones whole."""
    text = _extract(_register(tmp_path)).text
    assert "1\t王喆\t2026-03-01\t1200\t12.5%\t13800138000" in text.split("\n")
    # A line break inside a cell must not split the row; 0.1+0.2 shows as Excel shows it.
    assert "2\t李秀英 （代理人）\t2026-03-02\t0.3" in text.split("\n")


def test_merged_cells_count_once_and_hidden_sheets_are_read_and_named(tmp_path: Path) -> None:
    """GIVEN a merged total and a hidden sheet THEN the total appears once and the hidden sheet says so."""
    extraction = _extract(_register(tmp_path))
    assert extraction.text.count("合计：投诉两件") == 1
    assert "合计：投诉两件" in extraction.text.split("\f")[0].split("\n")
    assert extraction.text.split("\f")[1] == "[内部备注] (hidden sheet)\n不予公开"
    assert extraction.pages == 2


def test_cell_comments_follow_their_sheet_rows(tmp_path: Path) -> None:
    """GIVEN a clerk's comment on a petitioner's cell THEN it is searchable, on that sheet, with cell and author."""
    first_sheet = _extract(_register(tmp_path)).text.split("\f")[0]
    assert first_sheet.split("\n")[-1] == "Comment B2 (张科长): 重复信访，已三次"


def test_metadata_and_language_are_recorded(tmp_path: Path) -> None:
    """GIVEN a workbook with core properties THEN title and author are kept and Chinese is detected."""
    extraction = _extract(_register(tmp_path))
    assert extraction.metadata["title"] == "2026年信访人登记表"
    assert extraction.metadata["author"] == "市信访局"
    assert extraction.languages[0].startswith("zh")
    assert extraction.warnings == ()


def test_formulas_give_their_cached_values(tmp_path: Path) -> None:
    """GIVEN a formula cell saved with its result (as Excel and WPS do) THEN the result is the text."""
    path = tmp_path / "formula.xlsx"
    openpyxl.Workbook().save(path)
    # openpyxl cannot compute formulas; write the cached value as Excel would.
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData></sheetData>",
        b'<sheetData><row r="1"><c r="A1" t="str"><f>"\xe5\x85\xb1"&amp;"3\xe4\xbb\xb6"</f>'
        b'<v>\xe5\x85\xb13\xe4\xbb\xb6</v></c><c r="B1"><f>1+2</f><v>3</v></c></row></sheetData>')
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    text = _extract(path).text
    assert "共3件\t3" in text
    assert "1+2" not in text


def test_a_large_register_is_read_whole_and_fast(
    big_register: Path, within: Callable[[int], AbstractContextManager[None]]
) -> None:
    """GIVEN 20,000 rows WHEN extracted THEN every row is there, in seconds."""
    with within(10):
        extraction = _extract(big_register)
    lines = extraction.text.split("\n")
    assert len(lines) == BIG_ROWS + 1
    assert lines[-1] == f"{BIG_ROWS}\t信访人{BIG_ROWS}\t投诉事项：小区漏水\t{13800000000 + BIG_ROWS - 1}"


def test_reading_stops_at_the_cell_cap_with_a_warning_in_bounded_memory(big_register: Path) -> None:
    """GIVEN a cell cap far below the workbook WHEN extracted THEN rows are streamed, not loaded:
    reading stops at the cap, says in which sheet, and memory stays a fraction of a full load (~35 MB)."""
    tracemalloc.start()
    try:
        extraction = SpreadsheetExtractor(max_cells=2_000).extract(big_register, XLSX, ExtractContext())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 400 <= extraction.text.count("\n") <= 500
    assert any("2,000 cells" in w and "投诉台账" in w for w in extraction.warnings)
    assert peak < 8 * 1024 * 1024


def test_reading_stops_at_the_text_kept_for_the_index(big_register: Path) -> None:
    """GIVEN a text cap of 10,000 characters WHEN a 20,000-row register is extracted THEN reading
    stops there (not after parsing everything) and the warning names the sheet."""
    limits = Limits(max_text_chars=10_000)
    extraction = _extract(big_register, context=ExtractContext(limits=limits))
    assert 9_000 < len(extraction.text) <= 10_000
    assert extraction.warnings == ("workbook truncated at the text size limit: reading stopped in sheet '投诉台账'",)


def test_truncated_workbook_is_corrupt(tmp_path: Path) -> None:
    """GIVEN an .xlsx cut off in transfer WHEN extracted THEN it is corrupt, with a reason."""
    whole = _register(tmp_path).read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDocumentError, match="zip"):
        _extract(path)


def test_a_package_without_a_workbook_is_corrupt(tmp_path: Path) -> None:
    """GIVEN a zip that is not a workbook under an .xlsx type THEN it is corrupt, not a crash."""
    path = tmp_path / "not.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "投诉")
    with pytest.raises(CorruptDocumentError, match="workbook"):
        _extract(path)


def test_zip_bomb_is_refused_before_openpyxl_opens_it(tmp_path: Path) -> None:
    """GIVEN a sheet part inflating absurdly THEN it is refused from the zip directory alone."""
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (20 * 1024 * 1024))
    with pytest.raises(TooLargeError):
        _extract(path, context=ExtractContext(limits=Limits(max_expanded_bytes=8 * 1024 * 1024)))


def test_encrypted_xlsx_opens_with_its_password_only(tmp_path: Path) -> None:
    """GIVEN a password-protected .xlsx (an OLE EncryptedPackage) THEN no password → encrypted;
    the right password → the register's text, decrypted in memory."""
    plain = _register(tmp_path)
    sealed = io.BytesIO()
    with plain.open("rb") as handle:
        OOXMLFile(handle).encrypt("信访2026", sealed)
    path = tmp_path / "sealed.xlsx"
    path.write_bytes(sealed.getvalue())
    with pytest.raises(EncryptedDocumentError):
        _extract(path)
    text = _extract(path, context=ExtractContext(password="信访2026")).text
    assert "1\t王喆\t2026-03-01\t1200\t12.5%\t13800138000" in text


def test_rows_of_empty_cells_at_the_last_column_are_bounded_work(tmp_path: Path) -> None:
    """GIVEN a tiny workbook whose rows each hold one empty cell in the last column (XFD): openpyxl
    pads each to 16,384 cells, none of which the cell or text caps count
    WHEN it is read with a cap of 100 cells
    THEN reading stops quickly, with a warning, once the cells looked at (empty ones too) reach
    the work cap; the first row's text is kept. (A few MB of such rows held a worker 300 s.)"""
    book = openpyxl.Workbook()
    book.active["A1"] = "登记"
    plain = io.BytesIO()
    book.save(plain)
    path = tmp_path / "wide.xlsx"
    rows = "".join(f'<row r="{r}"><c r="XFD{r}"/></row>' for r in range(2, 302))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</row>", b"</row>" + rows.encode(), 1)
            target.writestr(info.filename, data)
    result = SpreadsheetExtractor(max_cells=100).extract(path, XLSX, ExtractContext())
    assert result.text.splitlines()[1] == "登记"
    assert any("cells (mostly empty) were looked at" in warning for warning in result.warnings)
# --- Excel 97-2003 / WPS .et: a BIFF8 workbook built record by record (no .xls writer is installed) ---


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x0600))


def _xf(number_format: int) -> bytes:
    return _record(0x00E0, struct.pack("<HHHBBBBIiH", 0, number_format, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))


def _biff8(sheets: list[tuple[str, bool, dict[tuple[int, int], object]]], *, encrypted: bool = False) -> bytes:
    """An .xls as Excel and WPS write it: a Workbook stream of BIFF8 records in an OLE file.

    Strings go to the shared string table, numbers are NUMBER records, dates use format 14.
    """
    strings = list(dict.fromkeys(v for _, _, cells in sheets for v in cells.values() if isinstance(v, str)))
    bodies = []
    for _name, _hidden, cells in sheets:
        body = _bof(0x0010) + _record(0x0200, struct.pack(
            "<IIHHH", 0, max(r for r, _ in cells) + 1, 0, max(c for _, c in cells) + 1, 0))
        for (row, col), value in sorted(cells.items()):
            if isinstance(value, str):
                body += _record(0x00FD, struct.pack("<HHHI", row, col, 0, strings.index(value)))
            elif isinstance(value, dt.date):
                serial = float((value - dt.date(1899, 12, 30)).days)
                body += _record(0x0203, struct.pack("<HHHd", row, col, 1, serial))
            else:
                body += _record(0x0203, struct.pack("<HHHd", row, col, 0, float(value)))  # type: ignore[arg-type]
        bodies.append(body + _record(0x000A))

    def short(text: str) -> bytes:
        return struct.pack("<BB", len(text), 1) + text.encode("utf-16-le")

    head = _bof(0x0005)
    if encrypted:   # FILEPASS, RC4 CryptoAPI header with a made-up verifier
        head += _record(0x002F, struct.pack("<HHH", 1, 1, 1) + b"\x01" * 48)
    head += _record(0x0042, struct.pack("<H", 1200)) + _record(0x0022, struct.pack("<H", 0)) + _xf(0) + _xf(14)
    sst = _record(0x00FC, struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings))
    offset = len(head) + sum(4 + 6 + len(short(name)) for name, _, _ in sheets) + len(sst) + 4
    directory = b""
    for (name, hidden, _cells), body in zip(sheets, bodies, strict=True):
        directory += _record(0x0085, struct.pack("<IBB", offset, int(hidden), 0) + short(name))
        offset += len(body)
    writer = OleWriter()
    writer.addEntry("Workbook", head + directory + sst + _record(0x000A) + b"".join(bodies))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


LEGACY_REGISTER = [
    ("信访登记", False, {(0, 0): "编号", (0, 1): "信访人", (0, 2): "日期", (0, 3): "事由",
                     (1, 0): 1, (1, 1): "王喆", (1, 2): dt.date(2026, 3, 1), (1, 3): "投诉物业",
                     (2, 0): 2.5, (2, 3): "重复信访"}),
    ("内部", True, {(0, 0): "不予公开"}),
]


@pytest.mark.parametrize("name", ["register.xls", "register.et"])
def test_legacy_excel_and_wps_et_are_read_with_dates_and_chinese(tmp_path: Path, name: str) -> None:
    """GIVEN an Excel 97-2003 workbook (WPS .et is the same OLE format) THEN rows, ISO dates,
    whole numbers, Chinese and the hidden sheet come through exactly."""
    path = tmp_path / name
    path.write_bytes(_biff8(LEGACY_REGISTER))
    extraction = _extract(path, XLS)
    assert extraction.text == ("[信访登记]\n编号\t信访人\t日期\t事由\n1\t王喆\t2026-03-01\t投诉物业\n2.5\t\t\t重复信访"
                               "\f[内部] (hidden sheet)\n不予公开")
    assert extraction.pages == 2
    assert extraction.languages[0].startswith("zh")


def test_legacy_workbook_under_an_xlsx_type_is_still_read(tmp_path: Path) -> None:
    """GIVEN an .xls renamed .xlsx (common in mail) THEN its bytes decide, and it is read."""
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(_biff8(LEGACY_REGISTER))
    assert "王喆" in _extract(path, XLSX).text


def test_encrypted_legacy_workbook_without_or_with_a_wrong_password_is_encrypted(tmp_path: Path) -> None:
    """GIVEN an RC4-encrypted .xls (FILEPASS) THEN without a password, or with a wrong one, the
    outcome is "encrypted", never "corrupt"."""
    path = tmp_path / "sealed.xls"
    path.write_bytes(_biff8(LEGACY_REGISTER, encrypted=True))
    with pytest.raises(EncryptedDocumentError):
        _extract(path, XLS)
    with pytest.raises(EncryptedDocumentError, match="wrong password"):
        _extract(path, XLS, ExtractContext(password="not-it"))
