"""The monthly report in every format (STA-01, STA-04): each one is produced, parses, and carries the figures.

The dossiers are the hand-checked set of ``tests/unit/retention/statistics_world.py``: October
2026 has 5 complaints received (3 收费), 3 closed, acceptance clocks 2 met / 1 missed.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pypdfium2
import pytest
from click.testing import CliRunner

from records.model import Registration
from records.settings import Settings
from retention.reports import render
from retention.statistics import MonthlyReport, monthly_report
from tests.unit.retention.statistics_world import BEIJING, build
from web.bootstrap import Services, build_services, init_archive
from web.cli.app import main


@pytest.fixture
def october(services: Services, clock: Any) -> MonthlyReport:
    build(services)
    return monthly_report(services.records, "2026-10", actor="test", tz=BEIJING, now=clock.now)


def _pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_csv_is_one_long_table_with_raw_keys(october: MonthlyReport) -> None:
    text = render(october, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["section", "key", "measure", "value"]
    value = {(r["section"], r["key"], r["measure"]): r["value"] for r in rows}
    assert value[("summary", "received", "value")] == "5"
    assert value[("previous", "received", "value")] == "2"
    assert value[("category", "收费", "count")] == "3" and value[("category", "收费", "share")] == "0.6"
    assert value[("channel", "letter", "count")] == "2"
    assert value[("compliance", "acceptance", "met")] == "2" and value[("compliance", "acceptance", "missed")] == "1"
    assert value[("handling", "closure", "median")] == "22.0"
    assert render(october, "csv", "en") == render(october, "csv", "zh")   # machine-readable whatever the language


def test_xlsx_has_a_sheet_per_section_numbers_and_a_bar_chart(october: MonthlyReport) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render(october, "xlsx")))
    assert wb.sheetnames == ["概况", "按类别", "按投诉渠道", "按被投诉人", "按承办部门", "办理结果（月末状态）",
                             "办理用时（自收件起，日）", "办理期限执行情况"]
    summary = {row[0]: row[1:] for row in wb["概况"].iter_rows(values_only=True) if row[0]}
    assert summary["收到投诉"] == (5, 2, 3)          # this month, previous month, change
    assert summary["办结"] == (3, 1, 2)
    category = [row for row in wb["按类别"].iter_rows(min_row=2, values_only=True)]
    assert category[0] == ("收费", 3, 0.6)
    compliance = {row[0]: row[1:5] for row in wb["办理期限执行情况"].iter_rows(min_row=2, values_only=True)}
    assert compliance["受理期限"] == (2, 1, 1, 1)
    # openpyxl does not read charts back: look for the native chart part in the package itself.
    parts = zipfile.ZipFile(io.BytesIO(render(october, "xlsx"))).namelist()
    assert any(p.startswith("xl/charts/chart") for p in parts)


def test_xlsx_in_english(october: MonthlyReport) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render(october, "xlsx", "en")))
    assert wb.sheetnames[:2] == ["Summary", "By category"]
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Received"] == 5


def test_pdf_carries_the_chinese_title_and_the_counts(october: MonthlyReport) -> None:
    data = render(october, "pdf")
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    assert "2026年10月投诉统计月报" in text
    assert "收到投诉 5 2 +3" in text          # summary row: this month, previous, change
    assert "收费 3 60.0%" in text


def test_html_is_self_contained_with_svg_charts(october: MonthlyReport) -> None:
    page = render(october, "html").decode()
    assert "<title>2026年10月投诉统计月报</title>" in page
    assert page.count("<svg") == 5 and "<script" not in page and "http" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "<td>收费</td><td>3</td><td>60.0%</td>" in page
    english = render(october, "html", "en").decode()
    assert "Monthly complaint statistics, 2026-10" in english and "<td>Received</td><td>5</td>" in english


def test_names_are_escaped_in_html(services: Services, clock: Any) -> None:
    services.records.register_complaint("test", Registration(
        matter="x", complainant="y", category="<script>alert(1)</script>",
        received_at=datetime(2026, 10, 20, 9, tzinfo=BEIJING)))
    page = render(monthly_report(services.records, "2026-10", actor="t", tz=BEIJING, now=clock.now), "html").decode()
    assert "<script>" not in page and "&lt;script&gt;" in page


# ---------------------------------------------------------------------- the command line
@pytest.fixture
def archive(make_settings: Callable[..., Settings], clock: Any) -> Settings:
    """An embedded archive holding the October set (the command runs on the real clock: 2026-10 is past)."""
    settings = make_settings()
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    try:
        build(svc)
    finally:
        svc.close()
    return settings


@pytest.mark.parametrize("fmt", ["html", "pdf", "csv", "xlsx"])
def test_command_writes_each_format(archive: Settings, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"oct.{fmt}"
    result = CliRunner().invoke(main, ["--data-dir", str(archive.data_dir), "report", "monthly", "2026-10",
                                       "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    data = out.read_bytes()
    if fmt == "pdf":
        assert "2026年10月投诉统计月报" in _pdf_text(data)
    elif fmt == "xlsx":
        assert openpyxl.load_workbook(io.BytesIO(data))["按类别"]["B2"].value == 3
    elif fmt == "csv":
        assert "summary,received,value,5" in data.decode("utf-8-sig")
    else:
        assert "<td>收到投诉</td><td>5</td>" in data.decode()


def test_command_in_english_to_stdout(archive: Settings) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(archive.data_dir), "report", "monthly", "2026-10",
                                       "--lang", "en", "-o", "-"])
    assert result.exit_code == 0 and "Monthly complaint statistics, 2026-10" in result.output


@pytest.mark.parametrize("month", ["2026-13", "10/2026", "2999-01"])
def test_bad_month_is_one_line_and_exit_4(archive: Settings, month: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "web.cli", "--data-dir", str(archive.data_dir), "report", "monthly",
                           month, "-o", "/dev/null"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and month in lines[0] and ("YYYY-MM" in lines[0] or "future" in lines[0])
