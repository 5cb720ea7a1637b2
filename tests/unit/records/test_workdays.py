"""ChinaWorkingCalendar: official holidays, 调休 make-up days, overrides and the fallback (TL-01, TL-04)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from records.workdays import ChinaWorkingCalendar, profile_from_settings, profiles_from_settings
from records.deadlines import LEGAL_AID, ClockRule, DayUnit, SlaProfile
from records.errors import ConfigurationError
from records.settings import ClockSettings, DeadlineSettings, SlaProfileSettings


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_national_day_2025_is_off_and_its_make_up_days_are_working() -> None:
    """国庆 2025: 1–8 Oct off; Sun 28 Sep and Sat 11 Oct are make-up working days (TL-01)."""
    cal = ChinaWorkingCalendar()
    assert not any(cal.is_working_day(d) for d in _days(date(2025, 10, 1), date(2025, 10, 8)))
    assert cal.is_working_day(date(2025, 9, 28))   # a Sunday
    assert cal.is_working_day(date(2025, 10, 11))  # a Saturday
    assert cal.is_working_day(date(2025, 10, 9))


def test_spring_festival_2026_is_off_and_its_make_up_saturdays_are_working() -> None:
    """春节 2026: 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up working days (TL-01)."""
    cal = ChinaWorkingCalendar()
    assert not any(cal.is_working_day(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 2, 28))
    assert cal.is_working_day(date(2026, 2, 24))


def test_ordinary_weekend_is_not_a_working_day() -> None:
    """An ordinary Saturday and Sunday are rest days; the Monday after is a working day."""
    cal = ChinaWorkingCalendar()
    assert not cal.is_working_day(date(2026, 11, 7))
    assert not cal.is_working_day(date(2026, 11, 8))
    assert cal.is_working_day(date(2026, 11, 9))


def test_extra_holidays_and_workdays_override_the_official_calendar() -> None:
    """Local overrides win over chinese_calendar in both directions (TL-01)."""
    cal = ChinaWorkingCalendar(extra_holidays=[date(2025, 10, 9)], extra_workdays=[date(2025, 10, 1)])
    assert not cal.is_working_day(date(2025, 10, 9))
    assert cal.is_working_day(date(2025, 10, 1))


def test_a_day_cannot_be_both_extra_holiday_and_extra_workday() -> None:
    """Contradictory overrides are refused rather than resolved silently."""
    with pytest.raises(ValueError, match="2025-10-09"):
        ChinaWorkingCalendar(extra_holidays=[date(2025, 10, 9)], extra_workdays=[date(2025, 10, 9)])


def test_year_beyond_chinese_calendar_falls_back_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    """Past chinese_calendar's data, weekends and CN public holidays are rest days; one warning per year."""
    cal = ChinaWorkingCalendar()
    with caplog.at_level(logging.WARNING, logger="records.workdays"):
        assert not cal.is_working_day(date(2027, 1, 1))    # New Year's Day (a Friday)
        assert not cal.is_working_day(date(2027, 1, 2))    # Saturday
        assert cal.is_working_day(date(2027, 1, 4))        # Monday
        assert not cal.is_working_day(date(2027, 10, 1))   # National Day
        assert not cal.is_working_day(date(2028, 1, 1))
    warnings = [r for r in caplog.records if r.name == "records.workdays" and r.levelno == logging.WARNING]
    assert [r.args for r in warnings] == [(2027,), (2028,)]
    assert "调休" in warnings[0].getMessage()


def test_overrides_cover_a_year_without_official_data_silently(caplog: pytest.LogCaptureFixture) -> None:
    """A configured make-up day beyond the package's data is honoured without falling back."""
    cal = ChinaWorkingCalendar(extra_workdays=[date(2027, 1, 2)])
    with caplog.at_level(logging.WARNING, logger="records.workdays"):
        assert cal.is_working_day(date(2027, 1, 2))
    assert caplog.records == []


def test_from_settings_reads_iso_dates() -> None:
    """[deadlines] extra_holidays / extra_workdays are ISO dates applied as overrides."""
    cal = ChinaWorkingCalendar.from_settings(
        DeadlineSettings(extra_holidays=["2025-10-09"], extra_workdays=["2025-10-12"])
    )
    assert not cal.is_working_day(date(2025, 10, 9))
    assert cal.is_working_day(date(2025, 10, 12))


@pytest.mark.parametrize(
    ("holidays", "workdays", "fragment"),
    [(["9 Oct 2025"], [], "deadlines.extra_holidays"), ([], ["2025-10-09", "x"], "deadlines.extra_workdays"),
     (["2025-10-09"], ["2025-10-09"], "both")],
)
def test_from_settings_refuses_bad_dates(holidays: list[str], workdays: list[str], fragment: str) -> None:
    """A malformed or contradictory override is a configuration error naming the setting."""
    with pytest.raises(ConfigurationError, match=fragment):
        ChinaWorkingCalendar.from_settings(DeadlineSettings(extra_holidays=holidays, extra_workdays=workdays))


def test_default_settings_give_the_legal_aid_profile() -> None:
    """Out of the box the only SLA profile is the legal-aid one (TL-01, TL-02, TL-04)."""
    assert profiles_from_settings(DeadlineSettings()) == {"legal-aid": LEGAL_AID}


def test_a_configured_profile_becomes_an_sla_profile() -> None:
    """A custom profile from settings keeps its days and units."""
    configured = SlaProfileSettings(
        acceptance=ClockSettings(days=7, unit="calendar"),
        conclusion=ClockSettings(days=30, unit="working"),
        reply=ClockSettings(days=3, unit="working"),
    )
    assert profile_from_settings("petition", configured) == SlaProfile(
        "petition", ClockRule(7, DayUnit.CALENDAR), ClockRule(30, DayUnit.WORKING), ClockRule(3, DayUnit.WORKING)
    )
