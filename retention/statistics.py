"""Monthly and weekly complaint statistics (STA-01..04, STA-06, STA-07, STA-09): figures, no rendering.

One period — a month ``YYYY-MM`` (STA-01, TL-25) or an ISO week ``YYYY-Www`` (STA-03: the
Monday report of TL-26) — in the archive's time zone is described by a frozen
:class:`PeriodReport` (``MonthlyReport`` is the same class):

- **received** in the month, broken down by category, channel, respondent (top N + "other"),
  department and outcome (the lifecycle state at the month's end), each with its share of all
  complaints received (STA-07 「占投诉总数的比例」);
- **handled** in the month: decisions on the merits, refusals (不予受理), replies and closures
  dated in it, and how long they took from receipt (median, mean and 90th percentile, in
  calendar days; STA-01 counts the month's closed cases, STA-09 tracks handling times). The
  summary's counts *are* the handling table's counts (one function makes both): a refusal is
  a step of its own in both, never a "decision" in one and not in the other;
- **deadline compliance** per statutory clock (TL-01 acceptance, TL-02/03 conclusion, TL-04
  reply; STA-09): clocks completed in the month are *met* or *missed*, clocks still running
  at the month's end are *open in time* or *open overdue*. The on-time rate is
  ``met / (met + missed + open overdue)``: a case left lying past its deadline is not on time
  just because nobody finished it (leaving it out rewarded doing nothing);
- the same headline figures for the **previous period**, for comparison.

"The month's end" (or the week's) is its last day, or today while the month is still running, so a report on
the current month shows where things stand now. Everything is computed as of that day from the
recorded dates, so a report on a past month stays the same however the dossiers moved since
(except for dossiers withdrawn later, which the timeline also shows as of that day).

Dossiers disposed of under a retention rule still count: their tombstone keeps every field a
report reads (``records.tombstone``), so the figures of a past month do not change with a
disposal.

Withdrawn (void) dossiers count only as ``withdrawn``; they are left out of every breakdown
and of compliance, since they were never handled. The clocks come from the records layer
(``RecordsService.deadlines``, i.e. ``records.deadlines.clocks``), so the report and the
dossier page can never disagree about what is overdue.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from records.deadlines import ClockName, ClockState
from records.errors import InvalidInputError
from records.model import DossierInfo, DossierState
from retention.errors import RetentionError

if TYPE_CHECKING:  # annotations only: the caller hands over the records core it has
    from records.service import RecordsService

__all__ = [
    "Compliance", "Count", "Handling", "InvalidPeriodError", "MonthSummary", "MonthlyReport", "Period",
    "PeriodReport", "PeriodSummary", "month_period", "monthly_report", "parse_month", "parse_week", "week_period",
    "weekly_report",
]

# Whose missing name is shown as this key (renderers label it "(none)" / 「未填写」).
NONE_KEY = ""
OTHER_KEY = "*other*"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
# States after which a dossier is no longer being handled (closed, and what follows closure).
_DONE = frozenset({DossierState.CLOSED, DossierState.SEALED, DossierState.DISPOSED})


class InvalidPeriodError(RetentionError, InvalidInputError, ValueError):
    """A period parameter is not a month ``YYYY-MM`` / ISO week ``YYYY-Www`` of the calendar, or lies in the future.

    Invalid input (exit 4, HTTP 400), not an invalid registration: a report or a listing *names*
    a period, it does not send a record to be kept. ``value`` is shortened in the message, since
    it is echoed back to whoever typed it.
    """

    code = "invalid_period"

    def __init__(self, value: str, problem: str, *, field: str = "month") -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{field}: {shown!r} {problem}")
        self.field = field
        self.value = value
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Count:
    """One row of a breakdown: ``key`` (a raw value; ``""`` = not recorded, ``*other*`` = the rest)."""

    key: str
    count: int
    share: float          # of all complaints received in the month, 0..1


@dataclass(frozen=True, slots=True)
class Handling:
    """How long the steps dated in the month took from receipt, in calendar days."""

    step: str             # "decision" (decided or not accepted), "reply", "closure"
    count: int
    median: float | None
    mean: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class Compliance:
    """One statutory clock over the month (TL-01..04, STA-09)."""

    clock: ClockName
    met: int              # completed in the month, on time
    missed: int           # completed in the month, late
    open_overdue: int     # still open at the month's end, past its due date
    open_in_time: int     # still open at the month's end, not yet due (or due that day)

    @property
    def rate(self) -> float | None:
        """On-time rate: met / (met + missed + open overdue); None when there is nothing to rate.

        Open overdue clocks count as not on time (STA-09): leaving them out made a month look
        better the more cases were left lying past their deadline.
        """
        due = self.met + self.missed + self.open_overdue
        return self.met / due if due else None


@dataclass(frozen=True, slots=True)
class Period:
    """A month ``2026-10`` or an ISO week ``2026-W44`` (Monday to Sunday), as days of the archive's zone."""

    kind: str             # "month" | "week"
    key: str              # "2026-10" | "2026-W44"
    first: date
    last: date

    def previous(self) -> Period:
        if self.kind == "week":
            return week_period(_week_key(self.first - timedelta(days=7)))
        return month_period(f"{self.first - timedelta(days=1):%Y-%m}")


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """The headline figures of one period, also kept for the previous period (comparison)."""

    period: str           # "2026-10" or "2026-W44"
    received: int
    withdrawn: int
    decided: int          # decisions on the merits dated in the month
    not_accepted: int     # refusals dated in the month
    replied: int
    closed: int
    open_at_end: int      # received by the month's end, not closed, not withdrawn
    overdue_at_end: int   # of those, with a clock past its due date
    median_days_to_closure: float | None
    compliance_rate: float | None   # all clocks: met / (met + missed + open overdue)

    @property
    def month(self) -> str:
        """The period's key (named for the monthly report, which came first)."""
        return self.period


