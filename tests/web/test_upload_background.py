"""Uploads through the pages and the JSON API answer at once (202); a background worker files them (issue #5).

No worker runs unless the test runs one, so "still queued when the answer arrives" proves the
request did not wait for extraction or OCR.
"""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services

LETTER = "投诉信：援助律师多次缺席调解，要求更换律师。".encode()


def _auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def _decisions(log: LogCounter) -> list[tuple[str, str]]:
    """The access-log entries since the last call, token sign-ins aside."""
    return [(str(e.event.action), str(e.event.outcome)) for e in log.new_entries() if e.event.action != "sign_in"]


def _api_upload(client: FlaskClient, world: World, who: str, *files: tuple[bytes, str]) -> object:
    return client.post(f"/api/v1/dossiers/{world.dossier}/documents", headers=_auth(world, who),
                       data={"files": [(io.BytesIO(data), name) for data, name in files]},
                       content_type="multipart/form-data")


def test_api_upload_answers_202_with_a_status_url_before_any_worker_runs(
        client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """GIVEN a handler's token WHEN they POST two files THEN 202 with a queued job and status URL per file;
    WHEN the worker has run THEN the status shows the item number and the document reads back."""
    resp = _api_upload(client, world, "handler_a", (LETTER, "投诉信.txt"), (b"%PDF-1.7\n1 0 obj\n<<", "broken.pdf"))
    assert resp.status_code == 202  # type: ignore[attr-defined]
    jobs = resp.get_json()["jobs"]  # type: ignore[attr-defined]
    assert [j["state"] for j in jobs] == ["queued", "queued"] and all(j["item_number"] is None for j in jobs)
    assert _decisions(log) == [("file_document", "allowed")]
    status = client.get(jobs[0]["status_url"], headers=_auth(world, "handler_a"))
    assert status.status_code == 200 and status.get_json()["state"] == "queued"

    services.intake.run_pending()

    letter = client.get(jobs[0]["status_url"], headers=_auth(world, "handler_a")).get_json()
    broken = client.get(jobs[1]["status_url"], headers=_auth(world, "handler_a")).get_json()
    assert letter["state"] == "filed" and letter["outcome"] == "ok" and letter["item_number"] == f"{world.dossier}-02"
    assert broken["state"] == "filed" and broken["outcome"] == "corrupt" and broken["message"]
    doc = client.get(f"/api/v1/documents/{letter['item_number']}/content", headers=_auth(world, "handler_a"))
    assert doc.data == LETTER


def test_api_single_upload_names_its_status_url_in_location(client: FlaskClient, world: World) -> None:
    """One file: the answer's Location header is the job's status URL."""
    resp = _api_upload(client, world, "handler_a", (LETTER, "a.txt"))
    assert resp.status_code == 202  # type: ignore[attr-defined]
    job = resp.get_json()["jobs"][0]  # type: ignore[attr-defined]
    assert resp.headers["Location"] == job["status_url"] == f"/api/v1/intake/{job['job']}"  # type: ignore[attr-defined]


def test_api_upload_without_files_is_a_400(client: FlaskClient, world: World) -> None:
    resp = client.post(f"/api/v1/dossiers/{world.dossier}/documents", headers=_auth(world, "handler_a"), data={},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "no_files"


def test_upload_and_job_status_are_refused_to_those_who_may_not_file(
        client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """Only who may FILE_DOCUMENT into the dossier uploads or follows the job; each refusal is one log entry
    and queues nothing (ACS-02)."""
    for who in ("handler_b", "regulator"):  # other department; read-only grant
        resp = _api_upload(client, world, who, (LETTER, "x.txt"))
        assert resp.status_code == 404  # type: ignore[attr-defined]
        assert _decisions(log) == [("file_document", "refused")]
    assert services.intake.run_pending() == []  # nothing was queued

    job = _api_upload(client, world, "handler_a", (LETTER, "x.txt")).get_json()["jobs"][0]  # type: ignore[attr-defined]
    log.new_entries()
    for who in ("handler_b", "regulator"):
        resp = client.get(job["status_url"], headers=_auth(world, who))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
        assert _decisions(log) == [("file_document", "refused")]


def test_unknown_job_is_answered_like_a_hidden_one(client: FlaskClient, world: World, log: LogCounter) -> None:
    """An unknown job id gets the same 404 as someone else's job, and the attempt is logged."""
    resp = client.get("/api/v1/intake/" + "0" * 32, headers=_auth(world, "handler_a"))
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert _decisions(log) == [("file_document", "refused")]


def test_upload_page_shows_each_file_queued_then_its_outcome(
        client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """GIVEN a handler on the upload page WHEN they upload THEN the page answers 202 with each file queued and
    the status endpoint its script polls reports filed with the item link once the worker has run."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, f"/dossiers/{world.dossier}/upload")
    log.new_entries()
    resp = client.post(f"/dossiers/{world.dossier}/upload", data={"csrf_token": token, "files": [
        (io.BytesIO(LETTER), "投诉信.txt")]}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 202 and 'data-state="queued"' in html and "upload.js" in html
    status_url = re.search(r'data-status-url="([^"]+)"', html)
    assert status_url
    url = status_url.group(1).replace("&amp;", "&")
    assert client.get(url).get_json()["jobs"][0]["state"] == "queued"

    services.intake.run_pending()

    log.new_entries()
    row = client.get(url).get_json()["jobs"][0]
    assert row["state"] == "filed" and row["finished"] and row["item_number"] == f"{world.dossier}-02"
    assert row["item_url"] == f"/documents/{world.dossier}-02"
    assert _decisions(log) == [("file_document", "allowed")]


def test_upload_page_status_is_refused_to_who_may_only_read(client: FlaskClient, world: World,
                                                            log: LogCounter) -> None:
    """An auditor may view the dossier but not follow its uploads: refused and logged once."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, f"/dossiers/{world.dossier}/upload")
    html = client.post(f"/dossiers/{world.dossier}/upload", data={"csrf_token": token, "files": [
        (io.BytesIO(LETTER), "a.txt")]}, content_type="multipart/form-data").get_data(as_text=True)
    job = re.search(r'data-job="([0-9a-f]{32})"', html)
    assert job
    sign_in_as(client, "auditor")
    log.new_entries()
    resp = client.get(f"/dossiers/{world.dossier}/upload/status", query_string={"job": job.group(1)})
    assert resp.status_code == 404
    assert _decisions(log) == [("file_document", "refused")]
