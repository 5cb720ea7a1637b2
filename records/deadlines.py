"""Statutory time limits of a complaint dossier (TL-01..TL-04), pure; stdlib only.

Three clocks run over a dossier's lifecycle dates:

- acceptance (TL-01): from receipt to the acceptance or non-acceptance decision;
- conclusion (TL-02, extended by TL-03): from acceptance to the decision on the merits;
- reply (TL-04): from that decision to the reply letter.

Their lengths come from a configurable :class:`SlaProfile`; :data:`LEGAL_AID` is the statutory
default (5 working days, 45 calendar days, 5 working days). Which days are working days is
the job of a :class:`WorkingCalendar` (``records.workdays.ChinaWorkingCalendar`` in production).

Counting follows Chinese legal convention: the day of the triggering event is not counted
(期间开始的当日不算入), so a period starts the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

# A calendar with no working day for a whole year is misconfigured (e.g. every day an
# extra holiday); stop rather than loop for ever.
_MAX_SCAN_DAYS = 366


class WorkingCalendar(Protocol):
    """Tells working days (工作日) from rest days and public holidays.

    Implementations MUST answer for any date (falling back to a rule when official data ends,
    never raising for lack of data), MUST count make-up working days (调休) as working days
    when they know them, and SHOULD be cheap: a clock asks about each day it spans.
    """

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day."""
        ...


class DayUnit(StrEnum):
    WORKING = "working"      # 工作日: only working days count
    CALENDAR = "calendar"    # 日: every day counts; the last day moves off a rest day


@dataclass(frozen=True, slots=True)
class ClockRule:
    """The length of one time limit, e.g. 5 working days."""

    days: int
    unit: DayUnit

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"a time limit cannot be negative: {self.days} days")


@dataclass(frozen=True, slots=True)
class SlaProfile:
    """A named set of time limits for the three clocks (TL-01, TL-02, TL-04)."""

    name: str
    acceptance: ClockRule
    conclusion: ClockRule
    reply: ClockRule


# 法律援助投诉处理: accept or refuse within 5 working days (TL-01), conclude within 45 days
# (一般应当在45日内办结, TL-02), reply within 5 working days of the decision (TL-04).
LEGAL_AID = SlaProfile(
    name="legal-aid",
    acceptance=ClockRule(5, DayUnit.WORKING),
    conclusion=ClockRule(45, DayUnit.CALENDAR),
    reply=ClockRule(5, DayUnit.WORKING),
)


def due_date(start: date, rule: ClockRule, calendar: WorkingCalendar, *, extra_days: int = 0) -> date:
    """The last day on which a clock started on ``start`` is still met.

    Args:
        start: the day of the triggering event; it is not counted (期间开始的当日不算入).
        rule: how many days, and of which unit.
        calendar: decides which days are working days.
        extra_days: recorded extensions (TL-03), in the rule's unit, added to ``rule.days``.

    Returns:
        For working days, the ``days``-th working day after ``start`` (``start`` itself for 0).
        For calendar days, ``start + days``, moved to the next working day if it is not one.

    Raises:
        ValueError: ``extra_days`` is negative, or the calendar has no working day for a year.
    """
    if extra_days < 0:
        raise ValueError(f"an extension cannot be negative: {extra_days} days")
    total = rule.days + extra_days
    if rule.unit is DayUnit.WORKING:
        day, counted = start, 0
        while counted < total:
            day = _next_working_day(day, calendar)
            counted += 1
        return day
    # Civil procedure (民事诉讼法: 期间届满的最后一日是法定休假日的，以法定休假日后的第一日为
    # 期间届满的日期): a calendar-day period whose last day is a rest day or holiday ends on the
    # next working day. The legal-aid rules set no counting rule of their own, so this applies.
    # A make-up working Saturday (调休) is a working day, so a period may end on it.
    end = start + timedelta(days=total)
    if calendar.is_working_day(end):
        return end
    return _next_working_day(end, calendar)


