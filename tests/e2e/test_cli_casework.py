"""The console's side of the lifecycle fixes (issue #10): close, reopen, reclassify, seal --check, list --overdue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli import main


@pytest.fixture
def archive(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "init"])
    assert result.exit_code == 0, result.output
    return settings.data_dir


def run(archive: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(archive), *args])


def _refused_dossier(archive: Path, tmp_path: Path) -> str:
    """Received on 2 Nov 2026 (in the past whatever day the suite runs), not accepted, letter filed."""
    number = run(archive, "new", "--complainant", "张三", "--matter", "拖延", "--received-at", "2026-11-02 09:00",
                 "--department", "法援科").output.strip()
    letter = tmp_path / "投诉信.txt"
    letter.write_text("投诉书\n援助律师拖延办理。", encoding="utf-8")
    assert run(archive, "add", number, str(letter), "--kind", "complaint_letter").exit_code == 0
    assert run(archive, "advance", number, "not_accepted", "--on", "2026-11-04", "--note", "不属于投诉受理范围").exit_code == 0
    return number


def test_close_names_what_is_missing_and_seal_check_fails_until_complete(archive: Path, tmp_path: Path) -> None:
    """GIVEN a refused complaint without its non-acceptance notice WHEN it is closed THEN exit 5 naming the
    notice; `seal --check` exits 5 too; with the notice filed it closes and `seal --check` exits 0."""
    number = _refused_dossier(archive, tmp_path)
    r = run(archive, "advance", number, "closed")
    assert r.exit_code == 5 and "acceptance_decision" in r.output, r.output
    notice = tmp_path / "不予受理通知书.txt"
    notice.write_text("不予受理通知书\n经审查，不予受理。", encoding="utf-8")
    assert run(archive, "add", number, str(notice), "--kind", "non_acceptance_notice").exit_code == 0
    assert run(archive, "advance", number, "closed").exit_code == 0
    assert run(archive, "seal", number, "--check").exit_code == 0


def test_seal_check_exits_non_zero_while_materials_are_missing(archive: Path, tmp_path: Path) -> None:
    """`seal --check` lists the missing materials and exits 5, as `seal` would refuse."""
    number = _refused_dossier(archive, tmp_path)
    assert run(archive, "advance", number, "closed", "--override-reason", "通知书另卷保存").exit_code == 0
    r = run(archive, "seal", number, "--check")
    assert r.exit_code == 5 and "missing: acceptance_decision" in r.output


def test_reopen_and_reclassify_from_the_console(archive: Path, tmp_path: Path) -> None:
    """`reopen` takes a closed dossier back to its step; `reclassify` corrects a kind and keeps the rule."""
    number = _refused_dossier(archive, tmp_path)
    assert run(archive, "advance", number, "closed", "--override-reason", "通知书另卷保存").exit_code == 0
    r = run(archive, "reopen", number, "--reason", "补充不予受理通知书")
    assert r.exit_code == 0 and r.output.strip() == f"{number} not_accepted"
    assert run(archive, "reopen", number, "--reason", "again").exit_code == 5
    r = run(archive, "reclassify", f"{number}-01", "evidence", "--reason", "是证据材料")
    assert r.exit_code == 0 and "evidence" in r.output, r.output
    shown = json.loads(run(archive, "show", number, "--json").output)
    doc = shown["documents"][0]
    assert (doc["kind"], doc["kind_set_reason"]) == ("evidence", "是证据材料")


def test_list_overdue_json_names_the_deadline_and_days_and_leaves_void_out_everywhere(archive: Path) -> None:
    """GIVEN one complaint never accepted and one withdrawn THEN `list --overdue --json` names the acceptance
    deadline and its days overdue for the first, and neither `list` nor `show` calls the withdrawn one overdue."""
    late = run(archive, "new", "--complainant", "李四", "--matter", "m", "--received-at", "2026-11-02 09:00").output.strip()
    void = run(archive, "new", "--complainant", "王五", "--matter", "m", "--received-at", "2026-11-02 09:00").output.strip()
    assert run(archive, "withdraw", void, "--reason", "撤回").exit_code == 0
    rows = json.loads(run(archive, "list", "--overdue", "--json").output)
    assert [r["archive_number"] for r in rows] == [late]
    (clock,) = rows[0]["overdue_clocks"]
    assert clock["clock"] == "acceptance" and clock["days_late"] > 0 and clock["due_on"] == "2026-11-09"
    listed = {r["archive_number"]: r["overdue"] for r in json.loads(run(archive, "list", "--json").output)}
    assert listed == {late: True, void: False}
    shown = json.loads(run(archive, "show", void, "--json").output)
    assert not any(c["overdue"] for c in shown["deadlines"])
