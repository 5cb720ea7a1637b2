"""JSON API ``/api/v1``: dossiers, documents, search and the access log, authenticated by API token.

``Authorization: Bearer dos_…`` on every request (tokens come from `dossier token create`); each
request is authorised through the same gate as the pages and leaves its access-log entries (the
token sign-in and the action). Errors are ``{"error": {"code", "message"}}`` from web/errors.py.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

from flask import Blueprint, Response, jsonify, request

from records.access.identity import Action, DossierTarget
from records.mapping import parse_registration
from records.model import DossierState
from search.model import SortOrder
from web.auth import dossier_for, document_for, gate, identity, request_context, services, visible_dossiers, zone
from web.errors import NotSignedInError

bp = Blueprint("api", __name__)


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


@bp.before_request
def _require_token() -> None:
    if request.endpoint == "api.openapi":
        return
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        gate(Action.SIGN_IN, details={"method": "token", "problem": "no token"})  # anonymous: logged, refused
        raise NotSignedInError()
    identity()


@bp.get("/openapi.json")
def openapi() -> Response:
    from web.api.openapi import SPEC

    return jsonify(SPEC)


@bp.get("/dossiers")
def list_dossiers() -> Response:
    state = request.args.get("state") or None
    rows = visible_dossiers(state=DossierState(state) if state in DossierState.__members__.values() else None,
                            month=request.args.get("month") or None)
    return jsonify(dossiers=jsonable(rows))


@bp.get("/dossiers/<number>")
def get_dossier(number: str) -> Response:
    info = dossier_for(Action.VIEW_DOSSIER, number)
    body = jsonable(info)
    body["deadlines"] = jsonable(services().records.deadlines(info))
    return jsonify(body)


@bp.post("/dossiers")
def register() -> tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error={"code": "invalid_json", "message": "send a JSON object of registration fields"}), 400
    reg = parse_registration(data, zone(), now=datetime.now(timezone.utc))
    gate(Action.REGISTER, DossierTarget(
        dossier_id=None, state=DossierState.REGISTERED, department=reg.department, respondent=reg.respondent,
        category=reg.category, received_on=reg.received_at.astimezone(zone()).date()))
    info = services().records.register_complaint(identity().name, reg)
    return jsonify(jsonable(info)), 201


@bp.get("/documents/<item>")
def get_document(item: str) -> Response:
    document_for(Action.VIEW_DOCUMENT, item)
    return jsonify(jsonable(services().records.get_document(identity().name, item)))


@bp.get("/documents/<item>/text")
def document_text(item: str) -> Response:
    document_for(Action.VIEW_TEXT, item)
    doc, text, metadata = services().records.document_text(identity().name, item)
    return jsonify(item_number=doc.item_number, text=text, metadata=metadata)


@bp.get("/documents/<item>/content")
def document_content(item: str) -> Response:
    from web.ui import content_response

    document_for(Action.DOWNLOAD_DOCUMENT, item)
    doc, stream = services().records.retrieve_document(identity().name, item)
    return content_response(doc.media_type, doc.filename, stream, inline=False)


@bp.get("/search")
def search() -> Response:
    q = request.args.get("q", "").strip()
    if not q:
        return jsonify(error={"code": "invalid_query", "message": "q is required"}), 400  # type: ignore[return-value]
    sort = request.args.get("sort", SortOrder.RELEVANCE)
    gate(Action.SEARCH, details={"q": q[:200]})
    scope = services().access.scope(identity(), Action.SEARCH)
    page = services().search.search(
        identity().name, q, scope, page=max(1, request.args.get("page", 1, type=int) or 1),
        page_size=min(max(request.args.get("page_size", 20, type=int) or 20, 1), 100),
        sort=SortOrder(sort) if sort in SortOrder.__members__.values() else SortOrder.RELEVANCE)
    hits = [{**jsonable(h), "snippet": {"text": h.snippet.text, "spans": h.snippet.spans, "html": h.snippet.html()}}
            for h in page.hits]
    return jsonify(total=page.total, page=page.query.page, pages=page.pages, facets=page.facets, hits=hits)


@bp.get("/audit")
def audit() -> Response:
    since = request.args.get("since")
    entries = services().access.read_audit_log(
        identity(), user=request.args.get("user") or None, context=request_context(),
        since=datetime.fromisoformat(since).replace(tzinfo=zone()) if since and len(since) == 10 else None)
    return jsonify(entries=[{"seq": e.seq, **jsonable(e.event), "prev_hash": e.prev_hash, "entry_hash": e.entry_hash}
                            for e in entries])
