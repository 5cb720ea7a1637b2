"""The embedded index's fast search path (issue #14 item 1) answers exactly what a full pass would.

Speed comes from three things a search no longer does: fetch every match into Python, join every
match to its catalogue row, and rank every match to pick a page. These tests pin the behaviour
users rely on while that happens: the page order is the full BM25 order (items with text first,
ties by receipt date, then number), totals and facet counts are exact over hundreds of matches, scoped and
filtered searches count only what the caller may see (ACS-02), and an index written in the old
row layout asks for `dossier reindex` instead of answering wrongly. No timings here: speed is
measured by benchmarks/search_speed.py.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from records.access.model import AccessScope
from search.analysis import ANALYSER_VERSION
from search.backends.fts5 import WEIGHTS, Fts5SearchIndex
from search.backends._fts5_sql import match_expression
from search.errors import IndexOutdatedError
from search.model import IndexEntry, SearchQuery
from search.plan import plan_query

KEY = bytes(range(32))
KINDS = ("complaint_letter", "email", "decision")
CHANNELS = ("letter", "phone", "online")
STATES = ("registered", "closed")
CATEGORIES = ("服务态度", "收费", None)
DEPARTMENTS = ("法援处", "监督科")
FILLER = ("服务态度差", "律师没有出庭", "收费过高", "工作人员推诿", "材料已提交")


def _corpus(n: int = 240, seed: int = 3) -> list[IndexEntry]:
    """``n`` documents, most holding 投诉 a varying number of times, some with no text at all."""
    rng = random.Random(seed)
    entries = []
    for i in range(n):
        received = date(2019 + i % 6, 1 + i % 12, 1 + i % 27)
        has_text = i % 11 != 0
        words = [rng.choice(FILLER) for _ in range(rng.randint(1, 8))]
        words += ["投诉"] * rng.randint(0 if i % 5 == 0 else 1, 3)
        if i % 7 == 0:   # identical texts: the tie-break decides
            words = ["投诉", "服务态度差"]
        rng.shuffle(words)
        entries.append(IndexEntry(
            document_id=f"doc-{i:04d}", dossier_id=f"dos-{i // 2:04d}", archive_number=f"2601-{i:04d}",
            item_number=f"2601-{i:04d}-01", title="关于投诉的处理" if i % 9 == 0 else "来信",
            text="，".join(words) if has_text else "", kind=KINDS[i % 3], channel=CHANNELS[i % 3 - 1 if i % 2 else 2],
            state=STATES[i % 2], received_on=received,
            filed_at=datetime(received.year, received.month, received.day, tzinfo=timezone.utc),
            category=CATEGORIES[i % 3], department=DEPARTMENTS[i % 2],
        ))
    return entries


@pytest.fixture
def index(tmp_path: Path) -> Fts5SearchIndex:
    built = Fts5SearchIndex(tmp_path / "search", key=KEY)
    built.rebuild(_corpus())
    return built


def _full_ranking(index: Fts5SearchIndex, text: str) -> list[str]:
    """Every match scored and sorted in Python: the reference the fast path must equal."""
    conn = index._checked()
    rows = conn.execute(
        "SELECT d.document_id, d.has_text, -bm25(fts, {}, {}, {}, {}), d.received_on, d.item_key FROM fts"
        " JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ?".format(*WEIGHTS),
        (match_expression(plan_query(text).text),)).fetchall()  # type: ignore[arg-type]
    # Equal scores: newest receipt first, then item number, then document id (every backend's order).
    rows.sort(key=lambda r: (r[4], r[0]))
    rows.sort(key=lambda r: r[3], reverse=True)
    rows.sort(key=lambda r: (r[1], r[2]), reverse=True)
    return [r[0] for r in rows]


def _pages(index: Fts5SearchIndex, text: str, scope: AccessScope, size: int = 20) -> list[str]:
    ids: list[str] = []
    number = 1
    while True:
        page = index.search(SearchQuery(text, page=number, page_size=size), scope)
        ids += [h.document_id for h in page.hits]
        if len(ids) >= page.total or not page.hits:
            return ids
        number += 1


def _expected_facets(entries: list[IndexEntry]) -> dict[str, dict[str, int]]:
    facets: dict[str, Counter[str]] = {name: Counter() for name in ("kind", "category", "channel", "year", "state")}
    for e in entries:
        facets["kind"][e.kind] += 1
        facets["channel"][e.channel] += 1
        facets["year"][str(e.received_on.year)] += 1
        facets["state"][e.state] += 1
        if e.category:
            facets["category"][e.category] += 1
    return {name: dict(c) for name, c in facets.items()}


@pytest.mark.parametrize("text", ["投诉", "服务态度差投诉处理", "律师 OR 收费"])
def test_every_page_follows_the_full_bm25_ranking(index: Fts5SearchIndex, text: str) -> None:
    """GIVEN hundreds of documents matching a word, some without text and some identical,
    WHEN a user pages through the hits 20 at a time,
    THEN the pages together are exactly every match in full BM25 order: items with text first,
    equal scores by receipt date (newest first) then item number, nothing repeated or skipped."""
    expected = _full_ranking(index, text)
    assert len(expected) > 100
    assert _pages(index, text, AccessScope.everything()) == expected


def test_totals_and_facets_are_exact_over_many_matches(index: Fts5SearchIndex) -> None:
    """GIVEN a common word held by most documents,
    WHEN it is searched with facets,
    THEN the total and every facet count equal a count of the matching documents themselves."""
    entries = [e for e in _corpus() if "投诉" in e.text or "投诉" in e.title]
    page = index.search(SearchQuery("投诉"), AccessScope.everything())
    assert page.total == len(entries)
    assert page.facets == _expected_facets(entries)


def test_scoped_and_filtered_counts_cover_only_what_the_caller_may_see(index: Fts5SearchIndex) -> None:
    """GIVEN a caller who may see one department only, searching with a kind filter,
    WHEN the common word is searched,
    THEN total, facets and hits come from that department's matching documents of that kind only."""
    scope = AccessScope(departments=frozenset({"监督科"}))
    visible = [e for e in _corpus() if ("投诉" in e.text or "投诉" in e.title)
               and e.department == "监督科" and e.kind == "email"]
    page = index.search(SearchQuery("投诉 kind:email"), scope)
    assert page.total == len(visible)
    assert page.facets == _expected_facets(visible)
    assert {h.document_id for h in page.hits} <= {e.document_id for e in visible}
    assert _pages(index, "投诉 kind:email", scope) == [d for d in _full_ranking(index, "投诉")
                                                          if d in {e.document_id for e in visible}]


