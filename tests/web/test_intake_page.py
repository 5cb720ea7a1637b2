"""The upload-queue page (issue #17): archivists see failed and long-queued uploads and retry them.

Jobs fail the way dying workers fail them (claimed until their leases run out, on the clock the
app shares); the page, its retry buttons (POST with the CSRF token) and the dashboard's counts are
exercised through the app, each request decided by the policy and logged once.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from ingest.jobs import JobState
from tests.conftest import FrozenClock
from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def _failed_job(services: Services, clock: FrozenClock, dossier: str, name: str) -> str:
    queue = services.intake
    queue.max_attempts = 1
    job = queue.accept("archivist", dossier, name, [f"补充材料 {name}".encode()]).job_id
    assert queue.claim("vanishing") is not None
    clock.now += timedelta(seconds=queue.lease_seconds + 1)
    assert queue.claim("next") is None
    assert queue.get("archivist", job).state is JobState.FAILED
    return job


def test_archivist_sees_failed_and_long_queued_uploads_and_retries_one(
        client: FlaskClient, services: Services, world: World, clock: FrozenClock, log: LogCounter) -> None:
    failed = _failed_job(services, clock, world.dossier, "票据.txt")
    waiting = services.intake.accept("archivist", world.dossier, "久等.txt", [b"long queued"]).job_id
    fresh = services.intake.accept("archivist", world.other_dossier, "new.txt", [b"just now"]).job_id
    clock.now += timedelta(minutes=11)
    services.intake.accept("archivist", world.other_dossier, "newest.txt", [b"newest"])
    sign_in_as(client, "archivist")
    log.new_entries()

    html = client.get("/intake").get_data(as_text=True)
    assert [(str(e.event.action), str(e.event.outcome)) for e in log.new_entries()] == [("manage_intake", "allowed")]
    assert "上传队列" in html and "票据.txt" in html and "久等.txt" in html and "newest.txt" not in html
    assert f'id="job-{failed}"' in html and f'id="job-{waiting}"' in html and f'id="job-{fresh}"' in html
    assert "处理进程中断" in html and "全部重试" in html and ">Retry<" not in html and ">worker_lost<" not in html
    assert f'action="/intake/{failed}/retry"' in html and f'action="/intake/{waiting}/retry"' not in html

    dashboard = client.get("/").get_data(as_text=True)
    tiles = re.findall(r'<a class="tile[^"]*" href="/intake"><b>(\d+)</b>([^<]+)</a>', dashboard)
    assert tiles == [("1", "上传失败"), ("2", "长时间排队的上传")]
    assert 'href="/intake">上传队列</a>' in dashboard
    log.new_entries()

    token = csrf_token(client, "/intake")
    log.new_entries()
    assert client.post(f"/intake/{failed}/retry", data={}).status_code == 400          # no CSRF token
    resp = client.post(f"/intake/{failed}/retry", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/intake")
    entries = log.new_entries()
    assert [(str(e.event.action), str(e.event.outcome), e.event.object_ref) for e in entries] == [
        ("manage_intake", "allowed", failed)]
    assert services.intake.get("archivist", failed).state is JobState.QUEUED
    assert client.post(f"/intake/{failed}/retry", data={"csrf_token": token}).status_code == 409  # not failed now

    done = services.intake.run_pending("worker")
    assert {j.job_id for j in done if j.state is JobState.FILED} >= {failed}
    assert services.intake.get("archivist", failed).item_number


def test_retry_all_failed_button(client: FlaskClient, services: Services, world: World, clock: FrozenClock) -> None:
    jobs = [_failed_job(services, clock, world.dossier, f"f{n}.txt") for n in range(2)]
    sign_in_as(client, "admin")
    token = csrf_token(client, "/intake")
    assert client.post("/intake/retry-failed", data={"csrf_token": token}).status_code == 303
    assert {services.intake.get("admin", j).state for j in jobs} == {JobState.QUEUED}
    assert "没有滞留的上传。" in client.get("/intake").get_data(as_text=True)


def test_others_are_refused_the_page_and_see_no_link_or_counts(
        client: FlaskClient, services: Services, world: World, clock: FrozenClock, log: LogCounter) -> None:
    failed = _failed_job(services, clock, world.dossier, "票据.txt")
    log.new_entries()
    for who in ("handler_a", "manager", "auditor", "regulator"):
        sign_in_as(client, who)
        assert client.get("/intake").status_code == 403
        assert [(e.event.actor, str(e.event.outcome)) for e in log.new_entries()] == [(who, "refused")]
        page = client.get("/").get_data(as_text=True)
        assert "/intake" not in page and "上传失败" not in page
        log.new_entries()
    sign_in_as(client, "handler_a")
    token = csrf_token(client, "/dossiers")
    log.new_entries()
    # A refusal that names an object answers 404, like an unknown job: the caller learns nothing of it.
    assert client.post(f"/intake/{failed}/retry", data={"csrf_token": token}).status_code == 404
    assert [(e.event.action, str(e.event.outcome)) for e in log.new_entries()] == [("manage_intake", "refused")]
    assert services.intake.get("archivist", failed).state is JobState.FAILED


def test_page_in_english(client: FlaskClient, world: World, services: Services, clock: FrozenClock) -> None:
    _failed_job(services, clock, world.dossier, "票据.txt")
    sign_in_as(client, "archivist")
    client.get("/lang/en")
    html = client.get("/intake").get_data(as_text=True)
    assert "Upload queue" in html and "Worker stopped" in html and "Retry all failed (1)" in html
