"""The archive department's pages (issue #10 item 5): seal, amend, retention, holds, the disposal queue.

Each walk goes through the browser's forms only (Flask test client); the GIVEN dossiers are made
with the records core, as a clerk's earlier work. Two people approve a disposal each signed in as
themselves in their own session (two clients). Requirements: ARC-1-05, ARC-2 (seal and
completeness), RET (plans, holds, disposition, certificate), ACS-01 (one access-log entry per request).
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from retention.model import DispositionState
from tests.web.conftest import OPERATOR, LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services

# Lifecycle step → the document filed for it (the ARC-2 materials), as tests/integration/retention does.
MATERIALS = ((None, DocumentKind.COMPLAINT_LETTER), (DossierState.ACCEPTED, DocumentKind.ACCEPTANCE_NOTICE),
             (DossierState.INVESTIGATING, DocumentKind.INVESTIGATION_MINUTES), (DossierState.DECIDED, DocumentKind.DECISION),
             (DossierState.REPLIED, DocumentKind.REPLY_LETTER))


def closed_dossier(svc: Services, word: str, *, skip: DocumentKind | None = None) -> str:
    """A closed dossier of department A, one document per material except ``skip`` (then closed with an override)."""
    number = svc.records.register_complaint("clerk", Registration(
        matter=f"{word} 投诉律师拖延", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="张三",
        respondent="某律师事务所", category="拖延", department="A")).archive_number
    for step, kind in MATERIALS:
        if step is not None:
            svc.records.advance("clerk", number, step)
        if kind is not skip:
            body = f"{word} {kind.value} {uuid.uuid4().hex}".encode()
            svc.records.file_document("clerk", number, body, kind=kind, filename=f"{kind.value}.txt",
                                      media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    if skip is None:
        svc.records.advance("clerk", number, DossierState.CLOSED)
    else:  # closing now checks completeness too (ARC-2): an archivist's recorded override gets one closed
        svc.records.advance("clerk", number, DossierState.CLOSED, override_reason="测试：缺材料办结")
    return number


def token(client: FlaskClient) -> str:
    return csrf_token(client, "/retention/disposal")


def actions(entries: list[Any]) -> list[tuple[str, str, str]]:
    return [(e.event.actor, e.event.action, e.event.outcome) for e in entries]


# ---------------------------------------------------------------------- sealing
def test_seal_is_refused_while_materials_are_missing_and_the_page_lists_them(
        client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """GIVEN a closed dossier without its reply letter WHEN an archivist opens its seal page and presses seal
    THEN no seal button is offered, the POST answers the page (409) naming the missing reply, one entry, still closed."""
    number = closed_dossier(services, "缺答复", skip=DocumentKind.REPLY_LETTER)
    sign_in_as(client, "archivist")
    csrf = token(client)
    log.new_entries()
    page = client.get(f"/dossiers/{number}/seal")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-material="reply"' in html
    assert "reply_letter" in html and 'name="seal"' not in html  # the missing kind is named; no button
    assert actions(log.new_entries()) == [("archivist", "seal", "allowed")]

    resp = client.post(f"/dossiers/{number}/seal", data={"csrf_token": csrf})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and 'data-refused="seal"' in html and "reply_letter" in html
    assert 'class="card error"' not in html  # the completeness page, not a bare error
    assert len(log.new_entries()) == 1
    assert services.records.get_dossier("t", number).state is DossierState.CLOSED


def test_a_complete_dossier_is_sealed_from_its_page(client: FlaskClient, services: Services, world: World,
                                                    log: LogCounter) -> None:
    """GIVEN a closed, complete dossier WHEN an archivist presses seal THEN it is sealed and planned, one allowed entry."""
    number = closed_dossier(services, "齐全")
    sign_in_as(client, "archivist")
    html = client.get(f"/dossiers/{number}/seal").get_data(as_text=True)
    assert 'name="seal"' in html
    csrf = token(client)
    log.new_entries()
    resp = client.post(f"/dossiers/{number}/seal", data={"csrf_token": csrf})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/dossiers/{number}/retention")
    assert actions(log.new_entries()) == [("archivist", "seal", "allowed")]
    assert services.records.get_dossier("t", number).state is DossierState.SEALED
    plan = services.retention.show(number).plan
    assert plan is not None and f'data-rule="{plan.rule_id}"' in client.get(resp.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------------- amending
def test_amend_a_sealed_dossier_with_a_reason_files_the_item(client: FlaskClient, services: Services, world: World,
                                                             log: LogCounter) -> None:
    """GIVEN a sealed dossier WHEN an archivist uploads a file with its kind and a reason THEN it is filed
    with that kind and the reason is on the timeline; without a reason the form says so and files nothing."""
    number = closed_dossier(services, "补充")
    services.retention.seal(OPERATOR, number)
    sign_in_as(client, "archivist")
    assert 'name="reason"' in client.get(f"/dossiers/{number}/amend").get_data(as_text=True)
    csrf = token(client)
    before = len(services.records.get_dossier("t", number).documents)

    log.new_entries()
    resp = client.post(f"/dossiers/{number}/amend", data={
        "csrf_token": csrf, "kind": "evidence", "reason": "",
        "file": (io.BytesIO("补充证据".encode()), "补充证据.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 400 and 'class="flash bad"' in resp.get_data(as_text=True)
    assert len(log.new_entries()) == 1
    assert len(services.records.get_dossier("t", number).documents) == before

    resp = client.post(f"/dossiers/{number}/amend", data={
        "csrf_token": csrf, "kind": "evidence", "reason": "复议机关补充送达证据",
        "file": (io.BytesIO("补充证据：银行流水".encode()), "补充证据.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 303
    assert actions(log.new_entries()) == [("archivist", "amend_sealed", "allowed")]
    info = services.records.get_dossier("t", number)
    added = [d for d in info.documents if d.filename == "补充证据.txt"]
    assert len(info.documents) == before + 1 and added and added[0].kind is DocumentKind.EVIDENCE
    assert info.state is DossierState.SEALED
    notes = [t.note or "" for t in info.transitions if t.state is DossierState.SEALED]  # opened (sealed at rest)
    assert any(added[0].item_number in n and "复议机关补充送达证据" in n for n in notes)


# ---------------------------------------------------------------------- retention and re-planning
def test_replan_with_a_reason_is_recorded_in_the_history(client: FlaskClient, services: Services, world: World,
                                                         log: LogCounter) -> None:
    """GIVEN a closed dossier not yet planned WHEN an archivist re-plans it with a reason
    THEN its first plan is stored and the history shows who and why (one retention_plan entry)."""
    number = closed_dossier(services, "复核")
    sign_in_as(client, "archivist")
    page = client.get(f"/dossiers/{number}/retention").get_data(as_text=True)
    assert f'action="/dossiers/{number}/retention"' in page  # the re-plan form is offered
    # The rule is named in words, its id kept only in an attribute (#11: no rule ids like default-1y shown).
    assert 'data-rule="default-1y"' in page and ">default-1y<" not in page and "保存 1 年" in page
    csrf = token(client)
    log.new_entries()
    resp = client.post(f"/dossiers/{number}/retention", data={"csrf_token": csrf, "reason": "年度保管期限复核"})
    assert resp.status_code == 303
    assert actions(log.new_entries()) == [("archivist", "retention_plan", "allowed")]
    page = client.get(f"/dossiers/{number}/retention").get_data(as_text=True)
    assert "年度保管期限复核" in page and "archivist" in page
    assert services.retention.show(number).plan is not None


def test_replan_without_a_reason_is_refused_on_the_page(client: FlaskClient, services: Services, world: World) -> None:
    """GIVEN the retention page WHEN re-plan is sent with a blank reason THEN the page says a reason is needed."""
    number = closed_dossier(services, "无因")
    sign_in_as(client, "archivist")
    resp = client.post(f"/dossiers/{number}/retention", data={"csrf_token": token(client), "reason": "  "})
    assert resp.status_code == 303
    assert "needs a reason" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert services.retention.show(number).plan is None


# ---------------------------------------------------------------------- holds
def test_place_and_lift_holds_on_a_dossier_and_on_a_filter(client: FlaskClient, services: Services, world: World,
                                                           log: LogCounter) -> None:
    """GIVEN a manager WHEN they hold a dossier and a saved filter, then lift both with reasons
    THEN the list shows them active, then only with 'include lifted', each step one entry."""
    sign_in_as(client, "manager")
    csrf = token(client)
    log.new_entries()
    resp = client.post("/retention/holds", data={"csrf_token": csrf, "number": world.dossier, "reason": "行政复议审理中"})
    assert resp.status_code == 303
    assert actions(log.new_entries()) == [("manager", "hold", "allowed")]
    resp = client.post("/retention/holds", data={"csrf_token": csrf, "filter": "respondent:某律师事务所 category:收费",
                                                 "reason": "专项检查"})
    assert resp.status_code == 303
    holds = {h.reason: h for h in services.retention.holds()}
    assert holds["行政复议审理中"].archive_number == world.dossier
    assert holds["专项检查"].filter is not None and holds["专项检查"].filter.respondents == frozenset({"某律师事务所"})
    assert services.retention.holds_on(world.dossier)  # the filter and the number both cover X
    html = client.get("/retention/holds").get_data(as_text=True)
    assert "行政复议审理中" in html and "respondent:某律师事务所" in html

    log.new_entries()
    for h in holds.values():
        resp = client.post("/retention/holds/lift", data={"csrf_token": csrf, "ref": h.hold_id, "reason": "复议结束"})
        assert resp.status_code == 303
    assert actions(log.new_entries()) == [("manager", "hold_lift", "allowed")] * 2
    assert services.retention.holds() == [] and services.retention.holds_on(world.dossier) == []
    assert "行政复议审理中" not in client.get("/retention/holds").get_data(as_text=True)
    html = client.get("/retention/holds?all=1").get_data(as_text=True)
    assert "行政复议审理中" in html and "复议结束" in html


def test_a_bad_filter_or_a_missing_reason_comes_back_as_a_message(client: FlaskClient, services: Services,
                                                                  world: World) -> None:
    """GIVEN the holds page WHEN a filter does not parse, or no reason is given THEN the page says why, nothing held."""
    sign_in_as(client, "archivist")
    csrf = token(client)
    resp = client.post("/retention/holds", data={"csrf_token": csrf, "filter": "colour:red", "reason": "x"})
    assert resp.status_code == 303 and "colour" in client.get("/retention/holds").get_data(as_text=True)
    client.post("/retention/holds", data={"csrf_token": csrf, "number": world.dossier, "reason": " "})
    assert "a hold needs a reason" in client.get("/retention/holds").get_data(as_text=True)
    assert services.retention.holds() == []


# ---------------------------------------------------------------------- disposition, four eyes, certificate
def test_disposal_review_approval_in_two_sessions_run_and_certificate(
        app: Flask, client: FlaskClient, services: Services, world: World, clock: Any, log: LogCounter) -> None:
    """GIVEN a sealed dossier due for destruction WHEN the archivist reviews it, tries to approve it himself
    (refused, shown on the page), a manager approves in her own session, and the archivist runs it
    THEN it is disposed of and the certificate downloads as a PDF that verifies, whole or as a copy."""
    number = closed_dossier(services, "到期销毁")
    services.retention.seal(OPERATOR, number)
    clock.now = datetime(2027, 11, 10, 2, tzinfo=timezone.utc)  # past the default one-year period

    archivist = sign_in_as(client, "archivist")
    csrf = token(archivist)
    log.new_entries()
    page = archivist.get("/retention/disposal?as_of=2027-11-10")
    html = page.get_data(as_text=True)
    assert f'data-number="{number}"' in html and 'name="numbers"' in html
    assert actions(log.new_entries()) == [("archivist", "view_retention", "allowed")]

    resp = archivist.post("/retention/disposal/review", data={"csrf_token": csrf, "as_of": "2027-11-10",
                                                              "action": "destroy", "numbers": number})
    assert resp.status_code == 303
    assert actions(log.new_entries()) == [("archivist", "dispose_review", "allowed")]
    [d] = services.retention.dispositions()
    assert d.numbers == (number,) and d.state is DispositionState.REVIEWED
    html = archivist.get("/retention/disposal").get_data(as_text=True)
    assert d.disposition_id in html and f'/retention/dispositions/{d.disposition_id}/approve' not in html  # not offered

    log.new_entries()
    resp = archivist.post(f"/retention/dispositions/{d.disposition_id}/approve", data={"csrf_token": csrf})
    assert resp.status_code == 303
    assert actions(log.new_entries()) == [("archivist", "dispose_approve", "refused")]
    html = archivist.get(resp.headers["Location"]).get_data(as_text=True)
    assert "approval must come from a different person" in html
    assert services.retention.disposition(d.disposition_id).state is DispositionState.REVIEWED

    manager = sign_in_as(app.test_client(), "manager")  # another person, in her own session
    html = manager.get("/retention/disposal").get_data(as_text=True)
    assert f'/retention/dispositions/{d.disposition_id}/approve' in html
    assert f'/retention/dispositions/{d.disposition_id}/run' not in html  # managers approve, they do not run
    log.new_entries()
    resp = manager.post(f"/retention/dispositions/{d.disposition_id}/approve", data={"csrf_token": token(manager)})
    assert resp.status_code == 303
    assert ("manager", "dispose_approve", "allowed") in actions(log.new_entries())
    assert services.retention.disposition(d.disposition_id).state is DispositionState.APPROVED

    html = archivist.get("/retention/disposal").get_data(as_text=True)
    assert f'/retention/dispositions/{d.disposition_id}/run' in html
    resp = archivist.post(f"/retention/dispositions/{d.disposition_id}/run", data={"csrf_token": csrf})
    assert resp.status_code == 303
    done = services.retention.disposition(d.disposition_id)
    assert done.state is DispositionState.DONE and done.certificate is not None
    assert services.records.get_dossier("t", number).state is DossierState.DISPOSED

    html = archivist.get("/retention/disposal").get_data(as_text=True)
    assert f"/retention/dispositions/{d.disposition_id}/certificate.pdf" in html
    log.new_entries()
    pdf = archivist.get(f"/retention/dispositions/{d.disposition_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert actions(log.new_entries()) == [("archivist", "view_retention", "allowed")]
    page = archivist.get(f"/retention/dispositions/{d.disposition_id}/verify")
    assert page.status_code == 200 and 'data-verified="yes"' in page.get_data(as_text=True)
    assert number in page.get_data(as_text=True) and "manager" in page.get_data(as_text=True)

    # The downloaded copy verifies too; a copy with one byte changed does not.
    resp = manager.post(f"/retention/dispositions/{d.disposition_id}/verify", content_type="multipart/form-data",
                        data={"csrf_token": token(manager), "file": (io.BytesIO(pdf.data), "cert.pdf")})
    assert resp.status_code == 200 and 'data-verified="yes"' in resp.get_data(as_text=True)
    signed = archivist.get(f"/retention/dispositions/{d.disposition_id}/certificate.json").data
    altered = signed.replace(number.encode(), number[:-1].encode() + b"9", 1)
    resp = manager.post(f"/retention/dispositions/{d.disposition_id}/verify", content_type="multipart/form-data",
                        data={"csrf_token": token(manager), "file": (io.BytesIO(altered), "cert.json")})
    assert resp.status_code == 422 and 'data-verified="no"' in resp.get_data(as_text=True)


def test_review_with_nothing_due_says_so_on_the_page(client: FlaskClient, services: Services, world: World) -> None:
    """GIVEN nothing due WHEN an archivist reviews THEN the disposal page says nothing is due, no disposition is made."""
    sign_in_as(client, "archivist")
    resp = client.post("/retention/disposal/review", data={"csrf_token": token(client), "action": "destroy"})
    assert resp.status_code == 303
    assert "nothing is due" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert services.retention.dispositions() == []


# ---------------------------------------------------------------------- who is refused, and the nav
def test_a_handler_is_refused_every_archive_page_with_one_entry_each(
        client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """GIVEN a handler of department A WHEN they open or post to the archive pages of their own dossier
    THEN each answers the error page (403/404, never 500) and leaves exactly one refused entry."""
    number = closed_dossier(services, "经办人")
    sign_in_as(client, "handler_a")
    csrf = csrf_token(client, "/")
    assert "/retention/disposal" not in client.get("/").get_data(as_text=True)  # no nav link either
    log.new_entries()
    for method, path, data in [
            ("get", f"/dossiers/{number}/seal", None), ("post", f"/dossiers/{number}/seal", {}),
            ("get", f"/dossiers/{number}/amend", None), ("get", f"/dossiers/{number}/retention", None),
            ("post", f"/dossiers/{number}/retention", {"reason": "x"}), ("get", "/retention/holds", None),
            ("post", "/retention/holds", {"number": number, "reason": "x"}), ("get", "/retention/disposal", None),
            ("get", "/retention/dispositions/nope/certificate.pdf", None),
            ("get", "/retention/dispositions/nope/verify", None)]:
        resp = getattr(client, method)(path, data={"csrf_token": csrf, **data} if data is not None else None)
        assert resp.status_code in (403, 404), (path, resp.status_code)
        assert 'class="card error"' in resp.get_data(as_text=True), path
        entries = log.new_entries()
        assert [(e.event.actor, e.event.outcome) for e in entries] == [("handler_a", "refused")], (method, path)
    assert services.records.get_dossier("t", number).state is DossierState.CLOSED


def test_the_nav_offers_retention_to_archivists_managers_and_auditors(client: FlaskClient, world: World) -> None:
    """GIVEN each role WHEN they open the dashboard THEN only those the policy lets view retention see the link."""
    for who, shown in [("archivist", True), ("manager", True), ("auditor", True), ("handler_a", False),
                       ("regulator", False)]:
        sign_in_as(client, who)
        assert ('href="/retention/disposal"' in client.get("/dossiers").get_data(as_text=True)) is shown, who
    sign_in_as(client, "auditor")
    html = client.get("/retention/disposal").get_data(as_text=True)
    assert 'action="/retention/disposal/review"' not in html and 'name="reason"' not in html  # looks, acts on nothing
    assert re.search(r"<h1>[^<]+</h1>", html)
