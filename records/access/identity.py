"""Who acts, what they ask to do, on what, what the policy answered, and what the log keeps (pure).

These values cross every seam of access control: the web layer builds an :class:`Identity` from a
session or token, services pass it with an :class:`Action` and a :class:`DossierTarget` to the
policy, the policy answers with a :class:`Decision`, and the access log stores an
:class:`AccessEvent` as a numbered, chained :class:`LogEntry`. (They belong beside
:class:`AccessScope` in ``model.py``; they live here until that module is free to change.)
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from records.access.errors import InvalidGrantError, InvalidUserError
from records.access.model import AccessScope

__all__ = [
    "AccessEvent", "Action", "Checkpoint", "Decision", "DossierTarget", "Grant", "GrantFilter", "GrantStatus",
    "Identity", "IssuedToken", "LogEntry", "Outcome", "RequestContext", "Role", "Rule", "TokenInfo", "TokenStatus",
    "UserInfo", "VerifyResult", "account_name",
]


class Role(StrEnum):
    """What a user is to the archive (ROL); one role per account, departments beside it."""

    ADMIN = "admin"            # users, grants, keys, configuration; no dossier content (ACS-08)
    ARCHIVIST = "archivist"    # archive department (ROL-02): files, seals, consultation service
    HANDLER = "handler"        # business department staff (ROL-03, ROL-05, ROL-12)
    MANAGER = "manager"        # department head / general manager (ROL-04, ROL-13, ROL-17, ACS-03)
    REGULATOR = "regulator"    # external authority under a grant (ROL-06, ROL-11, ACS-01, ACS-04)
    AUDITOR = "auditor"        # verifies the access log and inventories (ROL-04)


class Action(StrEnum):
    """Everything the policy decides. Dossier-level actions need a :class:`DossierTarget`."""

    VIEW_DOSSIER = "view_dossier"            # registration fields, timeline, document list
    LIST_DOSSIERS = "list_dossiers"
    REGISTER = "register"
    FILE_DOCUMENT = "file_document"
    VIEW_DOCUMENT = "view_document"          # the original rendered for reading
    DOWNLOAD_DOCUMENT = "download_document"  # a copy of the original leaves the archive
    VIEW_TEXT = "view_text"                  # extracted / OCR text
    SEARCH = "search"                        # hits show titles and snippets: a retrieval too
    EXPORT = "export"                        # a dossier package taken out (ACS-12)
    ADVANCE = "advance"                      # a lifecycle step or extension (not seal/dispose)
    SEAL = "seal"                            # closed -> sealed (ARC-1-05)
    AMEND = "amend_sealed"                   # material added to a sealed dossier, with a reason (ARC-1-05)
    DISPOSE = "dispose"                      # sealed -> disposed under retention (RET): the run, per dossier
    DISPOSE_REVIEW = "dispose_review"        # propose due dossiers for disposal (first pair of eyes)
    DISPOSE_APPROVE = "dispose_approve"      # approve a reviewed disposition (second pair of eyes)
    PLACE_HOLD = "hold"                      # legal hold on a dossier or a saved filter
    LIFT_HOLD = "hold_lift"
    VIEW_RETENTION = "view_retention"        # the due queue, plans, holds, dispositions, the schedule
    PLAN_RETENTION = "retention_plan"        # recompute plans under the schedule in effect (RET)
    RUN_INVENTORY = "inventory"              # stock-taking of every stored object (ARC-6)
    VERIFY_VAULT = "verify_vault"            # decrypt every object and check it (reports problems, no content)
    MANAGE_KEYS = "manage_keys"              # master key rotation
    REINDEX = "reindex"                      # rebuild the search index: reads every document's text
    IMPORT = "import"                        # file a transfer package (BagIt) from another archive
    MANAGE_USERS = "manage_users"
    MANAGE_GRANTS = "manage_grants"
    READ_AUDIT_LOG = "read_audit_log"
    VERIFY_AUDIT_LOG = "verify_audit_log"
    MANAGE_INTAKE = "manage_intake"          # list intake jobs, re-queue failed ones (issue #17)
    REOPEN = "reopen"                        # closed, not yet sealed -> back to its last handling step, with a reason
    CLOSE_OVERRIDE = "close_override"        # close although required materials are missing, with a recorded reason
    RECLASSIFY = "reclassify"                # correct a document's kind; the rule that fired is kept
    MANAGE_CALENDAR = "manage_calendar"      # load or show an official working-day calendar (TL-01..04)
    SEND_REMINDERS = "send_reminders"        # the daily deadline digest by e-mail (TL-36)
    SIGN_IN = "sign_in"


class Rule(StrEnum):
    """Which rule of the policy produced a decision: a stable code for the log and for callers."""

    CONSOLE = "console"
    ROLE = "role"
    DEPARTMENT = "department"
    GRANT = "grant"
    OWN_ENTRIES = "own_entries"
    OWN_ACCOUNT = "own_account"
    ANONYMOUS = "anonymous"
    CREDENTIALS = "credentials"
    DISABLED = "disabled"
    NOT_IN_ROLE = "not_in_role"
    OTHER_DEPARTMENT = "other_department"
    NO_GRANT = "no_grant"
    GRANT_EXPIRED = "grant_expired"
    GRANT_REVOKED = "grant_revoked"
    STATE = "state"
    NO_TARGET = "no_target"


@dataclass(frozen=True, slots=True)
class GrantFilter:
    """A regulator grant's saved filter; the dimensions are those of :class:`AccessScope`.

    ``None`` means "not limited by this dimension"; a filter must limit at least one.
    """

    respondents: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    received_from: date | None = None
    received_until: date | None = None

    @classmethod
    def parse(cls, text: str) -> GrantFilter:
        """Read ``respondent:某律所 category:收费 received:2026-01-01..2026-06-30``.

        A key may repeat (``respondent:A respondent:B`` means either); quote values with spaces;
        either end of ``received:FROM..TO`` may be left out.

        Raises:
            InvalidGrantError: unknown key, bad date, empty value, or no dimension at all.
        """
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise InvalidGrantError("filter", str(exc)) from exc
        sets: dict[str, set[str]] = {"respondent": set(), "category": set()}
        start = end = None
        for word in words:
            key, sep, value = word.partition(":")
            value = value.strip()
            if not sep or not value:
                raise InvalidGrantError("filter", f"{word!r} is not KEY:VALUE")
            if key in sets:
                sets[key].add(value)
            elif key == "received":
                if start is not None or end is not None:
                    raise InvalidGrantError("filter", "received: given twice")
                start, end = _date_range(value)
            else:
                raise InvalidGrantError("filter", f"unknown key {key!r} (respondent, category, received)")
        result = cls(frozenset(sets["respondent"]) or None, frozenset(sets["category"]) or None, start, end)
        if result.is_unlimited:
            raise InvalidGrantError("filter", "a filter must limit at least one of respondent, category, received")
        return result

    @property
    def is_unlimited(self) -> bool:
        return self.respondents is None and self.categories is None and not (self.received_from or self.received_until)

    def render(self) -> str:
        """The filter in the syntax :meth:`parse` reads."""
        parts = [f"respondent:{_quoted(r)}" for r in sorted(self.respondents or ())]
        parts += [f"category:{_quoted(c)}" for c in sorted(self.categories or ())]
        if self.received_from or self.received_until:
            parts.append(f"received:{self.received_from or ''}..{self.received_until or ''}")
        return " ".join(parts)


def _quoted(value: str) -> str:
    # shlex.quote would quote every CJK name; only what parse() would split needs it.
    return shlex.quote(value) if any(c.isspace() or c in "'\"\\" for c in value) else value


def _date_range(value: str) -> tuple[date | None, date | None]:
    lo, sep, hi = value.partition("..")
    try:
        start = date.fromisoformat(lo) if lo else None
        end = date.fromisoformat(hi) if hi else None
    except ValueError as exc:
        raise InvalidGrantError("filter", f"received:{value}: dates are YYYY-MM-DD") from exc
    if not sep:
        end = start  # a single day
    if start is None and end is None:
        raise InvalidGrantError("filter", "received: needs a date")
    if start and end and start > end:
        raise InvalidGrantError("filter", f"received:{value}: the range is backwards")
    return start, end


class GrantStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    PENDING = "pending"   # granted_at lies after "now" (clock skew or a back-dated check)


@dataclass(frozen=True, slots=True)
class Grant:
    """A regulator's read-only access to a set of dossiers or a saved filter (ACS-04).

    Exactly one of ``dossier_ids`` and ``filter`` is set. The grant is active from
    ``granted_at`` until strictly before ``expires_at`` (to the second), unless revoked earlier.
    """

    grant_id: str
    grantee: str
    grantee_id: str
    purpose: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    dossier_ids: frozenset[str] | None = None
    archive_numbers: tuple[str, ...] = ()
    filter: GrantFilter | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def status(self, now: datetime) -> GrantStatus:
        if self.revoked_at is not None and self.revoked_at <= now:
            return GrantStatus.REVOKED
        if now >= self.expires_at:
            return GrantStatus.EXPIRED
        if now < self.granted_at:
            return GrantStatus.PENDING
        return GrantStatus.ACTIVE

    def scope(self) -> AccessScope:
        """What this grant alone lets its holder see, for search."""
        if self.dossier_ids is not None:
            return AccessScope(dossier_ids=self.dossier_ids)
        f = self.filter or GrantFilter()
        return AccessScope(respondents=f.respondents, categories=f.categories,
                           received_from=f.received_from, received_until=f.received_until)

    def describe(self) -> str:
        return ", ".join(self.archive_numbers) if self.dossier_ids is not None else (self.filter or GrantFilter()).render()


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller, as the policy sees it.

    Attributes:
        name: the account name (or the console operator's name).
        role: ``None`` only for the anonymous caller and the console.
        user_id: the account id; ``None`` for the console and the anonymous caller.
        departments: handlers and managers: the departments they act for. ``None`` means every
            department (a general manager, ACS-03); an empty set means none.
        active: ``False`` for disabled accounts and the anonymous caller: everything is refused.
        grants: a regulator's grants, all of them (expired and revoked ones too, so a refusal
            can say why).
        console: the local operator of ``dossier`` commands, who holds the data directory and
            its keys and so can do anything; allowed everything the dossier state permits.
    """

    name: str
    role: Role | None
    user_id: str | None = None
    departments: frozenset[str] | None = frozenset()
    active: bool = True
    grants: tuple[Grant, ...] = ()
    console: bool = False

    @classmethod
    def anonymous(cls) -> Identity:
        return cls(name="anonymous", role=None, active=False)

    @classmethod
    def operator(cls, name: str) -> Identity:
        """The console identity: a local operator running ``dossier`` against the data directory."""
        return cls(name=name, role=None, departments=None, console=True)

    @property
    def role_label(self) -> str:
        return "console" if self.console else (self.role.value if self.role else "anonymous")


