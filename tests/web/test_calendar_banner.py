"""The dashboard warns while an open deadline falls in a year without an official working-day calendar.

A complaint received on 2026-12-28 has its acceptance deadline (5 working days, TL-01) in January
2027, a year ``chinesecalendar`` 1.11 does not know: until the office loads 2027's calendar, the
days are counted without 调休 make-up days and the dashboard says so, naming the year and the
command. Dates are explicit and the clock is the fixture's.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from records.access.identity import Identity
from records.model import Registration
from records.office_calendar import CalendarDesk, read_calendar_file
from records.workdays import ChinaWorkingCalendar, package_has_year
from tests.web.conftest import World, sign_in_as
from web.bootstrap import Services

pytestmark = pytest.mark.skipif(package_has_year(2027), reason="chinesecalendar now carries 2027 itself")

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "calendars" / "2027.example.json"
OPERATOR = Identity.operator("test-setup")


def _banner(client: FlaskClient) -> str | None:
    html = client.get("/").get_data(as_text=True)
    m = re.search(r'<section[^>]*id="calendar-warning"[^>]*data-years="([^"]*)"', html)
    return m.group(1) if m else None


def _december_complaint(services: Services, clock: Any) -> None:
    clock.now = datetime(2026, 12, 28, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
    services.records.register_complaint("test", Registration(
        matter="年底投诉", complainant="王五", department="A", received_at=clock.now))


def test_banner_names_the_year_and_goes_once_the_calendar_is_imported(
        client: FlaskClient, services: Services, world: World, clock: Any) -> None:
    """GIVEN open dossiers whose deadlines all fall in 2026 THEN no warning;
    GIVEN a complaint received 2026-12-28 (acceptance due in January 2027) THEN the dashboard warns about 2027
    and names `dossier calendar import`; WHEN the office imports 2027 THEN the warning is gone."""
    sign_in_as(client, "handler_a")
    assert _banner(client) is None
    _december_complaint(services, clock)
    assert services.calendar_years_without_data() == [2027]
    assert _banner(client) == "2027"
    assert "dossier calendar import 2027.json" in client.get("/").get_data(as_text=True)
    services.calendar.import_year(OPERATOR, read_calendar_file(EXAMPLE))
    assert services.calendar_years_without_data() == []
    assert _banner(client) is None


def test_an_import_from_the_console_reaches_a_running_server(
        client: FlaskClient, services: Services, world: World, clock: Any) -> None:
    """GIVEN the warning about 2027 on a running server WHEN 2027 is imported by another process (the console)
    THEN the server's next dashboard drops the warning."""
    sign_in_as(client, "archivist")
    _december_complaint(services, clock)
    assert _banner(client) == "2027"
    # Another process: its own calendar in memory, the same catalogue.
    console = CalendarDesk(services.uow, services.access, ChinaWorkingCalendar(), services.records,
                           tz=ZoneInfo("Asia/Shanghai"), clock=clock)
    console.import_year(OPERATOR, read_calendar_file(EXAMPLE))
    assert _banner(client) is None
    assert services.calendar_years_without_data([2026, 2027, 2028]) == [2028]
