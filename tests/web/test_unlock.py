"""Opening an encrypted document from its page (issue #13 (3)): the browser's `dossier unlock`.

An encrypted Word file (made in the test) is filed without its password; its page offers a
password form to whoever may file into the dossier. The right password replaces the item's text
in place (one access-log entry, no second copy); a wrong one says so in the page's language with
a 4xx, and the item stays encrypted.
"""

from __future__ import annotations


import pytest
from flask.testing import FlaskClient

from tests.e2e.test_cli_unlock import encrypted_docx
from tests.web.conftest import LogCounter, World, csrf_token, sign_in_as
from web.bootstrap import Services

DOC_PASSWORD = "案卷-2026"
SECRET = "鹦鹉螺律师事务所未退还代理费"


@pytest.fixture
def locked(services: Services, world: World) -> str:
    """GIVEN an encrypted .docx filed into dossier X without its password (outcome encrypted)."""
    result = services.ingest.ingest_bytes("test", encrypted_docx(SECRET, DOC_PASSWORD), "材料.docx",
                                          dossier=world.dossier)
    assert result.outcome.value == "encrypted" and result.item_number
    return result.item_number


def _zh(msgid: str, client: FlaskClient) -> str:
    """``msgid`` as the page shows it in the default locale (zh-CN, once the catalogue holds it)."""
    from flask_babel import gettext

    with client.application.test_request_context(headers={"Accept-Language": "zh-CN"}):
        return gettext(msgid)


def _decisions(log: LogCounter) -> list[tuple[str, str]]:
    return [(str(e.event.action), str(e.event.outcome)) for e in log.new_entries() if e.event.action != "sign_in"]


def test_the_page_of_an_encrypted_document_opens_it_with_the_password(
        client: FlaskClient, services: Services, world: World, locked: str, log: LogCounter) -> None:
    """GIVEN an encrypted document's page, seen by a handler of its department
    WHEN the handler posts a wrong password, then the right one
    THEN the wrong one answers 422 with the translated reason and changes nothing; the right one
    redirects (303) to the document page, which now shows its text; each attempt is one log entry,
    and the dossier holds as many documents as before."""
    sign_in_as(client, "handler_a")
    page = client.get(f"/documents/{locked}").get_data(as_text=True)
    url = f"/documents/{locked}/unlock"
    assert f'action="{url}"' in page and 'type="password"' in page and 'autocomplete="off"' in page
    token = csrf_token(client, f"/documents/{locked}")
    count = len(services.records.dossier_document_ids("t", world.dossier))
    log.new_entries()

    wrong = client.post(url, data={"csrf_token": token, "password": "猜一个"})
    assert wrong.status_code == 422
    assert _zh("Wrong password: the document stays encrypted.", client) in wrong.get_data(as_text=True)
    assert services.records.get_document("t", locked).outcome == "encrypted"
    assert _decisions(log) == [("file_document", "allowed")]

    right = client.post(url, data={"csrf_token": token, "password": DOC_PASSWORD})
    assert right.status_code == 303 and right.headers["Location"].endswith(f"/documents/{locked}")
    assert _decisions(log) == [("file_document", "allowed")]
    assert SECRET in client.get(f"/documents/{locked}").get_data(as_text=True)
    assert len(services.records.dossier_document_ids("t", world.dossier)) == count


def test_only_who_may_file_is_offered_the_form_and_may_post(
        client: FlaskClient, services: Services, world: World, locked: str, log: LogCounter) -> None:
    """GIVEN an encrypted document of department A
    WHEN a regulator granted the dossier views it, and a handler of department B posts the password
    THEN the regulator sees no password form, and the POST is refused (404, as for a document it may not see),
    logged once, the item still encrypted."""
    html = sign_in_as(client, "regulator").get(f"/documents/{locked}").get_data(as_text=True)
    assert "/unlock" not in html
    sign_in_as(client, "handler_b")
    token = csrf_token(client, "/")
    log.new_entries()
    refused = client.post(f"/documents/{locked}/unlock", data={"csrf_token": token, "password": DOC_PASSWORD})
    assert refused.status_code == 404
    assert _decisions(log) == [("file_document", "refused")]
    assert services.records.get_document("t", locked).outcome == "encrypted"
