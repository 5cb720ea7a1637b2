"""The notices the rules require, from the browser (issue #10 item 3): preview, issue and file, DOCX draft.

Each request is decided as file_document on the dossier and logged once; the filed notice is a
PDF of its kind with its text stored; a notice that does not fit the dossier's state is a message
on the page (409), never an error page; a regulator is refused.
"""

from __future__ import annotations

import io
import re

from docx import Document
from flask.testing import FlaskClient

from records.model import DocumentKind, DossierState
from tests.web.conftest import OPERATOR, LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services


def _path(number: str, kind: str) -> str:
    return f"/dossiers/{number}/notices/{kind}"


def _one(log: LogCounter, *, actor: str, outcome: str) -> None:
    fresh = log.new_entries()
    assert [(e.event.actor, str(e.event.action), str(e.event.outcome)) for e in fresh] == [
        (actor, "file_document", outcome)], fresh


def test_handler_previews_and_files_the_acceptance_notice(client: FlaskClient, services: Services, world: World,
                                                          log: LogCounter) -> None:
    """GIVEN dossier X accepted and a handler of its department
    WHEN they open its acceptance notice and press "Issue and file"
    THEN the page shows the notice text with the number and parties (one entry); the POST files an
    acceptance_notice PDF with its text and redirects (303) to the dossier page (one entry)."""
    services.gate.advance(OPERATOR, world.dossier, DossierState.ACCEPTED)
    sign_in_as(client, "handler_a")
    log.new_entries()
    page = client.get(_path(world.dossier, "acceptance"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "法律援助投诉受理通知书" in html and world.dossier in html and "张三" in html and "某律师事务所" in html
    _one(log, actor="handler_a", outcome="allowed")

    token = csrf_token(client, _path(world.dossier, "acceptance"))
    log.new_entries()
    r = client.post(_path(world.dossier, "acceptance"), data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/dossiers/{world.dossier}")
    _one(log, actor="handler_a", outcome="allowed")
    [notice] = [d for d in services.records.get_dossier("t", world.dossier).documents
                if d.kind is DocumentKind.ACCEPTANCE_NOTICE]
    assert notice.media_type == "application/pdf" and notice.filename == f"受理通知书-{world.dossier}.pdf"
    assert "法律援助投诉受理通知书" in services.records.document_text("t", notice.item_number)[1]


def test_reply_letter_is_filed_with_the_handlers_edited_text(client: FlaskClient, services: Services,
                                                             world: World) -> None:
    """GIVEN dossier X decided
    WHEN the handler opens the reply letter, edits the prefilled draft and files it
    THEN the text box held the draft (matter, decision), and the filed reply_letter holds the edit."""
    services.gate.advance(OPERATOR, world.dossier, DossierState.ACCEPTED)
    services.gate.advance(OPERATOR, world.dossier, DossierState.DECIDED)
    sign_in_as(client, "handler_a")
    html = client.get(_path(world.dossier, "reply")).get_data(as_text=True)
    draft = re.search(r'<textarea name="body"[^>]*>(.*?)</textarea>', html, re.S)
    assert draft and "律师收费过高投诉" in draft.group(1) and "处理决定" in draft.group(1)
    token = csrf_token(client, _path(world.dossier, "reply"))
    body = "经调查，被投诉人多收费用属实，已责令退还。\n特此答复。"
    r = client.post(_path(world.dossier, "reply"), data={"csrf_token": token, "body": body})
    assert r.status_code == 303
    [reply] = [d for d in services.records.get_dossier("t", world.dossier).documents
               if d.kind is DocumentKind.REPLY_LETTER]
    assert "经调查，被投诉人多收费用属实，已责令退还。" in services.records.document_text("t", reply.item_number)[1]


def test_non_acceptance_asks_for_the_ground_and_files_it(client: FlaskClient, services: Services,
                                                         world: World) -> None:
    """GIVEN dossier Y refused with no ground recorded
    WHEN its handler opens the non-acceptance notice, then files it with a ground
    THEN the page asks for the ground (200, a ground field), and the filed notice states it."""
    services.gate.advance(OPERATOR, world.other_dossier, DossierState.NOT_ACCEPTED)
    sign_in_as(client, "handler_b")
    page = client.get(_path(world.other_dossier, "non_acceptance"))
    assert page.status_code == 200 and 'name="ground"' in page.get_data(as_text=True)
    token = csrf_token(client, _path(world.other_dossier, "non_acceptance"))
    r = client.post(_path(world.other_dossier, "non_acceptance"),
                    data={"csrf_token": token, "ground": "投诉事项不属于违反法律援助管理规定的"})
    assert r.status_code == 303
    [doc] = [d for d in services.records.get_dossier("t", world.other_dossier).documents
             if d.kind is DocumentKind.NON_ACCEPTANCE_NOTICE]
    assert "不予受理的理由：投诉事项不属于违反法律援助管理规定的" in services.records.document_text("t", doc.item_number)[1]


def test_a_notice_that_does_not_fit_the_state_is_a_message_on_the_page(client: FlaskClient, services: Services,
                                                                      world: World) -> None:
    """GIVEN dossier X registered, not yet accepted
    WHEN the handler opens or posts its acceptance notice
    THEN both answer 409 with the reason on the page, and nothing is filed."""
    sign_in_as(client, "handler_a")
    page = client.get(_path(world.dossier, "acceptance"))
    assert page.status_code == 409 and 'data-refused="notice"' in page.get_data(as_text=True)
    before = len(services.records.get_dossier("t", world.dossier).documents)
    # The CSRF token of any page of the session will do; the dashboard carries the sign-out form.
    token = csrf_token(client, "/")
    r = client.post(_path(world.dossier, "acceptance"), data={"csrf_token": token})
    assert r.status_code == 409 and "registered" in r.get_data(as_text=True)
    assert len(services.records.get_dossier("t", world.dossier).documents) == before


def test_regulator_is_refused_once(client: FlaskClient, services: Services, world: World, log: LogCounter) -> None:
    """GIVEN a regulator granted dossier X (read-only)
    WHEN they post its acceptance notice
    THEN it is refused (404, as for a hidden dossier) with exactly one refused entry, nothing filed."""
    services.gate.advance(OPERATOR, world.dossier, DossierState.ACCEPTED)
    sign_in_as(client, "regulator")
    token = csrf_token(client, "/")
    log.new_entries()
    before = len(services.records.get_dossier("t", world.dossier).documents)
    r = client.post(_path(world.dossier, "acceptance"), data={"csrf_token": token})
    assert r.status_code in (403, 404)
    _one(log, actor="regulator", outcome="refused")
    assert len(services.records.get_dossier("t", world.dossier).documents) == before


def test_docx_draft_downloads_and_opens(client: FlaskClient, services: Services, world: World,
                                        log: LogCounter) -> None:
    """GIVEN dossier X accepted
    WHEN the handler downloads the acceptance notice as DOCX
    THEN a Word file named after the notice opens in python-docx with the number; one entry; nothing filed."""
    services.gate.advance(OPERATOR, world.dossier, DossierState.ACCEPTED)
    sign_in_as(client, "handler_a")
    log.new_entries()
    before = len(services.records.get_dossier("t", world.dossier).documents)
    r = client.get(_path(world.dossier, "acceptance") + "/docx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert ".docx" in r.headers["Content-Disposition"]
    text = "".join(p.text for p in Document(io.BytesIO(r.data)).paragraphs)
    assert world.dossier in text and "受理通知书" in text
    _one(log, actor="handler_a", outcome="allowed")
    assert len(services.records.get_dossier("t", world.dossier).documents) == before


def test_unknown_kind_is_not_found(client: FlaskClient, world: World) -> None:
    """GIVEN a signed-in handler WHEN they ask for a notice kind that does not exist THEN 404."""
    sign_in_as(client, "handler_a")
    assert client.get(_path(world.dossier, "summons")).status_code == 404
