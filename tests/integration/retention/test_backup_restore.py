"""Backup, destroy, restore the old backup: destroyed stays destroyed (RET, ARC-2, ARC-6; issue #12 item 4).

The destruction ledger, kept with the key material and out of every backup, is replayed by the
restore; the dossier's own key is gone from the key ring, so even a raw read of the old backup
opens none of its objects.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from records.access.identity import Identity, RequestContext
from records.access.model import AccessScope
from records.errors import DocumentNotFoundError
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from records.vault import WrappedKey
from records.vault.errors import DossierKeyGoneError
from retention.backup import Restore, take_backup
from retention.disposal import execute_disposition
from retention.errors import BackupExistsError, LedgerInvalidError, RestoreTargetNotEmptyError
from retention.model import Approval
from tests.integration.retention.test_shredding import sealed_dossier
from web.bootstrap import Services, build_services, init_archive

if TYPE_CHECKING:
    from tests.conftest import FrozenClock

REPO = Path(__file__).resolve().parents[3]
OPERATOR = Identity.operator("cli:backup-test")
APPROVALS = [Approval("档案员", "archivist", datetime(2026, 11, 3, 1, tzinfo=timezone.utc), "review"),
             Approval("主任", "manager", datetime(2026, 11, 3, 1, 30, tzinfo=timezone.utc), "approve")]
DOOMED_WORD, KEPT_WORD = "灰飞烟灭甲", "长久保存乙"


def _bytes(svc: Services, item: str) -> bytes:
    _, chunks = svc.records.retrieve_document("t", item)
    return b"".join(chunks)


def _destroy(svc: Services, number: str, out: Path) -> None:
    execute_disposition(svc.retention.disposition_desk.tools, disposition_id="bk-1", numbers=[number],
                        action="destroy", actor="archivist", approvals=APPROVALS, rules={number: "R-1Y"},
                        out_dir=out)


def _restore(settings: Settings, src: Path, clock: FrozenClock) -> tuple[Services, dict[str, object]]:
    job = Restore(settings, src, clock=clock)
    job.prepare()
    svc = build_services(settings, clock=clock, restoring=True)
    report = job.finish(who=OPERATOR, context=RequestContext(), records=svc.records, vault=svc.vault,
                        search=svc.search, gate=svc.gate, access=svc.access, uow=svc.uow,
                        inventory=svc.inventory, tz=ZoneInfo(settings.timezone),
                        scrubbers=svc.retention.disposition_desk.tools.scrubbers)
    return svc, report.as_dict()


@pytest.fixture
def source(make_settings: Callable[..., Settings], clock: FrozenClock, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An archive with one sealed dossier to destroy later and two to keep (one sealed, one open)."""
    settings = make_settings(data_dir=tmp_path / "archive")
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    doomed, _ = sealed_dossier(svc, DOOMED_WORD, complainant="钱灭迹")
    kept, kept_items = sealed_dossier(svc, KEPT_WORD, docs=3, complainant="孙留存")
    yield settings, svc, doomed, kept, kept_items
    svc.close()


