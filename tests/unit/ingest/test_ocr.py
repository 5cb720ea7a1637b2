"""OCR with Tesseract: Simplified/Traditional routing, English, orientation, language data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.model import ExtractContext
from ingest.ocr import OcrText, TesseractOcrEngine, find_tessdata, read_page
from records.errors import ConfigurationError

LANGUAGES = ("chi_sim", "chi_tra", "eng")
SIMPLIFIED = ["尊敬的领导：我叫王小明，住在北京市朝阳区。", "我要投诉本小区物业公司长期不处理漏水问题，",
              "给我们的生活造成了严重影响，请求依法处理。"]
TRADITIONAL = ["敬啟者：本人陳美玲，居住於臺北市大安區。", "社區管理委員會長期不處理停車場積水問題，",
               "懇請貴處派員實地勘查，督促管理委員會修繕。"]
ENGLISH = ["Dear Sir or Madam, I am writing to complain", "about the repeated water leaks in our building,",
           "which the management company has ignored."]

Render = Callable[..., Image.Image]


@pytest.fixture(scope="module")
def engine() -> TesseractOcrEngine:
    # One engine for the module: loading the Chinese models is the slow part of OCR.
    return TesseractOcrEngine()


@pytest.fixture(scope="module")
def render(noto: Callable[[str], tuple[str, int]]) -> Render:
    """Draws lines of text at 300 dpi with Noto CJK (fonts-noto-cjk), as a scanned letter."""

    def draw(lines: list[str], face: str = "SC", size: int = 40) -> Image.Image:
        path, index = noto(face)
        font = ImageFont.truetype(path, size, index=index)
        image = Image.new("L", (1500, 140 + len(lines) * size * 2), 255)
        pen = ImageDraw.Draw(image)
        for row, line in enumerate(lines):
            pen.text((80, 70 + row * size * 2), line, font=font, fill=0)
        image.info["dpi"] = (300, 300)
        return image

    return draw




def test_simplified_page_is_read_with_chi_sim(engine: TesseractOcrEngine, render: Render) -> None:
    """A Simplified Chinese letter is read in Simplified characters, confidently."""
    result = engine.recognise(render(SIMPLIFIED), LANGUAGES)
    assert result.language == "chi_sim"
    assert "投诉本小区物业公司" in result.text
    assert result.confidence > 80


def test_traditional_page_is_routed_to_chi_tra(engine: TesseractOcrEngine, render: Render) -> None:
    """A Traditional letter is not forced into Simplified characters: chi_tra wins on confidence."""
    result = engine.recognise(render(TRADITIONAL, face="TC"), LANGUAGES)
    assert result.language == "chi_tra"
    assert "管理委員會" in result.text


def test_english_page_is_read_with_eng(engine: TesseractOcrEngine, render: Render) -> None:
    """An English letter keeps its word spaces (the Chinese models run words together)."""
    result = engine.recognise(render(ENGLISH), LANGUAGES)
    assert result.language == "eng"
    assert "repeated water leaks in our building" in result.text


def test_sideways_scan_is_turned_upright(engine: TesseractOcrEngine, render: Render) -> None:
    """A page scanned sideways is read as if it had been fed the right way round."""
    result = engine.recognise(render(SIMPLIFIED * 4).rotate(90, expand=True), LANGUAGES)
    assert "投诉本小区物业公司" in result.text


def test_chinese_models_are_never_loaded_together(engine: TesseractOcrEngine, render: Render) -> None:
    """chi_sim and chi_tra are separate readings, never one "chi_sim+chi_tra" model."""
    result = engine.recognise(render(TRADITIONAL, face="TC"), ("chi_sim", "chi_tra"))
    assert result.language in ("chi_sim", "chi_tra")


def test_blank_page_has_no_text_and_no_confidence(engine: TesseractOcrEngine) -> None:
    """The blank back of a letter yields nothing, not a confident guess."""
    result = engine.recognise(Image.new("1", (1200, 1600), 1), LANGUAGES)
    assert result == OcrText("", 0.0, result.language)


def test_page_below_the_confidence_threshold_is_flagged(engine: TesseractOcrEngine, render: Render) -> None:
    """A page read less confidently than the context's threshold carries a review warning."""
    reading = read_page(engine, render(SIMPLIFIED), 2, ExtractContext(low_confidence=99.9))
    assert reading.info.ocr and reading.info.number == 2 and reading.info.language == "chi_sim"
    assert reading.warnings == (f"page 2: low OCR confidence {reading.info.confidence:.0f}",)


def test_missing_language_data_is_a_configuration_error(tmp_path: Path) -> None:
    """A server without the Traditional pack fails with the package to install, not mid-batch."""
    (tmp_path / "chi_sim.traineddata").write_bytes(b"")
    (tmp_path / "eng.traineddata").write_bytes(b"")
    with pytest.raises(ConfigurationError, match=r"chi_tra.*tesseract-ocr-chi-tra"):
        TesseractOcrEngine(tessdata=tmp_path).check(LANGUAGES)


def test_debian_language_data_is_found() -> None:
    """The tessdata directory of Debian's tesseract-ocr-* packages is found without settings."""
    assert {"chi_sim", "chi_tra", "eng"} <= {p.stem for p in find_tessdata().glob("*.traineddata")}
