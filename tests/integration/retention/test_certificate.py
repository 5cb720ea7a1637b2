"""Disposition certificates: signed by this archive only, numbers and hashes only (RET), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from click.testing import CliRunner

from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from retention.certificate import CertificateInvalidError, verify_certificate
from retention.disposal import execute_disposition
from retention.model import Approval
from web.bootstrap import Services
from web.cli import main

CONTENT = "保密投诉正文-7c41"


def destroyed(services: Services, out_dir: Path) -> tuple[str, Path]:
    info = services.records.register_complaint("clerk", Registration(
        matter="拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="赵六"))
    body = f"{CONTENT} {uuid.uuid4().hex}".encode()
    services.records.file_document("clerk", info.archive_number, body, kind=DocumentKind.DECISION, filename="赵六.txt",
                                   media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        services.records.advance("clerk", info.archive_number, state, override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    ref = execute_disposition(
        services.retention.disposition_desk.tools, disposition_id="c-1", numbers=[info.archive_number],
        action="destroy", actor="archivist",
        approvals=[Approval("主任", "manager", datetime(2026, 11, 3, tzinfo=timezone.utc), "approve")],
        rules={info.archive_number: "R-5Y"}, out_dir=out_dir)
    return info.archive_number, ref.json_path


def test_a_certificate_verifies_only_with_the_archive_key(services: Services, tmp_path: Path) -> None:
    """A certificate checks out against this archive's public key and fails against any other."""
    number, path = destroyed(services, tmp_path / "certificates")
    cert = verify_certificate(path, services.access.signing_public_key())  # type: ignore[arg-type]
    assert cert["dossiers"][0]["archive_number"] == number and cert["approvals"][0]["step"] == "approve"
    with pytest.raises(CertificateInvalidError, match="signature"):
        verify_certificate(path, Ed25519PrivateKey.generate().public_key())


def test_a_certificate_holds_numbers_and_hashes_never_content(services: Services, tmp_path: Path) -> None:
    """The certificate names items, sizes and SHA-256s; no document text, no complainant, no file name."""
    _, path = destroyed(services, tmp_path / "certificates")
    for f in (path, path.with_suffix(".pdf")):
        raw = f.read_bytes()
        assert CONTENT.encode() not in raw and "赵六".encode() not in raw


def test_certificate_verify_takes_a_public_key_file(services: Services, tmp_path: Path) -> None:
    """`dossier certificate verify --public-key` checks a certificate away from the archive; a wrong key exits 1."""
    _, path = destroyed(services, tmp_path / "certificates")
    archive_key = tmp_path / "archive.pub"
    archive_key.write_bytes(services.access.signing_public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    other = tmp_path / "other.pub"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    elsewhere = tmp_path / "elsewhere"  # no archive here: the key file is all it needs
    ok = CliRunner().invoke(main, ["--data-dir", str(elsewhere), "certificate", "verify", str(path),
                                   "--public-key", str(archive_key)])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(main, ["--data-dir", str(elsewhere), "certificate", "verify", str(path),
                                    "--public-key", str(other)])
    assert bad.exit_code == 1 and "signature" in bad.output


def test_the_pdf_certificate_verifies_through_its_json(services: Services, tmp_path: Path) -> None:
    """The PDF names its JSON's SHA-256: it verifies with the JSON beside it, and not once that JSON is altered."""
    _, path = destroyed(services, tmp_path / "certificates")
    pdf = path.with_suffix(".pdf")
    key = services.access.signing_public_key()
    assert verify_certificate(pdf, key)["disposition_id"] == "c-1"  # type: ignore[arg-type]
    path.write_bytes(path.read_bytes().replace(b'"R-5Y"', b'"R-9Y"'))
    with pytest.raises(CertificateInvalidError, match="names JSON sha256"):
        verify_certificate(pdf, key)  # type: ignore[arg-type]
