"""A caseload whose deadline clocks fall due at known dates around the fixture clock's 2026-11-03.

Shared by the reminder tests (service, dashboard, e-mail digest, `dossier remind`).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from records.access.identity import Identity, Role
from records.model import DossierState, Registration
from web.bootstrap import Services

SETUP = Identity.operator("test-setup")
TODAY = date(2026, 11, 3)  # the fixture clock's date in the archive's zone


def _received(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)  # 10:00 in Beijing, that same day


def make_caseload(services: Services, *, accounts: bool = True) -> dict[str, str]:
    """GIVEN handlers of departments A and B, a manager of every department, an archivist, an admin and
    an auditor (unless ``accounts`` is false: the web fixtures make their own), and open dossiers whose
    clocks fall due at known dates around 2026-11-03."""
    for name, role, depts in (("handler_a", Role.HANDLER, ["A"]), ("handler_b", Role.HANDLER, ["B"]),
                              ("manager", Role.MANAGER, []), ("archivist", Role.ARCHIVIST, []),
                              ("admin", Role.ADMIN, []), ("auditor", Role.AUDITOR, [])) if accounts else ():
        services.access.add_user(SETUP, name, role, departments=depts, password="correct horse 1")
    records = services.records

    def register(matter: str, received: date, dept: str) -> str:
        return records.register_complaint("clerk", Registration(
            matter=matter, complainant="张三", received_at=_received(received), department=dept)).archive_number

    n = {
        "a_late": register("收费过高（逾期）", date(2026, 10, 20), "A"),      # acceptance due 10-27: 7 days late
        "a_today": register("态度恶劣（今日）", date(2026, 10, 27), "A"),     # acceptance due 11-03: today
        "a_soon": register("拖延办理（三日内）", date(2026, 10, 30), "A"),    # acceptance due 11-06: in 3 days
        "a_later": register("材料遗失（下周）", date(2026, 11, 2), "A"),      # acceptance due 11-09: not yet
        "a_conclusion": register("违规收费（办结）", date(2026, 9, 10), "A"),  # conclusion due 10-30: 4 days late
        "a_reply": register("答复延误（答复）", date(2026, 9, 1), "A"),       # reply due 11-04: in 1 day
        "a_void": register("重复登记（撤回）", date(2026, 10, 20), "A"),      # withdrawn: no clock runs
        "b_late": register("援助人员投诉（B）", date(2026, 10, 20), "B"),     # acceptance due 10-27: 7 days late
    }
    records.advance("clerk", n["a_conclusion"], DossierState.ACCEPTED, on=date(2026, 9, 15))
    records.advance("clerk", n["a_reply"], DossierState.ACCEPTED, on=date(2026, 9, 2))
    records.advance("clerk", n["a_reply"], DossierState.DECIDED, on=date(2026, 10, 28))
    records.advance("clerk", n["a_void"], DossierState.VOID, on=date(2026, 10, 21), note="重复登记")
    return n
