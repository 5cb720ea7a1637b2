"""Mainland China working-day calendar, and SLA profiles from settings (TL-01..TL-04 adapter).

Official holidays and make-up working days (调休) come from ``chinese_calendar``, which the
State Council's yearly notice feeds; it knows a fixed span of years (2004–2026 in 1.11) and
raises outside it. Beyond that span the calendar falls back to weekends plus the ``holidays``
package's CN holidays, which has no make-up working days, and logs a warning once per year.

Per year, the first source that has it answers (:meth:`ChinaWorkingCalendar.source_of`):

1. ``office`` — the official calendar the office loaded (``dossier calendar import``, stored in
   ``calendar_days``; see :mod:`records.office_calendar`), held in memory and replaced after an
   import, so a clock still asks a dict about each day;
2. ``package`` — ``chinese_calendar`` has the year;
3. ``fallback`` — weekends plus ``holidays``' CN holidays, no 调休 make-up days.

The ``[deadlines] extra_holidays / extra_workdays`` settings override all three.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import chinese_calendar

from records.deadlines import ClockRule, DayUnit, SlaProfile
from records.errors import ConfigurationError

if TYPE_CHECKING:
    from records.settings import ClockSettings, DeadlineSettings, SlaProfileSettings

log = logging.getLogger(__name__)

_SATURDAY = 5


class CalendarSource(StrEnum):
    """Where a year's working days come from (first that has the year wins)."""

    OFFICE = "office"        # loaded by the office from the State Council's notice (dossier calendar import)
    PACKAGE = "package"      # the chinesecalendar package knows the year
    FALLBACK = "fallback"    # weekends + the holidays package's CN holidays, without 调休 make-up days


def package_has_year(year: int) -> bool:
    """Whether ``chinese_calendar`` has official data for ``year`` (asked, not hard-coded: an upgrade adds years)."""
    return _package_has_year(year)


@functools.lru_cache(maxsize=256)
def _package_has_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class ChinaWorkingCalendar:
    """Working days (工作日) of mainland China, with local overrides.

    Args:
        extra_holidays: days that are not working days whatever the official calendar says
            (e.g. a local holiday, or next year's holidays before the package knows them).
        extra_workdays: days that are working days whatever it says (e.g. a 调休 Saturday of a
            year the package does not cover yet).

    Raises:
        ValueError: a day is both an extra holiday and an extra working day.
    """

    def __init__(self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> None:
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        both = self._extra_holidays & self._extra_workdays
        if both:
            raise ValueError(f"days both extra holiday and extra working day: {sorted(d.isoformat() for d in both)}")
        self._warned_years: set[int] = set()
        self._lock = threading.Lock()
        # A day's status never changes for one calendar, and chinese_calendar rescans its tables on
        # every call (95% of a monthly report's time). Dict reads/writes are atomic under the GIL.
        self._known: dict[date, bool] = {}
        # The office's years: year → the days its notice lists (True: working, e.g. a 调休 Saturday;
        # False: a holiday). Replaced whole, never mutated, so a reader sees one version or the other.
        self._office: Mapping[int, Mapping[date, bool]] = {}

    # ------------------------------------------------------------------ the office's years
    def use_office_years(self, years: Mapping[int, Mapping[date, bool]]) -> None:
        """Answer ``years`` from the office's data from now on (all office years, replacing the previous set).

        Called when the services are built and after ``dossier calendar import`` in the same
        process; the memo of answered days is dropped so no day keeps an answer from before.
        """
        self._office = {year: dict(days) for year, days in years.items()}
        self._known = {}

    def source_of(self, year: int) -> CalendarSource:
        """Which source answers for ``year``: the office's data, the package's, or the fallback."""
        if year in self._office:
            return CalendarSource.OFFICE
        return CalendarSource.PACKAGE if package_has_year(year) else CalendarSource.FALLBACK

    def years_without_data(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` that have no official data (neither the office's nor the package's), sorted."""
        return sorted({y for y in years if self.source_of(y) is CalendarSource.FALLBACK})

    @classmethod
    def from_settings(cls, deadlines: DeadlineSettings) -> ChinaWorkingCalendar:
        """The calendar configured by ``[deadlines] extra_holidays / extra_workdays``.

        Raises:
            ConfigurationError: a date is not ISO ``YYYY-MM-DD``, or a day is in both lists.
        """
        extra_holidays = _iso_dates(deadlines.extra_holidays, "deadlines.extra_holidays")
        extra_workdays = _iso_dates(deadlines.extra_workdays, "deadlines.extra_workdays")
        try:
            return cls(extra_holidays, extra_workdays)
        except ValueError as exc:
            raise ConfigurationError(f"invalid setting deadlines: {exc}") from exc

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day in mainland China (overrides first)."""
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._look_up(day)
        return known

    def _look_up(self, day: date) -> bool:
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        office = self._office.get(day.year)
        if office is not None:
            # The notice lists holidays and make-up days; every other day follows the weekday rule.
            listed = office.get(day)
            return listed if listed is not None else day.weekday() < _SATURDAY
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            # Raised for years without official data; asking it first (rather than
            # hard-coding its span) picks up new years as soon as the package is upgraded.
            pass
        self._warn_fallback(day.year)
        return day.weekday() < _SATURDAY and day not in _cn_public_holidays(day.year)

    def _warn_fallback(self, year: int) -> None:
        with self._lock:
            if year in self._warned_years:
                return
            self._warned_years.add(year)
        log.warning(
            "no official working-day data for %d in chinese_calendar; using weekends and the holidays "
            "package's CN holidays, without make-up working days (调休). Load the year's official "
            "calendar with `dossier calendar import FILE`, or upgrade chinesecalendar.",
            year,
        )


@functools.lru_cache(maxsize=64)
def _cn_public_holidays(year: int) -> frozenset[date]:
    # Materialised once per year: a holidays object fills itself lazily and is not thread-safe.
    # Outside its own span (1950–2100 in 0.109) it is empty, leaving weekends only.
    # Imported here, not at the top: only years chinese_calendar does not know need it, and the
    # package costs every `dossier` command that opens the archive tens of ms (issue #9 item 7).
    import holidays

    return frozenset(holidays.country_holidays("CN", years=year))


def _iso_dates(values: Iterable[str], setting: str) -> list[date]:
    out: list[date] = []
    for value in values:
        try:
            out.append(date.fromisoformat(value))
        except ValueError:
            raise ConfigurationError(f"invalid setting {setting}: {value!r} is not a date YYYY-MM-DD") from None
    return out


def clock_rule_from_settings(clock: ClockSettings) -> ClockRule:
    """One ``[deadlines.profiles.<name>.<clock>]`` table as a :class:`ClockRule`."""
    return ClockRule(clock.days, DayUnit(clock.unit))


def profile_from_settings(name: str, profile: SlaProfileSettings) -> SlaProfile:
    """One configured SLA profile as the pure :class:`SlaProfile` (TL-01, TL-02, TL-04)."""
    return SlaProfile(
        name=name,
        acceptance=clock_rule_from_settings(profile.acceptance),
        conclusion=clock_rule_from_settings(profile.conclusion),
        reply=clock_rule_from_settings(profile.reply),
    )


def profiles_from_settings(deadlines: DeadlineSettings) -> dict[str, SlaProfile]:
    """Every configured SLA profile by name (by default only 'legal-aid')."""
    return {name: profile_from_settings(name, p) for name, p in deadlines.profiles.items()}
