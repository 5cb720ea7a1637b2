"""`dossier report weekly|persons|register` (STA-03, STA-10, STA-14; the register 登记簿 of issue #10).

The archive holds the hand-checked September-October 2026 set of
``tests/unit/retention/statistics_world.py``; the commands run on the real clock, after it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from records.access.identity import Identity, Role
from records.settings import Settings
from tests.unit.retention.statistics_world import build
from web.bootstrap import build_services, init_archive
from web.cli.app import main

PASSWORD = "correct horse 1"


@pytest.fixture
def archive(make_settings: Callable[..., Settings], clock: Any) -> Settings:
    settings = make_settings()
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        build(svc)
        setup = Identity.operator("test-setup")
        svc.access.add_user(setup, "handler_a", Role.HANDLER, departments=["A"], password=PASSWORD)
        svc.access.add_user(setup, "manager_b", Role.MANAGER, departments=["B"], password=PASSWORD)
    finally:
        svc.close()
    return settings


def _run(settings: Settings, *args: str, who: str | None = None) -> Result:
    sign_in = ["--as", who, "--password-stdin"] if who else []
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *sign_in, "report", *args],
                              input=PASSWORD + "\n" if who else None)


def test_weekly_report_of_an_iso_week(archive: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the October set
    WHEN `dossier report weekly 2026-W42 --format csv` runs
    THEN weekly-2026-W42.csv holds the week's figures (2 received) and the week before."""
    out = tmp_path / "w.csv"
    r = _run(archive, "weekly", "2026-W42", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert ["summary", "received", "value", "2"] in rows and ["previous", "month", "value", "2026-W41"] in rows
    monkeypatch.chdir(tmp_path)
    default = _run(archive, "weekly", "2026-W42", "--format", "xlsx")
    assert default.exit_code == 0 and default.output.strip() == "weekly-2026-W42.xlsx"
    assert (tmp_path / "weekly-2026-W42.xlsx").exists()


@pytest.mark.parametrize("week", ["2026-W54", "2026-44", "2999-W01"])
def test_bad_week_exits_4(archive: Settings, week: str) -> None:
    r = _run(archive, "weekly", week, "-o", "/dev/null")
    assert r.exit_code == 4 and week in r.output


def test_persons_report_flags_and_chinese_csv(archive: Settings, tmp_path: Path) -> None:
    """GIVEN October: 甲律师事务所 complained about twice, 乙 once; the complainant 投诉人 five times (O6 withdrawn)
    WHEN `dossier report persons 2026-10 --format csv --csv-labels` runs
    THEN the CSV has Chinese column names, 甲律师事务所 with 2 (no flag yet) and 投诉人 as a
    repeat complainant; the XLSX has a sheet per table."""
    out = tmp_path / "p.csv"
    r = _run(archive, "persons", "2026-10", "--format", "csv", "--csv-labels", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0] == ["分组", "名称", "类型/类别", "件数", "提示", "卷号"]
    assert rows[1][:5] == ["被投诉人", "甲律师事务所", "", "2", ""]
    assert any(row[:2] == ["重复投诉人", "投诉人"] and row[3] == "5" for row in rows)   # O1..O5; O6 was withdrawn
    xlsx = tmp_path / "p.xlsx"
    assert _run(archive, "persons", "2026-10", "-o", str(xlsx)).exit_code == 0
    assert {"被投诉人", "重复投诉人", "相同投诉", "集体投诉", "说明"} <= set(openpyxl.load_workbook(xlsx).sheetnames)


def test_register_command_writes_xlsx(archive: Settings, tmp_path: Path) -> None:
    out = tmp_path / "reg.xlsx"
    r = _run(archive, "register", "--from", "2026-09-01", "--to", "2026-10-31", "-o", str(out))
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out)["登记簿"]
    assert ws.freeze_panes == "A2" and ws["A1"].value == "序号" and ws["B1"].value == "卷号"
    assert ws.max_row == 1 + 9                        # S1-S3 and O1-O6: every number given, withdrawn ones too
    assert ws["C2"].value == datetime(2026, 9, 14) and ws["C2"].number_format == "yyyy-mm-dd"
    csv_out = tmp_path / "reg.csv"
    assert _run(archive, "register", "--from", "2026-10-01", "--to", "2026-10-31", "-o", str(csv_out)).exit_code == 0
    assert csv_out.read_text("utf-8-sig").startswith("seq,archive_number,received_on")


def test_scope_and_export_rights_under_as(archive: Settings, tmp_path: Path) -> None:
    """GIVEN a handler (may list, may not export) and a manager of department B
    WHEN each writes a report file with --as
    THEN the handler is refused (exit 11) and the manager's register holds department B only."""
    r = _run(archive, "register", "--from", "2026-10-01", "--to", "2026-10-31", "-o", str(tmp_path / "h.xlsx"),
             who="handler_a")
    assert r.exit_code == 11 and not (tmp_path / "h.xlsx").exists()
    assert _run(archive, "weekly", "2026-W42", "-o", str(tmp_path / "h.html"), who="handler_a").exit_code == 11
    out = tmp_path / "b.csv"
    assert _run(archive, "register", "--from", "2026-10-01", "--to", "2026-10-31", "-o", str(out),
                who="manager_b").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert {row["department"] for row in rows} == {"B"} and len(rows) == 2


def test_register_range_that_ends_before_it_starts(archive: Settings) -> None:
    r = _run(archive, "register", "--from", "2026-10-31", "--to", "2026-10-01", "-o", "/dev/null")
    assert r.exit_code == 4 and "ends before it starts" in r.output
