"""The reports page and its downloads (STA-01..04, STA-10, STA-14; issue #10 item 6 and the register of item 4).

Any month or ISO week can be chosen; the figures count what the caller may list; files need
export rights; every request leaves one access-log entry. The dossiers are the hand-checked set
of ``tests/unit/retention/statistics_world.py`` (clock: 2026-11-03, Beijing).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from records.access.identity import Role
from records.model import Channel, Registration, RespondentType
from tests.unit.retention.statistics_world import BEIJING, build
from tests.web.conftest import OPERATOR, PASSWORD, LogCounter, sign_in_as
from web.bootstrap import Services

ACCOUNTS = {"manager": (Role.MANAGER, ()), "manager_b": (Role.MANAGER, ("B",)), "archivist": (Role.ARCHIVIST, ()),
            "handler_a": (Role.HANDLER, ("A",)), "auditor": (Role.AUDITOR, ()), "admin": (Role.ADMIN, ())}


@pytest.fixture
def october(services: Services, clock: Any) -> dict[str, str]:
    for name, (role, departments) in ACCOUNTS.items():
        services.access.add_user(OPERATOR, name, role, departments=departments, password=PASSWORD)
    numbers = build(services)
    # A third October complaint against 甲律师事务所 (O1, O3 are the others), by the complainant of O1's name.
    numbers["O7"] = services.records.register_complaint("test", Registration(
        matter="又一次投诉", received_at=datetime(2026, 10, 20, 9, 0, tzinfo=BEIJING), channel=Channel.LETTER,
        complainant="投诉人", respondent="甲律师事务所", respondent_type=RespondentType.LAW_FIRM, category="收费",
        department="A", collective_count=12)).archive_number
    return numbers


def _entries(log: LogCounter) -> list[tuple[str, str, str | None]]:
    return [(str(e.event.action), str(e.event.outcome), e.event.details.get("report")) for e in log.new_entries()]


def test_nav_link_only_for_callers_who_may_list(client: FlaskClient, october: dict[str, str]) -> None:
    """GIVEN a handler and an administrator
    WHEN each opens the dashboard
    THEN the handler is offered 报表 (Reports) and the administrator, who lists no dossiers, is not."""
    sign_in_as(client, "handler_a")
    assert 'href="/reports"' in client.get("/").get_data(as_text=True)
    sign_in_as(client, "admin")
    assert 'href="/reports"' not in client.get("/").get_data(as_text=True)


def test_any_iso_week_is_shown_with_one_entry(client: FlaskClient, services: Services, october: dict[str, str]) -> None:
    """GIVEN a manager of every department
    WHEN they choose ISO week 2026-W42 (12-18 October) on the reports page
    THEN the weekly figures are shown (2 received, compared with W41) with downloads, and one
    LIST_DOSSIERS entry names the report."""
    sign_in_as(client, "manager")
    log = LogCounter(services)
    resp = client.get("/reports?kind=weekly&week=2026-W42")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-period="2026-W42"' in html and "2026年第42周投诉统计周报" in html
    assert "<td>收到投诉</td><td>2</td><td>2</td>" in html    # this week, the week before
    assert 'href="/reports/weekly/2026-W42.xlsx"' in html and "/reports/weekly/2026-W42.csv?labels=1" in html
    assert _entries(log) == [("list_dossiers", "allowed", "weekly/2026-W42")]


def test_any_month_not_only_this_and_last(client: FlaskClient, october: dict[str, str]) -> None:
    """GIVEN the archive on 2026-11-03
    WHEN a manager chooses September 2026 (two months back)
    THEN September's figures are shown."""
    sign_in_as(client, "manager")
    html = client.get("/reports?kind=monthly&month=2026-09").get_data(as_text=True)
    assert 'data-period="2026-09"' in html and "2026年09月投诉统计月报" in html
    assert "<td>收到投诉</td><td>2</td>" in html


def test_handler_sees_their_department_and_no_downloads(client: FlaskClient, services: Services,
                                                         october: dict[str, str]) -> None:
    """GIVEN a handler of department A (may list, may not export)
    WHEN they open October, and then try a download
    THEN the page counts department A only (4 of 6) with no download links; the download is
    refused 403 with one refused EXPORT entry."""
    sign_in_as(client, "handler_a")
    html = client.get("/reports?month=2026-10").get_data(as_text=True)
    assert "<td>收到投诉</td><td>4</td>" in html and "部门：A" in html
    assert "/reports/monthly/2026-10.xlsx" not in html and 'id="register"' not in html
    log = LogCounter(services)
    assert client.get("/reports/monthly/2026-10.xlsx").status_code == 403
    assert _entries(log) == [("export", "refused", "monthly/2026-10")]
    assert client.get("/reports/register?from=2026-10-01&to=2026-10-31").status_code == 403


