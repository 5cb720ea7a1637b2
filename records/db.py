"""Catalogue engine and the unit of work (the schema and its migrations live in the top-level `migrations` package).

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk before it returns, so an
accepted upload is durable before success is reported) — except that transactions that only
append to the access log commit with ``NORMAL`` and fsync the WAL right after releasing the
write lock (``write(log_only=True)``): just as durable when the caller continues, but the disk
wait is no longer inside the lock every reader's log entry queues on. Every writing transaction starts
with ``BEGIN IMMEDIATE``: a writer takes the write lock up front and waits for it (busy timeout)
instead of failing half-way when two processes register at once.

Writers of one SQLite file also queue on an ``flock`` of ``<catalogue>.writelock`` before they
begin: SQLite's own busy handler makes a waiting writer sleep and retry (1, 2, 5, 10 … 100 ms),
so under several gunicorn workers the waits, not the work, made the tail latency; the flock is
polled every 2 ms at most, so the next writer starts within that of the lock's release. The
lock is advisory and only an optimisation: SQLite's write lock still decides, so a writer that
does not take it (another tool, an old version) stays correct.

:meth:`UnitOfWork.transaction` opens one writing transaction that every ``read()`` and
``write()`` of the same unit of work joins while it lasts (in the same thread or task), so a
use case can combine reads of several services with its access-log entry in one commit.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from records.errors import CatalogueUnavailableError, ConfigurationError

_READONLY = "dossier_readonly"
_LOG_ONLY = "dossier_log_only"
_LOCK_PATIENCE = 30.0  # seconds to queue on the writer lock before leaving it to SQLite's busy timeout


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for the catalogue at ``url`` (SQLite file or PostgreSQL)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Hand transaction control to the "begin" hook below (pysqlite's own is too lazy).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            # Freed space is zeroed, so a disposed dossier's blanked fields leave no copy in the file.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            readonly = options.get(_READONLY, False)
            if not readonly:
                # The level can only change between transactions; set it only when it differs.
                level = "NORMAL" if options.get(_LOG_ONLY, False) else "FULL"
                if conn.connection.info.get("synchronous") != level:
                    conn.exec_driver_sql(f"PRAGMA synchronous={level}")
                    conn.connection.info["synchronous"] = level
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, echo=echo, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_file(engine: Engine) -> Path | None:
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _writer_lock_path(engine: Engine) -> Path | None:
    """``<catalogue>.writelock`` beside an SQLite file; None for PostgreSQL and in-memory SQLite."""
    db = _sqlite_file(engine)
    return db.with_name(db.name + ".writelock") if db is not None else None


def sync_wal(engine: Engine | Connection) -> None:
    """Make every commit so far durable: fsync the SQLite write-ahead log (nothing to do on PostgreSQL).

    Commits of ``log_only`` transactions reach the WAL file without waiting for the disk
    (``synchronous=NORMAL``). A sync flushes the file, not a descriptor, so syncing it from here
    makes those commits as durable as ``synchronous=FULL`` would have. Frames already moved
    into the database by a checkpoint were synced there by SQLite (and the WAL may be gone).
    """
    db = _sqlite_file(engine.engine)
    if db is None:
        return
    try:
        fd = os.open(db.with_name(db.name + "-wal"), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        os.fdatasync(fd)  # as SQLite itself syncs the WAL: data and size, not timestamps
    finally:
        os.close(fd)


@contextmanager
def _queued(path: Path | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (one open file description per holder, so threads queue too)."""
    if path is None:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:  # read-only directory: SQLite's busy handler alone still serialises writers
        yield
        return
    try:
        # Polled in steps of at most 2 ms rather than blocking: a holder that never lets go (say a
        # nested writer in the same process) costs ``_LOCK_PATIENCE`` and then SQLite's busy
        # timeout, as before, instead of hanging forever.
        deadline, pause = time.monotonic() + _LOCK_PATIENCE, 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
        yield
    finally:
        os.close(fd)  # releases the lock


class UnitOfWork:
    """One catalogue transaction per use case; commit on success, roll back on any error."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._log_writer = sessionmaker(engine.execution_options(**{_LOG_ONLY: True}), expire_on_commit=False)
        self._reader = sessionmaker(engine.execution_options(**{_READONLY: True}), expire_on_commit=False)
        self._lock_path = _writer_lock_path(engine)
        self._joined: ContextVar[Session | None] = ContextVar(f"uow-{id(self)}", default=None)

    @contextmanager
    def write(self, *, log_only: bool = False) -> Iterator[Session]:
        """A writing transaction, committed when the block ends.

        ``log_only``: the transaction writes nothing but access-log entries (besides reading).
        On SQLite it then commits without waiting for the disk, so the next writer need not wait
        for it either, and the write-ahead log is fsynced once the write lock is released, before
        this returns: the entry is as durable as any other commit when the caller goes on, and
        the disk waits of concurrent appenders overlap instead of queueing behind the lock.
        """
        joined = self._joined.get()
        if joined is not None:
            yield joined
            return
        light = log_only and self._lock_path is not None
        with _queued(self._lock_path), (self._log_writer if light else self._writer)() as session, session.begin():
            yield session
        if light:
            sync_wal(self._engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        joined = self._joined.get()
        if joined is not None:
            yield joined
            return
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self, *, log_only: bool = False) -> Iterator[Session]:
        """One writing transaction that ``read()`` and ``write()`` calls inside it join.

        Inner blocks neither commit nor roll back: the whole commits when this block ends and
        rolls back if an error leaves it. Use it to put an access-log entry in the same commit
        as the catalogue reads it vouches for ("no log entry, no document"). ``log_only`` as
        for :meth:`write`.
        """
        if self._joined.get() is not None:
            raise RuntimeError("a unit-of-work transaction is already open here")
        with self.write(log_only=log_only) as session:
            token = self._joined.set(session)
            try:
                yield session
            finally:
                self._joined.reset(token)

    def checkpoint(self) -> None:
        """SQLite: move committed pages out of the write-ahead log and truncate it (a no-op elsewhere).

        The WAL keeps earlier images of every page it rewrote; after a disposal those hold the
        personal fields just blanked, so disposal calls this to leave them in no file.
        """
        if self._engine.dialect.name != "sqlite":
            return
        raw = self._engine.raw_connection()
        try:
            driver = raw.driver_connection
            # Only an invalidated or closed pool connection has no driver connection; this one
            # was just checked out.
            assert driver is not None
            # The raw connection runs in autocommit (isolation_level None): no transaction blocks it.
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def close(self) -> None:
        self._engine.dispose()


def catalogue_unavailable(exc: BaseException) -> CatalogueUnavailableError | None:
    """The domain error for a driver error that means "the catalogue cannot be used right now", else None.

    SQLAlchemy's ``OperationalError`` is what a refused or dropped connection, a server shutting
    down, a statement timeout or (SQLite) a lock held past the busy timeout raise; ``InterfaceError``
    a connection the driver already lost; its ``TimeoutError`` a pool with no free connection. All
    of them clear up on their own or once the database is repaired, so they are "unavailable"
    (503, exit 14), not a bug in Dossier (500, exit 70). Called where errors are mapped (the web's
    handler, the CLI's ``command_errors``) rather than around every query. The message is the
    driver's first line: the URL (and a password in it) is never part of it.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    if isinstance(exc, PoolTimeoutError):
        return CatalogueUnavailableError("no free connection in the pool")
    if isinstance(exc, OperationalError | InterfaceError):
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        first = (str(cause).strip().splitlines() or [""])[0]
        return CatalogueUnavailableError(f"{type(cause).__name__}: {first}")
    return None
