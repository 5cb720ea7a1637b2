"""Text analysis: what the index and the queries agree on."""

from __future__ import annotations

import pytest

from search.analysis import index_tokens, normalize, normalize_keyword, normalize_with_offsets, query_tokens, stem


@pytest.mark.parametrize(("raw", "expected"), [
    ("投訴", "投诉"),                 # Traditional → Simplified
    ("ＡＢＣ１２３", "abc123"),        # full-width → half-width, lower case
    ("Café Résumé", "cafe resume"),   # accents folded
    ("臺灣", "台湾"),
])
def test_normalize_folds_script_width_case_and_accents(raw: str, expected: str) -> None:
    """Both sides of a search see the same characters, whatever form was typed."""
    assert normalize(raw) == expected


def test_chinese_runs_become_overlapping_bigrams_with_the_last_character_in_the_tail() -> None:
    """投诉人 is indexed as 投诉 诉人, and 人 is findable on its own through the tail."""
    assert index_tokens("投诉人") == ("投诉 诉人", "人")


def test_a_lone_chinese_character_is_its_own_token() -> None:
    """Between Latin letters a single character is a unigram (A市 → a 市)."""
    assert index_tokens("A市")[0] == "a 市"


def test_stop_words_go_except_beside_chinese() -> None:
    """'a' is dropped from English prose but kept as the name in A市."""
    assert index_tokens("a loan")[0] == "loan"
    assert index_tokens("在A市")[0] == "在 a 市"


@pytest.mark.parametrize(("word", "expected"), [
    ("loans", "loan"), ("inquiries", "inquiry"), ("getting", "getting"), ("status", "status"),
    ("class", "class"), ("goes", "goes"), ("the", ""),
])
def test_stem_removes_plural_endings_only(word: str, expected: str) -> None:
    """The minimal English stemmer conflates plurals and leaves other forms alone."""
    assert stem(word) == expected


def test_query_term_marks_a_lone_final_character_as_prefix() -> None:
    """In A市 the 市 may begin a longer run in a document (A市西湖), so it matches as a prefix."""
    terms = query_tokens("A市")
    assert terms.tokens == ("a", "市") and terms.prefix_last and not terms.single_char


def test_single_character_query_is_flagged() -> None:
    """A one-character query is matched specially (prefix or tail)."""
    assert query_tokens("诉").single_char


def test_offsets_map_normalised_text_back_to_the_original() -> None:
    """An expanding character (the ligature ﬁ) keeps later offsets pointing at the original."""
    norm, offsets = normalize_with_offsets("ﬁle 投訴")
    assert norm == "file 投诉"
    assert offsets is not None and offsets[norm.index("投")] == 4


def test_keyword_values_compare_after_normalisation() -> None:
    """Filter values ignore width, script, case and repeated spaces."""
    assert normalize_keyword("  某某律師  事務所 ") == normalize_keyword("某某律师 事务所")
