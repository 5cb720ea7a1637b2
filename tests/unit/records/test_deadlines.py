"""Statutory time limits in working and calendar days, and overdue on any date (TL-01..TL-04)."""

from __future__ import annotations

from datetime import date

import pytest

from records.workdays import ChinaWorkingCalendar
from records.deadlines import (
    LEGAL_AID, ClockName, ClockRule, ClockState, ClockStatus, DayUnit, DossierDates, clocks, due_date,
    is_overdue,
)

CAL = ChinaWorkingCalendar()
FIVE_WORKING = ClockRule(5, DayUnit.WORKING)
FORTY_FIVE = ClockRule(45, DayUnit.CALENDAR)


class _NoWorkingDays:
    def is_working_day(self, day: date) -> bool:
        return False


def _by_name(statuses: tuple[ClockStatus, ...]) -> dict[ClockName, ClockStatus]:
    return {s.clock: s for s in statuses}


def test_legal_aid_is_the_statutory_profile() -> None:
    """Accept in 5 working days, conclude in 45 days, reply in 5 working days (TL-01, TL-02, TL-04)."""
    assert LEGAL_AID.name == "legal-aid"
    assert (LEGAL_AID.acceptance, LEGAL_AID.conclusion, LEGAL_AID.reply) == (FIVE_WORKING, FORTY_FIVE, FIVE_WORKING)


def test_acceptance_skips_the_national_day_holiday() -> None:
    """Received Thu 25 Sep 2025: 26 Sep, Sun 28 Sep (调休), 29, 30 Sep, then 9 Oct (TL-01)."""
    assert due_date(date(2025, 9, 25), FIVE_WORKING, CAL) == date(2025, 10, 9)


def test_acceptance_skips_the_spring_festival_2026() -> None:
    """Received Thu 12 Feb 2026: 13, Sat 14 (调休), then 24, 25, 26 Feb after the holiday (TL-01)."""
    assert due_date(date(2026, 2, 12), FIVE_WORKING, CAL) == date(2026, 2, 26)


def test_receipt_on_a_friday_does_not_count_the_friday_or_the_weekend() -> None:
    """Received Fri 6 Nov 2026: the count starts next day and skips the weekend (TL-01)."""
    assert due_date(date(2026, 11, 6), FIVE_WORKING, CAL) == date(2026, 11, 13)


def test_receipt_on_the_friday_before_national_day_counts_the_make_up_sunday() -> None:
    """Received Fri 26 Sep 2025: Sun 28 Sep, 29, 30 Sep, 9, 10 Oct (TL-01)."""
    assert due_date(date(2025, 9, 26), FIVE_WORKING, CAL) == date(2025, 10, 10)


def test_receipt_on_a_holiday_counts_from_the_first_working_day_after() -> None:
    """Received 1 Oct 2025 (国庆): 9, 10, Sat 11 (调休), 13, 14 Oct (TL-01)."""
    assert due_date(date(2025, 10, 1), FIVE_WORKING, CAL) == date(2025, 10, 14)


def test_make_up_saturday_counts_as_a_working_day() -> None:
    """One working day after Fri 10 Oct 2025 is Sat 11 Oct, a 调休 working day (TL-01, TL-04)."""
    assert due_date(date(2025, 10, 10), ClockRule(1, DayUnit.WORKING), CAL) == date(2025, 10, 11)


def test_zero_working_days_is_due_on_the_start_day() -> None:
    """A 0-day limit is due the day it starts, even on a rest day."""
    assert due_date(date(2026, 11, 7), ClockRule(0, DayUnit.WORKING), CAL) == date(2026, 11, 7)


def test_conclusion_is_45_calendar_days_after_acceptance() -> None:
    """Accepted Mon 3 Mar 2025: conclude by Thu 17 Apr 2025 (TL-02)."""
    assert due_date(date(2025, 3, 3), FORTY_FIVE, CAL) == date(2025, 4, 17)


def test_recorded_extensions_add_up_and_the_end_moves_off_a_holiday() -> None:
    """45 days + extensions of 30 and 15 end Sun 1 Jun 2025, moved past 端午 to Tue 3 Jun (TL-02, TL-03)."""
    dates = DossierDates(date(2025, 2, 26), accepted_on=date(2025, 3, 3), accepted=True, extension_days=30 + 15)
    conclusion = _by_name(clocks(LEGAL_AID, dates, CAL, date(2025, 5, 1)))[ClockName.CONCLUSION]
    assert conclusion.due_on == date(2025, 6, 3)
    assert conclusion.state is ClockState.RUNNING


def test_calendar_deadline_on_a_holiday_moves_to_the_next_working_day() -> None:
    """Accepted 17 Aug 2025: day 45 is 1 Oct (国庆), so the period ends 9 Oct (TL-02)."""
    assert due_date(date(2025, 8, 17), FORTY_FIVE, CAL) == date(2025, 10, 9)


def test_calendar_deadline_on_a_make_up_saturday_stays() -> None:
    """Accepted 27 Aug 2025: day 45 is Sat 11 Oct, a 调休 working day, so it ends then (TL-02)."""
    assert due_date(date(2025, 8, 27), FORTY_FIVE, CAL) == date(2025, 10, 11)


def test_not_overdue_on_the_due_date_and_overdue_the_day_after() -> None:
    """Received Mon 2 Nov 2026, due 9 Nov: due today on the 9th, overdue on the 10th (TL-01)."""
    dates = DossierDates(date(2026, 11, 2))
    on_due = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 11, 9)))[ClockName.ACCEPTANCE]
    after = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 11, 10)))[ClockName.ACCEPTANCE]
    assert (on_due.due_on, on_due.state, on_due.overdue, on_due.days_late) == (
        date(2026, 11, 9), ClockState.DUE_TODAY, False, 0)
    assert (after.state, after.overdue, after.days_late) == (ClockState.OVERDUE, True, 1)
    assert not is_overdue(LEGAL_AID, dates, CAL, date(2026, 11, 9))
    assert is_overdue(LEGAL_AID, dates, CAL, date(2026, 11, 10))


