"""The vault on a real S3 server (SeaweedFS): sealed at rest, loud on damage, large objects stream."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from records.settings import Settings, VaultSettings
from records.vault import BlobExistsError, BlobKey, IntegrityError, Vault, open_blob_store
from records.vault.backends.s3 import S3BlobStore
from records.vault.keys import FileKeyProvider, create_key_file

if TYPE_CHECKING:
    from tests.servers.seaweedfs import SeaweedFS

pytestmark = pytest.mark.s3

MARKER = b"COMPLAINT-PLAINTEXT-MARKER-7f3a9c"
PREFIX = "vault"


@pytest.fixture
def vault(seaweedfs: SeaweedFS, s3_bucket: str, tmp_path: Path) -> Iterator[Vault]:
    create_key_file(tmp_path / "master.key")
    store = S3BlobStore(s3_bucket, PREFIX, seaweedfs.client(), part_size=8 * 1024 * 1024)
    v = Vault(store, FileKeyProvider(tmp_path / "master.key"), segment_size=1024 * 1024)
    yield v
    v.close()


def test_no_plaintext_in_any_object_in_the_bucket(vault: Vault, seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    """Every object in the bucket is sealed: none contains any part of a distinctive plaintext."""
    for _ in range(3):
        vault.store_object(uuid.uuid4().hex, "original", [MARKER * 50_000])
    client = seaweedfs.client()
    try:
        names = [o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
        assert len(names) == 3
        for name in names:
            body = client.get_object(Bucket=s3_bucket, Key=name)["Body"].read()
            assert MARKER[:16] not in body and MARKER[-16:] not in body, name
    finally:
        client.close()


def test_one_flipped_byte_in_the_bucket_fails_retrieval(vault: Vault, seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    """Overwriting a stored object with one byte changed makes retrieval raise IntegrityError."""
    sealed = vault.store_object(uuid.uuid4().hex, "original", [os.urandom(300_000)])
    client = seaweedfs.client()
    try:
        name = f"{PREFIX}/{sealed.blob_key}"
        damaged = bytearray(client.get_object(Bucket=s3_bucket, Key=name)["Body"].read())
        damaged[1000] ^= 0x01
        client.put_object(Bucket=s3_bucket, Key=name, Body=bytes(damaged))
    finally:
        client.close()
    with pytest.raises(IntegrityError):
        vault.verify_object(sealed.object_id, "original", sealed.wrapped_key, sealed.sha256)


def test_a_large_object_streams_through_multipart_upload(vault: Vault, seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    """A 20 MiB object goes up in 8 MiB parts and comes back intact, with no upload left open."""
    block = os.urandom(1024 * 1024)
    sealed = vault.store_object(uuid.uuid4().hex, "original", (block for _ in range(20)))
    assert sealed.sha256 == hashlib.sha256(block * 20).hexdigest()
    hasher = hashlib.sha256()
    for chunk in vault.open_object(sealed.object_id, "original", sealed.wrapped_key, expected_sha256=sealed.sha256):
        hasher.update(chunk)
    assert hasher.hexdigest() == sealed.sha256
    client = seaweedfs.client()
    try:
        head = client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/{sealed.blob_key}")
        assert head["ETag"].endswith('-3"')  # three parts
        assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
    finally:
        client.close()


def test_a_taken_object_id_is_refused_without_leaving_an_upload(vault: Vault, seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    """Write-once holds for large objects too, and the refused upload is cleaned up."""
    object_id = uuid.uuid4().hex
    first = vault.store_object(object_id, "original", [os.urandom(100)])
    with pytest.raises(BlobExistsError):
        vault.store_object(object_id, "original", (os.urandom(1024 * 1024) for _ in range(10)))
    vault.verify_object(object_id, "original", first.wrapped_key, first.sha256)
    client = seaweedfs.client()
    try:
        assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
    finally:
        client.close()


def test_a_racing_writer_is_refused_by_the_server(seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    """If the key is taken between our check and our upload, the conditional write still refuses."""
    store = S3BlobStore(s3_bucket, "", seaweedfs.client())
    store._exists = lambda key: False  # type: ignore[method-assign]  # simulate losing the race
    key = BlobKey("ab/cd/abcd01")
    try:
        store.put(key, [b"first"])
        with pytest.raises(BlobExistsError):
            store.put(key, [b"second"])
        assert b"".join(store.get(key)) == b"first"
    finally:
        store.close()


def test_settings_select_the_s3_store(seaweedfs: SeaweedFS, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vault.backend = 's3' in the settings gives an S3 store that works against the configured bucket."""
    for name in [n for n in os.environ if n.startswith("DOSSIER_")]:
        monkeypatch.delenv(name)
    settings = Settings(data_dir=tmp_path, vault=VaultSettings(**seaweedfs.vault_settings(s3_bucket, prefix="archive")))
    store = open_blob_store(settings)
    try:
        assert store.name == "s3"
        store.put(BlobKey("ab/cd/abcd01"), [b"sealed"])
        assert list(store.keys()) == ["ab/cd/abcd01"]
    finally:
        store.close()


