"""IntakeQueue: an upload is durable at once and filed later by a background worker (issue #5).

Uploaded letter and fax scans (INT-CH-01/02) go through the ingestion pipeline (ARC-5-02) without
the request waiting for OCR.

The request only seals each file into the vault (a staging object, encrypted like every
original: no plaintext on disk) and records a ``queued`` job in the catalogue, in that order, so
success is reported only for what is durable. A worker then claims the job atomically, opens
the staging object, runs it through :class:`~ingest.service.IngestService` — the one pipeline
(detect, extract/OCR, classify, file) — records the outcome on the job and shreds the staging
copy.

Claiming is one short write transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (two
workers never wait for, nor take, the same row) and SQLite's ``BEGIN IMMEDIATE`` write lock
(which the catalogue's unit of work takes for every write; SQLite has no row locks and ignores
``FOR UPDATE``). A claim is a lease: the worker renews it while it works (heartbeat thread); a
worker that dies stops renewing, and once the lease has run out the job is claimed again. A job
is tried at most ``max_attempts`` times, then recorded as ``failed`` with the reason.

Filing exactly once: a worker can die after the document was committed but before the job was
marked. The retry then meets the pipeline's duplicate check (nothing is filed twice, by
SHA-256) and recognises its own earlier filing — same uploader and file name, filed after the
job first started — so the job ends ``filed`` with that item number instead of ``duplicate``.

Accepted means kept (issue #17): once the uploader has been told 202, the sealed staging copy
(its blob, and the wrapped data key on the job row) is destroyed only when the job is
``filed`` or ``refused``. A job that runs out of attempts — say the key service hung for a
minute and a half — is ``failed`` with its copy intact, and an archivist re-queues it
(`dossier intake retry`, the intake page) once the cause is gone. Attempts back off
exponentially (``retry_seconds`` × 2^(attempt−1), capped), and a back-end outage is recorded
as such (``unavailable: …`` in the message, outcome ``unavailable`` once failed), so an
operator can tell "the key service was down" from "this file breaks the pipeline".

Nothing readable outlives a destruction (issue #12 item 3): a job row's file name, message and
its attachments' paths and messages say what a complainant sent, so they are stored sealed under
the dossier's own key (:class:`records.sealing.FieldSealer`; the job names the dossier by archive
number, whose id the catalogue gives) and opened wherever a job is read (``dossier intake
list``, the intake page, the upload API's job outcome). Destroying the dossier's key leaves them
unreadable in every copy; they read as :data:`SEALED_GONE` then. :meth:`IntakeQueue.scrub_dossier`
blanks them and shreds any staging copy still held, for the disposal (rows written before
issue #12, in clear, included). A queue built over a vault without a key ring stores them in clear.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import BinaryIO, Protocol

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ingest.model import IngestOutcome
from ingest.service import IngestResult, IngestService
from ingest.tables import IntakeJobRow, scrub_intake_jobs
from records.db import UnitOfWork
from records.errors import (
    DocumentNotFoundError, DossierClosedError, DossierError, DossierNotFoundError, NotAllowedInStateError,
    UnavailableError,
)
from records.model import OPEN_STATES, DocumentKind, DocumentSource
from records.sealing import FieldSealer
from records.service import RecordsService
from records.tables import DossierRow
from records.vault import KeyUnavailableError, Vault, VaultError, WrappedKey, blob_key_for
from records.vault.errors import DossierKeyGoneError
from records.clock import system_clock

log = logging.getLogger(__name__)

__all__ = ["Claim", "IndexCatchUp", "IntakeBacklog", "IntakeJob", "IntakeJobNotFoundError", "IntakeQueue", "IntakeWorker",
           "JobChild", "JobNotRetryableError", "JobState", "JOB_OBJECT_KIND", "SEALED_GONE", "SEALED_UNAVAILABLE", "read_chunks", "worker_name"]

JOB_OBJECT_KIND = "intake"          # bound into the staging object's seal
_OBJECT_PREFIX = "intake-"          # staging object ids; never hex, so never a document's object id
_STAGING_KEYS = f"{_OBJECT_PREFIX[:2]}/{_OBJECT_PREFIX}"  # blob_key_for fans out by the first two characters
DEFAULT_LEASE_SECONDS = 120.0
# Five attempts with the backoff below span ~2.5 minutes of waiting (10+20+40+80 s): a key service
# or store that pauses for a minute or so heals without anyone retrying by hand.
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_SECONDS = 10.0
DEFAULT_MAX_RETRY_SECONDS = 600.0   # the backoff's cap: a long queue never waits hours for one job
DEFAULT_STALE_SECONDS = 600.0       # queued or processing longer than this is "long-queued" for operators
# Small jobs overtake large ones (issue #13 item 8): an upload over this size is claimed after every
# runnable smaller one, until it has waited this long — then it is taken in turn, so it cannot starve.
DEFAULT_LARGE_JOB_BYTES = 32 * 1024 * 1024
DEFAULT_LARGE_JOB_WAIT_SECONDS = 600.0
#: What a sealed field of a job reads as once its dossier's key is destroyed (translate on display).
SEALED_GONE = "(sealed: dossier destroyed)"
# Shown while the key service is down: the dossier's key cannot be unwrapped to open the field now.
SEALED_UNAVAILABLE = "(sealed: key service unavailable)"


class JobState(StrEnum):
    """Where an uploaded file is: queued → processing → filed | refused | failed."""

    QUEUED = "queued"
    PROCESSING = "processing"
    FILED = "filed"          # in the dossier (every outcome but duplicate; the original is always kept)
    REFUSED = "refused"      # not filed: a duplicate, or the dossier no longer takes material
    FAILED = "failed"        # gave up after max_attempts (worker died, storage unreachable, …); copy kept


STATE_NAMES = tuple(s.value for s in JobState)  # for `dossier intake list --state` (a lazy click choice)
FINAL_STATES = frozenset({JobState.FILED, JobState.REFUSED, JobState.FAILED})
# Only these shred the staging copy: the document is in the archive (filed, or already there as
# a duplicate), or the dossier takes no more material (refused). A failed job keeps its copy —
# the uploader was told it was accepted, so only filing may end it (issue #17).
SHREDDED_STATES = frozenset({JobState.FILED, JobState.REFUSED})
UNAVAILABLE = "unavailable"  # outcome of a job failed by a back-end outage (key service, blob store)
WORKER_LOST = "worker_lost"  # outcome of a job whose workers kept dying (lease expired every time)
ERROR = "error"              # outcome of a job failed by any other error


class IntakeJobNotFoundError(DocumentNotFoundError):
    """No intake job with this id (answered like an unknown document: 404, exit code 3)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.args = (f"no intake job {job_id[:64]!r}",)