def _next_working_day(day: date, calendar: WorkingCalendar) -> date:
    """The first working day strictly after ``day``."""
    for offset in range(1, _MAX_SCAN_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    raise ValueError(f"the working calendar has no working day within {_MAX_SCAN_DAYS} days after {day}")


class ClockName(StrEnum):
    ACCEPTANCE = "acceptance"    # TL-01
    CONCLUSION = "conclusion"    # TL-02, extended under TL-03
    REPLY = "reply"              # TL-04


class ClockState(StrEnum):
    NOT_STARTED = "not_started"          # its triggering event has not happened (as of the date)
    NOT_APPLICABLE = "not_applicable"    # will never start: the complaint was not accepted
    RUNNING = "running"                  # started, before its due date
    DUE_TODAY = "due_today"              # the due date is today and it is still open
    OVERDUE = "overdue"                  # still open after its due date
    MET = "met"                          # completed on or before its due date
    MISSED = "missed"                    # completed, but after its due date
    STOPPED = "stopped"                  # the dossier left handling (withdrawn, closed) with the step not taken


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """Where one time limit stands on a given date.

    ``overdue`` is true while the clock is OVERDUE and stays true once it is MISSED, so a
    late-but-done step still shows; ``days_late`` counts calendar days past ``due_on``.
    """

    clock: ClockName
    state: ClockState
    started_on: date | None = None
    due_on: date | None = None
    completed_on: date | None = None
    overdue: bool = False
    days_late: int = 0


@dataclass(frozen=True, slots=True)
class DossierDates:
    """The lifecycle dates the clocks depend on, as recorded.

    ``accepted_on`` is the date of the acceptance decision either way, and ``accepted`` says
    which way it went (None: not decided yet): a refusal also stops the acceptance clock
    (TL-01), but only an acceptance starts the conclusion clock (TL-02). ``extension_days`` is
    the sum of all approved extensions of the conclusion period (TL-03 sets no maximum).
    The order of the dates is the lifecycle's business; the clocks take them as given.
    """

    received_on: date
    accepted_on: date | None = None
    accepted: bool | None = None
    decided_on: date | None = None
    replied_on: date | None = None
    extension_days: int = 0

    def __post_init__(self) -> None:
        if (self.accepted_on is None) != (self.accepted is None):
            raise ValueError("accepted_on and accepted are given together: the decision and its date")
        if self.extension_days < 0:
            raise ValueError(f"extension_days cannot be negative: {self.extension_days}")


def clocks(
    profile: SlaProfile, dates: DossierDates, calendar: WorkingCalendar, as_of: date
) -> tuple[ClockStatus, ...]:
    """The acceptance, conclusion and reply clocks of a dossier as of a date (TL-01..TL-04).

    Any date works, past or future: events recorded after ``as_of`` are treated as not yet
    happened, so the answer is what was (or will be) true on that day.

    A dossier that was not accepted has no conclusion clock, and no reply clock either: the
    reply clock starts only with a decision on the merits (``decided_on``, TL-04). The notice
    of non-acceptance the regulation also requires is not clocked here.

    Returns:
        Three statuses, in the order acceptance, conclusion, reply.
    """

    def known(day: date | None) -> date | None:
        return day if day is not None and day <= as_of else None

    accepted_on = known(dates.accepted_on)
    decided_on = known(dates.decided_on)
    refused = accepted_on is not None and dates.accepted is False
    acceptance = _status(
        ClockName.ACCEPTANCE, profile.acceptance, calendar, as_of,
        start=known(dates.received_on), end=accepted_on,
    )
    conclusion = _status(
        ClockName.CONCLUSION, profile.conclusion, calendar, as_of,
        start=None if refused else accepted_on, end=decided_on,
        extra_days=dates.extension_days, not_applicable=refused,
    )
    reply = _status(
        ClockName.REPLY, profile.reply, calendar, as_of,
        start=None if refused else decided_on, end=known(dates.replied_on), not_applicable=refused,
    )
    return acceptance, conclusion, reply


def is_overdue(profile: SlaProfile, dates: DossierDates, calendar: WorkingCalendar, as_of: date) -> bool:
    """True if any clock is still open past its due date on ``as_of`` (TL-01..TL-04).

    A step completed late (MISSED) no longer makes the dossier overdue; see
    :attr:`ClockStatus.overdue` for the flag that keeps it.
    """
    return any(c.state is ClockState.OVERDUE for c in clocks(profile, dates, calendar, as_of))


def _status(
    name: ClockName,
    rule: ClockRule,
    calendar: WorkingCalendar,
    as_of: date,
    *,
    start: date | None,
    end: date | None,
    extra_days: int = 0,
    not_applicable: bool = False,
) -> ClockStatus:
    if start is None:
        return ClockStatus(name, ClockState.NOT_APPLICABLE if not_applicable else ClockState.NOT_STARTED)
    due = due_date(start, rule, calendar, extra_days=extra_days)
    if end is not None:
        late = max((end - due).days, 0)
        state = ClockState.MISSED if late else ClockState.MET
        return ClockStatus(name, state, start, due, end, overdue=bool(late), days_late=late)
    late = max((as_of - due).days, 0)
    if late:
        state = ClockState.OVERDUE
    elif as_of == due:
        state = ClockState.DUE_TODAY
    else:
        state = ClockState.RUNNING
    return ClockStatus(name, state, start, due, None, overdue=bool(late), days_late=late)


def stopped(statuses: tuple[ClockStatus, ...], on: date, as_of: date) -> tuple[ClockStatus, ...]:
    """The clocks of a dossier that left handling on ``on`` (withdrawn or closed), as of ``as_of``.

    A clock still open then stops: a withdrawn complaint is not overdue for ever, and neither is a
    closed one whose reply step was never recorded (it was closed under an override). Before
    ``on`` the clocks are as they were.
    """
    if as_of < on:
        return statuses
    open_states = (ClockState.RUNNING, ClockState.DUE_TODAY, ClockState.OVERDUE)
    return tuple(ClockStatus(c.clock, ClockState.STOPPED, c.started_on, c.due_on, on) if c.state in open_states else c
                 for c in statuses)

