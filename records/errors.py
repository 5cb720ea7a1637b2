"""Errors of the archive core.

Every error Dossier raises on purpose descends from :class:`DossierError`; the CLI and the web
layer map each leaf to a one-line message and an exit code / HTTP status::

    DossierError
    ├── ConfigurationError                 settings missing, contradictory or unreadable
    ├── RecordsError
    │   ├── DossierNotFoundError           (LookupError) no dossier with that number/id
    │   ├── DocumentNotFoundError          (LookupError) no document with that item number/id
    │   ├── InvalidRegistrationError       (ValueError) a registration field is missing or malformed
    │   ├── InvalidTransitionError         a lifecycle step not allowed from the current state
    │   ├── DossierClosedError             filing into a closed, sealed, void or disposed dossier
    │   │   └── SealedDossierError         filing into a sealed dossier without an amendment reason (ARC-1-05)
    │   ├── DuplicateDocumentError         the same bytes are already filed in this dossier
    │   ├── NumberingError                 the numbering template is invalid or exhausted
    │   └── DisposalIncompleteError        tombstoning a dossier some of whose objects still have keys
    ├── AccessError                        (records.access.errors) sign-in, refusals, grants, audit chain
    ├── IngestError                        (ingest.errors) → a recorded outcome per file
    ├── SearchError                        (search.errors) malformed query, backend unreachable
    └── VaultError                         (records.vault.errors) sealed storage and keys
        ├── BlobExistsError, BlobNotFoundError, StorageUnavailableError
        ├── IntegrityError                 stored bytes fail authentication or their hash
        └── KeyError_ family: KeyNotFoundError, KeyUnavailableError, WrongKeyError
"""

from __future__ import annotations


class DossierError(Exception):
    """Root of every error Dossier raises on purpose."""


class ConfigurationError(DossierError):
    """The settings in effect are missing, contradictory or unreadable."""


class RecordsError(DossierError):
    """Base of catalogue and dossier errors."""


class DossierNotFoundError(RecordsError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no dossier {ref!r}")
        self.ref = ref


class DocumentNotFoundError(RecordsError, LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no document {ref!r}")
        self.ref = ref


class InvalidRegistrationError(RecordsError, ValueError):
    """A registration field (INT-F) is missing or malformed."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidTransitionError(RecordsError):
    def __init__(self, archive_number: str, state: str, action: str) -> None:
        super().__init__(f"dossier {archive_number} is {state}; cannot {action}")
        self.archive_number = archive_number
        self.state = state
        self.action = action


class DossierClosedError(RecordsError):
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


class DuplicateDocumentError(RecordsError):
    def __init__(self, archive_number: str, sha256: str, existing_item: str) -> None:
        super().__init__(
            f"the same file (sha256 {sha256[:12]}…) is already filed in {archive_number} as {existing_item}"
        )
        self.archive_number = archive_number
        self.sha256 = sha256
        self.existing_item = existing_item


class NumberingError(RecordsError):
    """The numbering template is invalid, or its serial space is exhausted (ARC-3)."""


class DisposalIncompleteError(RecordsError):
    """Tombstoning refused: some stored object of the dossier still has its data key (RET)."""

    def __init__(self, archive_number: str, live: int) -> None:
        super().__init__(f"dossier {archive_number} still has {live} stored object(s) with a data key; "
                         "destroy the keys before tombstoning it")
        self.archive_number = archive_number
        self.live = live
