"""The embedded search index: SQLite FTS5 in the archive's data directory.

Layout: a directory (default ``<data_dir>/search``) holding one SQLite file per index
generation and a ``CURRENT`` file naming the live one. :meth:`Fts5SearchIndex.rebuild` writes a
new generation beside the live one and swaps ``CURRENT`` atomically (``os.replace``); every
connection notices the swap on its next call and reopens, so readers never see a half-built
index and an old generation's WAL can never be replayed into a new file.

Each generation holds:

* ``fts`` — a *contentless* FTS5 table (``content=''``) over pre-analysed tokens
  (:mod:`search.analysis`): columns ``title``, ``body``, ``extra`` (archive and item numbers,
  parties) and ``tail`` (the last character of each CJK run). Ranking is FTS5's BM25 with
  per-column weights (:data:`WEIGHTS`).
* ``docs`` — one row per document: catalogue facts to filter, sort and count facets on
  (:mod:`._fts5_schema`); respondent and complainant only as keyed digests.
* ``sealed`` — per document the title, text and extra *sealed* with AES-256-GCM
  (:mod:`._sealing`), opened only for the hits of the page being shown; keyed by the order of writing.

How a search stays fast at scale (issue #14 item 1, measured with benchmarks/search_speed.py):
a document's row id is ``facet_key << 33 | has_text << 32 | seq`` (:func:`make_rowid`), so when
the caller may see everything and no filter is given, the total and the facets are FTS5's
matching row ids grouped by ``rowid >> 33`` and the page is SQLite's bounded top-k sort of the
BM25 scores — no match is joined to ``docs`` or fetched into Python. A scoped or filtered search
joins each match to ``docs`` once, inside the same statement (the scope is never applied
afterwards), and scores only the rows that pass. Totals and facets are always exact.

Encryption at rest and real deletion (issue #12 item 2; ACS-08, RET-05): each generation is a
SQLite3 Multiple Ciphers file (``apsw-sqlite3mc``, a current SQLite) whose pages — the inverted
index, ``docs``, ``sealed``, and the WAL's frames — are encrypted with a page key derived by HKDF
from the index key (:attr:`._sealing.Sealer.page_key`). ``fts`` is contentless with
``contentless_delete=1`` and FTS5 ``secure-delete`` on, so deleting a document is a plain
``DELETE`` that removes its postings from the index pages in place: a destroyed dossier's words
leave the index when it is destroyed, with no rebuild and nothing re-tokenised. SQLite's own
``secure_delete`` pragma zeroes the freed rows (``docs``, ``sealed``, rewritten index leaves)
instead of leaving them in free pages. The analyser version and the row layout are stamped in
``meta`` (:data:`INDEX_STAMP`): query tokens must be made the way the index's were, and a
generation of another layout is reported outdated (``dossier reindex``).

A generation written before #12 (a plain SQLite file) cannot be opened with a key; it is
reported as :class:`~search.errors.IndexOutdatedError`, like an index from another analyser
version, and ``dossier reindex`` writes an encrypted one.

Residual risk (the architecture's "plaintext on disk" question): without the key, the files
show only their sizes and modification times — roughly how many documents and how much text the
archive holds, and when the index last changed — and the ``-shm`` file's WAL page numbers. The
page cipher is ChaCha20 with a Poly1305 tag per page (sqlite3mc's default), so a changed page
fails to decrypt instead of being read. The index key is one key for the whole index, not a
dossier's key: anyone holding it (the process, or whoever holds the archive's master key) reads
everything the index holds now, and a *copy* of the index taken before a destruction keeps that
dossier's words readable with it — leave the index out of backups (``dossier reindex`` rebuilds
it). On a live system, decrypted pages sit in the process's page cache.
"""

from __future__ import annotations

import heapq
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

import apsw

