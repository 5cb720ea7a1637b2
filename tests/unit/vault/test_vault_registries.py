"""Settings choose the blob store and key provider; the embedded defaults need no server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from records.errors import ConfigurationError
from records.settings import KeySettings, Settings
from records.vault import KeyUnavailableError, open_blob_store, open_key_provider
from records.vault.backends.local import LocalBlobStore
from records.vault.keys import FileKeyProvider, create_key_file


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("DOSSIER_")]:
        monkeypatch.delenv(name)
    return Settings(data_dir=tmp_path / "archive")


def test_defaults_give_the_local_store_under_the_data_dir(settings: Settings) -> None:
    """An archive with default settings keeps its blobs in <data_dir>/vault."""
    store = open_blob_store(settings)
    assert isinstance(store, LocalBlobStore) and store.root == settings.data_dir / "vault"


def test_defaults_give_the_key_file_under_the_data_dir(settings: Settings) -> None:
    """With default settings the master key is <data_dir>/master.key, as `dossier init` made it."""
    key_id = create_key_file(settings.key_file)
    keys = open_key_provider(settings)
    assert isinstance(keys, FileKeyProvider) and keys.current_key_id == key_id


def test_a_missing_key_file_is_reported_as_unavailable(settings: Settings) -> None:
    """Without `dossier init` the key file is missing, and that is said plainly."""
    with pytest.raises(KeyUnavailableError):
        open_key_provider(settings)


def test_aws_kms_rotation_needs_an_alias(tmp_path: Path) -> None:
    """Rotating a KMS master key re-points an alias; a bare key id is a configuration error."""
    import boto3

    from records.vault.keys.awskms import AwsKmsKeyProvider

    client = boto3.client("kms", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="x", aws_secret_access_key="y")
    keys = AwsKmsKeyProvider("1234abcd-12ab-34cd-56ef-1234567890ab", client=client)
    try:
        with pytest.raises(ConfigurationError):
            keys.rotate()
    finally:
        keys.close()


def test_key_settings_validate_the_provider_needs() -> None:
    """Choosing a key service without its address is refused when settings load."""
    with pytest.raises(ValueError):
        KeySettings(provider="openbao")