def test_a_restored_old_backup_brings_no_destroyed_dossier_back(source, make_settings: Callable[..., Settings],  # type: ignore[no-untyped-def]
                                                                clock: FrozenClock, tmp_path: Path) -> None:
    """GIVEN a backup taken while a sealed dossier still existed, WHEN that dossier is destroyed and
    the old backup is restored into a new data directory, THEN the dossier is a tombstone again
    (DISPOSED, no personal fields, no text, no search hit), the kept dossier's documents are
    byte-for-byte intact, and the restore ends with a clean inventory and a verified access log."""
    settings, svc, doomed, kept, kept_items = source
    before = {item: _bytes(svc, item) for item in kept_items}
    doomed_items = [d.item_number for d in svc.records.get_dossier("t", doomed).documents]
    report = take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    assert report.objects >= 5 and not report.objects_missing
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["catalogue"]["kind"] == "sqlite" and manifest["created_at"].startswith("2026-11-03")
    # Key material never travels with a backup.
    names = {f["path"].rsplit("/", 1)[-1] for f in manifest["files"]}
    assert not names & {"master.key", "dossier-keys.sqlite3", "audit-signing.key", "search.key", "destructions.jsonl"}

    _destroy(svc, doomed, settings.data_dir / "dispositions")
    assert [e.archive_number for e in svc.retention.disposition_desk.tools.ledger.entries()] == [doomed]  # type: ignore[union-attr]

    target = make_settings(data_dir=tmp_path / "restored")
    new, result = _restore(target, tmp_path / "bk", clock)
    try:
        assert result["replayed"] == [doomed]
        info = new.records.get_dossier("t", doomed)
        assert info.state is DossierState.DISPOSED
        assert info.registration.complainant is None and info.registration.complainant_contact is None
        for item in doomed_items:
            with pytest.raises(DocumentNotFoundError):
                _bytes(new, item)
            with pytest.raises(DocumentNotFoundError):
                new.records.document_text("t", item)
        assert new.search.search("t", DOOMED_WORD, AccessScope.everything()).total == 0
        assert new.search.search("t", KEPT_WORD, AccessScope.everything()).total == 3
        assert {item: _bytes(new, item) for item in kept_items} == before
        assert new.records.get_dossier("t", kept).registration.complainant == "孙留存"
        assert result["inventory"]["ok"], result["inventory"]  # type: ignore[index]
        assert result["audit"]["ok"], result["audit"]  # type: ignore[index]
        assert result["ok"] is True
        assert not (target.data_dir / "restore-state.json").exists()
    finally:
        new.close()


def test_the_old_backup_read_raw_with_todays_keys_opens_nothing_of_the_destroyed_dossier(  # type: ignore[no-untyped-def]
        source, tmp_path: Path, clock: FrozenClock) -> None:
    """GIVEN a backup taken before a destruction, WHEN its catalogue and objects are read raw with
    all the key material that exists after the destruction, THEN each of the destroyed dossier's
    objects has its data key wrapped under the dossier's own key, which is gone: nothing opens."""
    settings, svc, doomed, _, _ = source
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    dossier_id = svc.records.get_dossier("t", doomed).dossier_id
    _destroy(svc, doomed, settings.data_dir / "dispositions")
    con = sqlite3.connect(tmp_path / "bk" / "catalogue.sqlite3")
    rows = con.execute("SELECT o.id, o.kind, o.key_id, o.wrapped_key FROM stored_objects o JOIN documents d "
                       "ON o.document_id = d.id WHERE d.dossier_id = ?", (dossier_id,)).fetchall()
    con.close()
    assert rows
    for object_id, kind, key_id, wrapped in rows:
        assert wrapped is not None  # the old catalogue still holds the wrapped key…
        assert key_id.startswith("dossier:"), (
            f"object {object_id} is wrapped under {key_id}, the master key, not its dossier's key: the "
            "master key alone opens it from an old backup (records/filing.py must pass dossier_id=)")
        with pytest.raises(DossierKeyGoneError):  # …but the key that unwraps it is destroyed
            svc.vault.open_object(object_id, kind, WrappedKey(key_id, wrapped))


def test_a_restore_refuses_a_data_directory_that_holds_an_archive(source, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  clock: FrozenClock) -> None:
    """GIVEN a finished backup, WHEN it is restored into a data directory holding an archive, or
    backed up again into the same directory, THEN both are refused and nothing is overwritten."""
    settings, svc, _, _, _ = source
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    with pytest.raises(BackupExistsError):
        take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    with pytest.raises(RestoreTargetNotEmptyError):
        Restore(settings, tmp_path / "bk", clock=clock).prepare()


