"""What is particular to the embedded FTS5 index: sealed storage, versions, generations.

The behaviour it shares with the server backends is in tests/integration/search/test_search_contract.py.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from records.access.model import AccessScope
from search.backends._fts5_schema import open_generation
from search.backends._sealing import Sealer
from search.backends.fts5 import Fts5SearchIndex
from search.errors import IndexOutdatedError, SearchUnavailableError
from search.model import IndexEntry, SearchQuery

KEY = bytes(range(32))
ENTRY = IndexEntry(
    document_id="doc-1", dossier_id="dos-1", archive_number="2601-001", item_number="2601-001-01",
    title="关于法律援助中心服务态度的投诉", text="The lawyer failed to appear at the hearing on Monday.",
    kind="complaint_letter", channel="letter", state="registered", received_on=date(2026, 1, 5),
    filed_at=datetime(2026, 1, 5, tzinfo=timezone.utc), complainant="Zhang Sanfeng", respondent="某某律师事务所",
)


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def _current_file(directory: Path) -> Path:
    return directory / (directory / "CURRENT").read_text().strip()


def test_titles_texts_and_names_are_not_readable_on_disk(tmp_path: Path) -> None:
    """Only tokens are stored in the clear; the text, title and party names are sealed."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([ENTRY])
    index.close()
    raw = _all_bytes(tmp_path / "search")
    for secret in (ENTRY.title, "failed to appear", "Zhang Sanfeng", "某某律师事务所"):
        assert secret.encode() not in raw


def test_an_index_opened_with_another_key_refuses_to_show_text(tmp_path: Path) -> None:
    """Hits cannot be shown without the key the index was built with."""
    Fts5SearchIndex(tmp_path / "search", key=KEY).upsert([ENTRY])
    other = Fts5SearchIndex(tmp_path / "search", key=os.urandom(32))
    with pytest.raises(SearchUnavailableError, match="another key"):
        other.search(SearchQuery("lawyer"), AccessScope.everything())


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    """The sealing key must carry at least 256 bits."""
    with pytest.raises(ValueError):
        Fts5SearchIndex(tmp_path / "search", key=b"short")


def test_an_index_from_another_analyser_version_asks_for_a_rebuild(tmp_path: Path) -> None:
    """Tokens from another analyser would silently miss; the index says so and a rebuild cures it."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([ENTRY])
    index.close()
    conn = open_generation(_current_file(tmp_path / "search"), Sealer(KEY).page_key)  # the file is encrypted
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'analyser_version'")
    conn.close()
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    with pytest.raises(IndexOutdatedError, match="reindex"):
        index.search(SearchQuery("lawyer"), AccessScope.everything())
    index.rebuild([ENTRY])
    assert index.search(SearchQuery("lawyer"), AccessScope.everything()).total == 1


def test_a_rebuild_by_another_process_is_seen_by_open_indexes(tmp_path: Path) -> None:
    """Readers switch to the new generation on their next call; old files are removed."""
    reader = Fts5SearchIndex(tmp_path / "search", key=KEY)
    assert reader.search(SearchQuery("lawyer"), AccessScope.everything()).total == 0
    writer = Fts5SearchIndex(tmp_path / "search", key=KEY)
    writer.rebuild([ENTRY])
    assert reader.search(SearchQuery("lawyer"), AccessScope.everything()).total == 1
    generations = [p for p in (tmp_path / "search").iterdir() if p.suffix == ".sqlite3"]
    assert len(generations) == 1


def test_a_failed_rebuild_keeps_the_old_index(tmp_path: Path) -> None:
    """An error while rebuilding leaves the live index as it was."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([ENTRY])

    def broken() -> object:
        yield ENTRY
        raise RuntimeError("catalogue went away")

    with pytest.raises(RuntimeError):
        index.rebuild(broken())  # type: ignore[arg-type]
    assert index.document_ids() == {"doc-1"}
    assert len([p for p in (tmp_path / "search").iterdir() if p.suffix == ".sqlite3"]) == 1
