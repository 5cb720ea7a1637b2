"""Scans and faxes: multi-page G3/G4 TIFF, fax resolutions, OCR page info, bombs, damage."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.errors import CorruptDocumentError, TooLargeError
from ingest.extractors.image import ImageExtractor, square_pixels
from ingest.model import ExtractContext, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
SIMPLIFIED = ["尊敬的领导：我叫王小明，住在北京市朝阳区。", "我要投诉本小区物业公司长期不处理漏水问题，",
              "给我们的生活造成了严重影响，请求依法处理。"]
TRADITIONAL = ["敬啟者：本人陳美玲，居住於臺北市大安區。", "社區管理委員會長期不處理停車場積水問題，",
               "懇請貴處派員實地勘查，督促管理委員會修繕。"]
NO_OCR = ExtractContext(ocr_enabled=False)

Render = Callable[..., Image.Image]


@pytest.fixture(scope="module")
def extractor() -> ImageExtractor:
    # One extractor (and OCR engine) for the module: loading the Chinese models is slow.
    return ImageExtractor()


@pytest.fixture(scope="module")
def render(noto: Callable[[str], tuple[str, int]]) -> Render:
    """Draws lines of text as a 1-bit fax page at (xdpi, ydpi), 10 pt Noto CJK."""

    def draw(lines: list[str], face: str = "SC", dpi: tuple[int, int] = (204, 196)) -> Image.Image:
        path, index = noto(face)
        size = round(10 * 300 / 72)
        page = Image.new("L", (1500, 140 + len(lines) * size * 2), 255)
        pen = ImageDraw.Draw(page)
        for row, line in enumerate(lines):
            pen.text((80, 70 + row * size * 2), line, font=ImageFont.truetype(path, size, index=index), fill=0)
        # Drawn at 300 dpi, then sampled down to the fax's (possibly non-square) grid.
        fax = page.resize((round(page.width * dpi[0] / 300), round(page.height * dpi[1] / 300)), Image.Resampling.BOX)
        fax = fax.point(lambda v: 255 if v > 150 else 0).convert("1")
        fax.info["dpi"] = dpi
        return fax

    return draw




def _tiff(path: Path, pages: list[Image.Image], compression: str = "group4", **options: object) -> Path:
    pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:], compression=compression,
                  dpi=pages[0].info["dpi"], **options)
    return path


def test_fax_page_is_ocrd_with_page_info(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """A faxed Simplified letter yields its text, the OCR language and confidence per page."""
    extraction = extractor.extract(_tiff(tmp_path / "fax.tif", [render(SIMPLIFIED)]), "image/tiff", ExtractContext())
    assert "投诉本小区物业公司" in extraction.text
    assert extraction.languages == ("zh-Hans",)
    (page,) = extraction.page_info
    assert page.ocr and page.number == 1 and page.language == "chi_sim"
    assert page.confidence is not None and page.confidence > 60
    assert extraction.warnings == ()


def test_traditional_fax_is_labelled_zh_hant(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """A Traditional fax is read with chi_tra and labelled zh-Hant."""
    path = _tiff(tmp_path / "fax.tif", [render(TRADITIONAL, face="TC")])
    extraction = extractor.extract(path, "image/tiff", ExtractContext())
    assert "管理委員會" in extraction.text
    assert extraction.languages == ("zh-Hant",)
    assert extraction.page_info[0].language == "chi_tra"


def test_normal_mode_fax_is_read_with_square_pixels(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """A 204x98 dpi G3 fax (lines twice as tall as wide) is stretched upright before OCR."""
    fax = render(SIMPLIFIED, dpi=(204, 98))
    squared = square_pixels(fax)
    assert squared.height == round(fax.height * 204 / 98) and squared.info["dpi"] == (204, 204)
    extraction = extractor.extract(_tiff(tmp_path / "fax.tif", [fax], "group3"), "image/tiff", ExtractContext())
    assert "物业公司" in extraction.text
    assert extraction.metadata["dpi"] == "204x98" and extraction.metadata["compression"] == "CCITT G3"


def test_every_page_of_a_multipage_g4_fax_is_read(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """All frames of a multi-page G4 TIFF become pages, numbered from 1, with fax metadata."""
    pages = [render(SIMPLIFIED[i:i + 1]) for i in range(3)]
    extraction = extractor.extract(_tiff(tmp_path / "fax.tif", pages), "image/tiff", NO_OCR)
    assert extraction.pages == 3
    assert [p.number for p in extraction.page_info] == [1, 2, 3]
    assert extraction.metadata["compression"] == "CCITT G4"
    assert extraction.metadata["dpi"] == "204x196"


def test_page_limit_keeps_the_first_pages_with_a_warning(extractor: ImageExtractor, render: Render,
                                                         tmp_path: Path) -> None:
    """A fax longer than limits.max_pages is read up to the limit and flagged, not rejected."""
    path = _tiff(tmp_path / "fax.tif", [render(SIMPLIFIED[:1])] * 3)
    extraction = extractor.extract(path, "image/tiff", ExtractContext(ocr_enabled=False, limits=Limits(max_pages=2)))
    assert extraction.pages == 2
    assert extraction.warnings == ("only the first 2 pages were read (page limit)",)


def test_fax_tags_become_metadata(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """Sender id, device and time written by fax software are kept as metadata."""
    tags = {270: "FAX 010-12345678", 271: "Brother", 305: "HylaFAX 7.0", 306: "2024:03:18 10:15:00"}
    path = _tiff(tmp_path / "fax.tif", [render(SIMPLIFIED[:1])], tiffinfo=tags)
    metadata = extractor.extract(path, "image/tiff", NO_OCR).metadata
    assert metadata["description"] == "FAX 010-12345678"
    assert (metadata["make"], metadata["software"]) == ("Brother", "HylaFAX 7.0")
    assert metadata["date"] == "2024-03-18T10:15:00"


def test_low_confidence_page_is_flagged_for_review(extractor: ImageExtractor, render: Render, tmp_path: Path) -> None:
    """A page read below context.low_confidence gets a warning naming the page."""
    path = _tiff(tmp_path / "fax.tif", [render(SIMPLIFIED)])
    extraction = extractor.extract(path, "image/tiff", ExtractContext(low_confidence=99.9))
    confidence = extraction.page_info[0].confidence
    assert extraction.warnings == (f"page 1: low OCR confidence {confidence:.0f}",)


def test_blank_fax_is_flagged_as_having_no_text(extractor: ImageExtractor, tmp_path: Path) -> None:
    """An empty fax page is kept but flagged: someone should look at what was sent."""
    blank = Image.new("1", (1728, 1100), 1)
    blank.info["dpi"] = (204, 98)
    extraction = extractor.extract(_tiff(tmp_path / "blank.tif", [blank], "group3"), "image/tiff", ExtractContext())
    assert extraction.text == ""
    assert extraction.warnings == ("no text recognised",)


def test_image_over_the_pixel_limit_is_too_large(extractor: ImageExtractor, tmp_path: Path) -> None:
    """limits.max_image_pixels is checked from the header, before anything is decoded."""
    path = tmp_path / "big.png"
    Image.new("1", (400, 300), 1).save(path)
    with pytest.raises(TooLargeError, match="120000 pixels"):
        extractor.extract(path, "image/png", ExtractContext(limits=Limits(max_image_pixels=100_000)))


@pytest.mark.parametrize("side", [10_000, 100_000], ids=["pillow-warns", "pillow-refuses"])
def test_decompression_bomb_is_too_large(extractor: ImageExtractor, tmp_path: Path, side: int) -> None:
    """A tiny PNG claiming a huge canvas is refused as too large, and Pillow's warning never escapes."""
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(side, side))
    with pytest.raises(TooLargeError):
        extractor.extract(path, "image/png", ExtractContext(limits=Limits(max_image_pixels=50_000_000)))


