"""Background intake: an upload is durable at once and filed by a worker, on SQLite and PostgreSQL (issue #5).

The queue runs against the real catalogue (embedded SQLite and the PostgreSQL test server), the
real vault and the real ingest pipeline; workers are the same function a test calls, a thread,
or a real `dossier worker` process that the test SIGKILLs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.jobs import IntakeQueue, IntakeWorker, JobState
from records.errors import DossierClosedError
from records.model import DossierState, FiledDocument, Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

SECRET = "投诉人王五反映援助律师收取红包 BACKGROUND-PLAINTEXT-7c2a"
LETTER = ("投诉书\n" + SECRET + "\n").encode("utf-8")


@dataclass
class Archive:
    settings: Settings
    services: Services
    number: str

    @property
    def queue(self) -> IntakeQueue:
        return self.services.intake

    def documents(self) -> list[str]:
        return [d.item_number for d in self.services.records.get_dossier("clerk", self.number).documents]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, make_settings: Callable[..., Settings],
            clock: FrozenClock) -> Iterator[Archive]:
    """An initialised archive with one open dossier, on each catalogue database."""
    overrides: dict[str, object] = {"ingest": {"workers": 1, "timeout_seconds": 120}}
    if request.param == "postgres":
        overrides["database"] = {"url": request.getfixturevalue("postgres_url")}
    settings = make_settings(**overrides)
    init_archive(settings)
    services = build_services(settings, clock=clock)
    number = services.records.register_complaint("clerk", Registration(
        matter="援助律师收费投诉", complainant="王五", received_at=clock.now)).archive_number
    yield Archive(settings, services, number)
    services.close()


def _staging_blobs(archive: Archive) -> list[str]:
    return list(archive.services.vault.store.keys(prefix="in/intake-"))


def _scanned_page(path: Path) -> Path:
    """An A4 scan at 300 dpi with no text layer: OCR takes seconds, so a worker is caught mid-job."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(img)
    for y in range(100, 420, 40):  # a few lines: seconds of OCR, not a minute
        draw.text((100, y), "complaint about the legal aid lawyer " * 6, fill=0)
    img.save(path)
    return path


def test_upload_is_queued_before_any_worker_runs_then_filed(archive: Archive) -> None:
    """GIVEN an upload WHEN it is accepted THEN it is a durable queued job with no document yet;
    WHEN a worker runs THEN the job shows the item number it was filed under."""
    job = archive.queue.accept("clerk", archive.number, "投诉书.txt", [LETTER])
    assert job.state is JobState.QUEUED and job.item_number is None
    assert archive.documents() == []                       # nothing filed: no worker has run
    assert len(_staging_blobs(archive)) == 1               # but the upload is already in the vault

    done = archive.queue.run_pending("test-worker")

    assert [j.job_id for j in done] == [job.job_id]
    filed = archive.queue.get("clerk", job.job_id)
    assert filed.state is JobState.FILED and filed.outcome == "ok" and filed.attempts == 1
    assert filed.item_number == f"{archive.number}-01" and archive.documents() == [filed.item_number]
    _, text, _ = archive.services.records.document_text("clerk", filed.item_number)
    assert SECRET in text
    assert _staging_blobs(archive) == []                   # the staging copy is gone once filed


def test_corrupt_file_gets_a_recorded_outcome_and_is_kept(archive: Archive) -> None:
    """A broken PDF is filed with outcome corrupt and a message; its original is kept."""
    broken = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"
    job = archive.queue.accept("clerk", archive.number, "broken.pdf", [broken])
    archive.queue.run_pending()
    done = archive.queue.get("clerk", job.job_id)
    assert done.state is JobState.FILED and done.outcome == "corrupt" and done.message
    assert done.item_number
    assert b"".join(archive.services.records.retrieve_document("clerk", done.item_number)[1]) == broken


def test_same_file_twice_is_refused_as_a_duplicate(archive: Archive) -> None:
    """Uploading the same bytes again files nothing twice; the job names the existing item."""
    first = archive.queue.accept("clerk", archive.number, "a.txt", [LETTER])
    second = archive.queue.accept("clerk", archive.number, "a-copy.txt", [LETTER])
    archive.queue.run_pending()
    a, b = archive.queue.get("clerk", first.job_id), archive.queue.get("clerk", second.job_id)
    assert a.state is JobState.FILED
    assert b.state is JobState.REFUSED and b.outcome == "duplicate" and b.item_number == a.item_number
    assert len(archive.documents()) == 1


