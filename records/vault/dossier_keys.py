"""Per-dossier data keys (issue #12): one AES-256 key per dossier, kept wrapped in a keyring of its own.

Why a keyring outside the catalogue: a key that lives in the catalogue lives in every copy of it —
backups, PostgreSQL's old row versions and WAL, replicas — and the master key that unwrapped it
yesterday unwraps it from those copies tomorrow. Destroying a dossier must make *every* copy of its
sealed fields and objects unreadable, so its key lives only here, in a small SQLite file that is
key material (backed up by the key path, never by ``dossier backup``), and destruction deletes
the row with ``secure_delete`` on and the WAL truncated, so the wrapped key is overwritten on disk.

What each dossier key seals (wrapped by the master key or the KMS, like object keys before it):
- the personal and free-text fields of its registration, notes and file names (``records.sealing``);
- the data keys of its stored objects (``Vault.store_object(..., dossier_id=)``: key id
  ``dossier:<id>``), so an old catalogue backup plus the master key still opens nothing;
- access-log details of entries that name it (``records.access.log``).

``key()`` never lets a key leave the process unwrapped: callers get bytes to use in memory, cached
in a bounded LRU so lists of hundreds of dossiers do not call the key service per row.

The keyring also holds *period keys* (``period:YYYY-MM``) for log details that name no dossier
(search queries); ``destroy()`` works the same for them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from records.vault.errors import DossierKeyGoneError, DossierKeyMissingError, KeyUnavailableError
from records.vault.interfaces import KeyProvider, WrappedKey

__all__ = ["DossierKeyring", "DOSSIER_KEY_PREFIX"]

log = logging.getLogger(__name__)

DOSSIER_KEY_PREFIX = "dossier:"
_KEY_SIZE = 32
_CACHE = 4096
_SCHEMA = """
CREATE TABLE IF NOT EXISTS dossier_keys (
    owner TEXT PRIMARY KEY,          -- a dossier id, or 'period:YYYY-MM'
    key_id TEXT NOT NULL,            -- the master key it is wrapped under
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS destroyed_keys (
    owner TEXT PRIMARY KEY,          -- remembered, so a destroyed key is never re-created
    destroyed_at TEXT NOT NULL
);
"""


def _context(owner: str) -> dict[str, str]:
    return {"dossier_key": owner}


class DossierKeyring:
    """The keyring file (default ``<key file's directory>/dossier-keys.sqlite3``), 0600.

    Args:
        path: the SQLite file (created if missing).
        keys: the master-key provider that wraps every key stored here.
    """

    def __init__(self, path: Path, keys: KeyProvider) -> None:
        self._path = Path(path)
        self._keys = keys
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._conn: sqlite3.Connection | None = None
        self._data_version: int | None = None

    @property
    def path(self) -> Path:
        return self._path

    # ------------------------------------------------------------------ connection
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
                self._conn = self._connect()
            except (OSError, sqlite3.Error) as exc:
                raise KeyUnavailableError("dossier-keyring", f"cannot open {self._path}: {exc}") from exc
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        # Many processes open the ring at once (web workers, intake workers, the console): switching
        # to WAL and creating the tables need a lock SQLite's busy timeout does not always wait for,
        # so both are done only when needed, and a "locked" answer is retried for a while.
        for attempt in range(200):
            conn = sqlite3.connect(self._path, timeout=30, check_same_thread=False, isolation_level=None)
            try:
                # Deleted keys are overwritten in the file (secure_delete) and in the WAL (truncated after a destroy).
                conn.execute("PRAGMA secure_delete=ON")
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not {"dossier_keys", "destroyed_keys"} <= tables:
                    conn.executescript(_SCHEMA)
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                if "locked" not in str(exc) or attempt == 199:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ use
    def create(self, owner: str, *, now: datetime) -> None:
        """Make ``owner``'s key if it has none (idempotent); durable when this returns.

        Check and insert run in one write transaction, so two processes creating the same key at
        once agree on one: the loser unwraps and caches the stored key, never its own.

        Raises:
            DossierKeyGoneError: the key was destroyed once; it is never made again.
        """
        with self._lock:
            db = self._db()
            self._check_fresh(db)
            if owner in self._cache:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT key_id, wrapped FROM dossier_keys WHERE owner = ?", (owner,)).fetchone()
                gone = row is None and db.execute("SELECT 1 FROM destroyed_keys WHERE owner = ?",
                                                  (owner,)).fetchone() is not None
                key: bytes | None = None
                if row is None and not gone:
                    key = os.urandom(_KEY_SIZE)
                    wrapped = self._keys.wrap(key, context=_context(owner))
                    db.execute("INSERT INTO dossier_keys VALUES (?,?,?,?)",
                               (owner, wrapped.key_id, wrapped.ciphertext, now.isoformat()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if gone:
                raise DossierKeyGoneError(owner)
            if key is not None:
                self._remember(owner, key)
            # else made by another process (or earlier): it exists, which is all create() promises;
            # key() unwraps the stored one when it is used.

    def key(self, owner: str) -> bytes:
        """The unwrapped key of ``owner`` (in memory only).

        A key destroyed by another process is noticed at the next call (``PRAGMA data_version``
        changes when another connection commits), so no process keeps opening what was destroyed.

        Raises:
            DossierKeyGoneError: destroyed.
            DossierKeyMissingError: never in this key ring (a dossier from before issue #12 — or
                the wrong or an older copy of the ring).
            KeyNotFoundError, WrongKeyError, KeyUnavailableError: the master key cannot unwrap it.
        """
        with self._lock:
            db = self._db()
            self._check_fresh(db)
            cached = self._cache.get(owner)
            if cached is not None:
                self._cache.move_to_end(owner)
                return cached
            row = db.execute("SELECT key_id, wrapped FROM dossier_keys WHERE owner = ?", (owner,)).fetchone()
            if row is None:
                if db.execute("SELECT 1 FROM destroyed_keys WHERE owner = ?", (owner,)).fetchone():
                    raise DossierKeyGoneError(owner)
                raise DossierKeyMissingError(owner)
            # Unwrapped under the lock: a destroy() cannot slip in between and have its cache pop undone.
            key = self._keys.unwrap(WrappedKey(row[0], bytes(row[1])), context=_context(owner))
            self._remember(owner, key)
            return key

    def has(self, owner: str) -> bool:
        with self._lock:
            return self._db().execute("SELECT 1 FROM dossier_keys WHERE owner = ?", (owner,)).fetchone() is not None

    def destroyed(self, owner: str) -> bool:
        with self._lock:
            return self._db().execute("SELECT 1 FROM destroyed_keys WHERE owner = ?", (owner,)).fetchone() is not None

    def destroy(self, owner: str, *, now: datetime) -> bool:
        """Destroy ``owner``'s key for good: the row is overwritten in the file and the WAL truncated.

        Returns whether a key was there to destroy (a re-run after a crash destroys nothing twice).
        """
        with self._lock:
            db = self._db()
            self._cache.pop(owner, None)
            db.execute("BEGIN IMMEDIATE")
            try:
                gone = db.execute("DELETE FROM dossier_keys WHERE owner = ?", (owner,)).rowcount
                db.execute("INSERT OR IGNORE INTO destroyed_keys VALUES (?, ?)", (owner, now.isoformat()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._truncate_wal(db)
            return bool(gone)

    def owners(self, prefix: str = "") -> Iterator[str]:
        """Owners with a key, optionally only those starting with ``prefix`` (e.g. ``"period:"``)."""
        with self._lock:
            rows = self._db().execute("SELECT owner FROM dossier_keys WHERE substr(owner, 1, ?) = ? ORDER BY owner",
                                      (len(prefix), prefix)).fetchall()
        return iter([r[0] for r in rows])

    def rewrap(self) -> int:
        """Re-wrap every key not under the current master key (after ``keys rotate``); returns how many."""
        current = self._keys.current_key_id
        with self._lock:
            rows = self._db().execute("SELECT owner, key_id, wrapped FROM dossier_keys WHERE key_id != ?",
                                      (current,)).fetchall()
        done = 0
        for owner, key_id, wrapped in rows:
            key = self._keys.unwrap(WrappedKey(key_id, bytes(wrapped)), context=_context(owner))
            new = self._keys.wrap(key, context=_context(owner))
            with self._lock:
                self._db().execute("UPDATE dossier_keys SET key_id = ?, wrapped = ? WHERE owner = ?",
                                   (new.key_id, new.ciphertext, owner))
            done += 1
        if done:
            with self._lock:
                self._truncate_wal(self._db())
        return done

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _check_fresh(self, db: sqlite3.Connection) -> None:
        """Forget every cached key once another connection has committed (it may have destroyed one)."""
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._cache.clear()
            self._data_version = version

    @staticmethod
    def _truncate_wal(db: sqlite3.Connection) -> None:
        """Checkpoint and truncate the WAL, so the deleted key's old page images leave it.

        A reader in another process can hold the checkpoint back; it is retried for a few
        seconds, and if it stays busy the next destroy or rotation truncates it.
        """
        for attempt in range(50):
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.1)
        log.warning("dossier key ring %s: WAL still in use by a reader; truncated at the next destroy", db)

    def _remember(self, owner: str, key: bytes) -> None:
        self._cache[owner] = key
        self._cache.move_to_end(owner)
        while len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
