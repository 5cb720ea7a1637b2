"""Errors of access control and of the access log.

::

    AccessError(DossierError)
    ├── AuthenticationError        (PermissionError) sign-in failed; says nothing about why
    ├── AccessDeniedError          (PermissionError) the policy refused; the refusal is already logged
    │   └── GrantExpiredError      the only grant that would have covered it has expired
    ├── GrantRequiredError         a regulator holds several grants and must name the one acted under
    ├── UserNotFoundError          (LookupError) no user of that name
    ├── GrantNotFoundError         (LookupError) no grant with that id
    ├── UserExistsError            the user name is taken
    ├── InvalidUserError           (ValueError) a user field is missing or malformed
    ├── InvalidGrantError          (ValueError) a grant field is missing or malformed (incl. --filter)
    ├── AuditKeyError              the checkpoint signing key is missing, unreadable or not ours
    └── AuditChainBrokenError      the access log cannot be appended to (its chain head is gone)
"""

from __future__ import annotations

from datetime import datetime

from records.errors import DossierError

__all__ = [
    "AccessDeniedError", "AccessError", "AuditChainBrokenError", "AuditKeyError", "AuthenticationError",
    "GrantExpiredError", "GrantNotFoundError", "GrantRequiredError", "InvalidGrantError", "InvalidUserError",
    "UserExistsError", "UserNotFoundError",
]


class AccessError(DossierError):
    """Base of access-control and access-log errors."""


class AuthenticationError(AccessError, PermissionError):
    """Sign-in failed. The message never says whether the name or the secret was wrong."""

    def __init__(self, name: str | None) -> None:
        super().__init__("sign-in failed: unknown user, wrong secret, or account disabled")
        self.name = name


class AccessDeniedError(AccessError, PermissionError):
    """The policy refused ``action`` on ``target`` for ``actor``; the refusal is in the access log."""

    def __init__(self, actor: str, action: str, target: str | None, reason: str) -> None:
        super().__init__(f"{actor} may not {action} {target or ''}".rstrip() + f": {reason}")
        self.actor = actor
        self.action = action
        self.target = target
        self.reason = reason


class GrantExpiredError(AccessDeniedError):
    """A regulator's grant covered the target but ended at ``expired_at`` (ACS-04)."""

    def __init__(self, actor: str, action: str, target: str | None, grant_id: str, expired_at: datetime) -> None:
        super().__init__(actor, action, target, f"grant {grant_id} expired at {expired_at.isoformat()}")
        self.grant_id = grant_id
        self.expired_at = expired_at


class GrantRequiredError(AccessError):
    """A regulator holds several active grants whose scopes cannot be merged into one search."""

    def __init__(self, actor: str, grant_ids: tuple[str, ...]) -> None:
        super().__init__(f"{actor} holds several grants; name the one acted under ({', '.join(grant_ids)})")
        self.actor = actor
        self.grant_ids = grant_ids


class UserNotFoundError(AccessError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no user {name!r}")
        self.name = name


class GrantNotFoundError(AccessError, LookupError):
    def __init__(self, grant_id: str) -> None:
        super().__init__(f"no grant {grant_id!r}")
        self.grant_id = grant_id


class UserExistsError(AccessError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a user named {name!r} already exists")
        self.name = name


class InvalidUserError(AccessError, ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidGrantError(AccessError, ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class AuditKeyError(AccessError):
    """The Ed25519 key that signs access-log checkpoints cannot be used."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"access-log signing key {path}: {problem}")
        self.path = path
        self.problem = problem


class AuditChainBrokenError(AccessError):
    """The access log cannot be appended to; retrieval fails closed ("no log entry, no document")."""

    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(f"access log broken{f' at entry {seq}' if seq is not None else ''}: {reason}")
        self.seq = seq
        self.reason = reason