MonthSummary = PeriodSummary


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """The monthly (STA-01, STA-04) or weekly (STA-03) statistics report: a value every renderer reads."""

    period: str                      # "2026-10" or "2026-W44"
    timezone: str
    as_of: date                      # the period's last day, or today while it runs
    generated_at: datetime
    departments: frozenset[str] | None   # None: the whole archive; else only these departments
    summary: PeriodSummary
    previous: PeriodSummary
    by_category: tuple[Count, ...]
    by_channel: tuple[Count, ...]
    by_respondent: tuple[Count, ...]
    by_department: tuple[Count, ...]
    by_outcome: tuple[Count, ...]
    handling: tuple[Handling, ...]
    compliance: tuple[Compliance, ...]
    kind: str = "month"              # "month" | "week"
    first: date | None = None        # the period's first and last day
    last: date | None = None
    limited: bool = False            # limited to a regulator's grant (not a department scope)

    @property
    def month(self) -> str:
        """The period's key (named for the monthly report, which came first)."""
        return self.period

    @property
    def complete(self) -> bool:
        """False while the period is still running (figures as of today)."""
        last = self.last if self.last is not None else month_bounds(self.period)[1]
        return self.as_of == last


MonthlyReport = PeriodReport


def parse_month(value: str, *, today: date | None = None) -> str:
    """Check a ``YYYY-MM`` month (not after ``today``'s month) and return it.

    Raises:
        InvalidPeriodError: not ``YYYY-MM`` (``2026-13``, ``2026-1``, ``Oct``), or a future month.
    """
    text = value.strip()
    m = _MONTH.match(text)
    # Year 0000 is no year, and 9999-12 has no next month to end at (datetime stops at 9999).
    if not m or not MINYEAR <= int(m.group(1)) < MAXYEAR:
        raise InvalidPeriodError(value, "is not a month YYYY-MM (e.g. 2026-10)")
    if today is not None and text > f"{today:%Y-%m}":
        raise InvalidPeriodError(value, f"lies in the future (today is {today})")
    return text


def parse_week(value: str, *, today: date | None = None) -> str:
    """Check an ISO week ``YYYY-Www`` (``2026-W44``; ``2026W44`` and a lower-case ``w`` are read too)
    that does not start after ``today``, and return it as ``YYYY-Www``.

    Raises:
        InvalidPeriodError: not an ISO week (``2026-W54``, ``2026-44``, ``2026-W1``), or a future week.
    """
    text = value.strip()
    m = _WEEK.match(text)
    if not m or not MINYEAR < int(m.group(1)) < MAXYEAR:
        raise InvalidPeriodError(value, "is not an ISO week YYYY-Www (e.g. 2026-W44)", field="week")
    try:
        first = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InvalidPeriodError(value, "is not a week of that year (ISO weeks run 01 to 52 or 53)",
                                 field="week") from None
    if today is not None and first > today:
        raise InvalidPeriodError(value, f"lies in the future (today is {today})", field="week")
    return f"{m.group(1)}-W{m.group(2)}"


def _week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def week_period(week: str) -> Period:
    """The ISO week ``YYYY-Www`` (already checked) as a :class:`Period`, Monday to Sunday."""
    first = date.fromisocalendar(int(week[:4]), int(week[6:8]), 1)
    return Period("week", week, first, first + timedelta(days=6))


