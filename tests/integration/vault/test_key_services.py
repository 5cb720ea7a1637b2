"""Key services as configured: OpenBao transit and AWS KMS (moto) through the settings, and their failures."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import hvac
import pytest

from records.settings import KeySettings, Settings
from records.vault import (
    KeyNotFoundError, KeyServiceUnavailableError, KeyUnavailableError, WrappedKey, open_key_provider,
)
from records.vault.keys import create_master_key
from records.vault.keys.awskms import AwsKmsKeyProvider
from records.vault.keys.openbao import OpenBaoKeyProvider

if TYPE_CHECKING:
    from tests.servers.kms import KmsEndpoint
    from tests.servers.openbao import OpenBaoServer

pytestmark = pytest.mark.kms

CONTEXT = {"object_id": "0123abcd", "kind": "original"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("DOSSIER_")]:
        monkeypatch.delenv(name)


def test_openbao_from_settings_creates_nothing_until_asked(openbao: OpenBaoServer, tmp_path: Path) -> None:
    """Opening the provider on a fresh OpenBao creates nothing (KeyNotFoundError); create_master_key
    makes the transit engine (with upsert disabled) and an aes256-gcm96 key, once."""
    mount = f"transit-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path, keys=KeySettings(**openbao.key_settings(mount=mount)))
    client = hvac.Client(url=openbao.url, token=openbao.token)
    try:
        with pytest.raises(KeyNotFoundError):
            open_key_provider(settings)
        assert f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]
        assert create_master_key(settings) is not None
        assert create_master_key(settings) is None  # exists: kept
        keys = open_key_provider(settings)
        try:
            wrapped = keys.wrap(b"k" * 32, context=CONTEXT)
            fp8 = keys.identify().fingerprint[:8]
            assert wrapped.key_id == f"openbao:{settings.keys.openbao_key}:{fp8}:1"
            assert keys.unwrap(wrapped, context=CONTEXT) == b"k" * 32
            # ids from before fingerprints (openbao:<name>:<version>) still unwrap
            assert keys.unwrap(WrappedKey(f"openbao:{settings.keys.openbao_key}:1", wrapped.ciphertext),
                               context=CONTEXT) == b"k" * 32
            with pytest.raises(KeyNotFoundError):  # another key's fingerprint
                keys.unwrap(WrappedKey(f"openbao:{settings.keys.openbao_key}:00000000:1", wrapped.ciphertext),
                            context=CONTEXT)
        finally:
            keys.close()
        key = client.secrets.transit.read_key(settings.keys.openbao_key, mount_point=mount)["data"]
        assert key["type"] == "aes256-gcm96"
        assert client.adapter.get(f"/v1/{mount}/config/keys")["data"]["disable_upsert"] is True
    finally:
        client.adapter.close()


def test_openbao_refuses_a_key_that_is_not_aes_gcm(openbao: OpenBaoServer) -> None:
    """An existing transit key of another type is reported, not silently used without context binding."""
    name = openbao.new_key_name()
    client = hvac.Client(url=openbao.url, token=openbao.token)
    try:
        if "transit/" not in client.sys.list_mounted_secrets_engines()["data"]:
            client.sys.enable_secrets_engine("transit", path="transit")
        client.secrets.transit.create_key(name, key_type="chacha20-poly1305")
    finally:
        client.adapter.close()
    with pytest.raises(KeyUnavailableError):
        OpenBaoKeyProvider(openbao.url, openbao.token, key_name=name)


def test_openbao_with_a_bad_token_is_unavailable(openbao: OpenBaoServer) -> None:
    """A wrong token is a clear KeyUnavailableError."""
    with pytest.raises(KeyUnavailableError) as caught:
        OpenBaoKeyProvider(openbao.url, "not-the-token", key_name=openbao.new_key_name())
    assert "permission denied" in caught.value.cause


def test_an_unreachable_key_service_is_unavailable() -> None:
    """A key service that does not answer is KeyServiceUnavailableError (category "unavailable", exit 14,
    HTTP 503), not a key problem, for OpenBao and for KMS."""
    with pytest.raises(KeyServiceUnavailableError):
        OpenBaoKeyProvider(f"http://127.0.0.1:{_closed_port()}", "token", timeout=2)
    from botocore.config import Config

    import boto3

    client = boto3.client("kms", endpoint_url=f"http://127.0.0.1:{_closed_port()}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    keys = AwsKmsKeyProvider("alias/dossier", client=client)
    try:
        with pytest.raises(KeyServiceUnavailableError):
            keys.wrap(b"k" * 32, context=CONTEXT)
    finally:
        keys.close()


def test_aws_kms_from_settings(kms_endpoint: KmsEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keys.provider = 'awskms' with an alias wraps under the key the alias points at, and rotates it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", kms_endpoint.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", kms_endpoint.secret_access_key)
    alias = kms_endpoint.create_alias()
    settings = Settings(data_dir=tmp_path, keys=KeySettings(
        provider="awskms", kms_key_id=alias, kms_endpoint_url=kms_endpoint.url, kms_region=kms_endpoint.region))
    keys = open_key_provider(settings)
    try:
        first = keys.wrap(b"k" * 32, context=CONTEXT)
        assert first.key_id.startswith("awskms:arn:aws:kms:") and first.key_id == keys.current_key_id
        new_id = keys.rotate()
        assert new_id != first.key_id
        assert keys.unwrap(first, context=CONTEXT) == b"k" * 32
    finally:
        keys.close()
