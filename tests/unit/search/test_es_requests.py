"""The shared Elasticsearch/OpenSearch request bodies (no server needed to check their shape)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from records.access.model import AccessScope
from search.analysis import ANALYSER_VERSION
from search.backends._es_common import document, index_body, search_body
from search.model import IndexEntry, SearchQuery
from search.plan import plan_query

ENTRY = IndexEntry(
    document_id="doc-1", dossier_id="dos-1", archive_number="2601-001", item_number="2601-001-01",
    title="投訴", text="物业管理", kind="complaint_letter", channel="letter", state="registered",
    received_on=date(2026, 1, 5), filed_at=datetime(2026, 1, 5, tzinfo=timezone.utc), department="法援处",
)


def test_scope_is_part_of_the_query_filter() -> None:
    """The caller's scope is inside the request, so totals and facets obey it."""
    scope = AccessScope(departments=frozenset({"法援處"}), dossier_ids=frozenset({"dos-1"}),
                        received_from=date(2026, 1, 1))
    body = search_body(plan_query("投诉"), SearchQuery("投诉"), scope)
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"department_key": ["法援处"]}} in filters
    assert {"terms": {"dossier_id": ["dos-1"]}} in filters
    assert {"range": {"received_on": {"gte": "2026-01-01"}}} in filters
    assert body["track_total_hits"] is True and set(body["aggs"]) == {"kind", "category", "channel", "year", "state"}


def test_mapping_carries_the_analyser_version_and_keeps_search_copies_out_of_source() -> None:
    """An index records how it was analysed; only the original text is stored for display."""
    mappings = index_body()["mappings"]
    assert mappings["_meta"]["analyser_version"] == ANALYSER_VERSION
    assert "body_cjk" in mappings["_source"]["excludes"]
    assert mappings["properties"]["display"] == {"type": "object", "enabled": False}


def test_documents_are_normalised_before_the_server_sees_them() -> None:
    """Traditional characters are converted in Python (the servers have no t2s filter)."""
    doc = document(ENTRY)
    assert doc["title_cjk"] == "投诉" and doc["display"]["title"] == "投訴"
    assert doc["department_key"] == "法援处" and doc["year"] == "2026"