from records.access.model import AccessScope
from records.durable import write_atomic
from search.analysis import ANALYSER_VERSION, normalize_keyword
from search.backends._fts5_schema import (
    DOCS_INDEXES, SCHEMA, FacetKeys, enable_secure_delete, fts_columns, is_plain_sqlite, open_generation,
)
from search.backends._sealing import Sealer
from search.errors import IndexOutdatedError, InvalidQueryError, SearchUnavailableError
from search.interfaces import ProgressCallback, SearchIndex
from search.model import MAX_RESULT_WINDOW, Facet, IndexEntry, SearchHit, SearchPage, SearchQuery, SortOrder

if TYPE_CHECKING:  # the query side is imported by search(): opening the index (every command) skips it
    from search.plan import TextLeaf

# BM25 column weights: title, body, extra, tail. The title weight is chosen by cross-validation on
# queries-dev (benchmarks/search_quality.py --folds 5, issue #14 item 4: 2 on every fold but one).
WEIGHTS = (2.0, 1.0, 2.0, 0.5)
_BATCH = 500
#: Documents per transaction in a rebuild: fewer, larger flushes of FTS5's pending terms.
_REBUILD_BATCH = 5000
# FTS5 merge settings while a generation is bulk-loaded, and the defaults it is left with.
_BULK_FTS_SETTINGS = (("automerge", 8), ("crisismerge", 64))
_DEFAULT_FTS_SETTINGS = (("automerge", 4), ("crisismerge", 16))

# Row ids carry what a search counts and sorts on before it looks at a document (issue #14 item 1):
#   rowid = facet_key << 33 | has_text << 32 | seq
# so facets, totals and the has-text-first ranking come from FTS5's postings alone: a common word's
# 30,000 matches are counted without a join to ``docs`` or a row fetched into Python. ``seq`` (the
# order of writing, 32 bits) keeps row ids unique; equal scores are ordered by date (:func:`_page`).
_SEQ_BITS = 32
_SEQ_MASK = (1 << _SEQ_BITS) - 1
#: The layout of this generation format, stamped with the analyser version: a generation of
#: another layout (sequential row ids, before #14) is reported outdated and `dossier reindex`
#: rebuilds it.
INDEX_LAYOUT = "rowid-facets-1"
INDEX_STAMP = f"{ANALYSER_VERSION}+{INDEX_LAYOUT}"


def make_rowid(facet_key: int, has_text: bool, seq: int) -> int:
    """The row id of a document: its facet combination, whether it has text, its filing order."""
    return (facet_key << (_SEQ_BITS + 1)) | (int(has_text) << _SEQ_BITS) | (seq & _SEQ_MASK)