def test_a_tampered_ledger_stops_the_restore(source, make_settings: Callable[..., Settings], tmp_path: Path,  # type: ignore[no-untyped-def]
                                             clock: FrozenClock) -> None:
    """GIVEN a destruction recorded in the ledger, WHEN its line is edited (say, to name another
    dossier), THEN reading the ledger fails, and a restore stops before putting objects in place."""
    settings, svc, doomed, _, _ = source
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    _destroy(svc, doomed, settings.data_dir / "dispositions")
    ledger = settings.destruction_ledger
    ledger.write_text(ledger.read_text().replace(doomed, doomed[:-1] + "9"))
    with pytest.raises(LedgerInvalidError):
        svc.retention.disposition_desk.tools.ledger.entries()  # type: ignore[union-attr]
    with pytest.raises(LedgerInvalidError):
        Restore(make_settings(data_dir=tmp_path / "restored"), tmp_path / "bk", clock=clock).prepare()


def test_a_dossier_still_closed_in_the_backup_is_destroyed_again_whatever_its_state(  # type: ignore[no-untyped-def]
        source, make_settings: Callable[..., Settings], tmp_path: Path, clock: FrozenClock) -> None:
    """GIVEN a backup taken while a dossier was only closed, WHEN it is later sealed and destroyed
    and the old backup restored, THEN the restore destroys it although the backup never saw it
    sealed: a tombstone, its objects' keys gone, its blobs never put in the new store."""
    settings, svc, _, _, _ = source
    number = svc.records.register_complaint("clerk", Registration(
        matter="迟到的投诉", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="周迟")).archive_number
    svc.records.file_document("clerk", number, "周迟 迟封之卷".encode() * 30, kind=DocumentKind.COMPLAINT_LETTER,
                              filename="周迟.txt", media_type="text/plain",
                              analysis=DocumentAnalysis(outcome="ok", text="周迟 迟封之卷"))
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED):
        svc.records.advance("clerk", number, state, override_reason="test fixture: no materials"
                            if state is DossierState.CLOSED else None)
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    svc.records.advance("clerk", number, DossierState.SEALED)
    _destroy(svc, number, settings.data_dir / "dispositions")

    new, result = _restore(make_settings(data_dir=tmp_path / "restored"), tmp_path / "bk", clock)
    try:
        assert result["replayed"] == [number]
        info = new.records.get_dossier("t", number)
        assert info.state is DossierState.DISPOSED and info.registration.complainant is None
        assert all(o.shredded_at is not None for i in new.records.disposal_manifest("t", number).items
                   for o in i.objects)
        assert new.search.search("t", "迟封之卷", AccessScope.everything()).total == 0
        assert result["inventory"]["ok"] and result["audit"]["ok"], result  # type: ignore[index]
    finally:
        new.close()


