"""The office's official working-day calendars: the file format, its validation, storage and the desk.

Why: TL-01 and TL-04 count working days (工作日), and which days those are is set each year by
the State Council's notice on public holidays (国务院办公厅关于××年部分节假日安排的通知), with
make-up working days (调休) on weekends. ``chinesecalendar`` carries these notices only up to the
year it was released for (2026 in 1.11); for a later year the office loads the notice itself:
``dossier calendar import FILE`` (see docs/calendars/README.md). A loaded year is answered from
the office's data before the package's (:class:`records.workdays.ChinaWorkingCalendar`).

File formats (one year per file; the extension decides, ``.json`` or ``.csv``):

JSON::

    {"year": 2027,
     "source": "国办发明电〔2026〕×号",                       (optional, free text)
     "holidays": {"元旦": ["2027-01-01"], "春节": ["2027-02-05..2027-02-11"], …},
     "workdays": {"春节调休": ["2027-02-14"], …}}              (or a plain list of dates)

``A..B`` is every day from A to B inclusive. CSV (UTF-8, a header line)::

    date,working,name
    2027-01-01,0,元旦
    2027-02-14,1,春节调休

Validation is strict, because a wrong day silently moves every statutory deadline across it:
every date is an ISO date of the file's one year; no day is listed twice (in particular never
both a holiday and a working day); a listed working day is a Saturday or Sunday (a weekday is
one already: listing it is a typo); a holiday has a name; at least one holiday. An error names
the file and the line (CSV) or the field (JSON) to fix.

Importing a year replaces that year's rows (``calendar_days``) in one transaction. Both commands
are decided by the policy (MANAGE_CALENDAR: administrators, archivists, the console) and leave
one access-log entry each. Which years the open deadlines need and which of them lack official
data (the dashboard's banner) is not logged: it names no dossier, only years.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from records.access.identity import Action, Identity, RequestContext
from records.access.service import AccessService
from records.clock import Clock
from records.db import UnitOfWork
from records.deadlines import ClockState
from records.errors import InvalidContentError, RecordsError
from records.model import OPEN_STATES
from records.service import RecordsService
from records.tables import CalendarDayRow
from records.workdays import CalendarSource, ChinaWorkingCalendar

__all__ = ["CalendarDay", "CalendarDesk", "ImportedYear", "InvalidCalendarError", "OfficeYear", "YearView",
           "parse_calendar"]

_NO_CONTEXT = RequestContext()
_SATURDAY = 5
_MAX_FILE_BYTES = 1 << 20
_TRUE = {"1", "true", "yes", "y", "是", "班", "上班"}
_FALSE = {"0", "false", "no", "n", "否", "休", "休息"}
# How far ahead of today an open clock can end: the longest statutory period (45 days, TL-02)
# plus generous extensions (TL-03 sets no maximum). Only beyond it are the dossiers themselves asked.
_HORIZON = timedelta(days=400)
_RUNNING = (ClockState.RUNNING, ClockState.DUE_TODAY, ClockState.OVERDUE)


class InvalidCalendarError(RecordsError, InvalidContentError, ValueError):
    """A calendar file cannot be imported; the message names the file, the line or field, and the fix."""

    code = "invalid_calendar"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day a notice lists: a holiday (not working) or a make-up working day (调休)."""

    day: date
    working: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OfficeYear:
    """A validated official calendar of one year, as read from a file."""

    year: int
    days: tuple[CalendarDay, ...]
    source: str | None = None

    @property
    def holidays(self) -> list[CalendarDay]:
        return [d for d in self.days if not d.working]

    @property
    def workdays(self) -> list[CalendarDay]:
        return [d for d in self.days if d.working]


@dataclass(frozen=True, slots=True)
class ImportedYear:
    """What an import did: the year, its counts, and how many rows of an earlier import it replaced."""

    year: int
    holidays: int
    workdays: int
    replaced: int


@dataclass(frozen=True, slots=True)
class YearView:
    """A year's calendar as deadlines use it (``dossier calendar show``)."""

    year: int
    source: CalendarSource
    holidays: list[CalendarDay] = field(default_factory=list)
    workdays: list[CalendarDay] = field(default_factory=list)
    imported_at: datetime | None = None
    imported_by: str | None = None


