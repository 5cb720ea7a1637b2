"""Schema of one FTS5 index generation, and the facet-combination dictionary.

Facets are counted in one pass over the matching rows: each document row carries a small
integer ``facet_key`` naming its (kind, category, channel, year, state) combination, listed once
in ``facet_keys``. Counting integers in the ranking pass itself is what keeps a common word's
search within the latency target at 100,000 documents (benchmarks/search_speed.py).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

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
    title, body, extra, tail, content='', tokenize='unicode61 remove_diacritics 0'
);
"""

FACET_COLUMNS = ("kind", "category", "channel", "year", "state")


def add_missing_columns(conn: sqlite3.Connection) -> None:
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
    """Maps facet combinations to their integer keys and back, cached per connection."""

    def __init__(self) -> None:
        self._ids: dict[tuple[object, ...], int] = {}
        self._combos: dict[int, tuple[object, ...]] = {}

    def key(self, conn: sqlite3.Connection, combo: tuple[object, ...]) -> int:
        found = self._ids.get(combo)
        if found is None:
            conn.execute("INSERT OR IGNORE INTO facet_keys (kind, category, channel, year, state) VALUES (?,?,?,?,?)",
                         combo)
            found = int(conn.execute("SELECT id FROM facet_keys WHERE kind IS ? AND category IS ? AND channel IS ?"
                                     " AND year IS ? AND state IS ?", combo).fetchone()[0])
            self._ids[combo] = found
            self._combos[found] = combo
        return found

    def expand(self, conn: sqlite3.Connection, counts: Counter[int]) -> dict[str, dict[str, int]]:
        """Per-facet value counts from counts per combination key."""
        combos = self._combos
        if any(k not in combos for k in counts):
            for row in conn.execute("SELECT id, kind, category, channel, year, state FROM facet_keys"):
                combos[row[0]] = tuple(row[1:])
                self._ids[tuple(row[1:])] = row[0]
        kinds: Counter[object] = Counter()
        categories: Counter[object] = Counter()
        channels: Counter[object] = Counter()
        years: Counter[object] = Counter()
        states: Counter[object] = Counter()
        for key, n in counts.items():
            kind, category, channel, year, state = combos[key]
            kinds[kind] += n
            categories[category] += n
            channels[channel] += n
            years[year] += n
            states[state] += n
        return {name: {str(v): n for v, n in c.most_common() if v is not None}
                for name, c in zip(FACET_COLUMNS, (kinds, categories, channels, years, states))}

    def clear(self) -> None:
        self._ids.clear()
        self._combos.clear()
