"""Errors of access control and of the access log.

::

    AccessError(DossierError)      family base; [the category in records.errors that maps it]
    ├── AuthenticationError        [Unauthenticated] (PermissionError) sign-in failed; says nothing about why
    ├── AccessDeniedError          [Forbidden] (PermissionError) the policy refused; the refusal is already logged
    │   └── GrantExpiredError      the only grant that would have covered it has expired
    ├── GrantRequiredError         [InvalidInput] a regulator holds several grants and must name the one acted under
    ├── UserNotFoundError          [NotFound] (LookupError) no user of that name
    ├── GrantNotFoundError         [NotFound] (LookupError) no grant with that id
    ├── TokenNotFoundError         [NotFound] (LookupError) no API token with that id
    ├── UserExistsError            [NotAllowedInState] the user name is taken
    ├── InvalidUserError           [InvalidContent] (ValueError) a user field is missing or malformed
    ├── InvalidGrantError          [InvalidContent] (ValueError) a grant field is missing or malformed (incl. --filter)
    ├── AuditKeyError              [KeyProblem] the checkpoint signing key is missing, unreadable or not ours
    └── AuditChainBrokenError      [Unavailable] the access log cannot be appended to (its chain head is gone)

The watermark errors (records.access.watermark) and the web layer's NotSignedInError and
ThrottledError are AccessErrors too.
"""

from __future__ import annotations

from datetime import datetime

from records.errors import (
    DossierError, ForbiddenError, InvalidContentError, InvalidInputError, KeyProblemError, NotAllowedInStateError,
    NotFoundError, UnauthenticatedError, UnavailableError,
)

__all__ = [
    "AccessDeniedError", "AccessError", "AuditChainBrokenError", "AuditKeyError", "AuthenticationError",
    "GrantExpiredError", "GrantNotFoundError", "GrantRequiredError", "InvalidGrantError", "InvalidUserError",
    "TokenNotFoundError", "UserExistsError", "UserNotFoundError",
]


class AccessError(DossierError):
    """Family base of access-control and access-log errors (never raised itself)."""


class AuthenticationError(AccessError, UnauthenticatedError, PermissionError):
    """Sign-in failed. The message never says whether the name or the secret was wrong."""

    code = "authentication_failed"

    def __init__(self, name: str | None) -> None:
        super().__init__("sign-in failed: unknown user, wrong secret, or account disabled")
        self.name = name


class AccessDeniedError(AccessError, ForbiddenError, PermissionError):
    """The policy refused ``action`` on ``target`` for ``actor``; the refusal is in the access log."""

    def __init__(self, actor: str, action: str, target: str | None, reason: str) -> None:
        super().__init__(f"{actor} may not {action} {target or ''}".rstrip() + f": {reason}")
        self.actor = actor
        self.action = action
        self.target = target
        self.reason = reason


class GrantExpiredError(AccessDeniedError):
    """A regulator's grant covered the target but ended at ``expired_at`` (ACS-04)."""

    code = "grant_expired"

    def __init__(self, actor: str, action: str, target: str | None, grant_id: str, expired_at: datetime) -> None:
        super().__init__(actor, action, target, f"grant {grant_id} expired at {expired_at.isoformat()}")
        self.grant_id = grant_id
        self.expired_at = expired_at


class GrantRequiredError(AccessError, InvalidInputError):
    """A regulator holds several active grants whose scopes cannot be merged into one search.

    Invalid input, not a conflict: the same request succeeds once it names the grant acted under.
    """

    code = "grant_required"

    def __init__(self, actor: str, grant_ids: tuple[str, ...]) -> None:
        super().__init__(f"{actor} holds several grants; name the one acted under ({', '.join(grant_ids)})")
        self.actor = actor
        self.grant_ids = grant_ids


class UserNotFoundError(AccessError, NotFoundError, LookupError):
    code = "user_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no user {name!r}")
        self.name = name


class GrantNotFoundError(AccessError, NotFoundError, LookupError):
    code = "grant_not_found"

    def __init__(self, grant_id: str) -> None:
        super().__init__(f"no grant {grant_id!r}")
        self.grant_id = grant_id


class TokenNotFoundError(AccessError, NotFoundError, LookupError):
    code = "token_not_found"

    def __init__(self, token_id: str) -> None:
        super().__init__(f"no API token {token_id!r}")
        self.token_id = token_id


class UserExistsError(AccessError, NotAllowedInStateError):
    code = "user_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"a user named {name!r} already exists")
        self.name = name


class InvalidUserError(AccessError, InvalidContentError, ValueError):
    code = "invalid_user"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidGrantError(AccessError, InvalidContentError, ValueError):
    code = "invalid_grant"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class AuditKeyError(AccessError, KeyProblemError):
    """The Ed25519 key that signs access-log checkpoints cannot be used."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"access-log signing key {path}: {problem}")
        self.path = path
        self.problem = problem


class AuditChainBrokenError(AccessError, UnavailableError):
    """The access log cannot be appended to; retrieval fails closed ("no log entry, no document")."""

    code = "access_log_broken"

    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(f"access log broken{f' at entry {seq}' if seq is not None else ''}: {reason}")
        self.seq = seq
        self.reason = reason
