"""Per-person monthly counts and the rules' thresholds (STA-10, STA-14, TL-29, CAT-GR)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from records.model import DossierState, Registration, RespondentType
from retention.persons import persons_report, respondent_flag
from tests.unit.retention.statistics_world import BEIJING
from web.bootstrap import Services


def _complaint(services: Services, day: int, *, respondent: str | None, complainant: str | None = "张三",
               category: str = "收费", month: int = 10, **kw: Any) -> str:
    return services.records.register_complaint("test", Registration(
        matter="投诉", received_at=datetime(2026, month, day, 9, tzinfo=BEIJING), complainant=complainant,
        respondent=respondent, category=category, department="A", **kw)).archive_number


def _report(services: Services, clock: Any, month: str = "2026-10") -> Any:
    return persons_report(services.records, month, actor="test", tz=BEIJING, now=clock.now)


@pytest.mark.parametrize(("count", "flag"), [(1, ""), (2, ""), (3, "criticism_fine_200"), (4, "fine_300"),
                                             (5, "fine_300"), (6, "dismissal_if_serious")])
def test_thresholds_of_sta_10(count: int, flag: str) -> None:
    """3 or more in a month (含3): criticism and 200; 4 or more: 300; more than 5: dismissal if serious."""
    assert respondent_flag(count) == flag


def test_respondent_counts_per_month_with_flags(services: Services, clock: Any) -> None:
    """GIVEN four October complaints against officer 王律师 (one spelled with a trailing space),
    one of them withdrawn, one more in September, and two against 乙所
    WHEN October is counted
    THEN 王律师 has 3 (the withdrawn and the September ones do not count) and is flagged; 乙所 has 2."""
    for day in (3, 10):
        _complaint(services, day, respondent="王律师", respondent_type=RespondentType.LEGAL_AID_PERSONNEL)
    _complaint(services, 12, respondent="王律师 ", complainant="李四")
    void = _complaint(services, 14, respondent="王律师")
    services.records.advance("test", void, DossierState.VOID, on=date(2026, 10, 15), note="撤回")
    _complaint(services, 20, respondent="王律师", month=9)
    _complaint(services, 5, respondent="乙所", complainant="李四")
    _complaint(services, 6, respondent="乙所", complainant="王五")
    _complaint(services, 7, respondent=None)
    r = _report(services, clock)
    assert r.received == 6
    assert [(p.name, p.count, p.respondent_type, p.flag) for p in r.respondents] == [
        ("王律师", 3, "legal_aid_personnel", "criticism_fine_200"), ("乙所", 2, "", "")]
    assert [p.name for p in r.flagged_respondents] == ["王律师"]


def test_repeat_complainants_and_identical_complaints(services: Services, clock: Any) -> None:
    """GIVEN 张三 complaining twice about 甲所, and 甲所's fees (收费) complained about by three different people
    WHEN October is counted
    THEN 张三 is a repeat complainant naming the same respondent again, and 甲所/收费 from 3
    different complainants is grade B (TL-29); 甲所/态度 from one person is not listed."""
    _complaint(services, 3, respondent="甲所", complainant="张三")
    _complaint(services, 4, respondent="甲所", complainant="张三")
    _complaint(services, 5, respondent="甲所", complainant="李四")
    _complaint(services, 6, respondent="甲所", complainant="王五", category="态度")
    _complaint(services, 7, respondent="甲所", complainant=None, anonymous=True)
    r = _report(services, clock)
    assert [(c.name, c.count, c.same_respondent, c.flag) for c in r.complainants] == [("张三", 2, True, "repeat")]
    assert [(x.respondent, x.category, x.complainants, len(x.numbers), x.grade_b) for x in r.identical] == [
        ("甲所", "收费", 3, 4, True)]    # 张三, 李四 and an anonymous complainant


def test_collective_complaints_by_headcount(services: Services, clock: Any) -> None:
    big = _complaint(services, 3, respondent="甲所", collective_count=12)
    small = _complaint(services, 4, respondent="乙所", collective_count=3)
    _complaint(services, 5, respondent="丙所", collective_count=2)
    r = _report(services, clock)
    assert [(c.number, c.headcount, c.grade) for c in r.collective] == [(big, 12, "A"), (small, 3, "B")]
