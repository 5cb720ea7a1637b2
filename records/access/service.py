"""AccessService: accounts, sign-in, regulator grants, authorisation and the access log's use cases.

Every decision goes through :func:`records.access.policy.decide` and every decision is written to
the access log in the same transaction as the work it guards, allowed or refused (ACS-02, ACS-08,
ACS-14). A refusal is committed first and raised afterwards, so the error never rolls back its own
record.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records.access.errors import (
    AccessDeniedError, AuditChainBrokenError, AuthenticationError, GrantExpiredError, GrantNotFoundError,
    InvalidGrantError, InvalidUserError, TokenNotFoundError, UserExistsError,
)
from records.access.identity import (
    Action, Decision, DossierTarget, Grant, GrantFilter, Identity, IssuedToken, RequestContext, Role, Rule, TokenInfo,
    UserInfo, account_name,
)
from records.access.log import AccessEvent, AccessLog, Checkpoint, LogEntry, LogFilter, LogPage, Outcome, VerifyResult
from records.access.model import AccessScope
from records.access.passwords import check_password_policy
from records.access.policy import decide, decide_own_account, fold_keyword, scope_for
from records.access.tables import (
    GrantRow, TokenRow, UserRow, current_identity, dossier_row, grant_of, grant_row, identity_of, token_count, token_digest,
    token_info, user_info, user_row,
)
from records.db import UnitOfWork
from records.errors import DossierError
from records.clock import system_clock

__all__ = ["AccessService"]

T = TypeVar("T")
U = TypeVar("U")
_NO_CONTEXT = RequestContext()
_TOKEN_PREFIX = "dos_"
# What a log entry names when the action has no dossier: the kind of object acted on.
_OBJECT_TYPES: Mapping[Action, str] = {
    Action.LIST_DOSSIERS: "catalogue", Action.SEARCH: "catalogue", Action.MANAGE_USERS: "user", Action.SIGN_IN: "user",
    Action.MANAGE_GRANTS: "grant", Action.READ_AUDIT_LOG: "access_log", Action.VERIFY_AUDIT_LOG: "access_log",
    Action.MANAGE_INTAKE: "intake_job", Action.DISPOSE_REVIEW: "disposition", Action.DISPOSE_APPROVE: "disposition",
    Action.PLACE_HOLD: "hold", Action.LIFT_HOLD: "hold", Action.VIEW_RETENTION: "retention",
    Action.PLAN_RETENTION: "retention", Action.RUN_INVENTORY: "archive", Action.VERIFY_VAULT: "vault",
    Action.MANAGE_KEYS: "vault", Action.IMPORT: "package", Action.REINDEX: "index",
    Action.MANAGE_CALENDAR: "calendar", Action.SEND_REMINDERS: "reminders"}


# Entries whose details must stay readable after the dossier's key is destroyed: the destruction
# itself (which disposition, which action) is what an auditor reads a disposed dossier's log for.
# They hold no personal data (a disposition id, an action), so the log-period key seals them.
_OUTLIVE_THE_DOSSIER_KEY = frozenset({Action.DISPOSE})

class AccessService:
    """Use cases of access control. Holds no state besides its collaborators.

    Args:
        uow: the catalogue's unit of work.
        access_log: the hash-chained log, sharing the catalogue's transactions.
        clock: aware UTC "now" (tests freeze it).
        fold: how grant filters compare names with a dossier's; pass the search index's
            ``normalize_keyword`` so that decide() and search agree exactly.
        hasher: argon2id parameters (argon2-cffi's RFC 9106 defaults unless given).
    """

    def __init__(self, uow: UnitOfWork, access_log: AccessLog, *,
                 clock: Callable[[], datetime] = system_clock,
                 fold: Callable[[str], str] = fold_keyword, hasher: PasswordHasher | None = None) -> None:
        self._uow = uow
        self._log = access_log
        self._clock = clock
        self._fold = fold
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ authorisation
    def authorize(self, identity: Identity, action: Action, target: DossierTarget | None, *,
                  context: RequestContext = _NO_CONTEXT, session: Session | None = None, grant_id: str | None = None,
                  object_ref: str | None = None, details: Mapping[str, str] | None = None) -> Decision:
        """Decide and log one access, allowed or refused, and return the decision (it never raises on refusal).

        With ``session`` (a *writing* session: ``uow.write()``) the entry joins the caller's
        transaction: the retrieval and its record commit together. A caller that refuses must
        let that transaction commit and raise afterwards, or the refusal's entry rolls back.
        Without it, the entry is committed in a transaction of its own before this returns.
        The caller's account, department and grants are re-read, so a disabled account or a
        revoked grant takes effect at once.
        """
        if session is not None:
            return self._authorize_in(session, identity, action, target, context, grant_id, object_ref, details)[0]
        with self._uow.write(log_only=True) as s:
            return self._authorize_in(s, identity, action, target, context, grant_id, object_ref, details)[0]

    def enforce(self, identity: Identity, action: Action, target: DossierTarget | None, *,
                context: RequestContext = _NO_CONTEXT, grant_id: str | None = None,
                object_ref: str | None = None, details: Mapping[str, str] | None = None) -> Decision:
        """:meth:`authorize` in its own transaction, raising once a refusal is committed.

        Raises:
            GrantExpiredError: the grant that covered the target has expired (ACS-04).
            AccessDeniedError: any other refusal.
        """
        with self._uow.write(log_only=True) as s:
            decision, fresh = self._authorize_in(s, identity, action, target, context, grant_id, object_ref, details)
        if not decision.allowed:
            raise self.error_for(fresh, action, object_ref or (target.ref if target else None), decision)
        return decision

    def retrieve(self, identity: Identity, action: Action, load: Callable[[], tuple[T, DossierTarget]], *,
                 then: Callable[[T], U] | None = None, context: RequestContext = _NO_CONTEXT,
                 object_ref: str | None = None, details: Mapping[str, str] | None = None) -> tuple[T | U, Decision]:
        """Read what a retrieval needs and log it in one catalogue transaction ("no log entry, no document").

        ``load`` reads the catalogue rows (through any service on this unit of work: its
        ``read()``/``write()`` join the transaction) and returns them with the dossier they belong
        to; the policy decides on exactly that snapshot. Only if it allows, ``then`` (say, opening
        the original in the vault) runs on what ``load`` returned, still inside the transaction.
        Then the entry is appended and everything commits together: if the append fails, nothing
        is returned. A domain error from ``load`` or ``then`` is recorded in the entry (outcome
        refused, ``details.problem`` naming it) and raised once that entry committed. Blob bytes
        are read by the caller afterwards, outside the transaction.

        Returns:
            what ``then`` (else ``load``) returned, and the allowed decision (it names the grant).

        Raises:
            GrantExpiredError, AccessDeniedError: refused, after the refusal committed; an object
                that ``load`` cannot find is refused like a hidden one (``object_ref`` names it).
            DossierError: ``then`` failed after an allowed decision (logged as such).
            AuditChainBrokenError: the log takes no entry, so nothing is retrieved.
        """
        failure: DossierError | None = None
        target: DossierTarget | None = None
        value: T | U | None = None
        extra = dict(details or {})
        with self._uow.transaction(log_only=True) as s:
            fresh = current_identity(s, identity)
            try:
                value, target = load()
            except DossierError as exc:
                failure, extra["problem"] = exc, _problem(exc)
            decision = decide(fresh, action, target, now=self._clock(), fold=self._fold)
            if decision.allowed and failure is None and then is not None:
                try:
                    value = then(value)  # type: ignore[arg-type]  # load succeeded: a T
                except DossierError as exc:
                    failure, extra["problem"] = exc, _problem(exc)
                    decision = replace(decision, allowed=False, reason=f"retrieval failed: {type(exc).__name__}")
            object_type, ref = _object_of(action, target, object_ref)
            self._append(s, fresh, action, decision, context, object_type, ref, extra,
                         dossier_id=target.dossier_id if target is not None else None)
        if failure is not None and target is not None:
            raise failure  # the dossier was known and the policy allowed: the failure is the answer
        if not decision.allowed:
            raise self.error_for(fresh, action, object_ref or (target.ref if target else None), decision)
        if failure is not None:
            raise failure
        return value, decision  # type: ignore[return-value]  # allowed and no failure: load/then ran

    def scope(self, identity: Identity, action: Action = Action.SEARCH, *, grant_id: str | None = None) -> AccessScope:
        """What ``identity`` may see when searching or listing, from its current account and grants.

        Raises:
            GrantRequiredError: a regulator with several unmergeable grants named none.
        """
        with self._uow.read() as s:
            fresh = current_identity(s, identity)
        return scope_for(fresh, action, self._clock(), grant_id=grant_id)

    def _authorize_in(self, s: Session, identity: Identity, action: Action, target: DossierTarget | None,
                      context: RequestContext, grant_id: str | None, object_ref: str | None,
                      details: Mapping[str, str] | None) -> tuple[Decision, Identity]:
        fresh = current_identity(s, identity)
        decision = decide(fresh, action, target, now=self._clock(), grant_id=grant_id, fold=self._fold)
        object_type, ref = _object_of(action, target, object_ref)
        self._append(s, fresh, action, decision, context, object_type, ref, details,
                     dossier_id=target.dossier_id if target is not None else None)
        return decision, fresh

    def _append(self, s: Session, who: Identity, action: Action, decision: Decision, context: RequestContext,
                object_type: str, object_ref: str | None, details: Mapping[str, str] | None, *,
                dossier_id: str | None = None) -> LogEntry:
        # ``dossier_id``: the catalogued dossier the policy decided on; the entry's details are
        # sealed under its key, so they go when it is destroyed (records.access.log, issue #12).
        # The entry's purpose is the grant's (ACS-04), never the caller's words: a regulator could
        # otherwise write any purpose over the one its access was granted for. What the caller
        # says goes beside it, as a note.
        grant = next((g for g in who.grants if g.grant_id == decision.grant_id), None)
        if action in _OUTLIVE_THE_DOSSIER_KEY:
            dossier_id = None  # sealed under the period key: it must still say which disposition it was
        recorded = dict(details or {})
        if context.purpose:
            recorded["note"] = context.purpose
        return self._log.append(s, AccessEvent(
            at=self._clock(), actor=who.name, actor_id=who.user_id, role=who.role_label, action=action,
            object_type=object_type, object_ref=object_ref, reason=decision.reason, grant_id=decision.grant_id,
            outcome=Outcome.ALLOWED if decision.allowed else Outcome.REFUSED,
            purpose=grant.purpose if grant else None, ip=context.ip, user_agent=context.user_agent, details=recorded,
        ), dossier_id=dossier_id)

    def _guarded(self, actor: Identity, action: Action, context: RequestContext, object_ref: str | None,
                 details: Mapping[str, str], work: Callable[[Session, Identity], T]) -> T:
        """Authorise ``action``, log it, and run ``work`` in the same transaction; raise after a logged refusal."""
        with self._uow.write() as s:
            decision, fresh = self._authorize_in(s, actor, action, None, context, None, object_ref, details)
            result = work(s, fresh) if decision.allowed else None
        if not decision.allowed:
            raise self.error_for(fresh, action, object_ref, decision)
        return result  # type: ignore[return-value]  # allowed: work() ran and produced a T

    @staticmethod
    def error_for(who: Identity, action: Action, ref: str | None, decision: Decision) -> AccessDeniedError:
        """The error to raise for a refusal that :meth:`authorize` returned (after its transaction committed)."""
        grant = next((g for g in who.grants if g.grant_id == decision.grant_id), None)
        if decision.rule is Rule.GRANT_EXPIRED and grant is not None:
            return GrantExpiredError(who.name, action, ref, grant.grant_id, grant.expires_at)
        return AccessDeniedError(who.name, action, ref, decision.reason)

    # ------------------------------------------------------------------ accounts
    def add_user(self, actor: Identity, name: str, role: Role, *, departments: Sequence[str] = (),
                 password: str | None = None, context: RequestContext = _NO_CONTEXT) -> UserInfo:
        """Create an account. Handlers need a department; a manager without one sees every department (ACS-03).

        Raises:
            AccessDeniedError: ``actor`` may not manage users (logged).
            UserExistsError: the name is taken.
            InvalidUserError: a field is malformed, or the password breaks the policy
                (records.access.passwords; ``None`` makes an account only API tokens open).
        """
        name = account_name(name)
        depts = sorted({d.strip() for d in departments if d.strip()})
        if role is Role.HANDLER and not depts:
            raise InvalidUserError("department", "a handler acts for a department; give --department")
        if password is not None:  # None: an API-token-only account, which no password opens
            check_password_policy(password, name=name)
        hashed = self._hasher.hash(password) if password is not None else None

        def work(s: Session, who: Identity) -> UserInfo:
            if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise UserExistsError(name)
            row = UserRow(id=uuid.uuid4().hex, name=name, role=role, departments=depts or None, password_hash=hashed,
                          active=True, created_at=self._clock(), created_by=who.name)
            s.add(row)
            s.flush()
            return user_info(row, 0)

        return self._guarded(actor, Action.MANAGE_USERS, context, name,
                             {"change": "add_user", "role": role, "departments": ",".join(depts)}, work)

    def disable_user(self, actor: Identity, name: str, *, context: RequestContext = _NO_CONTEXT) -> UserInfo:
        """Disable an account: every later request by it, token or password, is refused.

        Its sessions end too (the session generation moves on), so enabling the account later
        does not bring back a browser session that was open when it was disabled.
        """
        def work(s: Session, who: Identity) -> UserInfo:
            row = user_row(s, name)
            if row.active:
                row.active, row.disabled_at, row.disabled_by = False, self._clock(), who.name
                row.session_generation += 1
            return user_info(row, token_count(s, row.id))

        return self._guarded(actor, Action.MANAGE_USERS, context, name, {"change": "disable_user"}, work)

    def enable_user(self, actor: Identity, name: str, *, context: RequestContext = _NO_CONTEXT) -> UserInfo:
        """Enable a disabled account again: its password and unrevoked, unexpired tokens work again.

        Sessions that were open when it was disabled stay ended; the user signs in anew.
        """
        def work(s: Session, _who: Identity) -> UserInfo:
            row = user_row(s, name)
            if not row.active:
                row.active, row.disabled_at, row.disabled_by = True, None, None
            return user_info(row, token_count(s, row.id))

        return self._guarded(actor, Action.MANAGE_USERS, context, name, {"change": "enable_user"}, work)

    def set_password(self, actor: Identity, name: str, password: str, *,
                     context: RequestContext = _NO_CONTEXT) -> UserInfo:
        """Set account ``name``'s password (administrators, or the account itself); its sessions end.

        Every signed-in browser of the account must sign in again with the new password: a
        password is changed because the old one may be known, and so may a session opened with it.

        Raises:
            AccessDeniedError: ``actor`` is neither an administrator nor the account (logged).
            InvalidUserError: the password breaks the policy (records.access.passwords).
            UserNotFoundError: no such account.
        """
        check_password_policy(password, name=name)
        hashed = self._hasher.hash(password)
        with self._uow.write() as s:
            fresh = current_identity(s, actor)
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            # Decided before anything is said about the name, so a refused caller learns nothing.
            decision = decide_own_account(fresh, row.id if row is not None else "", now=self._clock())
            self._append(s, fresh, Action.MANAGE_USERS, decision, context, "user", name, {"change": "set_password"})
            if decision.allowed:
                row = user_row(s, name)  # allowed and unknown: UserNotFoundError
                row.password_hash = hashed
                row.session_generation += 1
                info = user_info(row, token_count(s, row.id))
        if not decision.allowed:
            raise self.error_for(fresh, Action.MANAGE_USERS, name, decision)
        return info

    def change_own_password(self, actor: Identity, current: str, new: str, *,
                            context: RequestContext = _NO_CONTEXT) -> int:
        """A person replaces their own password, proving the current one first; returns the new session generation.

        The current password is asked for so that a browser left signed in is not enough to take
        the account over. Every session of the account ends (as with :meth:`set_password`); the
        caller may keep the browser that made the change signed in with the returned generation.
        One access-log entry: MANAGE_USERS ``change_password``, allowed (rule own_account) or
        refused (wrong current password, or a caller without an account of its own).

        Raises:
            InvalidUserError: field ``current_password`` (wrong; logged as refused) or
                ``password`` (the new one breaks the policy; nothing logged, nothing checked).
            AccessDeniedError: the caller is not a signed-in, active account (logged).
        """
        check_password_policy(new, name=actor.name)
        hashed = self._hasher.hash(new)
        details = {"change": "change_password"}
        with self._uow.write() as s:
            fresh = current_identity(s, actor)
            row = s.get(UserRow, fresh.user_id) if fresh.user_id is not None else None
            decision = decide_own_account(fresh, row.id if row is not None else "", now=self._clock())
            wrong = decision.allowed and (row is None or row.password_hash is None
                                          or not _verify(self._hasher, row.password_hash, current))
            if wrong:
                decision = Decision(False, "the current password is wrong", rule=Rule.CREDENTIALS)
            self._append(s, fresh, Action.MANAGE_USERS, decision, context, "user", fresh.name, details)
            if decision.allowed and row is not None:
                row.password_hash = hashed
                row.session_generation += 1
                generation = row.session_generation
        if wrong:
            raise InvalidUserError("current_password", "the current password is wrong")
        if not decision.allowed:
            raise self.error_for(fresh, Action.MANAGE_USERS, fresh.name, decision)
        return generation

    def list_users(self, actor: Identity, *, context: RequestContext = _NO_CONTEXT) -> list[UserInfo]:
        def work(s: Session, _who: Identity) -> list[UserInfo]:
            counts = dict(s.execute(select(TokenRow.user_id, func.count()).where(TokenRow.revoked_at.is_(None))
                                    .group_by(TokenRow.user_id)).all())
            return [user_info(r, counts.get(r.id, 0)) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

        return self._guarded(actor, Action.MANAGE_USERS, context, None, {"change": "list_users"}, work)

    def identity(self, name: str) -> Identity:
        """The current identity of an account, for a caller that has already authenticated it."""
        with self._uow.read() as s:
            return identity_of(s, user_row(s, name))

    # ------------------------------------------------------------------ sessions
    def session_generation(self, name: str) -> int:
        """The account's current session generation (what :meth:`start_session` hands out).

        Raises:
            UserNotFoundError: no such account.
        """
        with self._uow.read() as s:
            return user_row(s, name).session_generation

    def session_identity(self, name: str, generation: object) -> Identity | None:
        """The identity a signed session stands for, or ``None`` once that session has ended.

        A session ends when its account signs out, changes its password or is disabled (each
        moves the account's generation on), or when the account is gone. A signed cookie cannot
        be taken back from the browser that holds it; comparing its generation on every request
        is what makes signing out mean something.
        """
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        with self._uow.read() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None or row.session_generation != generation:
                return None
            return identity_of(s, row)

    def start_session(self, name: str, password: str, *,
                      context: RequestContext = _NO_CONTEXT) -> tuple[Identity, int]:
        """:meth:`authenticate`, and the session generation to keep in the new session.

        Both are read in the one transaction that checks the password, so a disable or sign-out
        that commits meanwhile cannot hand the new session a generation from after it.

        Raises:
            AuthenticationError: as :meth:`authenticate`.
        """
        return self._authenticate(name, password, context)

    def sign_out(self, who: Identity, *, context: RequestContext = _NO_CONTEXT) -> None:
        """End every session of ``who``'s account (every browser it is signed in on); logged.

        The generation is per account, not per browser: one cookie cannot be told from its
        copies, and a sign-out that left a stolen copy working would not be one.
        """
        if who.console or who.user_id is None:
            return
        with self._uow.write() as s:
            row = s.get(UserRow, who.user_id)
            if row is None:
                return
            row.session_generation += 1
            self._append(s, identity_of(s, row), Action.SIGN_IN,
                         Decision(True, "signed out: the account's sessions end", rule=Rule.OWN_ACCOUNT),
                         context, "user", row.name, {"method": "session", "change": "sign_out"})

    # ------------------------------------------------------------------ sign-in
    def authenticate(self, name: str, password: str, *, context: RequestContext = _NO_CONTEXT) -> Identity:
        """Check a password (argon2id) and return the account's identity; every attempt is logged.

        Raises:
            AuthenticationError: unknown name, wrong password, no password set, or disabled account.
        """
        return self._authenticate(name, password, context)[0]

    def _authenticate(self, name: str, password: str, context: RequestContext) -> tuple[Identity, int]:
        with self._uow.write() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            problem = self._password_problem(row, password)
            if row is not None and problem is None and self._hasher.check_needs_rehash(row.password_hash or ""):
                row.password_hash = self._hasher.hash(password)
            who, decision = self._sign_in(s, name, row, problem, context, {"method": "password"})
            generation = row.session_generation if row is not None else -1
        if not decision.allowed:
            raise AuthenticationError(name)
        return who, generation

    def _password_problem(self, row: UserRow | None, password: str) -> str | None:
        if row is None or row.password_hash is None:
            # Spend the same time as a real check, so response times do not reveal which names exist.
            self._dummy_hash = self._dummy_hash or self._hasher.hash(secrets.token_hex(16))
            _verify(self._hasher, self._dummy_hash, password)
            return "unknown user" if row is None else "no password set for this account"
        return None if _verify(self._hasher, row.password_hash, password) else "wrong password"

    def _sign_in(self, s: Session, name: str, row: UserRow | None, problem: str | None, context: RequestContext,
                 details: dict[str, str]) -> tuple[Identity, Decision]:
        if row is None:
            who = Identity(name=name or "-", role=None, active=False)
        else:
            who = identity_of(s, row)
        decision = decide(who, Action.SIGN_IN, None, now=self._clock()) if problem is None else \
            Decision(False, problem, rule=Rule.CREDENTIALS)
        self._append(s, who, Action.SIGN_IN, decision, context, "user", who.name, details)
        return who, decision

    def create_token(self, actor: Identity, name: str, *, label: str | None = None,
                     expires_at: datetime | None = None, context: RequestContext = _NO_CONTEXT) -> IssuedToken:
        """Issue an API token for account ``name``; the token is returned once and only its SHA-256 kept.

        Raises:
            AccessDeniedError: ``actor`` may not manage users (logged).
            InvalidUserError: ``expires_at`` lacks a time zone or lies in the past (a token born
                expired is a typo, not a wish).
            UserNotFoundError: no such account.
        """
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidUserError("expires", "must carry a time zone")
            if expires_at <= self._clock():
                raise InvalidUserError("expires", "lies in the past")
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)

        def work(s: Session, who: Identity) -> IssuedToken:
            row = user_row(s, name)
            t = TokenRow(id=uuid.uuid4().hex, user_id=row.id, token_sha256=token_digest(token), label=label,
                         created_at=self._clock(), created_by=who.name, expires_at=expires_at)
            s.add(t)
            s.flush()
            return IssuedToken(token=token, token_id=t.id, user=row.name, created_at=t.created_at, expires_at=expires_at)

        return self._guarded(actor, Action.MANAGE_USERS, context, name, {"change": "create_token"}, work)

    def list_tokens(self, actor: Identity, name: str | None = None, *,
                    context: RequestContext = _NO_CONTEXT) -> list[TokenInfo]:
        """Every API token (or account ``name``'s), oldest first, without the tokens themselves; logged.

        Raises:
            AccessDeniedError: ``actor`` may not manage users (logged).
            UserNotFoundError: ``name`` names no account.
        """
        def work(s: Session, _who: Identity) -> list[TokenInfo]:
            q = select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id)
            if name is not None:
                q = q.where(TokenRow.user_id == user_row(s, name).id)
            return [token_info(t, n) for t, n in s.execute(q.order_by(TokenRow.created_at, TokenRow.id))]

        return self._guarded(actor, Action.MANAGE_USERS, context, name, {"change": "list_tokens"}, work)

    def revoke_token(self, actor: Identity, token_id: str, *, context: RequestContext = _NO_CONTEXT) -> TokenInfo:
        """Revoke API token ``token_id`` now; its next use is refused (revoking it again changes nothing).

        Raises:
            AccessDeniedError: ``actor`` may not manage users (logged).
            TokenNotFoundError: no token with that id.
        """
        def work(s: Session, who: Identity) -> TokenInfo:
            row = s.get(TokenRow, token_id)
            if row is None:
                raise TokenNotFoundError(token_id)
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = self._clock(), who.name
            user = s.get(UserRow, row.user_id)
            return token_info(row, user.name if user else "?")

        return self._guarded(actor, Action.MANAGE_USERS, context, token_id, {"change": "revoke_token"}, work)

    def authenticate_token(self, token: str, *, context: RequestContext = _NO_CONTEXT) -> Identity:
        """The identity an API token stands for; every attempt is logged.

        Raises:
            AuthenticationError: unknown, revoked or expired token, or a disabled account.
        """
        digest = token_digest(token)
        now = self._clock()
        with self._uow.write() as s:
            t = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == digest)).first()
            row = s.get(UserRow, t.user_id) if t is not None else None
            problem = ("unknown token" if t is None or row is None else "token revoked" if t.revoked_at is not None
                       else "token expired" if t.expires_at is not None and now >= t.expires_at else None)
            details = {"method": "token", "token": t.id if t is not None else f"sha256:{digest[:12]}"}
            who, decision = self._sign_in(s, row.name if row else "-", row, problem, context, details)
        if not decision.allowed:
            raise AuthenticationError(row.name if row else None)
        return who

    def check_password(self, name: str, password: str, *, context: RequestContext = _NO_CONTEXT) -> Identity:
        """The identity of account ``name`` once its password checks out, read without writing when it does.

        For callers that sign in and act in one call (the console's ``--as NAME``): like a valid
        API token, a valid password is recorded in the entry of the act it authorises
        (``details.auth = password``), so each call leaves one entry. A wrong password, an
        unknown or disabled account is refused and logged here as a sign-in, exactly like
        :meth:`authenticate`.

        Raises:
            AuthenticationError: the password does not check out (logged).
        """
        with self._uow.read() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            problem = self._password_problem(row, password)
            who = identity_of(s, row) if row is not None and problem is None else None
        if who is not None and decide(who, Action.SIGN_IN, None, now=self._clock()).allowed:
            return who
        return self.authenticate(name, password, context=context)  # logs the refusal, raises

    def check_token(self, token: str, *, context: RequestContext = _NO_CONTEXT) -> tuple[Identity, str]:
        """The identity and token id an API token stands for, read without writing when it is valid.

        One access-log entry per API call: a valid token is recorded in the entry of the act it
        authorises (the caller passes the token id in that entry's details), not as a sign-in of
        its own. An unknown, revoked or expired token, or a disabled account, is refused and
        logged here as a sign-in, exactly like :meth:`authenticate_token`.

        Raises:
            AuthenticationError: the token is not valid (logged).
        """
        digest = token_digest(token)
        now = self._clock()
        with self._uow.read() as s:
            t = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == digest)).first()
            row = s.get(UserRow, t.user_id) if t is not None else None
            valid = (t is not None and row is not None and t.revoked_at is None
                     and (t.expires_at is None or now < t.expires_at))
            who = identity_of(s, row) if valid and row is not None else None
        if who is not None and t is not None and decide(who, Action.SIGN_IN, None, now=now).allowed:
            return who, t.id
        return self.authenticate_token(token, context=context), t.id if t is not None else ""  # logs, raises

    # ------------------------------------------------------------------ regulator grants (ACS-04)
    def grant_regulator_access(
        self, actor: Identity, grantee: str, *, purpose: str, expires_at: datetime,
        dossiers: Sequence[str] | None = None, filter: GrantFilter | None = None,
        context: RequestContext = _NO_CONTEXT,
    ) -> Grant:
        """Give a regulator read-only access to some dossiers or to a saved filter, for a purpose, until ``expires_at``.

        Raises:
            AccessDeniedError: ``actor`` may not manage grants (logged).
            InvalidGrantError: not exactly one of ``dossiers`` and ``filter``, no purpose, or an expiry in the past.
            UserNotFoundError: no such account; InvalidGrantError if it is not an active regulator.
            DossierNotFoundError: a named dossier does not exist.
        """
        if (dossiers is None) == (filter is None):
            raise InvalidGrantError("scope", "give either dossiers or a filter")
        if dossiers is not None and not dossiers:
            raise InvalidGrantError("dossiers", "name at least one dossier")
        if filter is not None and filter.is_unlimited:
            raise InvalidGrantError("filter", "a filter must limit at least one dimension")
        if not purpose.strip():
            raise InvalidGrantError("purpose", "a grant states its purpose")
        if expires_at.tzinfo is None:
            raise InvalidGrantError("expires", "must carry a time zone")
        if expires_at <= self._clock():
            raise InvalidGrantError("expires", "lies in the past")
        grant_id = uuid.uuid4().hex

        def work(s: Session, who: Identity) -> Grant:
            user = user_row(s, grantee)
            if user.role != Role.REGULATOR or not user.active:
                raise InvalidGrantError("to", f"{grantee} is not an active regulator account")
            rows = [dossier_row(s, ref) for ref in dict.fromkeys(dossiers or ())]
            g = Grant(grant_id=grant_id, grantee=user.name, grantee_id=user.id, purpose=purpose.strip(),
                      granted_by=who.name, granted_at=self._clock(), expires_at=expires_at.astimezone(timezone.utc),
                      dossier_ids=frozenset(d.id for d in rows) if dossiers is not None else None,
                      archive_numbers=tuple(d.archive_number for d in rows), filter=filter)
            s.add(grant_row(g))
            return g

        scope = ",".join(dossiers) if dossiers is not None else (filter or GrantFilter()).render()
        return self._guarded(actor, Action.MANAGE_GRANTS, context, grant_id, {
            "change": "add_grant", "grantee": grantee, "scope": scope, "purpose": purpose,
            "expires_at": expires_at.isoformat()}, work)

    def revoke_grant(self, actor: Identity, grant_id: str, *, context: RequestContext = _NO_CONTEXT) -> Grant:
        """End a grant now (revoking an ended grant changes nothing)."""
        def work(s: Session, who: Identity) -> Grant:
            row = s.get(GrantRow, grant_id)
            if row is None:
                raise GrantNotFoundError(grant_id)
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = self._clock(), who.name
            user = s.get(UserRow, row.grantee_id)
            return grant_of(row, user.name if user else "?")

        return self._guarded(actor, Action.MANAGE_GRANTS, context, grant_id, {"change": "revoke_grant"}, work)

    def list_grants(self, actor: Identity, *, grantee: str | None = None,
                    context: RequestContext = _NO_CONTEXT) -> list[Grant]:
        """Every grant (or one regulator's), newest first, with its status computable at any time."""
        def work(s: Session, _who: Identity) -> list[Grant]:
            q = select(GrantRow, UserRow.name).join(UserRow, UserRow.id == GrantRow.grantee_id)
            if grantee is not None:
                q = q.where(UserRow.name == grantee)
            return [grant_of(g, n) for g, n in s.execute(q.order_by(GrantRow.granted_at.desc(), GrantRow.id))]

        return self._guarded(actor, Action.MANAGE_GRANTS, context, grantee, {"change": "list_grants"}, work)

    # ------------------------------------------------------------------ the access log
    def read_audit_log(self, actor: Identity, *, since: datetime | None = None, until: datetime | None = None,
                       user: str | None = None, limit: int | None = None,
                       context: RequestContext = _NO_CONTEXT, export: bool = False,
                       details: Mapping[str, str] | None = None) -> list[LogEntry]:
        """Access-log entries in order. Auditors read all of it; a regulator only its own entries.

        The reading is itself logged (as an export when ``export``), before the entries are read;
        ``details`` go into that entry (the API passes the token it was called with).
        """
        details = {**(details or {}), **({"export": "json"} if export else {})}
        with self._uow.write(log_only=True) as s:
            decision, fresh = self._authorize_in(s, actor, Action.READ_AUDIT_LOG, None, context, None, user, details)
            if decision.allowed:
                actor_id = fresh.user_id if decision.rule is Rule.OWN_ENTRIES else (
                    user_row(s, user).id if user is not None else None)
                entries = self._log.entries(s, since=since, until=until, actor_id=actor_id, limit=limit)
        if not decision.allowed:
            raise self.error_for(fresh, Action.READ_AUDIT_LOG, user, decision)
        return entries

    def export_audit_log(self, actor: Identity, *, since: datetime | None = None, until: datetime | None = None,
                         context: RequestContext = _NO_CONTEXT) -> list[LogEntry]:
        """The log between two times, for an auditor to take away (logged as an export)."""
        return self.read_audit_log(actor, since=since, until=until, context=context, export=True)

    def search_audit_log(self, actor: Identity, where: LogFilter, *, page: int = 1, page_size: int = 100,
                         export: str | None = None, context: RequestContext = _NO_CONTEXT) -> LogPage:
        """Filtered access-log entries, newest first: one page of them, or all (``export="csv"``).

        One READ_AUDIT_LOG entry per call, decided by the policy (ACC-NO), holding the filter in
        its details (and ``export`` when the entries leave as a file). Auditors may filter over
        everyone; a regulator (Reach.OWN_ENTRIES) always gets its own entries only: its
        ``actor_id`` is forced, so a user filter for someone else finds nothing rather than
        widening what it sees. The filtering runs in SQL; the chain itself is not touched.
        """
        page, page_size = max(page, 1), max(page_size, 1)
        details = {**where.details(), **({"export": export} if export else {"page": str(page)})}
        with self._uow.write(log_only=True) as s:
            decision, fresh = self._authorize_in(s, actor, Action.READ_AUDIT_LOG, None, context, None,
                                                 where.actor_like, details)
            if decision.allowed:
                if decision.rule is Rule.OWN_ENTRIES:
                    where = replace(where, actor_id=fresh.user_id or "\0")  # no id: nothing is its own
                total = self._log.count(s, where)
                if export:
                    entries = self._log.matching(s, where, newest_first=True)
                else:
                    entries = self._log.matching(s, where, offset=(page - 1) * page_size, limit=page_size,
                                                 newest_first=True)
        if not decision.allowed:
            raise self.error_for(fresh, Action.READ_AUDIT_LOG, where.actor_like, decision)
        return LogPage(entries, total, page, page_size)

    def verify_access_log(self, actor: Identity, *, context: RequestContext = _NO_CONTEXT) -> VerifyResult:
        """Check the whole chain, the head and every signed checkpoint (``dossier audit verify``)."""
        try:
            decision = self.authorize(actor, Action.VERIFY_AUDIT_LOG, None, context=context)
        except AuditChainBrokenError:
            # The log takes no entry when its head is gone; reporting that is the verifier's job.
            with self._uow.read() as s:
                decision = decide(current_identity(s, actor), Action.VERIFY_AUDIT_LOG, None, now=self._clock())
        if not decision.allowed:
            raise AccessDeniedError(actor.name, Action.VERIFY_AUDIT_LOG, None, decision.reason)
        with self._uow.read() as s:
            return self._log.verify(s)

    def expire_log_details(self, actor: Identity, *, keep_months: int, dry_run: bool = False,
                           context: RequestContext = _NO_CONTEXT,
                           details: Mapping[str, str] | None = None) -> list[str]:
        """Destroy the log-period keys older than ``keep_months`` months (``dossier audit expire-details``).

        Destroying keys is key management (MANAGE_KEYS), decided and logged once before any key
        goes; the entries stay and verify, their details read "(sealed: log period expired)".
        Returns the periods (``period:YYYY-MM``) destroyed, or that would be with ``dry_run``.

        Raises:
            AccessDeniedError: ``actor`` may not manage keys (logged).
        """
        self.enforce(actor, Action.MANAGE_KEYS, None, context=context, details={
            **(details or {}), "change": "expire_log_details", "keep_months": str(keep_months), **({"dry_run": "1"} if dry_run else {})})
        return self._log.expire_details(keep_months=keep_months, dry_run=dry_run)

    def checkpoint_access_log(self, actor: Identity, *, context: RequestContext = _NO_CONTEXT) -> Checkpoint | None:
        """Sign the log's current head now, in the catalogue and the checkpoint file."""
        return self._guarded(actor, Action.VERIFY_AUDIT_LOG, context, None, {"change": "checkpoint"},
                             lambda s, _who: self._log.checkpoint(s))

    # ------------------------------------------------------------------ the archive's signature
    def sign_statement(self, message: bytes) -> tuple[str, str]:
        """Sign a domain-prefixed statement with the archive's key (the access log's): (key id, hex)."""
        return self._log.sign_statement(message)

    def signing_public_key(self) -> Ed25519PublicKey | None:
        """The archive's public signing key, for verifying what :meth:`sign_statement` signed."""
        return self._log.signing_public_key()


def _object_of(action: Action, target: DossierTarget | None, object_ref: str | None) -> tuple[str, str | None]:
    """What an entry names as acted on: the document or dossier, else the kind of object the action concerns."""
    if target is not None:
        return ("document" if target.item_number else "dossier"), object_ref or target.ref
    return _OBJECT_TYPES.get(action, "archive"), object_ref


def _problem(exc: DossierError) -> str:
    return "not found" if isinstance(exc, LookupError) else f"retrieval failed: {type(exc).__name__}"


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False

