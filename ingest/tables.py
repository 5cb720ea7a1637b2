"""The intake-job queue table: uploads accepted but not yet filed (migration ``0005``).

It lives on the catalogue's one :class:`~records.tables.Base`, so Alembic sees a single metadata.
A row holds no plaintext: the upload itself is a sealed staging object in the vault and the row
keeps its wrapped data key, which is set to NULL (crypto-shredded) once the job is finished.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.tables import Base

__all__ = ["IntakeJobRow"]


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
