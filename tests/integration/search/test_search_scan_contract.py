"""Scannable results (#11 item 4) on every backend: hits titled by document, the matter kept for the dossier
heading, items without text after every item with text (so paging stays right), Chinese field names."""

from __future__ import annotations

import pytest

from records.access.model import AccessScope
from search.interfaces import SearchIndex
from search.model import SearchQuery, SortOrder
from tests.integration.search.test_search_contract import _entry, index  # noqa: F401  (the backend fixture)

EVERYTHING = AccessScope.everything()
MATTER = "律师收费过高投诉"

# Three items of one dossier: two with text, one nothing could be read from. The empty one matches on
# the matter alone, and BM25 favours its short fields: before #11 it came first.
LETTER = _entry("doc-11", "dos-011", title=MATTER, heading="投诉书.pdf",
                text="投诉人反映某律师事务所律师收费过高，" * 20, respondent="某律师事务所")
MAIL = _entry("doc-12", "dos-011", title=MATTER, heading="关于律师收费的补充材料", kind="email",
              text="补充材料：律师收费发票。", respondent="某律师事务所")
BLANK = _entry("doc-13", "dos-011", title=MATTER, heading="扫描件.tif", kind="evidence", text="",
               respondent="某律师事务所")
OTHER = _entry("doc-14", "dos-012", title="法律援助态度投诉", heading="来信.txt", text="法律援助人员态度差。",
               respondent="某法律援助中心")


@pytest.fixture
def scan(index: SearchIndex) -> SearchIndex:  # noqa: F811
    index.upsert([BLANK, LETTER, MAIL, OTHER])
    return index


def test_hits_carry_the_document_title_and_the_dossier_matter(scan: SearchIndex) -> None:
    """GIVEN three items of one dossier WHEN its matter is searched THEN each hit is titled by its own name and
    still knows the matter (the page's dossier heading)."""
    page = scan.search(SearchQuery("律师"), EVERYTHING)
    assert {h.title for h in page.hits} == {"投诉书.pdf", "关于律师收费的补充材料", "扫描件.tif"}
    assert {h.matter for h in page.hits} == {MATTER}


@pytest.mark.parametrize("words", ["律师", "律师收费", ""])
def test_an_item_without_text_ranks_after_every_item_with_text(scan: SearchIndex, words: str) -> None:
    """GIVEN an item without text WHEN searched by relevance (with words or without) THEN it comes last, on
    whichever page that is, and says it has no text."""
    query = (words + " respondent:某律师事务所").strip()
    page = scan.search(SearchQuery(query, sort=SortOrder.RELEVANCE), EVERYTHING)
    assert [h.document_id for h in page.hits][-1] == "doc-13"
    assert [h.has_text for h in page.hits] == [True, True, False]
    first = scan.search(SearchQuery(query, page=1, page_size=2), EVERYTHING)
    second = scan.search(SearchQuery(query, page=2, page_size=2), EVERYTHING)
    assert "doc-13" not in [h.document_id for h in first.hits] and [h.document_id for h in second.hits] == ["doc-13"]


def test_chinese_field_names_filter_like_the_english_ones(scan: SearchIndex) -> None:
    """被投诉人: is respondent:, and 类型:电子邮件 is kind:email, on every backend."""
    english = scan.search(SearchQuery("respondent:某律师事务所"), EVERYTHING)
    chinese = scan.search(SearchQuery("被投诉人:某律师事务所"), EVERYTHING)
    assert {h.document_id for h in chinese.hits} == {h.document_id for h in english.hits} == {"doc-11", "doc-12", "doc-13"}
    assert [h.document_id for h in scan.search(SearchQuery("类型:电子邮件"), EVERYTHING).hits] == ["doc-12"]
    assert scan.search(SearchQuery("被投诉人:某公证处"), EVERYTHING).total == 0
