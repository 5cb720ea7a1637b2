"""Errors of sealing, retention schedules, legal holds and disposition.

::

    RetentionError(DossierError)   family base (never raised itself); [category in records.errors]
    ├── InvalidScheduleError       [Configuration] the retention.toml schedule is malformed
    ├── SealIncompleteError        [NotAllowedInState] a dossier lacks required materials; names each one (ARC-2)
    ├── HoldNotFoundError          [NotFound] (LookupError) no hold with that id
    ├── InvalidHoldError           [InvalidContent] (ValueError) a hold without reason, target or filter
    ├── ReasonRequiredError        [InvalidInput] (ValueError) a re-plan without a reason
    ├── DispositionNotFoundError   [NotFound] (LookupError) no disposition with that id
    ├── InvalidDispositionError    [NotAllowedInState] wrong state for the step, nothing due, not due, held
    ├── InvalidPeriodError         [InvalidInput] (retention.statistics) a month that is not YYYY-MM
    ├── CertificateInvalidError    [VerificationFailed] (retention.certificate) altered, unsigned, another key
    ├── TransferPackageMissingError [NotAllowedInState] (retention.disposal) a transfer's package is gone
    ├── BagExistsError             [NotAllowedInState] (retention.transfer) packages are never overwritten
    └── BagInvalidError            [DataIntegrity] (ValueError; retention.transfer) a package to import is not valid
    SameApproverError(AccessDeniedError) [Forbidden] the manager approving is the archivist who reviewed
"""

from __future__ import annotations

from collections.abc import Sequence

from records.access.errors import AccessDeniedError
from records.errors import (
    ConfigurationError, DossierError, InvalidContentError, InvalidInputError, NotAllowedInStateError, NotFoundError,
)

__all__ = [
    "DispositionNotFoundError", "HoldNotFoundError", "InvalidDispositionError",
    "InvalidHoldError", "InvalidScheduleError", "ReasonRequiredError", "RetentionError", "SameApproverError", "SealIncompleteError",
]


class RetentionError(DossierError):
    """Family base of sealing, retention, hold and disposition errors (never raised itself)."""


class InvalidScheduleError(RetentionError, ConfigurationError):
    """The retention schedule file is unreadable or a rule in it is malformed."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"retention schedule {where}: {problem}")
        self.where = where
        self.problem = problem


class SealIncompleteError(RetentionError, NotAllowedInStateError):
    """The dossier cannot be sealed: required materials are missing (ARC-2). ``missing`` names each."""

    def __init__(self, archive_number: str, missing: Sequence[str]) -> None:
        super().__init__(f"dossier {archive_number} cannot be sealed; missing: {'; '.join(missing)}")
        self.archive_number = archive_number
        self.missing = tuple(missing)


class HoldNotFoundError(RetentionError, NotFoundError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no active legal hold {ref!r}")
        self.ref = ref


class InvalidHoldError(RetentionError, InvalidContentError, ValueError):
    def __init__(self, problem: str) -> None:
        super().__init__(f"legal hold: {problem}")
        self.problem = problem


class ReasonRequiredError(RetentionError, InvalidInputError, ValueError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs a reason")
        self.what = what


class DispositionNotFoundError(RetentionError, NotFoundError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no disposition {ref!r}")
        self.ref = ref


class InvalidDispositionError(RetentionError, NotAllowedInStateError):
    """The step does not fit the disposition's state, or its dossiers are not (or no longer) due."""

    def __init__(self, ref: str, problem: str) -> None:
        super().__init__(f"disposition {ref}: {problem}")
        self.ref = ref
        self.problem = problem


class SameApproverError(AccessDeniedError):
    """Four eyes: the approving manager must be a different person from the reviewing archivist."""

    def __init__(self, actor: str, disposition_id: str) -> None:
        super().__init__(actor, "approve", disposition_id, f"{actor} reviewed this disposition; "
                         "approval must come from a different person")
        self.disposition_id = disposition_id