def test_an_unreachable_s3_endpoint_is_unavailable(tmp_path: Path) -> None:
    """A blob store that does not answer is StorageUnavailableError, not a boto3 exception."""
    import socket

    import boto3
    from botocore.config import Config

    from records.vault import StorageUnavailableError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    store = S3BlobStore("bucket", "", client)
    try:
        with pytest.raises(StorageUnavailableError):
            store.put(BlobKey("ab/abcd01"), [b"sealed"])
    finally:
        store.close()


def _init_with(seaweedfs: SeaweedFS, data_dir: Path, monkeypatch: pytest.MonkeyPatch, bucket: str,
               **credentials: str) -> tuple[int, str]:
    """`dossier init` of an archive in DATA_DIR whose vault is BUCKET: (exit code, output)."""
    from click.testing import CliRunner

    from web.cli import main

    for name in [n for n in os.environ if n.startswith("DOSSIER_")]:
        monkeypatch.delenv(name)
    vault = {**seaweedfs.vault_settings(bucket, prefix="archive"), **credentials}
    env = {f"DOSSIER_VAULT__{k.upper()}": v for k, v in vault.items()}
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "init"], env=env)
    return result.exit_code, result.output


def test_init_creates_the_bucket_when_the_credentials_allow(seaweedfs: SeaweedFS, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = f"t-{uuid.uuid4().hex[:20]}"
    code, output = _init_with(seaweedfs, tmp_path, monkeypatch, bucket)
    assert code == 0 and "bucket created" in output, output
    client = seaweedfs.client()
    try:
        client.head_bucket(Bucket=bucket)  # it exists now
    finally:
        client.close()
    code, output = _init_with(seaweedfs, tmp_path, monkeypatch, bucket)  # a second init keeps it
    assert code == 0 and "bucket exists" in output, output


def test_init_with_credentials_that_cannot_create_it_says_to_create_the_bucket(
        seaweedfs: SeaweedFS, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers.seaweedfs import LIMITED_ACCESS_KEY_ID, LIMITED_SECRET_ACCESS_KEY

    limited = {"s3_access_key_id": LIMITED_ACCESS_KEY_ID, "s3_secret_access_key": LIMITED_SECRET_ACCESS_KEY}
    missing = f"t-{uuid.uuid4().hex[:20]}"
    code, output = _init_with(seaweedfs, tmp_path / "a", monkeypatch, missing, **limited)
    assert code == 8, output                       # configuration: someone has to act, waiting does not help
    assert f"S3 bucket '{missing}' does not exist" in output and "create the bucket" in output
    assert LIMITED_SECRET_ACCESS_KEY not in output
    client = seaweedfs.client()
    try:
        assert missing not in [b["Name"] for b in client.list_buckets()["Buckets"]]
    finally:
        client.close()
    # the same narrow credentials on a bucket the operator created: init works
    code, output = _init_with(seaweedfs, tmp_path / "b", monkeypatch, s3_bucket, **limited)
    assert code == 0 and "bucket exists" in output, output