def test_administrator_is_refused_the_page(client: FlaskClient, services: Services, october: dict[str, str]) -> None:
    sign_in_as(client, "admin")
    log = LogCounter(services)
    assert client.get("/reports").status_code == 403
    assert _entries(log) == [("list_dossiers", "refused", "monthly/2026-11")]


def test_persons_page_flags_three_complaints_in_a_month(client: FlaskClient, october: dict[str, str]) -> None:
    """GIVEN three October complaints against 甲律师事务所 and a collective complaint of 12 people
    WHEN the per-person report of October is shown
    THEN 甲律师事务所 is flagged (3 or more: public criticism, fine 200) and the collective
    complaint is grade A; the complainant 投诉人 with several complaints is a repeat complainant."""
    sign_in_as(client, "manager")
    html = client.get("/reports?kind=persons&month=2026-10").get_data(as_text=True)
    table = html[html.index('id="persons-respondents"'):]
    table = table[:table.index("</table>")]
    assert '<tr class="flagged"><td>1</td><td>甲律师事务所</td><td>律师事务所</td><td>3</td>' \
           '<td>当月3次以上：公开批评，罚款200元</td>' in table
    assert "<td>乙</td><td></td><td>1</td><td></td>" in table
    collective = html[html.index('id="persons-collective"'):]
    assert f"<td>{october['O7']}</td><td>甲律师事务所</td><td>12</td><td>A</td>" in collective
    assert 'id="persons-complainants"' in html


def test_persons_downloads_xlsx_and_chinese_csv(client: FlaskClient, services: Services,
                                                october: dict[str, str]) -> None:
    sign_in_as(client, "manager")
    log = LogCounter(services)
    resp = client.get("/reports/persons/2026-10.xlsx")
    assert resp.status_code == 200 and 'filename="persons-2026-10.xlsx"' in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    sheet = wb["被投诉人"]
    assert [c.value for c in sheet[1]][:5] == ["序号", "被投诉人", "类型", "件数", "提示"]
    assert [c.value for c in sheet[2]][1:4] == ["甲律师事务所", "律师事务所", 3]
    assert _entries(log) == [("list_dossiers", "allowed", "persons/2026-10")]
    data = client.get("/reports/persons/2026-10.csv?labels=1").data
    assert data.startswith("\ufeff".encode())                   # Excel reads UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["分组", "名称", "类型/类别", "件数", "提示", "卷号"]
    raw = list(csv.reader(io.StringIO(client.get("/reports/persons/2026-10.csv").data.decode("utf-8-sig"))))
    assert raw[0] == ["section", "name", "detail", "count", "flag", "numbers"]
    assert raw[1][:5] == ["respondents", "甲律师事务所", "law_firm", "3", "criticism_fine_200"]


def test_monthly_csv_with_chinese_column_names(client: FlaskClient, october: dict[str, str]) -> None:
    sign_in_as(client, "archivist")
    rows = list(csv.reader(io.StringIO(client.get("/reports/monthly/2026-10.csv?labels=1").data.decode("utf-8-sig"))))
    assert rows[0] == ["分组", "项目", "指标", "数值"]
    assert ["本月", "收到投诉", "数值", "6"] in rows and ["按类别", "收费", "件数", "4"] in rows


def test_register_xlsx_for_a_date_range(client: FlaskClient, services: Services, october: dict[str, str]) -> None:
    """GIVEN an archivist
    WHEN they download the register of 1-31 October 2026
    THEN it has one row per complaint received (withdrawn ones too), Chinese headers, a frozen
    header row, dates as dates, the overdue flag — and one entry."""
    sign_in_as(client, "archivist")
    log = LogCounter(services)
    resp = client.get("/reports/register?from=2026-10-01&to=2026-10-31")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="register-2026-10-01-2026-10-31.xlsx"' in resp.headers["Content-Disposition"]
    assert _entries(log) == [("list_dossiers", "allowed", "register/2026-10-01..2026-10-31")]
    ws = openpyxl.load_workbook(io.BytesIO(resp.data))["登记簿"]
    header = [c.value for c in ws[1]]
    assert header[:15] == ["序号", "卷号", "收件日期", "渠道", "投诉人", "被投诉人", "投诉事项", "类别", "承办部门",
                           "状态", "受理日期", "决定日期", "答复日期", "办结日期", "是否逾期"]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["G"].width == 40
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 7 and october["N1"] not in rows and october["S1"] not in rows
    o1 = rows[october["O1"]]
    assert o1[2] == datetime(2026, 10, 8) and o1[3] == "信函" and o1[5] == "甲律师事务所" and o1[9] == "已办结"
    assert o1[10] == datetime(2026, 10, 9) and o1[13] == datetime(2026, 10, 30)
    assert o1[14] == "是" and "答复期限逾期" in o1[15]          # replied late (TL-04)
    assert rows[october["O3"]][14] == "是" and rows[october["O5"]][14] == "否"   # O5 refused in time, closed
    assert rows[october["O6"]][9] == "已撤销"


