"""The intake-job queue table: uploads accepted but not yet filed (migration ``0005``).

It lives on the catalogue's one :class:`~records.tables.Base`, so Alembic sees a single metadata.
A row holds no plaintext: the upload itself is a sealed staging object in the vault and the row
keeps its wrapped data key, which is set to NULL (crypto-shredded) once the job is finished.
Since issue #12 the row's ``filename``, ``message`` and each child's ``path`` and ``message``
are sealed under the dossier's own key (``ingest.jobs``): destroying the dossier's key makes them
unreadable everywhere. :func:`scrub_intake_jobs` blanks them (and shreds any staging copy
still held) for the jobs of a destroyed dossier, rows written before that change included.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from records.tables import Base

__all__ = ["IntakeJobRow", "SCRUBBED", "scrub_intake_jobs"]

SCRUBBED = "disposed"  # the outcome and file name a scrubbed job shows: its dossier was destroyed


class IntakeJobRow(Base):
    """One uploaded file on its way from the request to the dossier (queued → processing → final).

    The dossier is named by archive number without a foreign key: the job's record of what
    happened must outlive disposal of the dossier, like the access log's references do.
    """

    __tablename__ = "intake_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    archive_number: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str | None] = mapped_column(String(48))
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The sealed upload: vault object id and its wrapped data key (NULL once finished).
    object_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    key_id: Mapped[str | None] = mapped_column(String(256))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    available_at: Mapped[datetime] = mapped_column(nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column()
    worker: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(24))
    message: Mapped[str | None] = mapped_column(Text)
    item_number: Mapped[str | None] = mapped_column(String(80))
    # Attachments filed as child documents: [{"filename", "outcome", "item_number", "message"}].
    children: Mapped[list[dict[str, str | None]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    first_started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (Index("ix_intake_jobs_state_available", "state", "available_at"),)


def scrub_intake_jobs(s: Session, archive_number: str) -> tuple[int, list[str]]:
    """Blank what the jobs of dossier ``archive_number`` say about it, in the caller's transaction.

    For the disposal of a dossier (issue #12 item 3): every job's file name becomes
    :data:`SCRUBBED`, its message and attachment list are dropped, and a job still holding its
    staging copy (queued, processing, failed) gives up its wrapped key — the upload is then
    unreadable ciphertext — and ends ``refused`` (outcome :data:`SCRUBBED`), so no worker files it
    and the staging sweep deletes its blob. The job's number, dossier, size, hash, dates and
    item number stay: they are the record that an upload happened. Idempotent.

    Returns:
        how many jobs the dossier has (all scrubbed), and the vault object ids of the staging
        copies shredded now: the caller may delete their blobs after the commit
        (``IntakeQueue.sweep_staging`` does it otherwise).
    """
    shredded: list[str] = []
    count = 0
    for row in s.scalars(select(IntakeJobRow).where(IntakeJobRow.archive_number == archive_number)
                         .order_by(IntakeJobRow.id)):
        count += 1
        row.filename, row.message, row.children = SCRUBBED, None, None
        if row.wrapped_key is not None or row.state not in ("filed", "refused"):
            if row.wrapped_key is not None:
                shredded.append(row.object_id)
            row.key_id, row.wrapped_key = None, None
            if row.state not in ("filed", "refused"):
                row.state, row.outcome, row.lease_until, row.worker = "refused", SCRUBBED, None, None
    s.flush()
    return count, shredded
