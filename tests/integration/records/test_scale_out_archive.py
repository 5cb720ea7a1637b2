"""The whole archive core on the scale-out stack: PostgreSQL + S3 (SeaweedFS) + OpenBao / KMS."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from records.model import DocumentKind, Registration
from records.vault import IntegrityError
from web.bootstrap import build_services, init_archive

SECRET = "投诉材料正文 SCALE-OUT-PLAINTEXT-91c2".encode()
NOW = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)


def _register_and_file(services, tmp_path: Path, data: bytes) -> str:  # type: ignore[no-untyped-def]
    number = services.records.register_complaint(
        "clerk", Registration(matter="拖延", complainant="张三", received_at=NOW)).archive_number
    f = tmp_path / "letter.txt"
    f.write_bytes(data)
    return str(services.records.file_document("clerk", number, f, kind=DocumentKind.COMPLAINT_LETTER).item_number)


@pytest.mark.postgres
@pytest.mark.s3
@pytest.mark.kms
def test_postgres_s3_openbao_archive_files_rotates_and_verifies(make_settings, postgres_url, seaweedfs, s3_bucket, openbao, tmp_path):  # type: ignore[no-untyped-def]
    """File, read back, rotate the transit key and verify — with no plaintext in any S3 object."""
    settings = make_settings(database={"url": postgres_url}, vault=seaweedfs.vault_settings(s3_bucket, prefix="archive/"),
                             keys=openbao.key_settings())
    init_archive(settings)
    services = build_services(settings, clock=lambda: NOW)
    try:
        data = SECRET * 2000
        item = _register_and_file(services, tmp_path, data)
        assert b"".join(services.records.retrieve_document("c", item)[1]) == data
        client = seaweedfs.client()
        objects = client.list_objects_v2(Bucket=s3_bucket)["Contents"]
        assert len(objects) == 1 and objects[0]["Key"].startswith("archive/")
        stored = client.get_object(Bucket=s3_bucket, Key=objects[0]["Key"])["Body"].read()
        assert SECRET[:20] not in stored and b"SCALE-OUT-PLAINTEXT" not in stored
        report = services.records.rotate_master_key("admin")
        # Issue #12: the object's data key is wrapped under its dossier's key; that key is what is re-wrapped.
        assert report.dossier_keys_rewrapped >= 1 and report.new_key_id.endswith(":2")
        assert client.get_object(Bucket=s3_bucket, Key=objects[0]["Key"])["Body"].read() == stored
        assert services.records.verify_vault("auditor").ok
        flipped = bytearray(stored)
        flipped[100] ^= 0x40
        client.put_object(Bucket=s3_bucket, Key=objects[0]["Key"], Body=bytes(flipped))
        with pytest.raises(IntegrityError):
            b"".join(services.records.retrieve_document("c", item)[1])
    finally:
        services.close()


@pytest.mark.kms
def test_aws_kms_provider_wraps_and_rotates_through_settings(make_settings, kms_endpoint, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The AWS KMS key provider through the one Settings object (moto's KMS server stands in for AWS)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", kms_endpoint.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", kms_endpoint.secret_access_key)
    settings = make_settings(keys={"provider": "awskms", "kms_key_id": kms_endpoint.create_alias(),
                                   "kms_endpoint_url": kms_endpoint.url, "kms_region": kms_endpoint.region})
    init_archive(settings)
    services = build_services(settings, clock=lambda: NOW)
    try:
        item = _register_and_file(services, tmp_path, SECRET)
        assert services.records.rotate_master_key("admin").dossier_keys_rewrapped >= 1  # issue #12: under the dossier key
        assert b"".join(services.records.retrieve_document("c", item)[1]) == SECRET
    finally:
        services.close()