# ---------------------------------------------------------------------- the file
def parse_calendar(name: str, data: bytes) -> OfficeYear:
    """The calendar in file ``name`` (``.json`` or ``.csv``), validated.

    Raises:
        InvalidCalendarError: anything wrong, with the line (CSV) or field (JSON) and what to fix.
    """
    if len(data) > _MAX_FILE_BYTES:
        raise InvalidCalendarError(name, f"file too large ({len(data)} bytes); a year's calendar is a few KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidCalendarError(name, f"not UTF-8 text (byte {exc.start})") from None
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        return _from_json(name, text)
    if suffix == ".csv":
        return _from_csv(name, text)
    raise InvalidCalendarError(name, "unknown format: name the file *.json or *.csv (see docs/calendars/README.md)")


def read_calendar_file(path: Path) -> OfficeYear:
    """:func:`parse_calendar` of a file on disk.

    Raises:
        InvalidCalendarError: the file cannot be read, or is invalid.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidCalendarError(str(path), f"cannot read the file ({exc.strerror or exc})") from None
    return parse_calendar(str(path), data)


def _from_json(name: str, text: str) -> OfficeYear:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidCalendarError(f"{name}: line {exc.lineno} column {exc.colno}", f"not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise InvalidCalendarError(name, "the file must hold one JSON object with year, holidays and workdays")
    unknown = sorted(set(doc) - {"year", "source", "holidays", "workdays", "note", "example"})
    if unknown:
        raise InvalidCalendarError(f"{name}: field {unknown[0]!r}",
                                   "unknown field; expected year, source, holidays, workdays (and note)")
    year = doc.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        raise InvalidCalendarError(f"{name}: field 'year'", f"{year!r} is not a year (a number such as 2027)")
    source = doc.get("source")
    if source is not None and not isinstance(source, str):
        raise InvalidCalendarError(f"{name}: field 'source'", "must be text (the notice's number or title)")
    holidays = doc.get("holidays")
    if not isinstance(holidays, dict) or not holidays:
        raise InvalidCalendarError(f"{name}: field 'holidays'",
                                   'must be an object of named lists of dates, e.g. {"元旦": ["2027-01-01"]}')
    days: list[tuple[str, CalendarDay]] = []
    for holiday, values in holidays.items():
        if not str(holiday).strip():
            raise InvalidCalendarError(f"{name}: field 'holidays'", "a holiday has an empty name")
        where = f"{name}: field 'holidays.{holiday}'"
        days += [(w, CalendarDay(d, False, str(holiday).strip())) for w, d in _json_dates(where, values, year)]
    workdays = doc.get("workdays", [])
    if isinstance(workdays, list):
        days += [(w, CalendarDay(d, True, None)) for w, d in _json_dates(f"{name}: field 'workdays'", workdays, year)]
    elif isinstance(workdays, dict):
        for label, values in workdays.items():
            where = f"{name}: field 'workdays.{label}'"
            days += [(w, CalendarDay(d, True, str(label).strip() or None)) for w, d in _json_dates(where, values, year)]
    else:
        raise InvalidCalendarError(f"{name}: field 'workdays'", "must be a list of dates, or an object of named lists")
    return _checked(name, year, days, source.strip() if source else None)


def _json_dates(where: str, values: object, year: int) -> Iterable[tuple[str, date]]:
    if not isinstance(values, list):
        raise InvalidCalendarError(where, 'must be a list of dates "YYYY-MM-DD" or ranges "YYYY-MM-DD..YYYY-MM-DD"')
    for i, value in enumerate(values):
        at = f"{where}[{i}]"
        if not isinstance(value, str):
            raise InvalidCalendarError(at, f"{value!r} is not a date \"YYYY-MM-DD\"")
        first, sep, last = value.partition("..")
        start = _iso(at, first, year)
        end = _iso(at, last, year) if sep else start
        if end < start:
            raise InvalidCalendarError(at, f"range {value!r} ends before it starts")
        day = start
        while day <= end:
            yield at, day
            day += timedelta(days=1)


def _from_csv(name: str, text: str) -> OfficeYear:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:3]] != ["date", "working", "name"]:
        raise InvalidCalendarError(f"{name}: line 1", "the header must be: date,working,name")
    rows: list[tuple[str, str, str, str]] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or len(row) > 3:
            raise InvalidCalendarError(f"{name}: line {line}", f"expected 3 fields date,working,name, found {len(row)}")
        rows.append((f"{name}: line {line}", row[0].strip(), row[1].strip(), row[2].strip() if len(row) > 2 else ""))
    if not rows:
        raise InvalidCalendarError(name, "no days listed")
    # The year is the first row's; every other row must agree (one year per file).
    year = _iso(rows[0][0], rows[0][1], None).year
    days: list[tuple[str, CalendarDay]] = []
    for where, value, working, label in rows:
        day = _iso(where, value, year)
        flag = working.lower()
        if flag in _TRUE:
            days.append((where, CalendarDay(day, True, label or None)))
        elif flag in _FALSE:
            if not label:
                raise InvalidCalendarError(where, f"holiday {value} has no name (third field, e.g. 春节)")
            days.append((where, CalendarDay(day, False, label)))
        else:
            raise InvalidCalendarError(where, f"working must be 1 (make-up working day) or 0 (holiday), not {working!r}")
    return _checked(name, year, days, None)


def _iso(where: str, value: str, year: int | None) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidCalendarError(where, f"{value!r} is not a date YYYY-MM-DD") from None
    if year is not None and day.year != year:
        raise InvalidCalendarError(where, f"{day.isoformat()} is not in {year}: one file holds one year")
    return day


def _checked(name: str, year: int, days: list[tuple[str, CalendarDay]], source: str | None) -> OfficeYear:
    seen: dict[date, tuple[str, CalendarDay]] = {}
    for where, entry in days:
        if entry.working and entry.day.weekday() < _SATURDAY:
            raise InvalidCalendarError(where, f"{entry.day.isoformat()} is a weekday, a working day anyway; "
                                              "only a Saturday or Sunday can be a make-up working day (调休)")
        if entry.day in seen:
            first_where, first = seen[entry.day]
            both = " both a holiday and a working day" if first.working != entry.working else " twice"
            raise InvalidCalendarError(where, f"{entry.day.isoformat()} is listed{both} (also at {first_where})")
        seen[entry.day] = (where, entry)
    if not any(not e.working for _, e in days):
        raise InvalidCalendarError(name, f"no holidays listed for {year}; a year's notice always has some")
    return OfficeYear(year, tuple(sorted((e for _, e in days), key=lambda e: e.day)), source)


# ---------------------------------------------------------------------- the desk
class CalendarDesk:
    """Import and show official calendars, each call decided (MANAGE_CALENDAR) and logged once.

    Args:
        uow: the catalogue (table ``calendar_days``).
        access: decides through the policy and writes the one access-log entry.
        calendar: the working calendar every clock asks; it is told of an import at once.
        records: the dossiers whose open clocks the dashboard's warning looks at.
        tz: the archive's zone ("today").
        clock: the archive's clock (``imported_at``; today).
    """

    def __init__(self, uow: UnitOfWork, access: AccessService, calendar: ChinaWorkingCalendar,
                 records: RecordsService, *, tz: ZoneInfo, clock: Clock) -> None:
        self._uow, self._access, self._calendar, self._records = uow, access, calendar, records
        self._tz, self._clock = tz, clock
        self._version: tuple[int, datetime | None] | None = None

    # -------------------------------------------------------------- memory
    def load(self) -> None:
        """Hand every office year in the catalogue to the calendar (when the services are built)."""
        with self._uow.read() as s:
            rows = s.execute(select(CalendarDayRow.year, CalendarDayRow.day, CalendarDayRow.working)).all()
            version = self._version_in(s)
        years: dict[int, dict[date, bool]] = {}
        for year, day, working in rows:
            years.setdefault(year, {})[day] = working
        self._calendar.use_office_years(years)
        self._version = version

    def refresh(self) -> None:
        """Reload if another process imported since (one aggregate query): a running server picks up
        a console import at the next dashboard view."""
        with self._uow.read() as s:
            version = self._version_in(s)
        if version != self._version:
            self.load()

    @staticmethod
    def _version_in(s: Session) -> tuple[int, datetime | None]:
        count, latest = s.execute(select(func.count(), func.max(CalendarDayRow.imported_at))).one()
        return int(count), latest

    # -------------------------------------------------------------- commands
    def import_year(self, who: Identity, calendar: OfficeYear, *, context: RequestContext = _NO_CONTEXT,
                    details: Mapping[str, str] | None = None) -> ImportedYear:
        """Replace ``calendar.year``'s official days with ``calendar``'s, in one transaction (one entry).

        Raises:
            AccessDeniedError: ``who`` may not manage the calendar (logged).
        """
        self._access.enforce(who, Action.MANAGE_CALENDAR, None, context=context, object_ref=f"calendar:{calendar.year}",
                             details={**(details or {}), "change": "import_calendar", "year": str(calendar.year),
                                      "holidays": str(len(calendar.holidays)), "workdays": str(len(calendar.workdays)),
                                      **({"source": calendar.source[:200]} if calendar.source else {})})
        now = self._clock()
        with self._uow.write() as s:
            replaced = s.scalar(select(func.count()).where(CalendarDayRow.year == calendar.year)) or 0
            s.execute(delete(CalendarDayRow).where(CalendarDayRow.year == calendar.year))
            s.add_all(CalendarDayRow(day=d.day, year=calendar.year, working=d.working, name=d.name,
                                     imported_at=now, imported_by=who.name) for d in calendar.days)
        self.load()  # this process's clocks use the new year at once
        return ImportedYear(calendar.year, len(calendar.holidays), len(calendar.workdays), replaced)

    def show(self, who: Identity, year: int, *, context: RequestContext = _NO_CONTEXT,
             details: Mapping[str, str] | None = None) -> YearView:
        """``year`` as deadlines use it: its source, its holidays and its make-up working days (one entry).

        Raises:
            AccessDeniedError: ``who`` may not manage the calendar (logged).
        """
        self._access.enforce(who, Action.MANAGE_CALENDAR, None, context=context, object_ref=f"calendar:{year}",
                             details={**(details or {}), "change": "show_calendar", "year": str(year)})
        self.refresh()
        source = self._calendar.source_of(year)
        if source is CalendarSource.OFFICE:
            with self._uow.read() as s:
                rows = list(s.scalars(select(CalendarDayRow).where(CalendarDayRow.year == year)
                                      .order_by(CalendarDayRow.day)))
            days = [CalendarDay(r.day, r.working, r.name) for r in rows]
            return YearView(year, source, [d for d in days if not d.working], [d for d in days if d.working],
                            imported_at=max((r.imported_at for r in rows), default=None),
                            imported_by=rows[0].imported_by if rows else None)
        if source is CalendarSource.PACKAGE:
            return YearView(year, source, *_package_days(year))
        return YearView(year, source, _fallback_holidays(year), [])

    # -------------------------------------------------------------- the dashboard's warning
    def years_without_data(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` with neither the office's nor the package's data (not logged)."""
        self.refresh()
        return self._calendar.years_without_data(years)

    def open_deadline_years_without_data(self, today: date | None = None) -> list[int]:
        """The years without official data that a running clock of any open dossier counts days in.

        Not logged and not scoped: it names years, never a dossier. Cheap on most days: only if a
        year between last year and the horizon lacks data are the open dossiers' clocks asked.
        """
        day = today or self._clock().astimezone(self._tz).date()
        if not self.years_without_data(range(day.year - 1, (day + _HORIZON).year + 1)):
            return []
        years: set[int] = set()
        for info in self._records.dossier_timelines("system:calendar"):
            if info.state not in OPEN_STATES:
                continue
            for c in self._records.deadlines(info, day):
                if c.state in _RUNNING and c.started_on and c.due_on:
                    years.update(range(c.started_on.year, c.due_on.year + 1))
        return self._calendar.years_without_data(years)


def _package_days(year: int) -> tuple[list[CalendarDay], list[CalendarDay]]:
    import chinese_calendar

    # The package's tables hold the holiday's English name; its Holiday enum knows the Chinese one.
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}

    def named(holiday: object) -> str | None:
        return chinese.get(str(holiday), str(holiday)) if holiday else None

    holidays = [CalendarDay(d, False, named(h)) for d, h in sorted(chinese_calendar.holidays.items()) if d.year == year]
    workdays = [CalendarDay(d, True, f"{named(h)}调休" if named(h) else None)
                for d, h in sorted(chinese_calendar.workdays.items()) if d.year == year]
    return holidays, workdays


def _fallback_holidays(year: int) -> list[CalendarDay]:
    import holidays  # only this command and years without data need it (see records.workdays)

    found = holidays.country_holidays("CN", years=year, language="zh_CN")
    return [CalendarDay(d, False, str(n)) for d, n in sorted(found.items())]
