"""Administration pages: accounts and regulator grants through forms, and English labels for enum values."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import OPERATOR, LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def test_admin_adds_a_user_who_can_then_sign_in(client: FlaskClient, world: World, log: LogCounter) -> None:
    """GIVEN an admin WHEN they add a handler through the form THEN it is listed and signs in with its password."""
    sign_in_as(client, "admin")
    token = csrf_token(client, "/admin/users")
    log.new_entries()
    resp = client.post("/admin/users", data={"csrf_token": token, "name": "新承办人", "role": "handler",
                                             "departments": "A, C", "password": "a long password"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/admin/users")
    entries = log.new_entries()
    assert [(e.event.action, e.event.outcome, e.event.details.get("change")) for e in entries] == [
        ("manage_users", "allowed", "add_user")]
    html = client.get("/admin/users").get_data(as_text=True)
    assert "新承办人" in html and "A, C" in html

    sign_in_as(client, None)
    resp = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "name": "新承办人",
                                       "password": "a long password"})
    assert resp.status_code == 302
    assert client.get("/dossiers").status_code == 200


def test_admin_disables_a_user(client: FlaskClient, world: World, services: Services) -> None:
    sign_in_as(client, "admin")
    token = csrf_token(client, "/admin/users")
    resp = client.post("/admin/users/handler_b/disable", data={"csrf_token": token, "confirm": "yes"})
    assert resp.status_code == 303
    assert not services.access.identity("handler_b").active


def test_admin_lands_on_the_users_page(client: FlaskClient, world: World) -> None:
    sign_in_as(client, "admin")
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/users")
    assert 'href="/admin/users"' in client.get("/admin/grants").get_data(as_text=True)


def test_non_admins_are_refused_with_one_log_entry(client: FlaskClient, world: World, log: LogCounter) -> None:
    """Users management is the admin's alone; grants are the admin's and the archivist's (policy)."""
    for who, path in [("handler_a", "/admin/users"), ("archivist", "/admin/users"), ("regulator", "/admin/users"),
                      ("handler_a", "/admin/grants"), ("auditor", "/admin/grants")]:
        sign_in_as(client, who)
        resp = client.get(path)
        entries = log.new_entries()
        assert resp.status_code in (403, 404), (who, path, resp.status_code)
        assert [(e.event.actor, e.event.outcome) for e in entries] == [(who, "refused")], (who, path)
    sign_in_as(client, "archivist")
    assert client.get("/admin/grants").status_code == 200
    assert len(log.new_entries()) == 1


def test_non_admin_cannot_add_a_user(client: FlaskClient, world: World, log: LogCounter, services: Services) -> None:
    sign_in_as(client, "manager")
    token = csrf_token(client, "/dossiers")
    log.new_entries()
    resp = client.post("/admin/users", data={"csrf_token": token, "name": "intruder", "role": "admin",
                                             "password": "a long password"})
    assert resp.status_code in (403, 404)  # the refusal names the account, so it answers like a hidden object
    assert [(e.event.action, e.event.outcome) for e in log.new_entries()] == [("manage_users", "refused")]
    assert "intruder" not in {u.name for u in services.access.list_users(OPERATOR)}


def test_admin_grants_and_revokes_regulator_access(client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN regulator_none without a grant WHEN the admin grants dossier X THEN it sees X; revoked THEN not."""
    sign_in_as(client, "regulator_none")
    assert client.get(f"/dossiers/{world.dossier}").status_code == 404

    sign_in_as(client, "admin")
    token = csrf_token(client, "/admin/grants")
    resp = client.post("/admin/grants", data={"csrf_token": token, "grantee": "regulator_none",
                                              "dossiers": world.dossier, "grant_purpose": "专项检查",
                                              "expires": "2099-12-31"})
    assert resp.status_code == 303
    html = client.get("/admin/grants").get_data(as_text=True)
    assert "专项检查" in html and world.dossier in html
    grant = next(g for g in services.access.list_grants(OPERATOR, grantee="regulator_none"))
    assert grant.dossier_ids is not None and grant.purpose == "专项检查"

    sign_in_as(client, "regulator_none")
    assert client.get(f"/dossiers/{world.dossier}").status_code == 200

    sign_in_as(client, "admin")
    token = csrf_token(client, "/admin/grants")  # a new session, a new token
    refused = client.post(f"/admin/grants/{grant.grant_id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 303  # not confirmed: nothing revoked, the page says so
    assert "确认" in client.get("/admin/grants").get_data(as_text=True)
    sign_in_as(client, "regulator_none")
    assert client.get(f"/dossiers/{world.dossier}").status_code == 200  # still granted
    sign_in_as(client, "admin")
    token = csrf_token(client, "/admin/grants")
    resp = client.post(f"/admin/grants/{grant.grant_id}/revoke", data={"csrf_token": token, "confirm": "yes"})
    assert resp.status_code == 303
    sign_in_as(client, "regulator_none")
    assert client.get(f"/dossiers/{world.dossier}").status_code == 404


def test_grant_by_filter_text(client: FlaskClient, world: World, services: Services) -> None:
    sign_in_as(client, "archivist")
    token = csrf_token(client, "/admin/grants")
    resp = client.post("/admin/grants", data={"csrf_token": token, "grantee": "regulator_none",
                                              "filter": "category:收费", "grant_purpose": "收费检查",
                                              "expires": "2099-12-31"})
    assert resp.status_code == 303
    grant = services.access.list_grants(OPERATOR, grantee="regulator_none")[0]
    assert grant.filter is not None and grant.filter.categories == frozenset({"收费"})
    bad = client.post("/admin/grants", data={"csrf_token": token, "grantee": "regulator_none",
                                             "filter": "nonsense", "grant_purpose": "x", "expires": "2099-12-31"})
    assert bad.status_code == 422


def test_forms_without_csrf_token_are_refused(client: FlaskClient, world: World, services: Services) -> None:
    sign_in_as(client, "admin")
    resp = client.post("/admin/users", data={"name": "nocsrf", "role": "auditor", "password": "a long password"})
    assert resp.status_code == 400
    assert "nocsrf" not in {u.name for u in services.access.list_users(OPERATOR)}
    grant = services.access.list_grants(OPERATOR, grantee="regulator")[0]
    assert client.post(f"/admin/grants/{grant.grant_id}/revoke").status_code == 400
    assert services.access.list_grants(OPERATOR, grantee="regulator")[0].revoked_at is None
    assert client.post("/admin/users/handler_a/disable", data={"csrf_token": "forged"}).status_code == 400
    assert services.access.identity("handler_a").active


def test_english_pages_show_labels_not_raw_values(client: FlaskClient, world: World) -> None:
    """Enum values read as words in English and keep their Chinese labels in zh-CN."""
    sign_in_as(client, "handler_a")
    zh = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert "投诉信" in zh and "已登记" in zh
    client.get("/lang/en")
    en = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert "Complaint letter" in en and "Registered" in en
    assert not re.search(r">\s*(complaint_letter|registered)\s*<", en)
    register = client.get("/register").get_data(as_text=True)
    assert ">Comment book<" in register and ">comment_book<" not in register