def _next_seq(conn: apsw.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
    return int(row[0]) if row else 0


def _plain_index_error(backend: str, path: Path) -> IndexOutdatedError:
    """The live generation is an unencrypted file from before #12: ``dossier reindex`` replaces it.

    Reported as an outdated index (same code, same exit status, same cure) with its own cause.
    """
    exc = IndexOutdatedError(backend, "unencrypted (written before the index was encrypted at rest)",
                             ANALYSER_VERSION)
    exc.cause = (f"the index {path.name} was written by an earlier release, unencrypted; "
                 "run `dossier reindex` to rebuild it encrypted")
    exc.args = (f"search backend {backend} is unavailable: {exc.cause}",)
    return exc


class Fts5SearchIndex:
    """SQLite FTS5 implementation of :class:`~search.interfaces.SearchIndex` (the embedded default).

    Args:
        directory: where the index generations live (created if missing).
        key: at least 32 bytes of secret key material for sealing stored fields and (through a
            sub-key) encrypting the index files; the composition root derives it from the
            archive's key provider.
    """

    name: ClassVar[str] = "fts5"

    def __init__(self, directory: Path, *, key: bytes) -> None:
        self._dir = Path(directory)
        self._sealer = Sealer(key)
        self._lock = threading.RLock()
        self._conn: apsw.Connection | None = None
        self._current_stat: tuple[int, int] | None = None
        self._facet_keys = FacetKeys()
        try:
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not (self._dir / "CURRENT").exists():
                self._swap_in(self._new_generation(lambda conn: None))
        except (OSError, apsw.Error) as exc:
            raise SearchUnavailableError(self.name, f"cannot open {self._dir}: {exc}") from exc

    # ------------------------------------------------------------------ connection handling
    def _open(self, path: Path) -> apsw.Connection:
        if is_plain_sqlite(path):
            raise _plain_index_error(self.name, path)
        try:
            return open_generation(path, self._sealer.page_key)
        except apsw.NotADBError as exc:
            raise SearchUnavailableError(self.name, f"the index {path.name} cannot be decrypted; "
                                                    "was the index built with another key?") from exc

    def _connection(self) -> apsw.Connection:
        """The live generation's connection, reopened if another process swapped generations."""
        current = self._dir / "CURRENT"
        st = current.stat()
        stamp = (st.st_ino, st.st_mtime_ns)
        if self._conn is None or stamp != self._current_stat:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._open(self._dir / current.read_text().strip())
            self._current_stat = stamp
            self._facet_keys = FacetKeys()
        return self._conn

    def _checked(self) -> apsw.Connection:
        conn = self._connection()
        row = conn.execute("SELECT value FROM meta WHERE key = 'analyser_version'").fetchone()
        if row is None or row[0] != INDEX_STAMP:
            raise IndexOutdatedError(self.name, row[0] if row else "none", INDEX_STAMP)
        return conn

    def _new_generation(self, fill: Callable[[apsw.Connection], None]) -> str:
        name = f"index-{uuid.uuid4().hex[:12]}.sqlite3"
        conn = self._open(self._dir / name)
        try:
            enable_secure_delete(conn)
            conn.execute("INSERT INTO meta VALUES ('analyser_version', ?)", (INDEX_STAMP,))
            fill(conn)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except BaseException:
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                (self._dir / (name + suffix)).unlink(missing_ok=True)
            raise
        conn.close()
        return name

    def _swap_in(self, name: str) -> None:
        old = (self._dir / "CURRENT").read_text().strip() if (self._dir / "CURRENT").exists() else None
        write_atomic(self._dir / "CURRENT", (name + "\n").encode(), mode=0o600)
        if old and old != name:
            # Readers that still hold the old file keep working on POSIX until they reopen.
            for suffix in ("", "-wal", "-shm"):
                (self._dir / (old + suffix)).unlink(missing_ok=True)

    # ------------------------------------------------------------------ writes
    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        with self._lock, self._translated():
            conn = self._checked()
            for start in range(0, len(entries), _BATCH):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    seq = _next_seq(conn)
                    for entry in entries[start:start + _BATCH]:
                        self._remove(conn, entry.document_id)
                        self._insert(conn, entry, seq)
                        seq += 1
                    if seq > _SEQ_MASK:
                        # The row ids would wrap (2^32 writes since the last rebuild): a rebuild restarts them.
                        raise IndexOutdatedError(self.name, "sequence exhausted", INDEX_STAMP)
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", (str(seq),))
                    conn.execute("COMMIT")
                except BaseException:
                    # Combinations cached in this transaction are rolled back with it: forget them,
                    # or the next new combination would be given a key another one already holds.
                    self._facet_keys.clear()
                    conn.execute("ROLLBACK")
                    raise

    def delete(self, document_ids: Sequence[str]) -> None:
        with self._lock, self._translated():
            # Not _checked(): a generation of an older analyser or row layout still holds the words
            # of what is being destroyed, and deleting by document id works on every layout (an old
            # row id is its own sequence number) — a destruction must not wait for `dossier reindex`.
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for document_id in document_ids:
                    self._remove(conn, document_id)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # The WAL still holds the pages as they were before the delete (encrypted, but under a key
            # no destruction removes): checkpoint them into the file, where secure-delete zeroed the
            # postings, and truncate the WAL. Best effort: a reader holding a snapshot delays it.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _insert(self, conn: apsw.Connection, e: IndexEntry, seq: int, facet_keys: FacetKeys | None = None) -> None:
        extra = " ".join(v for v in (e.archive_number, e.item_number, e.respondent, e.complainant) if v)
        mac = self._sealer.mac
        facet_key = (facet_keys or self._facet_keys).key(
            conn, (e.kind, e.category, e.channel, e.received_on.year, e.state))
        rowid = make_rowid(facet_key, e.has_text, seq)
        conn.execute(
            "INSERT INTO docs (rowid, document_id, dossier_id, archive_number, item_number, archive_key, item_key,"
            " kind, channel, state, category_key, department_key, respondent_mac, complainant_mac,"
            " received_on, closed_on, filed_at, facet_key, has_text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rowid, e.document_id, e.dossier_id, e.archive_number, e.item_number, normalize_keyword(e.archive_number),
             normalize_keyword(e.item_number), e.kind, e.channel, e.state,
             normalize_keyword(e.category) if e.category else None,
             normalize_keyword(e.department) if e.department else None,
             mac(normalize_keyword(e.respondent)) if e.respondent else None,
             mac(normalize_keyword(e.complainant)) if e.complainant else None,
             e.received_on.isoformat(), e.closed_on.isoformat() if e.closed_on else None,
             e.filed_at.isoformat(), facet_key, int(e.has_text)),
        )
        from search.highlight import SOURCE_CHARS

        # "heading" is only shown (the hit's title); "title" (the matter) is what ranks. Only the text
        # snippets are cut from is kept for display: a hit in a huge text opens no more (issue #13 item 8).
        sealed = self._sealer.seal(e.document_id, {"title": e.title, "text": e.text[:SOURCE_CHARS], "extra": extra,
                                                   "heading": e.heading})
        # Keyed by filing order alone: the large sealed rows are appended, not spread over the file.
        conn.execute("INSERT INTO sealed (rowid, fields) VALUES (?, ?)", (rowid & _SEQ_MASK, sealed))
        conn.execute("INSERT INTO fts (rowid, title, body, extra, tail) VALUES (?,?,?,?,?)",
                     (rowid, *fts_columns(e.title, e.text, extra)))

    def _remove(self, conn: apsw.Connection, document_id: str) -> None:
        row = conn.execute("SELECT rowid FROM docs WHERE document_id = ?", (document_id,)).fetchall()
        if not row:
            return
        rowid = cast(int, row[0][0])
        # secure-delete: the postings are removed from the index pages in place (no tokens needed).
        conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM sealed WHERE rowid = ?", (rowid & _SEQ_MASK,))

    def rebuild(self, entries: Iterable[IndexEntry], *, progress: ProgressCallback | None = None) -> int:
        count = 0

        def fill(conn: apsw.Connection) -> None:
            nonlocal count
            facet_keys = FacetKeys()
            # A bulk load (issue #14 item 1, ≥ 2,000 documents/s): FTS5 merges segments less often
            # while loading (all are merged into one by 'optimize' at the end), the catalogue's
            # secondary indexes are built once, sorted, after the rows are in.
            for setting, value in _BULK_FTS_SETTINGS:
                conn.execute("INSERT INTO fts (fts, rank) VALUES (?, ?)", (setting, value))
            conn.execute("PRAGMA cache_size=-262144")
            for name in DOCS_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            for batch in _batches(entries, _REBUILD_BATCH):
                conn.execute("BEGIN")
                for entry in batch:
                    self._insert(conn, entry, count, facet_keys)
                    count += 1
                conn.execute("COMMIT")
                if progress is not None:
                    progress(count)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", (str(count),))
            conn.execute(SCHEMA)      # the dropped indexes, built now
            conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            for setting, value in _DEFAULT_FTS_SETTINGS:
                conn.execute("INSERT INTO fts (fts, rank) VALUES (?, ?)", (setting, value))

        with self._lock, self._translated():
            self._swap_in(self._new_generation(fill))
        return count

    def reset(self) -> None:
        self.rebuild(())

    def refresh(self) -> None:
        """Writes are visible when they commit; nothing to do."""

    def ping(self) -> None:
        """The live generation opens and carries this analyser version."""
        with self._lock, self._translated():
            self._checked()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ------------------------------------------------------------------ reads
    def document_ids(self) -> set[str]:
        with self._lock, self._translated():
            return {r[0] for r in self._checked().execute("SELECT document_id FROM docs")}

    def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        # Imported on the first search, not with the module: every command that opens the archive
        # opens this index, and most (`dossier show`, `list`, filing) never query it (issue #9 item 7).
        from search.backends._fts5_sql import filter_clause, match_expression, scope_clause
        from search.plan import plan_query

        plan = plan_query(query.text)
        if scope.is_empty or plan.match_nothing:
            return SearchPage(query, (), 0, {f.value: {} for f in Facet} if query.facets else {})
        if query.offset + query.page_size > MAX_RESULT_WINDOW:   # as the servers do (and SQLite's 64-bit LIMIT)
            raise InvalidQueryError(query.text, f"only the first {MAX_RESULT_WINDOW:,} hits can be paged through; "
                                                "narrow the search")
        with self._lock, self._translated():
            conn = self._checked()
            where, params = scope_clause(scope, self._sealer.mac)
            clauses, args = [where], list(params)
            if plan.filters is not None:
                sql, p = filter_clause(plan.filters, self._sealer.mac)
                clauses.append(f"({sql})")
                args += p
            joined = where != "1" or plan.filters is not None
            for neg in plan.excluded:
                clauses.append(f"{'d' if joined or plan.text is None else 'fts'}.rowid NOT IN"
                               " (SELECT rowid FROM fts WHERE fts MATCH ?)")
                args.append(match_expression(neg))
            if plan.text is not None:
                # Everything in scope and no filter: the postings alone answer (the row id carries
                # the facets), no row of ``docs`` is visited. Otherwise each match is joined to its
                # catalogue row, and the scope is checked inside the same statement.
                source = "fts JOIN docs d ON d.rowid = fts.rowid" if joined else "fts"
                rowid = "fts.rowid"
                clauses.insert(0, "fts MATCH ?")
                args.insert(0, match_expression(plan.text))
                score = "-bm25(fts, {}, {}, {}, {})".format(*WEIGHTS)
            else:
                source, rowid, score = "docs d", "d.rowid", "0.0"
            condition = " AND ".join(clauses)
            if plan.text is not None and query.sort is SortOrder.RELEVANCE and joined:
                total, facets, page = self._ranked_in_one_pass(conn, source, condition, args, score, query)
            else:
                total, facets = self._counted(conn, source, rowid, condition, args, query.facets)
                if plan.text is not None and query.sort is SortOrder.RELEVANCE:
                    page = self._ranked(conn, source, rowid, condition, args, score, query)
                else:
                    page = self._ordered(conn, source, rowid, condition, args, score, query)
            hits = self._hits(conn, page, plan.leaves)
        return SearchPage(query, hits, total, facets)

    def _counted(self, conn: apsw.Connection, source: str, rowid: str, condition: str, args: list[object],
                 facets: bool) -> tuple[int, dict[str, dict[str, int]]]:
        """The exact total and facet counts, from row ids grouped by facet key (no ranking, no fetch)."""
        if not facets:
            return cast(int, conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}",
                                          args).fetchall()[0][0]), {}
        return self._facet_keys.expand(conn, conn.execute(
            f"SELECT {rowid} >> {_SEQ_BITS + 1}, count(*) FROM {source} WHERE {condition} GROUP BY 1", args))

    def _ranked_in_one_pass(self, conn: apsw.Connection, source: str, condition: str, args: list[object],
                            score: str, query: SearchQuery
                            ) -> tuple[int, dict[str, dict[str, int]], list[tuple[int, float]]]:
        """Scoped or filtered: each match is joined to its catalogue row once, and only the rows that
        pass are scored and brought here (a filter passes few; counting and ranking in two statements
        would join every match twice)."""
        rows = cast(list[tuple[int, float]],
                    conn.execute(f"SELECT fts.rowid, {score} FROM {source} WHERE {condition}", args).fetchall())
        facets: dict[str, dict[str, int]] = {}
        if query.facets:
            _, facets = self._facet_keys.expand(conn, Counter(r[0] >> (_SEQ_BITS + 1) for r in rows).items())
        # Items with text first (#11 item 4), then by score; equal scores by date (_tie_broken).
        wanted = query.offset + query.page_size
        best = heapq.nlargest(wanted + 1, rows, key=_rank_key)
        return len(rows), facets, _page(conn, best, wanted, lambda: rows)[query.offset:]

    @staticmethod
    def _ranked(conn: apsw.Connection, source: str, rowid: str, condition: str, args: list[object], score: str,
                query: SearchQuery) -> list[tuple[int, float]]:
        """Best first; SQLite keeps only the best ``offset + page_size + 1`` rows while it scores the matches."""
        # has_text leads: BM25 favours a short field, so an item with no extracted text (matched on
        # its dossier's matter alone) would otherwise outrank every real text (#11 item 4).
        wanted = query.offset + query.page_size
        statement = f"SELECT {rowid}, {score} AS score FROM {source} WHERE {condition}"
        best = conn.execute(f"{statement} ORDER BY ({rowid} >> {_SEQ_BITS}) & 1 DESC, score DESC LIMIT ?",
                            [*args, wanted + 1]).fetchall()
        return _page(conn, cast(list[tuple[int, float]], best), wanted,
                     lambda: cast(list[tuple[int, float]], conn.execute(statement, args).fetchall()))[query.offset:]

    @staticmethod
    def _ordered(conn: apsw.Connection, source: str, rowid: str, condition: str, args: list[object], score: str,
                 query: SearchQuery) -> list[tuple[int, float]]:
        """By date, the page by the received-date index."""
        if source == "fts":
            source = "fts JOIN docs d ON d.rowid = fts.rowid"
        # "Relevance" without words is newest first, items with text before those without (#11).
        order = _order(query.sort)
        if query.sort is SortOrder.RELEVANCE:
            order = "d.has_text DESC, " + order
        rows = conn.execute(f"SELECT {rowid}, {score} FROM {source} WHERE {condition} ORDER BY {order}"
                            " LIMIT ? OFFSET ?", [*args, query.page_size, query.offset]).fetchall()
        return [(cast(int, r[0]), cast(float, r[1])) for r in rows]

    def _hits(self, conn: apsw.Connection, page: list[tuple[int, float]], leaves: Sequence[TextLeaf]
              ) -> tuple[SearchHit, ...]:
        if not page:
            return ()
        from search.highlight import make_snippet  # with the query side (see search())

        marks = ",".join("?" * len(page))
        details = {row[0]: row[1:] for row in conn.execute(
            "SELECT d.rowid, d.document_id, d.dossier_id, d.archive_number, d.item_number, d.kind, d.state,"
            f" d.received_on, d.has_text, s.fields FROM docs d JOIN sealed s ON s.rowid = d.rowid & {_SEQ_MASK}"
            f" WHERE d.rowid IN ({marks})",
            [rowid for rowid, _ in page])}
        hits = []
        for rowid, score in page:
            document_id, dossier_id, archive_number, item_number, kind, state, received_on, has_text, sealed = (
                details[rowid])
            fields = self._open_sealed(document_id, sealed)
            hits.append(SearchHit(
                document_id=document_id, dossier_id=dossier_id, archive_number=archive_number,
                # An entry sealed before #11 has no heading: it keeps showing the matter.
                item_number=item_number, title=fields.get("heading") or fields["title"], kind=kind, state=state,
                matter=fields["title"], has_text=bool(has_text) and bool(fields["text"].strip()),
                received_on=date.fromisoformat(received_on), score=round(float(score), 4),
                snippet=make_snippet(fields["text"], leaves),
            ))
        return tuple(hits)

    def _open_sealed(self, document_id: str, sealed: bytes) -> dict[str, str]:
        try:
            return self._sealer.open(document_id, sealed)
        except ValueError as exc:
            raise SearchUnavailableError(self.name, f"stored text of {document_id} cannot be opened: {exc}; "
                                                    "was the index built with another key?") from exc

    def _translated(self) -> _SqliteErrors:
        return _SqliteErrors(self.name)


