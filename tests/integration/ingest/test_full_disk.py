"""A full disk during intake (issue #9, "Done means"): nothing accepted is lost, nothing is left unsearchable.

The whole data directory — SQLite catalogue, vault, FTS5 index — lives on a real, small tmpfs
mounted for the test. An upload is accepted (sealed and queued: the uploader was told 202), then
the disk is filled to the last byte and the intake worker runs into it: SQLite answers "database
or disk is full", the vault cannot write, the index cannot grow. Whatever a worker got done or
not done, once space is freed a worker started afresh (a restart) files the upload exactly once
and the document is searchable — no command run by hand.

Mounting needs root (or CAP_SYS_ADMIN), as the test servers' scripts already assume; a machine
that cannot mount fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ingest.jobs import IntakeWorker, JobState
from ingest.tables import IntakeJobRow
from records.access.model import AccessScope
from records.model import Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import build_services, init_archive

LETTER = "投诉书\n投诉人钱七反映援助律师收费后未出庭 FULLDISK-4c2a\n".encode()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path) -> Path:
    """Fill the file system to its last byte; the filler file is returned, to be deleted later."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        size = 1024 * 1024
        while size >= 1:   # unbuffered, halving the block on ENOSPC: nothing is left over to flush
            try:
                os.write(fd, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                size //= 2
    finally:
        os.close(fd)
    with pytest.raises(OSError) as full:
        (disk / "probe").write_bytes(b"x" * 8192)
    assert full.value.errno == errno.ENOSPC
    return filler


def test_a_full_disk_during_intake_ends_with_the_document_searchable_after_restart(
        small_disk: Path, make_settings: Callable[..., Settings], clock: FrozenClock) -> None:
    settings = make_settings(data_dir=small_disk / "archive", ingest={"workers": 1, "timeout_seconds": 120})
    init_archive(settings)
    services = build_services(settings, clock=clock)
    try:
        number = services.records.register_complaint("clerk", Registration(
            matter="援助律师收费后未出庭", complainant="钱七", received_at=clock.now)).archive_number
        job = services.intake.accept("clerk", number, "投诉书.txt", [LETTER])   # told 202: sealed and queued
        filler = _fill(small_disk)

        # The worker meets the full disk: it may fail the attempt or die outright, as a process would.
        worker = IntakeWorker(services.intake, outbox=services.outbox)
        with contextlib.suppress(Exception):
            worker.run(until_idle=True)
        with services.uow.read() as s:   # whatever the worker managed, the upload is still there to file
            row = s.get(IntakeJobRow, job.job_id)
            assert row is not None and row.wrapped_key is not None and row.state != JobState.FILED
    finally:
        services.close()

    # Space is freed; the archive is opened afresh (a restart) and a worker runs as `serve` would.
    filler.unlink()
    clock.now += timedelta(minutes=15)            # past any backoff and any dead worker's lease
    services = build_services(settings, clock=clock)
    try:
        IntakeWorker(services.intake, outbox=services.outbox).run(until_idle=True)
        final = services.intake.get("clerk", job.job_id)
        assert final.state is JobState.FILED, (final.state, final.message)
        documents = services.records.get_dossier("clerk", number).documents
        assert [d.item_number for d in documents] == [final.item_number]          # exactly once
        hits = services.search.search("clerk", "FULLDISK", AccessScope.everything())
        assert [h.item_number for h in hits.hits] == [final.item_number]
        assert not list(services.vault.store.keys(prefix="in/intake-"))             # staging copy gone once filed
    finally:
        services.close()
