"""The SearchIndex contract of test_search_contract.py, run on a real Elasticsearch node
(tests/servers/elasticsearch.py) through the official ``elasticsearch`` client.

Every test of that module is collected here again (the star import) with this module's ``index``
fixture, an empty :class:`ElasticsearchIndex` under a fresh alias, in place of the fts5/OpenSearch
one; ``filled`` and the tests themselves are that module's, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from search.backends.elastic import ElasticsearchIndex, connect_index
from tests.integration.search.test_search_contract import *  # noqa: F403  (the contract's tests and fixtures)

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def index(request: pytest.FixtureRequest) -> Iterator[ElasticsearchIndex]:  # overrides the imported backend fixture
    """An empty Elasticsearch index under a fresh alias."""
    node = request.getfixturevalue("elasticsearch")
    built = connect_index(node.url, index_prefix=node.new_index_name("dossier"), flavour="elasticsearch")
    assert isinstance(built, ElasticsearchIndex)
    yield built
    built.drop()
    built.close()