def test_dossier_withdrawn_before_its_upload_was_filed_refuses_the_job(archive: Archive) -> None:
    """A dossier voided while its upload waited takes nothing; the job says why, and new uploads are refused."""
    job = archive.queue.accept("clerk", archive.number, "late.txt", [LETTER])
    archive.services.records.advance("clerk", archive.number, DossierState.VOID, note="重复登记")
    archive.queue.run_pending()
    done = archive.queue.get("clerk", job.job_id)
    assert done.state is JobState.REFUSED and "void" in (done.message or "") and archive.documents() == []
    assert _staging_blobs(archive) == []
    with pytest.raises(DossierClosedError):
        archive.queue.accept("clerk", archive.number, "later.txt", [b"x"])


def test_staging_area_holds_no_plaintext(archive: Archive) -> None:
    """Between upload and filing, nothing in the data directory holds the document's text (ARC, 加密存储)."""
    archive.queue.accept("clerk", archive.number, "letter.txt", [LETTER])
    archive.queue.accept("clerk", archive.number, "letter-gb.txt", [("投诉书\n" + SECRET).encode("gb18030")])
    assert len(_staging_blobs(archive)) == 2
    needles = (SECRET.encode("utf-8"), SECRET.encode("gb18030"), b"BACKGROUND-PLAINTEXT-7c2a")
    scanned = 0
    for p in archive.settings.data_dir.rglob("*"):
        if p.is_file():
            raw = p.read_bytes()
            scanned += 1
            assert not any(n in raw for n in needles), p
    assert scanned >= 2


def test_worker_that_dies_after_filing_does_not_file_twice(archive: Archive, clock: FrozenClock) -> None:
    """GIVEN a worker that dies right after the document was committed, before recording the job,
    WHEN the lease runs out and another worker takes the job THEN it ends filed, under the one item."""

    class WorkerKilled(BaseException):
        """Stands for the process dying: nothing below catches it."""

    dying = [True]

    def die(_: FiledDocument) -> None:
        if dying[0]:
            raise WorkerKilled()

    job = archive.queue.accept("clerk", archive.number, "投诉书.txt", [LETTER])
    archive.services.records.on_document_filed(die)
    with pytest.raises(WorkerKilled):
        archive.queue.process_next("doomed-worker")
    dying[0] = False  # the next worker is a healthy process
    assert archive.queue.get("clerk", job.job_id).state is JobState.PROCESSING
    assert len(archive.documents()) == 1
    assert archive.queue.process_next("second-worker") is None     # its lease still holds

    clock.now += timedelta(seconds=archive.queue.lease_seconds + 1)
    done = archive.queue.process_next("second-worker")

    assert done is not None and done.job_id == job.job_id
    assert done.state is JobState.FILED and done.outcome == "ok" and done.attempts == 2
    assert archive.documents() == [done.item_number]


def test_job_abandoned_max_attempts_times_is_recorded_failed(archive: Archive, clock: FrozenClock) -> None:
    """A job whose workers keep vanishing is tried max_attempts times, then failed with the reason."""
    archive.queue.max_attempts = 2
    job = archive.queue.accept("clerk", archive.number, "poison.txt", [LETTER])
    for attempt in (1, 2):
        claim = archive.queue.claim(f"vanishing-{attempt}")
        assert claim is not None and claim.job_id == job.job_id and claim.attempts == attempt
        clock.now += timedelta(seconds=archive.queue.lease_seconds + 1)
    assert archive.queue.claim("third") is None
    failed = archive.queue.get("clerk", job.job_id)
    assert failed.state is JobState.FAILED and "gave up after 2 attempts" in (failed.message or "")
    assert archive.documents() == []
    assert IntakeWorker(archive.queue).run(until_idle=True) == 0
    assert len(_staging_blobs(archive)) == 1                        # kept for a retry (issue #17): the sweep leaves it


