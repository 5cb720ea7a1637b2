"""Saved searches keep their query text sealed (issue #12 item 3).

A saved query can be a complainant's name. It is stored sealed under the key ring owner
``saved-searches`` (made on first use, never destroyed) and listed back in clear to its owner.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from records.sealing import is_sealed
from records.settings import Settings
from search.saved import SAVED_SEARCH_OWNER
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive

QUERY = "欧阳翠屏 收费"
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def test_a_saved_query_is_sealed_at_rest_and_listed_in_clear(settings: Settings, svc: Services) -> None:
    """GIVEN a user saves a search naming a complainant, WHEN the catalogue is read raw,
    THEN the name is in neither the file nor its WAL (UTF-8, UTF-16-LE, GB18030, JSON escapes) and the
    stored query is sealed, AND the user's list shows the query in clear; replacing it keeps it sealed."""
    saved = svc.saved_searches.save("handler_a", "张家的案子", QUERY)
    assert saved.query == QUERY
    assert svc.vault.dossier_keys.has(SAVED_SEARCH_OWNER)
    with svc.uow.read() as s:
        stored = s.execute(text("SELECT query FROM saved_searches WHERE id = :id"), {"id": saved.id}).scalar_one()
    assert is_sealed(stored) and "欧阳翠屏" not in stored
    catalogue = settings.data_dir / "catalogue.sqlite3"
    raw = b"".join(p.read_bytes() for p in (catalogue, Path(f"{catalogue}-wal")) if p.exists())
    needle = "欧阳翠屏"
    assert [enc for enc in ENCODINGS if needle.encode(enc) in raw] == []
    assert json.dumps(needle)[1:-1].encode() not in raw
    assert [(s.name, s.query) for s in svc.saved_searches.mine("handler_a")] == [("张家的案子", QUERY)]
    assert svc.saved_searches.mine("handler_b") == []

    svc.saved_searches.save("handler_a", "张家的案子", QUERY + " 退费")
    assert [s.query for s in svc.saved_searches.mine("handler_a")] == [QUERY + " 退费"]


def test_a_query_saved_in_clear_before_sealing_is_still_listed(svc: Services, clock: FrozenClock) -> None:
    """GIVEN a saved search stored in clear (written before issue #12), WHEN its owner lists them,
    THEN it is shown as it was saved."""
    with svc.uow.write() as s:
        s.execute(text("INSERT INTO saved_searches (id, owner, name, query, sort, created_at) "
                       "VALUES ('0' , 'handler_a', '旧的', '旧查询', 'relevance', :at)"), {"at": clock()})
    assert [(s.name, s.query) for s in svc.saved_searches.mine("handler_a")] == [("旧的", "旧查询")]
