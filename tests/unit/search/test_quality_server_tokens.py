"""One tokenizer on every backend (issue #14 item 4), checked on a real OpenSearch node: the
words the server indexes and searches are the ones the embedded index does.

Before, FTS5 split "didn't" and "company's" while OpenSearch kept them whole, so one query
counted different hits on the two backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from search.analysis import index_tokens, normalize, query_tokens, words_only
from search.backends._es_common import index_body
from tests.servers.opensearch import OpenSearchNode

pytestmark = pytest.mark.opensearch

TEXTS = [
    "The company's agent didn't call me back about the loans.",
    "Problem with a credit reporting company's investigation into an existing problem",
    "e-mail sent 3.5 weeks ago to info@bank.example; no reply (ref. 2611-007)",
    "Incorrect information on your report",
    "物业管理费用过高，投诉处理不及时",
]


@pytest.fixture
def analysed(opensearch: OpenSearchNode) -> Iterator[tuple[Any, str]]:
    client = opensearch.client()
    name = opensearch.new_index_name()
    client.indices.create(index=name, body=index_body())
    yield client, name
    client.indices.delete(index=name)
    client.close()


@pytest.mark.parametrize("text", TEXTS)
def test_server_search_tokens_are_the_embedded_query_tokens(analysed: tuple[Any, str], text: str) -> None:
    """GIVEN a text with apostrophes, punctuation, numbers or Chinese
    WHEN the server's search analyser reads what Python sends it
    THEN it yields exactly the tokens the embedded index would search for."""
    client, name = analysed
    reply = client.indices.analyze(index=name, body={"analyzer": "dossier_search", "text": words_only(normalize(text))})
    assert [t["token"] for t in reply["tokens"]] == list(query_tokens(text).tokens)


@pytest.mark.parametrize("text", TEXTS[:4])
def test_server_index_tokens_are_the_embedded_index_tokens(analysed: tuple[Any, str], text: str) -> None:
    """GIVEN an English text
    WHEN the server's index analyser reads the copy Python sends it
    THEN it indexes the same words as the embedded index."""
    client, name = analysed
    reply = client.indices.analyze(index=name, body={"analyzer": "dossier_index", "text": words_only(normalize(text))})
    assert " ".join(t["token"] for t in reply["tokens"]) == index_tokens(text)[0]
