"""The SearchIndex contract, run against every backend: the embedded FTS5 index and a real
OpenSearch node (tests/servers/opensearch.py); test_search_contract_elasticsearch.py runs the same
tests on a real Elasticsearch node (tests/servers/elasticsearch.py).

The same behaviour is expected from both: Chinese terms of one, two and four characters,
Traditional and Simplified, full- and half-width, phrases, mixed Chinese and English, operators,
field filters, sorting, pages, facets, highlighted snippets, permission scoping inside the query,
and the index lifecycle (upsert, delete, rebuild).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from records.access.model import AccessScope
from search.backends.elastic import OpenSearchIndex, connect_index
from search.backends.fts5 import Fts5SearchIndex
from search.errors import InvalidQueryError
from search.interfaces import SearchIndex
from search.model import IndexEntry, SearchPage, SearchQuery, SortOrder

EVERYTHING = AccessScope.everything()


def _entry(document_id: str, dossier_id: str, **fields: object) -> IndexEntry:
    received: date = fields.pop("received_on", date(2026, 1, 5))  # type: ignore[assignment]
    base: dict[str, object] = dict(
        document_id=document_id, dossier_id=dossier_id, archive_number=f"2601-{dossier_id[-3:]}",
        item_number=f"2601-{dossier_id[-3:]}-{document_id[-2:]}", title="", text="", kind="complaint_letter",
        channel="letter", state="registered", received_on=received,
        filed_at=datetime(received.year, received.month, received.day, 3, tzinfo=timezone.utc),
    )
    base.update(fields)
    return IndexEntry(**base)  # type: ignore[arg-type]


LEGAL_AID = _entry(
    "doc-01", "dos-001", title="关于法律援助中心服务态度的投訴",
    text="申请人张三反映，A市法律援助中心工作人员服务态度差，物业管理费问题亦未解决。",
    category="服务态度", respondent="A市法律援助中心", complainant="张三", department="法援处",
)
LAWYER = _entry(
    "doc-02", "dos-002", title="Complaint about a legal aid lawyer",
    text="The lawyer failed to appear at the hearing. Several complaints were filed about missed hearings <b>.",
    kind="email", channel="email", state="closed", category="律师执业", respondent="某某律师事务所",
    department="法援处", received_on=date(2025, 11, 20), closed_on=date(2026, 1, 10), language="en",
)
NOISE = _entry(
    "doc-03", "dos-003", title="噪音扰民", text="夜间施工噪音严重，物业和管理部门不作为。ＡＢＣ公司负责施工。",
    channel="phone", state="investigating", category="城乡建设", department="监督科", received_on=date(2026, 2, 14),
)
MINUTES = _entry(
    "doc-04", "dos-003", title="调查笔录", text="调查人员询问了律师事务所负责人。投诉事项属实，lawyer 未到场。",
    kind="investigation_minutes", channel="phone", state="investigating", category="城乡建设", department="监督科",
    received_on=date(2026, 2, 14),
)
ALL = [LEGAL_AID, LAWYER, NOISE, MINUTES]


@pytest.fixture(params=["fts5", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def index(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[SearchIndex]:
    """An empty index of each backend; the OpenSearch one under a fresh alias."""
    if request.param == "fts5":
        built: SearchIndex = Fts5SearchIndex(tmp_path / "search", key=os.urandom(32))  # type: ignore[operator]
    else:
        node = request.getfixturevalue("opensearch")
        built = connect_index(node.url, index_prefix=node.new_index_name("dossier"), flavour="opensearch")
    yield built
    if isinstance(built, OpenSearchIndex):
        built.drop()
    built.close()


@pytest.fixture
def filled(index: SearchIndex) -> SearchIndex:
    index.upsert(ALL)
    return index


def _search(index: SearchIndex, text: str, scope: AccessScope = EVERYTHING, **kw: object) -> SearchPage:
    return index.search(SearchQuery(text, **kw), scope)  # type: ignore[arg-type]


def _ids(page: SearchPage) -> list[str]:
    return [hit.document_id for hit in page.hits]


# ----------------------------------------------------------------------------- Chinese and mixed text
def test_two_character_chinese_term_matches(filled: SearchIndex) -> None:
    """A two-character word finds every document holding it, in title or text."""
    assert set(_ids(_search(filled, "投诉"))) == {"doc-01", "doc-04"}


def test_one_character_chinese_term_matches_anywhere_in_a_run(filled: SearchIndex) -> None:
    """A single character is found at the start, middle and end of a run of Chinese text."""
    assert _ids(_search(filled, "差")) == ["doc-01"]          # last character before "，"
    assert set(_ids(_search(filled, "诉"))) == {"doc-01", "doc-04"}
    assert set(_ids(_search(filled, "噪"))) == {"doc-03"}


def test_four_character_term_ranks_documents_holding_it_first(filled: SearchIndex) -> None:
    """物业管理 finds the document with the whole word first, then ones with its parts."""
    hits = _ids(_search(filled, "物业管理"))
    assert hits[0] == "doc-01"
    assert "doc-03" in hits and "doc-02" not in hits


def test_quoted_phrase_matches_only_the_exact_sequence(filled: SearchIndex) -> None:
    """A quoted phrase does not match its words apart (物业…管理)."""
    assert _ids(_search(filled, '"物业管理"')) == ["doc-01"]
    assert _ids(_search(filled, '"failed to appear"')) == ["doc-02"]


def test_traditional_and_simplified_find_each_other(filled: SearchIndex) -> None:
    """投訴 (Traditional) finds 投诉 (Simplified) and the other way round."""
    assert set(_ids(_search(filled, "投訴"))) == {"doc-01", "doc-04"}
    assert _ids(_search(filled, "法律援助中心服务态度")) == ["doc-01"]


def test_full_width_and_half_width_find_each_other(filled: SearchIndex) -> None:
    """ＡＢＣ in a document is found by ABC, and ＡＢＣ in a query finds it too."""
    assert _ids(_search(filled, "abc公司")) == ["doc-03"]
    assert _ids(_search(filled, "ＡＢＣ")) == ["doc-03"]


def test_english_words_ignore_case_and_plural(filled: SearchIndex) -> None:
    """HEARING finds 'hearing' and 'hearings'."""
    assert _ids(_search(filled, "HEARING")) == ["doc-02"]
    assert _ids(_search(filled, "complaint")) == ["doc-02"]


def test_mixed_chinese_and_english(filled: SearchIndex) -> None:
    """A query mixing scripts finds documents in either; A市 matches as a unit."""
    assert set(_ids(_search(filled, "lawyer 律师"))) == {"doc-02", "doc-04"}
    assert _ids(_search(filled, "A市")) == ["doc-01"]
    assert _ids(_search(filled, "lawyer 未到场"))[0] == "doc-04"


# ----------------------------------------------------------------------------- operators and filters
@pytest.mark.parametrize(("query", "expected"), [
    ("投诉 AND 调查", {"doc-04"}),
    ("噪音 OR hearing", {"doc-02", "doc-03"}),
    ("投诉 -律师", {"doc-01"}),
    ("投诉 NOT 律师", {"doc-01"}),
    ("(噪音 OR 投诉) AND 调查", {"doc-04"}),
    ("-投诉", {"doc-02", "doc-03"}),
])
def test_boolean_operators(filled: SearchIndex, query: str, expected: set[str]) -> None:
    """AND, OR, NOT, -term and parentheses combine as written."""
    assert set(_ids(_search(filled, query))) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("kind:email", {"doc-02"}),
    ("channel:phone", {"doc-03", "doc-04"}),
    ("state:closed", {"doc-02"}),
    ("category:城乡建设", {"doc-03", "doc-04"}),
    ("department:监督科", {"doc-03", "doc-04"}),
    ("respondent:某某律师事务所", {"doc-02"}),
    ('complainant:"张三"', {"doc-01"}),
    ("number:2601-003", {"doc-03", "doc-04"}),
    ("number:2601-001-01", {"doc-01"}),
    ("received:2026-02", {"doc-03", "doc-04"}),
    ("received:[2025-01-01 TO 2025-12-31]", {"doc-02"}),
    ("received>=2026-01-01", {"doc-01", "doc-03", "doc-04"}),
    ("closed<2026-02-01", {"doc-02"}),
    ("投诉 channel:phone", {"doc-04"}),
    ("kind:email OR kind:investigation_minutes", {"doc-02", "doc-04"}),
    ("-channel:phone", {"doc-01", "doc-02"}),
])
def test_field_filters(filled: SearchIndex, query: str, expected: set[str]) -> None:
    """Field filters select on catalogue facts, alone or with words."""
    assert set(_ids(_search(filled, query))) == expected


@pytest.mark.parametrize("query", ['"unclosed', "(投诉", "投诉)", "AND 投诉", "投诉 OR", "recieved:2026",
                                   "received:2026-13-01", "kind:letterx", "投诉 OR kind:email", "()"])
def test_malformed_query_is_reported_clearly(filled: SearchIndex, query: str) -> None:
    """A malformed query raises InvalidQueryError with a message for the person, never a crash."""
    with pytest.raises(InvalidQueryError) as caught:
        _search(filled, query)
    assert "invalid search query" in str(caught.value)


def test_stop_words_alone_find_nothing(filled: SearchIndex) -> None:
    """A query of stop words only returns an empty page, not everything."""
    page = _search(filled, "the of")
    assert (page.total, page.hits) == (0, ())


# ----------------------------------------------------------------------------- order, pages, facets, snippets
def test_sort_by_date_both_ways(filled: SearchIndex) -> None:
    """Date order sorts by receipt, ties broken stably."""
    newest = _ids(_search(filled, "", sort=SortOrder.DATE_DESC))
    oldest = _ids(_search(filled, "", sort=SortOrder.DATE_ASC))
    assert newest[0] in ("doc-03", "doc-04") and newest[-1] == "doc-02"
    assert oldest[0] == "doc-02" and oldest[-1] in ("doc-03", "doc-04")


def test_pages_past_the_result_window_are_refused_clearly(filled: SearchIndex) -> None:
    """A page beyond the first 10,000 hits (or an absurd page number) is an InvalidQueryError that
    says to narrow the search — the same on every backend, never an overflow or "unavailable"."""
    for page in (501, 10**18):
        with pytest.raises(InvalidQueryError, match="narrow"):
            _search(filled, "投诉", page=page)
    assert _search(filled, "投诉", page=500).hits == ()


def test_identical_texts_rank_by_date_then_number_on_every_page(index: SearchIndex) -> None:
    """GIVEN the same letter filed in five dossiers (equal scores), two of them received the same day,
    WHEN a handler searches a word of it, one hit per page,
    THEN the copies come newest first, same-day copies by item number — whatever the filing order,
    the same on every backend and across page boundaries (issue #14 item 4: deterministic ties)."""
    text = "申请人反映法律援助律师收费过高，要求退还费用。"
    days = {"dos-105": date(2026, 3, 2), "dos-101": date(2026, 3, 9), "dos-103": date(2026, 3, 9),
            "dos-102": date(2025, 12, 30), "dos-104": date(2026, 1, 15)}
    index.upsert([_entry(f"doc-{n[-2:]}", n, title="来信", text=text, received_on=d) for n, d in days.items()])
    index.refresh()
    expected = ["doc-01", "doc-03", "doc-05", "doc-04", "doc-02"]
    assert _ids(_search(index, "收费过高")) == expected
    assert [_ids(_search(index, "收费过高", page=p, page_size=1))[0] for p in range(1, 6)] == expected


def test_pages_partition_the_results(filled: SearchIndex) -> None:
    """Consecutive pages hold distinct hits and together all of them; the total is constant."""
    first = _search(filled, "", page=1, page_size=3, sort=SortOrder.DATE_DESC)
    second = _search(filled, "", page=2, page_size=3, sort=SortOrder.DATE_DESC)
    assert (first.total, second.total, first.pages) == (4, 4, 2)
    assert len(first.hits) == 3 and len(second.hits) == 1
    assert set(_ids(first)) | set(_ids(second)) == {e.document_id for e in ALL}


def test_facets_count_every_matching_document(filled: SearchIndex) -> None:
    """Facets count the whole result, not just the page."""
    page = _search(filled, "", page_size=1)
    assert page.facets["kind"] == {"complaint_letter": 2, "email": 1, "investigation_minutes": 1}
    assert page.facets["channel"] == {"phone": 2, "letter": 1, "email": 1}
    assert page.facets["year"] == {"2026": 3, "2025": 1}
    assert page.facets["state"] == {"investigating": 2, "registered": 1, "closed": 1}
    assert page.facets["category"] == {"城乡建设": 2, "服务态度": 1, "律师执业": 1}


def test_snippet_marks_the_matched_words(filled: SearchIndex) -> None:
    """The snippet shows the original text with matches marked, Traditional for Simplified."""
    hit = _search(filled, "律师 投诉").hits
    minutes = next(h for h in hit if h.document_id == "doc-04")
    assert "«律师»事务所" in minutes.snippet.marked()
    assert "«投诉»事项" in minutes.snippet.marked()
    legal = _search(filled, "差").hits[0]
    assert legal.title == "关于法律援助中心服务态度的投訴"
    assert "服务态度«差»，" in legal.snippet.marked()


def test_snippet_html_escapes_document_text(filled: SearchIndex) -> None:
    """Markup in a document never reaches the page unescaped."""
    hit = _search(filled, "hearings").hits[0]
    assert "&lt;b&gt;" in hit.snippet.html() and "<mark>hearings</mark>" in hit.snippet.html()


# ----------------------------------------------------------------------------- permission scoping
def test_scope_that_sees_nothing_reveals_nothing(filled: SearchIndex) -> None:
    """No hits, a zero total and empty facets for a caller who may see nothing."""
    page = _search(filled, "", AccessScope.nothing())
    assert (page.total, page.hits) == (0, ())
    assert all(counts == {} for counts in page.facets.values())


def test_scope_of_one_dossier_hides_the_rest_from_counts_and_facets(filled: SearchIndex) -> None:
    """A caller who sees one dossier gets only its documents, in totals and facets too."""
    scope = AccessScope(dossier_ids=frozenset({"dos-001"}))
    page = _search(filled, "", scope)
    assert (_ids(page), page.total) == (["doc-01"], 1)
    assert page.facets["kind"] == {"complaint_letter": 1}
    assert _search(filled, "律师", scope).total == 0


def test_department_scope(filled: SearchIndex) -> None:
    """Staff of one department see only that department's dossiers."""
    page = _search(filled, "", AccessScope(departments=frozenset({"监督科"})))
    assert set(_ids(page)) == {"doc-03", "doc-04"} and page.facets["channel"] == {"phone": 2}


def test_regulator_grant_limits_by_respondent_category_and_dates(filled: SearchIndex) -> None:
    """A regulator's grant (saved filter) is applied inside the query."""
    grant = AccessScope(respondents=frozenset({"某某律师事务所"}))
    assert _ids(_search(filled, "lawyer", grant)) == ["doc-02"]
    by_category = AccessScope(categories=frozenset({"城乡建设"}), received_from=date(2026, 2, 1),
                              received_until=date(2026, 2, 28))
    page = _search(filled, "", by_category)
    assert set(_ids(page)) == {"doc-03", "doc-04"} and page.total == 2
    assert _search(filled, "投诉", AccessScope(received_until=date(2026, 1, 31))).total == 1


# ----------------------------------------------------------------------------- lifecycle
def test_upsert_is_idempotent(filled: SearchIndex) -> None:
    """Upserting the same entries again changes nothing."""
    filled.upsert(ALL)
    assert _search(filled, "").total == 4
    assert filled.document_ids() == {e.document_id for e in ALL}


def test_upsert_replaces_a_documents_text_and_facts(filled: SearchIndex) -> None:
    """A re-upserted entry is found by its new text only, with its new facts."""
    filled.upsert([replace(NOISE, text="已处理完毕", state="closed")])
    assert _search(filled, "噪音").total == 1            # still in the title
    assert _search(filled, "施工").total == 0
    assert _ids(_search(filled, "处理 state:closed")) == ["doc-03"]


def test_delete_removes_entries_and_ignores_unknown_ids(filled: SearchIndex) -> None:
    """Disposal removes documents from every count; unknown ids are ignored."""
    filled.delete(["doc-01", "no-such-document"])
    assert _search(filled, "投诉").total == 1
    assert filled.document_ids() == {"doc-02", "doc-03", "doc-04"}


def test_rebuild_swaps_in_the_new_contents(filled: SearchIndex) -> None:
    """A rebuild replaces everything at once and reports its progress."""
    seen: list[int] = []
    assert filled.rebuild(iter([LAWYER, MINUTES]), progress=seen.append) == 2
    assert seen[-1] == 2
    assert filled.document_ids() == {"doc-02", "doc-04"}
    assert _search(filled, "噪音").total == 0
    filled.upsert([NOISE])
    assert _search(filled, "噪音").total == 1


def test_reset_leaves_an_empty_usable_index(filled: SearchIndex) -> None:
    """After reset nothing is found, and new entries can be added."""
    filled.reset()
    assert _search(filled, "").total == 0 and filled.document_ids() == set()
    filled.upsert([LEGAL_AID])
    assert _ids(_search(filled, "投诉")) == ["doc-01"]