def test_a_changed_document_is_counted_under_its_new_facets(index: Fts5SearchIndex) -> None:
    """GIVEN an indexed document whose state and kind change,
    WHEN it is written again,
    THEN it is counted once, under its new values, and found by its new kind."""
    before = index.search(SearchQuery("投诉"), AccessScope.everything())
    entry = next(e for e in _corpus() if e.state == "registered" and "投诉" in e.text)
    changed = replace(entry, state="closed", kind="decision")
    index.upsert([changed])
    after = index.search(SearchQuery("投诉"), AccessScope.everything())
    assert after.total == before.total
    assert after.facets["state"]["closed"] == before.facets["state"]["closed"] + 1
    assert after.facets["state"]["registered"] == before.facets["state"]["registered"] - 1
    found = index.search(SearchQuery(f"投诉 kind:decision number:{entry.item_number}"), AccessScope.everything())
    assert [h.document_id for h in found.hits] == [entry.document_id]


def test_an_index_in_the_old_row_layout_asks_for_a_rebuild(index: Fts5SearchIndex) -> None:
    """GIVEN a generation stamped with this analyser but written before row ids carried facets,
    WHEN it is searched, THEN it is reported outdated (run `dossier reindex`), not misread."""
    index._checked().execute("UPDATE meta SET value = ? WHERE key = 'analyser_version'", (ANALYSER_VERSION,))
    with pytest.raises(IndexOutdatedError, match="reindex"):
        index.search(SearchQuery("投诉"), AccessScope.everything())


def test_a_destruction_reaches_an_index_that_awaits_reindex(index: Fts5SearchIndex) -> None:
    """GIVEN a generation of an older layout (searches ask for `dossier reindex`),
    WHEN a destroyed dossier's documents are deleted from it before anyone reindexes,
    THEN their rows and postings leave the file at once (RET-05), and searching still asks for a reindex."""
    victim = next(e for e in _corpus() if "投诉" in e.text)
    index._checked().execute("UPDATE meta SET value = ? WHERE key = 'analyser_version'", (ANALYSER_VERSION,))
    index.delete([victim.document_id])
    conn = index._connection()
    assert conn.execute("SELECT count(*) FROM docs WHERE document_id = ?", (victim.document_id,)).fetchall()[0][0] == 0
    assert conn.execute("SELECT count(*) FROM docs").fetchall()[0][0] == len(_corpus()) - 1
    with pytest.raises(IndexOutdatedError):
        index.search(SearchQuery("投诉"), AccessScope.everything())


def test_a_failed_write_does_not_confuse_facet_counts(index: Fts5SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a write of a document of a new kind that fails half-way (and is rolled back),
    WHEN it is retried and a document of another new kind follows,
    THEN each kind is counted once under its own name — no facet key is handed out twice."""
    first = replace(_corpus()[1], document_id="doc-new-a", kind="new_kind_a", text="投诉 新类别")
    second = replace(_corpus()[2], document_id="doc-new-b", kind="new_kind_b", text="投诉 新类别")
    seal = index._sealer.seal
    monkeypatch.setattr(index._sealer, "seal", lambda *a, **k: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(Exception):
        index.upsert([first])
    monkeypatch.setattr(index._sealer, "seal", seal)
    index.upsert([first])
    index.upsert([second])
    kinds = index.search(SearchQuery("新类别"), AccessScope.everything()).facets["kind"]
    assert kinds == {"new_kind_a": 1, "new_kind_b": 1}
