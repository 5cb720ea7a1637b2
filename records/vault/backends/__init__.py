"""Blob stores: where sealed bytes live.

A static registry from ``vault.backend`` to a factory; boto3 is imported only when the S3
store is chosen, so the embedded default never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from records.errors import ConfigurationError
from records.vault.backends.local import LocalBlobStore
from records.vault.errors import StorageUnavailableError

if TYPE_CHECKING:
    from records.settings import Settings
    from records.vault.interfaces import BlobStore

__all__ = ["LocalBlobStore", "open_blob_store", "prepare_blob_store"]


def _local(settings: Settings) -> BlobStore:
    return LocalBlobStore(settings.vault_root)


def _s3(settings: Settings) -> BlobStore:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    from records.vault.backends.s3 import S3BlobStore

    vault = settings.vault
    if not vault.s3_bucket:
        raise ConfigurationError("vault.backend = 's3' needs vault.s3_bucket")
    secret = vault.s3_secret_access_key.get_secret_value() if vault.s3_secret_access_key else None
    try:
        client = boto3.client(
            "s3", endpoint_url=vault.s3_endpoint_url, region_name=vault.s3_region,
            aws_access_key_id=vault.s3_access_key_id, aws_secret_access_key=secret,
            # S3-compatible servers on a plain host:port do not resolve bucket subdomains.
            # A store that does not answer a connect within 10 s is down (botocore's default, 60 s
            # per attempt, held a download for three minutes before saying so).
            # A group commit seals its objects on up to 32 threads at once (records/filing.py):
            # as many pooled connections, or botocore drops and reopens the surplus ("pool is full").
            config=Config(s3={"addressing_style": "path"} if vault.s3_endpoint_url else {},
                          retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10,
                          max_pool_connections=32),
        )
    except BotoCoreError as exc:  # e.g. no credentials anywhere
        raise StorageUnavailableError("s3", f"{exc.__class__.__name__}: {exc}") from exc
    return S3BlobStore(vault.s3_bucket, vault.s3_prefix, client)


_FACTORIES: dict[str, Callable[[Settings], BlobStore]] = {
    "local": _local,
    "s3": _s3,
}


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store ``settings.vault.backend`` names.

    Raises:
        ConfigurationError: unknown backend name, or its settings are incomplete.
    """
    factory = _FACTORIES.get(settings.vault.backend)
    if factory is None:
        raise ConfigurationError(f"unknown blob store backend {settings.vault.backend!r}")
    return factory(settings)


def prepare_blob_store(settings: Settings) -> str:
    """Make the configured store ready to take blobs (``dossier init``); says where and what was done.

    The local store's directory is created (0700); an S3 bucket is created when it does not exist
    and the credentials allow it.

    Raises:
        ConfigurationError: the bucket is missing and cannot be created (the message says what to do).
        StorageUnavailableError: the store cannot be reached.
    """
    if settings.vault.backend == "local":
        settings.vault_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return str(settings.vault_root)
    store = open_blob_store(settings)
    try:
        ensure: Callable[[], bool] | None = getattr(store, "ensure_bucket", None)
        created = ensure() if ensure is not None else False
    finally:
        store.close()
    vault = settings.vault
    where = f"s3://{vault.s3_bucket}/{vault.s3_prefix.strip('/')}".rstrip("/")
    return f"{where} ({'bucket created' if created else 'bucket exists'})"
