"""Destruction by crypto-shredding leaves nothing recoverable, on the local store and on S3 (RET, issue #6 part 4)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from records.access.model import AccessScope
from records.errors import InvalidTransitionError
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault import BlobKey, BlobNotFoundError
from retention.certificate import CertificateInvalidError, verify_certificate
from retention.disposal import execute_disposition
from retention.model import Approval
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.conftest import FrozenClock
    from tests.servers.seaweedfs import SeaweedFS

LIFECYCLE = (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
             DossierState.SEALED)


@dataclass
class Archive:
    settings: Settings
    services: Services
    bucket_list: Callable[[], set[str]] | None = None  # S3: every key in the bucket, seen directly


def sealed_dossier(svc: Services, word: str, *, docs: int = 2, complainant: str = "张三") -> tuple[str, list[str]]:
    """A sealed dossier whose documents' text holds ``word`` (distinctive, searchable)."""
    info = svc.records.register_complaint("clerk", Registration(
        matter=f"{complainant}投诉律师拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc),
        complainant=complainant, complainant_contact=f"tel-{word}", respondent="某律师事务所", category="收费"))
    items = []
    for i in range(docs):
        body = f"{word} 第{i}页 {uuid.uuid4().hex}".encode() * 50
        doc = svc.records.file_document(
            "clerk", info.archive_number, body, kind=DocumentKind.COMPLAINT_LETTER, filename=f"{complainant}-{i}.txt",
            media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
        items.append(doc.item_number)
    for state in LIFECYCLE:
        svc.records.advance("clerk", info.archive_number, state, override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    return info.archive_number, items


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def archive(request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path,
            clock: FrozenClock) -> Iterator[Archive]:
    data_dir = tmp_path / "archive"
    bucket_list = None
    if request.param == "s3":
        seaweed: SeaweedFS = request.getfixturevalue("seaweedfs")
        bucket = request.getfixturevalue("s3_bucket")
        vault = seaweed.vault_settings(bucket, prefix="vault/")
        data_dir.mkdir()
        (data_dir / "dossier.toml").write_text(
            "[vault]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in vault.items()), encoding="utf-8")

        def bucket_list() -> set[str]:
            client = seaweed.client()
            try:
                pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                return {o["Key"] for page in pages for o in page.get("Contents", [])}
            finally:
                client.close()
    settings = make_settings(data_dir=data_dir)
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield Archive(settings, services, bucket_list)
    services.close()


def objects_of(svc: Services, number: str) -> list[StoredObjectRow]:
    with svc.uow.read() as s:
        return list(s.scalars(select(StoredObjectRow).join(DocumentRow).join(DossierRow)
                              .where(DossierRow.archive_number == number)))


def cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]


def test_destroyed_documents_cannot_be_recovered_from_store_index_or_catalogue(archive: Archive) -> None:
    """GIVEN two sealed dossiers, WHEN one is destroyed, THEN its blobs (local or S3), keys, index
    entries and personal fields are gone, its documents cannot be read, its certificate verifies,
    and the other dossier is untouched."""
    svc, settings = archive.services, archive.settings
    doomed, doomed_items = sealed_dossier(svc, "zebracorn", docs=3)
    kept, kept_items = sealed_dossier(svc, "quokkaline", complainant="李四")
    doomed_objects = objects_of(svc, doomed)
    assert len(doomed_objects) == 6  # originals and extracted text
    wrapped_keys = [o.wrapped_key for o in doomed_objects]
    assert svc.search.search("t", "zebracorn", AccessScope.everything()).total == 3

    tools = svc.retention.disposition_desk.tools
    ref = execute_disposition(tools, disposition_id="d-0001", numbers=[doomed], action="destroy", actor="archivist",
                              approvals=APPROVALS, rules={doomed: "R-10Y"}, out_dir=settings.data_dir / "certificates")

    # The store: every blob gone, seen through the store and directly (file system or bucket).
    for o in doomed_objects:
        with pytest.raises(BlobNotFoundError):
            svc.vault.store.stat(BlobKey(o.blob_key))
        if archive.bucket_list is None:
            assert not (settings.vault_root / o.blob_key).exists()
    if archive.bucket_list is not None:
        in_bucket = archive.bucket_list()
        assert not {f"vault/{o.blob_key}" for o in doomed_objects} & in_bucket
        assert {f"vault/{o.blob_key}" for o in objects_of(svc, kept)} <= in_bucket
    # The keys: destroyed in the catalogue.
    after = objects_of(svc, doomed)
    assert all(o.wrapped_key is None and o.key_id is None and o.shredded_at is not None for o in after)
    # No file of the archive keeps a copy of a destroyed key or of a blanked personal field
    # (SQLite's write-ahead log holds earlier page images until it is checkpointed).
    secrets = [k for k in wrapped_keys if k] + [b"tel-zebracorn", "张三投诉律师拖延办理".encode()]
    leaks = [(f.name, s[:8]) for f in settings.data_dir.rglob("*") if f.is_file()
             for s in secrets if s in f.read_bytes()]
    assert not leaks
    # The index: nothing left to find.
    assert svc.search.search("t", "zebracorn", AccessScope.everything()).total == 0
    assert svc.search.check(svc.records.live_document_ids("t")).ok  # no entry beyond the live documents
    index_dir = settings.data_dir / "search"
    assert not [f for f in index_dir.rglob("*") if f.is_file() and b"zebracorn" in f.read_bytes()]
    # The catalogue: a tombstone with number, dates, rule and hashes only.
    info = svc.records.get_dossier("t", doomed)
    assert info.state is DossierState.DISPOSED
    reg = info.registration
    assert (reg.matter, reg.complainant, reg.complainant_contact) == ("", None, None)
    assert reg.respondent == "某律师事务所"   # a statistics field, kept so past reports do not change (STA-10)
    assert reg.category == "收费" and info.state_dates["sealed"] and info.state_dates["disposed"]
    assert "R-10Y" in (info.transitions[-1].note or "") and "d-0001" in (info.transitions[-1].note or "")
    assert [d.item_number for d in info.documents] == doomed_items
    assert all(d.filename == d.item_number and len(d.sha256) == 64 for d in info.documents)
    # The command line refuses clearly, through the same policy as the web (a disposed dossier's
    # documents are destroyed: refused in its state, exit 11, and logged).
    got = cli(settings, "get", doomed_items[0], "-o", str(settings.data_dir / "out.bin"))
    assert got.exit_code == 11 and "destroyed" in got.output
    assert not (settings.data_dir / "out.bin").exists()
    text = cli(settings, "text", doomed_items[1])
    assert text.exit_code == 11 and "destroyed" in text.output
    shown = cli(settings, "show", doomed, "--json")  # the tombstone stays visible, without personal data
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["state"] == "disposed" and "张三" not in shown.stdout
    # The certificate verifies, with the API and on the command line.
    cert = verify_certificate(ref.json_path, svc.access.signing_public_key())  # type: ignore[arg-type]
    assert [i["sha256"] for i in cert["dossiers"][0]["items"]] == [d.sha256 for d in info.documents]
    assert cert["dossiers"][0]["rule"] == "R-10Y" and cert["totals"]["items"] == 3
    assert cli(settings, "certificate", "verify", str(ref.json_path)).exit_code == 0
    # The other dossier: intact, readable, searchable.
    assert svc.records.get_dossier("t", kept).registration.complainant == "李四"
    for item in kept_items:
        doc, stream = svc.records.retrieve_document("t", item)
        assert len(b"".join(stream)) == doc.size
    assert svc.search.search("t", "quokkaline", AccessScope.everything()).total == 2


def test_changing_one_byte_of_the_certificate_fails_verification(archive: Archive) -> None:
    """Any single changed byte — a hash digit, a number, or a space — makes the certificate fail."""
    svc, settings = archive.services, archive.settings
    number, _ = sealed_dossier(svc, "pangolinette", docs=1)
    tools = svc.retention.disposition_desk.tools
    ref = execute_disposition(tools, disposition_id="d-0002", numbers=[number], action="destroy", actor="archivist",
                              approvals=APPROVALS, rules={number: "R-3Y"}, out_dir=settings.data_dir / "certificates")
    original = ref.json_path.read_bytes()
    sha_at = original.index(b'"sha256":"') + len(b'"sha256":"')
    for pos, new in ((sha_at, b"0" if original[sha_at:sha_at + 1] != b"0" else b"1"),
                     (original.index(b'"size":') + 7, b"9"),
                     (original.index(b","), b" ")):
        tampered = bytearray(original)
        tampered[pos:pos + 1] = new
        ref.json_path.write_bytes(bytes(tampered))
        with pytest.raises(CertificateInvalidError):
            verify_certificate(ref.json_path, svc.access.signing_public_key())  # type: ignore[arg-type]
        result = cli(settings, "certificate", "verify", str(ref.json_path))
        assert result.exit_code == 1, result.output
    ref.json_path.write_bytes(original)
    assert cli(settings, "certificate", "verify", str(ref.json_path)).exit_code == 0


def test_an_unsealed_dossier_is_refused_and_nothing_is_destroyed(archive: Archive) -> None:
    """Disposal applies to sealed dossiers only; a batch with an open one destroys nothing."""
    svc, settings = archive.services, archive.settings
    sealed, _ = sealed_dossier(svc, "wombatique", docs=1)
    open_one = svc.records.register_complaint("clerk", Registration(
        matter="拖延", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="王五")).archive_number
    tools = svc.retention.disposition_desk.tools
    with pytest.raises(InvalidTransitionError):
        execute_disposition(tools, disposition_id="d-0003", numbers=[sealed, open_one], action="destroy",
                            actor="archivist", approvals=APPROVALS, rules={}, out_dir=settings.data_dir / "certificates")
    assert all(o.wrapped_key is not None for o in objects_of(svc, sealed))
    assert not (settings.data_dir / "certificates" / "disposition-d-0003.json").exists()
