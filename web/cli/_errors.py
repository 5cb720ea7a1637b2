"""Domain error → exit code and one-line message, for every command (no tracebacks for users).

:data:`EXIT_CODES` gives each category of ``records.errors`` its exit code, once; a new error
gets its code by choosing its category. Only "unavailable" is told apart further, by service
(:data:`UNAVAILABLE_EXIT_CODES`), because scripts have long told a mailbox (9), the access log
(12) and the search server (13) apart. ``web/errors.py`` gives the same categories their HTTP
statuses; README's "Exit codes and HTTP statuses" shows both. The codes are stable: scripts
rely on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import click

from records.errors import (
    ConfigurationError, DataIntegrityError, DossierError, ForbiddenError, InvalidContentError, InvalidInputError,
    KeyProblemError, NotAllowedInStateError, NotFoundError, TooManyAttemptsError, UnauthenticatedError,
    UnavailableError, VerificationFailedError, category_of,
)

__all__ = ["EXIT_CODES", "UNAVAILABLE_EXIT_CODES", "UNCATEGORISED", "DossierCommandError", "exit_code_for"]

# 0 is success and 2 is click's usage error; neither is an error category.
EXIT_CODES: Mapping[type[DossierError], int] = MappingProxyType({
    VerificationFailedError: 1,        # `certificate verify`, like `inventory` and `verify` finding problems
    NotFoundError: 3,
    InvalidInputError: 4,
    InvalidContentError: 4,
    NotAllowedInStateError: 5,
    DataIntegrityError: 6,
    KeyProblemError: 7,
    ConfigurationError: 8,
    UnauthenticatedError: 10,
    TooManyAttemptsError: 10,
    ForbiddenError: 11,                # incl. WatermarkError: no stamped copy can be made, so no copy
    UnavailableError: 14,              # any other back end: the blob store, the key service, the catalogue database
})
"""Every category's exit code; an error exits with its most specific category's (``category_of``)."""

UNAVAILABLE_EXIT_CODES: tuple[tuple[type[UnavailableError], int], ...]  # no value here: see __getattr__
"""Which service is unavailable, for the services scripts tell apart (first match wins).

Built on first use (module ``__getattr__``): the mailbox error lives beside imaplib and ssl,
which `dossier --help` and every command that does not fail that way need not import."""

_unavailable: tuple[tuple[type[UnavailableError], int], ...] | None = None


def _unavailable_exit_codes() -> tuple[tuple[type[UnavailableError], int], ...]:
    """:data:`UNAVAILABLE_EXIT_CODES`, built on first use."""
    global _unavailable
    if _unavailable is None:
        from ingest.channels.imap import MailboxError
        from records.access.errors import AuditChainBrokenError
        from search.errors import SearchUnavailableError

        _unavailable = (
            (MailboxError, 9),
            (AuditChainBrokenError, 12),
            (SearchUnavailableError, 13),
        )
    return _unavailable


def __getattr__(name: str) -> object:
    if name == "UNAVAILABLE_EXIT_CODES":
        return _unavailable_exit_codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


UNCATEGORISED = 1
"""What an error outside every category exits with (none should be: tests/unit/test_error_tree.py)."""


def exit_code_for(exc: DossierError | type[DossierError]) -> int:
    """The exit code of an error (or error class): its category's, refined by service when "unavailable"."""
    kind = exc if isinstance(exc, type) else type(exc)
    category = category_of(kind)
    if category is None:
        return UNCATEGORISED
    if category is UnavailableError:
        for service, code in _unavailable_exit_codes():
            if issubclass(kind, service):
                return code
    return EXIT_CODES.get(category, UNCATEGORISED)


class DossierCommandError(click.ClickException):
    """Carries a domain error out of a command as ``dossier: error: …`` with its exit code.

    The message goes through :func:`records.redact.masked_urls`: a back end's error names the URL
    it could not reach, and that URL may carry a password (scripts log stderr).
    """

    def __init__(self, exc: DossierError) -> None:
        from records.redact import masked_urls

        super().__init__(masked_urls(str(exc)))
        self.exit_code = exit_code_for(exc)

    def format_message(self) -> str:
        return self.message
