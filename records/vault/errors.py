"""Errors of the vault: sealed storage and the keys that open it.

::

    VaultError(DossierError)       family base; [the category in records.errors that maps it]
    ├── BlobExistsError            [DataIntegrity] the blob key is taken (blobs are write-once)
    ├── BlobNotFoundError          [DataIntegrity] (LookupError) no blob under that key
    ├── StorageUnavailableError    [Unavailable] the blob store cannot be reached or written
    ├── IntegrityError             [DataIntegrity] stored bytes fail authentication, are truncated or mis-hashed
    ├── KeyNotFoundError           [KeyProblem] the provider does not hold the master key a data key was wrapped with
    ├── KeyMismatchError           [KeyProblem] the key service holds another key than the one the archive is pinned to
    ├── KeyAlreadyPinnedError      [NotAllowedInState] `dossier keys create` for an archive that has its key already
    ├── KeyUnavailableError        [KeyProblem] the key file is unreadable, the token refused, the key unusable
    ├── KeyServiceUnavailableError [Unavailable] the key service is unreachable, times out, is sealed or answers 5xx
    ├── WrongKeyError              [KeyProblem] unwrapping failed authentication (wrong key or wrong context)
    ├── DossierKeyGoneError        [KeyProblem] a dossier's own key was destroyed (disposal)
    └── DossierKeyMissingError     [KeyProblem] a dossier's own key was never in this key ring (wrong or older copy)

A missing blob is an integrity failure rather than "not found": the catalogue names the object,
so the archive has lost (or never finished writing) something it sealed.

Why a key service that is down is not a key problem: "down" heals by waiting or restarting the
service (503, exit 14), while a wrong, refused or mismatched key needs someone to fix keys or
settings (exit 7); alerting and retries must tell them apart.

Adapters raise these with ``raise … from exc`` so the library error stays in ``__cause__``.
"""

from __future__ import annotations

from records.errors import DataIntegrityError, DossierError, KeyProblemError, NotAllowedInStateError, UnavailableError

__all__ = [
    "BlobExistsError",
    "BlobNotFoundError",
    "DossierKeyGoneError",
    "DossierKeyMissingError",
    "IntegrityError",
    "KeyAlreadyPinnedError",
    "KeyMismatchError",
    "KeyNotFoundError",
    "KeyServiceUnavailableError",
    "KeyUnavailableError",
    "StorageUnavailableError",
    "VaultError",
    "WrongKeyError",
]


class VaultError(DossierError):
    """Family base of sealed-storage and key errors (never raised itself)."""


class BlobExistsError(VaultError, DataIntegrityError):
    """A blob already exists under ``key``; blobs are never overwritten."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a blob already exists under {key!r}")
        self.key = key


class BlobNotFoundError(VaultError, DataIntegrityError, LookupError):
    """No blob is stored under ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no blob under {key!r}")
        self.key = key


class StorageUnavailableError(VaultError, UnavailableError):
    """The blob store ``backend`` cannot be reached or written; ``cause`` says why."""

    code = "storage_unavailable"

    def __init__(self, backend: str, cause: str) -> None:
        super().__init__(f"blob store {backend} unavailable: {cause}")
        self.backend = backend
        self.cause = cause


class IntegrityError(VaultError, DataIntegrityError):
    """The stored object ``object_id`` is not what was sealed; ``reason`` says how.

    Reasons include "authentication failed", "truncated", "hash mismatch", "not a sealed object".
    """

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(f"object {object_id}: {reason}")
        self.object_id = object_id
        self.reason = reason


class KeyNotFoundError(VaultError, KeyProblemError):
    """The key provider does not hold master key ``key_id`` (e.g. the wrong key file)."""

    def __init__(self, key_id: str, provider: str) -> None:
        super().__init__(f"master key {key_id} is not held by key provider {provider}")
        self.key_id = key_id
        self.provider = provider


class KeyUnavailableError(VaultError, KeyProblemError):
    """The key provider cannot be used: key file unreadable, token refused, key of the wrong type.

    An unreachable service is :class:`KeyServiceUnavailableError` (same arguments, another category).
    """

    def __init__(self, provider: str, cause: str) -> None:
        super().__init__(f"key provider {provider} unavailable: {cause}")
        self.provider = provider
        self.cause = cause


class WrongKeyError(VaultError, KeyProblemError):
    """Unwrapping under ``key_id`` failed authentication: a different key or context was used."""

    def __init__(self, key_id: str, provider: str) -> None:
        super().__init__(f"data key does not unwrap under master key {key_id} ({provider}): wrong key or context")
        self.key_id = key_id
        self.provider = provider


class KeyServiceUnavailableError(VaultError, UnavailableError):
    """The key service ``provider`` cannot be reached right now: refused, timed out, sealed, 5xx."""

    code = "key_service_unavailable"

    def __init__(self, provider: str, cause: str) -> None:
        super().__init__(f"key service {provider} unavailable: {cause}")
        self.provider = provider
        self.cause = cause


class KeyMismatchError(VaultError, KeyProblemError):
    """The key service does not hold the master key the archive is pinned to (``records.vault.keys.pin``).

    ``expected`` describes the pinned key, ``found`` what the service holds now (or that it holds
    none). Raised instead of carrying on, because carrying on would seal new objects under a key
    the archive's earlier objects do not open with.
    """

    code = "key_mismatch"

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"master key mismatch: the archive is pinned to {expected}, but the key service has "
                         f"{found}; nothing was written — restore the key service or fix keys.* in the settings "
                         "(a new key would not open the archive's objects)")
        self.expected = expected
        self.found = found


class KeyAlreadyPinnedError(VaultError, NotAllowedInStateError):
    """A new master key was asked for an archive that already has one (pinned, or sealing objects).

    A new key cannot open what the old one sealed; if the key service lost it, restore it.
    """

    code = "key_already_pinned"

    def __init__(self, what: str) -> None:
        super().__init__(f"this archive already has its master key ({what}); `dossier keys create` only makes the key "
                         "of a new archive — if the key service lost it, restore the key service from its backup")
        self.what = what


class DossierKeyGoneError(VaultError, KeyProblemError):
    """The key of ``owner`` (a dossier id or a log period) was destroyed: a disposal, or an expired log period.

    After a disposal this is the expected answer for anything sealed under that dossier's key.
    """

    code = "dossier_key_gone"

    def __init__(self, owner: str) -> None:
        super().__init__(f"the key of {owner} was destroyed (disposal or expiry); what it sealed cannot be read")
        self.owner = owner


class DossierKeyMissingError(VaultError, KeyProblemError):
    """The key of ``owner`` was never in this key ring: a dossier from before issue #12 (it has no key yet),
    or — when something sealed under it exists — the wrong key ring, or a copy older than the dossier.
    """

    code = "dossier_key_missing"

    def __init__(self, owner: str) -> None:
        super().__init__(f"the key of {owner} is not in the dossier key ring ([keys] dossier_keyring): restore the "
                         "key ring that belongs to this archive (docs/backup.md)")
        self.owner = owner
