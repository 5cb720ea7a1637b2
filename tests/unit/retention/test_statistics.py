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
    # 4 clocks met, 2 missed, and O3's acceptance open past its deadline: 4 of 7 on time.
    assert s.compliance_rate == pytest.approx(4 / 7)
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
    decision, refusal, reply, closure = october.handling
    assert decision == Handling("decision", 1, 12.0, 12.0, 12.0)     # O1 decided after 12 days
    assert refusal == Handling("not_accepted", 1, 1.0, 1.0, 1.0)     # O5 refused after 1
    assert reply == Handling("reply", 2, 23.5, 23.5, 24.7)          # S1 25 days, O1 22
    assert closure.count == 3 and closure.median == 22.0 and closure.p90 == 26.8
    assert closure.mean == pytest.approx(53 / 3)


def test_deadline_compliance_per_clock(october: MonthlyReport) -> None:
    acceptance, conclusion, reply = october.compliance
    assert acceptance == Compliance(ClockName.ACCEPTANCE, met=2, missed=1, open_overdue=1, open_in_time=1)
    assert conclusion == Compliance(ClockName.CONCLUSION, met=1, missed=0, open_overdue=0, open_in_time=1)
    assert reply == Compliance(ClockName.REPLY, met=1, missed=1, open_overdue=0, open_in_time=0)
    assert acceptance.rate == pytest.approx(2 / 4) and reply.rate == 0.5   # O3's open overdue clock is not on time


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


# ---------------------------------------------------------------------- fixes found in acceptance testing
def test_open_overdue_cases_count_as_not_on_time(services: Services, clock: Any) -> None:
    """GIVEN one complaint accepted on time and one left unaccepted past its 5 working days
    WHEN the month is reported
    THEN the on-time rate is 1 of 2, not 1 of 1: the case lying overdue is not on time."""
    from tests.unit.retention.statistics_world import _register, _steps
    from records.model import Channel

    a = _register(services, date(2026, 10, 12), category="收费", channel=Channel.LETTER, respondent="甲", department="A")
    _steps(services, a, (DossierState.ACCEPTED, date(2026, 10, 13)))
    _register(services, date(2026, 10, 12), category="收费", channel=Channel.LETTER, respondent="乙", department="A")
    report = _report(services, clock)
    acceptance = report.compliance[0]
    assert (acceptance.met, acceptance.missed, acceptance.open_overdue) == (1, 0, 1)
    assert acceptance.rate == 0.5 and report.summary.compliance_rate == 0.5


def test_summary_and_handling_table_count_the_same_decisions(services: Services, clock: Any) -> None:
    """GIVEN an October in which the only step taken was a refusal (不予受理)
    WHEN October is reported
    THEN the summary's decisions and the handling table's decisions agree (0), and so do the
    refusals (1): the refusal used to be a "decision" in the table but not in the summary."""
    from tests.unit.retention.statistics_world import _register, _steps
    from records.model import Channel

    n = _register(services, date(2026, 10, 12), category="收费", channel=Channel.LETTER, respondent="甲", department="A")
    _steps(services, n, (DossierState.NOT_ACCEPTED, date(2026, 10, 13)))
    report = _report(services, clock)
    steps = {h.step: h.count for h in report.handling}
    assert (report.summary.decided, steps["decision"]) == (0, 0)
    assert (report.summary.not_accepted, steps["not_accepted"]) == (1, 1)


def test_summary_counts_are_the_handling_table_counts(services: Services, clock: Any) -> None:
    """GIVEN the hand-checked September-October set
    WHEN each month is reported
    THEN every step the summary counts is the count of the same step in the handling table."""
    build(services)
    for month in ("2026-09", "2026-10", "2026-11"):
        r = _report(services, clock, month=month)
        steps = {h.step: h.count for h in r.handling}
        s = r.summary
        assert (s.decided, s.not_accepted, s.replied, s.closed) == \
            (steps["decision"], steps["not_accepted"], steps["reply"], steps["closure"])


