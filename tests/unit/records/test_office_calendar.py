"""The office's official calendar of a year beyond the package (TL-01, TL-04 count working days).

``chinesecalendar`` 1.11 stops at 2026; a complaint received in late December 2026 has its
acceptance deadline in January 2027. The office loads 2027's notice as a file; without it 2027 is
counted by the fallback (weekends and public holidays, no 调休 make-up days).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from records.deadlines import LEGAL_AID, ClockName, DossierDates, clocks, due_date
from records.office_calendar import InvalidCalendarError, OfficeYear, parse_calendar, read_calendar_file
from records.workdays import CalendarSource, ChinaWorkingCalendar, package_has_year

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "calendars" / "2027.example.json"
needs_2027_unknown = pytest.mark.skipif(package_has_year(2027), reason="chinesecalendar now carries 2027 itself")


def _office(year: OfficeYear) -> ChinaWorkingCalendar:
    cal = ChinaWorkingCalendar()
    cal.use_office_years({year.year: {d.day: d.working for d in year.days}})
    return cal


def test_the_example_file_is_valid_and_marked_as_an_example() -> None:
    """GIVEN docs/calendars/2027.example.json WHEN read THEN it is 2027's, and says it is not official."""
    year = read_calendar_file(EXAMPLE)
    assert year.year == 2027 and year.holidays and year.workdays
    assert "EXAMPLE" in EXAMPLE.read_text(encoding="utf-8") and "not official" in (year.source or "")


def test_office_calendar_makes_a_make_up_sunday_a_working_day_in_a_deadline() -> None:
    """GIVEN 2027's calendar with Sunday 2027-01-31 a make-up working day (春节调休)
    WHEN a complaint received on Friday 2027-01-29 gets its 5-working-day acceptance deadline (TL-01)
    THEN Sunday counts: the deadline is Thursday 2027-02-04."""
    cal = _office(read_calendar_file(EXAMPLE))
    assert cal.is_working_day(date(2027, 1, 31))
    assert due_date(date(2027, 1, 29), LEGAL_AID.acceptance, cal) == date(2027, 2, 4)


def test_office_calendar_makes_a_holiday_a_rest_day_in_a_deadline() -> None:
    """GIVEN 2027's calendar with 春节 from 2027-02-05 to 2027-02-13
    WHEN a complaint received on Wednesday 2027-02-03 is clocked (TL-01)
    THEN the holiday weekdays (Feb 8–12) do not count: accepted by Thursday 2027-02-18."""
    cal = _office(read_calendar_file(EXAMPLE))
    assert not cal.is_working_day(date(2027, 2, 11))
    acceptance = clocks(LEGAL_AID, DossierDates(received_on=date(2027, 2, 3)), cal, date(2027, 2, 4))[0]
    assert acceptance.clock is ClockName.ACCEPTANCE and acceptance.due_on == date(2027, 2, 18)


@needs_2027_unknown
def test_without_the_office_calendar_2027_uses_the_fallback_and_says_so() -> None:
    """GIVEN no office data for 2027 (and a package that stops at 2026)
    WHEN the same complaints are clocked THEN 2027 is counted without make-up days, and source_of says fallback."""
    cal = ChinaWorkingCalendar()
    assert cal.source_of(2027) is CalendarSource.FALLBACK
    assert cal.source_of(2026) is CalendarSource.PACKAGE
    assert cal.years_without_data([2026, 2027, 2027]) == [2027]
    assert not cal.is_working_day(date(2027, 1, 31))          # no 调休 Sunday
    assert due_date(date(2027, 1, 29), LEGAL_AID.acceptance, cal) == date(2027, 2, 11)
    office = _office(read_calendar_file(EXAMPLE))
    assert office.source_of(2027) is CalendarSource.OFFICE and office.years_without_data([2027]) == []


def test_office_data_replaces_answers_already_given() -> None:
    """GIVEN a calendar that already answered for a 2027 day WHEN the office's year is loaded THEN it answers anew."""
    cal = ChinaWorkingCalendar()
    assert not cal.is_working_day(date(2027, 1, 31))  # a Sunday
    cal.use_office_years({2027: {date(2027, 1, 31): True}})
    assert cal.is_working_day(date(2027, 1, 31))


def test_settings_overrides_still_win_over_the_office() -> None:
    """GIVEN an extra holiday in the settings on a day the office lists as a make-up day THEN the setting wins."""
    cal = ChinaWorkingCalendar(extra_holidays=[date(2027, 1, 31)])
    cal.use_office_years({2027: {date(2027, 1, 31): True}})
    assert not cal.is_working_day(date(2027, 1, 31))


def test_csv_format() -> None:
    """GIVEN the CSV form date,working,name WHEN parsed THEN holidays and make-up days come out named."""
    year = parse_calendar("2027.csv", "date,working,name\n2027-01-01,0,元旦\n2027-01-31,1,春节调休\n".encode())
    assert year.year == 2027
    assert [(d.day, d.working, d.name) for d in year.days] == [
        (date(2027, 1, 1), False, "元旦"), (date(2027, 1, 31), True, "春节调休")]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("y.json", '{"year": 2027, "holidays": {"元旦": ["2028-01-01"]}}',
     "y.json: field 'holidays.元旦'[0]: 2028-01-01 is not in 2027"),
    ("y.json", '{"year": 2027, "holidays": {"春节": ["2027-02-06"]}, "workdays": ["2027-02-06"]}',
     "2027-02-06 is listed both a holiday and a working day"),
    ("y.json", '{"year": 2027, "holidays": {"元旦": ["2027-1-1"]}}', "'2027-1-1' is not a date YYYY-MM-DD"),
    ("y.json", '{"year": 2027, "holidays": {"元旦": ["2027-01-03..2027-01-01"]}}', "ends before it starts"),
    ("y.json", '{"year": 2027, "holidays": {"元旦": ["2027-01-01"]}, "workdays": ["2027-02-03"]}',
     "2027-02-03 is a weekday"),
    ("y.json", '{"year": 2027, "holiday": {}}', "field 'holiday': unknown field"),
    ("y.json", '{"year": 2027,\n "holidays": {"元旦": ["2027-01-01"],}}', "y.json: line 2 column"),
    ("y.json", '{"year": "2027", "holidays": {"元旦": ["2027-01-01"]}}', "field 'year'"),
    ("y.json", '{"year": 2027, "holidays": {}}', "field 'holidays'"),
    ("y.csv", "date,working,name\n2027-01-01,0,元旦\n2027-01-01,0,元旦\n", "y.csv: line 3: 2027-01-01 is listed twice"),
    ("y.csv", "date,working,name\n2027-01-01,0,元旦\n2027-10-01,x,国庆节\n", "y.csv: line 3: working must be 1"),
    ("y.csv", "date,working,name\n2027-01-01,0,元旦\n2028-01-01,0,元旦\n", "y.csv: line 3: 2028-01-01 is not in 2027"),
    ("y.csv", "date,working,name\n2027-01-01,0,\n", "y.csv: line 2: holiday 2027-01-01 has no name"),
    ("y.csv", "day,off\n2027-01-01,0\n", "y.csv: line 1: the header must be"),
    ("y.txt", "whatever", "name the file *.json or *.csv"),
])
def test_invalid_files_are_refused_with_the_place_to_fix(name: str, content: str, message: str) -> None:
    """GIVEN a calendar file with one mistake WHEN parsed THEN it is refused, naming the line or field."""
    with pytest.raises(InvalidCalendarError) as caught:
        parse_calendar(name, content.encode())
    assert message in str(caught.value)
