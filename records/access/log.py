"""The access log: an append-only, hash-chained record of every access, with signed checkpoints.

Each entry carries a sequence number (1, 2, 3, …) and ``entry_hash = SHA-256(canonical JSON of
its fields, its seq and prev_hash)``, where ``prev_hash`` is the previous entry's hash. A chain
head row holds the last (seq, hash); appenders lock it, so entries are numbered without gaps even
with several writers. Every ``checkpoint_every`` entries, at the first entry appended once the
last checkpoint is ``checkpoint_seconds`` old (by the log's clock), and on demand, the archive's
Ed25519 key signs (seq, entry_hash, at); each checkpoint is stored in the catalogue **and**,
after the commit, appended to a JSON-lines file outside it.

The tables are also append-only in the database (triggers from migration 0003), which stops
mistakes and the application's own connections; an attacker who owns the database drops them.
What :meth:`AccessLog.verify` detects, against an attacker who can write to the database but
holds neither the signing key nor the checkpoint file:
- an edited, deleted, inserted or reordered entry, if the chain was not recomputed: the first
  bad entry is named exactly;
- an edit or deletion followed by recomputing every later hash and the head: caught at the next
  signed checkpoint, and reported as "entries a..b were rewritten" (a = the entry after the
  previous good checkpoint), since the chain alone cannot say which one changed;
- truncation of the tail: caught by the head row if it was left alone, else by the latest
  checkpoint in the catalogue, else by the latest one in the file.
What it cannot detect: truncation or rewriting of entries **after the last checkpoint** by an
attacker who also fixes the head and deletes any newer checkpoint rows (the file then shows
nothing newer either). That window is bounded twice: by count (``checkpoint_every`` entries) and
by time (an entry appended more than ``checkpoint_seconds`` after the last checkpoint is signed at
once, so on a busy archive no entry stays unsigned much longer than that). An idle archive signs
nothing until its next entry: run ``dossier audit checkpoint`` from cron to close the window then
too. Lower both settings and copy the checkpoint file off the machine (or make it append-only,
``chattr +a``) to narrow it further. Anyone holding the signing key can forge everything; it lives
outside the catalogue for that reason.

"No log entry, no document": :meth:`AccessLog.append` runs inside the caller's session, so the
entry commits or rolls back with the retrieval. It needs a *writing* session (``uow.write()``):
on SQLite that is ``BEGIN IMMEDIATE``, which serialises appenders; on PostgreSQL the head row is
locked with ``SELECT … FOR UPDATE``. The access service opens log-only transactions
(``uow.write(log_only=True)``): on SQLite they commit without an fsync inside the write lock and
fsync the WAL right after it, before the caller sends anything, so an entry is on disk before
the document leaves, and a checkpoint's file copy is only written once its entry is on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records.access.errors import AuditChainBrokenError, AuditKeyError
from records.access.identity import AccessEvent, Checkpoint, LogEntry, Outcome, VerifyResult
from records.access.tables import GENESIS_HASH, AccessLogHeadRow, AccessLogRow, CheckpointRow, storable
from records.db import sync_wal
from records.clock import system_clock

__all__ = ["AccessEvent", "AccessLog", "Checkpoint", "LogEntry", "LogFilter", "LogPage", "Outcome", "VerifyResult",
           "ensure_signing_key"]

log = logging.getLogger(__name__)

_HASHED = ("at", "actor", "actor_id", "role", "grant_id", "purpose", "ip", "user_agent", "action",
           "object_type", "object_ref", "outcome", "reason", "details")
_SIGNED_PREFIX = b"dossier access-log checkpoint v1\n"
# Declarative classes with columns are mapped onto Tables; SQLAlchemy types ``__table__`` as the
# wider FromClause, which insert() and update() do not accept.
_LOG, _HEAD = cast(Table, AccessLogRow.__table__), cast(Table, AccessLogHeadRow.__table__)
# Built once: constructing statements per append cost more than running them.
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.entry_hash).where(_HEAD.c.id == 1)
_READ_HEAD_FOR_UPDATE = _READ_HEAD.with_for_update()
_INSERT_ENTRY = insert(_LOG)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), entry_hash=bindparam("new_hash"))
_PENDING, _HOOKED = "access_log.pending_checkpoints", "access_log.hooked"


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(seq: int, prev_hash: str, ev: AccessEvent) -> str:
    """The hash that chains an entry: over every recorded field, its seq and its predecessor's hash."""
    body: dict[str, Any] = {name: getattr(ev, name) for name in _HASHED}
    body.update(v=1, seq=seq, prev_hash=prev_hash, at=_iso(ev.at), outcome=str(ev.outcome),
                details={str(k): str(v) for k, v in ev.details.items()})
    return hashlib.sha256(_canonical(body)).hexdigest()


