"""STA-14: the monthly per-person report counts complaints with an earlier related dossier."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from openpyxl import load_workbook

from records.model import DossierState, Registration
from retention.persons import REPEAT_LOOKBACK_MONTHS, persons_report, render_persons
from tests.unit.retention.statistics_world import BEIJING
from web.bootstrap import Services

FACTS = "王律师收取代理费八千元后长期不联系，开庭前一天才告知未提交证据材料，导致仲裁请求被驳回，请求退费。"


def _complaint(services: Services, month: int, day: int, *, complainant: str | None, respondent: str | None,
               facts: str | None = None, matter: str = "投诉律师") -> str:
    return services.records.register_complaint("test", Registration(
        matter=matter, received_at=datetime(2026, month, day, 9, tzinfo=BEIJING), complainant=complainant,
        respondent=respondent, facts_and_reasons=facts, department="A", anonymous=complainant is None)).archive_number


def test_complaints_with_an_earlier_related_dossier_are_counted(services: Services, clock: Any) -> None:
    """GIVEN September: 张三 against 甲所, and an anonymous complaint with FACTS; October: 张三 again
    against 甲所 (other words), 李四 with FACTS re-punctuated, 王五 against 甲所 (a different
    complainant), and two bare matters 「投诉律师」 with no facts
    WHEN October is counted
    THEN exactly 张三's and 李四's October complaints count as having an earlier related one, and
    the XLSX's About sheet carries the count."""
    _complaint(services, 9, 3, complainant="张三", respondent="甲所", facts="收费过高")
    _complaint(services, 9, 4, complainant=None, respondent="乙所", facts=FACTS)
    again = _complaint(services, 10, 5, complainant="张三 ", respondent="甲所", facts="再次投诉收费问题")
    copy = _complaint(services, 10, 6, complainant="李四", respondent="丙所", facts=FACTS.replace("，", " "))
    _complaint(services, 10, 7, complainant="王五", respondent="甲所", facts="态度恶劣")
    _complaint(services, 10, 8, complainant="赵六", respondent="丁所")
    _complaint(services, 10, 9, complainant="钱七", respondent="戊所")

    report = persons_report(services.records, "2026-10", actor="test", tz=BEIJING, now=clock.now)

    assert report.repeats == (again, copy)
    about = load_workbook(io.BytesIO(render_persons(report, "xlsx")))["说明"]
    assert ["有在先相关投诉的件数", 2] in [[c.value for c in row] for row in about.iter_rows()]


def test_the_csv_carries_the_repeat_count_and_numbers(services: Services, clock: Any) -> None:
    """GIVEN September: 张三 against 甲所; October: 张三 again against 甲所
    WHEN October is counted and written as CSV (raw keys and Chinese labels)
    THEN a `repeats` row carries the count 1 and the October number."""
    _complaint(services, 9, 3, complainant="张三", respondent="甲所")
    again = _complaint(services, 10, 5, complainant="张三", respondent="甲所")

    report = persons_report(services.records, "2026-10", actor="test", tz=BEIJING, now=clock.now)

    raw = list(csv.reader(io.StringIO(render_persons(report, "csv").decode("utf-8-sig"))))
    assert ["repeats", "", "", "1", "", again] in raw
    labelled = list(csv.reader(io.StringIO(render_persons(report, "csv", labelled=True).decode("utf-8-sig"))))
    assert ["有在先相关投诉的件数", "", "", "1", "", again] in labelled


def test_earlier_dossiers_beyond_the_look_back_or_withdrawn_do_not_make_a_repeat(
        services: Services, clock: Any) -> None:
    """GIVEN August 2025 (14 months before): 张三 against 甲所; September 2026: 李四 against 乙所,
    then withdrawn (void); October 2026: 张三 against 甲所 again, 李四 against 乙所 again
    WHEN October 2026 is counted
    THEN neither counts as a repeat: the first earlier one is older than REPEAT_LOOKBACK_MONTHS,
    the second was withdrawn (as the dossier page's panel also leaves them out)."""
    services.records.register_complaint("test", Registration(
        matter="投诉律师", received_at=datetime(2025, 8, 5, 9, tzinfo=BEIJING), complainant="张三", respondent="甲所",
        department="A"))
    void = _complaint(services, 9, 3, complainant="李四", respondent="乙所")
    services.records.advance("test", void, DossierState.VOID, note="withdrawn")
    _complaint(services, 10, 5, complainant="张三", respondent="甲所")
    _complaint(services, 10, 6, complainant="李四", respondent="乙所")

    report = persons_report(services.records, "2026-10", actor="test", tz=BEIJING, now=clock.now)

    assert REPEAT_LOOKBACK_MONTHS == 12 and report.repeats == ()