def test_register_csv_and_department_scope(client: FlaskClient, october: dict[str, str]) -> None:
    sign_in_as(client, "manager_b")
    data = client.get("/reports/register?from=2026-10-01&to=2026-10-31&format=csv&labels=1").data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "卷号", "收件日期"] and len(rows) == 3       # O3 and O5: department B
    raw = list(csv.reader(io.StringIO(
        client.get("/reports/register?from=2026-10-01&to=2026-10-31&format=csv").data.decode("utf-8-sig"))))
    assert raw[0][:3] == ["seq", "archive_number", "received_on"] and raw[1][2] == "2026-10-12"


@pytest.mark.parametrize("url", ["/reports?kind=weekly&week=2026-W54", "/reports?month=2026-13", "/reports?kind=yearly",
                                 "/reports/weekly/2026-W50.csv", "/reports/register?from=2026-10-31&to=2026-10-01",
                                 "/reports/register?from=2026-10-01", "/reports/register?from=x&to=2026-10-01",
                                 "/reports/register?from=2026-10-01&to=2026-10-31&format=docx"])
def test_bad_periods_are_400(client: FlaskClient, october: dict[str, str], url: str) -> None:
    sign_in_as(client, "manager")
    assert client.get(url).status_code == 400


def test_weekly_file_formats(client: FlaskClient, october: dict[str, str]) -> None:
    sign_in_as(client, "manager")
    assert client.get("/reports/weekly/2026-W42.pdf").data.startswith(b"%PDF-")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/weekly/2026-W42.xlsx").data))
    assert wb["概况"]["A1"].value.startswith("2026年第42周投诉统计周报")
    assert client.get("/reports/weekly/2026-W42.docx").status_code == 404


# ---------------------------------------------------------------------- every role (the world of tests/web/conftest.py)
WHO = ["anonymous", "admin", "archivist", "handler_a", "handler_b", "manager", "regulator", "regulator_none",
       "regulator_expired", "auditor"]
DOWNLOAD = [302, 403, 200, 403, 403, 200, 403, 403, 403, 403]
MATRIX: dict[str, list[int]] = {
    "/reports":                                   [302, 403, 200, 200, 200, 200, 200, 403, 403, 200],
    "/reports?kind=weekly&week=2026-W44":         [302, 403, 200, 200, 200, 200, 200, 403, 403, 200],
    "/reports?kind=persons&month=2026-10":        [302, 403, 200, 200, 200, 200, 200, 403, 403, 200],
    "/reports/weekly/2026-W44.xlsx":              DOWNLOAD,
    "/reports/persons/2026-10.csv":               DOWNLOAD,
    "/reports/register?from=2026-10-01&to=2026-11-03": DOWNLOAD,
}


@pytest.mark.parametrize("route", list(MATRIX))
def test_each_role_gets_its_status_and_one_log_entry(client: FlaskClient, world: Any, log: LogCounter,
                                                      route: str) -> None:
    """GIVEN every kind of caller
    WHEN each asks for a report page or file
    THEN those who may list see the page, those who may export get files, and each request
    leaves exactly one entry, allowed or refused."""
    problems = []
    for who, expected in zip(WHO, MATRIX[route], strict=True):
        sign_in_as(client, None if who == "anonymous" else who)
        resp = client.get(route)
        resp.get_data()
        entries = log.new_entries()
        outcome = "allowed" if expected == 200 else "refused"
        if resp.status_code != expected or len(entries) != 1 or entries[0].event.outcome != outcome:
            problems.append(f"{who}: status {resp.status_code} (expected {expected}), "
                            f"log {[(e.event.action, e.event.outcome) for e in entries]}")
    assert not problems, "\n".join(problems)


def test_a_regulator_counts_only_its_granted_dossiers(client: FlaskClient, world: Any) -> None:
    """GIVEN a regulator granted one dossier
    WHEN it opens the reports page for the dossiers' month
    THEN the figures count that one dossier, and the scope says it is limited to the grant."""
    sign_in_as(client, "regulator")
    html = client.get("/reports").get_data(as_text=True)
    assert "<td>收到投诉</td><td>1</td>" in html and "限于查阅授权范围" in html