# ---------------------------------------------------------------------- weekly (STA-03)
def test_weekly_report_covers_monday_to_sunday(services: Services, clock: Any) -> None:
    """GIVEN the October set (O3 received Mon 10-12, O5 Tue 10-13, O6 Thu 10-15 withdrawn; O1 accepted 10-09)
    WHEN ISO week 2026-W42 (10-12..10-18) is reported
    THEN it counts the week's receipts and steps, and compares with week 41."""
    from retention.statistics import parse_week, weekly_report

    build(services)
    r = weekly_report(services.records, "2026-W42", actor="test", tz=BEIJING, now=clock.now)
    assert (r.kind, r.period, r.first, r.last, r.complete) == ("week", "2026-W42", date(2026, 10, 12),
                                                                date(2026, 10, 18), True)
    s = r.summary
    assert (s.received, s.withdrawn, s.not_accepted, s.closed) == (2, 1, 1, 2)   # O3, O5; O6; O5; S1 10-12, O5 10-16
    assert s.decided == 0 and s.open_at_end == 3                                 # O1, O2, O3 open on 10-18
    assert r.previous.period == "2026-W41" and r.previous.received == 2          # O1 (10-08), O2 (10-09)
    assert parse_week("2026w44") == "2026-W44"


def test_weekly_report_of_the_running_week_is_as_of_today(services: Services, clock: Any) -> None:
    from retention.statistics import weekly_report

    build(services)
    r = weekly_report(services.records, "2026-W45", actor="test", tz=BEIJING, now=clock.now)   # Mon 11-02..
    assert r.as_of == date(2026, 11, 3) and not r.complete and r.summary.received == 1


@pytest.mark.parametrize("bad", ["2026-W54", "2026-W00", "2026-44", "2026-W1", "W44", "", "0000-W01"])
def test_malformed_week_is_refused(bad: str) -> None:
    from retention.statistics import parse_week

    with pytest.raises(InvalidPeriodError, match="week"):
        parse_week(bad)


def test_future_week_is_refused(services: Services, clock: Any) -> None:
    from retention.statistics import weekly_report

    with pytest.raises(InvalidPeriodError, match="future"):
        weekly_report(services.records, "2026-W46", actor="test", tz=BEIJING, now=clock.now)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "202610", "Oct 2026", "2026-00", ""])
def test_malformed_month_is_refused(bad: str) -> None:
    with pytest.raises(InvalidPeriodError, match="YYYY-MM"):
        parse_month(bad)


def test_future_month_is_refused(services: Services, clock: Any) -> None:
    with pytest.raises(InvalidPeriodError, match="future"):
        _report(services, clock, month="2026-12")


def test_a_disposal_does_not_change_a_past_months_figures(services: Services, clock: Any) -> None:
    """GIVEN October's report, and then S1 and O1 (closed, respondent 甲律师事务所) sealed and disposed of
    WHEN October is reported again
    THEN every figure is the same: the tombstone kept respondent, category, department, channel and
    dates, so the respondents do not turn into 「(未填写)」."""
    numbers = build(services)
    before = _report(services, clock)
    for name in ("S1", "O1"):
        services.records.advance("test", numbers[name], DossierState.SEALED, on=date(2026, 11, 2))
        services.records.destroy_data_keys("test", numbers[name])
        services.records.tombstone_dossier("test", numbers[name], note="R-TEST d-0001")
    tomb = services.records.get_dossier("test", numbers["O1"])
    assert tomb.state is DossierState.DISPOSED and tomb.registration.complainant is None
    after = _report(services, clock)
    assert after.by_respondent == before.by_respondent and ("甲律师事务所", 2) in [(c.key, c.count) for c in after.by_respondent]
    assert (after.summary, after.previous, after.by_category, after.by_channel, after.by_department, after.handling,
            after.compliance) == (before.summary, before.previous, before.by_category, before.by_channel,
                                  before.by_department, before.handling, before.compliance)
