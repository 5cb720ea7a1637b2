"""Deadline reminders (TL-01..04, TL-36): per person, what falls due today, within 3 days, and is overdue.

The archive clock is the fixture's (2026-11-03, 10:00 in Beijing); the dossiers' dates are written
against it, so the lists are the same whatever day the suite runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from records.access.errors import AccessDeniedError
from records.access.identity import Identity
from records.reminders import DueItem, Reminders
from tests.integration.records.reminder_caseload import SETUP, TODAY, make_caseload
from web.bootstrap import Services

READER = Identity.operator("test-reader")


def _rows(items: tuple[DueItem, ...]) -> list[tuple[str, str, date, int]]:
    return [(i.archive_number, str(i.clock), i.due_on, i.days_overdue) for i in items]


def _mine(services: Services, name: str, **kw: Any) -> Reminders:
    return services.reminders.mine(services.access.identity(name), **kw)


def test_a_handler_sees_due_today_soon_and_overdue_of_their_department(services: Services) -> None:
    """GIVEN department A's open dossiers with clocks due on known dates
    WHEN handler_a's reminders are computed as of today (the archive clock)
    THEN overdue lists the acceptance 7 days late and the conclusion 4 days late, most overdue first;
    due today the acceptance due on 11-03; due soon the reply (11-04) and the acceptance (11-06);
    the dossier due next week, the withdrawn one and department B's are not there."""
    n = make_caseload(services)
    mine = _mine(services, "handler_a")
    assert mine.as_of == TODAY and mine.days_ahead == 3
    assert _rows(mine.overdue) == [(n["a_late"], "acceptance", date(2026, 10, 27), 7),
                                   (n["a_conclusion"], "conclusion", date(2026, 10, 30), 4)]
    assert _rows(mine.due_today) == [(n["a_today"], "acceptance", TODAY, 0)]
    assert _rows(mine.due_soon) == [(n["a_reply"], "reply", date(2026, 11, 4), 0),
                                    (n["a_soon"], "acceptance", date(2026, 11, 6), 0)]
    assert mine.overdue[0].matter == "收费过高（逾期）"


def test_a_handler_of_department_a_never_sees_department_b(services: Services) -> None:
    """GIVEN overdue dossiers in departments A and B
    WHEN each department's handler, and the manager of every department, asks
    THEN handler_a sees only A's, handler_b only B's, the manager both."""
    n = make_caseload(services)
    a = {i.archive_number for i in _mine(services, "handler_a").overdue}
    b = {i.archive_number for i in _mine(services, "handler_b").overdue}
    everyone = {i.archive_number for i in _mine(services, "manager").overdue}
    assert n["b_late"] not in a and b == {n["b_late"]}
    assert everyone == a | b


def test_the_lists_move_with_the_date_asked_for(services: Services) -> None:
    """GIVEN the same dossiers
    WHEN the reminders are computed as of 2026-11-06 instead of today
    THEN what was due soon is due today or overdue, and the dossier due 11-09 is now due soon."""
    n = make_caseload(services)
    later = _mine(services, "handler_a", as_of=date(2026, 11, 6))
    assert _rows(later.due_today) == [(n["a_soon"], "acceptance", date(2026, 11, 6), 0)]
    assert (n["a_reply"], "reply", date(2026, 11, 4), 2) in _rows(later.overdue)
    assert (n["a_today"], "acceptance", TODAY, 3) in _rows(later.overdue)
    assert _rows(later.due_soon) == [(n["a_later"], "acceptance", date(2026, 11, 9), 0)]


def test_the_dashboard_lists_are_one_logged_listing(services: Services) -> None:
    """GIVEN handler_a WHEN their reminders are read THEN one allowed list_dossiers entry is logged."""
    make_caseload(services)
    before = len(services.access.read_audit_log(READER))
    _mine(services, "handler_a")
    fresh = [e.event for e in services.access.read_audit_log(READER)[before:] if e.event.actor != READER.name]
    assert [(e.actor, str(e.action), str(e.outcome), e.details.get("view")) for e in fresh] == [
        ("handler_a", "list_dossiers", "allowed", "reminders")]


def test_the_digest_goes_to_each_handler_and_manager_with_something_due(services: Services) -> None:
    """GIVEN the caseload WHEN the console computes the digest
    THEN it names handler_a, handler_b and the manager, each with their own dossiers — no archivist,
    administrator or auditor (the policy lets only handlers and managers advance dossiers)."""
    n = make_caseload(services)
    digest = {r.person: r for r in services.reminders.digest(SETUP)}
    assert set(digest) == {"handler_a", "handler_b", "manager"}
    assert {i.archive_number for i in digest["handler_b"].overdue} == {n["b_late"]}
    assert digest["handler_a"].count == 5 and digest["manager"].count == 6
    assert digest["handler_a"].address is None  # no addresses configured


def test_a_handler_may_not_run_the_digest_and_is_logged_once(services: Services) -> None:
    """GIVEN handler_a WHEN they ask for everyone's digest THEN it is refused, with one refused send_reminders entry."""
    make_caseload(services)
    before = len(services.access.read_audit_log(READER))
    with pytest.raises(AccessDeniedError):
        services.reminders.digest(services.access.identity("handler_a"))
    fresh = [e.event for e in services.access.read_audit_log(READER)[before:] if e.event.actor != READER.name]
    assert [(e.actor, str(e.action), str(e.outcome)) for e in fresh] == [("handler_a", "send_reminders", "refused")]
