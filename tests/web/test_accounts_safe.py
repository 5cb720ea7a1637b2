"""Account administration that is safe by default (issue #11 item 6; ACS-01, ACS-02).

No preselected role, a password that meets the policy (records/access/passwords.py), a confirm
step and a success message for disabling, re-enabling, an administrator's reset that ends the
account's sessions, and a person's own change that needs the current password. Each change
leaves one access-log entry; a refusal too.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from records.access.log import Outcome
from web.bootstrap import Services

from .conftest import PASSWORD, LogCounter, World, csrf_token, sign_in_as

STRONG = "Gelber Fluss 落日 1987 tür"


def _english(client: FlaskClient, name: str) -> FlaskClient:
    sign_in_as(client, name)
    client.get("/lang/en")
    return client


def _add(client: FlaskClient, **fields: str) -> tuple[int, str]:
    token = csrf_token(client, "/admin/users")
    resp = client.post("/admin/users", data={"csrf_token": token, **fields})
    return resp.status_code, resp.get_data(as_text=True)


def _login(client: FlaskClient, name: str, password: str) -> int:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code


def _beside(html: str, field: str, message: str) -> bool:
    """The message sits in the field's own label (read with the field), and the field is marked invalid."""
    for label in re.findall(r"<label>(?:(?!</label>).)*</label>", html, re.S):
        if f'name="{field}"' in label:
            return 'aria-invalid="true"' in label and message in label
    return False


