"""Schema of one FTS5 index generation, and the facet-combination dictionary.

Facets are counted without visiting a document: each document carries a small integer
``facet_key`` naming its (kind, category, channel, year, state) combination, listed once in
``facet_keys``, and the key is part of the document's row id (``search.backends.fts5``), so a
search groups FTS5's matching row ids by key and adds the combinations up per facet here
(issue #14 item 1; benchmarks/search_speed.py).

Every generation is a SQLite3 Multiple Ciphers file (``apsw-sqlite3mc``): :func:`open_generation`
keys the connection before it touches a page, so the file, its WAL and every page that reaches
the disk are encrypted (ACS-08, issue #12 item 2). The ``fts`` table is contentless with
``contentless_delete=1`` and FTS5 ``secure-delete`` is switched on when a generation is created:
a delete removes the document's postings from the index pages in place, without being given
its tokens again, so disposal needs no rebuild (RET-05, RET-07).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import cast

import apsw

from search.analysis import index_tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS facet_keys (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL, category TEXT, channel TEXT NOT NULL, year INTEGER NOT NULL, state TEXT NOT NULL,
    UNIQUE (kind, category, channel, year, state)
);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL UNIQUE,
    dossier_id TEXT NOT NULL,
    archive_number TEXT NOT NULL,
    item_number TEXT NOT NULL,
    archive_key TEXT NOT NULL,
    item_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    category_key TEXT,
    department_key TEXT,
    respondent_mac BLOB,
    complainant_mac BLOB,
    received_on TEXT NOT NULL,
    closed_on TEXT,
    filed_at TEXT NOT NULL,
    facet_key INTEGER NOT NULL REFERENCES facet_keys (id),
    has_text INTEGER NOT NULL DEFAULT 1   -- 0: nothing extracted; ranks after every item with text (#11)
);
-- Sealed title/text live apart, so the rows every search joins stay small and cached.
CREATE TABLE IF NOT EXISTS sealed (rowid INTEGER PRIMARY KEY, fields BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_received ON docs (received_on, filed_at);
CREATE INDEX IF NOT EXISTS docs_dossier ON docs (dossier_id);
CREATE INDEX IF NOT EXISTS docs_department ON docs (department_key);
CREATE INDEX IF NOT EXISTS docs_archive ON docs (archive_key);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, body, extra, tail, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0'
);
"""

#: The catalogue's secondary indexes (dropped during a rebuild's bulk load, rebuilt by SCHEMA).
DOCS_INDEXES = ("docs_received", "docs_dossier", "docs_department", "docs_archive")

#: How every plain (unencrypted) SQLite file starts: a generation written before #12.
PLAIN_HEADER = b"SQLite format 3\x00"

# The page cipher: ChaCha20-Poly1305 (sqlite3mc's default; every page authenticated). PBKDF2
# stretching exists for guessable passphrases; the page key is 256 uniformly random bits from
# HKDF, so one iteration suffices and opening the index (every CLI command) stays fast (~25 ms
# saved per open).
_CIPHER = ("PRAGMA cipher='chacha20'", "PRAGMA kdf_iter=1")


