"""Key providers: who holds the master key that wraps per-object data keys.

A static registry from ``keys.provider`` to a factory; each factory imports its client library
only when chosen, so the embedded default (a key file) never imports hvac or boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from records.errors import ConfigurationError
from records.vault.keys.file import FileKeyProvider, create_key_file

if TYPE_CHECKING:
    from records.settings import Settings
    from records.vault.interfaces import KeyProvider

__all__ = ["FileKeyProvider", "create_key_file", "create_master_key", "open_key_provider"]


def _file(settings: Settings) -> KeyProvider:
    return FileKeyProvider(settings.key_file)


def _openbao(settings: Settings) -> KeyProvider:
    from records.vault.keys.openbao import OpenBaoKeyProvider

    keys = settings.keys
    if keys.openbao_url is None or keys.openbao_token is None:
        raise ConfigurationError("keys.provider = 'openbao' needs keys.openbao_url and keys.openbao_token")
    return OpenBaoKeyProvider(keys.openbao_url, keys.openbao_token.get_secret_value(),
                              mount=keys.openbao_mount, key_name=keys.openbao_key, timeout=keys.openbao_timeout)


def _awskms(settings: Settings) -> KeyProvider:
    from records.vault.keys.awskms import AwsKmsKeyProvider

    keys = settings.keys
    if keys.kms_key_id is None:
        raise ConfigurationError("keys.provider = 'awskms' needs keys.kms_key_id")
    return AwsKmsKeyProvider(keys.kms_key_id, region=keys.kms_region, endpoint_url=keys.kms_endpoint_url)


_FACTORIES: dict[str, Callable[[Settings], KeyProvider]] = {
    "file": _file,
    "openbao": _openbao,
    "awskms": _awskms,
}


def create_master_key(settings: Settings) -> str | None:
    """Create the master key ``settings.keys`` names, if absent; a description if created, else None.

    The only way a key (or a transit engine, or a KMS alias) comes into being: ``dossier init``
    calls it for a brand-new archive and ``dossier keys create`` on request, never opening an
    archive (issue #17). The caller decides whether the archive may have a new key.
    """
    keys = settings.keys
    if keys.provider == "file":
        if settings.key_file.exists():
            return None
        return f"key file {settings.key_file}, key {create_key_file(settings.key_file)}"
    if keys.provider == "openbao":
        from records.vault.keys.openbao import create_transit_key

        if keys.openbao_url is None or keys.openbao_token is None:
            raise ConfigurationError("keys.provider = 'openbao' needs keys.openbao_url and keys.openbao_token")
        created = create_transit_key(keys.openbao_url, keys.openbao_token.get_secret_value(),
                                     mount=keys.openbao_mount, key_name=keys.openbao_key, timeout=keys.openbao_timeout)
        return f"transit key {keys.openbao_mount}/{keys.openbao_key} at {keys.openbao_url}" if created else None
    if keys.provider == "awskms":
        from records.vault.keys.awskms import create_kms_key

        if keys.kms_key_id is None:
            raise ConfigurationError("keys.provider = 'awskms' needs keys.kms_key_id")
        created = create_kms_key(keys.kms_key_id, region=keys.kms_region, endpoint_url=keys.kms_endpoint_url)
        return f"KMS key {keys.kms_key_id}" if created else None
    raise ConfigurationError(f"unknown key provider {keys.provider!r}")


def open_key_provider(settings: Settings) -> KeyProvider:
    """The key provider ``settings.keys.provider`` names, ready to use.

    Raises:
        ConfigurationError: unknown provider name.
        KeyNotFoundError: the key service holds no such key (nothing is created: see create_master_key).
        KeyUnavailableError: the key file or key cannot be used.
        KeyServiceUnavailableError: the key service cannot be reached.
    """
    factory = _FACTORIES.get(settings.keys.provider)
    if factory is None:
        raise ConfigurationError(f"unknown key provider {settings.keys.provider!r}")
    return factory(settings)
