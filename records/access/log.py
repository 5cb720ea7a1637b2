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

Sealed details (issue #12 item 3, "nothing readable outlives a destruction"). What an entry says
*about people* — its ``details`` (search query texts, filters, reasons typed by staff, file
names, notes) and its ``purpose`` — is stored sealed (AES-256-GCM, :class:`records.sealing.FieldSealer`)
under a key of the dossier key ring (:class:`records.vault.dossier_keys.DossierKeyring`):

- an entry that names one catalogued dossier (a retrieval, a filing, a lifecycle step: the
  policy decided on that dossier, so the access service knows its id) is sealed under **that
  dossier's own key**. Destroying the dossier destroys its key, and with it every readable trace
  the log kept of it, in the catalogue, its WAL, old row versions and every backup — the issue's
  requirement, with no rewrite of the append-only log;
- every other entry (a search, a listing, an audit filter, account and grant management) names no
  dossier: a query text such as a complainant's name cannot be tied to the dossier it finds, and
  the entry must not wait for a dossier that may never be destroyed. It is sealed under a
  **log-period key** (owner ``period:YYYY-MM``, the UTC month of the entry's ``at``, made on
  first use). ``dossier audit expire-details`` destroys the period keys older than
  ``[access] details_keep_months`` (default 24; 0 = keep forever) — by itself, once per process and
  month when a new month's key is made — so a schedule ends what searches said, as
  ARC-2 and the retention schedule end what dossiers say. The month is the unit because the
  key ring holds one small row per period and an auditor asks for months.

What stays in clear, because audits filter and count on it and it says nothing about a
complainant (ACC-NO, ROL-04): ``at``, ``actor``/``actor_id``, ``role``, ``grant_id``, ``action``,
``object_type``, ``object_ref`` (an archive or item number, or an account/grant id), ``outcome``,
``reason`` (the policy's reason code), and ``ip``/``user_agent`` (which describe the staff
member's device, needed to investigate an access long after a destruction). The audit page's
filters (:class:`LogFilter`) use only these columns, so they still run in SQL and paging is
unchanged; nothing filters on details text.

The chain hash covers the **stored** (sealed) form, so ``audit verify`` checks every entry
without any key, before and after a destruction. A sealed entry carries a version marker in its
details (``{"§v": "2", "§key": owner, "§box": sealed JSON of details and purpose}``); an entry
written before issue #12 has none and is read and verified as it is. An entry whose key is gone
reads as :data:`SEALED_DOSSIER_GONE` or :data:`SEALED_PERIOD_GONE` (readers translate it), never
as an error. An :class:`AccessLog` built without a key ring (tests of the log alone) writes
clear entries, as before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

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
from records.sealing import FieldSealer
from records.vault.errors import DossierKeyGoneError, WrongKeyError

if TYPE_CHECKING:
    from records.vault.dossier_keys import DossierKeyring

__all__ = ["AccessEvent", "AccessLog", "Checkpoint", "LogEntry", "LogFilter", "LogPage", "Outcome", "VerifyResult",
           "SEALED_DOSSIER_GONE", "SEALED_PERIOD_GONE", "ensure_signing_key", "period_of"]

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
# A sealed entry's details: the version marker, the key ring owner, the sealed box (details and purpose).
_V, _KEY, _BOX, _SEALED_V = "§v", "§key", "§box", "2"
_BOX_FIELD = "access_log.details"   # bound into the box's AAD with the owner
_PURPOSE_SEALED = "§sealed"         # the purpose column of a sealed entry that had one (its text is in the box)
PERIOD_PREFIX = "period:"
#: What a reader sees of a sealed entry's details and purpose once its key is gone (translate on display).
SEALED_DOSSIER_GONE = "(sealed: dossier destroyed)"
SEALED_PERIOD_GONE = "(sealed: log period expired)"
SEALED_DETAIL = "sealed"            # the one details key such an entry shows


def period_of(at: datetime) -> str:
    """The key ring owner of the log period holding ``at``: ``period:YYYY-MM`` (UTC month)."""
    return f"{PERIOD_PREFIX}{at.astimezone(timezone.utc):%Y-%m}"


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
                 checkpoint_seconds: float = 60.0, clock: Callable[[], datetime] = system_clock,
                 keyring: DossierKeyring | None = None, details_keep_months: int = 0) -> None:
        """
        Args:
            checkpoint_every: sign a checkpoint every N entries (1 = every entry).
            checkpoint_seconds: also sign one at the first entry appended once the last checkpoint
                is this old (0 = by count only). On a quiet archive, 100 entries can take days:
                a count alone leaves a tamper window of unbounded age.
            clock: aware UTC "now"; checkpoint ages are measured with it.
            keyring: the dossier key ring that seals entries' details (see the module docstring);
                ``None`` writes them in clear, as before issue #12 (tests of the log alone).
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
        self._keyring = keyring
        self._sealer = FieldSealer(keyring) if keyring is not None else None
        self._keep_months = details_keep_months  # 0: period keys are kept until `audit expire-details`
        self._period_ready: str | None = None  # the period whose key this process knows exists
        # When the current unsigned stretch began, as far as this process knows: the time of the
        # last checkpoint committed (or, with none yet, of the first entry). Only ever earlier than
        # the truth (another process may have signed since), so it can only send us to the
        # catalogue to look, never skip a checkpoint that is due.
        self._window_opened: datetime | None = None

    # ------------------------------------------------------------------ writing
    def append(self, session: Session, ev: AccessEvent, *, dossier_id: str | None = None) -> LogEntry:
        """Add ``ev`` as the next entry, in the caller's (writing) transaction.

        ``dossier_id``: the catalogued dossier the entry names, if it names one; its details and
        purpose are then sealed under that dossier's key, else under the period key of ``ev.at``.
        The returned entry holds ``ev`` as given (in clear); the chain hash covers the sealed form.

        Raises:
            AuditChainBrokenError: the chain head is missing or behind the log; nothing can be
                logged, so the caller's retrieval must fail too (the session is unusable after it).
            AuditKeyError: a checkpoint is due and the signing key cannot be used.
        """
        ev = clear = storable(ev)
        if self._sealer is not None:
            # Sealed before the head is read: a key ring look-up (or a period key made once a
            # month) never runs while every other appender waits for the head.
            ev = self._sealed(ev, dossier_id)
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
        return LogEntry(seq, clear, prev_hash=prev, entry_hash=digest)

    # ------------------------------------------------------------------ sealing (issue #12)
    def _owner(self, dossier_id: str | None, at: datetime) -> str | None:
        """The key ring owner that seals an entry: its dossier's key, else its period's (made on first use).

        ``None``: the period's key was destroyed already (the clock went back past an expiry);
        the entry then keeps no details at all rather than clear ones.
        """
        assert self._keyring is not None
        if dossier_id:
            try:
                # Idempotent; a dossier registered before issue #12 gets its key here, so that its
                # entries still go when it is destroyed.
                self._keyring.create(dossier_id, now=at)
                return dossier_id
            except DossierKeyGoneError:
                pass  # a destroyed dossier's tombstone is read: its entry goes under the period key
        period = period_of(at)
        if period == self._period_ready:
            return period  # made already this month (only months before the current one are ever expired)
        try:
            self._keyring.create(period, now=at)
        except DossierKeyGoneError:
            return None
        self._period_ready = period
        if self._keep_months > 0:
            # Once per process and month: the schedule runs by itself, without a cron job.
            self.expire_details(keep_months=self._keep_months)
        return period

    def _sealed(self, ev: AccessEvent, dossier_id: str | None) -> AccessEvent:
        """``ev`` as stored: details and purpose in one box sealed under the owner's key."""
        assert self._sealer is not None
        if not ev.details and ev.purpose is None:
            return ev  # nothing about anyone to seal (a sign-in, a verify): stored as it is
        owner = self._owner(dossier_id, ev.at)
        if owner is None:
            return replace(ev, details={SEALED_DETAIL: SEALED_PERIOD_GONE},
                           purpose=SEALED_PERIOD_GONE if ev.purpose is not None else None)
        box = self._sealer.seal(owner, _BOX_FIELD, _canonical({"d": dict(ev.details), "p": ev.purpose}).decode("utf-8"))
        assert box is not None
        return replace(ev, details={_V: _SEALED_V, _KEY: owner, _BOX: box},
                       purpose=_PURPOSE_SEALED if ev.purpose is not None else None)

    def _opened(self, ev: AccessEvent) -> AccessEvent:
        """A stored event with its details and purpose opened; a legacy clear entry as it is.

        A key that is gone reads as the marker (:data:`SEALED_DOSSIER_GONE` /
        :data:`SEALED_PERIOD_GONE`); a box that fails authentication (altered, or moved to
        another owner) reads as altered — ``verify`` names the entry.
        """
        d = ev.details
        if d.get(_V) != _SEALED_V or _KEY not in d or _BOX not in d:
            return ev
        owner = str(d[_KEY])
        gone = SEALED_PERIOD_GONE if owner.startswith(PERIOD_PREFIX) else SEALED_DOSSIER_GONE
        opened: str | None = None
        if self._sealer is not None:
            try:
                opened = self._sealer.open(owner, _BOX_FIELD, str(d[_BOX]))
            except (WrongKeyError, ValueError):
                gone = "(sealed: cannot be opened)"
        if opened is None:
            return replace(ev, details={SEALED_DETAIL: gone}, purpose=gone if ev.purpose is not None else None)
        body = json.loads(opened)
        return replace(ev, details={str(k): str(v) for k, v in (body.get("d") or {}).items()}, purpose=body.get("p"))

    def expire_details(self, *, keep_months: int, dry_run: bool = False) -> list[str]:
        """Destroy the period keys of months older than ``keep_months`` (by the log's clock); which ones.

        With ``keep_months`` N the current month and the N before it are kept. The entries stay
        and still verify (the chain covers their sealed form); their details read as
        :data:`SEALED_PERIOD_GONE`. ``keep_months`` 0 destroys nothing (keep forever).
        """
        if self._keyring is None or keep_months <= 0:
            return []
        now = self._clock().astimezone(timezone.utc)
        this_month = now.year * 12 + now.month - 1
        expired: list[str] = []
        for owner in self._keyring.owners(PERIOD_PREFIX):
            if not owner.startswith(PERIOD_PREFIX):
                continue
            try:
                y, m = owner[len(PERIOD_PREFIX):].split("-")
                month = int(y) * 12 + int(m) - 1
            except ValueError:
                continue
            if this_month - month > keep_months:
                expired.append(owner)
        if not dry_run:
            for owner in expired:
                self._keyring.destroy(owner, now=now)
                if owner == self._period_ready:
                    self._period_ready = None
        return sorted(expired)

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
        return [LogEntry(r.seq, self._opened(_event_of(r)), r.prev_hash, r.entry_hash) for r in session.execute(q)]

    def matching(self, session: Session, where: LogFilter, *, offset: int = 0, limit: int | None = None,
                 newest_first: bool = False) -> list[LogEntry]:
        """The entries ``where`` selects, by seq (newest first if asked), ``limit`` of them from ``offset``.

        The filtering runs in the database (the log outgrows memory) on clear columns only, so
        paging is exact; each selected entry's sealed details are opened afterwards. The chain is
        not checked here — that is :meth:`verify`'s job, over every entry, as stored.
        """
        q = where.apply(select(AccessLogRow.__table__))
        q = q.order_by(AccessLogRow.seq.desc() if newest_first else AccessLogRow.seq).offset(max(offset, 0))
        if limit is not None:
            q = q.limit(limit)
        return [LogEntry(r.seq, self._opened(_event_of(r)), r.prev_hash, r.entry_hash) for r in session.execute(q)]

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
