"""JSON API /api/v1 with API tokens: dossiers, documents, search, access log, OpenAPI."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import LogCounter, World


def _auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def test_openapi_description_lists_every_endpoint(client: FlaskClient) -> None:
    """GET /api/v1/openapi.json is an OpenAPI 3.1 document naming the API's paths."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/dossiers", "/dossiers/{number}", "/documents/{item}", "/search", "/audit"} <= set(spec["paths"])


def test_request_without_token_gets_401_and_is_logged(client: FlaskClient, world: World, log: LogCounter) -> None:
    """No token: 401 with a stable error code, and one refused entry."""
    resp = client.get("/api/v1/dossiers")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthenticated"
    assert [e.event.outcome for e in log.new_entries()] == ["refused"]


def test_bad_token_gets_401(client: FlaskClient, world: World) -> None:
    """An unknown token is refused like a missing one."""
    resp = client.get("/api/v1/dossiers", headers={"Authorization": "Bearer dos_nope"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "authentication_failed"


def test_handler_reads_a_dossier_with_deadlines(client: FlaskClient, world: World, log: LogCounter) -> None:
    """A handler's token reads their department's dossier; one entry, the view, names the token that authorised it."""
    resp = client.get(f"/api/v1/dossiers/{world.dossier}", headers=_auth(world, "handler_a"))
    body = resp.get_json()
    assert resp.status_code == 200 and body["archive_number"] == world.dossier
    assert body["registration"]["department"] == "A" and body["deadlines"][0]["clock"] == "acceptance"
    entries = log.new_entries()
    assert [e.event.action for e in entries] == ["view_dossier"]
    assert entries[0].event.details["auth"] == "token" and entries[0].event.details["token"]


def test_other_department_gets_404_not_found(client: FlaskClient, world: World) -> None:
    """Another department's dossier answers 404 not_found, as if absent."""
    resp = client.get(f"/api/v1/dossiers/{world.dossier}", headers=_auth(world, "handler_b"))
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_register_through_the_api(client: FlaskClient, world: World) -> None:
    """POST /dossiers registers a complaint and answers 201 with its number; a bad field is 422."""
    resp = client.post("/api/v1/dossiers", headers=_auth(world, "handler_a"), json={
        "matter": "电话投诉：援助律师未回电", "received_at": "2026-11-02 15:00", "channel": "phone", "department": "A",
        "complainant": "赵六"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "registered"
    bad = client.post("/api/v1/dossiers", headers=_auth(world, "handler_a"), json={"matter": "x", "channel": "pigeon"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_registration"


def test_document_metadata_text_and_content(client: FlaskClient, world: World) -> None:
    """A document's facts, text and original bytes are readable with a token (a regulator's copy is a stamped PDF)."""
    h = _auth(world, "regulator")
    assert client.get(f"/api/v1/documents/{world.item}", headers=h).get_json()["item_number"] == world.item
    assert "收费过高" in client.get(f"/api/v1/documents/{world.item}/text", headers=h).get_json()["text"]
    stamped = client.get(f"/api/v1/documents/{world.item}/content", headers=h)
    assert stamped.status_code == 200 and stamped.data.startswith(b"%PDF-")
    content = client.get(f"/api/v1/documents/{world.item}/content", headers=_auth(world, "handler_a"))
    assert content.status_code == 200 and content.data.decode("gb18030").startswith("投诉书")


def test_search_is_scoped_for_a_regulator(client: FlaskClient, world: World) -> None:
    """A regulator's total and facets count only the granted dossier (ACS-04)."""
    body = client.get("/api/v1/search", query_string={"q": "投诉"}, headers=_auth(world, "regulator")).get_json()
    assert {h["archive_number"] for h in body["hits"]} == {world.dossier}
    assert body["total"] == len(body["hits"]) == 1
    wide = client.get("/api/v1/search", query_string={"q": "法律援助"}, headers=_auth(world, "regulator")).get_json()
    assert wide["total"] == 0


def test_audit_log_for_auditor_and_refused_for_handler(client: FlaskClient, world: World) -> None:
    """The auditor reads the access log; a handler gets 403 forbidden."""
    body = client.get("/api/v1/audit", headers=_auth(world, "auditor")).get_json()
    assert body["entries"] and {"seq", "actor", "action", "entry_hash"} <= set(body["entries"][0])
    resp = client.get("/api/v1/audit", headers=_auth(world, "handler_a"))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
