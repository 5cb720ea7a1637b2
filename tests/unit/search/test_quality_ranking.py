"""Ranking features of issue #14 item 4: Chinese words beside bigrams, one English tokenizer,
plain-word (label) queries, and the cross-validation that chooses which features are on.

The scores these features earn are measured by benchmarks/search_quality.py --folds; these tests
pin the behaviour a user relies on: which documents match and in which order.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from records.access.model import AccessScope
from search import plan, segment
from search.analysis import index_tokens, query_tokens
from search.backends._es_common import document, search_body
from search.backends.fts5 import Fts5SearchIndex
from search.highlight import make_snippet
from search.model import IndexEntry, SearchQuery
from search.plan import LeafKind, TextLeaf, Tuning, plan_query
from search.query import Or

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import search_quality  # noqa: E402

KEY = bytes(range(32))
needs_segmenter = pytest.mark.skipif(not segment.available(), reason="rjieba is not installed")


def _entry(n: int, title: str, text: str, received: date = date(2026, 1, 5)) -> IndexEntry:
    return IndexEntry(
        document_id=f"doc-{n}", dossier_id=f"dos-{n}", archive_number=f"2601-{n:03}", item_number=f"2601-{n:03}-01",
        title=title, text=text, kind="complaint_letter", channel="letter", state="registered",
        received_on=received, filed_at=datetime(received.year, received.month, received.day, tzinfo=timezone.utc),
    )


@pytest.fixture
def tuning() -> Any:
    """Restores the shipped tuning after a test changes it."""
    before = plan.TUNING
    yield
    plan.TUNING = before


@needs_segmenter
def test_a_long_chinese_term_matches_its_words_not_bigrams_straddling_two_words() -> None:
    """GIVEN a pasted subject line typed without spaces
    WHEN it is planned
    THEN its loose part is its words (each a phrase of bigrams), and no bigram across a word boundary."""
    leaf = plan_query("举报A市某村委的问题").text
    assert isinstance(leaf, TextLeaf) and leaf.kind is LeafKind.LOOSE
    assert ("村委",) in leaf.terms.words and ("问题",) in leaf.terms.words
    assert all("某村" not in w and "委的" not in w for w in leaf.terms.words)
    # The whole term still scores as a phrase (the exact-phrase boost).
    assert leaf.terms.tokens == query_tokens("举报A市某村委的问题").tokens


@needs_segmenter
def test_embedded_index_ranks_the_message_holding_the_words_above_accidental_character_pairs(tmp_path: Path) -> None:
    """GIVEN one message about the village committee's problems and one that only shares
    character pairs straddling those words
    WHEN the subject is searched
    THEN the first is found first, and the second is not a hit at all."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([
        _entry(1, "来信", "村委的领导多年不公开账目，这个问题请尽快处理。"),
        _entry(2, "来信", "城市某村民委员会门口的积水，群众意见很大。"),
    ])
    page = index.search(SearchQuery("某村委的问题"), AccessScope.everything())
    assert [h.document_id for h in page.hits] == ["doc-1"]


@needs_segmenter
def test_server_request_matches_each_word_as_a_phrase() -> None:
    """GIVEN a long Chinese term
    WHEN the OpenSearch/Elasticsearch request is built
    THEN each word is a phrase clause (summed over fields), beside the whole term as a phrase."""
    body = search_body(plan_query("某村委的问题"), SearchQuery("某村委的问题"), AccessScope.everything())
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    phrases = [c["multi_match"]["query"] for c in should if c["multi_match"].get("type") == "phrase"]
    assert "村委" in phrases and "问题" in phrases and "某村委的问题" in phrases
    assert all(c["multi_match"]["type"] == "phrase" for c in should)


def test_english_words_split_at_apostrophes_on_every_backend() -> None:
    """GIVEN "didn't" and "company's" in a letter and in a query
    WHEN the embedded index analyses them, and the servers are sent the letter and the query
    THEN both cut words at anything but a letter or digit, so "company's" finds "company"."""
    assert index_tokens("The company's agent didn't call")[0] == "company agent didn call"
    sent = document(_entry(1, "", "The company's agent didn't call (again)."))
    assert sent["body_latin"].split() == ["the", "company", "s", "agent", "didn", "t", "call", "again"]
    body = search_body(plan_query('"company\'s agent"'), SearchQuery("x"), AccessScope.everything())
    assert body["query"]["bool"]["must"][0]["multi_match"]["query"].split() == ["company", "s", "agent"]


