"""Hardening of the web door (issue #9 item 6): redirects, revocable sessions, spreadsheet cells,
the logged purpose, throttling, API tokens, response headers and the access log's time window.

Time only moves through the ``clock`` fixture (the archive's clock): nothing here reads the wall clock.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from records.access.errors import AccessDeniedError, InvalidUserError, TokenNotFoundError
from records.access.identity import AccessEvent, Identity, Outcome
from records.access.log import AccessLog
from records.model import Registration
from records.settings import Settings
from retention.inventory import Finding, FindingKind, InventoryReport
from retention.inventory_report import render_csv as inventory_csv
from web.bootstrap import Services
from tests.web.conftest import OPERATOR, PASSWORD, LogCounter, World, csrf_token, sign_in_as

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _login(client: FlaskClient, name: str, password: str, *, path: str = "/login", address: str = "127.0.0.1") -> Any:
    token = csrf_token(client, "/login")
    return client.post(path, data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _session_of(app: Flask, resp: Any) -> dict[str, Any] | None:
    """The session a response's Set-Cookie carries: None when it sets none, {} when it deletes it."""
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith("dossier_session="):
            value = header.split(";", 1)[0].partition("=")[2]
            if not value or "Max-Age=0" in header or "1970" in header:
                return {}
            return dict(app.session_interface.get_signing_serializer(app).loads(value))  # type: ignore[attr-defined]
    return None


