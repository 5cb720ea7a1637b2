"""Disposition by transfer: a validated BagIt package first, then the tombstone and a signed certificate (RET)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import bagit
import pytest
from pypdf import PdfReader

from records.errors import DocumentNotFoundError
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from retention.certificate import verify_certificate
from retention.disposal import execute_disposition
from retention.model import Approval
from web.bootstrap import Services, build_services, init_archive

if TYPE_CHECKING:
    from tests.conftest import FrozenClock

APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def sealed(svc: Services, complainant: str, docs: int) -> str:
    info = svc.records.register_complaint("clerk", Registration(
        matter="律师拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant=complainant,
        respondent="某律师事务所", category="收费"))
    for i in range(docs):
        body = f"{complainant} 投诉材料 {i} {uuid.uuid4().hex}".encode() * 30
        svc.records.file_document("clerk", info.archive_number, body, kind=DocumentKind.COMPLAINT_LETTER,
                                  filename=f"{complainant}的投诉{i}.txt", media_type="text/plain",
                                  analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        svc.records.advance("clerk", info.archive_number, state, override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    return info.archive_number


def test_transfer_delivers_a_valid_package_then_leaves_only_a_tombstone(svc: Services, settings: Settings,
                                                                        tmp_path: Path) -> None:
    """GIVEN two sealed dossiers, WHEN they are transferred, THEN the package validates and holds every
    original byte-for-byte with its metadata, the archive keeps only tombstones, and the certificate
    names the package and verifies."""
    numbers = [sealed(svc, "张三", 2), sealed(svc, "李四", 1)]
    before = {n: svc.records.get_dossier("t", n) for n in numbers}
    bag_dir = tmp_path / "transfer"
    tools = svc.retention.disposition_desk.tools
    ref = execute_disposition(tools, disposition_id="t-0001", numbers=numbers, action="transfer", actor="archivist",
                              approvals=APPROVALS, rules={n: "R-30Y-transfer" for n in numbers},
                              out_dir=settings.data_dir / "certificates", transfer_dir=bag_dir)

    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == "disposition-t-0001"
    assert bag.info["Dossier-Count"] == "2" and bag.info["Document-Count"] == "3"
    assert "sha256" in bag.algorithms
    for number in numbers:
        meta = json.loads((bag_dir / "data" / number / "metadata.json").read_text(encoding="utf-8"))
        assert meta["registration"]["complainant"] == before[number].registration.complainant
        assert [t["state"] for t in meta["timeline"]][-1] == "sealed"
        for doc, original in zip(meta["documents"], before[number].documents, strict=True):
            data = (bag_dir / "data" / number / doc["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == original.sha256 == doc["sha256"]
            assert doc["filename"] == original.filename and doc["kind"] == "complaint_letter"
            assert (bag_dir / "data" / number / doc["text_file"]).read_text(encoding="utf-8").startswith(
                before[number].registration.complainant or "")
        # The archive itself keeps only the tombstone.
        info = svc.records.get_dossier("t", number)
        assert info.state is DossierState.DISPOSED and info.registration.complainant is None
        assert "transferred under rule R-30Y-transfer" in (info.transitions[-1].note or "")
        with pytest.raises(DocumentNotFoundError):
            svc.records.retrieve_document("t", info.documents[0].item_number)

    cert = verify_certificate(ref.json_path, svc.access.signing_public_key())  # type: ignore[arg-type]
    assert cert["action"] == "transfer" and cert["transfer"]["package"] == "transfer"
    assert cert["transfer"]["payload_oxum"] == bag.info["Payload-Oxum"]
    # The PDF rendering carries the JSON's hash and the signature, in Chinese and English.
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(ref.pdf_path.read_bytes())).pages)
    compact = "".join(pdf_text.split())
    assert ref.sha256 in compact and cert["signature"]["value"][:32] in compact
    assert "档案移交证明" in compact and numbers[0] in compact
    assert "张三" not in pdf_text and "张三" not in ref.json_path.read_text(encoding="utf-8")

    # A re-run finds the package and the certificate and changes nothing.
    again = execute_disposition(tools, disposition_id="t-0001", numbers=numbers, action="transfer", actor="archivist",
                                approvals=APPROVALS, rules={n: "R-30Y-transfer" for n in numbers},
                                out_dir=settings.data_dir / "certificates", transfer_dir=bag_dir)
    assert again == ref


def test_a_transfer_interrupted_after_its_package_reuses_the_package(svc: Services, settings: Settings,
                                                                      tmp_path: Path) -> None:
    """A package left by a crashed run is validated and reused, not rebuilt; destruction then completes."""
    number = sealed(svc, "王五", 2)
    bag_dir = tmp_path / "transfer"
    # A crash while writing left a partial package behind: it is never taken for the package.
    (tmp_path / ".transfer.partial" / "data").mkdir(parents=True)
    from retention.transfer import write_bag

    write_bag(svc.records, [svc.records.get_dossier("t", number)], bag_dir, actor="archivist",
              bag_info={"External-Identifier": "disposition-t-0002"})
    marker = (bag_dir / "bag-info.txt").stat().st_mtime_ns
    tools = svc.retention.disposition_desk.tools
    ref = execute_disposition(tools, disposition_id="t-0002", numbers=[number], action="transfer", actor="archivist",
                              approvals=APPROVALS, rules={number: "R"}, out_dir=settings.data_dir / "certificates",
                              transfer_dir=bag_dir)
    assert (bag_dir / "bag-info.txt").stat().st_mtime_ns == marker
    assert svc.records.get_dossier("t", number).state is DossierState.DISPOSED
    assert ref.json_path.exists() and ref.pdf_path.exists()
    assert not (tmp_path / ".transfer.partial").exists()
