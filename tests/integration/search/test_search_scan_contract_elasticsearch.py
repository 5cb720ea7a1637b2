"""The scannable-results contract of test_search_scan_contract.py on a real Elasticsearch node
(tests/servers/elasticsearch.py): that module's tests, with the Elasticsearch ``index`` fixture."""

from __future__ import annotations

import pytest

from tests.integration.search.test_search_scan_contract import *  # noqa: F403  (the contract's tests and fixtures)
from tests.integration.search.test_search_contract_elasticsearch import index  # noqa: F401  (wins over the star import)

pytestmark = pytest.mark.elasticsearch