@pytest.mark.slow
@pytest.mark.parametrize("restore_crash", ["restore:catalogue", "restore:objects", "restore:replay"])
def test_backup_and_restore_killed_midway_are_completed_by_a_rerun(source, tmp_path: Path, clock: FrozenClock,  # type: ignore[no-untyped-def]
                                                                   restore_crash: str) -> None:
    """GIVEN `dossier backup` SIGKILLed after its first object, WHEN it is run again, THEN the backup
    is finished (manifest written, the copied object reused); GIVEN a dossier destroyed since and
    `dossier restore` SIGKILLed mid-way, WHEN it is run again, THEN the restore completes: the
    dossier is a tombstone, the inventory is clean and the access log verifies."""
    settings, svc, doomed, _, _ = source
    svc.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    dest, restored = tmp_path / "bk", tmp_path / "restored"

    def run(data_dir: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
        e = {**env, "DOSSIER_DATA_DIR": str(data_dir), **({"DOSSIER_CRASH_AT": crash} if crash else {})}
        return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=REPO, env=e, capture_output=True,
                              text=True, timeout=300)

    killed = run(settings.data_dir, "backup", str(dest), crash="backup:objects")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (dest / "manifest.json").exists()
    done = run(settings.data_dir, "backup", str(dest), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["objects_copied"] == json.loads(done.stdout)["objects"] - 1

    svc = build_services(settings, clock=clock)
    try:
        _destroy(svc, doomed, settings.data_dir / "dispositions")
    finally:
        svc.close()
    killed = run(restored, "restore", str(dest), crash=restore_crash)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (restored / "restore-state.json").exists()
    if restore_crash != "restore:catalogue":
        # Half restored, the destroyed dossier may be back: no other command opens the archive meanwhile.
        refused = run(restored, "show", doomed)
        assert refused.returncode == 5 and "restore" in refused.stderr and "unfinished" in refused.stderr, refused.stderr
    done = run(restored, "restore", str(dest), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["inventory"]["ok"] and result["audit"]["ok"]
    if restore_crash == "restore:objects":
        assert result["objects_skipped"] == 1
    new = build_services(Settings(data_dir=restored), clock=clock)
    try:
        assert new.records.get_dossier("t", doomed).state is DossierState.DISPOSED
    finally:
        new.close()


@pytest.mark.postgres
def test_a_postgresql_archive_is_backed_up_with_pg_dump_and_restored_into_an_empty_database(  # type: ignore[no-untyped-def]
        make_settings: Callable[..., Settings], postgres_server, clock: FrozenClock, tmp_path: Path) -> None:
    """GIVEN an archive on PostgreSQL, WHEN it is backed up (pg_dump on an exported snapshot), a
    sealed dossier destroyed and the backup restored into an empty database, THEN the destroyed
    dossier is a tombstone, the kept one reads the same, inventory and audit verify are clean."""
    settings = make_settings(data_dir=tmp_path / "archive",
                             database={"url": postgres_server.url(postgres_server.create_database())})
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        doomed, _ = sealed_dossier(svc, DOOMED_WORD, complainant="钱灭迹")
        _, kept_items = sealed_dossier(svc, KEPT_WORD, complainant="孙留存")
        before = {item: _bytes(svc, item) for item in kept_items}
        report = take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
        assert report.catalogue == "postgresql" and (tmp_path / "bk" / "catalogue.pgdump").exists()
        _destroy(svc, doomed, settings.data_dir / "dispositions")
    finally:
        svc.close()
    target = make_settings(data_dir=tmp_path / "restored",
                           database={"url": postgres_server.url(postgres_server.create_database())})
    new, result = _restore(target, tmp_path / "bk", clock)
    try:
        assert result["replayed"] == [doomed]
        assert new.records.get_dossier("t", doomed).state is DossierState.DISPOSED
        assert {item: _bytes(new, item) for item in kept_items} == before
        assert result["inventory"]["ok"] and result["audit"]["ok"], result  # type: ignore[index]
    finally:
        new.close()


def test_intake_jobs_follow_the_destruction_and_queued_uploads_come_back(  # type: ignore[no-untyped-def]
        source, make_settings: Callable[..., Settings], tmp_path: Path, clock: FrozenClock) -> None:
    """GIVEN a backup holding an upload queued for a dossier destroyed later, and one queued for a
    kept dossier, WHEN the old backup is restored, THEN the destroyed dossier's job is scrubbed
    (file name gone, staging copy shredded and never restored) and the kept upload is queued again
    with its sealed staging copy in the new store."""
    from ingest.tables import SCRUBBED, IntakeJobRow
    from records.vault import blob_key_for

    settings, svc, _, _, _ = source
    doomed = svc.records.register_complaint("clerk", Registration(
        matter="上传后销毁", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="吴上传")).archive_number
    keep = svc.records.register_complaint("clerk", Registration(
        matter="上传后保留", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="郑保留")).archive_number
    gone = svc.intake.accept("clerk", doomed, "吴上传身份证.txt", [b"wu " * 100])
    kept_job = svc.intake.accept("clerk", keep, "zheng.txt", [b"zheng " * 100])
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        svc.records.advance("clerk", doomed, state, override_reason="test fixture: no materials"
                            if state is DossierState.CLOSED else None)
    _destroy(svc, doomed, settings.data_dir / "dispositions")
    with svc.uow.read() as s:
        assert s.get(IntakeJobRow, gone.job_id).filename == SCRUBBED  # type: ignore[union-attr]

    new, result = _restore(make_settings(data_dir=tmp_path / "restored"), tmp_path / "bk", clock)
    try:
        assert result["replayed"] == [doomed]
        with new.uow.read() as s:
            row = s.get(IntakeJobRow, gone.job_id)
            assert row is not None and row.filename == SCRUBBED and row.wrapped_key is None
            kept_row = s.get(IntakeJobRow, kept_job.job_id)
            assert kept_row is not None and kept_row.state == "queued" and kept_row.wrapped_key is not None
        new.vault.store.stat(blob_key_for(kept_row.object_id))
        assert not any(k == blob_key_for(row.object_id) for k in new.vault.store.keys())
        assert result["inventory"]["ok"] and result["audit"]["ok"], result  # type: ignore[index]
    finally:
        new.close()


@pytest.mark.s3
def test_an_archive_on_s3_is_backed_up_through_the_store_api_and_restored_onto_s3(  # type: ignore[no-untyped-def]
        make_settings: Callable[..., Settings], request: pytest.FixtureRequest, clock: FrozenClock,
        tmp_path: Path) -> None:
    """GIVEN an archive whose vault is an S3 bucket, WHEN it is backed up, a dossier destroyed and
    the backup restored into a data directory whose dossier.toml names another S3 prefix, THEN
    the objects come back through the store API, the destroyed dossier's never, and the restore
    ends clean."""
    seaweed = request.getfixturevalue("seaweedfs")
    bucket = request.getfixturevalue("s3_bucket")

    def archive_on(prefix: str, data_dir: Path) -> Settings:
        data_dir.mkdir()
        vault = seaweed.vault_settings(bucket, prefix=prefix)
        (data_dir / "dossier.toml").write_text(
            "[vault]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in vault.items()), encoding="utf-8")
        return make_settings(data_dir=data_dir)

    settings = archive_on("source/", tmp_path / "archive")
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        doomed, _ = sealed_dossier(svc, DOOMED_WORD, complainant="钱灭迹")
        _, kept_items = sealed_dossier(svc, KEPT_WORD, complainant="孙留存")
        before = {item: _bytes(svc, item) for item in kept_items}
        take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
        _destroy(svc, doomed, settings.data_dir / "dispositions")
    finally:
        svc.close()
    target = archive_on("restored/", tmp_path / "restored")
    new, result = _restore(target, tmp_path / "bk", clock)
    try:
        assert result["replayed"] == [doomed] and result["objects_copied"] == 4
        assert {item: _bytes(new, item) for item in kept_items} == before
        assert result["inventory"]["ok"] and result["audit"]["ok"], result  # type: ignore[index]
    finally:
        new.close()


def test_a_key_ring_copy_older_than_the_destruction_loses_the_destroyed_key_on_restore(  # type: ignore[no-untyped-def]
        source, make_settings: Callable[..., Settings], tmp_path: Path, clock: FrozenClock) -> None:
    """GIVEN a key-material copy of the key ring taken before a destruction (against the advice in
    docs/backup.md) put in the new data directory, WHEN the old backup is restored, THEN the ledger
    replay destroys that dossier's key in it again and the report says so."""
    settings, svc, doomed, _, _ = source
    dossier_id = svc.records.get_dossier("t", doomed).dossier_id
    take_backup(settings, svc.vault.store, tmp_path / "bk", access=svc.access, who=OPERATOR, clock=clock)
    target = make_settings(data_dir=tmp_path / "restored")
    target.data_dir.mkdir()
    src = sqlite3.connect(settings.dossier_keyring)
    old = sqlite3.connect(target.dossier_keyring)
    src.backup(old)
    src.close()
    old.close()
    _destroy(svc, doomed, settings.data_dir / "dispositions")

    new, result = _restore(target, tmp_path / "bk", clock)
    try:
        assert result["key_material"]["dossier_keyring"] == "kept"  # type: ignore[index]
        assert result["replayed"] == [doomed]
        assert any(doomed in n and "destroyed now" in n for n in result["notes"])  # type: ignore[union-attr]
        assert new.vault.dossier_keys is not None and not new.vault.dossier_keys.has(dossier_id)
        assert result["inventory"]["ok"] and result["audit"]["ok"], result  # type: ignore[index]
    finally:
        new.close()
