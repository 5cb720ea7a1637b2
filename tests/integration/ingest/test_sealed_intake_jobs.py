"""Intake job rows keep nothing readable about a destroyed dossier (issue #12 item 3).

An upload's file name, the job's message and its attachments' names are stored sealed under the
dossier's own key and opened wherever a job is read (the queue, `dossier intake list`); once the
key is destroyed they read as "(sealed: dossier destroyed)", and the disposal's scrub blanks them
and shreds any staging copy a job still holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from ingest.jobs import SEALED_GONE, IntakeQueue, JobState
from ingest.tables import SCRUBBED, IntakeJobRow
from records.model import Registration
from records.sealing import is_sealed
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

MAIL_NAME = "上官飞燕投诉信.eml"
ATTACHMENT = "委托书.txt"
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")


@dataclass
class Archive:
    settings: Settings
    services: Services
    number: str
    dossier_id: str

    @property
    def queue(self) -> IntakeQueue:
        return self.services.intake

    def row(self, job_id: str) -> IntakeJobRow:
        with self.services.uow.read() as s:
            row = s.get(IntakeJobRow, job_id)
            assert row is not None
            s.expunge(row)
            return row


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, make_settings: Callable[..., Settings],
            clock: FrozenClock) -> Iterator[Archive]:
    overrides: dict[str, object] = {"ingest": {"workers": 1, "timeout_seconds": 120}}
    if request.param == "postgres":
        overrides["database"] = {"url": request.getfixturevalue("postgres_url")}
    settings = make_settings(**overrides)
    init_archive(settings)
    services = build_services(settings, clock=clock)
    info = services.records.register_complaint("clerk", Registration(
        matter="援助律师未出庭投诉", complainant="赵六", received_at=clock.now))
    yield Archive(settings, services, info.archive_number, info.dossier_id)
    services.close()


def _mail() -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "投诉人 <a@example.cn>", "tousu@example.gov.cn", "投诉律师"
    m.set_content("请见附件。", charset="utf-8")
    m.add_attachment("授权委托书\n委托人：某人".encode("utf-8"), maintype="text", subtype="plain", filename=ATTACHMENT)
    return bytes(m)


def _found_in(raw: bytes, *needles: str) -> list[str]:
    found = [f"{n} ({enc})" for n in needles for enc in ENCODINGS if n.encode(enc) in raw]
    return found + [f"{n} (json)" for n in needles if json.dumps(n)[1:-1].encode() in raw]


def test_a_queued_upload_leaves_no_clear_file_name_in_the_catalogue(archive: Archive) -> None:
    """GIVEN an upload queued for a dossier, WHEN its job row is read as stored, THEN the file name is
    sealed (and, on SQLite, in neither the catalogue file nor its WAL, in UTF-8, UTF-16-LE, GB18030),
    AND the queue, `dossier intake list --json` and the job's outcome show it in clear."""
    job = archive.queue.accept("clerk", archive.number, MAIL_NAME, [_mail()])
    assert job.filename == MAIL_NAME
    assert is_sealed(archive.row(job.job_id).filename)
    with archive.services.uow.read() as s:
        stored = s.execute(text("SELECT filename FROM intake_jobs WHERE id = :id"), {"id": job.job_id}).scalar_one()
    assert MAIL_NAME not in stored
    if archive.settings.database_url.startswith("sqlite"):
        catalogue = archive.settings.data_dir / "catalogue.sqlite3"
        raw = b"".join(p.read_bytes() for p in (catalogue, Path(f"{catalogue}-wal")) if p.exists())
        assert raw and _found_in(raw, MAIL_NAME) == []
        # The console reads the same archive (its settings name the SQLite catalogue by data directory).
        out = CliRunner().invoke(main, ["--data-dir", str(archive.settings.data_dir), "intake", "list", "--json"])
        assert out.exit_code == 0, out.output
        assert MAIL_NAME in out.output
    assert [j.filename for j in archive.queue.list_jobs()] == [MAIL_NAME]
    assert archive.queue.get("clerk", job.job_id).filename == MAIL_NAME


def test_a_filed_jobs_attachment_names_are_sealed_and_read_back(archive: Archive) -> None:
    """GIVEN an e-mail with an attachment filed through the queue, WHEN the job row is read as stored,
    THEN the attachment's name is sealed, AND the job read through the queue names it in clear."""
    job = archive.queue.accept("clerk", archive.number, MAIL_NAME, [_mail()])
    [done] = archive.queue.run_pending("w")
    child = MAIL_NAME + "#1"  # an attachment's path: inside its parent upload
    assert done.state is JobState.FILED and [c.path for c in done.children] == [child]
    row = archive.row(job.job_id)
    assert row.children and all(is_sealed(c["path"]) for c in row.children)
    assert MAIL_NAME not in json.dumps(row.children, ensure_ascii=False)
    assert [c.path for c in archive.queue.get("clerk", job.job_id).children] == [child]


def test_after_the_dossier_key_is_destroyed_a_job_reads_as_sealed_and_the_scrub_blanks_it(
        archive: Archive, clock: FrozenClock) -> None:
    """GIVEN a filed job and a job still holding its staging copy, WHEN the dossier's key is destroyed,
    THEN both jobs read "(sealed: dossier destroyed)" instead of failing, AND scrub_dossier blanks
    every job of the dossier, refuses the unfinished one and shreds its staging copy (key and blob)."""
    filed = archive.queue.accept("clerk", archive.number, MAIL_NAME, [_mail()])
    archive.queue.run_pending("w")
    held = archive.queue.accept("clerk", archive.number, "第二封" + MAIL_NAME, [_mail() + b"\n"])
    archive.services.vault.dossier_keys.destroy(archive.dossier_id, now=clock())

    gone = archive.queue.get("clerk", filed.job_id)
    assert gone.filename == SEALED_GONE and [c.path for c in gone.children] == [SEALED_GONE]
    assert archive.queue.get("clerk", held.job_id).filename == SEALED_GONE

    assert archive.queue.scrub_dossier(archive.number) == 2
    for job_id in (filed.job_id, held.job_id):
        row = archive.row(job_id)
        assert (row.filename, row.message, row.children) == (SCRUBBED, None, None)
        assert row.wrapped_key is None and row.state in (JobState.FILED, JobState.REFUSED)
    assert archive.row(held.job_id).outcome == SCRUBBED
    assert list(archive.services.vault.store.keys(prefix="in/intake-")) == []
    assert archive.queue.run_pending("w") == []  # nothing left to file
    assert archive.queue.scrub_dossier(archive.number) == 2  # idempotent
