"""Sign-in, sign-out, throttling, CSRF and session cookies."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, LogCounter, World, csrf_token


def _login(client: FlaskClient, name: str, password: str) -> object:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def test_sign_in_with_the_right_password_opens_the_dashboard(client: FlaskClient, world: World, log: LogCounter) -> None:
    """A handler signs in with name and password and lands on the dashboard; the sign-in is logged."""
    resp = _login(client, "handler_a", PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    entries = log.new_entries()
    assert [(e.event.action, e.event.outcome) for e in entries] == [("sign_in", "allowed")]
    assert client.get("/").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, world: World) -> None:
    """The session cookie cannot be read by scripts nor sent on cross-site posts."""
    resp = _login(client, "handler_a", PASSWORD)
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("dossier_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_tls(client: FlaskClient, world: World) -> None:
    """Over HTTPS the session cookie is marked Secure."""
    token = csrf_token(client, "/login")
    resp = client.post("/login", data={"name": "handler_a", "password": PASSWORD, "csrf_token": token},
                       base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("dossier_session="))
    assert "Secure" in cookie


def test_wrong_password_is_refused_and_logged(client: FlaskClient, world: World, log: LogCounter) -> None:
    """A wrong password shows the sign-in form again with 401 and one refused entry."""
    resp = _login(client, "handler_a", "not the password")
    assert resp.status_code == 401
    assert [(e.event.action, e.event.outcome) for e in log.new_entries()] == [("sign_in", "refused")]
    assert client.get("/").status_code == 302


def test_five_failures_lock_the_name_for_fifteen_minutes(client: FlaskClient, world: World, log: LogCounter) -> None:
    """After 5 failures the right password is refused too (429), and the refusal is logged."""
    for _ in range(5):
        assert _login(client, "handler_a", "guess guess").status_code == 401
    log.new_entries()
    resp = _login(client, "handler_a", PASSWORD)
    assert resp.status_code == 429
    entries = log.new_entries()
    assert [(e.event.action, e.event.outcome) for e in entries] == [("sign_in", "refused")]
    assert entries[0].event.details.get("problem") == "throttled"
    assert _login(client, "handler_b", PASSWORD).status_code == 302  # other names are unaffected


def test_post_without_csrf_token_is_refused(client: FlaskClient, world: World) -> None:
    """A form posted without the CSRF token is refused with 400 and changes nothing."""
    resp = client.post("/login", data={"name": "handler_a", "password": PASSWORD})
    assert resp.status_code == 400
    assert "csrf" in resp.get_data(as_text=True)


def test_sign_out_ends_the_session(client: FlaskClient, world: World) -> None:
    """After signing out, pages ask to sign in again."""
    _login(client, "handler_a", PASSWORD)
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_language_switch_shows_english(client: FlaskClient, world: World) -> None:
    """zh-CN is the default; the language link switches the pages to English."""
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