def month_period(month: str) -> Period:
    """The month ``YYYY-MM`` (already checked) as a :class:`Period`."""
    first, last = month_bounds(month)
    return Period("month", month, first, last)


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    year, mon = int(month[:4]), int(month[5:7])
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def previous_month(month: str) -> str:
    first, _ = month_bounds(month)
    return f"{first - timedelta(days=1):%Y-%m}"


def monthly_report(
    source: RecordsService, month: str, *, actor: str, tz: ZoneInfo, now: datetime,
    departments: frozenset[str] | None = None, top: int = 10,
    visible: Callable[[DossierInfo], bool] | None = None,
) -> PeriodReport:
    """Compute the statistics of ``month`` (``YYYY-MM``, archive time ``tz``) as a :class:`MonthlyReport`.

    Args:
        source: the records layer: dossier timelines, and the clocks of each (``RecordsService.deadlines``).
        month: the month; checked with :func:`parse_month` against ``now``.
        actor: who asks (passed on to the records layer).
        tz: the archive's zone (``Settings.timezone``): months and dates are local to it.
        now: aware "now" (tests freeze it); months after it are refused.
        departments: count only dossiers of these departments (a department manager's scope);
            ``None`` counts the whole archive. The caller decides this from the access policy.
        top: respondents listed by name; the rest are summed as "other".
        visible: count only the dossiers it accepts (a regulator's grant: ``policy.matches``).

    Raises:
        InvalidPeriodError: ``month`` is malformed or in the future.
    """
    period = month_period(parse_month(month, today=now.astimezone(tz).date()))
    return period_report(source, period, actor=actor, tz=tz, now=now, departments=departments, top=top,
                         visible=visible)


def weekly_report(
    source: RecordsService, week: str, *, actor: str, tz: ZoneInfo, now: datetime,
    departments: frozenset[str] | None = None, top: int = 10,
    visible: Callable[[DossierInfo], bool] | None = None,
) -> PeriodReport:
    """The statistics of ISO week ``week`` (``YYYY-Www``, Monday to Sunday), the Monday report of STA-03 / TL-26.

    The same figures as :func:`monthly_report`, over the week, compared with the week before.

    Raises:
        InvalidPeriodError: ``week`` is malformed or starts after today.
    """
    period = week_period(parse_week(week, today=now.astimezone(tz).date()))
    return period_report(source, period, actor=actor, tz=tz, now=now, departments=departments, top=top,
                         visible=visible)


def period_report(
    source: RecordsService, period: Period, *, actor: str, tz: ZoneInfo, now: datetime,
    departments: frozenset[str] | None = None, top: int = 10,
    visible: Callable[[DossierInfo], bool] | None = None,
) -> PeriodReport:
    """The statistics of a checked :class:`Period` (see :func:`monthly_report` for the arguments)."""
    today = now.astimezone(tz).date()
    end = datetime.combine(period.last + timedelta(days=1), datetime.min.time(), tz)
    infos = source.dossier_timelines(actor, received_before=end, opened=())  # clear fields only (issue #12)
    if departments is not None:
        infos = [i for i in infos if i.registration.department in departments]
    if visible is not None:
        infos = [i for i in infos if visible(i)]
    prev = _Period(source, tz, period.previous(), today, infos)
    cur = _Period(source, tz, period, today, infos)
    received = cur.received
    total = len(received)
    return PeriodReport(
        period=period.key, kind=period.kind, first=period.first, last=period.last, limited=visible is not None,
        timezone=str(tz), as_of=cur.as_of, generated_at=now, departments=departments,
        summary=cur.summary(), previous=prev.summary(),
        by_category=_counts((i.registration.category for i in received), total),
        by_channel=_counts((str(i.registration.channel) for i in received), total),
        by_respondent=_counts((i.registration.respondent for i in received), total, top=top),
        by_department=_counts((i.registration.department for i in received), total),
        by_outcome=_counts((str(cur.state_of(i)) for i in received), total),
        handling=cur.handling(),
        compliance=cur.compliance(),
    )


# The steps of the handling table and of the summary: one list, so the two always agree.
_STEPS: tuple[tuple[str, tuple[DossierState, ...]], ...] = (
    ("decision", (DossierState.DECIDED,)), ("not_accepted", (DossierState.NOT_ACCEPTED,)),
    ("reply", (DossierState.REPLIED,)), ("closure", (DossierState.CLOSED,)),
)


