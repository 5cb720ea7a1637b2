"""Register → upload → search → read: the handler's day, through the pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def test_handler_registers_uploads_and_finds_a_complaint(client: FlaskClient, services: Services, world: World,
                                                         log: LogCounter) -> None:
    """GIVEN a handler WHEN they register (INT-F) and upload two files THEN each is queued at once and, once the
    background worker has run, has an outcome and is searchable."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, "/register")
    resp = client.post("/register", data={
        "csrf_token": token, "matter": "法律援助律师未按时出庭", "received_at": "2026-11-02T09:30", "channel": "letter",
        "complainant": "王五", "respondent": "某法律援助中心", "department": "A", "category": "履职",
        "evidence": "判决书\n短信截图"})
    assert resp.status_code == 303
    number = resp.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/dossiers/{number}").get_data(as_text=True)
    assert "法律援助律师未按时出庭" in page and "判决书; 短信截图" in page

    token = csrf_token(client, f"/dossiers/{number}/upload")
    log.new_entries()
    resp = client.post(f"/dossiers/{number}/upload", data={"csrf_token": token, "files": [
        (__import__("io").BytesIO("投诉信：律师缺席庭审。".encode()), "投诉信.txt"),
        (__import__("io").BytesIO(b"\x00\x01garbage\xff"), "broken.bin")]}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 202  # accepted: sealed and queued, not yet filed
    assert len(log.new_entries()) == 1  # one file_document decision for the whole upload
    assert "投诉信.txt" in html and "broken.bin" in html and html.count('data-state="queued"') == 2
    jobs = re.findall(r'data-job="([0-9a-f]{32})"', html)
    services.intake.run_pending()  # the background worker
    html = client.get(f"/dossiers/{number}/upload", query_string={"job": jobs}).get_data(as_text=True)
    items = re.findall(rf"/documents/({re.escape(number)}-\d+)", html)
    assert len(items) == 2 and html.count('data-state="filed"') == 2

    hits = client.get("/search?q=缺席").get_data(as_text=True)
    assert "<mark>缺席</mark>" in hits and number in hits
    view = client.get(f"/documents/{items[0]}").get_data(as_text=True)
    assert "律师缺席庭审" in view and "content" in view


def test_document_download_is_an_attachment_with_the_original_bytes(client: FlaskClient, world: World) -> None:
    """Download returns the original unchanged, as an attachment, never cached."""
    sign_in_as(client, "handler_a")
    resp = client.get(f"/documents/{world.item}/content?download=1")
    assert resp.data == "投诉书：某律师事务所收费过高，要求退费。".encode("gb18030")
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["Cache-Control"] == "no-store"


def test_regulator_search_counts_only_granted_dossiers(client: FlaskClient, world: World) -> None:
    """A regulator's hits, total and facets cover only the granted dossier (ACS-04)."""
    sign_in_as(client, "regulator")
    html = client.get("/search?q=投诉").get_data(as_text=True)
    assert world.dossier in html and world.other_dossier not in html
    sign_in_as(client, "manager")
    html = client.get("/search?q=投诉").get_data(as_text=True)
    assert world.dossier in html and world.other_dossier in html


def test_dashboard_shows_open_dossiers_and_deadlines(client: FlaskClient, world: World) -> None:
    """The dashboard lists open dossiers and the acceptance deadline that runs for them (TL-01)."""
    sign_in_as(client, "manager")
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    assert world.dossier in html and "Deadlines due" in html and "acceptance" in html


def test_auditor_reads_the_access_log(client: FlaskClient, world: World) -> None:
    """The auditor's log page shows refused attempts with who, what and why."""
    sign_in_as(client, "handler_b")
    client.get(f"/dossiers/{world.dossier}")
    sign_in_as(client, "auditor")
    html = client.get("/audit").get_data(as_text=True)
    assert "handler_b" in html and world.dossier in html and "refused" in html