class _SqliteErrors:
    """Turns SQLite (apsw) failures into SearchUnavailableError (the catalogue is unaffected)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, (apsw.Error, OSError)):
            raise SearchUnavailableError(self.backend, str(exc)) from exc


def _rank_key(row: tuple[int, float]) -> tuple[int, float]:
    """Items with text before those without, then the BM25 score."""
    return (row[0] >> _SEQ_BITS) & 1, row[1]


def _page(conn: apsw.Connection, best: list[tuple[int, float]], wanted: int,
          every_match: Callable[[], list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """The first ``wanted`` of the ranking, ties broken as on every backend (issue #14 item 4).

    ``best`` is the top ``wanted + 1`` by :func:`_rank_key`, in that order. Equal scores (identical
    texts: the copies of one letter in several dossiers, the items of one dossier without text) are
    ranked by receipt date, newest first, then item number, then document id — the servers' sort.
    When the equal scores run past the page's end, every match is scored once more to find them all
    (rare: the top-k stays bounded otherwise).
    """
    if len(best) > wanted and _rank_key(best[wanted]) == _rank_key(best[wanted - 1]):
        boundary = _rank_key(best[wanted])
        best = [r for r in best[:wanted] if _rank_key(r) != boundary]
        best += [r for r in every_match() if _rank_key(r) == boundary]
    else:
        best = best[:wanted]
    if len(best) < 2:
        return best
    # json_each: one parameter however many rows (SQLite allows 32,766 per statement).
    facts = {row[0]: row[1:] for row in conn.execute(
        "SELECT rowid, received_on, item_key, document_id FROM docs WHERE rowid IN (SELECT value FROM json_each(?))",
        (json.dumps([r[0] for r in best]),))}
    # Stable sorts, least significant first: the order of the servers' sort clause, reversed.
    best.sort(key=lambda r: facts[r[0]][2])
    best.sort(key=lambda r: (facts[r[0]][1] == "", facts[r[0]][1]))   # no item number last, as on the servers
    best.sort(key=lambda r: facts[r[0]][0], reverse=True)
    best.sort(key=_rank_key, reverse=True)
    return best[:wanted]


def _order(sort: SortOrder) -> str:
    if sort is SortOrder.DATE_ASC:
        return "d.received_on ASC, d.filed_at ASC, d.document_id ASC"
    return "d.received_on DESC, d.filed_at DESC, d.document_id ASC"


def _batches(entries: Iterable[IndexEntry], size: int, max_chars: int = 64_000_000) -> Iterator[list[IndexEntry]]:
    """Batches of ``size`` entries, cut earlier when their texts reach ``max_chars`` (a rebuild
    holds one batch of texts in memory: 5,000 documents, or a few very large ones)."""
    batch: list[IndexEntry] = []
    chars = 0
    for entry in entries:
        batch.append(entry)
        chars += len(entry.text)
        if len(batch) == size or chars >= max_chars:
            yield batch
            batch = []
            chars = 0
    if batch:
        yield batch


_: type[SearchIndex] = Fts5SearchIndex
