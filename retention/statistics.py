"""Monthly complaint statistics (STA-01, STA-04, STA-06, STA-07, STA-09): figures, no rendering.

One month in the archive's time zone is described by a frozen :class:`MonthlyReport`:

- **received** in the month, broken down by category, channel, respondent (top N + "other"),
  department and outcome (the lifecycle state at the month's end), each with its share of all
  complaints received (STA-07 「占投诉总数的比例」);
- **handled** in the month: decisions (including refusals), replies and closures dated in it,
  and how long they took from receipt (median, mean and 90th percentile, in calendar days;
  STA-01 counts the month's closed cases, STA-09 tracks handling times);
- **deadline compliance** per statutory clock (TL-01 acceptance, TL-02/03 conclusion, TL-04
  reply; STA-09): clocks completed in the month are *met* or *missed*, clocks still running
  at the month's end are *open in time* or *open overdue*;
- the same headline figures for the **previous month**, for month-over-month comparison.

"The month's end" is its last day, or today while the month is still running, so a report on
the current month shows where things stand now. Everything is computed as of that day from the
recorded dates, so a report on a past month stays the same however the dossiers moved since
(except for dossiers withdrawn later, which the timeline also shows as of that day).

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
    "Compliance", "Count", "Handling", "InvalidPeriodError", "MonthSummary", "MonthlyReport",
    "monthly_report", "parse_month",
]

# Whose missing name is shown as this key (renderers label it "(none)" / 「未填写」).
NONE_KEY = ""
OTHER_KEY = "*other*"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# States after which a dossier is no longer being handled (closed, and what follows closure).
_DONE = frozenset({DossierState.CLOSED, DossierState.SEALED, DossierState.DISPOSED})


class InvalidPeriodError(RetentionError, InvalidInputError, ValueError):
    """A month parameter is not a month ``YYYY-MM`` of the calendar, or lies in the future.

    Invalid input (exit 4, HTTP 400), not an invalid registration: a report or a listing *names*
    a period, it does not send a record to be kept. ``value`` is shortened in the message, since
    it is echoed back to whoever typed it.
    """

    code = "invalid_period"

    def __init__(self, value: str, problem: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"month: {shown!r} {problem}")
        self.field = "month"
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
        """Share of the clocks completed in the month that were met (None: none completed)."""
        done = self.met + self.missed
        return self.met / done if done else None


@dataclass(frozen=True, slots=True)
class MonthSummary:
    """The headline figures of one month, also kept for the previous month (comparison)."""

    month: str
    received: int
    withdrawn: int
    decided: int          # decisions on the merits dated in the month
    not_accepted: int     # refusals dated in the month
    replied: int
    closed: int
    open_at_end: int      # received by the month's end, not closed, not withdrawn
    overdue_at_end: int   # of those, with a clock past its due date
    median_days_to_closure: float | None
    compliance_rate: float | None   # all clocks completed in the month: met / (met + missed)


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    """The monthly statistics report (STA-01, STA-04): a value every renderer reads."""

    month: str
    timezone: str
    as_of: date                      # the month's last day, or today while it runs
    generated_at: datetime
    departments: frozenset[str] | None   # None: the whole archive; else only these departments
    summary: MonthSummary
    previous: MonthSummary
    by_category: tuple[Count, ...]
    by_channel: tuple[Count, ...]
    by_respondent: tuple[Count, ...]
    by_department: tuple[Count, ...]
    by_outcome: tuple[Count, ...]
    handling: tuple[Handling, ...]
    compliance: tuple[Compliance, ...]

    @property
    def complete(self) -> bool:
        """False while the month is still running (figures as of today)."""
        return self.as_of == month_bounds(self.month)[1]


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
) -> MonthlyReport:
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

    Raises:
        InvalidPeriodError: ``month`` is malformed or in the future.
    """
    today = now.astimezone(tz).date()
    month = parse_month(month, today=today)
    _, last = month_bounds(month)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    infos = source.dossier_timelines(actor, received_before=end)
    if departments is not None:
        infos = [i for i in infos if i.registration.department in departments]
    prev = _Month(source, tz, previous_month(month), today, infos)
    cur = _Month(source, tz, month, today, infos)
    received = cur.received
    total = len(received)
    return MonthlyReport(
        month=month, timezone=str(tz), as_of=cur.as_of, generated_at=now, departments=departments,
        summary=cur.summary(), previous=prev.summary(),
        by_category=_counts((i.registration.category for i in received), total),
        by_channel=_counts((str(i.registration.channel) for i in received), total),
        by_respondent=_counts((i.registration.respondent for i in received), total, top=top),
        by_department=_counts((i.registration.department for i in received), total),
        by_outcome=_counts((str(cur.state_of(i)) for i in received), total),
        handling=cur.handling(),
        compliance=cur.compliance(),
    )


class _Month:
    """The figures of one month over a list of dossiers (as of the month's end or today)."""

    def __init__(self, source: RecordsService, tz: ZoneInfo, month: str, today: date,
                 infos: Sequence[DossierInfo]) -> None:
        self.month = month
        self.first, last = month_bounds(month)
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
        steps = (("decision", (DossierState.DECIDED, DossierState.NOT_ACCEPTED)),
                 ("reply", (DossierState.REPLIED,)), ("closure", (DossierState.CLOSED,)))
        return tuple(_handling(name, self._durations(*states)) for name, states in steps)

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

    def summary(self) -> MonthSummary:
        def dated(state: DossierState) -> int:
            return sum(1 for i in self.live if self.in_month(self.step_on(i, state)))

        still_open = [i for i in self.live if self.state_of(i) not in _DONE]
        overdue = sum(1 for i in still_open
                      if any(c.state is ClockState.OVERDUE for c in self._clocks.get(i.dossier_id, ())))
        comp = self.compliance()
        met, done = sum(c.met for c in comp), sum(c.met + c.missed for c in comp)
        closure = self._durations(DossierState.CLOSED)
        return MonthSummary(
            month=self.month, received=len(self.received), withdrawn=self.withdrawn,
            decided=dated(DossierState.DECIDED), not_accepted=dated(DossierState.NOT_ACCEPTED),
            replied=dated(DossierState.REPLIED), closed=dated(DossierState.CLOSED),
            open_at_end=len(still_open), overdue_at_end=overdue,
            median_days_to_closure=float(statistics.median(closure)) if closure else None,
            compliance_rate=met / done if done else None,
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
