"""`dossier notice NUMBER KIND [-o FILE]` (issue #10 item 3): scripting interface, filing, one log entry.

The archive is real (SQLite catalogue, vault); the commands run in process through click, as the
console or as signed-in accounts. The CLI reads the archive's own clock, so every date here is
relative to the services' "now", and the test reads the same on any day.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner, Result
from docx import Document

from records.access.identity import Identity, Role
from records.model import DocumentKind, DossierState, Registration
from records.settings import Settings
from web.bootstrap import build_services, init_archive
from web.cli import main

SETUP = Identity.operator("test-setup")
READER = Identity.operator("test-reader")
PASSWORD = "correct horse 1"


@dataclass
class Archive:
    settings: Settings
    accepted: str      # department A, accepted
    refused: str       # department A, not accepted with its ground
    overdue: str       # department A, received 30 days ago, never accepted

    def run(self, *args: str, who: str | None = None) -> Result:
        sign_in = ["--as", who, "--password-stdin"] if who else []
        return CliRunner().invoke(main, ["--data-dir", str(self.settings.data_dir), *sign_in, *args],
                                  input=PASSWORD + "\n" if who else None)

    def entries(self) -> list[dict[str, object]]:
        svc = build_services(self.settings)
        try:
            return [dataclasses.asdict(e.event) for e in svc.access.read_audit_log(READER)
                    if e.event.actor != READER.name]
        finally:
            svc.close()

    def document(self, item: str) -> tuple[DocumentKind, str]:
        svc = build_services(self.settings)
        try:
            doc, text, _ = svc.records.document_text("test", item)
            return doc.kind, text
        finally:
            svc.close()


@pytest.fixture
def archive(settings: Settings) -> Iterator[Archive]:
    init_archive(settings)
    svc = build_services(settings)
    try:
        for name, role, depts in (("handler_a", Role.HANDLER, ["A"]), ("regulator", Role.REGULATOR, [])):
            svc.access.add_user(SETUP, name, role, departments=depts, password=PASSWORD)

        def register(days_ago: int) -> str:
            return svc.records.register_complaint("test", Registration(
                matter="律师收费过高投诉", received_at=svc.clock() - timedelta(days=days_ago), complainant="张三",
                respondent="某律师事务所", department="A")).archive_number

        accepted, refused, overdue = register(1), register(1), register(30)
        svc.gate.advance(SETUP, accepted, DossierState.ACCEPTED)
        svc.gate.advance(SETUP, refused, DossierState.NOT_ACCEPTED, note="投诉人仅对法律援助案件办理结果有异议")
        svc.access.grant_regulator_access(SETUP, "regulator", purpose="年度检查", dossiers=[accepted],
                                          expires_at=svc.clock() + timedelta(days=30))
    finally:
        svc.close()
    yield Archive(settings, accepted, refused, overdue)


def _item(result: Result) -> str:
    assert result.exit_code == 0, result.output
    [line] = result.output.strip().splitlines()
    assert re.fullmatch(r"\d{4}-\d{3}-\d{2}", line), line
    return line


def test_notice_files_the_notice_and_prints_its_item_number(archive: Archive, tmp_path: Path) -> None:
    """GIVEN an accepted dossier
    WHEN a handler of its department runs `dossier notice NUMBER acceptance -o notice.pdf`
    THEN the item number is printed, the notice is filed as acceptance_notice with its text, the
    copy is a readable PDF with the dossier number and parties, and one allowed file_document
    entry is logged."""
    before = len(archive.entries())
    out = tmp_path / "notice.pdf"
    item = _item(archive.run("notice", archive.accepted, "acceptance", "-o", str(out), who="handler_a"))
    assert item.startswith(archive.accepted)
    kind, text = archive.document(item)
    assert kind is DocumentKind.ACCEPTANCE_NOTICE and "受理通知书" in text
    pdf = pypdfium2.PdfDocument(out.read_bytes())
    try:
        printed = re.sub(r"\s", "", pdf[0].get_textpage().get_text_range())
    finally:
        pdf.close()
    assert archive.accepted in printed and "张三" in printed and "某律师事务所" in printed
    [entry] = archive.entries()[before:]
    assert (entry["actor"], str(entry["action"]), str(entry["outcome"]), entry["object_ref"]) == (
        "handler_a", "file_document", "allowed", archive.accepted)


def test_docx_copy_and_the_recorded_refusal_ground(archive: Archive, tmp_path: Path) -> None:
    """GIVEN a dossier refused with its ground recorded on the not-accepted step
    WHEN the console runs `dossier notice NUMBER non_acceptance -o notice.docx`
    THEN the copy opens in python-docx and states the recorded ground; the filed kind is non_acceptance_notice."""
    out = tmp_path / "notice.docx"
    item = _item(archive.run("notice", archive.refused, "non_acceptance", "-o", str(out)))
    text = "".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert archive.refused in text and "投诉人仅对法律援助案件办理结果有异议" in text
    assert archive.document(item)[0] is DocumentKind.NON_ACCEPTANCE_NOTICE


def test_chaser_of_an_overdue_dossier(archive: Archive) -> None:
    """GIVEN a complaint received 30 days ago and never accepted or refused (TL-01 overdue)
    WHEN `dossier notice NUMBER chaser` runs
    THEN a follow-up record naming the overdue acceptance deadline is filed."""
    item = _item(archive.run("notice", archive.overdue, "chaser"))
    kind, text = archive.document(item)
    assert kind is DocumentKind.FOLLOW_UP_RECORD and "受理期限" in text and "已逾期" in text


def test_a_notice_that_does_not_fit_the_state_exits_5_with_a_message(archive: Archive) -> None:
    """GIVEN a dossier that was never decided
    WHEN its reply letter is asked for
    THEN the command exits 5 (not allowed in this state) with a one-line message, no traceback."""
    r = archive.run("notice", archive.accepted, "reply")
    assert r.exit_code == 5, r.output
    assert "accepted" in r.output and "Traceback" not in r.output


def test_a_bad_copy_suffix_is_refused_before_anything_is_filed(archive: Archive, tmp_path: Path) -> None:
    """GIVEN an accepted dossier
    WHEN `-o notice.txt` is asked for
    THEN the command exits 4 and nothing is filed or logged."""
    before = len(archive.entries())
    r = archive.run("notice", archive.accepted, "acceptance", "-o", str(tmp_path / "notice.txt"))
    assert r.exit_code == 4 and ".docx or .pdf" in r.output
    assert archive.entries()[before:] == []


def test_a_regulator_is_refused_once(archive: Archive) -> None:
    """GIVEN a regulator granted the dossier (read-only)
    WHEN they run `dossier notice NUMBER acceptance`
    THEN it exits 11 and exactly one refused file_document entry is logged."""
    before = len(archive.entries())
    r = archive.run("notice", archive.accepted, "acceptance", who="regulator")
    assert r.exit_code == 11, r.output
    [entry] = archive.entries()[before:]
    assert (entry["actor"], str(entry["action"]), str(entry["outcome"])) == ("regulator", "file_document", "refused")