class _Period:
    """The figures of one period over a list of dossiers (as of the period's end or today)."""

    def __init__(self, source: RecordsService, tz: ZoneInfo, period: Period, today: date,
                 infos: Sequence[DossierInfo]) -> None:
        self.period = period.key
        self.first, last = period.first, period.last
        self.as_of = min(last, today)
        self._tz = tz
        known = [i for i in infos if self.received_on(i) <= self.as_of]
        self.live = [i for i in known if self.state_of(i) is not DossierState.VOID]
        self.received = [i for i in self.live if self.in_month(self.received_on(i))]
        self.withdrawn = sum(1 for i in known if self.state_of(i) is DossierState.VOID
                             and self.in_month(self.received_on(i)))
        # A dossier closed before the month has every clock completed before it: nothing to
        # count, and skipping it keeps the cost to the dossiers still in play (clocks walk calendars).
        self._clocks = {i.dossier_id: source.deadlines(i, self.as_of) for i in self.live
                        if not ((closed := self.step_on(i, DossierState.CLOSED)) and closed < self.first)}

    def received_on(self, info: DossierInfo) -> date:
        return info.registration.received_at.astimezone(self._tz).date()

    def in_month(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.as_of

    def state_of(self, info: DossierInfo) -> DossierState:
        """The lifecycle state on the month's end (the last step dated on or before it)."""
        state = DossierState.REGISTERED
        for t in info.transitions:
            if t.on <= self.as_of:
                state = t.state
        return state

    def step_on(self, info: DossierInfo, *states: DossierState) -> date | None:
        """The date of the first of ``states`` reached, if reached by the month's end."""
        days = [d for s in states if (d := info.state_dates.get(str(s))) is not None and d <= self.as_of]
        return min(days) if days else None

    def _durations(self, *states: DossierState) -> list[int]:
        out = []
        for i in self.live:
            day = self.step_on(i, *states)
            if self.in_month(day):
                assert day is not None
                out.append((day - self.received_on(i)).days)
        return out

    def handling(self) -> tuple[Handling, ...]:
        # Each step is counted on its own dated transition. Decisions and refusals used to share
        # one "decision" row here while the summary counted decisions on the merits only, so a
        # month with one refusal showed 0 decisions above a handling table counting 1.
        return tuple(_handling(name, self._durations(*states)) for name, states in _STEPS)

    def compliance(self) -> tuple[Compliance, ...]:
        tallies: dict[ClockName, Counter[str]] = {c: Counter() for c in ClockName}
        for i in self.live:
            for c in self._clocks.get(i.dossier_id, ()):
                if c.state in (ClockState.MET, ClockState.MISSED):
                    if self.in_month(c.completed_on):
                        tallies[c.clock][c.state] += 1
                elif c.state is ClockState.OVERDUE:
                    tallies[c.clock]["open_overdue"] += 1
                elif c.state in (ClockState.RUNNING, ClockState.DUE_TODAY):
                    tallies[c.clock]["open_in_time"] += 1
        return tuple(Compliance(name, t[ClockState.MET], t[ClockState.MISSED], t["open_overdue"], t["open_in_time"])
                     for name, t in tallies.items())

    def summary(self) -> PeriodSummary:
        steps = {h.step: h for h in self.handling()}
        still_open = [i for i in self.live if self.state_of(i) not in _DONE]
        overdue = sum(1 for i in still_open
                      if any(c.state is ClockState.OVERDUE for c in self._clocks.get(i.dossier_id, ())))
        comp = self.compliance()
        met, due = sum(c.met for c in comp), sum(c.met + c.missed + c.open_overdue for c in comp)
        return PeriodSummary(
            period=self.period, received=len(self.received), withdrawn=self.withdrawn,
            decided=steps["decision"].count, not_accepted=steps["not_accepted"].count,
            replied=steps["reply"].count, closed=steps["closure"].count,
            open_at_end=len(still_open), overdue_at_end=overdue,
            median_days_to_closure=steps["closure"].median,
            compliance_rate=met / due if due else None,
        )


def _counts(values: Iterable[str | None], total: int, *, top: int | None = None) -> tuple[Count, ...]:
    """Counts per value, largest first (ties by value); beyond ``top``, summed as ``*other*``."""
    counter = Counter(v.strip() if v and v.strip() else NONE_KEY for v in values)
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if top is not None and len(ranked) > top:
        ranked = ranked[:top] + [(OTHER_KEY, sum(n for _, n in ranked[top:]))]
    share: Callable[[int], float] = (lambda n: n / total) if total else (lambda n: 0.0)
    return tuple(Count(k, n, share(n)) for k, n in ranked)


def _handling(step: str, days: list[int]) -> Handling:
    if not days:
        return Handling(step, 0, None, None, None)
    # The 90th percentile interpolates between ranks (statistics' "inclusive" method, as a
    # spreadsheet's PERCENTILE.INC), so a reader can check it by hand; one value is its own p90.
    p90 = statistics.quantiles(days, n=10, method="inclusive")[8] if len(days) > 1 else float(days[0])
    return Handling(step, len(days), float(statistics.median(days)), statistics.fmean(days), round(p90, 2))
