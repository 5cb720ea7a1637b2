"""Domain error → exit code and one-line message, for every command (no tracebacks for users)."""

from __future__ import annotations

import click

from records.errors import (
    ConfigurationError, DisposalIncompleteError, DocumentNotFoundError, DossierClosedError, DossierError,
    DossierNotFoundError, DuplicateDocumentError, InvalidRegistrationError, InvalidTransitionError, NumberingError,
)
from ingest.channels.imap import MailboxError
from records.access.watermark import WatermarkError
from records.access.errors import (
    AccessDeniedError, AuditChainBrokenError, AuditKeyError, AuthenticationError, GrantNotFoundError,
    GrantRequiredError, InvalidGrantError, InvalidUserError, UserExistsError, UserNotFoundError,
)
from search.errors import InvalidQueryError, SearchUnavailableError
from records.vault import IntegrityError, KeyNotFoundError, KeyUnavailableError, VaultError, WrongKeyError
from retention.errors import (
    DispositionNotFoundError, HoldNotFoundError, InvalidDispositionError, InvalidHoldError,
    ReasonRequiredError, SealIncompleteError,
)
from retention.certificate import CertificateInvalidError
from retention.disposal import TransferPackageMissingError
from retention.transfer import BagExistsError, BagInvalidError

# Stable exit codes; scripts may rely on them (README lists them).
EXIT_CODES: tuple[tuple[type[DossierError], int], ...] = (
    (DossierNotFoundError, 3),
    (DocumentNotFoundError, 3),
    (InvalidRegistrationError, 4),
    (DossierClosedError, 5),
    (InvalidTransitionError, 5),
    (DuplicateDocumentError, 5),
    (IntegrityError, 6),
    (KeyNotFoundError, 7),
    (WrongKeyError, 7),
    (KeyUnavailableError, 7),
    (VaultError, 6),
    (MailboxError, 9),
    (UserNotFoundError, 3),
    (GrantNotFoundError, 3),
    (InvalidUserError, 4),
    (InvalidGrantError, 4),
    (GrantRequiredError, 4),
    (UserExistsError, 5),
    (AuditKeyError, 7),
    (AuthenticationError, 10),
    (AccessDeniedError, 11),
    (WatermarkError, 11),               # no stamped copy can be made: the regulator gets nothing
    (AuditChainBrokenError, 12),
    (InvalidQueryError, 4),
    (SearchUnavailableError, 13),
    (NumberingError, 8),
    (SealIncompleteError, 5),
    (InvalidDispositionError, 5),
    (DispositionNotFoundError, 3),
    (HoldNotFoundError, 3),
    (InvalidHoldError, 4),
    (ReasonRequiredError, 4),
    (DisposalIncompleteError, 5),
    (TransferPackageMissingError, 5),
    (BagExistsError, 5),
    (BagInvalidError, 6),
    (CertificateInvalidError, 1),
    (ConfigurationError, 8),
)


def exit_code_for(exc: DossierError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


class DossierCommandError(click.ClickException):
    """Carries a domain error out of a command as ``dossier: error: …`` with its exit code."""

    def __init__(self, exc: DossierError) -> None:
        super().__init__(str(exc))
        self.exit_code = exit_code_for(exc)

    def format_message(self) -> str:
        return self.message
