"""Language labels from character counts: zh-Hans, zh-Hant, ja, ko, en."""

from __future__ import annotations

import pytest

from ingest.language import count_scripts, detect_languages, join_cjk

SIMPLIFIED = "我要投诉本小区物业公司长期不处理漏水问题，给我们的生活造成了严重影响，请求依法处理。"
TRADITIONAL = "我要投訴本社區物業公司長期不處理漏水問題，給我們的生活造成了嚴重影響，請求依法處理。"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(SIMPLIFIED, ("zh-Hans",), id="simplified"),
    pytest.param(TRADITIONAL, ("zh-Hant",), id="traditional"),
    pytest.param("尊敬的领导，你好。", ("zh",), id="too-few-telling-characters"),
    pytest.param("Dear Sir or Madam, I am writing to complain about the leak.", ("en",), id="english"),
    pytest.param("日本語のテキストです。漢字とかなを含む文章。", ("ja",), id="japanese-with-kanji"),
    pytest.param("한국어 민원 내용입니다. 빠른 처리를 부탁드립니다.", ("ko",), id="korean"),
    pytest.param("", (), id="empty"),
])
def test_languages_follow_the_scripts(text: str, expected: tuple[str, ...]) -> None:
    """A document is labelled by the scripts it is written in, Simplified and Traditional apart."""
    assert detect_languages(text) == expected


def test_mixed_text_lists_the_dominant_language_first() -> None:
    """A Chinese letter quoting an English paragraph is Chinese first, English second."""
    text = SIMPLIFIED * 3 + " The management company ignored our requests for six months."
    assert detect_languages(text) == ("zh-Hans", "en")


def test_a_few_latin_letters_in_chinese_are_not_english() -> None:
    """Model numbers and e-mail addresses in a Chinese letter do not make it English."""
    assert detect_languages(SIMPLIFIED * 2 + " 联系邮箱 li@example.cn") == ("zh-Hans",)


def test_undecodable_characters_are_counted_as_garbage() -> None:
    """Private-use and replacement characters (CJK fonts without a Unicode map) are garbage."""
    counts = count_scripts("\ue000\ue001\ufffd\x01abc")
    assert (counts.garbage, counts.latin, counts.han) == (4, 3, 0)


def test_spaces_between_chinese_characters_are_removed() -> None:
    """Letter-spaced Chinese from OCR or PDFs becomes searchable words; English keeps its spaces."""
    assert join_cjk("全 世 界 无产者 ， 联合 起来 A b") == "全世界无产者，联合起来 A b"
