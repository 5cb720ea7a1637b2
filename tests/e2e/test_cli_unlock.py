"""`dossier unlock ITEM --password-file F [--json]` (issue #13 (3)): a document filed as ``encrypted``
is opened later with its password — its text extracted, indexed and searchable, no second copy
filed, one access-log entry per attempt, and a wrong password changes nothing.

The archive is real (SQLite catalogue, vault, ingest pipeline, search index); the encrypted Word
file is made in the test (python-docx, then msoffcrypto-tool's ECMA-376 agile encryption).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from records.access.identity import Identity, Role
from records.model import Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import build_services, init_archive
from web.cli import main

SETUP = Identity.operator("test-setup")
PASSWORD = "correct horse 1"
DOC_PASSWORD = "信访2026-密码"
SECRET_TEXT = "举报人反映鹦鹉螺律师事务所违规收取三万元"


def encrypted_docx(text: str, password: str) -> bytes:
    """A Word document holding ``text``, encrypted with ``password`` (OOXML in an OLE container)."""
    import docx
    from msoffcrypto.format.ooxml import OOXMLFile

    document = docx.Document()
    document.add_paragraph(text)
    plain, out = io.BytesIO(), io.BytesIO()
    document.save(plain)
    OOXMLFile(io.BytesIO(plain.getvalue())).encrypt(password, out)
    return out.getvalue()


@dataclass
class Archive:
    settings: Settings
    number: str
    locked: str     # an encrypted .docx, filed without its password
    plain: str      # a text document (outcome ok)

    def run(self, *args: str, who: str | None = None) -> Result:
        sign_in = ["--as", who, "--password-stdin"] if who else []
        return CliRunner().invoke(main, ["--data-dir", str(self.settings.data_dir), *sign_in, *args],
                                  input=PASSWORD + "\n" if who else None)

    def entries(self) -> list[dict[str, object]]:
        svc = build_services(self.settings)
        try:
            return [dataclasses.asdict(e.event) for e in svc.access.read_audit_log(Identity.operator("reader"))
                    if e.event.actor != "reader"]
        finally:
            svc.close()

    def documents(self) -> int:
        svc = build_services(self.settings)
        try:
            return len(svc.records.dossier_document_ids("test", self.number))
        finally:
            svc.close()


@pytest.fixture
def archive(settings: Settings, clock: FrozenClock) -> Iterator[Archive]:
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        for name, role, depts in (("handler_a", Role.HANDLER, ["A"]), ("handler_b", Role.HANDLER, ["B"])):
            svc.access.add_user(SETUP, name, role, departments=depts, password=PASSWORD)
        number = svc.records.register_complaint("test", Registration(
            matter="律师收费投诉", received_at=clock() - timedelta(days=1), complainant="张三",
            department="A")).archive_number
        locked = svc.ingest.ingest_bytes("test", encrypted_docx(SECRET_TEXT, DOC_PASSWORD), "举报材料.docx",
                                         dossier=number)
        assert locked.outcome.value == "encrypted" and locked.item_number, locked
        plain = svc.ingest.ingest_bytes("test", "补充说明：收费票据另附。".encode(), "说明.txt", dossier=number)
        assert plain.item_number
    finally:
        svc.close()
    yield Archive(settings, number, locked.item_number, plain.item_number)


def _password_file(tmp_path: Path, password: str) -> Path:
    f = tmp_path / "pw.txt"
    f.write_text(password + "\nignored second line\n", encoding="utf-8")
    return f


def test_unlock_makes_the_text_searchable_without_filing_a_copy(archive: Archive, tmp_path: Path) -> None:
    """GIVEN an encrypted Word file filed without its password (outcome encrypted, nothing searchable)
    WHEN a handler of its department runs `dossier unlock ITEM --password-file F --json`
    THEN the item's outcome is ok with its text indexed (search finds it), the dossier holds as many
    documents as before, and the attempt left exactly one access-log entry without the password."""
    assert archive.locked not in archive.run("search", "鹦鹉螺").stdout
    count = archive.documents()
    before = len(archive.entries())

    r = archive.run("unlock", archive.locked, "--password-file", str(_password_file(tmp_path, DOC_PASSWORD)),
                    "--json", who="handler_a")

    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"item_number", "outcome", "message", "chars", "languages", "warnings", "kind"}
    assert out["item_number"] == archive.locked and out["outcome"] in ("ok", "ok_with_warnings")
    assert out["chars"] >= len(SECRET_TEXT) and isinstance(out["warnings"], list)
    fresh = archive.entries()[before:]
    assert len(fresh) == 1, fresh
    [entry] = fresh
    assert (entry["actor"], str(entry["action"]), str(entry["outcome"]), entry["object_ref"]) == (
        "handler_a", "file_document", "allowed", archive.locked)
    assert DOC_PASSWORD not in json.dumps(entry, default=str, ensure_ascii=False)
    assert archive.documents() == count
    assert archive.locked in archive.run("search", "鹦鹉螺").stdout
    assert SECRET_TEXT in archive.run("text", archive.locked).stdout


def test_a_wrong_password_is_refused_and_changes_nothing(archive: Archive, tmp_path: Path) -> None:
    """GIVEN an encrypted item
    WHEN it is unlocked with a wrong password, by a handler of another department, and when an item
    that is not encrypted is unlocked
    THEN the wrong password exits 4 with a clear message and the item stays encrypted (one log
    entry), the other department is refused (exit 11), and a plain item exits 5 "not encrypted"."""
    before = len(archive.entries())
    r = archive.run("unlock", archive.locked, "--password-file", str(_password_file(tmp_path, "not it")))
    assert r.exit_code == 4, r.output
    assert "wrong password" in r.output
    assert len(archive.entries()) == before + 1
    shown = json.loads(archive.run("unlock", archive.locked, "--password-file",
                                   str(_password_file(tmp_path, DOC_PASSWORD)), "--json", who="handler_b").stdout
                       or "{}")
    assert shown == {}
    assert str(archive.entries()[-1]["outcome"]) == "refused"
    svc = build_services(archive.settings)
    try:
        assert svc.records.get_document("test", archive.locked).outcome == "encrypted"
    finally:
        svc.close()

    r = archive.run("unlock", archive.plain, "--password-file", str(_password_file(tmp_path, DOC_PASSWORD)))
    assert r.exit_code == 5, r.output
    assert "not encrypted" in r.output


def _encrypted_pdf_with_attachment(password: str) -> bytes:
    """A one-page PDF with an embedded text file, encrypted (AES-128) with ``password``."""
    from pypdf import PdfWriter
    from reportlab.pdfgen import canvas

    page = io.BytesIO()
    c = canvas.Canvas(page)
    c.drawString(72, 720, "Complaint with an attached receipt")
    c.save()
    writer = PdfWriter(clone_from=io.BytesIO(page.getvalue()))
    writer.add_attachment("receipt.txt", "收据：代理费三万元，鹦鹉螺律师事务所。".encode())
    writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_what_an_unlocked_document_holds_is_filed_as_its_children(archive: Archive, tmp_path: Path) -> None:
    """GIVEN an encrypted PDF with an embedded file, filed without its password (outcome encrypted)
    WHEN it is unlocked with its password
    THEN the embedded file is filed as a child document of the item, through the normal ingest path."""
    svc = build_services(archive.settings)
    try:
        filed = svc.ingest.ingest_bytes("test", _encrypted_pdf_with_attachment(DOC_PASSWORD), "投诉.pdf",
                                        dossier=archive.number)
    finally:
        svc.close()
    assert filed.outcome.value == "encrypted" and filed.item_number and not filed.children

    r = archive.run("unlock", filed.item_number, "--password-file", str(_password_file(tmp_path, DOC_PASSWORD)))

    assert r.exit_code == 0, r.output
    svc = build_services(archive.settings)
    try:
        children = [svc.records.get_document("test", d) for d in svc.records.dossier_document_ids("test", archive.number)]
    finally:
        svc.close()
    [child] = [d for d in children if d.parent_item == filed.item_number]
    assert child.filename == "receipt.txt" and child.outcome == "ok"
    assert archive.locked not in archive.run("search", "收据").stdout
    assert child.item_number in archive.run("search", "收据").stdout
