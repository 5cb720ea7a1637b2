"""Master keys in AWS KMS, via boto3: the second key-service implementation.

``wrap`` is KMS ``Encrypt`` of the data key with ``EncryptionContext`` = the object context,
so KMS itself refuses to decrypt a wrapped key presented for another object (and CloudTrail
records which object each decryption was for). Key ids are ``"awskms:<key ARN>"``.

Rotation needs ``keys.kms_key_id`` to be an alias (``alias/…``): ``rotate`` creates a new
symmetric key and points the alias at it. Older ciphertexts still decrypt because KMS finds
the key from the ciphertext blob; ``unwrap`` also passes the ARN from the key id so that KMS
checks the blob really belongs to that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, NoReturn

import botocore.exceptions

from records.errors import ConfigurationError
from records.vault.errors import KeyNotFoundError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import KeyProvider, WrappedKey

if TYPE_CHECKING:  # stubs only (types-boto3[kms], in the test extra); nothing imported at run time
    from types_boto3_kms import KMSClient

__all__ = ["AwsKmsKeyProvider"]

_PREFIX = "awskms:"
_WRONG_KEY = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_NO_KEY = frozenset({"NotFoundException"})


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
        alias = self._key.split(":", 5)[-1] if self._key.startswith("arn:") else self._key
        if not alias.startswith("alias/"):
            raise ConfigurationError("keys.kms_key_id must be an alias (alias/…) for `dossier keys rotate` with AWS KMS")
        try:
            meta = self._client.create_key(Description="Dossier master key", KeyUsage="ENCRYPT_DECRYPT",
                                           KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
            self._client.update_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            self._fail(exc, None)
        self._current = _PREFIX + meta["Arn"]
        return self._current

    def close(self) -> None:
        self._client.close()

    def _fail(self, exc: Exception, key_id: str | None) -> NoReturn:
        if isinstance(exc, botocore.exceptions.ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if key_id is not None and code in _WRONG_KEY:
                raise WrongKeyError(key_id, self.name) from exc
            if key_id is not None and code in _NO_KEY:
                raise KeyNotFoundError(key_id, self.name) from exc
            raise KeyUnavailableError(self.name, f"{code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
        raise KeyUnavailableError(self.name, f"{exc.__class__.__name__}: {exc}") from exc


_: type[KeyProvider] = AwsKmsKeyProvider
