"""Choosing the search backend: flavour detection against the real OpenSearch node."""

from __future__ import annotations

import pytest

from search.backends import detect_flavour
from search.backends.elastic import OpenSearchIndex, connect_index
from search.errors import SearchUnavailableError
from tests.servers.opensearch import OpenSearchNode

pytestmark = pytest.mark.opensearch


def test_opensearch_is_recognised_from_its_root_endpoint(opensearch: OpenSearchNode) -> None:
    """GET / tells OpenSearch from Elasticsearch, so one URL setting is enough."""
    assert detect_flavour(opensearch.url) == "opensearch"


def test_without_a_flavour_the_detected_client_is_used(opensearch: OpenSearchNode) -> None:
    """connect_index picks opensearch-py for an OpenSearch server."""
    index = connect_index(opensearch.url, index_prefix=opensearch.new_index_name("dossier"))
    try:
        assert isinstance(index, OpenSearchIndex)
        assert index.document_ids() == set()
    finally:
        index.drop()
        index.close()


def test_asking_for_elasticsearch_on_an_opensearch_server_is_refused(opensearch: OpenSearchNode) -> None:
    """A configured flavour that the server contradicts is a clear error, not a confusing client failure."""
    with pytest.raises(SearchUnavailableError, match="is an opensearch server"):
        connect_index(opensearch.url, flavour="elasticsearch")


def test_an_unreachable_server_is_search_unavailable() -> None:
    """Nothing listening: SearchUnavailableError, never a client exception."""
    with pytest.raises(SearchUnavailableError):
        detect_flavour("http://127.0.0.1:9", timeout=2)
