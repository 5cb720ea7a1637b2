"""Text extraction: legacy encodings (GB18030, Big5, Shift_JIS, EUC-KR, UTF-16), HTML, limits."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import json
from pathlib import Path

import pytest

from ingest.errors import TooLargeError
from ingest.extractors.text import TextExtractor
from ingest.model import ExtractContext, Extraction, Limits

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
SIMPLIFIED = "投诉人王喆反映：小区物业长期不处理漏水问题，镕字也要正确显示。请尽快答复并告知处理结果。"
TRADITIONAL = "陳情人反映：社區管理委員會長期不處理漏水問題，請儘速答覆並告知處理結果。"


def _extract(tmp_path: Path, data: bytes, media_type: str = "text/plain",
             context: ExtractContext | None = None) -> Extraction:
    path = tmp_path / "input"
    path.write_bytes(data)
    return TextExtractor().extract(path, media_type, context or ExtractContext())


@pytest.mark.parametrize(("text", "codec", "expected"), [
    pytest.param(SIMPLIFIED, "gbk", "gb18030", id="gbk"),
    pytest.param(SIMPLIFIED, "gb18030", "gb18030", id="gb18030"),
    pytest.param(SIMPLIFIED, "utf-8", "utf-8", id="utf-8"),
    pytest.param(TRADITIONAL, "big5", "big5hkscs", id="big5"),
    pytest.param("日本語のテキストです。よろしくお願いいたします。本日は晴天なり。", "shift_jis", "cp932",
                 id="shift_jis"),
    pytest.param("한국어 민원 내용입니다. 빠른 처리를 부탁드립니다. 감사합니다.", "euc-kr", "cp949", id="euc-kr"),
    pytest.param(SIMPLIFIED, "utf-16-le", "utf-16-le", id="utf-16-le-without-bom"),
    pytest.param(SIMPLIFIED, "utf-16-be", "utf-16-be", id="utf-16-be-without-bom"),
])
def test_legacy_encodings_are_detected_and_recorded(tmp_path: Path, text: str, codec: str,
                                                   expected: str) -> None:
    """Unlabelled text in each common East Asian encoding decodes, and the encoding is recorded."""
    result = _extract(tmp_path, ((text + "\n") * 3).encode(codec))
    assert text in result.text
    assert result.metadata["encoding"] == expected


def test_gbk_detected_as_gb2312_is_decoded_as_gb18030(tmp_path: Path) -> None:
    """GB2312 answers are widened to GB18030, so GBK-only characters (镕, 喆) are not lost."""
    result = _extract(tmp_path, (SIMPLIFIED * 4).encode("gbk"))
    assert "镕" in result.text and "喆" in result.text
    assert "\ufffd" not in result.text


@pytest.mark.parametrize("bom_codec", ["utf-8-sig", "utf-16", "utf-32"])
def test_byte_order_marks_decide_the_encoding_and_are_dropped(tmp_path: Path, bom_codec: str) -> None:
    """A BOM is authoritative and never shows up in the text."""
    result = _extract(tmp_path, SIMPLIFIED.encode(bom_codec))
    assert result.text == SIMPLIFIED


def test_html_meta_charset_is_respected_and_markup_removed(tmp_path: Path) -> None:
    """<meta charset> names the encoding; scripts, styles and tags are dropped."""
    html = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            f"<title>投诉</title><script>var x = 1;</script><style>p {{}}</style></head>"
            f"<body><p>{SIMPLIFIED}</p><table><tr><td>编号</td><td>12345</td></tr></table></body></html>")
    result = _extract(tmp_path, html.encode("gbk"), "text/html")
    assert SIMPLIFIED in result.text
    assert "编号\t12345" in result.text
    assert "var x" not in result.text and "<p>" not in result.text
    assert result.metadata["declared_encoding"].lower() == "gb2312"
    assert result.metadata["encoding"] == "gb18030"


def test_xml_declaration_encoding_is_respected(tmp_path: Path) -> None:
    """An XML declaration's encoding is used and element text is kept."""
    xml = f'<?xml version="1.0" encoding="big5"?><rss><item><title>{TRADITIONAL}</title></item></rss>'
    result = _extract(tmp_path, xml.encode("big5"), "text/xml")
    assert TRADITIONAL in result.text
    assert "<title>" not in result.text