def test_a_clock_completed_late_is_missed_with_days_late() -> None:
    """Accepted 12 Nov 2026 against a 9 Nov deadline: MISSED, 3 days late (TL-01)."""
    dates = DossierDates(date(2026, 11, 2), accepted_on=date(2026, 11, 12), accepted=True)
    acceptance = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 11, 20)))[ClockName.ACCEPTANCE]
    assert (acceptance.state, acceptance.overdue, acceptance.days_late) == (ClockState.MISSED, True, 3)
    assert acceptance.completed_on == date(2026, 11, 12)
    # Late but done: no clock is open past its due date any more.
    assert not is_overdue(LEGAL_AID, dates, CAL, date(2026, 11, 20))


def test_a_clock_completed_in_time_is_met() -> None:
    """Accepted on the due date itself: MET, not overdue (TL-01)."""
    dates = DossierDates(date(2026, 11, 2), accepted_on=date(2026, 11, 9), accepted=True)
    acceptance = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 12, 1)))[ClockName.ACCEPTANCE]
    assert (acceptance.state, acceptance.overdue, acceptance.days_late) == (ClockState.MET, False, 0)


def test_a_not_accepted_dossier_has_no_conclusion_or_reply_clock() -> None:
    """A refusal stops the acceptance clock; conclusion and reply never start (TL-01, TL-02, TL-04)."""
    dates = DossierDates(date(2026, 11, 2), accepted_on=date(2026, 11, 4), accepted=False)
    by_name = _by_name(clocks(LEGAL_AID, dates, CAL, date(2027, 6, 1)))
    assert by_name[ClockName.ACCEPTANCE].state is ClockState.MET
    for name in (ClockName.CONCLUSION, ClockName.REPLY):
        assert by_name[name] == ClockStatus(name, ClockState.NOT_APPLICABLE)
    assert not is_overdue(LEGAL_AID, dates, CAL, date(2027, 6, 1))


def test_whole_lifecycle_gives_three_clocks_in_order() -> None:
    """Accepted, decided and replied in time: all three clocks MET, in TL order (TL-01..TL-04)."""
    dates = DossierDates(
        date(2025, 9, 25), accepted_on=date(2025, 9, 30), accepted=True,
        decided_on=date(2025, 11, 10), replied_on=date(2025, 11, 14),
    )
    statuses = clocks(LEGAL_AID, dates, CAL, date(2025, 12, 31))
    assert [s.clock for s in statuses] == [ClockName.ACCEPTANCE, ClockName.CONCLUSION, ClockName.REPLY]
    assert [s.state for s in statuses] == [ClockState.MET] * 3
    # Conclusion: 30 Sep + 45 = Fri 14 Nov. Reply: five working days after Mon 10 Nov = Mon 17 Nov.
    assert [s.due_on for s in statuses] == [date(2025, 10, 9), date(2025, 11, 14), date(2025, 11, 17)]


def test_overdue_can_be_computed_for_a_past_date() -> None:
    """Events recorded after the as-of date are ignored, so history reads as it was then (TL-01)."""
    dates = DossierDates(date(2026, 11, 2), accepted_on=date(2026, 11, 12), accepted=True)
    then = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 11, 11)))
    assert then[ClockName.ACCEPTANCE].state is ClockState.OVERDUE
    assert then[ClockName.ACCEPTANCE].completed_on is None
    assert then[ClockName.CONCLUSION].state is ClockState.NOT_STARTED
    assert is_overdue(LEGAL_AID, dates, CAL, date(2026, 11, 11))


def test_nothing_runs_before_receipt() -> None:
    """Before the receipt date every clock is NOT_STARTED."""
    statuses = clocks(LEGAL_AID, DossierDates(date(2026, 11, 2)), CAL, date(2026, 11, 1))
    assert {s.state for s in statuses} == {ClockState.NOT_STARTED}


def test_reply_clock_runs_from_the_decision() -> None:
    """Decided Fri 6 Nov 2026: reply due Fri 13 Nov, running on the 10th (TL-04)."""
    dates = DossierDates(date(2026, 10, 9), accepted_on=date(2026, 10, 12), accepted=True, decided_on=date(2026, 11, 6))
    reply = _by_name(clocks(LEGAL_AID, dates, CAL, date(2026, 11, 10)))[ClockName.REPLY]
    assert (reply.started_on, reply.due_on, reply.state) == (date(2026, 11, 6), date(2026, 11, 13), ClockState.RUNNING)


def test_inconsistent_dates_and_rules_are_refused() -> None:
    """A decision needs its date, and neither extensions nor limits can be negative (TL-03)."""
    with pytest.raises(ValueError):
        DossierDates(date(2026, 11, 2), accepted_on=date(2026, 11, 3))
    with pytest.raises(ValueError):
        DossierDates(date(2026, 11, 2), extension_days=-1)
    with pytest.raises(ValueError):
        ClockRule(-1, DayUnit.WORKING)
    with pytest.raises(ValueError):
        due_date(date(2026, 11, 2), FORTY_FIVE, CAL, extra_days=-1)


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    """A misconfigured calendar fails fast instead of looping for ever."""
    with pytest.raises(ValueError, match="no working day"):
        due_date(date(2026, 11, 2), FIVE_WORKING, _NoWorkingDays())