# ---------------------------------------------------------------------- 1. redirect after sign-in
def _host_a_browser_goes_to(location: str) -> str:
    """Where a browser would go: it drops tabs and newlines and reads a backslash as a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/login", cleaned)).netloc


@pytest.mark.parametrize("raw_next", [
    "/%09/evil.example", "/%0a/x", "/%0d%0a/x", "/%5Cevil", "/%5cevil", "//x", "/%2F/evil.example",
    "/%252F%252Fevil.example", "https://evil.example/", "/%00/x", "/%E3%80%80/evil.example", "\\\\evil",
    "/\\evil", "%2F%2Fevil.example", "/%09%09/evil.example",
])
def test_sign_in_never_redirects_to_another_host(client: FlaskClient, world: World, raw_next: str) -> None:
    """GIVEN a sign-in link whose next= a browser could read as another host THEN it lands on the dashboard."""
    resp = _login(client, "handler_a", PASSWORD, path=f"/login?next={raw_next}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert _host_a_browser_goes_to(resp.headers["Location"]) == "localhost"


def test_sign_in_keeps_a_next_page_on_this_site(client: FlaskClient, world: World) -> None:
    """A plain path with a query survives: signing in returns the user where they were sent from."""
    resp = _login(client, "handler_a", PASSWORD, path="/login?next=%2Fdossiers%3Fstate%3Daccepted")
    assert resp.headers["Location"] == "/dossiers?state=accepted"


# ---------------------------------------------------------------------- 2. revocable sessions
def test_saved_cookie_is_refused_after_sign_out_and_not_renewed(app: Flask, client: FlaskClient, world: World,
                                                                 log: LogCounter) -> None:
    """GIVEN a copy of the session cookie WHEN the user signs out THEN the copy opens nothing, anywhere."""
    assert _login(client, "handler_a", PASSWORD).status_code == 302
    cookie = client.get_cookie("dossier_session")
    assert cookie is not None
    saved = cookie.value
    token = csrf_token(client, "/")
    log.new_entries()
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert [(e.event.action, e.event.details.get("change")) for e in log.new_entries()] == [("sign_in", "sign_out")]

    replay = app.test_client()
    replay.set_cookie("dossier_session", saved)
    page = replay.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert "user" not in (_session_of(app, page) or {})  # replaced, not refreshed

    replay.set_cookie("dossier_session", saved)
    api = replay.get("/api/v1/dossiers")
    assert api.status_code == 401
    assert "user" not in (_session_of(app, api) or {})  # the API never hands the cookie back renewed

    assert _login(app.test_client(), "handler_a", PASSWORD).status_code == 302  # signing in again works


def test_sign_out_ends_the_accounts_other_browsers_too(app: Flask, world: World) -> None:
    """One account, two browsers: signing out in one ends the other (a cookie cannot be told from its copy)."""
    first, second = app.test_client(), app.test_client()
    _login(first, "handler_a", PASSWORD)
    _login(second, "handler_a", PASSWORD)
    assert second.get("/").status_code == 200
    first.post("/logout", data={"csrf_token": csrf_token(first, "/")})
    assert second.get("/").status_code == 302


def test_stale_cookie_cannot_sign_the_account_out(app: Flask, services: Services, world: World) -> None:
    """A stale cookie's holder cannot end the user's current session by posting /logout."""
    old = app.test_client()
    _login(old, "handler_a", PASSWORD)
    token = csrf_token(old, "/")
    saved = old.get_cookie("dossier_session").value  # type: ignore[union-attr]
    old.post("/logout", data={"csrf_token": token})
    current = app.test_client()
    _login(current, "handler_a", PASSWORD)
    generation = services.access.session_generation("handler_a")
    old.set_cookie("dossier_session", saved)
    old.post("/logout", data={"csrf_token": token})
    assert services.access.session_generation("handler_a") == generation
    assert current.get("/").status_code == 200


def test_password_change_ends_sessions_and_is_the_accounts_or_an_admins(app: Flask, services: Services,
                                                                        world: World, log: LogCounter) -> None:
    """set_password: the account itself or an administrator; anyone else is refused and logged."""
    browser = sign_in_as(app.test_client(), "handler_a")
    assert browser.get("/").status_code == 200
    access = services.access
    log.new_entries()
    with pytest.raises(AccessDeniedError):
        access.set_password(access.identity("handler_b"), "handler_a", "not yours 123")
    assert [(e.event.action, e.event.outcome) for e in log.new_entries()] == [("manage_users", Outcome.REFUSED)]
    assert browser.get("/").status_code == 200  # a refused change ends nothing

    access.set_password(access.identity("handler_a"), "handler_a", "my new password")
    assert browser.get("/").status_code == 302
    assert _login(app.test_client(), "handler_a", PASSWORD).status_code == 401
    assert _login(app.test_client(), "handler_a", "my new password").status_code == 302
    access.set_password(access.identity("admin"), "handler_a", "reset by admin 1")
    with pytest.raises(InvalidUserError):
        access.set_password(access.identity("admin"), "handler_a", "short")


def test_disabling_ends_sessions_and_enabling_does_not_revive_them(app: Flask, services: Services,
                                                                   world: World) -> None:
    browser = sign_in_as(app.test_client(), "handler_a")
    assert browser.get("/").status_code == 200
    services.access.disable_user(OPERATOR, "handler_a")
    services.access.enable_user(OPERATOR, "handler_a")
    assert browser.get("/").status_code == 302
    assert _login(app.test_client(), "handler_a", PASSWORD).status_code == 302


# ---------------------------------------------------------------------- 3. spreadsheet cells
EVIL = '=HYPERLINK("http://x","y")'


def _evil_dossier(services: Services, clock: Any) -> None:
    services.records.register_complaint("test", Registration(
        matter="公式注入", received_at=clock.now - timedelta(days=1), complainant="王五", respondent="@SUM(A1)",
        department="-A", category=EVIL))


def test_monthly_csv_and_xlsx_write_names_as_text_never_formulas(client: FlaskClient, services: Services,
                                                                 world: World, clock: Any) -> None:
    """GIVEN a category typed as a formula WHEN the month is exported THEN every cell is inert text; numbers stay numbers."""
    from openpyxl import load_workbook

    _evil_dossier(services, clock)
    sign_in_as(client, "archivist")
    month = f"{clock.now:%Y-%m}"
    data = client.get(f"/reports/monthly/{month}.csv").get_data().decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(data)) for c in row]
    assert "'" + EVIL in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]

    book = load_workbook(io.BytesIO(client.get(f"/reports/monthly/{month}.xlsx").get_data()))
    values = [(cell.value, cell.data_type) for ws in book.worksheets for row in ws.iter_rows() for cell in row
              if cell.value is not None]
    assert not [v for v, kind in values if kind == "f" or (isinstance(v, str) and v.startswith(FORMULA_STARTS))]
    category = next(ws for ws in book.worksheets if any(c.value == "'" + EVIL for c in ws["A"]))
    row = next(r for r in category.iter_rows() if r[0].value == "'" + EVIL)
    assert row[1].value == 1 and isinstance(row[1].value, int)


def test_inventory_csv_defuses_formula_text(tmp_path: Path, clock: Any) -> None:
    report = InventoryReport(run_id="r1", run_dir=tmp_path, actor="a", backend="local", started_at=clock.now,
                             finished_at=clock.now, objects_checked=1, shredded_skipped=0, documents=1, store_keys=1,
                             series=1, resumed_from=0,
                             findings=(Finding(FindingKind.ORPHAN_BLOB, None, "+orphan-key", detail=EVIL),))
    cells = [c for row in csv.reader(io.StringIO(inventory_csv(report))) for c in row]
    assert "'" + EVIL in cells and "'+orphan-key" in cells
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]


# ---------------------------------------------------------------------- 4. the logged purpose
def test_regulator_cannot_restate_the_purpose_of_its_access(client: FlaskClient, world: World,
                                                            log: LogCounter) -> None:
    """?purpose= is kept as a note; the entry's purpose stays the grant's (ACS-04)."""
    resp = client.get(f"/api/v1/dossiers/{world.dossier}?purpose=随便看看",
                      headers={"Authorization": f"Bearer {world.tokens['regulator']}"})
    assert resp.status_code == 200
    (entry,) = log.new_entries()
    assert entry.event.purpose == "年度检查"
    assert entry.event.details["note"] == "随便看看"


# ---------------------------------------------------------------------- 5. throttling
def test_failures_from_one_address_never_lock_the_account_for_another(app: Flask, world: World, clock: Any,
                                                                      log: LogCounter) -> None:
    """Five wrong guesses for admin from A slow A down; admin signs in from B at once."""
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(5):
        assert _login(attacker, "admin", "guess guess", address="10.0.0.66").status_code == 401
    assert _login(attacker, "admin", PASSWORD, address="10.0.0.66").status_code == 429
    assert _login(owner, "admin", PASSWORD, address="10.0.0.7").status_code == 302
    problems = [e.event.details.get("problem") for e in log.new_entries() if e.event.outcome is Outcome.REFUSED]
    assert problems.count("throttled") == 1


def test_back_off_doubles_with_each_failure_and_passes_with_time(app: Flask, world: World, clock: Any) -> None:
    client = app.test_client()
    for _ in range(5):
        _login(client, "handler_a", "guess guess", address="10.0.0.66")
    clock.now += timedelta(seconds=29)
    assert _login(client, "handler_a", "guess guess", address="10.0.0.66").status_code == 429
    clock.now += timedelta(seconds=2)
    assert _login(client, "handler_a", "guess guess", address="10.0.0.66").status_code == 401  # the 6th failure
    clock.now += timedelta(seconds=59)
    assert _login(client, "handler_a", PASSWORD, address="10.0.0.66").status_code == 429  # now 60 s
    clock.now += timedelta(seconds=2)
    assert _login(client, "handler_a", PASSWORD, address="10.0.0.66").status_code == 302


# ---------------------------------------------------------------------- 6. API tokens
def test_tokens_are_listed_and_revoked_by_an_administrator_only(client: FlaskClient, services: Services,
                                                                world: World, clock: Any, log: LogCounter) -> None:
    access = services.access
    with pytest.raises(AccessDeniedError):
        access.list_tokens(access.identity("handler_a"))
    listed = access.list_tokens(access.identity("admin"), "handler_a")
    assert [t.user for t in listed] == ["handler_a"] and listed[0].status(clock.now).value == "active"
    assert all(world.tokens["handler_a"] not in repr(t) for t in listed)
    with pytest.raises(AccessDeniedError):
        access.revoke_token(access.identity("handler_b"), listed[0].token_id)
    auth = {"Authorization": f"Bearer {world.tokens['handler_a']}"}
    assert client.get("/api/v1/dossiers", headers=auth).status_code == 200
    log.new_entries()
    revoked = access.revoke_token(access.identity("admin"), listed[0].token_id)
    assert revoked.revoked_by == "admin" and revoked.status(clock.now).value == "revoked"
    assert [(e.event.action, e.event.details.get("change")) for e in log.new_entries()] == [
        ("manage_users", "revoke_token")]
    assert client.get("/api/v1/dossiers", headers=auth).status_code == 401
    with pytest.raises(TokenNotFoundError):
        access.revoke_token(OPERATOR, "no-such-token")


def test_token_expiring_in_the_past_is_refused(services: Services, world: World, clock: Any) -> None:
    with pytest.raises(InvalidUserError):
        services.access.create_token(OPERATOR, "handler_a", expires_at=clock.now - timedelta(seconds=1))
    assert services.access.create_token(OPERATOR, "handler_a", expires_at=clock.now + timedelta(days=1)).token


def _cli(settings: Settings, *args: str) -> Any:
    from web.cli import main

    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def test_token_and_user_commands(settings: Settings) -> None:
    """`dossier token list|revoke`, `dossier user enable`, and a past --expires exits 4."""
    assert _cli(settings, "init").exit_code == 0
    assert _cli(settings, "user", "add", "api", "--role", "archivist").exit_code == 0
    token = _cli(settings, "token", "create", "api", "--label", "nightly").stdout.strip()
    listed = json.loads(_cli(settings, "token", "list", "api", "--json").stdout)
    assert [(t["user"], t["label"], t["status"]) for t in listed] == [("api", "nightly", "active")]
    assert token not in json.dumps(listed)
    assert "nightly" in _cli(settings, "token", "list").stdout
    revoked = _cli(settings, "token", "revoke", listed[0]["token_id"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(_cli(settings, "token", "list", "--json").stdout)[0]["status"] == "revoked"
    assert _cli(settings, "token", "revoke", "nope").exit_code == 3
    past = _cli(settings, "token", "create", "api", "--expires", "2000-01-01")
    assert past.exit_code == 4 and "past" in past.output
    assert _cli(settings, "user", "disable", "api").exit_code == 0
    enabled = _cli(settings, "user", "enable", "api")
    assert enabled.exit_code == 0, enabled.output
    users = {u["name"]: u for u in json.loads(_cli(settings, "user", "list", "--json").stdout)}
    assert users["api"]["active"] is True


# ---------------------------------------------------------------------- 7. headers
def test_pages_carry_a_content_security_policy_without_inline_code(client: FlaskClient, world: World) -> None:
    sign_in_as(client, "handler_a")
    for path in ("/login", "/", f"/dossiers/{world.dossier}", f"/documents/{world.item}", "/search?q=收费",
                 f"/dossiers/{world.dossier}/upload", "/dossiers/9999-999"):
        resp = client.get(path)
        policy = resp.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
        html = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<style|\sstyle=|javascript:", html), path


def test_dashboard_statistics_need_no_inline_style(client: FlaskClient, world: World) -> None:
    html = sign_in_as(client, "archivist").get("/").get_data(as_text=True)
    assert 'id="monthly-report"' in html and not re.search(r"\sstyle=", html)


def test_monthly_html_report_allows_only_its_own_stylesheet(client: FlaskClient, world: World, clock: Any) -> None:
    resp = sign_in_as(client, "archivist").get(f"/reports/monthly/{clock.now:%Y-%m}.html")
    policy = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'sha256-" in policy and "script" not in policy


def test_answers_with_dossier_data_are_never_stored(client: FlaskClient, world: World) -> None:
    sign_in_as(client, "handler_a")
    for path in ("/", f"/dossiers/{world.dossier}", f"/documents/{world.item}/content", "/login"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    api = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {world.tokens['handler_a']}"})
    assert api.headers["Cache-Control"] == "no-store"
    static = client.get("/static/style.css")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_hsts_only_over_tls(client: FlaskClient, world: World) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


# ---------------------------------------------------------------------- 8. the access log's time window
def _event(clock: Any, n: int) -> AccessEvent:
    return AccessEvent(at=clock.now, actor="a", role="archivist", action="view_text", object_type="dossier",
                       object_ref=f"x-{n}", outcome=Outcome.ALLOWED, reason="test")


def test_a_checkpoint_is_signed_once_the_last_is_older_than_the_interval(services: Services, tmp_path: Path,
                                                                         clock: Any) -> None:
    """Few entries, a long time: the unsigned stretch after the last checkpoint is bounded in time too."""
    log = AccessLog(signing_key=tmp_path / "k" / "audit-signing.key", checkpoint_file=tmp_path / "k" / "cp.jsonl",
                    checkpoint_every=100, checkpoint_seconds=60, clock=clock)

    def append(n: int) -> None:
        with services.uow.write() as s:
            log.append(s, _event(clock, n))

    def signed() -> list[int]:
        return [json.loads(line)["seq"] for line in (tmp_path / "k" / "cp.jsonl").read_text().splitlines()] \
            if (tmp_path / "k" / "cp.jsonl").exists() else []

    append(1)
    clock.now += timedelta(seconds=59)
    append(2)
    assert signed() == []
    clock.now += timedelta(seconds=1)  # 60 s after the first entry
    append(3)
    assert signed() == [3]
    clock.now += timedelta(seconds=30)
    append(4)
    assert signed() == [3]
    clock.now += timedelta(seconds=31)
    append(5)
    assert signed() == [3, 5]
    with services.uow.read() as s:
        result = log.verify(s)
    assert result.ok and result.checkpoints == 2


def test_checkpoint_interval_is_a_setting(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_settings().access.checkpoint_seconds == 60
    monkeypatch.setenv("DOSSIER_ACCESS__CHECKPOINT_SECONDS", "5")
    assert make_settings().access.checkpoint_seconds == 5


def test_another_process_checkpoint_is_seen_before_signing_again(services: Services, tmp_path: Path,
                                                                 clock: Any) -> None:
    """Two logs (two workers) over one catalogue: one's checkpoint restarts the other's interval."""
    paths = {"signing_key": tmp_path / "k" / "audit-signing.key", "checkpoint_file": tmp_path / "k" / "cp.jsonl"}
    first = AccessLog(**paths, checkpoint_every=100, checkpoint_seconds=60, clock=clock)
    second = AccessLog(**paths, checkpoint_every=100, checkpoint_seconds=60, clock=clock)
    for n, log in enumerate((first, second, first)):
        with services.uow.write() as s:
            log.append(s, _event(clock, n))
        clock.now += timedelta(seconds=40)
    # entry 1 at 0 s; entry 2 (second) at 40 s: not due; entry 3 (first) at 80 s: due, signed.
    with services.uow.write() as s:
        second.append(s, _event(clock, 9))  # 120 s: 40 s after entry 3's checkpoint: not due
    lines = (tmp_path / "k" / "cp.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [3]


def test_identity_without_a_session_generation_is_refused(app: Flask, world: World) -> None:
    """A cookie signed before sessions carried a generation (or with any other value) opens nothing."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["user"] = "handler_a"
    assert client.get("/").status_code == 302
    with client.session_transaction() as s:
        s["user"], s["gen"] = "handler_a", True
    assert client.get("/").status_code == 302


def test_console_and_anonymous_cannot_sign_out_anything(services: Services, world: World) -> None:
    before = services.access.session_generation("handler_a")
    services.access.sign_out(Identity.anonymous())
    services.access.sign_out(OPERATOR)
    assert services.access.session_generation("handler_a") == before
