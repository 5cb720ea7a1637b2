"""Catalogue tables (SQLAlchemy 2) and the one atomic number allocator.

The catalogue is the source of truth for what exists; the vault holds the sealed bytes and the
catalogue holds each object's wrapped data key, so deleting that key shreds the object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import cast

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite drops the offset, so we store UTC and
    re-attach it on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalogue; use an aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime()}


class NumberSeriesRow(Base):
    """Last serial handed out per series (e.g. ``2611-#``); only ever increases (ARC-3)."""

    __tablename__ = "number_series"
    series: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, nullable=False)


class DossierRow(Base):
    __tablename__ = "dossiers"
    # Personal and free-text fields (records.sealing.SEALED_DOSSIER_FIELDS) hold values sealed under the
    # dossier's own key; the rest is what lists, filters and statistics need in clear (docs/security.md).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    archive_number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    series: Mapped[str] = mapped_column(String(64), nullable=False)
    serial: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    # INT-F registration fields
    matter: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(24), nullable=False)
    complainant: Mapped[str | None] = mapped_column(Text)
    complainant_contact: Mapped[str | None] = mapped_column(Text)
    complainant_type: Mapped[str | None] = mapped_column(String(32))
    respondent: Mapped[str | None] = mapped_column(Text)
    respondent_type: Mapped[str | None] = mapped_column(String(32))
    request: Mapped[str | None] = mapped_column(Text)
    facts_and_reasons: Mapped[str | None] = mapped_column(Text)
    event_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    expected_remedy: Mapped[str | None] = mapped_column(Text)
    receiving_officer: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(128), index=True)
    category: Mapped[str | None] = mapped_column(String(128), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    collective_count: Mapped[int | None] = mapped_column(Integer)
    referring_body: Mapped[str | None] = mapped_column(Text)
    sla_profile: Mapped[str] = mapped_column(String(64), nullable=False)
    # lifecycle
    registered_at: Mapped[datetime] = mapped_column(nullable=False)
    registered_by: Mapped[str] = mapped_column(String(128), nullable=False)
    void_reason: Mapped[str | None] = mapped_column(Text)
    last_item: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The number this dossier had in the archive it was transferred from (import-bag), kept as a reference.
    source_reference: Mapped[str | None] = mapped_column(Text)

    transitions: Mapped[list[TransitionRow]] = relationship(
        back_populates="dossier", order_by="TransitionRow.id", cascade="all, delete-orphan"
    )
    extensions: Mapped[list[ExtensionRow]] = relationship(
        back_populates="dossier", order_by="ExtensionRow.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[DocumentRow]] = relationship(
        back_populates="dossier", order_by="(DocumentRow.item_seq, DocumentRow.version)"
    )
    __table_args__ = (UniqueConstraint("series", "serial", name="uq_dossier_series_serial"),)


class TransitionRow(Base):
    """One lifecycle step with its effective date: the dossier's timeline."""

    __tablename__ = "dossier_transitions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(24), nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    dossier: Mapped[DossierRow] = relationship(back_populates="transitions")


class ExtensionRow(Base):
    """An approved extension of the conclusion period with its written notice (TL-03)."""

    __tablename__ = "dossier_extensions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), nullable=False, index=True)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    approved_by: Mapped[str] = mapped_column(String(128), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    dossier: Mapped[DossierRow] = relationship(back_populates="extensions")


class DocumentRow(Base):
    """One version of one item of a dossier. Rows are never updated once filed."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), nullable=False, index=True)
    item_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    media_type: Mapped[str] = mapped_column(String(128), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    channel: Mapped[str | None] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    filed_at: Mapped[datetime] = mapped_column(nullable=False)
    filed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    # Intake facts (never document content: extracted text and metadata live in the vault).
    outcome: Mapped[str | None] = mapped_column(String(24), index=True)
    outcome_message: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int | None] = mapped_column(Integer)
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    text_chars: Mapped[int | None] = mapped_column(Integer)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    review_pages: Mapped[list[int] | None] = mapped_column(JSON)
    kind_rule: Mapped[str | None] = mapped_column(String(128))
    # A person corrected the kind (``reclassify``): who, why, when. ``kind_rule`` keeps the rule that fired.
    kind_set_by: Mapped[str | None] = mapped_column(String(128))
    kind_set_reason: Mapped[str | None] = mapped_column(Text)
    kind_set_at: Mapped[datetime | None] = mapped_column()
    # Withdrawn as junk (a blank scan, the wrong file): the row and number stay, the reason is kept (#11).
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by: Mapped[str | None] = mapped_column(String(128))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    dossier: Mapped[DossierRow] = relationship(back_populates="documents")
    objects: Mapped[list[StoredObjectRow]] = relationship(back_populates="document")
    __table_args__ = (UniqueConstraint("dossier_id", "item_seq", "version", name="uq_document_item_version"),)


class StoredObjectRow(Base):
    """A sealed object in the vault and its wrapped data key (NULL once crypto-shredded)."""

    __tablename__ = "stored_objects"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    blob_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    stored_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    key_id: Mapped[str | None] = mapped_column(String(256), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    shredded_at: Mapped[datetime | None] = mapped_column()
    document: Mapped[DocumentRow] = relationship(back_populates="objects")
    __table_args__ = (UniqueConstraint("document_id", "kind", name="uq_object_document_kind"),)


class IndexOutboxRow(Base):
    """One catalogue change the search index has yet to follow (``records.outbox``; migration ``0006``).

    Written in the same transaction as the change itself, so a change committed is a change the
    index will hear of, whatever happens to the process after the commit. ``ref`` is a document
    id or an archive number, never content: the drainer reads the catalogue for the rest. No
    foreign key: a row must outlive the disposal it announces.
    """

    __tablename__ = "index_outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    ref: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    # AUTOINCREMENT on SQLite: an id is never handed out twice, even after the table drained empty
    # (a rebuild tells the rows it covers from later ones by id).
    __table_args__ = (Index("ix_index_outbox_next_attempt_at", "next_attempt_at"), {"sqlite_autoincrement": True})


def allocate_serial(session: Session, series: str) -> int:
    """Take the next serial of ``series`` inside the caller's transaction (ARC-3).

    One upsert does it: the row lock (PostgreSQL) or the write lock taken by BEGIN IMMEDIATE
    (SQLite) is held until the caller commits, so concurrent registrations queue; a rolled-back
    registration also rolls back its increment, so no serial is skipped or handed out twice.
    """
    # Imported here, not at the top: every command that opens the archive imports this module,
    # and the PostgreSQL dialect package (asyncpg adapter, catalogue types) costs an SQLite
    # archive's `dossier show` tens of ms for nothing (issue #9 item 7).
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    inserts: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert, "sqlite": sqlite.insert}
    ins = inserts.get(dialect)
    # A declarative class with columns is mapped onto a Table; SQLAlchemy types ``__table__``
    # as the wider FromClause, which its insert() does not accept.
    table = cast(Table, NumberSeriesRow.__table__)
    if ins is None:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    upsert = ins(table).values(series=series, last_serial=1)
    stmt = upsert.on_conflict_do_update(
        index_elements=[table.c.series], set_={"last_serial": table.c.last_serial + 1}
    ).returning(table.c.last_serial)
    return int(session.execute(stmt).scalar_one())


__all__ = [
    "Base", "NumberSeriesRow", "DossierRow", "TransitionRow", "ExtensionRow", "DocumentRow",
    "StoredObjectRow", "IndexOutboxRow", "allocate_serial",
]


class KeyPinRow(Base):
    """The master key this archive is pinned to (``records.vault.keys.pin``; migration ``0008``).

    One row (``id`` 1): the catalogue is what every host of a scaled-out archive shares, so each
    of them checks its key service against the same pin. ``probe_*`` is a fixed plaintext wrapped
    under the key; only that key unwraps it.
    """

    __tablename__ = "key_pins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    key_name: Mapped[str] = mapped_column(String(512), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    probe_key_id: Mapped[str] = mapped_column(String(256), nullable=False)
    probe: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    pinned_at: Mapped[datetime] = mapped_column(nullable=False)
    pinned_how: Mapped[str] = mapped_column(String(16), nullable=False)


class CalendarDayRow(Base):
    """One day of an official working-day calendar the office loaded (``dossier calendar import``).

    A year present here is authoritative for every day of it: listed days say whether they are
    working days (holidays, 调休 make-up days); unlisted days follow the weekday rule.
    """

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    working: Mapped[bool] = mapped_column(Boolean, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(nullable=False)
    imported_by: Mapped[str] = mapped_column(String(128), nullable=False)


class SavedSearchRow(Base):
    """A user's named search (query text and sort), offered again on the search page (#11)."""

    __tablename__ = "saved_searches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    sort: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_search_owner_name"),)

