"""Master keys in AWS KMS, via boto3: the second key-service implementation.

``wrap`` is KMS ``Encrypt`` of the data key with ``EncryptionContext`` = the object context,
so KMS itself refuses to decrypt a wrapped key presented for another object (and CloudTrail
records which object each decryption was for). Key ids are ``"awskms:<key ARN>"``.

Rotation needs ``keys.kms_key_id`` to be an alias (``alias/…``): ``rotate`` creates a new
symmetric key and points the alias at it. Older ciphertexts still decrypt because KMS finds
the key from the ciphertext blob; ``unwrap`` also passes the ARN from the key id so that KMS
checks the blob really belongs to that key.

Pinning (``records.vault.keys.pin``): KMS key ARNs never repeat, so key ids cannot collide; the
pin's probe (a data key wrapped at ``dossier init``) proves that the account, region and
endpoint in the settings still hold the archive's first key. Unreachable, throttled and 5xx
answers are :class:`KeyServiceUnavailableError`; refused or disabled keys :class:`KeyUnavailableError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, NoReturn

import botocore.exceptions

from records.errors import ConfigurationError
from records.vault.errors import KeyNotFoundError, KeyServiceUnavailableError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import KeyIdentity, KeyProvider, WrappedKey

if TYPE_CHECKING:  # stubs only (types-boto3[kms], in the test extra); nothing imported at run time
    from types_boto3_kms import KMSClient

__all__ = ["AwsKmsKeyProvider", "create_kms_key"]

_PREFIX = "awskms:"
_WRONG_KEY = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_NO_KEY = frozenset({"NotFoundException"})
_SERVICE_DOWN = frozenset({"KMSInternalException", "DependencyTimeoutException", "ServiceUnavailable",
                           "ServiceUnavailableException", "ThrottlingException", "InternalFailure"})
# Transport failures: the endpoint is down or slow; waiting helps, unlike a missing credential.
_TRANSPORT = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
              botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError)


def _alias_of(key_id: str) -> str | None:
    alias = key_id.split(":", 5)[-1] if key_id.startswith("arn:") else key_id
    return alias if alias.startswith("alias/") else None


class AwsKmsKeyProvider:
    """Wraps data keys with an AWS KMS symmetric key (or an alias to one).

    Args:
        key_id: key id, key ARN, alias name (``alias/dossier``) or alias ARN.
        region: AWS region.
        endpoint_url: endpoint override (a VPC endpoint, or a stand-in server in tests).
        client: a ready boto3 KMS client; when given, ``region``/``endpoint_url`` are unused.
    """

    name: ClassVar[str] = "awskms"

    def __init__(self, key_id: str, *, region: str = "us-east-1", endpoint_url: str | None = None,
                 client: KMSClient | None = None) -> None:
        if client is None:
            import boto3

            try:
                client = boto3.client("kms", region_name=region, endpoint_url=endpoint_url)
            except botocore.exceptions.BotoCoreError as exc:  # e.g. no credentials anywhere
                raise KeyUnavailableError(self.name, f"{exc.__class__.__name__}: {exc}") from exc
        self._client = client
        self._key = key_id
        self._current: str | None = None

    @property
    def current_key_id(self) -> str:
        """The key the configured id or alias points at (looked up once, refreshed by wrap/rotate)."""
        if self._current is None:
            try:
                arn = self._client.describe_key(KeyId=self._key)["KeyMetadata"]["Arn"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                self._fail(exc, _PREFIX + self._key)
            self._current = _PREFIX + arn
        return self._current

    def wrap(self, data_key: bytes | bytearray, *, context: Mapping[str, str]) -> WrappedKey:
        try:
            reply = self._client.encrypt(KeyId=self._key, Plaintext=bytes(data_key),
                                         EncryptionContext=dict(context))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, None)
        self._current = _PREFIX + reply["KeyId"]
        return WrappedKey(key_id=self._current, ciphertext=reply["CiphertextBlob"])

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        if not wrapped.key_id.startswith(_PREFIX):
            raise KeyNotFoundError(wrapped.key_id, self.name)
        try:
            reply = self._client.decrypt(CiphertextBlob=wrapped.ciphertext, EncryptionContext=dict(context),
                                         KeyId=wrapped.key_id[len(_PREFIX):])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, wrapped.key_id)
        plaintext: bytes = reply["Plaintext"]
        return plaintext

    def rotate(self) -> str:
        """Create a new KMS key and point the alias at it; returns the new key's id.

        Raises:
            ConfigurationError: ``key_id`` is not an alias, so there is nothing to re-point.
        """
        alias = _alias_of(self._key)
        if alias is None:
            raise ConfigurationError("keys.kms_key_id must be an alias (alias/…) for `dossier keys rotate` with AWS KMS")
        try:
            meta = self._client.create_key(Description="Dossier master key", KeyUsage="ENCRYPT_DECRYPT",
                                           KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
            self._client.update_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, None)
        self._current = _PREFIX + meta["Arn"]
        return self._current

    def identify(self) -> KeyIdentity:
        """Account, region and the configured key id or alias: stable across ``rotate`` (which
        re-points the alias), so the pin names the key the settings mean, and its probe proves it."""
        try:
            arn = self._client.describe_key(KeyId=self._key)["KeyMetadata"]["Arn"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, _PREFIX + self._key)
        parts = arn.split(":", 5)  # arn:aws:kms:<region>:<account>:key/<id>
        ref = _alias_of(self._key) or parts[5]
        digest = hashlib.sha256(f"dossier awskms key\x00{parts[3]}\x00{parts[4]}\x00{ref}".encode()).hexdigest()
        return KeyIdentity(provider=self.name, name=f"{ref} in {parts[4]}/{parts[3]} (now {arn})",
                           fingerprint=digest[:16])

    def close(self) -> None:
        self._client.close()

    def _fail(self, exc: Exception, key_id: str | None) -> NoReturn:
        _translate(exc, key_id)


def create_kms_key(key_id: str, *, region: str = "us-east-1", endpoint_url: str | None = None,
                   client: KMSClient | None = None) -> bool:
    """Create a symmetric key and the alias ``key_id`` names, unless the alias exists; True if created.

    Only for ``dossier keys create``: ``dossier init`` expects the KMS key to be given.

    Raises:
        ConfigurationError: ``key_id`` is not an alias and no such key exists (KMS picks key ids).
    """
    if client is None:
        import boto3

        client = boto3.client("kms", region_name=region, endpoint_url=endpoint_url)
    try:
        try:
            client.describe_key(KeyId=key_id)
            return False
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") not in _NO_KEY:
                raise
        alias = _alias_of(key_id)
        if alias is None:
            raise ConfigurationError(f"KMS key {key_id} does not exist; name an alias (alias/…) to have one created")
        meta = client.create_key(Description="Dossier master key", KeyUsage="ENCRYPT_DECRYPT",
                                 KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
        client.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        return True
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        _translate(exc, None)


def _translate(exc: Exception, key_id: str | None) -> NoReturn:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if key_id is not None and code in _WRONG_KEY:
            raise WrongKeyError(key_id, "awskms") from exc
        if key_id is not None and code in _NO_KEY:
            raise KeyNotFoundError(key_id, "awskms") from exc
        if code in _SERVICE_DOWN or status >= 500:
            raise KeyServiceUnavailableError("awskms", f"{code}: {error.get('Message', '')}") from exc
        raise KeyUnavailableError("awskms", f"{code}: {error.get('Message', '')}") from exc
    if isinstance(exc, _TRANSPORT):
        raise KeyServiceUnavailableError("awskms", f"{exc.__class__.__name__}: {exc}") from exc
    raise KeyUnavailableError("awskms", f"{exc.__class__.__name__}: {exc}") from exc


_: type[KeyProvider] = AwsKmsKeyProvider