def test_common_english_words_leave_a_label_query_but_stay_in_its_phrase(tuning: Any) -> None:
    """GIVEN the label query "Incorrect information on your report" with extra stop words and the phrase boost on
    WHEN it is planned
    THEN "your" is no longer a word of its own, while the phrase of all words keeps it (the index holds it)."""
    plan.TUNING = Tuning(query_stop_words=True, whole_query_phrase=1)
    text = plan_query("Incorrect information on your report").text
    assert isinstance(text, Or)
    words = [c.terms.tokens for c in text.children if isinstance(c, TextLeaf)]
    assert words[:3] == [("incorrect",), ("information",), ("report",)]
    assert words[3] == ("incorrect", "information", "your", "report")


def test_a_query_of_only_common_words_still_searches(tuning: Any) -> None:
    """GIVEN a query made only of common English words
    WHEN extra stop words are on
    THEN the words are kept rather than the query answering nothing."""
    plan.TUNING = Tuning(query_stop_words=True)
    text = plan_query("what about you").text
    assert isinstance(text, Or) and len(text.children) == 3


def test_the_phrase_boost_never_changes_which_documents_match(tmp_path: Path, tuning: Any) -> None:
    """GIVEN three letters, one holding the label as a phrase
    WHEN the label is searched with and without the phrase boost
    THEN the same documents match, and the boost puts the phrase holder first."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([
        _entry(1, "", "Getting money back took months; the bank kept the loan papers and never called."),
        _entry(2, "", "I was getting nowhere with the loan officer while getting the loan."),
        _entry(3, "", "Nothing about lending here."),
    ])
    results = {}
    for times in (0, 2):
        plan.TUNING = Tuning(whole_query_phrase=times)
        hits = index.search(SearchQuery("Getting the loan"), AccessScope.everything()).hits
        results[times] = [h.document_id for h in hits]
    assert set(results[0]) == set(results[2]) == {"doc-1", "doc-2"}
    assert results[2][0] == "doc-2"


def test_folds_are_deterministic_and_use_every_fold() -> None:
    """GIVEN a fixed dev query, and the dev queries
    WHEN they are split into folds
    THEN the query's fold is the one pinned here (a hash of its type and text), whatever its
    judgements or position; another type moves it; and every fold holds queries."""
    query = {"type": "zh_known_item", "query": "物业管理", "relevant_ids": ["doc-1"]}
    assert search_quality.fold_of(query, 5) == 3
    assert search_quality.fold_of({**query, "relevant_ids": ["doc-9", "doc-7"]}, 5) == 3
    assert search_quality.fold_of({**query, "relevant_ids": []}, 5) == 3
    assert search_quality.fold_of({**query, "type": "en_label"}, 5) == 2
    queries = search_quality.load_jsonl(search_quality.EVAL_DIR / "queries-dev.jsonl") \
        if (search_quality.EVAL_DIR / "queries-dev.jsonl").exists() else [
            {"type": "t", "query": f"q{i}"} for i in range(50)]
    folds = [search_quality.fold_of(q, 5) for q in queries]
    assert folds == [search_quality.fold_of(q, 5) for q in reversed(queries)][::-1]
    assert set(folds) == set(range(5))


class _OnlyWithSegmentation:
    """A system that finds the relevant document only when word segmentation is on."""

    label = "probe"

    def ranked(self, query: str, pool: frozenset[str] | None, depth: int) -> list[str]:
        return ["right", "wrong"] if plan.TUNING.segment_words else ["wrong", "right"]


def test_cross_validation_reports_held_out_scores_of_the_setting_chosen_on_the_other_folds() -> None:
    """GIVEN a system that is better with one setting
    WHEN it is cross-validated
    THEN every fold chooses that setting on the other folds and the held-out scores are its scores;
    the shipped tuning is restored afterwards."""
    before = plan.TUNING
    queries = [{"type": "zh_known_item", "query": f"q{i}", "relevant_ids": ["right"]} for i in range(20)]
    result = search_quality.cross_validate(_OnlyWithSegmentation(), queries, {}, 4)  # type: ignore[arg-type]
    assert all("segment=on" in name for name in result["chosen_per_fold"])
    assert result["types"]["all"]["mrr@10"] == 1.0
    assert plan.TUNING is before


@needs_segmenter
def test_a_term_that_is_one_word_still_finds_documents_holding_its_parts(tmp_path: Path) -> None:
    """GIVEN 物业管理 (one word to the segmenter) and a letter holding only 物业 … 管理 apart
    WHEN it is searched
    THEN the letter holding the whole word comes first and the other is still found."""
    leaf = plan_query("物业管理").text
    assert isinstance(leaf, TextLeaf) and leaf.terms.words == ()
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([_entry(1, "来信", "小区物业管理混乱。"), _entry(2, "来信", "物业公司的停车管理混乱。")])
    assert [h.document_id for h in index.search(SearchQuery("物业管理"), AccessScope.everything()).hits] == [
        "doc-1", "doc-2"]


def _words(query: str) -> list[tuple[str, ...]]:
    """The ranked words of a query's plan, in order."""
    text = plan_query(query).text
    leaves = text.children if isinstance(text, Or) else (text,)
    return [c.terms.tokens for c in leaves if isinstance(c, TextLeaf)]


