"""Retention tables: plans and their change history, legal holds, dispositions and their approvals.

They join the catalogue's one :class:`~records.tables.Base` (migration ``0004``). Plans are keyed
by dossier and rewritten on re-plan; every change is kept in ``retention_plan_changes`` (RET).
Holds and approvals are never deleted: lifting a hold stamps it. Dossier ids carry no foreign
key: the retention history must outlive whatever disposal does to the catalogue rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.tables import Base

_AUTO_ID = BigInteger().with_variant(Integer, "sqlite")


class PlanRow(Base):
    """A dossier's current retention plan: its rule, trigger date and disposal date."""

    __tablename__ = "retention_plans"
    dossier_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    archive_number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    rule_id: Mapped[str] = mapped_column(String(64), nullable=False)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)
    trigger_date: Mapped[date | None] = mapped_column(Date)
    # NULL: permanent, or the trigger event has not happened yet.
    disposal_date: Mapped[date | None] = mapped_column(Date, index=True)
    permanent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False, default="destroy")
    planned_at: Mapped[datetime] = mapped_column(nullable=False)
    planned_by: Mapped[str] = mapped_column(String(128), nullable=False)


class PlanChangeRow(Base):
    """One recorded re-plan: old/new rule, old/new date, why, who, when (RET)."""

    __tablename__ = "retention_plan_changes"
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    archive_number: Mapped[str] = mapped_column(String(64), nullable=False)
    old_rule: Mapped[str | None] = mapped_column(String(64))
    new_rule: Mapped[str] = mapped_column(String(64), nullable=False)
    old_date: Mapped[date | None] = mapped_column(Date)
    new_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)


class HoldRow(Base):
    """A legal hold on one dossier (``archive_number``) or on a saved filter (the other columns)."""

    __tablename__ = "retention_holds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    archive_number: Mapped[str | None] = mapped_column(String(64), index=True)
    respondents: Mapped[list[str] | None] = mapped_column(JSON)
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    received_from: Mapped[date | None] = mapped_column(Date)
    received_until: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    placed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(nullable=False)
    lifted_at: Mapped[datetime | None] = mapped_column(index=True)
    lifted_by: Mapped[str | None] = mapped_column(String(128))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class DispositionRow(Base):
    """One batch of dossiers to destroy or transfer, and how far it has got."""

    __tablename__ = "retention_dispositions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    numbers: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    rules: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    # Dossiers taken out before execution (a hold placed, a re-plan) → why; never disposed under this id.
    excluded: Mapped[dict[str, str] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    certificate_json: Mapped[str | None] = mapped_column(Text)
    certificate_pdf: Mapped[str | None] = mapped_column(Text)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))


class ApprovalRow(Base):
    """A review (archivist) or approval (manager) of a disposition, by a named account."""

    __tablename__ = "retention_approvals"
    id: Mapped[int] = mapped_column(_AUTO_ID, primary_key=True, autoincrement=True)
    disposition_id: Mapped[str] = mapped_column(ForeignKey("retention_dispositions.id"), nullable=False, index=True)
    step: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)


__all__ = ["ApprovalRow", "DispositionRow", "HoldRow", "PlanChangeRow", "PlanRow"]
