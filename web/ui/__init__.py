"""Server-rendered pages (Jinja, zh-CN first): dashboard, dossiers, registration, upload, search, documents, log.

Each view parses its input, passes the gate in :mod:`web.auth` (one access-log entry), calls the
service and renders. Upload never waits for OCR: each file is sealed into the vault and queued
(ingest.jobs) before the page answers 202, and the page then polls each file's status.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for

from flask_babel import get_locale

from ingest.jobs import read_chunks
from records.access.identity import Action, Identity, Role
from records.access.policy import decide
from records.deadlines import ClockState
from records.mapping import parse_registration
from records.model import OPEN_STATES, Channel, ComplainantType, DossierState, RespondentType
from search.model import SortOrder
from web.auth import (
    dossier_for, document_for, gate, identity, request_context, register_as_caller, search_as_caller, services, visible_dossiers, zone,
)
from web.params import month_param
from web.ui.downloads import INLINE_TYPES, original_response
from web.ui.labels import label
from records.access.errors import AccessDeniedError  # noqa: E402,I001  (the register form's errors, issue #11)
from records.errors import InvalidRegistrationError  # noqa: E402,I001
from web.ui.form_errors import registration_error  # noqa: E402,I001
from web.ui.uploads import job_rows, withdraw_target

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/static")

_FORM_FIELDS = ("matter", "received_at", "channel", "complainant", "complainant_contact", "complainant_type",
                "respondent", "respondent_type", "request", "facts_and_reasons", "event_on", "expected_remedy",
                "receiving_officer", "department", "category", "collective_count", "referring_body")


def _today() -> date:
    return services().today(zone())


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    me = g.get("identity") or Identity.anonymous()
    # The policy decides who is offered the upload-queue link (MANAGE_INTAKE); pure, so not logged.
    may_manage_intake = me.role is not None and decide(me, Action.MANAGE_INTAKE, None, now=services().clock()).allowed
    return {"me": me, "Role": Role, "get_locale": get_locale, "may_manage_intake": may_manage_intake}


@bp.before_request
def _signed_in_only() -> None:
    """Anonymous callers are sent to sign in before any page runs (one refused, logged entry)."""
    if request.endpoint != "ui.static" and identity().role is None:
        gate(Action.SIGN_IN, object_ref=request.path, details={"problem": "not signed in"})


@bp.route("/")
def dashboard() -> str:
    rows = visible_dossiers()
    records = services().records
    open_rows = [r for r in rows if r.state in OPEN_STATES]
    clocks = []
    for r in open_rows[:50]:
        info = records.get_dossier(identity().name, r.archive_number)
        clocks += [(r, c) for c in records.deadlines(info)
                   if c.state in (ClockState.RUNNING, ClockState.DUE_TODAY, ClockState.OVERDUE)]
    clocks.sort(key=lambda rc: rc[1].due_on or date.max)
    return render_template("dashboard.html", open_rows=open_rows, overdue=[r for r in rows if r.overdue],
                           clocks=clocks[:20], recent=rows[:10], monthly=_reports.dashboard_report(),
                           intake=services().intake_desk.backlog(identity()),
                           # The caller's own due today / soon / overdue lists (records.reminders; one entry).
                           reminders=services().reminders.mine(identity(), context=request_context()),
                           # Years an open deadline counts days in without official 调休 data (names years only).
                           calendar_gaps=services().calendar_years_without_data(),
                           health=services().health.check())  # cached; the degraded-mode banner


@bp.route("/dossiers")
def dossiers() -> str:
    state = request.args.get("state") or None
    month = month_param()
    overdue = request.args.get("overdue") == "1"
    rows = visible_dossiers(state=DossierState(state) if state in DossierState.__members__.values() else None,
                            month=month, overdue_on=_today() if overdue else None)
    return render_template("dossiers.html", rows=rows, states=list(DossierState), state=state, month=month,
                           overdue=overdue)


@bp.route("/dossiers/<number>")
def dossier(number: str) -> tuple[str, int]:
    """The dossier: registration, timeline, deadlines, documents, and the case-handling card (issue #10)."""
    return _casework.render_dossier(dossier_for(Action.VIEW_DOSSIER, number))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """The registration form (INT-F); a fault of the form answers 422 with the form as typed (issue #11).

    A role the policy gives no REGISTER at all (regulator, auditor, administrator) is refused at
    the form (403, logged once), not after filling it in. A refusal for the department typed in
    and each field's problem are shown beside that field, translated (web/ui/form_errors.py).
    """
    if not _permissions.may_any(Action.REGISTER):
        gate(Action.REGISTER)  # logs the refusal and raises it: 403, before any form is shown
    me = identity()
    dept = next(iter(me.departments)) if me.departments and len(me.departments) == 1 else ""
    choices = {"channels": list(Channel), "complainant_types": list(ComplainantType),
               "respondent_types": list(RespondentType)}
    if request.method == "GET":
        return render_template("register.html", department=dept, form={}, errors={}, **choices)
    data: dict[str, object] = {k: request.form.get(k, "").strip() for k in _FORM_FIELDS}
    data["anonymous"] = request.form.get("anonymous") == "on"
    data["evidence"] = [line.strip() for line in request.form.get("evidence", "").splitlines() if line.strip()]
    try:
        info = register_as_caller(parse_registration(data, zone(), now=services().clock()))
    except (InvalidRegistrationError, AccessDeniedError) as exc:
        problem = registration_error(exc)
        if problem is None:
            raise
        return render_template("register.html", department=dept, form=request.form.to_dict(),
                               errors=problem.as_dict(), **choices), 422
    return redirect(url_for("ui.dossier", number=info.archive_number), code=303)


@bp.route("/dossiers/<number>/upload", methods=["GET", "POST"])
def upload(number: str) -> Any:
    """The upload form; a POST queues each file (sealed, durable) and answers 202 with a status row per file.

    ``?job=…`` (the page's own no-script refresh) shows those jobs' current status; seeing it
    takes FILE_DOCUMENT, like uploading.
    """
    asked = request.args.getlist("job")
    # The form itself takes FILE_DOCUMENT: a read-only caller (regulator, auditor) is not offered one.
    info = dossier_for(Action.FILE_DOCUMENT, number)
    intake = services().intake
    if request.method == "POST":
        jobs = [intake.accept(identity().name, info.archive_number, f.filename, read_chunks(f.stream))
                for f in request.files.getlist("files") if f.filename]
        return render_template("upload.html", d=info, jobs=jobs,
                               rows=job_rows(jobs, dossier=info.archive_number)), 202 if jobs else 200
    jobs = intake.jobs(identity().name, asked, dossier=info.archive_number) if asked else []
    return render_template("upload.html", d=info, jobs=jobs, rows=job_rows(jobs, dossier=info.archive_number))


@bp.route("/dossiers/<number>/upload/status")
def upload_status(number: str) -> Response:
    """JSON status of the named jobs (``?job=…`` repeated), polled by the upload page's script."""
    info = dossier_for(Action.FILE_DOCUMENT, number)
    jobs = services().intake.jobs(identity().name, request.args.getlist("job"), dossier=info.archive_number)
    # Each row also carries the filed document's kind, outcome and OCR confidence (web.ui.uploads).
    return jsonify(jobs=job_rows(jobs, dossier=info.archive_number))


@bp.route("/dossiers/<number>/withdraw-item", methods=["POST"])
def withdraw_document(number: str) -> Any:
    """Withdraw junk filing ``item`` (a form field) of dossier ``number`` with a reason (FILE_DOCUMENT on the
    dossier, one log entry; #11 item 5) — like ``dossier withdraw-item``.

    Back to the upload status the form came from (its ``job`` fields), else to the document.
    A missing reason or a closed dossier is said there as a message, not as an error page.
    """
    from flask import flash
    from flask_babel import gettext as _

    from records.access.gate import dossier_of_item
    from records.errors import DocumentNotFoundError, InvalidInputError, NotAllowedInStateError
    from web.auth import auth_details

    item = request.form.get("item", "").strip()
    if not item or dossier_of_item(item) != number:  # names no item of this dossier: nothing to decide
        raise DocumentNotFoundError(item[:64])
    back = withdraw_target(item, number, request.form.getlist("job"))
    try:
        doc = services().gate.withdraw_document(identity(), item, request.form.get("reason", ""),
                                                context=request_context(), details=auth_details())
    except NotAllowedInStateError:
        flash(_("Not withdrawn: the dossier takes no more changes."), "error")
        return redirect(back, code=303)
    except InvalidInputError as exc:
        why = (_("give a reason.") if getattr(exc, "field", None) == "reason"
               else _("it is withdrawn already."))
        flash(_("Not withdrawn: %(why)s", why=why), "error")
        return redirect(back, code=303)
    flash(_("%(item)s withdrawn.", item=doc.item_number), "ok")
    return redirect(back, code=303)


@bp.route("/search")
def search() -> Any:
    """Hits grouped by dossier, filters as removable chips, a date range, saved searches (#11 item 4).

    A query that cannot be read answers 400 with the translated message above the (empty)
    results and the search box still holding what was typed.
    """
    from search.errors import InvalidQueryError

    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    sort = request.args.get("sort", SortOrder.RELEVANCE)
    ranged = _searching.with_date_range(q, request.args.get("from", ""), request.args.get("to", ""))
    if ranged != q:  # the date picker: the range becomes part of the query (and a removable chip)
        return redirect(url_for("ui.search", q=ranged, sort=sort))
    result, error = None, None
    if q:
        try:
            result = search_as_caller(q, page=page, sort=SortOrder(sort) if sort in SortOrder.__members__.values()
                                      else SortOrder.RELEVANCE)
        except InvalidQueryError as exc:
            error = _searching.query_error_message(exc)
    saved = _searching.saved_searches().mine(identity().name)
    groups = _searching.group_hits(result.hits) if result else []
    return render_template("search.html", q=q, result=result, sort=sort, error=error, groups=groups,
                           chips=_searching.chips(q, sort) if result else [], saved=saved), 400 if error else 200


@bp.route("/documents/<item>")
def document(item: str) -> str:
    info, doc = document_for(Action.VIEW_TEXT, item)
    text = services().records.document_text(identity().name, item)[1] if doc.text_chars else None
    # Pages, Word / e-mail as sanitised HTML, prev / next, a regulator's text masked (issue #11 item 3).
    view = _viewing.view_of(info, doc, text, page=request.args.get("page", 1, type=int) or 1)
    return render_template("document.html", d=info, doc=doc, text=view.text, inline=doc.media_type in INLINE_TYPES,
                           watermarked=identity().role is Role.REGULATOR, view=view)


@bp.route("/documents/<item>/content")
def content(item: str) -> Response:
    """The original inline (viewer) or as a download; a regulator gets a watermarked PDF either way."""
    download = request.args.get("download") == "1"
    return original_response(Action.DOWNLOAD_DOCUMENT if download else Action.VIEW_DOCUMENT, item,
                             inline=not download)


# The administration pages (nested blueprint ``ui.admin``, /admin) and the ``label`` filter.
from web.ui import admin as _admin, compile as _compile, intake as _intake, labels as _labels, notices as _notices, reports as _reports  # noqa: E402
from web.ui import archive as _archive, permissions as _permissions  # noqa: E402  (ui.archive; the may() global)
from web.ui import bags as _bags, inventory as _inventory  # noqa: E402  (ui.bags /transfer; ui.inventory /inventory)
from web.ui import casework as _casework  # noqa: E402  (ui.casework: lifecycle steps, extension, reopen, kind)
from web.ui import audit as _audit  # noqa: E402  (ui.audit /audit, ui.audit_export /audit.csv: the access log)
from web.ui import viewing as _viewing  # noqa: E402  (ui.viewer: page images, thumbnails; the document viewer)
from web.ui import searching as _searching  # noqa: E402  (search helpers; ui.save_search, ui.delete_saved_search)
from web.ui import unlock as _unlock  # noqa: E402  (ui.unlock.document: open an encrypted document with its password)
from web.ui import related as _related  # noqa: E402  (ui.related.page: possibly related complaints, ACC-NO-01)

_labels.register(bp)