def test_a_filter_or_an_exclusion_leaves_the_words_searched_unchanged(tmp_path: Path) -> None:
    """GIVEN a letter asking for a refund and one that only says "my"
    WHEN "my refund" is searched alone, with a kind filter and with an exclusion
    THEN each time the common word "my" is left out (a filter only narrows), so neither the
    filtered nor the excluding search finds the letter without "refund"."""
    assert _words("my refund") == _words("my refund kind:complaint_letter") == _words("my refund -closed") == [
        ("refund",)]
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([_entry(1, "", "Please send my refund."), _entry(2, "", "My neighbour plays loud music.")])
    for query in ("my refund", "my refund kind:complaint_letter", "my refund -closed"):
        hits = index.search(SearchQuery(query), AccessScope.everything()).hits
        assert [h.document_id for h in hits] == ["doc-1"], query


def test_common_words_are_recognised_as_typed_not_by_their_stem() -> None:
    """GIVEN common words whose stems are not common words ("his" stems to "hi", "has" to "ha")
    WHEN each is searched beside "refund"
    THEN it is left out like any other common word."""
    for word in ("his", "has", "its", "themselves", "does", "yours"):
        assert _words(f"{word} refund") == [("refund",)], word


def test_a_quoted_common_word_is_searched() -> None:
    """GIVEN a common word in quotes beside another word
    WHEN it is planned
    THEN the quoted word is kept: quotes ask for exactly that word."""
    assert _words('"why" refund') == [("why",), ("refund",)]
    assert _words("why refund") == [("refund",)]


def test_the_snippet_marks_only_the_words_searched() -> None:
    """GIVEN a letter with "my" twice and "refund" once
    WHEN "my refund" is highlighted
    THEN only "refund" is marked: "my" was left out of the search."""
    text = "I asked my bank for my refund."
    snippet = make_snippet(text, plan_query("my refund").leaves)
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["refund"]


@needs_segmenter
def test_the_snippet_of_a_long_chinese_term_marks_its_words_not_pairs_across_them() -> None:
    """GIVEN a letter holding 村委 and 问题, and 某村 and 委员 of other words
    WHEN the subject 某村委的问题 (matched by its words 村委 and 问题) is highlighted
    THEN only the words are marked, and the whole term where it stands."""
    text = "城市某村民委员会门口的积水。村委的领导说这个问题。"
    snippet = make_snippet(text, plan_query("某村委的问题").leaves)
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["村委", "问题"]
    whole = make_snippet("他说某村委的问题很多。", plan_query("某村委的问题").leaves)
    assert [whole.text[s:e] for s, e in whole.spans] == ["某村委的问题"]
