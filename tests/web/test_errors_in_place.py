"""Errors where the user is, in the user's language; only the links the role can use (issue #11 items 1 and 2).

A refused form comes back with status 422, every value as typed and a translated sentence beside
the field it names (INT-F registration, ACS-04 grants); error pages speak zh-CN or English and
never the exception's developer text; the navigation offers only what the policy gives the role;
file facts and retention rules are shown in words, not MIME types, byte counts or rule ids (RET).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from records.access.identity import Role
from tests.web.conftest import OPERATOR, World, csrf_token, sign_in_as
from web.bootstrap import Services

DEVELOPER_WORDING = ("lies in the future", "may not", "give --", "Not Found", "requested URL", "no dossier",
                     "received_at:", "unknown key", "Internal error")


def _html(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _no_developer_wording(html: str) -> None:
    for words in DEVELOPER_WORDING:
        assert words not in html, words


def _nav(html: str) -> str:
    m = re.search(r"<nav>(.*?)</nav>", html, re.S)
    assert m, "no navigation"
    return m.group(1)


def _register_form(client: FlaskClient, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/register"), "matter": "律师拒不退还代理费", "complainant": "王五",
            "category": "收费", "department": "A", "request": "要求退费", **fields}
    return client.post("/register", data=data)


# ---------------------------------------------------------------------- the registration form
def test_a_future_receipt_date_keeps_the_form_and_says_why_in_chinese(client: FlaskClient, world: World) -> None:
    """GIVEN a handler (zh-CN, the default) WHEN they register with a receipt date in the future
    THEN 422, the same form with every typed value, and the Chinese sentence beside the date field."""
    sign_in_as(client, "handler_a")
    resp = _register_form(client, received_at="2999-01-01T09:30")
    html = _html(resp)
    assert resp.status_code == 422
    assert 'name="matter"' in html and 'value="律师拒不退还代理费"' in html and 'value="王五"' in html
    assert 'value="2999-01-01T09:30"' in html and ">要求退费</textarea>" in html
    field = re.search(r'<input name="received_at"[^>]*>(.*?)</label>', html, re.S)
    assert field and 'aria-invalid="true"' in field.group(0) and "收件时间不能晚于当前时间。" in field.group(1)
    _no_developer_wording(html)


def test_the_same_refusal_in_english(client: FlaskClient, world: World) -> None:
    """GIVEN a handler who chose English WHEN the receipt date lies in the future THEN the English sentence, in place."""
    sign_in_as(client, "handler_a")
    client.get("/lang/en")
    resp = _register_form(client, received_at="2999-01-01T09:30")
    html = _html(resp)
    assert resp.status_code == 422 and "The receipt date cannot lie in the future." in html
    assert 'value="律师拒不退还代理费"' in html and "lies in the future" not in html


def test_missing_matter_and_another_department_are_shown_beside_their_fields(client: FlaskClient, world: World) -> None:
    """GIVEN a handler of department A WHEN the matter is missing, or the department is B
    THEN each answer is 422 with the message beside that field, the other values kept."""
    sign_in_as(client, "handler_a")
    resp = _register_form(client, matter="")
    assert resp.status_code == 422 and "请填写投诉事项" in _html(resp) and 'value="王五"' in _html(resp)
    resp = _register_form(client, department="B")
    html = _html(resp)
    field = re.search(r'<input name="department"[^>]*>(.*?)</label>', html, re.S)
    assert resp.status_code == 422 and field and 'value="B"' in field.group(0)
    assert "您无权为该部门登记投诉。" in field.group(1)
    _no_developer_wording(html)


def test_a_good_registration_still_opens_the_dossier(client: FlaskClient, world: World) -> None:
    """A form without problems is unchanged: 303 to the new dossier."""
    sign_in_as(client, "handler_a")
    resp = _register_form(client)
    assert resp.status_code == 303 and "/dossiers/" in resp.headers["Location"]


# ---------------------------------------------------------------------- error pages
def test_an_unknown_dossier_is_a_chinese_404_page(client: FlaskClient, world: World) -> None:
    """GIVEN a handler WHEN they open a dossier number that does not exist, or a URL that does not
    THEN a 404 page in Chinese: no Werkzeug text, no developer wording."""
    sign_in_as(client, "handler_a")
    for path in ("/dossiers/X-2099-99999", "/no/such/page"):
        resp = client.get(path)
        html = _html(resp)
        assert resp.status_code == 404 and "未找到" in html and "该页面或记录不存在，或您无权查看。" in html
        _no_developer_wording(html)


def test_a_refused_page_is_a_translated_403_naming_the_missing_permission(client: FlaskClient, world: World) -> None:
    """GIVEN a regulator WHEN they open the user administration THEN a 403 page says, in Chinese,
    that the role lacks "用户管理" — not "regulator may not manage_users"; in English likewise."""
    sign_in_as(client, "regulator")
    resp = client.get("/admin/users")
    html = _html(resp)
    assert resp.status_code == 403 and "无权操作" in html and "用户管理" in html and "监管机构" in html
    _no_developer_wording(html)
    client.get("/lang/en")
    html = _html(client.get("/admin/users"))
    assert "Not allowed" in html and "Manage users" in html and "manage_users" not in html


def test_the_api_keeps_its_developer_message(client: FlaskClient, world: World) -> None:
    """The API's JSON is for developers: its 404 keeps code and message as before."""
    resp = client.get("/api/v1/dossiers/X-2099-99999", headers={"Authorization": f"Bearer {world.tokens['handler_a']}"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


# ---------------------------------------------------------------------- links follow the policy
@pytest.mark.parametrize(("name", "hidden", "shown"), [
    ("regulator", ("/register",), ("/search", "/audit")),
    ("auditor", ("/register", "/search"), ("/audit",)),
    ("handler_a", ("/audit", "/admin/users", "/admin/grants"), ("/register", "/search")),
    ("archivist", ("/admin/users",), ("/register", "/search", "/admin/grants")),
])
def test_the_navigation_offers_only_what_the_role_may_do(client: FlaskClient, world: World, name: str,
                                                          hidden: tuple[str, ...], shown: tuple[str, ...]) -> None:
    """GIVEN each role WHEN it opens the dossier list THEN no link leads to a page it would be refused."""
    sign_in_as(client, name)
    nav = _nav(_html(client.get("/dossiers")))
    for path in hidden:
        assert f'href="{path}"' not in nav, (name, path)
    for path in shown:
        assert f'href="{path}"' in nav, (name, path)


def test_a_regulator_is_refused_the_registration_form_itself(client: FlaskClient, world: World) -> None:
    """GIVEN a regulator WHEN they open /register THEN a translated 403 at once (no form to fill in first),
    and the dashboard offers no "+ 登记投诉" tile."""
    sign_in_as(client, "regulator")
    resp = client.get("/register")
    html = _html(resp)
    assert resp.status_code == 403 and 'name="matter"' not in html and "无权操作" in html and "登记" in html
    _no_developer_wording(html)
    assert 'href="/register"' not in _html(client.get("/"))
    sign_in_as(client, "handler_a")
    assert 'href="/register"' in _html(client.get("/"))


def test_the_current_section_is_marked_in_the_navigation(client: FlaskClient, world: World) -> None:
    """The nav link of the page's section carries aria-current="page" (one, on the right link)."""
    sign_in_as(client, "handler_a")
    nav = _nav(_html(client.get(f"/dossiers/{world.dossier}")))
    assert nav.count('aria-current="page"') == 1 and re.search(r'href="/dossiers" aria-current="page"', nav)


# ---------------------------------------------------------------------- the grant form
def _grant(client: FlaskClient, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/admin/grants"), "grantee": "regulator_none",
            "grant_purpose": "专项检查", "dossiers": "", "filter": "", "expires": "2999-12-31", **fields}
    return client.post("/admin/grants", data=data)


def test_a_grant_filter_may_name_its_fields_in_chinese(client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN an archivist WHEN the grant filter is written 被投诉人：某律师事务所 类别:收费
    THEN the grant is made with the respondent and category filter (not refused as an unknown key)."""
    sign_in_as(client, "archivist")
    resp = _grant(client, filter="被投诉人：某律师事务所 类别:收费")
    assert resp.status_code == 303, _html(resp)[:500]
    grant = [g for g in services.access.list_grants(OPERATOR) if g.grantee == "regulator_none"][-1]
    assert grant.filter is not None and grant.filter.respondents == frozenset({"某律师事务所"})
    assert grant.filter.categories == frozenset({"收费"})


def test_a_bad_grant_filter_keeps_the_form_and_says_why_in_chinese(client: FlaskClient, world: World) -> None:
    """GIVEN an archivist WHEN the filter names a field nobody knows THEN 422, the form as typed and a
    Chinese sentence beside the filter that names the fields to use."""
    sign_in_as(client, "archivist")
    resp = _grant(client, filter="投诉渠道:信函")
    html = _html(resp)
    field = re.search(r'<input name="filter"[^>]*>(.*?)</label>', html, re.S)
    assert resp.status_code == 422 and field and 'value="投诉渠道:信函"' in field.group(0)
    assert "无法识别的筛选字段" in field.group(1) and 'value="专项检查"' in html
    _no_developer_wording(html)


# ---------------------------------------------------------------------- file facts in words
def test_the_document_page_names_the_format_and_size_in_words(client: FlaskClient, world: World,
                                                              services: Services) -> None:
    """GIVEN a text document WHEN its page is shown THEN "纯文本" and a size like "58 字节", not text/plain or "58 B";
    and a TIFF of 36996 bytes reads "TIFF 图像 · 36.1 KB"."""
    sign_in_as(client, "handler_a")
    html = _html(client.get(f"/documents/{world.item}"))
    assert "纯文本" in html and "字节" in html and re.search(r"\d B\b", html) is None
    with client.application.test_request_context("/"):
        from web.ui.file_labels import file_size, media_type_label, retention_rule
        assert (media_type_label("image/tiff"), file_size(36996)) == ("TIFF 图像", "36.1 KB")
        assert media_type_label("message/rfc822") == "电子邮件" and media_type_label("application/pdf") == "PDF 文档"
        assert retention_rule("default-1y") == "一般材料：自办结之日起保存 1 年"


def test_the_dossier_page_shows_the_retention_rule_in_words(client: FlaskClient, world: World) -> None:
    """GIVEN a dossier under the seed schedule WHEN its page is shown THEN the rule reads as a sentence, not default-1y."""
    sign_in_as(client, "handler_a")
    html = _html(client.get(f"/dossiers/{world.dossier}"))
    assert "自办结之日起保存 1 年" in html and ">default-1y<" not in html
