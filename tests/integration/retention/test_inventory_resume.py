"""An inventory killed midway (SIGKILL) resumes after its last checkpoint and ends as a full run does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from records.access.identity import Identity
from records.model import DocumentKind, Registration
from records.settings import Settings
from records.vault import BlobKey
from retention.inventory import PROGRESS_FILE, InventoryService
from web.bootstrap import build_services, init_archive

if TYPE_CHECKING:
    from tests.conftest import FrozenClock

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = 240
DOCUMENT_BYTES = 512 * 1024
CHECKPOINT_EVERY = 8


def dossier(data_dir: Path, *args: str) -> list[str]:
    # The installed console script, so the child is exactly what an operator runs.
    return [str(Path(sys.executable).with_name("dossier")), "--data-dir", str(data_dir), *args]


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}


def findings(out: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(f["kind"], f["number"] or f["ref"], f["object_kind"]) for f in out["findings"]]


@pytest.mark.slow
def test_sigkilled_inventory_resumes_from_its_checkpoint(make_settings: Callable[..., Settings],
                                                         clock: FrozenClock) -> None:
    """GIVEN an archive of a few hundred objects with one corrupt blob and one orphan,
    WHEN `dossier inventory` is killed with SIGKILL after its first checkpoint and run again,
    THEN the second run continues where the first stopped (not from zero) and reports
    exactly what an uninterrupted run reports (ARC-6)."""
    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    try:
        info = services.records.register_complaint("clerk", Registration(
            matter="拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三"))
        block = os.urandom(DOCUMENT_BYTES)
        items = [services.records.file_document("clerk", info.archive_number, i.to_bytes(4, "big") + block,
                                                kind=DocumentKind.EVIDENCE, filename=f"scan{i}.tif").item_number
                 for i in range(DOCUMENTS)]
        store = services.vault.store
        victim = sorted(store.keys())[DOCUMENTS // 2]  # in the half the killed run has not reached
        sealed = bytearray(b"".join(store.get(victim)))
        sealed[-100] ^= 0x80
        store.delete(victim)
        store.put(victim, [bytes(sealed)])
        store.put(BlobKey("ff/ffplanted-orphan"), [b"sealed?"])
    finally:
        services.close()
    assert len(items) == DOCUMENTS

    # WHEN: the first run is killed as soon as its first checkpoint is durable.
    runs = settings.data_dir / "reports" / "inventory"
    with subprocess.Popen(dossier(settings.data_dir, "inventory", "--json", "--no-progress",
                                  "--checkpoint-every", str(CHECKPOINT_EVERY)),
                          cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
        try:
            deadline = time.monotonic() + 120
            while not any('"type":"batch"' in p.read_text() for p in runs.glob(f"*/{PROGRESS_FILE}")):
                assert child.poll() is None, "inventory ended before its first checkpoint"
                assert time.monotonic() < deadline, "no checkpoint within 120 s"
                time.sleep(0.005)
        finally:
            child.send_signal(signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    (run_dir,) = list(runs.iterdir())
    progress = [json.loads(line) for line in (run_dir / PROGRESS_FILE).read_text().splitlines()]
    assert not any(r["type"] == "complete" for r in progress), "the killed run had already finished"
    done_before = max(r["checked"] for r in progress if r["type"] == "batch")
    assert 0 < done_before < DOCUMENTS

    # THEN: the re-run resumes the same run after its checkpoint...
    resumed = subprocess.run(dossier(settings.data_dir, "inventory", "--json", "--no-progress",
                                     "--checkpoint-every", str(CHECKPOINT_EVERY)),
                             cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 1, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["run"] == run_dir.name
    assert out["resumed_from"] >= done_before > 0
    assert out["objects_checked"] == DOCUMENTS
    html = Path(out["reports"]["html"]).read_text(encoding="utf-8")
    assert f"resumed from {out['resumed_from']}" in html

    # ...and ends with exactly the findings of a clean full run.
    full = subprocess.run(dossier(settings.data_dir, "inventory", "--json", "--no-progress", "--restart"),
                          cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300)
    assert full.returncode == 1, full.stderr
    clean = json.loads(full.stdout)
    assert clean["run"] != out["run"] and clean["resumed_from"] == 0
    assert findings(out) == findings(clean)
    assert {k for k, _, _ in findings(clean)} == {"corrupt", "orphan_blob"}
    assert ("orphan_blob", "ff/ffplanted-orphan", None) in findings(clean)


class _Interrupted(Exception):
    pass


def test_resume_ignores_a_checkpoint_torn_by_the_crash(make_settings: Callable[..., Settings],
                                                       clock: FrozenClock, tmp_path: Path) -> None:
    """A crash in the middle of writing a checkpoint leaves half a line; the next run cuts it off
    and continues from the last whole checkpoint, re-checking nothing twice (ARC-6)."""
    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    try:
        number = services.records.register_complaint("clerk", Registration(
            matter="拖延办理", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三")).archive_number
        for i in range(12):
            services.records.file_document("clerk", number, f"letter {i}".encode(), kind=DocumentKind.EVIDENCE,
                                           filename=f"{i}.txt")
        inventory = InventoryService(services.uow, services.vault, services.search, access=services.access, reports_dir=tmp_path / "runs",
                                     item_width=2, serial_width=3, clock=clock)

        def crash_after_first_checkpoint(done: int, total: int) -> None:
            if done >= 4:
                raise _Interrupted

        with pytest.raises(_Interrupted):
            inventory.run(Identity.operator("auditor"), batch=4, progress=crash_after_first_checkpoint)
        (run_dir,) = list((tmp_path / "runs").iterdir())
        with open(run_dir / PROGRESS_FILE, "ab") as f:
            f.write(b'{"type":"batch","last_id":"ff')  # the torn write

        report = inventory.run(Identity.operator("auditor"), batch=4)
    finally:
        services.close()
    assert report.run_id == run_dir.name and report.resumed_from == 4
    assert report.objects_checked == 12 and report.ok
    lines = [json.loads(line) for line in (run_dir / PROGRESS_FILE).read_text().splitlines()]
    assert [r["checked"] for r in lines if r["type"] == "batch"] == [4, 8, 12]
    assert lines[-1]["type"] == "complete"
