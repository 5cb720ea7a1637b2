"""Case handling on the dossier page (issue #10 item 1): each step offered by state and role, refusals shown
beside the forms, the effect on the deadlines at once, every action logged once."""

from __future__ import annotations

from flask.testing import FlaskClient

from records.model import DocumentAnalysis, DocumentKind, DossierState
from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def _post(client: FlaskClient, number: str, path: str, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/dossiers/{number}")
    return client.post(path, data={"csrf_token": token, **form})


def _file(services: Services, number: str, kind: DocumentKind) -> None:
    body = f"{kind.value} {number}".encode()
    services.records.file_document("test", number, body, kind=kind, filename=f"{kind.value}.txt",
                                   media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))


def test_a_handler_is_offered_the_steps_of_the_state_with_their_effect(client: FlaskClient, world: World) -> None:
    """GIVEN a registered dossier WHEN its handler opens it THEN accept, not accept (with grounds) and withdraw are
    offered, accepting shows the conclusion due date it would start, and nothing later (decide, close) is."""
    html = sign_in_as(client, "handler_a").get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert 'class="form step step-accepted"' in html and 'step-not_accepted' in html and 'step-void' in html
    assert "step-decided" not in html and "step-closed" not in html
    assert "ACC-NO-02" in html
    assert 'data-notice' not in html  # no notice is due before a decision on acceptance


def test_other_roles_are_offered_no_handling(client: FlaskClient, world: World) -> None:
    """A regulator, an auditor and a handler of another department see no case-handling card."""
    for name in ("regulator", "auditor"):
        html = sign_in_as(client, name).get(f"/dossiers/{world.dossier}").get_data(as_text=True)
        assert 'id="casework"' not in html, name


def test_accept_then_the_deadlines_show_the_conclusion_clock_and_one_entry_is_logged(
        client: FlaskClient, world: World, services: Services, log: LogCounter) -> None:
    """WHEN the handler accepts THEN the page shows the new state, the conclusion deadline and offers the
    acceptance notice; exactly one access-log entry (advance, allowed) was written by the step."""
    sign_in_as(client, "handler_a")
    token = csrf_token(client, f"/dossiers/{world.dossier}")
    log.new_entries()
    r = client.post(f"/dossiers/{world.dossier}/step", data={"csrf_token": token, "to": "accepted"})
    assert r.status_code == 303
    entries = log.new_entries()
    assert [(e.event.action, e.event.outcome) for e in entries] == [("advance", "allowed")]
    html = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert services.records.get_dossier("t", world.dossier).state is DossierState.ACCEPTED
    assert 'data-notice="acceptance"' in html and "step-investigating" in html


def test_not_accepting_needs_a_ground_and_records_it(client: FlaskClient, world: World, services: Services) -> None:
    """Refusing without a ground is refused on the page (422, the form still there); with ACC-NO-03 the ground's
    code and words are on the timeline, where the non-acceptance notice reads them."""
    sign_in_as(client, "handler_a")
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/step", to="not_accepted")
    assert r.status_code == 422 and 'data-problem="casework"' in r.get_data(as_text=True)
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/step", to="not_accepted", ground="ACC-NO-03",
              note="仅对办理结果有异议")
    assert r.status_code == 303
    note = services.records.get_dossier("t", world.dossier).transitions[-1].note or ""
    assert note.startswith("ACC-NO-03 投诉人仅对法律援助案件办理结果有异议") and "仅对办理结果有异议" in note


def test_closing_shows_what_is_missing_and_an_archivist_may_override(client: FlaskClient, world: World,
                                                                     services: Services) -> None:
    """GIVEN a refused complaint without its non-acceptance notice THEN the handler's close is refused with the
    missing material named on the page (409); the archivist closes it with a recorded reason; the manager
    reopens it with a reason."""
    services.records.advance("test", world.dossier, DossierState.NOT_ACCEPTED, note="ACC-NO-01")
    sign_in_as(client, "handler_a")
    page = client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    assert "acceptance_decision" in page  # the completeness check, before anyone presses close
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/step", to="closed")
    assert r.status_code == 409 and "acceptance_decision" in r.get_data(as_text=True)
    assert services.records.get_dossier("t", world.dossier).state is DossierState.NOT_ACCEPTED
    sign_in_as(client, "archivist")
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/step", to="closed", override_reason="通知书另卷")
    assert r.status_code == 303
    assert services.records.get_dossier("t", world.dossier).state is DossierState.CLOSED
    sign_in_as(client, "manager")
    assert 'class="form reopen"' in client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/reopen", reason="补通知书")
    assert r.status_code == 303
    assert services.records.get_dossier("t", world.dossier).state is DossierState.NOT_ACCEPTED


def test_complete_dossier_closes_for_its_handler(client: FlaskClient, world: World, services: Services) -> None:
    """With the non-acceptance notice filed the completeness check passes and the handler closes it."""
    services.records.advance("test", world.dossier, DossierState.NOT_ACCEPTED, note="ACC-NO-01")
    _file(services, world.dossier, DocumentKind.NON_ACCEPTANCE_NOTICE)
    sign_in_as(client, "handler_a")
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/step", to="closed")
    assert r.status_code == 303
    assert services.records.get_dossier("t", world.dossier).state is DossierState.CLOSED


def test_extension_moves_the_conclusion_deadline_and_leads_to_its_notice(client: FlaskClient, world: World,
                                                                        services: Services) -> None:
    """GIVEN an accepted dossier WHEN the handler extends by 15 days with approver and reason THEN the conclusion
    deadline moves by 15 days and the browser is taken to the extension notice (TL-03 requires it)."""
    services.records.advance("test", world.dossier, DossierState.ACCEPTED)
    info = services.records.get_dossier("t", world.dossier)
    before = services.records.deadlines(info)[1].due_on
    sign_in_as(client, "handler_a")
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/extend", days="15", reason="案情复杂",
              approved_by="主任王某", notice="1")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/dossiers/{world.dossier}/notices/extension")
    after = services.records.deadlines(services.records.get_dossier("t", world.dossier))[1].due_on
    assert before is not None and after is not None and (after - before).days >= 15
    r = _post(client, world.dossier, f"/dossiers/{world.dossier}/extend", days="x", reason="", approved_by="")
    assert r.status_code == 422


def test_a_document_kind_is_corrected_from_the_dossier_page(client: FlaskClient, world: World,
                                                            services: Services) -> None:
    """The handler corrects the kind of the filed complaint letter; the page says who corrected it."""
    sign_in_as(client, "handler_a")
    r = _post(client, world.dossier, f"/documents/{world.item}/kind", kind="evidence", reason="实为证据")
    assert r.status_code == 303
    doc = services.records.get_document("t", world.item)
    assert (doc.kind, doc.kind_set_by, doc.kind_set_reason) == (DocumentKind.EVIDENCE, "handler_a", "实为证据")
    assert "handler_a" in client.get(f"/dossiers/{world.dossier}").get_data(as_text=True)
    sign_in_as(client, "handler_b")
    token = csrf_token(client, "/")
    r = client.post(f"/documents/{world.item}/kind", data={"csrf_token": token, "kind": "other", "reason": "x"})
    assert r.status_code == 404  # another department's document: as if it did not exist
