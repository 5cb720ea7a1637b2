"""Master keys in an OpenBao (or HashiCorp Vault) transit engine, via ``hvac``.

The master key never leaves the server: ``wrap`` sends the data key to
``transit/encrypt/<key>`` and keeps the returned ``vault:vN:…`` ciphertext.

Context binding (choice): the transit key is type ``aes256-gcm96`` and the canonical object
context is sent as ``associated_data``, which the server feeds to GCM as AAD. We chose this
over derived keys (``context=``) because it binds the object id and kind without changing the
key type, works on a key created by anyone as long as it is AEAD, and leaves the key usable by
other tools. Consequence: the server's ``transit/rewrap`` endpoint does not take
``associated_data`` (checked against OpenBao 2.7: it answers "message authentication
failed"), so re-wrapping after rotation is unwrap + wrap through this provider.

Nothing here creates a key or an engine except :func:`create_transit_key`, which only
``dossier init`` (a brand-new archive) and ``dossier keys create`` call (issue #17: a dev
server restarted empty used to get a fresh ``dossier`` key on the next CLI call, and every
earlier object stopped opening). Opening the provider only reads the key. The server's own
encrypt endpoint upserts a missing key when the token may create; so the engines we enable get
``disable_upsert``, and the archive checks its pin (``records.vault.keys.pin``) before wraps.

Key ids are ``"openbao:<key name>:<fingerprint8>:<version>"``: the fingerprint hashes mount,
name and version 1's creation time, so a key re-created under the same name never gets the ids
of the one it replaced. The old form ``"openbao:<key name>:<version>"`` (catalogues from before)
still unwraps. ``rotate`` is ``transit/keys/<key>/rotate``; older versions stay available for
decryption (the server's ``min_decryption_version`` must not be raised past keys still in the
catalogue, nor past 1 while the archive's pin probe is under version 1).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn, Protocol, cast

import hvac
import hvac.exceptions
import requests

from records.vault.envelope import canonical_context
from records.vault.errors import KeyNotFoundError, KeyServiceUnavailableError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import KeyIdentity, KeyProvider, WrappedKey

__all__ = ["OpenBaoKeyProvider", "create_transit_key"]

_KEY_TYPE = "aes256-gcm96"
_CIPHERTEXT = re.compile(r"^vault:v(\d+):")
_VERSION = re.compile(r"^(?:([0-9a-f]{8}):)?(\d+)$")
# Answers that say "the service is down or overloaded", not "this key is wrong": sealed (503),
# 5xx, rate limited, an unexpected status. Waiting or repairing the service helps.
_SERVICE_DOWN = (hvac.exceptions.VaultDown, hvac.exceptions.InternalServerError, hvac.exceptions.BadGateway,
                 hvac.exceptions.RateLimitExceeded, hvac.exceptions.UnexpectedError,
                 hvac.exceptions.VaultNotInitialized)


class _Transit(Protocol):
    """The calls this module makes on ``hvac``'s transit engine, typed.

    types-hvac leaves these methods unannotated; hvac's ``Transit`` satisfies this structurally.
    With hvac's default JSON adapter the calls that answer with a body return its parsed JSON.
    """

    def create_key(self, name: str, *, key_type: str, mount_point: str) -> object: ...
    def read_key(self, name: str, *, mount_point: str) -> dict[str, Any]: ...
    def rotate_key(self, name: str, *, mount_point: str) -> object: ...
    def encrypt_data(self, name: str, *, plaintext: str, associated_data: str,
                     mount_point: str) -> dict[str, Any]: ...
    def decrypt_data(self, name: str, *, ciphertext: str, associated_data: str,
                     mount_point: str) -> dict[str, Any]: ...


def _client(url: str, token: str, timeout: float) -> hvac.Client:
    # types-hvac declares ``timeout: int``, but hvac hands it unchanged to requests, which
    # takes a float number of seconds; the cast only quiets the too-narrow stub.
    return hvac.Client(url=url, token=token, timeout=cast(int, timeout))


def create_transit_key(url: str, token: str, *, mount: str = "transit", key_name: str = "dossier",
                       timeout: float = 10.0) -> bool:
    """Create the transit engine (if absent) and an aes256-gcm96 key (if absent); True if the key is new.

    Only for a brand-new archive (``dossier init``) or an explicit ``dossier keys create``. An
    engine enabled here gets ``disable_upsert``, so its encrypt endpoint never creates a key.

    Raises:
        KeyUnavailableError: the token may not; an existing key is not aes256-gcm96.
        KeyServiceUnavailableError: the server cannot be reached.
    """
    client = _client(url, token, timeout)
    transit: _Transit = client.secrets.transit
    try:
        try:
            data: dict[str, Any] = transit.read_key(key_name, mount_point=mount)["data"]
            _check_type(key_name, data)
            return False
        except hvac.exceptions.InvalidPath:
            pass  # no such key, or no such mount
        try:
            transit.create_key(key_name, key_type=_KEY_TYPE, mount_point=mount)
        except hvac.exceptions.InvalidPath:
            # No transit engine at this mount yet ("no handler for route").
            client.sys.enable_secrets_engine("transit", path=mount)
            client.adapter.post(f"/v1/{mount}/config/keys", json={"disable_upsert": True})
            transit.create_key(key_name, key_type=_KEY_TYPE, mount_point=mount)
        return True
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        _translate(exc, None, key_name)
    finally:
        client.adapter.close()


class OpenBaoKeyProvider:
    """Wraps data keys with an OpenBao/Vault transit key that already exists.

    Construction reads the key (one request) and never creates it: see :func:`create_transit_key`.

    Raises:
        KeyNotFoundError: the server has no such key (or no transit engine at ``mount``).
        KeyUnavailableError: the token is refused, or the key is not of type aes256-gcm96.
        KeyServiceUnavailableError: the server cannot be reached, times out, is sealed or answers 5xx.
    """

    name: ClassVar[str] = "openbao"

    def __init__(self, url: str, token: str, *, mount: str = "transit", key_name: str = "dossier",
                 timeout: float = 10.0) -> None:
        self._mount = mount
        self._key = key_name
        self._prefix = f"openbao:{key_name}:"
        self._client = _client(url, token, timeout)
        try:
            self._identity, latest = self._read()
        except BaseException:
            self._client.adapter.close()
            raise
        self._fp8 = self._identity.fingerprint[:8]
        self._current = self._id(latest)

    @property
    def current_key_id(self) -> str:
        """The newest key version seen by this process (refreshed by ``wrap`` and ``rotate``)."""
        return self._current

    def wrap(self, data_key: bytes | bytearray, *, context: Mapping[str, str]) -> WrappedKey:
        try:
            reply = self._transit.encrypt_data(
                self._key, plaintext=base64.b64encode(data_key).decode("ascii"),
                associated_data=_ad(context), mount_point=self._mount,
            )
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            _translate(exc, self._current, self._key)
        ciphertext: str = reply["data"]["ciphertext"]
        version = _version_of(ciphertext)
        if version is None:
            raise KeyUnavailableError(self.name, "server returned a ciphertext without a version prefix")
        self._current = self._id(version)  # encrypt always uses the latest version
        return WrappedKey(key_id=self._current, ciphertext=ciphertext.encode("ascii"))

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        m = _VERSION.match(wrapped.key_id[len(self._prefix):]) if wrapped.key_id.startswith(self._prefix) else None
        # An id without a fingerprint is from before ids carried one: the archive's pin check
        # (at start and before wraps) is what vouches that this is still the key it was made with.
        if m is None or (m.group(1) is not None and m.group(1) != self._fp8):
            raise KeyNotFoundError(wrapped.key_id, self.name)
        try:
            ciphertext = wrapped.ciphertext.decode("ascii")
        except UnicodeDecodeError:
            raise WrongKeyError(wrapped.key_id, self.name) from None
        if _version_of(ciphertext) != int(m.group(2)):
            raise WrongKeyError(wrapped.key_id, self.name)
        try:
            reply = self._transit.decrypt_data(
                self._key, ciphertext=ciphertext, associated_data=_ad(context), mount_point=self._mount,
            )
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            _translate(exc, wrapped.key_id, self._key)
        try:
            return base64.b64decode(reply["data"]["plaintext"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise WrongKeyError(wrapped.key_id, self.name) from exc

    def rotate(self) -> str:
        try:
            self._transit.rotate_key(self._key, mount_point=self._mount)
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            _translate(exc, self._current, self._key)
        _, latest = self._read()
        self._current = self._id(latest)
        return self._current

    def identify(self) -> KeyIdentity:
        """Read the key again (no cache): a server restarted empty answers "no such key" here."""
        identity, _ = self._read()
        return identity

    def close(self) -> None:
        self._client.adapter.close()

    # ------------------------------------------------------------------ helpers
    @property
    def _transit(self) -> _Transit:
        return self._client.secrets.transit

    def _id(self, version: int) -> str:
        return f"{self._prefix}{self._fp8}:{version}"

    def _read(self) -> tuple[KeyIdentity, int]:
        """The key's identity and latest version; raises KeyNotFoundError if it does not exist."""
        try:
            data: dict[str, Any] = self._transit.read_key(self._key, mount_point=self._mount)["data"]
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            _translate(exc, f"openbao:{self._key}", self._key)
        _check_type(self._key, data)
        try:
            # Symmetric keys list their versions' creation times in whole seconds. The oldest
            # version still listed is version 1 unless the operator trimmed old versions.
            versions = {int(v): str(created) for v, created in dict(data["keys"]).items()}
            first = min(versions)
            latest = int(data["latest_version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyUnavailableError(self.name, f"transit key {self._key!r}: unexpected answer to read_key") from exc
        digest = hashlib.sha256(
            f"dossier openbao key\x00{self._mount}\x00{self._key}\x00{first}\x00{versions[first]}".encode()).hexdigest()
        identity = KeyIdentity(provider=self.name, name=f"{self._mount}/{self._key} (version {first} created "
                               f"{versions[first]})", fingerprint=digest[:16])
        return identity, latest


def _check_type(key_name: str, data: Mapping[str, Any]) -> None:
    if data.get("type") != _KEY_TYPE:
        raise KeyUnavailableError(
            "openbao", f"transit key {key_name!r} is type {data.get('type')!r}; it must be {_KEY_TYPE}")


def _version_of(ciphertext: str) -> int | None:
    m = _CIPHERTEXT.match(ciphertext)
    return None if m is None else int(m.group(1))


def _translate(exc: Exception, key_id: str | None, key_name: str) -> NoReturn:
    """Translate an hvac/requests error into the vault's errors.

    Down (unreachable, timeout, sealed, 5xx) is KeyServiceUnavailableError; a key the server
    lacks is KeyNotFoundError; a refused token or an unusable key is KeyUnavailableError.
    """
    if isinstance(exc, requests.RequestException):
        raise KeyServiceUnavailableError("openbao", f"cannot reach the server: {exc.__class__.__name__}") from exc
    if isinstance(exc, _SERVICE_DOWN):
        raise KeyServiceUnavailableError("openbao", f"{exc.__class__.__name__}: {exc}") from exc
    message = str(exc).lower()
    if key_id is not None and isinstance(exc, hvac.exceptions.InvalidRequest):
        if ("key not found" in message or "version is too new" in message or "invalid key version" in message):
            raise KeyNotFoundError(key_id, "openbao") from exc
        if "authentication failed" in message or "invalid ciphertext" in message:
            raise WrongKeyError(key_id, "openbao") from exc
    if key_id is not None and isinstance(exc, hvac.exceptions.InvalidPath):
        raise KeyNotFoundError(key_id, "openbao") from exc  # no such key, or no transit engine at all
    if isinstance(exc, hvac.exceptions.Forbidden):
        raise KeyUnavailableError("openbao", "permission denied (check the token and its policy)") from exc
    raise KeyUnavailableError("openbao", f"{exc.__class__.__name__}: {exc}") from exc


def _ad(context: Mapping[str, str]) -> str:
    return base64.b64encode(b"dossier-wrap-v1\x00" + canonical_context(context)).decode("ascii")


_: type[KeyProvider] = OpenBaoKeyProvider
