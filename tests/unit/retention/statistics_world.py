"""A known set of dossiers over September and October 2026 for the statistics tests (STA-01, STA-09).

The clock is the suite's default (2026-11-03 10:00 Beijing). Working days come from the real
China calendar: 2026-10-01..07 is the National Day holiday, 2026-10-10 (Sat) a make-up working
day. Expected figures are worked out by hand in the comments of ``build``.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from records.model import Channel, DossierState, Registration
from web.bootstrap import Services

BEIJING = ZoneInfo("Asia/Shanghai")
S = DossierState


def _register(services: Services, day: date, *, category: str | None, channel: Channel, respondent: str | None,
              department: str) -> str:
    reg = Registration(matter="投诉事项", received_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=BEIJING),
                       channel=channel, complainant="投诉人", respondent=respondent, department=department,
                       category=category)
    return services.records.register_complaint("test", reg).archive_number


def _steps(services: Services, number: str, *steps: tuple[DossierState, date]) -> None:
    for state, day in steps:
        # The set has no documents: closing records why it closes without them (ARC-2 override).
        services.records.advance("test", number, state, on=day, note="撤回" if state is S.VOID else None,
                                 override_reason="统计测试数据，无卷内材料" if state is S.CLOSED else None)


def build(services: Services) -> dict[str, str]:
    """Register and advance the dossiers; returns their numbers by name (S1.., O1..)."""
    d = date
    n: dict[str, str] = {}
    # September.
    # S1: acceptance due 09-21, met 09-15; conclusion met 09-30; reply due 10-13, met 10-09; closed 10-12.
    n["S1"] = _register(services, d(2026, 9, 14), category="收费", channel=Channel.LETTER, respondent="甲律师事务所",
                        department="A")
    _steps(services, n["S1"], (S.ACCEPTED, d(2026, 9, 15)), (S.DECIDED, d(2026, 9, 30)), (S.REPLIED, d(2026, 10, 9)),
           (S.CLOSED, d(2026, 10, 12)))
    # S2: refused next day (acceptance met), closed 09-29 after 8 days.
    n["S2"] = _register(services, d(2026, 9, 21), category="态度", channel=Channel.PHONE, respondent="乙",
                        department="B")
    _steps(services, n["S2"], (S.NOT_ACCEPTED, d(2026, 9, 22)), (S.CLOSED, d(2026, 9, 29)))
    # S3: withdrawn.
    n["S3"] = _register(services, d(2026, 9, 24), category="收费", channel=Channel.LETTER, respondent="乙",
                        department="A")
    _steps(services, n["S3"], (S.VOID, d(2026, 9, 25)))
    # October.
    # O1: acceptance due 10-14, met 10-09; conclusion met 10-20; reply due 10-27, missed 10-30; closed 10-30.
    n["O1"] = _register(services, d(2026, 10, 8), category="收费", channel=Channel.LETTER, respondent="甲律师事务所",
                        department="A")
    _steps(services, n["O1"], (S.ACCEPTED, d(2026, 10, 9)), (S.DECIDED, d(2026, 10, 20)),
           (S.REPLIED, d(2026, 10, 30)), (S.CLOSED, d(2026, 10, 30)))
    # O2: acceptance due 10-15, missed 10-23; conclusion running (due in December).
    n["O2"] = _register(services, d(2026, 10, 9), category="收费", channel=Channel.EMAIL, respondent="丙",
                        department="A")
    _steps(services, n["O2"], (S.ACCEPTED, d(2026, 10, 23)))
    # O3: nothing done; acceptance due 10-19, overdue at the month's end.
    n["O3"] = _register(services, d(2026, 10, 12), category="态度", channel=Channel.PHONE, respondent="甲律师事务所",
                        department="B")
    # O4: nothing done; acceptance due 11-02, in time at the month's end; no category, no respondent.
    n["O4"] = _register(services, d(2026, 10, 26), category=None, channel=Channel.LETTER, respondent=None,
                        department="A")
    # O5: refused next day (met), closed 10-16.
    n["O5"] = _register(services, d(2026, 10, 13), category="收费", channel=Channel.VISIT, respondent="乙",
                        department="B")
    _steps(services, n["O5"], (S.NOT_ACCEPTED, d(2026, 10, 14)), (S.CLOSED, d(2026, 10, 16)))
    # O6: withdrawn.
    n["O6"] = _register(services, d(2026, 10, 15), category="收费", channel=Channel.LETTER, respondent="乙",
                        department="A")
    _steps(services, n["O6"], (S.VOID, d(2026, 10, 16)))
    # N1: November: in no October figure.
    n["N1"] = _register(services, d(2026, 11, 2), category="收费", channel=Channel.FAX, respondent="甲律师事务所",
                        department="A")
    return n
