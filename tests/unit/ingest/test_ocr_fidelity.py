"""Images that decode right and OCR that knows when it failed (issue #13, item 5).

Palette TIFFs with 8-bit colour maps, OCR text that does not read as language, stray Han in
English pages, and Chinese set in vertical columns. Each OCR test reads one small page.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from ingest.extractors.image import ImageExtractor
from ingest.extractors.pdf import PdfExtractor
from ingest.language import drop_stray_han, language_likeness, looks_like_language
from ingest.model import ExtractContext
from ingest.ocr import default_engine, vertical_columns

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NONSENSE = ["potatopeeoeerengeogoeoona", "eeoaeoo ngeoogoeoo tpeoeeoa", "oooeeaoe geoeeoona reoooe"]
GAZETTE = ["关于投诉处理工作的通知", "各区县人民政府信访局", "现将有关事项通知如下", "请认真贯彻执行为要"]


@pytest.fixture(scope="module")
def extractor() -> ImageExtractor:
    # The process's shared engine: the models are loaded once for the module.
    return ImageExtractor(default_engine())


def _latin_page(lines: list[str], size: int = 40) -> Image.Image:
    font = ImageFont.truetype(LATIN_FONT, size)
    page = Image.new("L", (1000, 80 + len(lines) * size * 2), 255)
    pen = ImageDraw.Draw(page)
    for row, line in enumerate(lines):
        pen.text((40, 40 + row * size * 2), line, font=font, fill=0)
    page.info["dpi"] = (300, 300)
    return page


def _palette_tiff(indices: Image.Image, colormap: list[int]) -> bytes:
    """An uncompressed 8-bit palette TIFF written tag by tag, ColorMap values as given."""
    width, height = indices.size
    data = indices.tobytes()
    tags = [(256, width), (257, height), (258, 8), (259, 1), (262, 3), (273, None), (277, 1),
            (278, height), (279, len(data)), (320, None)]
    ifd = 8
    colormap_at = ifd + 2 + 12 * len(tags) + 4
    data_at = colormap_at + 2 * len(colormap)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd) + struct.pack("<H", len(tags)))
    for tag, value in tags:
        if tag == 273:
            out += struct.pack("<HHII", tag, 4, 1, data_at)
        elif tag == 279:
            out += struct.pack("<HHII", tag, 4, 1, value)
        elif tag == 320:
            out += struct.pack("<HHII", tag, 3, len(colormap), colormap_at)
        else:
            out += struct.pack("<HHIHH", tag, 3, 1, value, 0)
    out += struct.pack("<I", 0) + struct.pack(f"<{len(colormap)}H", *colormap) + data
    return bytes(out)


def test_palette_tiff_with_8bit_colour_map_keeps_its_typed_page(extractor: ImageExtractor, tmp_path: Path) -> None:
    """GIVEN a palette TIFF whose ColorMap holds 8-bit values (0-255) in its 16-bit fields
    WHEN it is extracted
    THEN the page is not decoded all black: its typed words are read, as libtiff would show them.
    """
    page = _latin_page(["Complaint received"], size=48).point(lambda v: 1 if v > 128 else 0)
    ramp = [0, 255] + [0] * 254                  # index 0 black, 1 white, in 8-bit values
    path = tmp_path / "palette.tif"
    path.write_bytes(_palette_tiff(page, ramp * 3))
    with Image.open(path) as pillow:             # what Pillow alone makes of it
        assert pillow.convert("L").getextrema() == (0, 0)
    extraction = extractor.extract(path, "image/tiff", ExtractContext())
    assert "Complaint received" in extraction.text
    assert extraction.warnings == ()


def test_nonsense_read_confidently_is_flagged_for_review(extractor: ImageExtractor, tmp_path: Path) -> None:
    """GIVEN a picture that OCR reads confidently into letters that form no words
    WHEN it is extracted
    THEN the page is flagged for review although its confidence is above the threshold.
    """
    path = tmp_path / "photo.png"
    _latin_page(NONSENSE).save(path, dpi=(300, 300))
    context = ExtractContext()
    extraction = extractor.extract(path, "image/png", context)
    (page,) = extraction.page_info
    assert page.confidence is not None and page.confidence >= context.low_confidence
    assert "page 1: OCR text does not read as language; flagged for review" in extraction.warnings


def test_scanned_pdf_page_of_nonsense_is_flagged_too(tmp_path: Path) -> None:
    """GIVEN a PDF whose only page is a scan of text that forms no words
    WHEN it is extracted
    THEN the PDF extractor flags that page the same way as the image extractor.
    """
    scan = io.BytesIO()
    _latin_page(NONSENSE).save(scan, format="PNG")
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(500, 200))
    pdf.drawImage(ImageReader(io.BytesIO(scan.getvalue())), 0, 0, width=500, height=200)
    pdf.save()
    extraction = PdfExtractor(default_engine()).extract(path, "application/pdf", ExtractContext())
    assert extraction.page_info[0].ocr
    assert "page 1: OCR text does not read as language; flagged for review" in extraction.warnings


def test_clean_pages_read_as_language() -> None:
    """GIVEN the OCR text of clean English, German, Simplified and Traditional pages, a Chinese
    form with boxes and fill-in lines, and a screenshot of a menu (one label a line)
    WHEN judged
    THEN every one reads as language (no false alarms on real scans).
    """
    pages = [
        "To the Complaints Officer,\nMy name is Daniel Wright and I live at 14 Riverside Court, Flat 3B.",
        "Sehr geehrter Kunde,\nSie haben sich in unserem Shop fir ein Arzneimittel mit einem Nasenschleimhaut "
        "abschwellenden Wirkstoff entschieden.",
        "尊敬的市信访局领导：\n我叫李建华，家住本市海淀区清河街道安宁里小区三号楼二单元502室。",
        "敬啟者：\n本人陳美玲，居住於臺北市大安區和平東路二段一百號四樓，茲因本社區管理委員會長期漠視住戶權益。",
        "11748038301\n7.6.28017 9:27 gesendet mit minifax.de\nTestdokument",
        "信访事项登记表\n姓名：王小明    性别：男    年龄：45\n是否首次信访：□是  ■否\n"
        "反映问题：小区物业公司长期不履行维修义务。\n________________________\n登记人：李华    日期：2024年3月18日",
        "art\n041.0\n\nAllItems\n\nSections\n\nArt\n\nCrate Items\nRe-exports\n\nModules\n\nCrates\nart\n\n"
        "Type 'S or to search, ? for more options",
        "",
    ]
    assert all(looks_like_language(text) for text in pages)


@pytest.mark.parametrize("text", [
    "potatopeeoeerengeogoeoona",
    "0ooolelellelcollllcole olol coo oloooooooo oolocl 1oucoo\nOo|1ooloooooovooooc| vcooooololo cl",
    "丨丨~_丨 彡冫 丶丿 乛 亅 ||~ 丨丶 彡丿 亠",
    # a photograph of a circuit board, as chi_sim+eng read it: fragments, one per line
    "DDODOO OHO COLO OOH OHO COL CE\n\nm\n人\nx\n8\nve\n‘eno\nret\nrc\nPat\nfall\nie lc,\nPas\nPar\nrs"
    "\nPt\n上|\n7 Is\nPEH\nres |\nPeas |\nva\nPa\ned\nppe\npon\nposs\npos\nvs |\nop\n\nPLOVGHOGOOGOOCOCOOCOE",
    # the same photograph as chi_tra read it: Han standing alone between symbols and line breaks
    "上噴\n全\n2\n\neggggggid22i22\n証有投生HHI\n\n99@@99999999@999999 人人9侈6\n吧人@人9@@e@人@@人人ooooeodoeoooo"
    "\n\n上\n\n【呈\n了\n【\n和\n\nes\n\nsd\n\n還\n\n〔縛\n了\n戰\n\n_kEienSgg0ga1ggg",
])
def test_texture_read_as_letters_is_not_language(text: str) -> None:
    """GIVEN what OCR makes of texture (long vowel runs, repeated letters, rare strokes and symbols)
    WHEN judged
    THEN it does not read as language.
    """
    assert not language_likeness(text).readable


def test_stray_han_is_dropped_from_a_page_judged_english() -> None:
    """GIVEN an English page with two isolated Han characters read from empty boxes
    WHEN tidied
    THEN they are gone and the English words are intact.
    """
    text = "I am writing to complain 上 about the leak in my flat.\n上 The office never replied to my letters."
    assert drop_stray_han(text) == (
        "I am writing to complain about the leak in my flat.\nThe office never replied to my letters."
    )


def test_pages_with_real_chinese_keep_their_han() -> None:
    """GIVEN English with a real Chinese phrase, and a Chinese page with a few Han characters
    WHEN tidied
    THEN nothing is dropped: a run of Han is Chinese, however short.
    """
    mixed = "Please find attached the decision of the 投诉处理 office about the leak in my flat."
    chinese = "投诉人：李建华 2024年3月18日"
    assert drop_stray_han(mixed) == mixed
    assert drop_stray_han(chinese) == chinese


def test_horizontal_chinese_on_a_character_grid_is_not_taken_for_columns(
        noto: Callable[[str], tuple[str, int]]) -> None:
    """GIVEN a horizontal Chinese page whose characters line up in a grid, as monospaced CJK does
    WHEN its layout is judged
    THEN it is not vertical: its lines are further apart than its characters.
    """
    font_path, index = noto("SC")
    font = ImageFont.truetype(font_path, 48, index=index)
    page = Image.new("L", (800, 700), 255)
    pen = ImageDraw.Draw(page)
    for row, line in enumerate(GAZETTE):
        for column, char in enumerate(line[:10]):
            pen.text((60 + column * 56, 60 + row * 80), char, font=font, fill=0)
    assert vertical_columns(page) is None


def test_vertical_columns_are_read_in_order(extractor: ImageExtractor, noto: Callable[[str], tuple[str, int]],
                                            tmp_path: Path) -> None:
    """GIVEN a notice set in vertical columns, right to left, as in an official gazette
    WHEN it is extracted
    THEN each column comes out as one line in reading order, so a phrase is searchable.
    """
    font_path, index = noto("SC")
    size = 48
    font = ImageFont.truetype(font_path, size, index=index)
    width, height = 160 + len(GAZETTE) * size * 2, 160 + max(map(len, GAZETTE)) * round(size * 1.15)
    page = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(page)
    for column, line in enumerate(GAZETTE):
        for row, char in enumerate(line):
            pen.text((width - 80 - size - column * size * 2, 80 + row * round(size * 1.15)), char, font=font, fill=0)
    path = tmp_path / "gazette.png"
    page.save(path, dpi=(300, 300))
    extraction = extractor.extract(path, "image/png", ExtractContext())
    assert "投诉处理" in extraction.text
    assert extraction.text.index("关于投诉") < extraction.text.index("信访局") < extraction.text.index("执行")


# 22 petitioners as a signature page or a list of complainants is OCR'd: one name a line, or
# several names a line that OCR's tidying joins into one run of Han.
PETITIONERS = ("王喆 李娜 张伟 刘洋 陈静 杨帆 黄磊 赵敏 吴昊 周婷 徐鹏 孙悦 马骏 朱琳 胡斌 郭蕾 何璐 高翔 林晖 罗琦 "
               "郑瑶 梁珂").split()


@pytest.mark.parametrize("text", [
    pytest.param("\n".join(PETITIONERS), id="one-name-a-line"),
    pytest.param("联名信签名页\n" + "\n".join(f"{n}. {name}" for n, name in enumerate(PETITIONERS, 1)),
                 id="numbered"),
    pytest.param("\n".join("".join(PETITIONERS[row:row + 4]) for row in range(0, len(PETITIONERS), 4)),
                 id="four-names-a-line-joined"),
    pytest.param("簽名：\n歐陽喆 諸葛璐 司馬珂\n陳曦 劉熠 黃瑾\n張琰 鄭翊 蕭珺", id="traditional-and-compound-surnames"),
])
def test_a_list_of_names_reads_as_language(text: str) -> None:
    """GIVEN the OCR text of a list of petitioners' names (a joint letter's signature page), whose
    characters are mostly not frequent ones
    WHEN judged
    THEN it reads as language: names are not flagged as a failed reading.
    """
    assert language_likeness(text).readable


@pytest.mark.parametrize("text", [
    # Han read from a texture that happens to hold a surname or two is still not a list of names.
    "丨丨~_丨 彡冫 丶丿 乛 亅 ||~ 王丨 彡丿 亠\n|| 丁丶 ~ 丨",
    "上噴\n王人\n~|\n全\n証有投生HHI\n|丁了\n【呈\n了\n還\n〔縛\n戰",
])
def test_texture_with_a_stray_surname_is_still_not_language(text: str) -> None:
    """GIVEN texture read as strokes and symbols among which a surname and a character stand
    WHEN judged
    THEN it still does not read as language.
    """
    assert not language_likeness(text).readable


@pytest.mark.parametrize("text", [
    "Complainant name: 王 Wang Xiaoming, flat 3B, 14 Riverside Court, Haidian District.",
    "The character 信 means letter; we received yours about the leak in the flat.",
])
def test_a_real_isolated_character_in_english_is_kept(text: str) -> None:
    """GIVEN an English page that quotes one real Chinese character (a surname, a word explained)
    WHEN tidied
    THEN the character is kept: only what OCR reads from specks and empty boxes is dropped.
    """
    assert drop_stray_han(text) == text