def is_plain_sqlite(path: Path) -> bool:
    """True if ``path`` is an unencrypted SQLite file (an index generation from before #12)."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(PLAIN_HEADER)) == PLAIN_HEADER
    except FileNotFoundError:
        return False


def open_generation(path: Path, page_key: bytes) -> apsw.Connection:
    """A keyed connection to one generation file (created, encrypted, if it does not exist).

    Raises:
        apsw.NotADBError: the file is not encrypted under ``page_key`` (another key, or plain).
    """
    conn = apsw.Connection(str(path))
    try:
        conn.set_busy_timeout(30_000)
        for pragma in _CIPHER:
            conn.execute(pragma)
        # Before anything reads a page: the key decides how every page is decrypted and written.
        conn.execute(f"PRAGMA hexkey='{page_key.hex()}'")
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows (docs, sealed, rewritten FTS5 leaves) are zeroed, not left in free space.
        conn.execute("PRAGMA secure_delete=ON")
        # A large page cache: a common word visits tens of thousands of rows, and the cache holds
        # them decrypted (a memory map of the file, as before #12, would map only ciphertext).
        conn.execute("PRAGMA cache_size=-131072")
        conn.execute(SCHEMA)
        add_missing_columns(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def enable_secure_delete(conn: apsw.Connection) -> None:
    """Deletes overwrite postings in place (FTS5 ``secure-delete``; persistent in the generation)."""
    conn.execute("INSERT INTO fts (fts, rank) VALUES ('secure-delete', 1)")


FACET_COLUMNS = ("kind", "category", "channel", "year", "state")


def add_missing_columns(conn: apsw.Connection) -> None:
    """Columns added after a generation was built (``CREATE TABLE IF NOT EXISTS`` keeps the old one).

    ``has_text`` (#11): an old generation reads every row as having text until `reindex`; ranking
    stays as before for it, so nothing needs rebuilding at once.
    """
    columns = {row[1] for row in conn.execute("PRAGMA table_info(docs)")}
    if "has_text" not in columns:
        conn.execute("ALTER TABLE docs ADD COLUMN has_text INTEGER NOT NULL DEFAULT 1")


def fts_columns(title: str, text: str, extra: str) -> tuple[str, str, str, str]:
    """The four FTS5 column values (title, body, extra, tail) of one document."""
    title_tokens, title_tail = index_tokens(title)
    body_tokens, body_tail = index_tokens(text)
    extra_tokens, extra_tail = index_tokens(extra)
    return title_tokens, body_tokens, extra_tokens, " ".join(t for t in (title_tail, body_tail, extra_tail) if t)


class FacetKeys:
    """Maps facet combinations to their integer keys and back, cached per connection.

    Each known key also maps to the positions of its five values in per-facet value lists, so
    counting a search's combinations is a few list additions per combination (a pasted title
    at 100,000 documents touches ~5,000 combinations: 0.6 ms, against 2.7 ms with dictionaries).
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[object, ...], int] = {}
        self._combos: dict[int, tuple[object, ...]] = {}
        self._values: tuple[list[object], ...] = ([], [], [], [], [])
        self._positions: tuple[dict[object, int], ...] = ({}, {}, {}, {}, {})
        self._slots: dict[int, tuple[int, int, int, int, int]] = {}

    def key(self, conn: apsw.Connection, combo: tuple[object, ...]) -> int:
        found = self._ids.get(combo)
        if found is None:
            conn.execute("INSERT OR IGNORE INTO facet_keys (kind, category, channel, year, state) VALUES (?,?,?,?,?)",
                         combo)
            found = cast(int, conn.execute("SELECT id FROM facet_keys WHERE kind IS ? AND category IS ?"
                                           " AND channel IS ? AND year IS ? AND state IS ?", combo).fetchall()[0][0])
            self._learn(found, combo)
        return found

    def _learn(self, key: int, combo: tuple[object, ...]) -> None:
        self._ids[combo] = key
        self._combos[key] = combo
        slots = []
        for values, positions, value in zip(self._values, self._positions, combo):
            if value not in positions:
                positions[value] = len(values)
                values.append(value)
            slots.append(positions[value])
        self._slots[key] = cast(tuple[int, int, int, int, int], tuple(slots))

    def expand(self, conn: apsw.Connection, counts: Iterable[tuple[int, int]]) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and per-facet value counts from (combination key, count) pairs."""
        pairs = list(counts)
        slots = self._slots
        if any(k not in slots for k, _ in pairs):
            for row in conn.execute("SELECT id, kind, category, channel, year, state FROM facet_keys"):
                if row[0] not in slots:
                    self._learn(row[0], tuple(row[1:]))
        kinds, categories, channels, years, states = tallies = tuple([0] * len(v) for v in self._values)
        total = 0
        for key, n in pairs:
            total += n
            k, c, ch, y, s = slots[key]
            kinds[k] += n
            categories[c] += n
            channels[ch] += n
            years[y] += n
            states[s] += n
        facets: dict[str, dict[str, int]] = {}
        for name, values, tally in zip(FACET_COLUMNS, self._values, tallies):
            counted = sorted(((n, i) for i, n in enumerate(tally) if n and values[i] is not None),
                             key=lambda t: -t[0])
            facets[name] = {str(values[i]): n for n, i in counted}
        return total, facets

    def clear(self) -> None:
        self._ids.clear()
        self._combos.clear()
        self._slots.clear()
        for values, positions in zip(self._values, self._positions):
            values.clear()
            positions.clear()
