"""The real Elasticsearch node of tests/servers/elasticsearch.py: what it is, how Dossier finds it,
and that Dossier's analysers behave on it as on OpenSearch.

The node's analysis-common filters (cjk_width, cjk_bigram, stemmer) and root endpoint come from
the small plugins in scripts/elasticsearch/ (those modules are not on Maven Central); these
tests pin what they must do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from search.backends import detect_flavour
from search.backends._es_common import index_body
from search.backends.elastic import ElasticsearchIndex, connect_index
from search.errors import SearchUnavailableError
from tests.servers.elasticsearch import ElasticsearchNode

pytestmark = pytest.mark.elasticsearch

# Texts for the analysers: Chinese runs (one character, pairs, a long run), full-width Latin,
# plurals, contractions, possessives, stop words, Japanese and Korean, numbers mixed in.
TEXTS = [
    "关于法律援助中心服务态度的投诉",
    "差",
    "ＡＢＣ公司负责施工，A市法律援助中心",
    "The lawyers didn't appear at the company's hearings",
    "夜间施工噪音严重 lawyer 未到场 2026年1月5日",
    "ひらがな カタカナ 한국어",
]


@pytest.fixture
def client(elasticsearch: ElasticsearchNode) -> Iterator[Any]:
    c = elasticsearch.client()
    yield c
    c.close()


@pytest.fixture
def dossier_index(elasticsearch: ElasticsearchNode, client: Any) -> Iterator[str]:
    """A bare index with Dossier's settings and mapping (search/backends/_es_common.py)."""
    name = elasticsearch.new_index_name()
    body = index_body()
    client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
    yield name
    client.indices.delete(index=name)


def _tokens(reply: Any) -> list[str]:
    return [t["token"] for t in reply["tokens"]]


def test_node_is_real_elasticsearch_8_on_loopback(elasticsearch: ElasticsearchNode, client: Any) -> None:
    """The official client (which checks the server's product header) talks to it; it is 8.19, not OpenSearch."""
    info = client.info()
    assert info["version"]["number"] == "8.19.0"
    assert "distribution" not in info["version"]
    assert info["tagline"] == "You Know, for Search"
    assert client.ping()
    assert elasticsearch.url == f"http://127.0.0.1:{elasticsearch.port}"
    assert client.cluster.health()["status"] in ("green", "yellow")


def test_elasticsearch_is_recognised_from_its_root_endpoint(elasticsearch: ElasticsearchNode) -> None:
    assert detect_flavour(elasticsearch.url) == "elasticsearch"


def test_without_a_flavour_the_elasticsearch_client_is_used(elasticsearch: ElasticsearchNode) -> None:
    index = connect_index(elasticsearch.url, index_prefix=elasticsearch.new_index_name("dossier"))
    try:
        assert isinstance(index, ElasticsearchIndex)
        assert index.document_ids() == set()
    finally:
        index.drop()
        index.close()


def test_asking_for_opensearch_on_an_elasticsearch_server_is_refused(elasticsearch: ElasticsearchNode) -> None:
    with pytest.raises(SearchUnavailableError, match="is an elasticsearch server"):
        connect_index(elasticsearch.url, flavour="opensearch")


def test_index_analyser_keeps_unigrams_and_search_analyser_only_bigrams(client: Any, dossier_index: str) -> None:
    """cjk_width folds ＡＢＣ, cjk_bigram adds unigrams at index time only, minimal_english drops the plural."""
    text = "投诉ＡＢＣ Hearings"
    indexed = _tokens(client.indices.analyze(index=dossier_index, analyzer="dossier_index", text=text))
    searched = _tokens(client.indices.analyze(index=dossier_index, analyzer="dossier_search", text=text))
    assert indexed == ["投", "投诉", "诉", "abc", "hearing"]
    assert searched == ["投诉", "abc", "hearing"]


def test_ignored_scripts_and_unknown_stemmers(elasticsearch: ElasticsearchNode, client: Any) -> None:
    """cjk_bigram's ignored_scripts leaves that script as unigrams; a stemmer language the node lacks is an error."""
    name = elasticsearch.new_index_name()
    client.indices.create(index=name, settings={"analysis": {
        "filter": {"no_han": {"type": "cjk_bigram", "ignored_scripts": ["han"]}},
        "analyzer": {"a": {"type": "custom", "tokenizer": "standard", "filter": ["no_han"]}}}})
    try:
        assert _tokens(client.indices.analyze(index=name, analyzer="a", text="投诉カタカナ")) == [
            "投", "诉", "カタ", "タカ", "カナ"]
    finally:
        client.indices.delete(index=name)
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError, match="not available on Dossier's test node"):
        client.indices.create(index=elasticsearch.new_index_name(), settings={"analysis": {
            "filter": {"s": {"type": "stemmer", "language": "german"}},
            "analyzer": {"a": {"type": "custom", "tokenizer": "standard", "filter": ["s"]}}}})


@pytest.mark.opensearch
@pytest.mark.parametrize("analyzer", ["dossier_index", "dossier_search"])
def test_analysers_give_the_same_tokens_as_on_opensearch(
        analyzer: str, elasticsearch: ElasticsearchNode, client: Any, dossier_index: str, opensearch: Any) -> None:
    """Same settings, same tokens (and positions) on both servers, for every text of TEXTS."""
    other = opensearch.client()
    name = opensearch.new_index_name()
    body = index_body()
    other.indices.create(index=name, body=body)
    try:
        for text in TEXTS:
            es = client.indices.analyze(index=dossier_index, analyzer=analyzer, text=text)["tokens"]
            os_ = other.indices.analyze(index=name, body={"analyzer": analyzer, "text": text})["tokens"]
            assert [(t["token"], t["position"]) for t in es] == [(t["token"], t["position"]) for t in os_], text
    finally:
        other.indices.delete(index=name)
        other.close()
