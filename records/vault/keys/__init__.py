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

__all__ = ["FileKeyProvider", "create_key_file", "open_key_provider"]


def _file(settings: Settings) -> KeyProvider:
    return FileKeyProvider(settings.key_file)


def _openbao(settings: Settings) -> KeyProvider:
    from records.vault.keys.openbao import OpenBaoKeyProvider

    keys = settings.keys
    if keys.openbao_url is None or keys.openbao_token is None:
        raise ConfigurationError("keys.provider = 'openbao' needs keys.openbao_url and keys.openbao_token")
    return OpenBaoKeyProvider(keys.openbao_url, keys.openbao_token.get_secret_value(),
                              mount=keys.openbao_mount, key_name=keys.openbao_key)


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


def open_key_provider(settings: Settings) -> KeyProvider:
    """The key provider ``settings.keys.provider`` names, ready to use.

    Raises:
        ConfigurationError: unknown provider name.
        KeyUnavailableError: the key file or key service cannot be used.
    """
    factory = _FACTORIES.get(settings.keys.provider)
    if factory is None:
        raise ConfigurationError(f"unknown key provider {settings.keys.provider!r}")
    return factory(settings)