def test_broken_image_is_corrupt(extractor: ImageExtractor, tmp_path: Path) -> None:
    """Bytes that are not an image give a corrupt outcome with a reason."""
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(CorruptDocumentError, match=r"^corrupt: "):
        extractor.extract(path, "image/png", NO_OCR)


def test_truncated_image_is_read_in_part_with_a_warning(extractor: ImageExtractor, render: Render,
                                                        tmp_path: Path) -> None:
    """A fax cut off in transmission keeps what arrived, flagged as damaged."""
    path = tmp_path / "cut.png"
    render(SIMPLIFIED).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    extraction = extractor.extract(path, "image/png", NO_OCR)
    assert extraction.pages == 1
    assert extraction.warnings[0].startswith("page 1: image damaged or truncated")


def test_damaged_later_page_keeps_the_pages_before_it(extractor: ImageExtractor, render: Render,
                                                      tmp_path: Path) -> None:
    """When page 3 of a TIFF is damaged, pages 1-2 are kept and the damage is reported."""
    path = _tiff(tmp_path / "fax.tif", [render(SIMPLIFIED[:1])] * 3, "tiff_lzw")
    data = path.read_bytes()
    last = Image.open(path)
    last.seek(2)
    strip = last.tag_v2[273][0]  # StripOffsets of page 3: overwrite its pixels with junk
    last.close()
    path.write_bytes(data[:strip] + b"\xff" * 40 + data[strip + 40:])
    extraction = extractor.extract(path, "image/tiff", NO_OCR)
    assert extraction.pages == 2
    assert extraction.warnings[0].startswith("page 3: unreadable, later pages skipped")


@pytest.mark.parametrize("name", [
    row["file"] for row in map(json.loads, (CORPUS / "provenance.jsonl").read_text().splitlines())
    if row["group"] == "tiff"
])
def test_every_corpus_tiff_ends_in_pages_or_a_named_error(extractor: ImageExtractor, name: str) -> None:
    """Real faxes and scans, broken ones included, give pages or a recorded reason (no OCR here)."""
    try:
        extraction = extractor.extract(CORPUS / "tiff" / name, "image/tiff", NO_OCR)
    except (CorruptDocumentError, TooLargeError) as exc:
        assert exc.reason.startswith(("corrupt: ", "too large: "))
    else:
        assert extraction.pages and len(extraction.page_info) == extraction.pages


def test_real_g3_fax_is_read(extractor: ImageExtractor) -> None:
    """A real 1728-px G3 fax (minifax.de) is read, German and all."""
    extraction = extractor.extract(CORPUS / "tiff" / "twelvemonkeys__g3aoe.tif", "image/tiff", ExtractContext())
    assert "Testdokument" in extraction.text
    assert extraction.metadata["compression"] == "CCITT G3"


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
