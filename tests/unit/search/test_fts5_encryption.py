"""The embedded index encrypted at rest, and deletion that removes a document's words in place (#12 item 2).

ACS-08 (nothing readable on disk without the key), RET-05/RET-07 (a destroyed dossier leaves no
trace in the index, without a rebuild).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from records.access.model import AccessScope
from search.backends._fts5_schema import PLAIN_HEADER, open_generation
from search.backends._sealing import Sealer
from search.backends.fts5 import Fts5SearchIndex
from search.errors import IndexOutdatedError
from search.model import IndexEntry, SearchQuery

KEY = bytes(range(32))
PHRASE = "饕餮犇骉 zebrafishology"           # distinctive: no other document holds these words
WORDS = ("饕餮", "犇骉", "zebrafishology")   # what the FTS5 index stores: bigrams and words
EVERYTHING = AccessScope.everything()


def _entry(document_id: str, text: str, **fields: object) -> IndexEntry:
    values: dict[str, object] = dict(
        document_id=document_id, dossier_id=f"dos-{document_id}", archive_number="2601-001",
        item_number=f"2601-001-{document_id}", title="关于法律援助中心服务态度的投诉", text=text,
        kind="complaint_letter", channel="letter", state="sealed", received_on=date(2026, 1, 5),
        filed_at=datetime(2026, 1, 5, tzinfo=timezone.utc), complainant="欧阳锋锐", respondent="某某律师事务所")
    values.update(fields)
    return IndexEntry(**values)  # type: ignore[arg-type]


DOOMED = _entry("doomed", f"投诉人反映 {PHRASE} 一事，请求处理。")
KEPT = _entry("kept", "律师未按约定出庭，投诉人请求退还费用。")


def _files(directory: Path) -> list[Path]:
    return [p for p in sorted(directory.iterdir()) if p.is_file() and p.name != "CURRENT"]


def _current(directory: Path) -> Path:
    return directory / (directory / "CURRENT").read_text().strip()


def _vocabulary(directory: Path) -> set[str]:
    """Every term the live generation's FTS5 index holds (read through a keyed connection)."""
    conn = open_generation(_current(directory), Sealer(KEY).page_key)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'row')")
        return {row[0] for row in conn.execute("SELECT term FROM temp.vocab")}
    finally:
        conn.close()


@pytest.mark.parametrize("closed", [False, True], ids=["live-with-wal", "closed"])
def test_no_file_of_the_index_holds_a_word_in_clear(tmp_path: Path, closed: bool) -> None:
    """GIVEN a document with a distinctive phrase indexed, WHEN every file of the index directory
    (database, -wal, -shm) is read raw, while the index is open and after it is closed,
    THEN neither the phrase nor any of its indexed words, the title or a party name appears in
    UTF-8, UTF-16-LE or GB18030, and no file is a plain SQLite database."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([DOOMED, KEPT])
    assert index.search(SearchQuery("zebrafishology"), EVERYTHING).total == 1
    if closed:
        index.close()
    files = _files(tmp_path / "search")
    assert any(p.suffix == ".sqlite3" for p in files)
    if not closed:
        assert any(p.name.endswith("-wal") and p.stat().st_size for p in files)  # the WAL is read too
    secrets = [PHRASE, *WORDS, DOOMED.title, "欧阳锋锐", "某某律师事务所"]
    for path in files:
        raw = path.read_bytes()
        assert not raw.startswith(PLAIN_HEADER), path.name
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le", "gb18030"):
                assert secret.encode(encoding) not in raw, (path.name, secret, encoding)
    index.close()


def test_the_index_file_cannot_be_read_as_sqlite_without_the_key(tmp_path: Path) -> None:
    """GIVEN an index on disk, WHEN SQLite (the standard library's) opens it without the key,
    THEN it reads nothing: the file is not a database to it."""
    index = Fts5SearchIndex(tmp_path / "search", key=KEY)
    index.upsert([DOOMED])
    index.close()
    with pytest.raises(sqlite3.DatabaseError):
        with sqlite3.connect(_current(tmp_path / "search")) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()


@pytest.mark.parametrize("rebuilt", [False, True], ids=["first-generation", "rebuilt-generation"])
def test_a_deleted_documents_words_leave_the_index_in_place(tmp_path: Path, rebuilt: bool) -> None:
    """GIVEN a document with distinctive words indexed (in the first generation, or one written
    by a rebuild), WHEN it is deleted, THEN its words are no longer terms of the FTS5 index
    (secure-delete), search finds nothing, the other document still matches, and no new
    generation was written to get there."""
    directory = tmp_path / "search"
    index = Fts5SearchIndex(directory, key=KEY)
    if rebuilt:
        index.rebuild([DOOMED, KEPT])
    else:
        index.upsert([DOOMED, KEPT])
    assert set(WORDS) <= _vocabulary(directory)
    generation = _current(directory)

    index.delete(["doomed"])
    index.close()

    assert _current(directory) == generation  # removed in place: no rebuild
    vocabulary = _vocabulary(directory)
    assert not set(WORDS) & vocabulary
    assert "律师" in vocabulary  # the kept document's words stay
    index = Fts5SearchIndex(directory, key=KEY)
    assert index.search(SearchQuery("zebrafishology"), EVERYTHING).total == 0
    assert index.search(SearchQuery("饕餮"), EVERYTHING).total == 0
    assert index.document_ids() == {"kept"}
    assert index.search(SearchQuery("律师"), EVERYTHING).total == 1


def test_deleting_needs_no_stored_text(tmp_path: Path) -> None:
    """GIVEN a document whose sealed text can no longer be opened, WHEN it is deleted, THEN its
    words still leave the index: deletion does not re-tokenise the stored fields."""
    directory = tmp_path / "search"
    index = Fts5SearchIndex(directory, key=KEY)
    index.upsert([DOOMED, KEPT])
    index.close()
    conn = open_generation(_current(directory), Sealer(KEY).page_key)
    conn.execute("UPDATE sealed SET fields = x'00'")  # unreadable: the old delete path would fail here
    conn.close()

    index = Fts5SearchIndex(directory, key=KEY)
    index.delete(["doomed"])
    index.close()
    assert not set(WORDS) & _vocabulary(directory)


def test_an_unencrypted_index_from_an_earlier_release_asks_for_a_reindex(tmp_path: Path) -> None:
    """GIVEN a live generation written before the index was encrypted (a plain SQLite file),
    WHEN the index is used, THEN it reports IndexOutdatedError naming `dossier reindex`, and a
    rebuild writes an encrypted generation in its place and removes the plain file."""
    directory = tmp_path / "search"
    directory.mkdir()
    old = directory / "index-000000000000.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('analyser_version', 'x')")
    conn.close()
    (directory / "CURRENT").write_text(old.name + "\n")

    index = Fts5SearchIndex(directory, key=KEY)
    with pytest.raises(IndexOutdatedError, match="dossier reindex"):
        index.search(SearchQuery("律师"), EVERYTHING)
    with pytest.raises(IndexOutdatedError):
        index.ping()

    index.rebuild([KEPT])
    assert index.search(SearchQuery("律师"), EVERYTHING).total == 1
    assert not old.exists()
    assert not _current(directory).read_bytes().startswith(PLAIN_HEADER)
