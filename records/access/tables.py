"""Access-control tables: accounts, API tokens, regulator grants, and the hash-chained access log.

They live on the catalogue's one :class:`~records.tables.Base`, so Alembic sees a single
metadata (migration ``0003``). Secrets are never stored: passwords as argon2id hashes, API
tokens as their SHA-256. The thin query helpers and row → value mappings at the end are what
the access service reads through.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import replace
from datetime import date, datetime, tzinfo

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from records.access.errors import UserNotFoundError
from records.access.identity import (
    AccessEvent, DossierTarget, Grant, GrantFilter, Identity, Outcome, Role, TokenInfo, UserInfo,
)
from records.errors import DossierNotFoundError
from records.tables import Base, DossierRow

__all__ = [
    "AccessLogHeadRow", "AccessLogRow", "CheckpointRow", "GrantRow", "TokenRow", "UserRow", "GENESIS_HASH",
    "current_identity", "dossier_row", "dossier_target", "grant_of", "grant_row", "identity_of", "storable", "token_count", "token_digest",
    "token_info", "user_info", "user_row",
]

# prev_hash of the first entry, and the head's hash while the log is empty.
GENESIS_HASH = "0" * 64


class UserRow(Base):
    """An account (ROL). Disabled accounts stay, so log entries keep naming who they were."""

    __tablename__ = "access_users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    # JSON list of department names; NULL = every department (a general manager, ACS-03).
    departments: Mapped[list[str] | None] = mapped_column(JSON)
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column()
    disabled_by: Mapped[str | None] = mapped_column(String(128))
    # Bumped by sign-out, a password change and disabling: a signed session cookie names the
    # generation it was issued under, and one naming an older generation is refused (migration 0007).
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class TokenRow(Base):
    """An API token, stored as the SHA-256 of the random secret (shown once, at creation)."""

    __tablename__ = "access_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("access_users.id"), nullable=False, index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(128))


class GrantRow(Base):
    """A regulator's read-only grant: a set of dossiers or a saved filter, a purpose, an expiry (ACS-04)."""

    __tablename__ = "access_grants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    grantee_id: Mapped[str] = mapped_column(ForeignKey("access_users.id"), nullable=False, index=True)
    dossier_ids: Mapped[list[str] | None] = mapped_column(JSON)
    archive_numbers: Mapped[list[str] | None] = mapped_column(JSON)
    respondents: Mapped[list[str] | None] = mapped_column(JSON)
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    received_from: Mapped[date | None] = mapped_column(Date)
    received_until: Mapped[date | None] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    granted_by: Mapped[str] = mapped_column(String(128), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(128))


class AccessLogRow(Base):
    """One access-log entry. Rows are only ever inserted; each commits to the one before it."""

    __tablename__ = "access_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    grant_id: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(16), nullable=False)
    object_ref: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AccessLogHeadRow(Base):
    """The chain head (one row, id 1): the lock appenders queue on, and a second record of the tail."""

    __tablename__ = "access_log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class CheckpointRow(Base):
    """An Ed25519 signature by the archive's key over (seq, entry_hash, at); also kept in a file."""

    __tablename__ = "access_log_checkpoints"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)


# ---------------------------------------------------------------------- queries and mappings
_TEXT_LIMIT = 2000


def storable(ev: AccessEvent) -> AccessEvent:
    """``ev`` cut to fit the access_log columns, without control characters.

    Callers pass client-supplied text (user agents, names typed at sign-in); PostgreSQL refuses
    NUL and over-long values, and the entry's hash must cover exactly what is stored.
    """
    def clip(value: object, limit: int) -> str:
        return "".join(c for c in str(value) if unicodedata.category(c) != "Cc")[:limit]

    fields: dict[str, object] = {}
    for column in AccessLogRow.__table__.columns:
        value = getattr(ev, column.name, None)
        if isinstance(value, str):
            fields[column.name] = clip(value, getattr(column.type, "length", None) or _TEXT_LIMIT)
    fields.update(outcome=Outcome(ev.outcome), details={clip(k, 64): clip(v, _TEXT_LIMIT) for k, v in ev.details.items()})
    return replace(ev, **fields)  # type: ignore[arg-type]


def user_row(s: Session, name: str) -> UserRow:
    row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise UserNotFoundError(name)
    return row