def _message(cp: Checkpoint) -> bytes:
    """What a checkpoint's signature covers: its seq, entry hash, time and key, domain-separated."""
    return _SIGNED_PREFIX + _canonical({"seq": cp.seq, "entry_hash": cp.entry_hash, "at": _iso(cp.at),
                                        "key_id": cp.key_id})


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def _public_path(private: Path) -> Path:
    return private.with_suffix(".pub")


def ensure_signing_key(path: Path) -> tuple[str, bool]:
    """Create the archive's checkpoint signing key (0600, never overwritten) unless it exists.

    The key is written to a private temporary file and linked into place, so a concurrent
    creator never sees a half-written key: the loser of the race uses the winner's.

    Returns:
        (key id, whether it was created now).
    """
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                os.fsync(f.fileno())
            os.link(tmp, path)
            # The public half lets a verifier without the private key check checkpoints.
            _public_path(path).write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
            return _key_id(key.public_key()), True
        except FileExistsError:
            pass  # another process created it first
        except OSError as exc:
            raise AuditKeyError(str(path), f"cannot create: {exc.strerror}") from exc
        finally:
            tmp.unlink(missing_ok=True)
    return _key_id(_load_private(path).public_key()), False


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        if path.stat().st_mode & 0o077:
            # As ssh does: a signing key others can read is no longer the archive's alone.
            raise AuditKeyError(str(path), "readable by group or others; chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise AuditKeyError(str(path), exc.strerror or "unreadable") from exc
    except ValueError as exc:
        raise AuditKeyError(str(path), "not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(str(path), "not an Ed25519 key")
    return key


@dataclass(frozen=True)
class LogFilter:
    """Which access-log entries to read (every field optional; all given ones must hold).

    ``actor_id`` is exact (a regulator's own entries, ACC-NO: it narrows, never widens, whatever
    else is asked); ``actor_like`` matches part of the recorded name, ignoring case, so an auditor
    can type "han" for "handler_b"; ``ref_prefix`` matches the start of the object's reference,
    so a dossier number also finds the entries of its documents. Times are UTC-aware,
    ``since`` inclusive and ``until`` exclusive.
    """

    actor_id: str | None = None
    actor_like: str | None = None
    action: str | None = None
    outcome: str | None = None
    ref_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, q: Any) -> Any:
        """``q`` (a select over the log table) narrowed to the entries this filter selects."""
        c = _LOG.c
        if self.actor_id is not None:
            q = q.where(c.actor_id == self.actor_id)
        if self.actor_like:
            q = q.where(func.lower(c.actor).contains(self.actor_like.lower(), autoescape=True))
        if self.action:
            q = q.where(c.action == self.action)
        if self.outcome:
            q = q.where(c.outcome == self.outcome)
        if self.ref_prefix:
            q = q.where(c.object_ref.startswith(self.ref_prefix, autoescape=True))
        if self.since is not None:
            q = q.where(c.at >= self.since)
        if self.until is not None:
            q = q.where(c.at < self.until)
        return q

    def details(self) -> dict[str, str]:
        """The filter as an access-log entry's details: what the reader asked for is on record too."""
        values = {"user": self.actor_like, "action": self.action, "outcome": self.outcome, "ref": self.ref_prefix,
                  "since": _iso(self.since) if self.since else None, "until": _iso(self.until) if self.until else None}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class LogPage:
    """One page of filtered entries, newest first, and how many entries the filter selects in all."""

    entries: list[LogEntry]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _event_of(row: Any) -> AccessEvent:
    return AccessEvent(
        at=row.at, actor=row.actor, actor_id=row.actor_id, role=row.role, grant_id=row.grant_id,
        purpose=row.purpose, ip=row.ip, user_agent=row.user_agent, action=row.action,
        object_type=row.object_type, object_ref=row.object_ref, outcome=Outcome(row.outcome),
        reason=row.reason, details=dict(row.details or {}),
    )


class AccessLog:
    """Appends to, reads, checkpoints and verifies the access log inside callers' sessions."""

    def __init__(self, *, signing_key: Path, checkpoint_file: Path, checkpoint_every: int = 100,
                 checkpoint_seconds: float = 60.0, clock: Callable[[], datetime] = system_clock) -> None:
        """
        Args:
            checkpoint_every: sign a checkpoint every N entries (1 = every entry).
            checkpoint_seconds: also sign one at the first entry appended once the last checkpoint
                is this old (0 = by count only). On a quiet archive, 100 entries can take days:
                a count alone leaves a tamper window of unbounded age.
            clock: aware UTC "now"; checkpoint ages are measured with it.
        """
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        if checkpoint_seconds < 0:
            raise ValueError("checkpoint_seconds must not be negative")
        self._key_path = signing_key
        self._file = checkpoint_file
        self._every = checkpoint_every
        self._interval = timedelta(seconds=checkpoint_seconds) if checkpoint_seconds else None
        self._clock = clock
        self._key: Ed25519PrivateKey | None = None
        # When the current unsigned stretch began, as far as this process knows: the time of the
        # last checkpoint committed (or, with none yet, of the first entry). Only ever earlier than
        # the truth (another process may have signed since), so it can only send us to the
        # catalogue to look, never skip a checkpoint that is due.
        self._window_opened: datetime | None = None

    # ------------------------------------------------------------------ writing
    def append(self, session: Session, ev: AccessEvent) -> LogEntry:
        """Add ``ev`` as the next entry, in the caller's (writing) transaction.

        Raises:
            AuditChainBrokenError: the chain head is missing or behind the log; nothing can be
                logged, so the caller's retrieval must fail too (the session is unusable after it).
            AuditKeyError: a checkpoint is due and the signing key cannot be used.
        """
        ev = storable(ev)
        values = {n: getattr(ev, n) for n in _HASHED}
        values.update(outcome=str(ev.outcome), details=dict(ev.details))
        # Core statements, not ORM objects: this runs while every other appender waits for the
        # head, and the unit-of-work machinery was most of its time (benchmarks/web.py).
        # SQLite: BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the head row.
        locked = session.get_bind().dialect.name == "postgresql"
        head = session.execute(_READ_HEAD_FOR_UPDATE if locked else _READ_HEAD).one_or_none()
        if head is None:
            raise AuditChainBrokenError(None, "the chain head record is missing; run `dossier audit verify`")
        seq, prev = head.seq + 1, head.entry_hash
        digest = entry_hash(seq, prev, ev)
        try:
            session.execute(_INSERT_ENTRY, {"seq": seq, "prev_hash": prev, "entry_hash": digest, **values})
        except IntegrityError as exc:  # the head was moved back under existing entries
            raise AuditChainBrokenError(seq, "the entry exists already: the chain head is behind the log") from exc
        session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": digest})
        if seq % self._every == 0 or self._time_due(session):
            self._sign(session, seq, digest)
        return LogEntry(seq, ev, prev_hash=prev, entry_hash=digest)

    def _time_due(self, session: Session) -> bool:
        """Whether the last checkpoint is ``checkpoint_seconds`` old, by the log's clock.

        Runs with the head locked (see :meth:`append`), so the catalogue's answer cannot change
        under us; it is asked only when this process's own record says a checkpoint may be due,
        i.e. about once per interval, not per entry.
        """
        if self._interval is None:
            return False
        now = self._clock()
        if self._window_opened is not None and now - self._window_opened < self._interval:
            return False
        last = session.scalar(select(CheckpointRow.at).order_by(CheckpointRow.seq.desc()).limit(1))
        if last is None:  # nothing signed yet: the stretch began with the first entry
            last = session.scalar(select(_LOG.c.at).where(_LOG.c.seq == 1))
        if last is None:
            return False
        self._window_opened = last
        return now - last >= self._interval

    def checkpoint(self, session: Session) -> Checkpoint | None:
        """Sign the current head now (``dossier audit checkpoint``); ``None`` while the log is empty."""
        head = self._locked_head(session)
        if head.seq == 0:
            return None
        existing = session.get(CheckpointRow, head.seq)
        if existing is not None:
            return Checkpoint(existing.seq, existing.entry_hash, existing.at, existing.key_id, existing.signature)
        return self._sign(session, head.seq, head.entry_hash)

    def _locked_head(self, session: Session) -> AccessLogHeadRow:
        stmt = select(AccessLogHeadRow).where(AccessLogHeadRow.id == 1).execution_options(populate_existing=True)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE already serialises writers
        head = session.scalars(stmt).one_or_none()
        if head is None:
            raise AuditChainBrokenError(None, "the chain head record is missing; run `dossier audit verify`")
        return head

    def _sign(self, session: Session, seq: int, digest: str) -> Checkpoint:
        key = self._signing_key(session)
        unsigned = Checkpoint(seq, digest, self._clock(), _key_id(key.public_key()), "")
        cp = Checkpoint(seq, digest, unsigned.at, unsigned.key_id, key.sign(_message(unsigned)).hex())
        session.add(CheckpointRow(seq=cp.seq, entry_hash=cp.entry_hash, at=cp.at, key_id=cp.key_id,
                                  signature=cp.signature))
        session.flush()
        # The file copy is written only once the entry it vouches for is committed: a checkpoint
        # for a rolled-back entry would later read as truncation.
        if not session.info.get(_HOOKED):
            event.listen(session, "after_commit", self._write_pending)
            event.listen(session, "after_rollback", lambda s: s.info.pop(_PENDING, None))
            session.info[_HOOKED] = True
        session.info.setdefault(_PENDING, []).append(cp)
        return cp

    def _signing_key(self, session: Session) -> Ed25519PrivateKey:
        if self._key is not None:
            return self._key
        if not self._key_path.exists():
            signed = session.scalar(select(func.count()).select_from(CheckpointRow)) or 0
            if signed or self._file_checkpoints():
                # A new key would let whoever removed the old one start a fresh, "valid" history.
                raise AuditKeyError(str(self._key_path), "missing, but checkpoints were signed with it; restore it")
            ensure_signing_key(self._key_path)
        self._key = _load_private(self._key_path)
        return self._key

    def sign_statement(self, message: bytes) -> tuple[str, str]:
        """Sign ``message`` with the archive's Ed25519 key: ``(key id, hex signature)``.

        For records the archive vouches for outside the log (disposition certificates). Callers
        MUST start ``message`` with their own domain prefix, so that no such signature can ever
        pass for a checkpoint's.

        Raises:
            AuditKeyError: the signing key is missing or unusable (it is never created here).
        """
        if message.startswith(_SIGNED_PREFIX):
            raise ValueError("a statement must not look like an access-log checkpoint")
        if self._key is None:
            self._key = _load_private(self._key_path)
        return _key_id(self._key.public_key()), self._key.sign(message).hex()

    def signing_public_key(self) -> Ed25519PublicKey | None:
        """The public half of the signing key (from the key, else its ``.pub`` file), if any."""
        return self._public_key()

    def _write_pending(self, session: Session) -> None:
        pending: list[Checkpoint] = session.info.pop(_PENDING, [])
        if not pending:
            return
        newest = max(c.at for c in pending)
        if self._window_opened is None or newest > self._window_opened:
            self._window_opened = newest
        # A log-only commit may not be on disk yet (db.py); the file copy must never vouch for
        # an entry a power cut could still take back, or verify would report a false truncation.
        sync_wal(session.get_bind())  # the catalogue's engine
        lines = "".join(json.dumps({"seq": c.seq, "entry_hash": c.entry_hash, "at": _iso(c.at), "key_id": c.key_id,
                                    "signature": c.signature}) + "\n" for c in pending)
        try:
            fd = os.open(self._file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, lines.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # committed already; verify reports the gap as a warning
            log.error("access-log checkpoint(s) %s not written to %s: %s", [c.seq for c in pending], self._file, exc)

    # ------------------------------------------------------------------ reading
    def entries(self, session: Session, *, since: datetime | None = None, until: datetime | None = None,
                actor_id: str | None = None, limit: int | None = None) -> list[LogEntry]:
        """Entries in order, optionally from ``since`` (inclusive) to ``until`` (exclusive) and by one actor."""
        q = select(AccessLogRow.__table__).order_by(AccessLogRow.seq)
        if since is not None:
            q = q.where(AccessLogRow.at >= since)
        if until is not None:
            q = q.where(AccessLogRow.at < until)
        if actor_id is not None:
            q = q.where(AccessLogRow.actor_id == actor_id)
        if limit is not None:
            q = q.limit(limit)
        return [LogEntry(r.seq, _event_of(r), r.prev_hash, r.entry_hash) for r in session.execute(q)]

    def matching(self, session: Session, where: LogFilter, *, offset: int = 0, limit: int | None = None,
                 newest_first: bool = False) -> list[LogEntry]:
        """The entries ``where`` selects, by seq (newest first if asked), ``limit`` of them from ``offset``.

        The filtering runs in the database (the log outgrows memory); the chain is not checked
        here — that is :meth:`verify`'s job, over every entry.
        """
        q = where.apply(select(AccessLogRow.__table__))
        q = q.order_by(AccessLogRow.seq.desc() if newest_first else AccessLogRow.seq).offset(max(offset, 0))
        if limit is not None:
            q = q.limit(limit)
        return [LogEntry(r.seq, _event_of(r), r.prev_hash, r.entry_hash) for r in session.execute(q)]

    def count(self, session: Session, where: LogFilter) -> int:
        """How many entries ``where`` selects (for paging)."""
        return int(session.scalar(where.apply(select(func.count()).select_from(AccessLogRow.__table__))) or 0)

    def _file_checkpoints(self) -> list[tuple[Checkpoint | None, str]]:
        """The file's checkpoints, each with its line label; an unreadable line comes as (None, label)."""
        if not self._file.exists():
            return []
        out: list[tuple[Checkpoint | None, str]] = []
        for n, line in enumerate(self._file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append((Checkpoint(int(d["seq"]), str(d["entry_hash"]), datetime.fromisoformat(d["at"]),
                                       str(d["key_id"]), str(d["signature"])), f"{self._file.name}:{n}"))
            except (ValueError, KeyError, TypeError):
                out.append((None, f"{self._file.name}:{n}"))
        return out

    def _public_key(self) -> Ed25519PublicKey | None:
        if self._key_path.exists():
            return _load_private(self._key_path).public_key()
        pub = _public_path(self._key_path)
        if pub.exists():
            key = serialization.load_pem_public_key(pub.read_bytes())
            if isinstance(key, Ed25519PublicKey):
                return key
        return None

    # ------------------------------------------------------------------ verifying
    def verify(self, session: Session) -> VerifyResult:
        """Check every entry, the head and every checkpoint; name the first broken entry."""
        problems: list[tuple[int, str]] = []
        warnings: list[str] = []
        checkpoints = [(c, "catalogue") for c in self._db_checkpoints(session)]
        in_db = {c.seq: c for c, _ in checkpoints}
        for cp, label in self._file_checkpoints():
            if cp is None:
                problems.append((_NO_SEQ, f"checkpoint file line {label} is unreadable"))
                continue
            checkpoints.append((cp, label))
            if cp.seq not in in_db:
                warnings.append(f"checkpoint at entry {cp.seq} ({label}) is missing from the catalogue")
        in_file = {c.seq for c, src in checkpoints if src != "catalogue"}
        warnings += [f"checkpoint at entry {s} is not in {self._file.name} (a crash right after its commit?)"
                     for s in sorted(in_db) if s not in in_file]
        wanted = {c.seq for c, _ in checkpoints}
        seen: dict[int, str] = {}
        checked, last_seq, last_hash = self._scan(session, wanted, seen, problems)
        self._check_head(session, last_seq, last_hash, problems)
        self._check_checkpoints(checkpoints, seen, last_seq, problems)
        problems.sort(key=lambda p: p[0])
        first = problems[0] if problems else None
        return VerifyResult(
            ok=first is None, checked=checked,
            first_broken_seq=first[0] if first and first[0] != _NO_SEQ else None,
            reason=first[1] if first else None, head_seq=last_seq, checkpoints=len(wanted), warnings=tuple(warnings),
        )

    def _db_checkpoints(self, session: Session) -> list[Checkpoint]:
        rows = session.scalars(select(CheckpointRow).order_by(CheckpointRow.seq))
        return [Checkpoint(r.seq, r.entry_hash, r.at, r.key_id, r.signature) for r in rows]

    @staticmethod
    def _scan(session: Session, wanted: set[int], seen: dict[int, str],
              problems: list[tuple[int, str]]) -> tuple[int, int, str]:
        expected, prev, checked, broken = 1, GENESIS_HASH, 0, False
        rows = session.execute(select(AccessLogRow.__table__).order_by(AccessLogRow.seq)
                               .execution_options(yield_per=2000))
        for r in rows:
            checked += 1
            if not broken:
                problem = None
                if r.seq != expected:
                    problem = (expected, f"entry {expected} is missing")  # ordered by the key: only gaps
                elif entry_hash(r.seq, r.prev_hash, _event_of(r)) != r.entry_hash:
                    problem = (r.seq, f"entry {r.seq} was altered: its hash does not match its contents")
                elif r.prev_hash != prev:
                    problem = (r.seq, f"entry {r.seq} does not follow entry {r.seq - 1}: one of them was altered or moved")
                if problem is not None:
                    problems.append(problem)
                    broken = True  # later entries chain to a broken one; the first break is what counts
            if r.seq in wanted:
                seen[r.seq] = r.entry_hash
            expected, prev = r.seq + 1, r.entry_hash
        return checked, expected - 1, prev

    @staticmethod
    def _check_head(session: Session, last_seq: int, last_hash: str, problems: list[tuple[int, str]]) -> None:
        head = session.get(AccessLogHeadRow, 1)
        if head is None:
            problems.append((_NO_SEQ, "the chain head record is missing"))
        elif head.seq > last_seq:
            problems.append((last_seq + 1, f"entries {last_seq + 1}..{head.seq} are missing: "
                                           f"the chain head records entry {head.seq}"))
        elif head.seq < last_seq:
            problems.append((head.seq + 1, f"entries {head.seq + 1}..{last_seq} were added behind the chain head"))
        elif head.entry_hash != last_hash:
            problems.append((last_seq, f"entry {last_seq} differs from the chain head"))

    def _check_checkpoints(self, checkpoints: list[tuple[Checkpoint, str]], seen: dict[int, str], last_seq: int,
                           problems: list[tuple[int, str]]) -> None:
        if not checkpoints:
            return
        public = self._public_key()
        if public is None:
            problems.append((_NO_SEQ, f"cannot check {len(checkpoints)} checkpoint(s): the signing key is missing"))
            return
        kid, last_good = _key_id(public), 0
        for cp, label in sorted(checkpoints, key=lambda x: x[0].seq):
            if cp.key_id != kid or not _valid(public, cp):
                problems.append((cp.seq, f"checkpoint at entry {cp.seq} ({label}) has an invalid signature"))
            elif cp.seq > last_seq:
                problems.append((last_seq + 1, f"entries {last_seq + 1}..{cp.seq} are missing: a signed "
                                               f"checkpoint ({label}) vouches for entry {cp.seq}"))
            elif cp.seq in seen and seen[cp.seq] != cp.entry_hash:
                problems.append((last_good + 1, f"entries {last_good + 1}..{cp.seq} were rewritten: entry {cp.seq} "
                                                f"differs from the checkpoint signed at {_iso(cp.at)} ({label})"))
            else:
                last_good = cp.seq


_NO_SEQ = 1 << 62  # sorts after every real entry: a problem that names no entry


def _valid(public: Ed25519PublicKey, cp: Checkpoint) -> bool:
    try:
        public.verify(bytes.fromhex(cp.signature), _message(cp))
    except (InvalidSignature, ValueError):
        return False
    return True