@dataclass(frozen=True, slots=True)
class DossierTarget:
    """What the policy needs to know about one dossier (and, optionally, one of its documents).

    ``dossier_id`` is ``None`` for a dossier about to be registered. ``received_on`` is the
    receipt date in archive time (grant filters compare dates, as the search index does).
    """

    dossier_id: str | None
    state: str
    department: str | None = None
    archive_number: str | None = None
    respondent: str | None = None
    category: str | None = None
    received_on: date | None = None
    item_number: str | None = None

    @property
    def ref(self) -> str:
        return self.item_number or self.archive_number or self.dossier_id or f"new dossier in {self.department or '-'}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer. ``grant_id`` names the regulator grant that allowed (or would have)."""

    allowed: bool
    reason: str
    grant_id: str | None = None
    rule: Rule = Rule.ROLE


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a request came from and what the caller said about it; recorded with every access-log entry.

    ``purpose`` is the caller's own note (a web request's ``?purpose=``, a command's option). It is
    kept as ``details["note"]``, never as the entry's ``purpose``: that field is the purpose of the
    regulator grant the access was allowed under (ACS-04), which the caller must not be able to
    replace with words of its choosing.
    """

    ip: str | None = None
    user_agent: str | None = None
    purpose: str | None = None


def account_name(name: str) -> str:
    """An account name as stored: trimmed, NFC, 1-128 printable characters (inner spaces allowed).

    Raises:
        InvalidUserError: empty, too long, or with control or separator characters.
    """
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name) > 128 or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name):
        raise InvalidUserError("name", "1-128 printable characters")
    return name


@dataclass(frozen=True, slots=True)
class UserInfo:
    user_id: str
    name: str
    role: Role
    departments: frozenset[str] | None
    active: bool
    has_password: bool
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token. ``token`` is shown once; only its SHA-256 is stored."""

    token: str = field(repr=False)
    token_id: str
    user: str
    created_at: datetime
    expires_at: datetime | None


class TokenStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as listed: never the token itself (only its SHA-256 is stored)."""

    token_id: str
    user: str
    label: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def status(self, now: datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and now >= self.expires_at:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE


# ---------------------------------------------------------------------- the access log's values
class Outcome(StrEnum):
    ALLOWED = "allowed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """What happened, as the caller reports it; :meth:`AccessLog.append` numbers and chains it."""

    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    outcome: Outcome
    reason: str
    actor_id: str | None = None
    object_ref: str | None = None
    grant_id: str | None = None
    purpose: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored entry."""

    seq: int
    event: AccessEvent
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature by the archive's Ed25519 key over (seq, entry_hash, at, key_id), hex-encoded."""

    seq: int
    entry_hash: str
    at: datetime
    key_id: str
    signature: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of checking the whole log. ``first_broken_seq`` is the earliest entry found bad."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    checkpoints: int = 0
    warnings: tuple[str, ...] = ()