def test_utf8_under_a_wrong_label_is_read_as_utf8_without_fuss(tmp_path: Path) -> None:
    """Valid non-ASCII UTF-8 is UTF-8 whatever <meta> says; that certainty needs no review."""
    html = f'<html><head><meta charset="shift_jis"></head><body><p>{SIMPLIFIED * 3}</p></body></html>'
    result = _extract(tmp_path, html.encode("utf-8"), "text/html")
    assert SIMPLIFIED in result.text
    assert result.metadata["encoding"] == "utf-8"


def test_big5_under_a_gb2312_label_is_overruled_and_flagged(tmp_path: Path) -> None:
    """GB18030 decodes Big5 bytes 'cleanly' into nonsense; detection overrules the label."""
    html = f'<html><head><meta charset="gb2312"></head><body><p>{TRADITIONAL * 3}</p></body></html>'
    result = _extract(tmp_path, html.encode("big5"), "text/html")
    assert TRADITIONAL in result.text
    assert result.metadata["encoding"] == "big5hkscs"
    assert any("gb2312" in warning for warning in result.warnings)


def test_undecodable_bytes_become_replacement_characters_and_a_warning(tmp_path: Path) -> None:
    """Bytes no detector can place still give text, with the loss flagged for review."""
    result = _extract(tmp_path, b"\x81\xff\xfe\x80\x00\x81" * 3 + b"ascii tail")
    assert "ascii tail" in result.text
    assert result.warnings


def test_low_confidence_guess_is_flagged(tmp_path: Path) -> None:
    """A guess on a few ambiguous bytes is marked as such."""
    result = _extract(tmp_path, "Café crème".encode("latin-1"))
    assert "Caf" in result.text
    assert any("low confidence" in warning for warning in result.warnings)


def test_crlf_line_ends_become_newlines(tmp_path: Path) -> None:
    """Windows line ends are normalised."""
    assert _extract(tmp_path, "第一行\r\n第二行\r\n".encode("gbk") * 5).text.startswith("第一行\n第二行\n")


def test_file_over_max_file_bytes_is_too_large(tmp_path: Path) -> None:
    """The size limit is checked before the file is read."""
    with pytest.raises(TooLargeError):
        _extract(tmp_path, b"x" * 1000, context=ExtractContext(limits=Limits(max_file_bytes=100)))




def _corpus() -> list[Path]:
    rows = [json.loads(line) for line in (CORPUS / "provenance.jsonl").read_text().splitlines() if line]
    return sorted(CORPUS / row["shared_path"].removeprefix("corpus/")
                  for row in rows if row["group"].startswith("text"))


_MEDIA_TYPES = {".html": "text/html", ".xml": "text/xml"}
# Provenance names the encoding in each file name; these are the Han-script ones.
_HAN_ENCODINGS = ("Big5", "GB2312", "EUC-TW", "SHIFT_JIS")


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_every_corpus_text_decodes_to_its_script(path: Path, within: Callable[[int], AbstractContextManager[None]]) -> None:
    """Each real-world legacy-encoded text yields text; the Chinese/Japanese ones yield Han."""
    with within(30):
        result = TextExtractor().extract(path, _MEDIA_TYPES.get(path.suffix, "text/plain"), ExtractContext())
    assert result.text.strip()
    assert "\ufffd" not in result.text
    if any(f"__{name}_" in path.name for name in _HAN_ENCODINGS):
        assert sum("\u4e00" <= ch <= "\u9fff" for ch in result.text) > 50
    if "KOI8-R" in path.name:
        assert sum("\u0400" <= ch <= "\u04ff" for ch in result.text) > 100