class JobNotRetryableError(NotAllowedInStateError):
    """Only a failed job that still holds its staging copy can be re-queued (HTTP 409, exit code 5)."""

    code = "job_not_retryable"

    def __init__(self, job_id: str, reason: str) -> None:
        super().__init__(f"intake job {job_id} cannot be retried: {reason}")
        self.job_id = job_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class JobChild:
    """An attachment of the uploaded file, filed as a child document."""

    path: str
    outcome: str
    item_number: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class IntakeJob:
    """One uploaded file's progress and, once final, its recorded outcome."""

    job_id: str
    archive_number: str
    actor: str
    filename: str
    size: int
    sha256: str
    state: JobState
    attempts: int
    created_at: datetime
    outcome: str | None = None
    message: str | None = None
    item_number: str | None = None
    finished_at: datetime | None = None
    children: tuple[JobChild, ...] = field(default=())
    available_at: datetime | None = None   # a queued job is not claimed before this (backoff)

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True, slots=True)
class IntakeBacklog:
    """What needs an operator's eye: failed jobs, and jobs queued or processing for too long."""

    failed: int
    stale: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A job a worker holds (until its lease runs out): what it needs to open and file the upload."""

    job_id: str
    archive_number: str
    actor: str
    filename: str
    kind: DocumentKind | None
    sha256: str
    object_id: str
    wrapped: WrappedKey
    attempts: int
    first_started_at: datetime
    # Some earlier claim of this job ran (perhaps before a retry reset ``attempts``): its filing
    # may already be in the dossier, so a duplicate may be this job's own.
    tried_before: bool = False




def worker_name() -> str:
    """Who holds a lease: host, process and thread (shown in the job row for operators)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{threading.get_ident() % 100000}"


