"""The inventory as a background job, and BagIt export and import, in the browser (issue #10 item 5)."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import bagit
from flask.testing import FlaskClient

from records.model import DossierState
from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def wait_until_finished(client: FlaskClient, timeout: float = 60) -> dict[str, Any]:
    """Poll the status URL as the page's script does, until the run is no longer running."""
    deadline = time.monotonic() + timeout  # waiting for a thread, not reading the archive's date
    while time.monotonic() < deadline:
        status = client.get("/inventory/status").get_json()
        if not status["running"]:
            return status  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the inventory did not finish")


# ---------------------------------------------------------------------- inventory
def test_an_archivist_runs_the_inventory_and_downloads_its_report(client: FlaskClient, world: World,
                                                                  log: LogCounter) -> None:
    """GIVEN an archivist on the inventory page
    WHEN they start an inventory and the page polls its status
    THEN it finishes with every catalogued object checked, is listed with its reports, and each
    report downloads; starting is logged once, as the run (RUN_INVENTORY)."""
    sign_in_as(client, "archivist")
    html = client.get("/inventory").get_data(as_text=True)
    assert 'action="/inventory"' in html and 'href="/inventory"' in html  # the form, and the nav link
    token = csrf_token(client, "/inventory")
    log.new_entries()
    resp = client.post("/inventory", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/inventory")
    status = wait_until_finished(client)
    assert status["state"] == "finished" and status["total"] > 0 and status["done"] == status["total"]
    assert status["findings"] == 0 and status["percent"] == 100 and status["started_by"] == "archivist"
    assert [(e.event.actor, e.event.action, e.event.outcome) for e in log.new_entries()] == [
        ("archivist", "inventory", "allowed")]  # the run's own entry; the status polls are not logged

    page = client.get("/inventory").get_data(as_text=True)
    run = status["run_id"]
    assert f'id="run-{run}"' in page and 'data-state="finished"' in page
    for fmt, head in (("csv", None), ("pdf", b"%PDF"), ("html", b"<!")):
        assert f"/inventory/{run}/report.{fmt}" in page
        with client.get(f"/inventory/{run}/report.{fmt}") as got:
            assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"], fmt
            assert head is None or got.data.lstrip(b"\xef\xbb\xbf").startswith(head), fmt
    assert client.get(f"/inventory/{run}/report.exe").status_code == 404
    assert client.get("/inventory/..%2F..%2Fetc/report.csv").status_code == 404


def test_a_second_start_while_one_runs_is_turned_away_politely(client: FlaskClient, world: World,
                                                               services: Services, log: LogCounter) -> None:
    """GIVEN an inventory under way (held at its first checkpoint)
    WHEN the status is polled, and someone presses start again
    THEN the status shows it running with its count of objects, the second start is not run but
    answered with the page and a message (no error, nothing logged), and after it ends the status
    shows every object checked."""
    release, reached = threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []

    def hold(done: int, total: int) -> None:
        seen.append((done, total))
        if len(seen) == 1:
            reached.set()
            release.wait(30)

    desk = services.inventory_desk
    desk.start(services.access.identity("auditor"), progress=hold)
    try:
        assert reached.wait(30)
        sign_in_as(client, "archivist")
        running = client.get("/inventory/status").get_json()
        assert running["running"] and running["done"] == 0 and running["total"] > 0
        assert running["started_by"] == "auditor"
        page = client.get("/inventory").get_data(as_text=True)
        assert 'data-state="running"' in page and "<progress" in page and 'http-equiv="refresh"' in page
        token = csrf_token(client, "/inventory")
        log.new_entries()
        again = client.post("/inventory", data={"csrf_token": token})
        assert again.status_code == 303 and again.headers["Location"].endswith("/inventory?busy=1")
        assert log.new_entries() == []
        busy = client.get(again.headers["Location"])
        assert busy.status_code == 200 and 'class="flash bad"' in busy.get_data(as_text=True)
    finally:
        release.set()
        desk.wait(60)
    done = client.get("/inventory/status").get_json()
    assert done["state"] == "finished" and done["done"] == done["total"] == seen[-1][0]
    assert seen[-1][0] > seen[0][0]  # it progressed from its first checkpoint to its last


def test_a_handler_is_refused_the_inventory_with_one_log_entry(client: FlaskClient, world: World,
                                                               log: LogCounter) -> None:
    """GIVEN a handler (the inventory is the archivists' and auditors')
    WHEN they open the page, start a run, poll or download
    THEN each gets a 403 page and exactly one refused RUN_INVENTORY entry; no nav link is offered."""
    sign_in_as(client, "handler_a")
    assert 'href="/inventory"' not in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/")
    for method, path in [("GET", "/inventory"), ("POST", "/inventory"), ("GET", "/inventory/status"),
                         ("GET", "/inventory/x/report.csv")]:
        log.new_entries()
        resp = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert resp.status_code == 403 and "<html" in resp.get_data(as_text=True), (method, path)
        assert [(e.event.actor, e.event.action, e.event.outcome) for e in log.new_entries()] == [
            ("handler_a", "inventory", "refused")], (method, path)


# ---------------------------------------------------------------------- BagIt
def export_zip(client: FlaskClient, numbers: str, **extra: str) -> Any:
    """POST the export form; the response is read whole and closed (which removes the package)."""
    token = csrf_token(client, "/transfer")
    resp = client.post("/transfer/export", data={"csrf_token": token, "numbers": numbers, **extra})
    resp.get_data()
    resp.close()
    return resp


def test_an_exported_package_downloads_as_a_valid_bag(client: FlaskClient, world: World, services: Services,
                                                      log: LogCounter, tmp_path: Path) -> None:
    """GIVEN an archivist on the transfer page
    WHEN they export dossier X
    THEN they download a zip holding a BagIt package that validates, with X's originals, timeline
    and registration, and the export is logged once per document (ACS-12)."""
    sign_in_as(client, "archivist")
    assert 'href="/transfer"' in client.get("/transfer").get_data(as_text=True)
    log.new_entries()
    resp = export_zip(client, world.dossier, purpose="移交复核")
    assert resp.status_code == 200 and resp.mimetype == "application/zip", resp.get_data(as_text=True)[:500]
    assert "attachment" in resp.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        zf.extractall(tmp_path / "unzipped")
    (bag_dir,) = list((tmp_path / "unzipped").iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["Dossier-Action"] == "export" and bag.info["Dossier-Count"] == "1"
    meta = (bag_dir / "data" / world.dossier / "metadata.json").read_text("utf-8")
    assert '"timeline"' in meta and "律师收费过高投诉" in meta
    entries = [e.event for e in log.new_entries()]
    assert [(e.action, e.outcome, e.object_ref) for e in entries if e.action == "export"] == [
        ("export", "allowed", world.item)]


def test_an_uploaded_package_is_imported_keeping_its_source_number_and_timeline(
        client: FlaskClient, world: World, services: Services) -> None:
    """GIVEN a package of dossier X (accepted, so it has a two-step timeline) downloaded from the page
    WHEN an archivist uploads it on the import form
    THEN the page shows the source number, the new number and the state, and the new dossier
    keeps X's number as its source reference and X's timeline; uploading it again changes nothing."""
    services.records.advance("handler", world.dossier, DossierState.ACCEPTED, note="受理")
    sign_in_as(client, "archivist")
    package = export_zip(client, world.dossier).data
    token = csrf_token(client, "/transfer")
    resp = client.post("/transfer/import", data={"csrf_token": token,
                                                 "package": (io.BytesIO(package), "from-elsewhere.zip")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:800]
    m = re.search(rf'<tr data-source="{world.dossier}">.*?href="/dossiers/([^"]+)"', html, re.S)
    assert m, html
    new_number = m.group(1)
    assert new_number != world.dossier and "state-accepted" in html
    old, new = services.records.get_dossier("t", world.dossier), services.records.get_dossier("t", new_number)
    assert new.source_reference == world.dossier and new.state is DossierState.ACCEPTED
    assert [(t.state, t.on, t.actor, t.note) for t in new.transitions] == [
        (t.state, t.on, t.actor, t.note) for t in old.transitions]
    count = len(services.records.list_dossiers("t"))
    again = client.post("/transfer/import", data={"csrf_token": csrf_token(client, "/transfer"),
                                                  "package": (io.BytesIO(package), "from-elsewhere.zip")},
                        content_type="multipart/form-data")
    assert again.status_code == 200 and len(services.records.list_dossiers("t")) == count


def test_transfer_errors_are_pages_not_500s(client: FlaskClient, world: World, log: LogCounter) -> None:
    """GIVEN the transfer forms
    WHEN an archivist sends a file that is no zip, no numbers, or an unknown number, and a handler
    tries to import
    THEN each answers a page saying what is wrong (422, 400, 404), and the handler's refusal is
    logged once."""
    sign_in_as(client, "archivist")
    token = csrf_token(client, "/transfer")
    bad = client.post("/transfer/import", data={"csrf_token": token, "package": (io.BytesIO(b"not a zip"), "x.zip")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "not a readable zip" in bad.get_data(as_text=True)
    assert export_zip(client, " , ").status_code == 400
    assert export_zip(client, "2699-999").status_code == 404

    sign_in_as(client, "handler_a")
    assert 'name="package"' not in client.get("/transfer").get_data(as_text=True)  # no import form offered
    token = csrf_token(client, "/transfer")
    log.new_entries()
    refused = client.post("/transfer/import", data={"csrf_token": token,
                                                    "package": (io.BytesIO(b"PK"), "p.zip")},
                          content_type="multipart/form-data")
    assert refused.status_code in (403, 404) and "<html" in refused.get_data(as_text=True)
    assert [(e.event.actor, e.event.action, e.event.outcome) for e in log.new_entries()] == [
        ("handler_a", "import", "refused")]
