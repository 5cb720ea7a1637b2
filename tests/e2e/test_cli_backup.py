"""`dossier backup DEST [--json]` and `dossier restore SRC [--json]` as an operator scripts them (issue #12 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from records.settings import Settings, load_settings
from retention.disposal import execute_disposition
from tests.integration.retention.test_shredding import sealed_dossier
from web.bootstrap import build_services
from web.cli import main


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


@pytest.fixture
def archive(settings: Settings) -> tuple[Path, str, str]:
    """An initialised archive with a sealed dossier to destroy and one to keep."""
    assert run(settings.data_dir, "init").exit_code == 0
    svc = build_services(settings)
    try:
        doomed, _ = sealed_dossier(svc, "销毁词甲", complainant="钱灭迹")
        kept, _ = sealed_dossier(svc, "保留词乙", complainant="孙留存")
    finally:
        svc.close()
    return settings.data_dir, doomed, kept


def test_backup_destroy_restore_from_the_command_line(archive: tuple[Path, str, str], tmp_path: Path) -> None:
    """GIVEN `dossier backup DEST --json` of a running archive, WHEN a dossier is destroyed and the
    backup restored with `DOSSIER_DATA_DIR=<empty> dossier restore SRC --json`, THEN the restore
    reports the dossier destroyed again, a clean inventory and a verified access log, and
    `dossier show` / `search` of the restored archive find nothing of it."""
    data_dir, doomed, kept = archive
    r = run(data_dir, "backup", str(tmp_path / "bk"), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["ok"] and out["catalogue"] == "sqlite" and out["objects"] == out["objects_copied"] > 0
    assert (tmp_path / "bk" / "manifest.json").exists()
    svc = build_services(load_settings(data_dir=data_dir))
    try:
        execute_disposition(svc.retention.disposition_desk.tools, disposition_id="e2e-1", numbers=[doomed],
                            action="destroy", actor="archivist", approvals=[], rules={doomed: "R-1Y"},
                            out_dir=data_dir / "dispositions")
    finally:
        svc.close()

    restored = tmp_path / "restored"
    r = CliRunner().invoke(main, ["restore", str(tmp_path / "bk"), "--json"], env={"DOSSIER_DATA_DIR": str(restored)})
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["replayed"] == [doomed] and out["ok"]
    assert out["inventory"]["ok"] and out["audit"]["ok"] and out["audit"]["checked"] > 0
    shown = json.loads(run(restored, "show", doomed, "--json").stdout)
    assert shown["state"] == "disposed" and "钱灭迹" not in json.dumps(shown, ensure_ascii=False)
    assert "孙留存" in json.dumps(json.loads(run(restored, "show", kept, "--json").stdout), ensure_ascii=False)
    assert doomed not in run(restored, "search", "销毁词甲").stdout
    assert kept in run(restored, "search", "保留词乙").stdout


def test_restore_refuses_what_it_must_not_overwrite_or_cannot_trust(archive: tuple[Path, str, str],
                                                                     tmp_path: Path) -> None:
    """GIVEN a finished backup, THEN backing up into it again exits 5, restoring it into a data
    directory holding an archive exits 5, and restoring a directory that is no finished backup exits 6,
    each with a one-line message saying what to do."""
    data_dir, _, _ = archive
    assert run(data_dir, "backup", str(tmp_path / "bk")).exit_code == 0
    again = run(data_dir, "backup", str(tmp_path / "bk"))
    assert again.exit_code == 5 and "choose a new directory" in again.output
    into_archive = run(data_dir, "restore", str(tmp_path / "bk"))
    assert into_archive.exit_code == 5 and "empty data directory" in into_archive.output
    (tmp_path / "half").mkdir()
    half = run(tmp_path / "other", "restore", str(tmp_path / "half"))
    assert half.exit_code == 6 and "unfinished" in half.output
