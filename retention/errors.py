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
    ├── BagInvalidError            [DataIntegrity] (ValueError; retention.transfer) a package to import is not valid
    ├── LedgerInvalidError         [DataIntegrity] (retention.ledger) the destruction ledger was altered
    ├── BackupInvalidError         [DataIntegrity] (retention.backup) a backup is unfinished or a file fails its manifest
    ├── BackupExistsError          [NotAllowedInState] (retention.backup) DEST holds a finished backup already
    ├── RestoreTargetNotEmptyError [NotAllowedInState] (retention.backup) the data directory holds an archive
    ├── KeyMaterialMissingError    [Configuration] (retention.backup) a restore finds no key material to use
    └── BackupToolMissingError     [Configuration] (retention.backup) pg_dump / pg_restore not installed
    SameApproverError(AccessDeniedError) [Forbidden] the manager approving is the archivist who reviewed
"""

from __future__ import annotations

from collections.abc import Sequence

from records.access.errors import AccessDeniedError
from records.errors import (
    ConfigurationError, DossierError, InvalidContentError, InvalidInputError, NotAllowedInStateError, NotFoundError,
)
from records.errors import DataIntegrityError

__all__ = [
    "BackupExistsError", "BackupInvalidError", "BackupToolMissingError", "KeyMaterialMissingError",
    "LedgerInvalidError", "RestoreTargetNotEmptyError",
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


# ---------------------------------------------------------------------- destruction ledger, backup, restore (issue #12)
class LedgerInvalidError(RetentionError, DataIntegrityError):
    """The destruction ledger (``retention.ledger``) was altered: a line is not canonical, out of
    sequence, off the hash chain, or its signature does not verify with the archive's key."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"destruction ledger {where}: {problem}; restore the ledger from its key-material copy")
        self.path = path
        self.line = line
        self.problem = problem


class BackupInvalidError(RetentionError, DataIntegrityError):
    """A backup to restore is incomplete (no manifest: the backup never finished) or a file in it
    does not match its manifest (size or SHA-256)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"backup {where}: {problem}")
        self.where = where
        self.problem = problem


class BackupExistsError(RetentionError, NotAllowedInStateError):
    """``dossier backup DEST`` where DEST already holds a finished backup: backups are never overwritten."""

    def __init__(self, where: str) -> None:
        super().__init__(f"{where} already holds a finished backup (manifest.json); choose a new directory")
        self.where = where


class RestoreTargetNotEmptyError(RetentionError, NotAllowedInStateError):
    """``dossier restore`` into a data directory that already holds a catalogue or vault objects."""

    def __init__(self, where: str, found: str) -> None:
        super().__init__(f"cannot restore into {where}: it already holds {found}; restore into an empty "
                         "data directory (DOSSIER_DATA_DIR)")
        self.where = where
        self.found = found


class KeyMaterialMissingError(RetentionError, ConfigurationError):
    """A restore needs key material (master key, dossier key ring, signing key, destruction ledger)
    that is neither where the settings point nor at the source archive's recorded path."""

    def __init__(self, what: str, target: str, source: str | None) -> None:
        hint = f" (the source archive's copy {source} is gone too)" if source else ""
        super().__init__(f"the {what} is missing: put its key-material copy at {target}{hint}, then run "
                         "`dossier restore` again (docs/backup.md, 'Key material')")
        self.what = what
        self.target = target
        self.source = source


class BackupToolMissingError(RetentionError, ConfigurationError):
    """A PostgreSQL catalogue is backed up with ``pg_dump`` and restored with ``pg_restore``: not installed."""

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} not found (needed for a PostgreSQL catalogue); install the PostgreSQL client "
                         "tools of the server's version, or put them on PATH")
        self.tool = tool
