"""JSON API ``/api/v1``: dossiers, documents, uploads, search and the access log, authenticated by API token.

``Authorization: Bearer dos_…`` on every request (tokens come from `dossier token create`); each
request is authorised through the same gate as the pages and leaves one access-log entry: the
action, with the token that authorised it in its details (a refused token leaves a sign-in entry). Errors are ``{"error": {"code", "message"}}`` from web/errors.py.

An upload (``POST /dossiers/<number>/documents``) answers 202 once each file is sealed in the vault
and queued; ``GET /intake/<job>`` then tells its progress and outcome (background workers file it).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from ingest.jobs import IntakeJob, IntakeJobNotFoundError, read_chunks
from records.access.identity import Action
from records.errors import InvalidRegistrationError
from records.mapping import parse_registration
from records.model import DocumentKind, DossierState
from search.model import SortOrder
from web.auth import (
    auth_details, dossier_for, document_for, gate, identity, request_context, register_as_caller, search_as_caller, services,
    visible_dossiers, zone,
)
from web.errors import NotSignedInError
from web.params import date_param, month_param

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
                            month=month_param())
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
    reg = parse_registration(data, zone(), now=services().clock())
    info = register_as_caller(reg)
    return jsonify(jsonable(info)), 201


@bp.post("/dossiers/<number>/documents")
def upload(number: str) -> tuple[Response, int]:
    """Queue files (multipart field ``files``, optional ``kind``) for filing: 202, one job per file.

    Each file is sealed into the vault and recorded as a queued job before this answers; OCR and
    filing happen in a background worker. Poll ``status_url`` for the outcome.
    """
    info = dossier_for(Action.FILE_DOCUMENT, number)
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        return jsonify(error={"code": "no_files", "message": "send one or more files in the multipart field 'files'"}), 400
    kind_value = request.form.get("kind") or None
    if kind_value is not None and kind_value not in DocumentKind.__members__.values():
        raise InvalidRegistrationError("kind", f"unknown document kind {kind_value[:40]!r}")
    intake = services().intake
    jobs = [intake.accept(identity().name, info.archive_number, f.filename or "", read_chunks(f.stream),
                          kind=DocumentKind(kind_value) if kind_value else None) for f in files]
    resp = jsonify(jobs=[_job_json(j) for j in jobs])
    if len(jobs) == 1:
        resp.headers["Location"] = _status_url(jobs[0])
    return resp, 202


@bp.get("/intake/<job>")
def intake_status(job: str) -> Response:
    """One upload's progress: queued, processing, then filed / refused / failed with its outcome."""
    try:
        found = services().intake.get(identity().name, job)
    except IntakeJobNotFoundError:
        gate(Action.FILE_DOCUMENT, None, object_ref=f"intake/{job[:64]}", details={"problem": "not found"})
        raise
    dossier_for(Action.FILE_DOCUMENT, found.archive_number)  # who may upload there may follow the upload
    return jsonify(_job_json(found))


def _status_url(job: IntakeJob) -> str:
    return url_for("api.intake_status", job=job.job_id)


def _job_json(job: IntakeJob) -> dict[str, Any]:
    return {"job": job.job_id, "dossier": job.archive_number, "filename": job.filename, "size": job.size,
            "sha256": job.sha256, "state": job.state.value, "finished": job.finished, "outcome": job.outcome,
            "item_number": job.item_number, "message": job.message, "attempts": job.attempts,
            "uploaded_by": job.actor, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "children": jsonable(job.children), "status_url": _status_url(job)}


@bp.get("/documents/<item>")
def get_document(item: str) -> Response:
    _, doc = document_for(Action.VIEW_DOCUMENT, item)
    return jsonify(jsonable(doc))


@bp.get("/documents/<item>/text")
def document_text(item: str) -> Response:
    document_for(Action.VIEW_TEXT, item)
    doc, text, metadata = services().records.document_text(identity().name, item)
    return jsonify(item_number=doc.item_number, text=text, metadata=metadata)


@bp.get("/documents/<item>/content")
def document_content(item: str) -> Response:
    """The original as an attachment; a regulator's token gets the watermarked PDF (issue #5 (4))."""
    from web.ui.downloads import original_response

    return original_response(Action.DOWNLOAD_DOCUMENT, item, inline=False)


@bp.get("/search")
def search() -> Response:
    q = request.args.get("q", "").strip()
    if not q:
        return jsonify(error={"code": "invalid_query", "message": "q is required"}), 400  # type: ignore[return-value]
    sort = request.args.get("sort", SortOrder.RELEVANCE)
    page: Any = search_as_caller(
        q, page=max(1, request.args.get("page", 1, type=int) or 1),
        page_size=min(max(request.args.get("page_size", 20, type=int) or 20, 1), 100),
        sort=SortOrder(sort) if sort in SortOrder.__members__.values() else SortOrder.RELEVANCE)
    hits = [{**jsonable(h), "snippet": {"text": h.snippet.text, "spans": h.snippet.spans, "html": h.snippet.html()}}
            for h in page.hits]
    return jsonify(total=page.total, page=page.query.page, pages=page.pages, facets=page.facets, hits=hits)


@bp.get("/audit")
def audit() -> Response:
    since = date_param("since")
    entries = services().access.read_audit_log(
        identity(), user=request.args.get("user") or None, context=request_context(), details=auth_details(),
        since=datetime.combine(since, time(), zone()) if since else None)
    return jsonify(entries=[{"seq": e.seq, **jsonable(e.event), "prev_hash": e.prev_hash, "entry_hash": e.entry_hash}
                            for e in entries])
