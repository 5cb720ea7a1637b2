"""`dossier export-bag` and `import-bag`: logged, watermarked per the access rules, verified on import (#6 part 7)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from records.access.identity import Identity, Role
from records.model import DocumentAnalysis, DocumentKind, Registration
from records.settings import Settings
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

REGULATOR = "监管局王"


def pdf_bytes(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def archive(settings: Settings) -> Iterator[tuple[Settings, Services, list[str]]]:
    """Two dossiers (A with a PDF and a text letter, B with one letter) and a regulator granted A only."""
    init_archive(settings)
    svc = build_services(settings)
    numbers = []
    for name in ("张三", "李四"):
        info = svc.records.register_complaint("clerk", Registration(
            matter="律师拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant=name,
            respondent="某律师事务所", category="收费", department="法援科"))
        numbers.append(info.archive_number)
        svc.records.file_document("clerk", info.archive_number, f"{name} letter text body".encode() * 20,
                                  kind=DocumentKind.COMPLAINT_LETTER, filename=f"{name}.txt", media_type="text/plain",
                                  analysis=DocumentAnalysis(outcome="ok", text=f"{name} letter text body"))
    svc.records.file_document("clerk", numbers[0], pdf_bytes("Minutes of the investigation"),
                              kind=DocumentKind.INVESTIGATION_MINUTES, filename="minutes.pdf",
                              media_type="application/pdf",
                              analysis=DocumentAnalysis(outcome="ok", text="Minutes of the investigation"))
    operator = Identity.operator("admin")
    svc.access.add_user(operator, REGULATOR, Role.REGULATOR)
    svc.access.grant_regulator_access(operator, REGULATOR, purpose="年度检查", dossiers=[numbers[0]],
                                      expires_at=datetime(2099, 1, 1, tzinfo=timezone.utc))
    yield settings, svc, numbers
    svc.close()


def cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def exports_logged(svc: Services) -> list[Any]:
    entries = svc.access.read_audit_log(Identity.operator("auditor"))
    return [e.event for e in entries if e.event.action == "export"]


def test_export_bag_packages_originals_and_logs_every_document(archive: tuple[Settings, Services, list[str]],
                                                               tmp_path: Path) -> None:
    """An export holds each original byte-for-byte with metadata and text, and logs one EXPORT per document (ACS-12)."""
    settings, svc, numbers = archive
    out = tmp_path / "pkg"
    result = cli(settings, "export-bag", *numbers, "-o", str(out), "--purpose", "移交复核")
    assert result.exit_code == 0, result.output
    bag = bagit.Bag(str(out))
    bag.validate()
    assert bag.info["Dossier-Action"] == "export" and bag.info["Document-Count"] == "3"
    for number in numbers:
        meta = json.loads((out / "data" / number / "metadata.json").read_text(encoding="utf-8"))
        for doc in meta["documents"]:
            data = (out / "data" / number / doc["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == doc["sha256"] and not doc["watermarked"]
    logged = exports_logged(svc)
    assert len(logged) == 3 and {e.object_ref for e in logged} == {
        d.item_number for n in numbers for d in svc.records.get_dossier("t", n).documents}
    assert all(e.outcome == "allowed" and e.details["package"] == "pkg" for e in logged)


def test_a_regulator_gets_only_watermarked_copies_of_granted_dossiers(archive: tuple[Settings, Services, list[str]],
                                                                      tmp_path: Path) -> None:
    """For a regulator every document is a stamped PDF naming them and the grant; an ungranted dossier is refused."""
    settings, svc, numbers = archive
    out = tmp_path / "for-regulator"
    result = cli(settings, "export-bag", numbers[0], "-o", str(out), "--for", REGULATOR)
    assert result.exit_code == 0, result.output
    bagit.Bag(str(out)).validate()
    meta = json.loads((out / "data" / numbers[0] / "metadata.json").read_text(encoding="utf-8"))
    assert len(meta["documents"]) == 2
    for doc in meta["documents"]:
        assert doc["watermarked"] and doc["file"].endswith(".pdf") and doc["text_file"] is None
        text = "".join(p.extract_text() for p in PdfReader(out / "data" / numbers[0] / doc["file"]).pages)
        assert REGULATOR in text and "年度检查" in text
    assert not (out / "data" / numbers[0] / "text").exists()

    refused = cli(settings, "export-bag", numbers[1], "-o", str(tmp_path / "refused"), "--for", REGULATOR)
    assert refused.exit_code == 11, refused.output
    assert not (tmp_path / "refused").exists() and not list(tmp_path.glob(".refused*"))
    entries = [e.event for e in svc.access.read_audit_log(Identity.operator("auditor"))]
    assert any(e.actor == REGULATOR and e.outcome == "refused" and e.object_ref == numbers[1] for e in entries)


def test_import_bag_validates_then_files_through_ingest(archive: tuple[Settings, Services, list[str]],
                                                        tmp_path: Path) -> None:
    """A package is imported as new dossiers with the same originals; one altered byte refuses it whole."""
    settings, svc, numbers = archive
    out = tmp_path / "pkg"
    assert cli(settings, "export-bag", numbers[0], "-o", str(out)).exit_code == 0
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    victim = next((tampered / "data" / numbers[0] / "originals").iterdir())
    data = bytearray(victim.read_bytes())
    data[5] ^= 0x01
    victim.write_bytes(bytes(data))
    count_before = len(svc.records.list_dossiers("t"))

    bad = cli(settings, "import-bag", str(tampered))
    assert bad.exit_code == 6 and "not valid" in bad.output
    assert len(svc.records.list_dossiers("t")) == count_before

    good = cli(settings, "import-bag", str(out), "--json")
    assert good.exit_code == 0, good.output
    report = json.loads(good.stdout)
    (imported,) = report["dossiers"]
    assert imported["source_number"] == numbers[0] and imported["archive_number"] not in numbers
    assert [d["outcome"] for d in imported["documents"]] == ["ok", "ok"]
    new = svc.records.get_dossier("t", imported["archive_number"])
    old = svc.records.get_dossier("t", numbers[0])
    assert new.registration.complainant == "张三" and new.registration.matter == old.registration.matter
    assert [(d.sha256, d.filename, d.kind) for d in new.documents] == [(d.sha256, d.filename, d.kind)
                                                                        for d in old.documents]