def test_concurrent_workers_claim_each_job_once(archive: Archive, clock: FrozenClock) -> None:
    """Two workers with their own catalogue connections (as two processes) never take the same job."""
    # One dossier per job: this is about claiming, not about two filings racing for one dossier's
    # next item number (which the catalogue has to serialise itself; see the report).
    numbers = [archive.number] + [archive.services.records.register_complaint("clerk", Registration(
        matter=f"投诉 {n}", complainant="王五", received_at=clock.now)).archive_number for n in range(5)]
    jobs = [archive.queue.accept("clerk", number, f"f{n}.txt", [f"投诉 {n}".encode()])
            for n, number in enumerate(numbers)]
    other = build_services(archive.settings, clock=clock)
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(name: str, queue: IntakeQueue) -> None:
        start.wait()
        while (claim := queue.claim(name)) is not None:
            claimed[name].append(claim.job_id)
            queue.process(claim, name)

    try:
        threads = [threading.Thread(target=work, args=("a", archive.queue)),
                   threading.Thread(target=work, args=("b", other.intake))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        other.close()
    taken = claimed["a"] + claimed["b"]
    assert sorted(taken) == sorted(j.job_id for j in jobs)          # each exactly once
    done = [archive.queue.get("clerk", j.job_id) for j in jobs]
    assert {(j.state, j.attempts) for j in done} == {(JobState.FILED, 1)}
    assert {j.item_number for j in done} == {f"{n}-01" for n in numbers}


def test_concurrent_workers_filing_into_one_dossier_file_everything_once(archive: Archive, clock: FrozenClock) -> None:
    """Two workers filing into the same dossier at once: every file ends filed once, item numbers distinct
    (a filing that lost a race for the next item number is retried, not lost)."""
    jobs = [archive.queue.accept("clerk", archive.number, f"f{n}.txt", [f"投诉 {n}".encode()]) for n in range(6)]
    other = build_services(archive.settings, clock=clock)
    start = threading.Barrier(2)

    def work(queue: IntakeQueue) -> None:
        start.wait()
        queue.run_pending()

    try:
        threads = [threading.Thread(target=work, args=(q,)) for q in (archive.queue, other.intake)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        other.close()
    clock.now += timedelta(minutes=5)  # past any retry back-off
    archive.queue.run_pending()
    done = [archive.queue.get("clerk", j.job_id) for j in jobs]
    assert {j.state for j in done} == {JobState.FILED}
    assert sorted(j.item_number or "" for j in done) == sorted(archive.documents())
    assert len(archive.documents()) == 6


def test_cli_worker_once_files_what_is_queued_and_prints_each_job(archive: Archive) -> None:
    """`dossier worker --once --json` files the queue and prints one JSON object per job, then exits 0."""
    job = archive.queue.accept("clerk", archive.number, "投诉书.txt", [LETTER])
    result = CliRunner().invoke(main, ["--data-dir", str(archive.settings.data_dir), "worker", "--once", "--json"],
                                env={"DOSSIER_DATABASE__URL": archive.settings.database_url})
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["job_id"], r["state"], r["item_number"]) for r in rows] == [(job.job_id, "filed", f"{archive.number}-01")]
    assert archive.documents() == [f"{archive.number}-01"]


@pytest.mark.ocr
@pytest.mark.slow
def test_sigkilled_worker_process_job_is_picked_up_after_its_lease(archive: Archive, clock: FrozenClock,
                                                                    tmp_path: Path) -> None:
    """GIVEN a `dossier worker` process OCR-ing a scan WHEN it is SIGKILLed THEN, once its lease has run
    out, another worker files the scan exactly once."""
    scan = _scanned_page(tmp_path / "fax.png").read_bytes()
    job = archive.queue.accept("clerk", archive.number, "fax.png", [scan])
    env = {**os.environ, "DOSSIER_DATA_DIR": str(archive.settings.data_dir),
           "DOSSIER_DATABASE__URL": archive.settings.database_url, "DOSSIER_INGEST__WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--lease", "10", "--poll", "0.1"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while archive.queue.get("clerk", job.job_id).state is JobState.QUEUED:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.05)
        time.sleep(0.5)  # into the OCR
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its parser processes
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    held = archive.queue.get("clerk", job.job_id)
    assert held.state is JobState.PROCESSING and held.attempts == 1
    assert archive.documents() == []                                # killed mid-OCR: nothing filed

    clock.now = datetime.now(timezone.utc)
    assert archive.queue.process_next("survivor") is None            # the dead worker's lease still holds
    clock.now = datetime.now(timezone.utc) + timedelta(seconds=15)
    done = archive.queue.process_next("survivor")

    assert done is not None and done.job_id == job.job_id
    assert done.state is JobState.FILED and done.attempts == 2 and done.item_number
    assert archive.documents() == [done.item_number]
    assert _staging_blobs(archive) == []