class IntakeQueue:
    """Accepts uploads into the job table and runs them through the ingest pipeline.

    Args:
        lease_seconds: how long a claim holds without a heartbeat; a dead worker's job is
            retried after this.
        max_attempts: claims per job before it is recorded as failed (its staging copy kept).
        retry_seconds: wait before the second attempt; each further wait doubles, up to
            ``max_retry_seconds``.
    """

    def __init__(self, uow: UnitOfWork, vault: Vault, records: RecordsService, ingest: IngestService, *,
                 clock: Callable[[], datetime] = system_clock, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, retry_seconds: float = DEFAULT_RETRY_SECONDS,
                 max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS, large_job_bytes: int = DEFAULT_LARGE_JOB_BYTES,
                 large_job_wait_seconds: float = DEFAULT_LARGE_JOB_WAIT_SECONDS) -> None:
        self._uow, self._vault, self._records, self._ingest = uow, vault, records, ingest
        self._clock = clock
        self.lease_seconds, self.max_attempts, self.retry_seconds = lease_seconds, max_attempts, retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.large_job_bytes, self.large_job_wait_seconds = large_job_bytes, large_job_wait_seconds
        # In-process workers wake at once on a new job; other processes poll.
        self.wakeup = threading.Event()
        ring = vault.dossier_keys
        self._ring = ring
        self._sealer = FieldSealer(ring) if ring is not None else None
        self._ids: dict[str, str | None] = {}  # archive number -> dossier id (never changes)

    # ------------------------------------------------------------------ sealed fields (issue #12)
    def _dossier_id(self, s: Session, archive_number: str) -> str | None:
        if archive_number not in self._ids:
            if len(self._ids) > 4096:
                self._ids.clear()
            self._ids[archive_number] = s.scalar(select(DossierRow.id).where(DossierRow.archive_number == archive_number))
        return self._ids[archive_number]

    def _seal(self, s: Session, archive_number: str, field: str, value: str | None) -> str | None:
        """``value`` sealed under the job's dossier's key; the gone-marker if that key was destroyed."""
        if value is None or self._sealer is None or self._ring is None:
            return value
        dossier_id = self._dossier_id(s, archive_number)
        if dossier_id is None:
            return value  # no such dossier in the catalogue: nothing to seal under (the job is refused)
        try:
            self._ring.create(dossier_id, now=self._clock())  # idempotent: a dossier from before issue #12
            return self._sealer.seal(dossier_id, field, value)
        except DossierKeyGoneError:
            return SEALED_GONE
        except UnavailableError:
            if field != "intake.message":
                raise
            # The key service is down — often the very outage this message reports — so the message
            # cannot be sealed now. It is the queue's own words about an attempt (file names never go
            # into it: see _process), kept in clear rather than losing the record of the attempt.
            return value

    def _open(self, s: Session, archive_number: str, field: str, value: str | None) -> str | None:
        if value is None or self._sealer is None:
            return value
        dossier_id = self._dossier_id(s, archive_number)
        if dossier_id is None:
            return SEALED_GONE if value.startswith("§1:") else value
        try:
            opened = self._sealer.open(dossier_id, field, value)
        except UnavailableError:
            return SEALED_UNAVAILABLE  # a listing during an outage shows the job, not an error
        return SEALED_GONE if opened is None else opened

    def _job(self, s: Session, row: IntakeJobRow) -> IntakeJob:
        """The job as callers see it, its sealed fields opened."""
        return _job_of(row, lambda field, value: self._open(s, row.archive_number, field, value))

    def _set_children(self, s: Session, row: IntakeJobRow, children: tuple[JobChild, ...]) -> None:
        row.children = [{"path": self._seal(s, row.archive_number, "intake.child_path", c.path) or "",
                         "outcome": c.outcome, "item_number": c.item_number,
                         "message": self._seal(s, row.archive_number, "intake.child_message", c.message)}
                        for c in children] or None

    def scrub_dossier(self, archive_number: str) -> int:
        """Blank the file names, messages and attachment lists of every job of dossier ``archive_number``.

        For the disposal (issue #12): see :func:`ingest.tables.scrub_intake_jobs`, which this runs
        in a transaction of its own; staging copies still held are shredded and their blobs
        deleted after the commit. Returns how many jobs the dossier had. Idempotent.
        """
        with self._uow.write() as s:
            count, shredded = scrub_intake_jobs(s, archive_number)
        for object_id in shredded:
            self._drop_staging_later(object_id)
        if count:
            log.info("intake: %d job(s) of %s scrubbed", count, archive_number)
        return count

    # ------------------------------------------------------------------ the request side
    def accept(self, actor: str, dossier: str, filename: str, chunks: Iterable[bytes], *,
               kind: DocumentKind | None = None) -> IntakeJob:
        """Seal one uploaded file into the vault and queue it; durable when this returns.

        The caller has already been authorised to file into ``dossier`` (FILE_DOCUMENT).

        Raises:
            DossierNotFoundError: no such dossier.
            DossierClosedError: the dossier takes no more material.
            VaultError: the file could not be stored (nothing is queued).
        """
        info = self._records.get_dossier(actor, dossier)
        if info.state not in OPEN_STATES:
            raise DossierClosedError(info.archive_number, info.state)
        filename = _clean_filename(filename)
        job_id = _new_job_id()
        object_id = _OBJECT_PREFIX + job_id
        now = self._clock()
        if self._ring is not None:
            self._ids[info.archive_number] = info.dossier_id
            self._ring.create(info.dossier_id, now=now)  # idempotent: a dossier from before issue #12
        # The staging copy's data key is wrapped under the dossier's key too (issue #12): a backup
        # taken while it waits (or failed) opens nothing once the dossier is destroyed.
        sealed = self._vault.store_object(object_id, JOB_OBJECT_KIND, chunks,
                                          dossier_id=info.dossier_id if self._ring is not None else None)
        stored_name = self._sealer.seal(info.dossier_id, "intake.filename", filename) if self._sealer else filename
        row = IntakeJobRow(
            id=job_id, archive_number=info.archive_number, actor=actor, filename=stored_name or filename,
            kind=kind.value if kind else None, size=sealed.size, sha256=sealed.sha256, object_id=object_id,
            key_id=sealed.wrapped_key.key_id, wrapped_key=sealed.wrapped_key.ciphertext, state=JobState.QUEUED,
            attempts=0, available_at=now, created_at=now)
        try:
            with self._uow.write() as s:
                s.add(row)
                job = self._job(s, row)
        except BaseException:
            self._vault.delete_object(object_id)  # not queued: no staging copy may stay behind
            raise
        # No file name here: the application log is a copy no destruction reaches (issue #12).
        log.info("intake %s: queued for %s (%d bytes)", job_id, info.archive_number, sealed.size)
        self.wakeup.set()
        return job

    def get(self, actor: str, job_id: str) -> IntakeJob:
        """One job's state. Raises IntakeJobNotFoundError."""
        with self._uow.read() as s:
            row = s.get(IntakeJobRow, job_id) if _valid_id(job_id) else None
            if row is None:
                raise IntakeJobNotFoundError(job_id)
            return self._job(s, row)

    def jobs(self, actor: str, job_ids: Sequence[str], *, dossier: str) -> list[IntakeJob]:
        """The named jobs of one dossier, in the order asked; unknown ids and other dossiers' jobs are left out."""
        wanted = [j for j in dict.fromkeys(job_ids) if _valid_id(j)][:200]
        if not wanted:
            return []
        with self._uow.read() as s:
            rows = {r.id: r for r in s.scalars(select(IntakeJobRow).where(
                IntakeJobRow.id.in_(wanted), IntakeJobRow.archive_number == dossier))}
            return [self._job(s, rows[j]) for j in wanted if j in rows]

    def pending_for(self, dossier: str, *, limit: int = 50) -> list[IntakeJob]:
        """Jobs of one dossier still queued or processing, oldest first (the dossier page's "In progress").

        Cheap: ``archive_number`` is indexed and only unfinished rows are read. The caller has
        already been authorised to see the dossier.
        """
        with self._uow.read() as s:
            rows = s.scalars(select(IntakeJobRow).where(
                IntakeJobRow.archive_number == dossier,
                IntakeJobRow.state.in_([JobState.QUEUED.value, JobState.PROCESSING.value]))
                .order_by(IntakeJobRow.created_at, IntakeJobRow.id).limit(limit))
            return [self._job(s, r) for r in rows]

    # ------------------------------------------------------------------ the worker side
    def process_next(self, worker: str | None = None) -> IntakeJob | None:
        """Claim the oldest runnable job and file it; None when nothing is runnable."""
        worker = worker or worker_name()
        claim = self.claim(worker)
        return None if claim is None else self.process(claim, worker)

    def process(self, claim: Claim, worker: str) -> IntakeJob:
        """File a claimed job through the ingest pipeline and record its outcome (lease renewed meanwhile)."""
        with _Heartbeat(self, claim.job_id, worker):
            return self._process(claim, worker)

    def run_pending(self, worker: str | None = None) -> list[IntakeJob]:
        """Process jobs until none is runnable (tests, `dossier worker --once`)."""
        done: list[IntakeJob] = []
        while (job := self.process_next(worker)) is not None:
            done.append(job)
        return done

    def staging_blob_keys(self) -> set[str]:
        """Store keys of the staging copies jobs still hold: queued, processing and failed ones (the
        inventory counts them as owned). A job holds its copy while its row keeps the wrapped key."""
        with self._uow.read() as s:
            ids = s.scalars(select(IntakeJobRow.object_id).where(self._holds_copy()))
            return {blob_key_for(object_id) for object_id in ids}

    def sweep_staging(self) -> int:
        """Delete staging objects whose job shredded its copy (filed or refused; a worker died between
        the two steps). Failed jobs keep theirs: only filing, or a refusal, ends an accepted upload."""
        removed = 0
        for key in list(self._vault.store.keys(prefix=_STAGING_KEYS)):
            object_id = key.rpartition("/")[2]
            with self._uow.read() as s:
                row = s.execute(select(IntakeJobRow.state, IntakeJobRow.wrapped_key)
                                .where(IntakeJobRow.object_id == object_id)).first()
            # A blob without a row is left alone: its upload may be committing right now (and if
            # that request died instead, its data key was never stored, so it is unreadable).
            # A row without its key (filed, refused — or failed before issue #17 stopped shredding
            # failures) names ciphertext nobody can open any more: that blob goes.
            if row is not None and (JobState(row.state) in SHREDDED_STATES or row.wrapped_key is None):
                self._vault.delete_object(object_id)
                removed += 1
        return removed

    # ------------------------------------------------------------------ the operator's side
    def list_jobs(self, *, states: Sequence[JobState] = (), stale_after: float | None = None,
                  limit: int = 1000) -> list[IntakeJob]:
        """Jobs in ``states`` (every state when neither filter is given), newest first; ``stale_after``
        seconds adds the queued and processing jobs older than that (the long-queued ones)."""
        conditions: list[ColumnElement[bool]] = []
        if states:
            conditions.append(IntakeJobRow.state.in_([x.value for x in states]))
        if stale_after is not None:
            conditions.append(self._stale(stale_after))
        query = select(IntakeJobRow)
        if conditions:
            query = query.where(or_(*conditions))
        with self._uow.read() as s:
            rows = s.scalars(query.order_by(IntakeJobRow.created_at.desc(), IntakeJobRow.id.desc()).limit(limit))
            return [self._job(s, r) for r in rows]

    def backlog(self, *, stale_after: float = DEFAULT_STALE_SECONDS) -> IntakeBacklog:
        """How many jobs failed, and how many have been queued or processing longer than ``stale_after`` s."""
        with self._uow.read() as s:
            failed = s.scalar(select(func.count()).select_from(IntakeJobRow)
                              .where(IntakeJobRow.state == JobState.FAILED)) or 0
            stale = s.scalar(select(func.count()).select_from(IntakeJobRow).where(self._stale(stale_after))) or 0
        return IntakeBacklog(failed=int(failed), stale=int(stale))

    def retry(self, actor: str, job_id: str) -> IntakeJob:
        """Re-queue failed job ``job_id``: attempts start again from zero and it is runnable now.

        The caller has already been authorised (MANAGE_INTAKE).

        Raises:
            IntakeJobNotFoundError: no such job.
            JobNotRetryableError: the job is not failed, or its staging copy is gone.
        """
        if not _valid_id(job_id):
            raise IntakeJobNotFoundError(job_id)
        with self._uow.write() as s:
            row = s.scalars(select(IntakeJobRow).where(IntakeJobRow.id == job_id).with_for_update()).first()
            if row is None:
                raise IntakeJobNotFoundError(job_id)
            if row.state != JobState.FAILED:
                raise JobNotRetryableError(job_id, f"it is {row.state}, not failed")
            if row.wrapped_key is None:
                # Failed before issue #17: its copy was shredded, so nothing is left to file.
                raise JobNotRetryableError(job_id, "its staging copy was shredded; upload the file again")
            self._requeue(s, row, actor)
            job = self._job(s, row)
        log.info("intake %s: re-queued by %s", job_id, actor)
        self.wakeup.set()
        return job

    def retry_failed(self, actor: str) -> list[IntakeJob]:
        """Re-queue every failed job that still holds its staging copy (see :meth:`retry`)."""
        with self._uow.write() as s:
            rows = list(s.scalars(select(IntakeJobRow).where(
                IntakeJobRow.state == JobState.FAILED, IntakeJobRow.wrapped_key.is_not(None))
                .order_by(IntakeJobRow.id).with_for_update()))
            for row in rows:
                self._requeue(s, row, actor)
            jobs = [self._job(s, r) for r in rows]
        if jobs:
            log.info("intake: %d failed job(s) re-queued by %s", len(jobs), actor)
            self.wakeup.set()
        return jobs

    def _requeue(self, s: Session, row: IntakeJobRow, actor: str) -> None:
        # first_started_at stays: it bounds "filed by an earlier attempt of this job" (see _process).
        row.state, row.attempts, row.available_at = JobState.QUEUED, 0, self._clock()
        row.outcome, row.finished_at, row.lease_until, row.worker = None, None, None, None
        last = self._open(s, row.archive_number, "intake.message", row.message)
        row.message = self._seal(s, row.archive_number, "intake.message",
                                 f"re-queued by {actor}; last failure: {last or '-'}"[:2000])

    def renew_lease(self, job_id: str, worker: str) -> bool:
        """Extend a claim the worker still holds (the heartbeat); False if it was lost."""
        with self._uow.write() as s:
            done = s.execute(update(IntakeJobRow).where(
                IntakeJobRow.id == job_id, IntakeJobRow.worker == worker, IntakeJobRow.state == JobState.PROCESSING,
            ).values(lease_until=self._clock() + timedelta(seconds=self.lease_seconds)))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def has_runnable(self) -> bool:
        with self._uow.read() as s:
            return s.scalars(select(IntakeJobRow.id).where(self._runnable(self._clock())).limit(1)).first() is not None

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _holds_copy() -> ColumnElement[bool]:
        return and_(IntakeJobRow.state.not_in([x.value for x in SHREDDED_STATES]), IntakeJobRow.wrapped_key.is_not(None))

    def _stale(self, seconds: float) -> ColumnElement[bool]:
        return and_(IntakeJobRow.state.in_([JobState.QUEUED.value, JobState.PROCESSING.value]),
                    IntakeJobRow.created_at < self._clock() - timedelta(seconds=seconds))

    @staticmethod
    def _runnable(now: datetime) -> ColumnElement[bool]:
        return or_(and_(IntakeJobRow.state == JobState.QUEUED, IntakeJobRow.available_at <= now),
                   and_(IntakeJobRow.state == JobState.PROCESSING, IntakeJobRow.lease_until < now))

    def _held_back(self, now: datetime) -> ColumnElement[bool]:
        """A large job that has not yet waited ``large_job_wait_seconds``: it goes after smaller ones."""
        return and_(IntakeJobRow.size > self.large_job_bytes,
                    IntakeJobRow.available_at > now - timedelta(seconds=self.large_job_wait_seconds))

    def claim(self, worker: str) -> Claim | None:
        """Take the oldest runnable job (queued, or abandoned with its lease run out), atomically.

        Small jobs overtake large ones (issue #13 item 8, ARC-5-02): a job over ``large_job_bytes``
        is taken only when no smaller job is runnable, until it has waited ``large_job_wait_seconds``
        since it became runnable; from then on it is taken by age like any other, so a 300 MiB upload
        neither blocks a thousand letters queued behind it nor waits for ever behind a steady stream.
        A job abandoned ``max_attempts`` times is recorded as failed instead (its staging copy kept).
        """
        if not self.has_runnable():  # a read first: an idle poll never takes SQLite's write lock
            return None
        now = self._clock()
        held_back = case((self._held_back(now), 1), else_=0)
        with self._uow.write() as s:
            while True:
                row = s.scalars(
                    select(IntakeJobRow).where(self._runnable(now))
                    .order_by(held_back, IntakeJobRow.available_at, IntakeJobRow.id).limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if row is None:
                    return None
                if row.attempts >= self.max_attempts:  # its last worker died holding it
                    self._finish_row(s, row, JobState.FAILED, now, outcome=WORKER_LOST, message=(
                        f"gave up after {row.attempts} attempts: the worker stopped before finishing (lease expired)"
                        f"{_KEPT}"))
                    s.flush()
                    continue
                if row.state == JobState.PROCESSING:
                    log.warning("intake %s: lease of %s expired; claimed again by %s", row.id, row.worker, worker)
                tried_before = row.first_started_at is not None
                row.state, row.worker = JobState.PROCESSING, worker
                row.attempts += 1
                row.lease_until = now + timedelta(seconds=self.lease_seconds)
                row.first_started_at = row.first_started_at or now
                assert row.key_id is not None and row.wrapped_key is not None
                # The file name stays sealed here: opening it needs the dossier's key, which may need the
                # key service, and an outage must be an attempt that failed (``_process``), not a crash.
                return Claim(row.id, row.archive_number, row.actor, row.filename,
                              DocumentKind(row.kind) if row.kind else None, row.sha256, row.object_id,
                              WrappedKey(row.key_id, row.wrapped_key), row.attempts, row.first_started_at,
                              tried_before=tried_before)

    def _process(self, claim: Claim, worker: str) -> IntakeJob:
        try:
            with self._uow.read() as s:
                claim = replace(claim, filename=self._open(s, claim.archive_number, "intake.filename",
                                                           claim.filename) or "")
            data = b"".join(self._vault.open_object(claim.object_id, JOB_OBJECT_KIND, claim.wrapped,
                                                    expected_sha256=claim.sha256))
            result = self._ingest.ingest_bytes(claim.actor, data, claim.filename, dossier=claim.archive_number,
                                               kind=claim.kind, source=DocumentSource.UPLOAD)
        except (DossierClosedError, DossierNotFoundError) as exc:
            return self._finish(claim, worker, JobState.REFUSED, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - storage, key service, OCR set-up: retried, then failed
            # The type only: exception texts can carry file names, and no destruction reaches the log files.
            log.warning("intake %s: attempt %d failed (%s)", claim.job_id, claim.attempts, type(exc).__name__)
            log.debug("intake %s: attempt %d failed", claim.job_id, claim.attempts, exc_info=True)
            reason = str(exc) if isinstance(exc, DossierError) else f"{type(exc).__name__}: {exc}"
            transient = _is_outage(exc)
            return self._retry(claim, worker, f"{UNAVAILABLE if transient else ERROR}: {reason}"[:1800],
                               transient=transient)
        state, outcome, message = JobState.FILED, result.outcome.value, result.message
        if result.outcome is IngestOutcome.DUPLICATE:
            mine = self._filed_by_earlier_attempt(claim, result.item_number)
            if mine is not None:
                outcome, message = mine
            else:
                state = JobState.REFUSED
        return self._finish(claim, worker, state, outcome=outcome, message=message, item_number=result.item_number,
                            children=_children(result))

    def _filed_by_earlier_attempt(self, claim: Claim, item: str | None) -> tuple[str, str | None] | None:
        """The recorded (outcome, message) if ``item`` was filed by this job's earlier, interrupted attempt."""
        if not claim.tried_before or item is None:
            return None
        doc = self._records.get_document(claim.actor, item)
        if doc.filed_by == claim.actor and doc.filename == claim.filename and doc.filed_at >= claim.first_started_at:
            log.info("intake %s: %s was filed by an earlier attempt", claim.job_id, item)
            return doc.outcome or IngestOutcome.OK.value, doc.outcome_message
        return None

    def _retry(self, claim: Claim, worker: str, reason: str, *, transient: bool) -> IntakeJob:
        if claim.attempts >= self.max_attempts:
            return self._finish(claim, worker, JobState.FAILED, outcome=UNAVAILABLE if transient else ERROR,
                                message=f"gave up after {claim.attempts} attempts: {reason}{_KEPT}")
        now = self._clock()
        wait = self.backoff(claim.attempts)
        with self._uow.write() as s:
            row = s.get(IntakeJobRow, claim.job_id)
            assert row is not None
            if row.worker == worker and row.state == JobState.PROCESSING:
                row.state, row.lease_until, row.worker = JobState.QUEUED, None, None
                row.message = self._seal(s, row.archive_number, "intake.message",
                                         f"attempt {claim.attempts} of {self.max_attempts} failed, next in {wait:g} s: "
                                         f"{reason}")
                row.available_at = now + timedelta(seconds=wait)
            return self._job(s, row)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: doubling from ``retry_seconds``, capped.

        Growing waits give a service that is down for a while (a key service paused for a minute,
        a store restarting) time to come back within the attempts, without hammering it meanwhile.
        """
        return float(min(self.retry_seconds * 2 ** max(attempts - 1, 0), self.max_retry_seconds))

    def _finish(self, claim: Claim, worker: str, state: JobState, *, outcome: str | None = None,
                message: str | None = None, item_number: str | None = None,
                children: tuple[JobChild, ...] = ()) -> IntakeJob:
        with self._uow.write() as s:
            row = s.get(IntakeJobRow, claim.job_id)
            assert row is not None
            if row.worker != worker or row.state != JobState.PROCESSING:
                # Our lease ran out and another worker took over: the job and its staging copy are its.
                log.warning("intake %s: lease lost by %s; leaving the outcome to %s", row.id, worker, row.worker)
                return self._job(s, row)
            self._finish_row(s, row, state, self._clock(), outcome=outcome, message=message, item_number=item_number,
                             children=children)
            job = self._job(s, row)
        if state in SHREDDED_STATES:
            self._drop_staging_later(claim.object_id)
        log.info("intake %s: %s %s %s", job.job_id, job.state, job.outcome or "", job.item_number or "")
        return job

    def _finish_row(self, s: Session, row: IntakeJobRow, state: JobState, now: datetime, *, outcome: str | None = None,
                    message: str | None = None, item_number: str | None = None,
                    children: tuple[JobChild, ...] = ()) -> None:
        # Filed or refused: the wrapped key goes in the same commit as the outcome, so from here the
        # staging copy is unreadable ciphertext (crypto-shredded) even if deleting its blob fails.
        # Failed: the key stays — the upload was accepted, and a retry must still be able to file it.
        row.state, row.outcome, row.item_number = state, outcome, item_number
        row.message = self._seal(s, row.archive_number, "intake.message", message)
        self._set_children(s, row, children)
        row.finished_at, row.lease_until = now, None
        if state in SHREDDED_STATES:
            row.key_id, row.wrapped_key = None, None

    def _drop_staging_later(self, object_id: str) -> None:
        try:
            self._vault.delete_object(object_id)
        except VaultError as exc:  # shredded already; sweep_staging removes the blob next time
            log.warning("intake: staging object %s not deleted: %s", object_id, exc)


class _Heartbeat:
    """Renews a claim every third of the lease while the job runs (a separate thread)."""

    def __init__(self, queue: IntakeQueue, job_id: str, worker: str) -> None:
        self._queue, self._job_id, self._worker = queue, job_id, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"intake-heartbeat-{job_id[:8]}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._queue.lease_seconds / 3):
            try:
                if not self._queue.renew_lease(self._job_id, self._worker):
                    return
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease; keep trying
                log.exception("intake %s: lease renewal failed", self._job_id)


class IndexCatchUp(Protocol):
    """Applies the search-index outbox rows that are due (``search.outbox.IndexOutbox``).

    A seam, so that ingest needs no search package: the worker only says when to catch up.
    """

    def drain(self, limit: int | None = ...) -> object: ...


class IntakeWorker:
    """The loop a background worker runs: claim, file, record; sleep when idle.

    One job at a time per worker (its OCR already uses the parser pool); run more workers
    — threads, `dossier worker` processes or hosts — to go wider.

    With ``outbox``, the loop also drains the search index's outbox before each job and at each
    idle poll: a document filed by a process that died before its index write (or while the
    index was down) becomes searchable without anyone asking — the intake retry that meets it
    as a duplicate no longer has to.
    """

    OUTBOX_BATCH = 500

    def __init__(self, queue: IntakeQueue, *, poll_seconds: float = 1.0, name: str | None = None,
                 outbox: IndexCatchUp | None = None) -> None:
        self._queue, self._poll, self._name, self._outbox = queue, poll_seconds, name, outbox
        self.stop = threading.Event()

    def run(self, *, until_idle: bool = False, on_job: Callable[[IntakeJob], None] | None = None,
            alive: Callable[[], bool] = lambda: True) -> int:
        """Process jobs until :attr:`stop` is set (or, with ``until_idle``, none is runnable)."""
        name = self._name or worker_name()
        try:
            self._queue.sweep_staging()
        except VaultError as exc:
            log.warning("intake: staging sweep failed: %s", exc)
        done = 0
        while not self.stop.is_set() and alive():
            self._queue.wakeup.clear()
            self._catch_up()
            job = self._queue.process_next(name)
            if job is None:
                if until_idle:
                    break
                self._queue.wakeup.wait(self._poll)
                continue
            done += 1
            if on_job:
                on_job(job)
        return done

    def _catch_up(self) -> None:
        if self._outbox is None:
            return
        try:
            self._outbox.drain(self.OUTBOX_BATCH)
        except Exception:  # noqa: BLE001 - the catalogue hiccuped: filing goes on, the rows wait
            log.exception("intake: index outbox drain failed")

    @contextmanager
    def in_thread(self) -> Iterator[IntakeWorker]:
        """Run in a daemon thread for the block (tests, the development server)."""
        thread = threading.Thread(target=self.run, name="intake-worker", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            self._queue.wakeup.set()
            thread.join(timeout=60)


def read_chunks(stream: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    """A binary stream (an upload) in pieces, for :meth:`IntakeQueue.accept`: never whole in memory."""
    while chunk := stream.read(size):
        yield chunk


_KEPT = "; the upload is kept and can be retried"


def _is_outage(exc: BaseException) -> bool:
    """A back-end that is down (key service, blob store, …) rather than a problem with this file or set-up."""
    return isinstance(exc, (KeyUnavailableError, UnavailableError))


def _clean_filename(name: str) -> str:
    # Control characters (NUL above all: PostgreSQL text refuses it) have no place in a name.
    cleaned = "".join(c for c in name if c.isprintable()).strip()
    return cleaned[:255] or "unnamed"


def _new_job_id() -> str:
    # Time-ordered (nanoseconds, then randomness): jobs queued together are filed in upload
    # order, so a batch's item numbers follow the order of its files.
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


def _valid_id(job_id: str) -> bool:
    return len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)


def _children(result: IngestResult) -> tuple[JobChild, ...]:
    out: list[JobChild] = []
    for child in result.children:
        out.append(JobChild(child.path, child.outcome.value, child.item_number, child.message))
        out.extend(_children(child))
    return tuple(out)


def _job_of(row: IntakeJobRow, open_: Callable[[str, str | None], str | None]) -> IntakeJob:
    """The job of ``row``; ``open_(field, stored)`` opens a sealed field (issue #12)."""
    return IntakeJob(
        job_id=row.id, archive_number=row.archive_number, actor=row.actor,
        filename=open_("intake.filename", row.filename) or "", size=row.size,
        sha256=row.sha256, state=JobState(row.state), attempts=row.attempts, created_at=row.created_at,
        outcome=row.outcome, message=open_("intake.message", row.message), item_number=row.item_number,
        finished_at=row.finished_at,
        children=tuple(JobChild(open_("intake.child_path", c["path"]) or "", c["outcome"] or "", c.get("item_number"),
                                open_("intake.child_message", c.get("message")))
                       for c in row.children or ()),
        available_at=row.available_at if row.state == JobState.QUEUED else None,
    )
