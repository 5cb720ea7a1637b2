"""Monthly statistics (STA-01, STA-07, STA-09): exact figures for a hand-checked set of dossiers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from records.deadlines import ClockName
from records.model import DossierState
from retention.statistics import (
    NONE_KEY, OTHER_KEY, Compliance, Count, Handling, InvalidPeriodError, MonthlyReport, monthly_report, parse_month,
)
from tests.unit.retention.statistics_world import BEIJING, build
from web.bootstrap import Services


def _report(services: Services, clock: Any, month: str = "2026-10", **kw: Any) -> MonthlyReport:
    return monthly_report(services.records, month, actor="test", tz=BEIJING, now=clock.now, **kw)


@pytest.fixture
def october(services: Services, clock: Any) -> MonthlyReport:
    build(services)
    return _report(services, clock)


def test_headline_counts_received_and_handled_in_the_month(october: MonthlyReport) -> None:
    s = october.summary
    assert (s.month, s.received, s.withdrawn) == ("2026-10", 5, 1)
    assert (s.decided, s.not_accepted, s.replied, s.closed) == (1, 1, 2, 3)
    # Still open on 10-31: O2, O3, O4; O3's acceptance is overdue.
    assert (s.open_at_end, s.overdue_at_end) == (3, 1)
    assert s.median_days_to_closure == 22.0        # closures took 3, 22 and 28 days
    assert s.compliance_rate == pytest.approx(4 / 6)
    assert october.as_of == date(2026, 10, 31) and october.complete


def test_previous_month_for_comparison(october: MonthlyReport) -> None:
    p = october.previous
    assert (p.month, p.received, p.withdrawn, p.decided, p.not_accepted, p.replied, p.closed) == \
        ("2026-09", 2, 1, 1, 1, 0, 1)
    assert (p.open_at_end, p.overdue_at_end, p.median_days_to_closure, p.compliance_rate) == (1, 0, 8.0, 1.0)


def test_breakdowns_with_shares_of_all_received(october: MonthlyReport) -> None:
    assert october.by_category == (Count("收费", 3, 0.6), Count(NONE_KEY, 1, 0.2), Count("态度", 1, 0.2))
    assert [(c.key, c.count) for c in october.by_channel] == [("letter", 2), ("email", 1), ("phone", 1), ("visit", 1)]
    assert [(c.key, c.count) for c in october.by_respondent] == [("甲律师事务所", 2), (NONE_KEY, 1), ("丙", 1), ("乙", 1)]
    assert [(c.key, c.count) for c in october.by_department] == [("A", 3), ("B", 2)]
    assert [(c.key, c.count) for c in october.by_outcome] == [("closed", 2), ("registered", 2), ("accepted", 1)]


def test_respondents_beyond_top_n_are_summed_as_other(services: Services, clock: Any) -> None:
    build(services)
    report = _report(services, clock, top=2)
    assert [(c.key, c.count) for c in report.by_respondent] == [("甲律师事务所", 2), (NONE_KEY, 1), (OTHER_KEY, 2)]


def test_handling_time_from_receipt(october: MonthlyReport) -> None:
    decision, reply, closure = october.handling
    assert decision == Handling("decision", 2, 6.5, 6.5, 10.9)       # O1 12 days, O5 refused after 1
    assert reply == Handling("reply", 2, 23.5, 23.5, 24.7)          # S1 25 days, O1 22
    assert closure.count == 3 and closure.median == 22.0 and closure.p90 == 26.8
    assert closure.mean == pytest.approx(53 / 3)


def test_deadline_compliance_per_clock(october: MonthlyReport) -> None:
    acceptance, conclusion, reply = october.compliance
    assert acceptance == Compliance(ClockName.ACCEPTANCE, met=2, missed=1, open_overdue=1, open_in_time=1)
    assert conclusion == Compliance(ClockName.CONCLUSION, met=1, missed=0, open_overdue=0, open_in_time=1)
    assert reply == Compliance(ClockName.REPLY, met=1, missed=1, open_overdue=0, open_in_time=0)
    assert acceptance.rate == pytest.approx(2 / 3) and reply.rate == 0.5


def test_a_past_month_does_not_change_as_dossiers_move_on(services: Services, clock: Any) -> None:
    numbers = build(services)
    before = _report(services, clock)
    clock.now += timedelta(days=30)
    services.records.advance("test", numbers["O3"], DossierState.ACCEPTED, on=date(2026, 11, 20))
    after = monthly_report(services.records, "2026-10", actor="test", tz=BEIJING, now=clock.now)
    assert after.summary == before.summary and after.compliance == before.compliance


def test_running_month_is_as_of_today(services: Services, clock: Any) -> None:
    build(services)
    report = _report(services, clock, month="2026-11")
    assert report.as_of == date(2026, 11, 3) and not report.complete
    assert report.summary.received == 1
    # O4's acceptance fell due on 11-02 and is still open on 11-03.
    acceptance = report.compliance[0]
    assert (acceptance.open_overdue, acceptance.open_in_time) == (2, 1)   # O3, O4 overdue; N1 in time


def test_department_scope_counts_only_those_departments(services: Services, clock: Any) -> None:
    build(services)
    report = _report(services, clock, departments=frozenset({"B"}))
    assert report.summary.received == 2 and report.departments == frozenset({"B"})
    assert [(c.key, c.count) for c in report.by_category] == [("态度", 1), ("收费", 1)]


def test_empty_month_has_no_shares_and_no_rates(services: Services, clock: Any) -> None:
    report = _report(services, clock, month="2026-06")
    assert report.summary.received == 0 and report.by_category == ()
    assert report.summary.compliance_rate is None and report.handling[0] == Handling("decision", 0, None, None, None)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "202610", "Oct 2026", "2026-00", ""])
def test_malformed_month_is_refused(bad: str) -> None:
    with pytest.raises(InvalidPeriodError, match="YYYY-MM"):
        parse_month(bad)


def test_future_month_is_refused(services: Services, clock: Any) -> None:
    with pytest.raises(InvalidPeriodError, match="future"):
        _report(services, clock, month="2026-12")
