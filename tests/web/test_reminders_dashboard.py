"""The dashboard's reminders: the signed-in user's deadlines due today, within 3 days, and overdue (TL-36)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.integration.records.reminder_caseload import make_caseload
from tests.web.conftest import LogCounter, World, sign_in_as
from web.bootstrap import Services


def _table(html: str, key: str) -> str:
    m = re.search(rf'<table class="list" data-reminders="{key}"[^>]*>(.*?)</table>', html, re.S)
    assert m, f"no {key} list on the dashboard"
    return m.group(1)


def test_the_dashboard_shows_the_three_lists_of_the_signed_in_handler(client: FlaskClient, world: World,
                                                                      services: Services, log: LogCounter) -> None:
    """GIVEN dossiers of department A overdue, due today and due in 3 days, and one of department B overdue
    WHEN handler_a opens the dashboard (in English)
    THEN the overdue list links A's late dossier with its deadline, due date and days overdue, due today and
    due within 3 days list theirs, and department B's dossier appears nowhere on the page."""
    n = make_caseload(services, accounts=False)
    sign_in_as(client, "handler_a")
    client.get("/lang/en")
    log.new_entries()
    html = client.get("/").get_data(as_text=True)
    assert "My reminders" in html
    overdue, today, soon = _table(html, "overdue"), _table(html, "due_today"), _table(html, "due_soon")
    late = re.search(rf'<tr class="overdue" data-dossier="{n["a_late"]}" data-clock="acceptance">(.*?)</tr>', overdue, re.S)
    assert late, overdue
    assert f'href="/dossiers/{n["a_late"]}"' in late.group(1) and "收费过高（逾期）" in late.group(1)
    assert "Time limit for acceptance" in late.group(1) and "2026-10-27" in late.group(1) and "<td>7</td>" in late.group(1)
    assert n["a_conclusion"] in overdue and "Time limit for conclusion" in overdue
    assert n["a_today"] in today and "2026-11-03" in today
    assert n["a_soon"] in soon and n["a_reply"] in soon and "2026-11-06" in soon
    assert n["a_later"] not in overdue + today + soon
    assert n["b_late"] not in html
    reads = [(e.event.actor, str(e.event.action), e.event.details.get("view")) for e in log.new_entries()]
    assert ("handler_a", "list_dossiers", "reminders") in reads


def test_a_handler_of_the_other_department_sees_only_theirs(client: FlaskClient, world: World,
                                                            services: Services) -> None:
    """GIVEN the same caseload WHEN handler_b opens the dashboard THEN only department B's overdue dossier is listed."""
    n = make_caseload(services, accounts=False)
    sign_in_as(client, "handler_b")
    html = client.get("/").get_data(as_text=True)
    assert n["b_late"] in _table(html, "overdue")
    assert not any(n[k] in html for k in ("a_late", "a_today", "a_soon", "a_conclusion", "a_reply"))