def token_count(s: Session, user_id: str) -> int:
    return int(s.scalar(select(func.count()).select_from(TokenRow).where(
        TokenRow.user_id == user_id, TokenRow.revoked_at.is_(None))) or 0)


def dossier_row(s: Session, ref: str) -> DossierRow:
    row = s.scalars(select(DossierRow).where((DossierRow.archive_number == ref) | (DossierRow.id == ref))).first()
    if row is None:
        raise DossierNotFoundError(ref)
    return row


def dossier_target(row: DossierRow, tz: tzinfo, *, item_number: str | None = None) -> DossierTarget:
    """The policy's view of a catalogued dossier (``tz``: the archive's zone, for the receipt date)."""
    return DossierTarget(
        dossier_id=row.id, state=row.state, department=row.department, archive_number=row.archive_number,
        respondent=row.respondent, category=row.category, received_on=row.received_at.astimezone(tz).date(),
        item_number=item_number,
    )


def user_info(row: UserRow, tokens: int) -> UserInfo:
    return UserInfo(user_id=row.id, name=row.name, role=Role(row.role),
                    departments=None if row.departments is None else frozenset(row.departments), active=row.active,
                    has_password=row.password_hash is not None, created_at=row.created_at, created_by=row.created_by,
                    disabled_at=row.disabled_at, tokens=tokens)


def token_info(row: TokenRow, user: str) -> TokenInfo:
    return TokenInfo(token_id=row.id, user=user, label=row.label, created_at=row.created_at, created_by=row.created_by,
                     expires_at=row.expires_at, revoked_at=row.revoked_at, revoked_by=row.revoked_by)


def grant_of(row: GrantRow, grantee: str) -> Grant:
    is_set = row.dossier_ids is not None
    return Grant(
        grant_id=row.id, grantee=grantee, grantee_id=row.grantee_id, purpose=row.purpose, granted_by=row.granted_by,
        granted_at=row.granted_at, expires_at=row.expires_at, revoked_at=row.revoked_at, revoked_by=row.revoked_by,
        dossier_ids=frozenset(row.dossier_ids or ()) if is_set else None,
        archive_numbers=tuple(row.archive_numbers or ()),
        filter=None if is_set else GrantFilter(
            frozenset(row.respondents) if row.respondents else None,
            frozenset(row.categories) if row.categories else None, row.received_from, row.received_until),
    )


def grant_row(g: Grant) -> GrantRow:
    f = g.filter or GrantFilter()
    return GrantRow(
        id=g.grant_id, grantee_id=g.grantee_id, purpose=g.purpose, granted_by=g.granted_by, granted_at=g.granted_at,
        expires_at=g.expires_at, revoked_at=g.revoked_at, revoked_by=g.revoked_by,
        dossier_ids=sorted(g.dossier_ids) if g.dossier_ids is not None else None,
        archive_numbers=list(g.archive_numbers) if g.dossier_ids is not None else None,
        respondents=sorted(f.respondents) if f.respondents else None,
        categories=sorted(f.categories) if f.categories else None,
        received_from=f.received_from, received_until=f.received_until,
    )


def identity_of(s: Session, row: UserRow) -> Identity:
    """The account as the policy sees it now, with a regulator's grants (all of them, ended ones too)."""
    grants: tuple[Grant, ...] = ()
    if row.role == Role.REGULATOR:
        grants = tuple(grant_of(g, row.name) for g in s.scalars(
            select(GrantRow).where(GrantRow.grantee_id == row.id).order_by(GrantRow.granted_at, GrantRow.id)))
    return Identity(name=row.name, role=Role(row.role), user_id=row.id,
                    departments=None if row.departments is None else frozenset(row.departments),
                    active=row.active, grants=grants)


def current_identity(s: Session, identity: Identity) -> Identity:
    """``identity`` as its account stands now: disabled accounts and revoked grants count at once."""
    if identity.console or identity.user_id is None:
        return identity
    row = s.get(UserRow, identity.user_id)
    if row is None:  # the account is gone: as good as disabled
        return Identity(name=identity.name, role=identity.role, user_id=identity.user_id, active=False)
    return identity_of(s, row)


def token_digest(token: str) -> str:
    """What is stored of an API token: its SHA-256 (the token is 256 random bits, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
