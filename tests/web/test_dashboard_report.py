"""The monthly statistics on the dashboard and as downloads (STA-01, STA-04), scoped by export rights (ACS-12)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from records.access.identity import Role
from records.model import Channel, DossierState, Registration
from tests.unit.retention.statistics_world import build
from tests.web.conftest import OPERATOR, PASSWORD, LogCounter, sign_in_as
from web.bootstrap import Services

ACCOUNTS = {"manager": (Role.MANAGER, ()), "manager_b": (Role.MANAGER, ("B",)), "archivist": (Role.ARCHIVIST, ()),
            "handler": (Role.HANDLER, ("A",)), "regulator": (Role.REGULATOR, ()), "auditor": (Role.AUDITOR, ())}


@pytest.fixture
def accounts(services: Services, clock: Any) -> None:
    for name, (role, departments) in ACCOUNTS.items():
        services.access.add_user(OPERATOR, name, role, departments=departments, password=PASSWORD)


@pytest.fixture
def this_month(services: Services, clock: Any, accounts: None) -> None:
    """GIVEN three complaints received today (real time: the dashboard shows the current month), one refused and closed."""
    clock.now = datetime.now(timezone.utc)
    numbers = []
    for category, department in (("收费", "A"), ("收费", "A"), ("态度", "B")):
        numbers.append(services.records.register_complaint("test", Registration(
            matter="投诉", complainant="张三", respondent="某律师事务所", category=category, department=department,
            channel=Channel.LETTER, received_at=clock.now - timedelta(minutes=1))).archive_number)
    services.access.grant_regulator_access(OPERATOR, "regulator", purpose="年度检查", dossiers=numbers[:1],
                                           expires_at=clock.now + timedelta(days=30))
    services.records.advance("test", numbers[2], DossierState.NOT_ACCEPTED)
    services.records.advance("test", numbers[2], DossierState.CLOSED, override_reason="测试数据，无卷内材料")


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)"><b>([^<]*)</b>', html))


def test_manager_sees_the_months_figures_and_chart(client: FlaskClient, this_month: None) -> None:
    sign_in_as(client, "manager")
    html = client.get("/").get_data(as_text=True)
    assert 'id="monthly-report"' in html and "收到投诉" in html
    assert _figures(html) == {"received": "3", "closed": "1", "overdue": "0", "compliance": "100%"}
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert "收费" in chart and "态度" in chart
    month = f"{datetime.now(timezone(timedelta(hours=8))):%Y-%m}"
    assert f'href="/reports/monthly/{month}.xlsx"' in html


def test_dashboard_figures_in_english(client: FlaskClient, this_month: None) -> None:
    sign_in_as(client, "archivist")
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    assert "Complaints received" in html and "whole archive" in html and _figures(html)["received"] == "3"


def test_department_manager_sees_their_departments_only(client: FlaskClient, this_month: None) -> None:
    sign_in_as(client, "manager_b")
    html = client.get("/").get_data(as_text=True)
    assert _figures(html) == {"received": "1", "closed": "1", "overdue": "0", "compliance": "100%"}


@pytest.mark.parametrize("name", ["regulator", "handler", "auditor"])
def test_others_see_no_statistics(client: FlaskClient, this_month: None, name: str) -> None:
    sign_in_as(client, name)
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "monthly-report" not in html and "收到投诉" not in html and "/reports/monthly/" not in html


# ---------------------------------------------------------------------- downloads
@pytest.fixture
def october(services: Services, clock: Any, accounts: None) -> None:
    build(services)


def test_manager_downloads_each_format(client: FlaskClient, services: Services, october: None) -> None:
    sign_in_as(client, "manager")
    log = LogCounter(services)
    resp = client.get("/reports/monthly/2026-10.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="monthly-2026-10.xlsx"' in resp.headers["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(resp.data))["概况"]["B7"].value is not None
    entries = log.new_entries()
    assert [(e.event.action, e.event.outcome, e.event.details.get("report")) for e in entries] == \
        [("list_dossiers", "allowed", "monthly/2026-10")]
    rows = list(csv.reader(io.StringIO(client.get("/reports/monthly/2026-10.csv").data.decode("utf-8-sig"))))
    assert ["summary", "received", "value", "5"] in rows
    assert client.get("/reports/monthly/2026-10.pdf").data.startswith(b"%PDF-")
    page = client.get("/reports/monthly/2026-10.html?lang=en").get_data(as_text=True)
    assert "Monthly complaint statistics, 2026-10" in page and "<td>Received</td><td>5</td>" in page


def test_department_manager_downloads_their_departments(client: FlaskClient, october: None) -> None:
    sign_in_as(client, "manager_b")
    rows = list(csv.reader(io.StringIO(client.get("/reports/monthly/2026-10.csv").data.decode("utf-8-sig"))))
    assert ["summary", "received", "value", "2"] in rows and ["report", "scope", "value", "B"] in rows


@pytest.mark.parametrize("name", ["regulator", "handler", "auditor"])
def test_download_refused_without_export_rights(client: FlaskClient, october: None, name: str) -> None:
    sign_in_as(client, name)
    assert client.get("/reports/monthly/2026-10.csv").status_code == 403


def test_bad_month_or_format(client: FlaskClient, october: None) -> None:
    sign_in_as(client, "manager")
    assert client.get("/reports/monthly/2026-13.csv").status_code == 400  # a period, not a record: 400 (issue #9)
    assert client.get("/reports/monthly/2999-01.csv").status_code == 400
    assert client.get("/reports/monthly/0000-01.csv").status_code == 400
    assert client.get("/reports/monthly/2026-10.docx").status_code == 404


def test_anonymous_is_sent_to_sign_in(client: FlaskClient, october: None) -> None:
    resp = client.get("/reports/monthly/2026-10.csv")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
