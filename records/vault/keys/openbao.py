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

Key ids are ``"openbao:<key name>:<version>"``; ``rotate`` is ``transit/keys/<key>/rotate``
and older versions stay available for decryption (the server's ``min_decryption_version``
must not be raised past keys still in the catalogue).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn, Protocol, cast

import hvac
import hvac.exceptions
import requests

from records.vault.envelope import canonical_context
from records.vault.errors import KeyNotFoundError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import KeyProvider, WrappedKey

__all__ = ["OpenBaoKeyProvider"]

_KEY_TYPE = "aes256-gcm96"
_CIPHERTEXT = re.compile(r"^vault:v(\d+):")


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


class OpenBaoKeyProvider:
    """Wraps data keys with an OpenBao/Vault transit key.

    On construction the transit mount and the key are created if absent (the token needs the
    rights to do so the first time; afterwards encrypt/decrypt/rotate on the key suffice).

    Raises:
        KeyUnavailableError: the server cannot be reached, refuses the token, or the existing
            key is not of type aes256-gcm96.
    """

    name: ClassVar[str] = "openbao"

    def __init__(self, url: str, token: str, *, mount: str = "transit", key_name: str = "dossier",
                 timeout: float = 10.0) -> None:
        self._mount = mount
        self._key = key_name
        self._prefix = f"openbao:{key_name}:"
        # types-hvac declares ``timeout: int``, but hvac hands it unchanged to requests, which
        # takes a float number of seconds; the cast only quiets the too-narrow stub.
        self._client = hvac.Client(url=url, token=token, timeout=cast(int, timeout))
        try:
            self._current = self._ensure_key()
        except BaseException:
            self._client.adapter.close()
            raise

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
            self._fail(exc, None)
        ciphertext: str = reply["data"]["ciphertext"]
        key_id = self._key_id_of(ciphertext)
        self._current = key_id  # encrypt always uses the latest version
        return WrappedKey(key_id=key_id, ciphertext=ciphertext.encode("ascii"))

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        if not wrapped.key_id.startswith(self._prefix):
            raise KeyNotFoundError(wrapped.key_id, self.name)
        try:
            ciphertext = wrapped.ciphertext.decode("ascii")
        except UnicodeDecodeError:
            raise WrongKeyError(wrapped.key_id, self.name) from None
        if self._key_id_of(ciphertext, strict=False) != wrapped.key_id:
            raise WrongKeyError(wrapped.key_id, self.name)
        try:
            reply = self._transit.decrypt_data(
                self._key, ciphertext=ciphertext, associated_data=_ad(context), mount_point=self._mount,
            )
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            self._fail(exc, wrapped.key_id)
        try:
            return base64.b64decode(reply["data"]["plaintext"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise WrongKeyError(wrapped.key_id, self.name) from exc

    def rotate(self) -> str:
        try:
            self._transit.rotate_key(self._key, mount_point=self._mount)
            self._current = self._read_current()
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            self._fail(exc, None)
        return self._current

    def close(self) -> None:
        self._client.adapter.close()

    # ------------------------------------------------------------------ helpers
    @property
    def _transit(self) -> _Transit:
        return self._client.secrets.transit

    def _ensure_key(self) -> str:
        transit = self._transit
        try:
            try:
                return self._read_current()
            except hvac.exceptions.InvalidPath:
                pass  # no such key, or no such mount
            try:
                transit.create_key(self._key, key_type=_KEY_TYPE, mount_point=self._mount)
            except hvac.exceptions.InvalidPath:
                # No transit engine at this mount yet ("no handler for route").
                self._client.sys.enable_secrets_engine("transit", path=self._mount)
                transit.create_key(self._key, key_type=_KEY_TYPE, mount_point=self._mount)
            return self._read_current()
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            self._fail(exc, None)

    def _read_current(self) -> str:
        data: dict[str, Any] = self._transit.read_key(self._key, mount_point=self._mount)["data"]
        if data.get("type") != _KEY_TYPE:
            raise KeyUnavailableError(
                self.name, f"transit key {self._key!r} is type {data.get('type')!r}; it must be {_KEY_TYPE}")
        return f"{self._prefix}{int(data['latest_version'])}"

    def _key_id_of(self, ciphertext: str, *, strict: bool = True) -> str:
        m = _CIPHERTEXT.match(ciphertext)
        if m is None:
            if strict:
                raise KeyUnavailableError(self.name, "server returned a ciphertext without a version prefix")
            return ""
        return f"{self._prefix}{int(m.group(1))}"

    def _fail(self, exc: Exception, key_id: str | None) -> NoReturn:
        """Translate an hvac/requests error into the vault's errors."""
        if isinstance(exc, requests.RequestException):
            raise KeyUnavailableError(self.name, f"cannot reach the server: {exc.__class__.__name__}") from exc
        message = str(exc).lower()
        if key_id is not None and isinstance(exc, hvac.exceptions.InvalidRequest):
            if "key not found" in message or "version is too new" in message or "invalid key version" in message:
                raise KeyNotFoundError(key_id, self.name) from exc
            if "authentication failed" in message or "invalid ciphertext" in message:
                raise WrongKeyError(key_id, self.name) from exc
        if key_id is not None and isinstance(exc, hvac.exceptions.InvalidPath):
            raise KeyNotFoundError(key_id, self.name) from exc
        if isinstance(exc, hvac.exceptions.Forbidden):
            raise KeyUnavailableError(self.name, "permission denied (check the token and its policy)") from exc
        raise KeyUnavailableError(self.name, f"{exc.__class__.__name__}: {exc}") from exc


def _ad(context: Mapping[str, str]) -> str:
    return base64.b64encode(b"dossier-wrap-v1\x00" + canonical_context(context)).decode("ascii")


_: type[KeyProvider] = OpenBaoKeyProvider
