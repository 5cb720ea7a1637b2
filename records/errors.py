"""Errors of the archive core, and the one tree every Dossier error sits in.

Every error Dossier raises on purpose descends from :class:`DossierError` through exactly one
**category** defined here. A category says what kind of failure it is for the person or script
that asked, so the CLI and the web layer map *categories*, not leaves: ``web/cli/_errors.py``
(``EXIT_CODES``) gives each category its exit code and ``web/errors.py`` (``HTTP_STATUS``) its HTTP
status, each in one short table (README, "Exit codes and HTTP statuses"). A new error gets its
exit code and status by choosing its category; nothing else needs to change.

A package's leaves also descend from its family base (RecordsError, AccessError, VaultError,
IngestError, SearchError, RetentionError), so a caller can catch a package's errors or a
category's; the web layer's few have none. Family bases are never raised themselves. ``code`` is each error's stable machine
name (the API's ``error.code``), inherited from the category unless a leaf names its own::

    DossierError                                    root; never raised itself
    ├── NotFoundError                               no object with that number, id or name
    │   ├── DossierNotFoundError, DocumentNotFoundError       (LookupError; records)
    │   │   └── IntakeJobNotFoundError                        (ingest.jobs) answered like an unknown document
    │   ├── UserNotFoundError, GrantNotFoundError, TokenNotFoundError   (LookupError; records.access.errors)
    │   ├── HoldNotFoundError, DispositionNotFoundError       (LookupError; retention.errors)
    │   ├── ReportNotFoundError                   (retention.inventory_desk) no inventory run or report by that name
    │   └── SavedSearchNotFoundError              (LookupError; search.saved) not one of the caller's saved searches
    ├── InvalidInputError                           a parameter or query as typed cannot be used
    │   ├── InvalidQueryError                       (ValueError; search.errors) incl. nested too deeply
    │   ├── InvalidPeriodError                      (retention.statistics) a month that is not YYYY-MM
    │   ├── GrantRequiredError                      (records.access.errors) several grants: name one
    │   ├── ReasonRequiredError                     (ValueError; retention.errors) a re-plan without a reason
    │   ├── InvalidParameterError                   (ValueError; web.params) e.g. ?since= that is not a date
    │   ├── NoDossiersNamedError, NoPackageError    (web.ui.bags) an export without numbers, an import without a file
    │   └── InvalidContentError                     understood, but what was sent to be kept is refused
    │       ├── InvalidRegistrationError            (ValueError; records) a registration field (INT-F)
    │       ├── InvalidUserError, InvalidGrantError (ValueError; records.access.errors)
    │       ├── InvalidHoldError                    (ValueError; retention.errors)
    │       ├── InvalidCalendarError                (ValueError; records.office_calendar) a calendar file to import
    │       └── EncryptedDocumentError, CorruptDocumentError, UnsupportedFormatError,
    │           TooLargeError                       (ingest.errors) → also a recorded outcome per file
    ├── NotAllowedInStateError                      the step does not fit the object's current state
    │   ├── InvalidTransitionError, DuplicateDocumentError, DisposalIncompleteError,
    │   │   IncompleteDossierError (closing with materials missing, ARC-2)   (records)
    │   ├── JobNotRetryableError                    (ingest.jobs) only a failed intake job can be re-queued
    │   ├── NotEncryptedError                       (records) `dossier unlock` of an item whose outcome is not "encrypted"
    │   ├── DossierClosedError                      (records) filing into a closed, sealed, void or disposed dossier
    │   │   └── SealedDossierError                  a sealed one, without an amendment reason (ARC-1-05)
    │   ├── UserExistsError                         (records.access.errors)
    │   ├── SealIncompleteError, InvalidDispositionError                  (retention.errors)
    │   ├── TransferPackageMissingError             (retention.disposal)
    │   ├── BagExistsError                          (retention.transfer)
    │   ├── BackupExistsError, RestoreTargetNotEmptyError   (retention.errors) backup / restore (issue #12)
    │   ├── InventoryBusyError                      (retention.inventory_desk) an inventory is already running
    │   ├── KeyAlreadyPinnedError                   (records.vault.errors) `dossier keys create` for an archive with its key
    │   └── RestoreUnfinishedError                  (web.bootstrap) the archive is not opened until `dossier restore` finishes
    ├── DataIntegrityError                          stored or imported bytes are not what was sealed
    │   ├── IntegrityError, BlobNotFoundError (LookupError), BlobExistsError   (records.vault.errors)
    │   ├── LedgerInvalidError, BackupInvalidError  (retention.errors) the destruction ledger altered; a backup unfinished
    │   └── BagInvalidError                         (ValueError; retention.transfer) a package to import
    ├── KeyProblemError                             a key is missing, wrong, refused, unreadable or not the pinned one
    │   ├── KeyNotFoundError, KeyUnavailableError, WrongKeyError, KeyMismatchError,
    │   │   DossierKeyGoneError, DossierKeyMissingError   (records.vault.errors) a dossier's key destroyed / not in the ring
    │   └── AuditKeyError                           (records.access.errors) the access log's signing key
    ├── ConfigurationError                          settings missing, contradictory or unreadable
    │   ├── NumberingError                          (records) the numbering template is invalid or exhausted
    │   ├── InvalidScheduleError                    (retention.errors) retention.toml
    │   ├── KeyMaterialMissingError, BackupToolMissingError  (retention.errors) a restore's keys; pg_dump/pg_restore
    │   └── ArchiveNotInitialisedError              (web.bootstrap) no archive: run `dossier init`
    ├── UnavailableError                            a service the archive needs cannot be used right now
    │   ├── CatalogueUnavailableError               (records) the catalogue database cannot be reached
    │   ├── StorageUnavailableError                 (records.vault.errors) the blob store
    │   ├── KeyServiceUnavailableError              (records.vault.errors) the key service (OpenBao, KMS)
    │   ├── MailboxError                            (ingest.channels.imap) the IMAP server
    │   ├── MailDeliveryError                       (records.smtp) the SMTP server of the deadline digest
    │   ├── SearchUnavailableError                  (search.errors) the search backend
    │   │   └── IndexOutdatedError                  built by another analyser version: reindex
    │   └── AuditChainBrokenError                   (records.access.errors) the access log takes no entry
    ├── UnauthenticatedError                        not signed in, or signing in failed
    │   ├── AuthenticationError                     (PermissionError; records.access.errors)
    │   ├── NotSignedInError                        (web.errors)
    │   └── TooManyAttemptsError                    too many failed sign-ins: wait
    │       └── ThrottledError                      (web.errors)
    ├── ForbiddenError                              the policy refused; the refusal is in the access log
    │   ├── AccessDeniedError                       (PermissionError; records.access.errors)
    │   │   ├── GrantExpiredError
    │   │   └── SameApproverError                   (retention.errors) four eyes
    │   └── WatermarkError                          (records.access.watermark) no stamped copy, so no copy
    │       └── WatermarkEncryptedError, WatermarkUnsupportedError
    └── VerificationFailedError                     a check of something handed in found problems
        └── CertificateInvalidError                 (retention.certificate)

Why categories rather than one table of every leaf: the tables in the CLI and the web layer were
each a list of some forty leaves, kept by hand, and a leaf missing from one of them answered 500
or exited 1 by accident. Categories carry no builtin base (``ValueError``, ``LookupError``): a
category must never make an error catchable by an ``except ValueError`` that did not catch it
before. Leaves keep the builtin bases they always had.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CATEGORIES", "CatalogueUnavailableError", "ConfigurationError", "DataIntegrityError", "DisposalIncompleteError", "DocumentNotFoundError", "IncompleteDossierError",
    "DossierClosedError", "DossierError", "DossierNotFoundError", "DuplicateDocumentError", "ForbiddenError",
    "InvalidContentError", "InvalidInputError", "InvalidRegistrationError", "InvalidTransitionError",
    "KeyProblemError", "NotAllowedInStateError", "NotFoundError", "NumberingError", "RecordsError",
    "SealedDossierError", "TooManyAttemptsError", "UnauthenticatedError", "UnavailableError",
    "VerificationFailedError", "category_of",
]


class DossierError(Exception):
    """Root of every error Dossier raises on purpose; raise a leaf, never this."""

    code: ClassVar[str] = "internal_error"
    """Stable machine name of the error (the API's ``error.code``); scripts and clients match on it."""


# ---------------------------------------------------------------------- categories
class NotFoundError(DossierError):
    """No object with that number, id or name exists (or the caller may not learn that it does)."""

    code = "not_found"


class InvalidInputError(DossierError):
    """A parameter or query, as the caller typed it, cannot be used; the message says what to fix."""

    code = "invalid_input"


class InvalidContentError(InvalidInputError):
    """The request was understood, but what was sent to be kept (a registration, a user, a grant,
    a hold, a file) fails validation. Still invalid input; the web says 422 rather than 400."""

    code = "invalid_content"


class NotAllowedInStateError(DossierError):
    """The step is well-formed but does not fit the current state of what it acts on."""

    code = "not_allowed_in_state"


class DataIntegrityError(DossierError):
    """Stored or imported bytes are not what was sealed or packaged: never hand them out as good."""

    code = "integrity_failed"


class KeyProblemError(DossierError):
    """A key is missing, wrong, refused or unreadable, or not the key the archive is pinned to.

    A key *service* that cannot be reached is :class:`UnavailableError` instead."""

    code = "key_problem"


class ConfigurationError(DossierError):
    """The settings in effect are missing, contradictory or unreadable."""

    code = "configuration_error"


class UnavailableError(DossierError):
    """A service the archive needs (blob store, key service, mailbox, search backend, access log) cannot be used
    right now; trying again later, or repairing that service, may help. The catalogue is unaffected."""

    code = "unavailable"


class UnauthenticatedError(DossierError):
    """The caller is not signed in, or signing in failed (never says which part was wrong)."""

    code = "unauthenticated"


class TooManyAttemptsError(UnauthenticatedError):
    """Too many failed sign-ins recently: the caller must wait before trying again."""

    code = "too_many_attempts"


class ForbiddenError(DossierError):
    """The access policy refused, or nothing may be handed out in the only form allowed."""

    code = "forbidden"


class VerificationFailedError(DossierError):
    """A check of something handed in (a disposition certificate) found it altered or unsigned."""

    code = "verification_failed"


CATEGORIES: tuple[type[DossierError], ...] = (
    NotFoundError, InvalidInputError, InvalidContentError, NotAllowedInStateError, DataIntegrityError,
    KeyProblemError, ConfigurationError, UnavailableError, UnauthenticatedError, TooManyAttemptsError,
    ForbiddenError, VerificationFailedError,
)
"""Every category; a subcategory (InvalidContentError, TooManyAttemptsError) is listed after its parent."""


def category_of(error: type[DossierError] | DossierError) -> type[DossierError] | None:
    """The most specific category ``error`` belongs to, or None for a family base or the root.

    The categories of one error always form a chain (InvalidContentError is an InvalidInputError),
    so "most specific" is well defined; the error-tree test checks that no leaf is in two
    unrelated categories.
    """
    cls = error if isinstance(error, type) else type(error)
    found: type[DossierError] | None = None
    for category in CATEGORIES:
        if issubclass(cls, category) and (found is None or issubclass(category, found)):
            found = category
    return found


# ---------------------------------------------------------------------- the catalogue's own errors
class RecordsError(DossierError):
    """Family base of catalogue and dossier errors (never raised itself)."""


class DossierNotFoundError(RecordsError, NotFoundError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no dossier {ref!r}")
        self.ref = ref


class DocumentNotFoundError(RecordsError, NotFoundError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no document {ref!r}")
        self.ref = ref


class InvalidRegistrationError(RecordsError, InvalidContentError, ValueError):
    """A registration field (INT-F) is missing or malformed."""

    code = "invalid_registration"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidTransitionError(RecordsError, NotAllowedInStateError):
    code = "invalid_transition"

    def __init__(self, archive_number: str, state: str, action: str) -> None:
        super().__init__(f"dossier {archive_number} is {state}; cannot {action}")
        self.archive_number = archive_number
        self.state = state
        self.action = action


class DossierClosedError(RecordsError, NotAllowedInStateError):
    code = "dossier_closed"

    def __init__(self, archive_number: str, state: str) -> None:
        super().__init__(f"dossier {archive_number} is {state}; no documents can be filed into it")
        self.archive_number = archive_number
        self.state = state


class SealedDossierError(DossierClosedError):
    """A sealed dossier is read-only (ARC-1-05); only an archivist adds to it, with a recorded reason."""

    def __init__(self, archive_number: str) -> None:
        # Its own message (DossierClosedError's would say nothing can be filed at all).
        RecordsError.__init__(self, f"dossier {archive_number} is sealed; material can only be added by an archivist "
                              "with a recorded amendment reason")
        self.archive_number = archive_number
        self.state = "sealed"


class DuplicateDocumentError(RecordsError, NotAllowedInStateError):
    code = "duplicate_document"

    def __init__(self, archive_number: str, sha256: str, existing_item: str) -> None:
        super().__init__(
            f"the same file (sha256 {sha256[:12]}…) is already filed in {archive_number} as {existing_item}"
        )
        self.archive_number = archive_number
        self.sha256 = sha256
        self.existing_item = existing_item


class NotEncryptedError(RecordsError, NotAllowedInStateError):
    """``dossier unlock`` of an item that was not filed as ``encrypted``: there is nothing to open (issue #13)."""

    code = "not_encrypted"

    def __init__(self, item: str, outcome: str | None) -> None:
        super().__init__(f"item {item} is not encrypted (its outcome is {outcome or 'unknown'})")
        self.item = item
        self.outcome = outcome


class NumberingError(RecordsError, ConfigurationError):
    """The numbering template is invalid, or its serial space is exhausted (ARC-3).

    Configuration either way: an exhausted serial space is fixed by widening the template.
    """

    code = "numbering_error"


class CatalogueUnavailableError(RecordsError, UnavailableError):
    """The catalogue database cannot be reached or used right now (PostgreSQL down, a connection
    cut, the pool exhausted, SQLite locked past its timeout); ``cause`` says why.

    Raised by :func:`records.db.catalogue_unavailable` from the driver's error, never with the
    URL in the message: it may carry a password.
    """

    code = "catalogue_unavailable"

    def __init__(self, cause: str) -> None:
        super().__init__(f"catalogue database unavailable: {cause}")
        self.cause = cause


class DisposalIncompleteError(RecordsError, NotAllowedInStateError):
    """Tombstoning refused: some stored object of the dossier still has its data key (RET)."""

    def __init__(self, archive_number: str, live: int) -> None:
        super().__init__(f"dossier {archive_number} still has {live} stored object(s) with a data key; "
                         "destroy the keys before tombstoning it")
        self.archive_number = archive_number
        self.live = live


class IncompleteDossierError(RecordsError, NotAllowedInStateError):
    """Closing refused: required materials are missing (ARC-2); names each one.

    A dossier closed without them could never be sealed, so closing is where the check belongs;
    an archivist may still close it with a recorded reason (``close_override``).
    """

    code = "incomplete_dossier"

    def __init__(self, archive_number: str, missing: list[str]) -> None:
        super().__init__(f"dossier {archive_number} cannot be closed; missing: " + "; ".join(missing))
        self.archive_number = archive_number
        self.missing = list(missing)