def test_the_role_has_no_default_and_a_missing_role_is_refused_beside_the_field(
        client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN the accounts page WHEN an admin sends the form without choosing a role
    THEN no role was preselected, nothing is created, and "Choose a role." stands beside the role with the name kept."""
    _english(client, "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    select = re.search(r'<select name="role"[^>]*>(.*?)</select>', page, re.S)
    assert select and "required" in select.group(0)
    assert re.search(r'<option value="" selected>', select.group(1))
    assert not re.search(r'value="admin" selected', select.group(1))

    status, html = _add(client, name="newbie", departments="", password=STRONG, password2=STRONG)
    assert status == 422
    assert _beside(html, "role", "Choose a role.")
    assert 'value="newbie"' in html and STRONG not in html  # typed name kept, never the password
    assert "newbie" not in {u.name for u in services.access.list_users(services.access.identity("admin"))}


def test_weak_passwords_are_refused_with_the_reason_beside_the_field(
        client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN an admin adding an account WHEN the password is short, common, contains the name or is missing
    THEN the form comes back (422) with the specific reason beside the password and no account exists."""
    _english(client, "admin")
    cases = {"Short 1!": "Too short", "password1234": "Too common", "zhangwei123456": "Contains your name",
             "": "Enter a password."}
    for password, reason in cases.items():
        status, html = _add(client, name="zhangwei", role="auditor", password=password, password2=password)
        assert status == 422, password
        assert _beside(html, "password", reason), (password, html[-3000:])
    admin = services.access.identity("admin")
    assert "zhangwei" not in {u.name for u in services.access.list_users(admin)}

    status, _html = _add(client, name="zhangwei", role="auditor", password=STRONG, password2=STRONG)
    assert status == 303
    assert "Account zhangwei created." in client.get("/admin/users").get_data(as_text=True)


def test_disabling_asks_first_then_says_it_is_done(client: FlaskClient, world: World, services: Services,
                                                  log: LogCounter) -> None:
    """GIVEN handler_b is active WHEN an admin clicks Disable THEN a confirm page asks (nothing changes, nothing
    logged); only the confirmed POST disables it, once logged, and the list says so in a success message."""
    _english(client, "admin")
    log.new_entries()
    ask = client.get("/admin/users/handler_b/disable").get_data(as_text=True)
    assert "Disable account handler_b?" in ask and 'name="confirm" value="yes"' in ask
    token = csrf_token(client, "/admin/users")
    unconfirmed = client.post("/admin/users/handler_b/disable", data={"csrf_token": token})
    assert unconfirmed.status_code == 200 and "Disable account handler_b?" in unconfirmed.get_data(as_text=True)
    admin = services.access.identity("admin")
    assert {u.name: u.active for u in services.access.list_users(admin)}["handler_b"] is True
    log.new_entries()

    done = client.post("/admin/users/handler_b/disable", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    entries = log.new_entries()
    assert [(e.event.details.get("change"), e.event.outcome) for e in entries] == [("disable_user", Outcome.ALLOWED)]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Account handler_b disabled" in page and 'class="flash ok"' in page


def test_a_disabled_account_is_enabled_again_and_logged_once(client: FlaskClient, world: World,
                                                             services: Services, log: LogCounter) -> None:
    """GIVEN a disabled account WHEN an admin presses Enable THEN it signs in again; one allowed entry is logged."""
    _english(client, "admin")
    token = csrf_token(client, "/admin/users")
    client.post("/admin/users/handler_b/disable", data={"csrf_token": token, "confirm": "yes"})
    assert 'action="/admin/users/handler_b/enable"' in client.get("/admin/users").get_data(as_text=True)
    log.new_entries()
    resp = client.post("/admin/users/handler_b/enable", data={"csrf_token": token})
    assert resp.status_code == 303
    entries = log.new_entries()
    assert [(e.event.action, e.event.object_ref, e.event.details.get("change"), e.event.outcome) for e in entries] \
        == [("manage_users", "handler_b", "enable_user", Outcome.ALLOWED)]
    assert "Account handler_b enabled" in client.get("/admin/users").get_data(as_text=True)
    assert _login(Flask.test_client(client.application), "handler_b", PASSWORD) == 302


def test_an_admin_reset_ends_the_old_session_and_is_logged(app: Flask, client: FlaskClient, world: World,
                                                           log: LogCounter) -> None:
    """GIVEN handler_a signed in on a browser WHEN an admin sets a new password THEN that browser is signed out,
    the old password fails, the new one works, and the reset is one logged entry."""
    browser = sign_in_as(app.test_client(), "handler_a")
    assert browser.get("/").status_code == 200
    _english(client, "admin")
    token = csrf_token(client, "/admin/users/handler_a/password")
    weak = client.post("/admin/users/handler_a/password",
                       data={"csrf_token": token, "password": "handler_a2020", "password2": "handler_a2020"})
    assert weak.status_code == 422 and _beside(weak.get_data(as_text=True), "password", "Contains your name")
    log.new_entries()
    resp = client.post("/admin/users/handler_a/password",
                       data={"csrf_token": token, "password": STRONG, "password2": STRONG})
    assert resp.status_code == 303
    assert [(e.event.details.get("change"), e.event.outcome) for e in log.new_entries()] == [
        ("set_password", Outcome.ALLOWED)]
    assert "New password set for handler_a" in client.get("/admin/users").get_data(as_text=True)
    assert browser.get("/").status_code == 302  # the old session ended
    assert _login(app.test_client(), "handler_a", PASSWORD) == 401
    assert _login(app.test_client(), "handler_a", STRONG) == 302


def test_changing_ones_own_password_needs_the_current_one(app: Flask, world: World, log: LogCounter) -> None:
    """GIVEN handler_a on "My account" (linked from their name) WHEN the current password is wrong THEN nothing
    changes, the reason stands beside that field and one refusal is logged; with it right, the password changes
    and this browser stays signed in."""
    browser = _english(app.test_client(), "handler_a")
    page = browser.get("/").get_data(as_text=True)
    assert 'href="/account"' in page
    token = csrf_token(browser, "/account")
    log.new_entries()
    wrong = browser.post("/account", data={"csrf_token": token, "current_password": "not my password",
                                           "password": STRONG, "password2": STRONG})
    assert wrong.status_code == 422
    assert _beside(wrong.get_data(as_text=True), "current_password", "The current password is wrong.")
    assert [(e.event.action, e.event.outcome) for e in log.new_entries()] == [("manage_users", Outcome.REFUSED)]
    assert _login(app.test_client(), "handler_a", PASSWORD) == 302

    right = browser.post("/account", data={"csrf_token": token, "current_password": PASSWORD,
                                           "password": STRONG, "password2": STRONG})
    assert right.status_code == 303
    assert "Your password has been changed" in browser.get("/account").get_data(as_text=True)
    assert browser.get("/").status_code == 200  # this browser stays signed in
    assert _login(app.test_client(), "handler_a", PASSWORD) == 401
    assert _login(app.test_client(), "handler_a", STRONG) == 302


def test_a_non_admin_cannot_reset_someone_elses_password(app: Flask, world: World, log: LogCounter) -> None:
    """GIVEN handler_b signed in WHEN they post a new password for handler_a THEN refused, one refused entry,
    and handler_a's password is unchanged. The answer is 404, as for every refusal naming an object
    (web/errors.py): a non-administrator does not learn which accounts exist."""
    browser = _english(app.test_client(), "handler_b")
    token = csrf_token(browser, "/account")
    log.new_entries()
    resp = browser.post("/admin/users/handler_a/password",
                        data={"csrf_token": token, "password": STRONG, "password2": STRONG})
    assert resp.status_code == 404
    assert [(e.event.action, e.event.object_ref, e.event.outcome) for e in log.new_entries()] == [
        ("manage_users", "handler_a", Outcome.REFUSED)]
    assert _login(app.test_client(), "handler_a", PASSWORD) == 302
