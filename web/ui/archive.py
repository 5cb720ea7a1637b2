"""The archive department's pages: seal, amend, a dossier's retention, legal holds, the disposal queue.

A blueprint nested in the pages blueprint (endpoints ``ui.archive.*``), so the pages' sign-in check
runs first. These pages are the browser's door to what ``dossier seal | amend | retention … |
hold … | dispose …`` do on the console (``web/cli/retention.py``), over the same use cases of
``retention.service.RetentionService`` and the same gate (``records.access.gate.Gate``):

- seal (ARC-1-05, ARC-2): the completeness view, and the seal once every required material is
  there; a refused seal shows the missing list on the page, not a bare error;
- amend a sealed dossier with a reason (ARC-1-05), filed by ``RetentionService.amend``;
- a dossier's retention (RET): rule, trigger, disposal date, history, holds; re-plan with a reason;
- legal holds on a dossier or a saved filter (the grant-filter syntax of ACS-04), placed and lifted
  with a reason;
- disposition (RET): an archivist reviews what is due, a manager — another person, signed in as
  themselves — approves, an archivist runs it; the certificate is downloaded and verified.

Every request passes exactly one door that decides and writes the access-log entry; the web
layer re-implements no rule. Reads that follow a decided door in the same request use the
service's undecorated reads (as the dossier page shows the plan under its own entry). Buttons are
offered only where :func:`web.ui.permissions.may` says the policy would allow them.

A step that the service refuses for the dossier's or disposition's state (nothing due, the
reviewer approving, a hold without a reason) comes back to its page as a message (flash, 303);
a refusal by role is the app's error page (403/404), logged once like any other.
"""

from __future__ import annotations

import io
import mimetypes
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.wrappers import Response

from records.access.errors import InvalidGrantError
from records.access.identity import Action, DossierTarget, GrantFilter
from records.errors import DossierNotFoundError, InvalidInputError, InvalidTransitionError
from records.model import DocumentKind, DossierInfo, DossierState
from retention.errors import InvalidDispositionError, RetentionError, SameApproverError, SealIncompleteError
from retention.model import HoldFilter
from retention.sealing import materials_from_settings, missing_materials, required_for
from web.auth import auth_details, gate, identity, request_context, safe_next, services, settings, zone
from web.params import InvalidParameterError, date_param
from web.ui import bp as ui_bp
from web.ui.permissions import may

__all__ = ["bp"]

bp = Blueprint("archive", __name__)

#: The sealing materials (``retention.sealing.MATERIALS``) as people call them.
MATERIAL_LABELS: dict[str, Any] = {
    "registration": _l("Complaint letter or record of the complaint"),
    "acceptance_decision": _l("Acceptance or non-acceptance notice"),
    "investigation": _l("Investigation minutes or evidence"),
    "decision": _l("Handling decision"),
    "reply": _l("Reply letter"),
}

#: What a reviewed disposition may do, as ``dossier dispose review --action`` offers it.
DISPOSAL_ACTIONS = ("destroy", "transfer")

# Refusals that belong on the page the form came from, as a message: the state of a dossier,
# a hold or a disposition, input a form can get wrong, and the four-eyes rule.
_ON_THE_PAGE = (RetentionError, SameApproverError, InvalidTransitionError, InvalidInputError)


def _dossier(action: Action, number: str, **details: str) -> DossierInfo:
    """The dossier, once ``action`` on it is allowed (the gate's one entry, allowed or refused)."""
    return services().gate.dossier(identity(), number, action=action, context=request_context(),
                                   details={**auth_details(), **details})


def _refused(exc: Exception) -> None:
    """Put a refusal on the next page as a message (the service has logged what it logs)."""
    flash(str(exc), "bad")


def _form_day(name: str) -> date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameterError(name, raw, "a date YYYY-MM-DD (e.g. 2026-10-01)") from None


def _back(default: str) -> Response:
    return redirect(safe_next(request.form.get("next")) or default, code=303)


# ---------------------------------------------------------------------- sealing (ARC-1-05, ARC-2)
def _seal_page(info: DossierInfo, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    """The completeness view: each required material, whether it is there, and the verdict (ARC-2)."""
    conf = settings().retention
    required = required_for(materials_from_settings(conf.required_materials, conf.material_kinds),
                            info.registration.sla_profile)
    # The one completeness rule (retention.sealing), asked per material for the checklist and
    # by the service for the verdict the seal itself applies.
    rows = [(m, missing_materials(info, [m])) for m in required]
    missing = services().retention.missing_for_seal(info.archive_number)
    sealable = info.state is DossierState.CLOSED and not missing
    return render_template("archive_seal.html", d=info, rows=rows, missing=missing, sealable=sealable,
                           labels=MATERIAL_LABELS, problem=problem, closed=DossierState.CLOSED), status


@bp.route("/dossiers/<number>/seal")
def seal(number: str) -> tuple[str, int]:
    """The seal page (SEAL on the dossier, like the upload form takes FILE_DOCUMENT): archivists only."""
    return _seal_page(_dossier(Action.SEAL, number, view="completeness"))


@bp.route("/dossiers/<number>/seal", methods=["POST"])
def seal_post(number: str) -> Any:
    """Seal through ``RetentionService.seal``; while materials are missing, the page lists them (409)."""
    try:
        info, _plan = services().retention.seal(identity(), number)
    except (SealIncompleteError, InvalidTransitionError) as exc:
        # Refused before the seal's own entry: the page shown in its place is this request's entry.
        info = _dossier(Action.SEAL, number, view="completeness", refused=type(exc).__name__)
        return _seal_page(info, problem=str(exc), status=409)
    flash(_("Dossier %(number)s is sealed.", number=info.archive_number), "ok")
    return redirect(url_for("ui.archive.retention", number=info.archive_number), code=303)


# ---------------------------------------------------------------------- amending a sealed dossier
def _amend_page(info: DossierInfo, problem: str | None = None, status: int = 200,
                form: dict[str, str] | None = None) -> tuple[str, int]:
    return render_template("archive_amend.html", d=info, kinds=list(DocumentKind), problem=problem,
                           form=form or {}, sealed=info.state is DossierState.SEALED), status


@bp.route("/dossiers/<number>/amend")
def amend(number: str) -> tuple[str, int]:
    """The amendment form (AMEND on the dossier): archivists only; sealed dossiers only take one."""
    return _amend_page(_dossier(Action.AMEND, number, view="form"))


@bp.route("/dossiers/<number>/amend", methods=["POST"])
def amend_post(number: str) -> Any:
    """File one file into a sealed dossier with its kind and the reason, as ``dossier amend`` does."""
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    reason = request.form.get("reason", "").strip()
    form = {"kind": kind, "reason": reason}
    problem = None
    if upload is None or not upload.filename:
        problem = _("Choose the file to add.")
    elif kind not in DocumentKind.__members__.values():
        problem = _("Choose the kind of the document.")
    elif not reason:
        problem = _("Give the reason why material is added after sealing.")
    if problem is not None or upload is None:
        return _amend_page(_dossier(Action.AMEND, number, view="form", refused="incomplete form"), problem, 400, form)
    name = upload.filename or "upload"
    media_type = upload.mimetype if upload.mimetype and upload.mimetype != "application/octet-stream" else (
        mimetypes.guess_type(name)[0] or "application/octet-stream")
    try:
        doc = services().retention.amend(identity(), number, upload.read(), kind=DocumentKind(kind), reason=reason,
                                         filename=name, media_type=media_type)
    except (RetentionError, InvalidInputError) as exc:
        return _amend_page(_dossier(Action.AMEND, number, view="form", refused=type(exc).__name__), str(exc), 409, form)
    flash(_("Filed as item %(item)s.", item=doc.item_number), "ok")
    return redirect(url_for("ui.dossier", number=number), code=303)


# ---------------------------------------------------------------------- a dossier's retention (RET)
@bp.route("/dossiers/<number>/retention")
def retention(number: str) -> str:
    """Rule, trigger, disposal date, plan history and holds (VIEW_RETENTION on that dossier)."""
    view = services().retention.plan_view(identity(), number, context=request_context(), details=auth_details())
    return render_template("archive_retention.html", v=view, plan=view.plan or view.current, tz=zone())


@bp.route("/dossiers/<number>/retention", methods=["POST"])
def replan(number: str) -> Response:
    """Re-plan this dossier under the schedule in effect, with the reason (PLAN_RETENTION)."""
    try:
        changes = services().retention.replan(identity(), reason=request.form.get("reason", ""), numbers=[number],
                                              context=request_context(), details=auth_details())
    except _ON_THE_PAGE as exc:
        _refused(exc)
    else:
        flash(_("Re-planned: %(n)s plan(s) changed.", n=len(changes)), "ok")
    return redirect(url_for("ui.archive.retention", number=number), code=303)


# ---------------------------------------------------------------------- legal holds
@bp.route("/retention/holds")
def holds() -> str:
    """Active holds (``?all=1``: lifted ones too), with the forms to place and lift them."""
    include_lifted = request.args.get("all") == "1"
    rows = services().retention.hold_list(identity(), include_lifted=include_lifted, context=request_context(),
                                          details=auth_details())
    return render_template("archive_holds.html", holds=rows, include_lifted=include_lifted, tz=zone(),
                           describe=_filter_text)


@bp.route("/retention/holds", methods=["POST"])
def place_hold() -> Response:
    """Hold one dossier (``number``) or every dossier matching ``filter``, for ``reason`` (PLACE_HOLD)."""
    number = request.form.get("number", "").strip() or None
    filter_text = request.form.get("filter", "").strip()
    try:
        f = None
        if filter_text:  # the same syntax as `dossier hold add --filter`
            g = GrantFilter.parse(filter_text)
            f = HoldFilter(g.respondents, g.categories, g.received_from, g.received_until)
        h = services().retention.place_hold(identity(), reason=request.form.get("reason", ""), number=number,
                                            filter=f, details=auth_details())
    except (*_ON_THE_PAGE, InvalidGrantError, DossierNotFoundError) as exc:  # a filter that does not parse, a typo
        _refused(exc)
    else:
        flash(_("Hold %(hold)s placed.", hold=h.hold_id), "ok")
    return _back(url_for("ui.archive.holds"))


@bp.route("/retention/holds/lift", methods=["POST"])
def lift_hold() -> Response:
    """Lift the hold ``ref`` (a hold id), or the holds placed on dossier ``ref`` itself (LIFT_HOLD)."""
    try:
        lifted = services().retention.lift_hold(identity(), request.form.get("ref", "").strip(),
                                                reason=request.form.get("reason", ""), details=auth_details())
    except _ON_THE_PAGE as exc:
        _refused(exc)
    else:
        flash(_("Lifted: %(holds)s.", holds=", ".join(h.hold_id for h in lifted)), "ok")
    return _back(url_for("ui.archive.holds"))


def _filter_text(f: HoldFilter | None) -> str:
    f = f or HoldFilter()
    return GrantFilter(f.respondents, f.categories, f.received_from, f.received_until).render()


# ---------------------------------------------------------------------- disposition
@bp.route("/retention/disposal")
def disposal() -> str:
    """The due queue as of a date (held ones marked) and every disposition with its state (VIEW_RETENTION).

    One decided read (the due queue); the dispositions are read under that same decision.
    """
    as_of = date_param("as_of")
    svc = services().retention
    due = svc.due_queue(identity(), as_of, include_held=True, context=request_context(), details=auth_details())
    today = services().today(zone())
    return render_template("archive_disposal.html", due=due, dispositions=list(reversed(svc.dispositions())),
                           as_of=as_of or today, actions=DISPOSAL_ACTIONS, tz=zone(),
                           may_run=may(Action.DISPOSE, _any_sealed()))


def _any_sealed() -> DossierTarget:
    """A sealed dossier, as the policy sees one, for asking whether the caller may run disposals at all."""
    return DossierTarget(dossier_id=None, state=DossierState.SEALED)


@bp.route("/retention/disposal/review", methods=["POST"])
def review() -> Response:
    """An archivist proposes the due dossiers (all, or those ticked) for destruction or transfer."""
    action = request.form.get("action", "destroy")
    as_of_text = request.form.get("as_of", "")
    try:
        if action not in DISPOSAL_ACTIONS:
            raise InvalidParameterError("action", action, "destroy or transfer")
        d = services().retention.review(identity().name, as_of=_form_day("as_of"),
                                        numbers=request.form.getlist("numbers") or None,
                                        action=action)  # type: ignore[arg-type]
    except _ON_THE_PAGE as exc:
        _refused(exc)
    else:
        flash(_("Disposition %(id)s reviewed: %(n)s dossier(s) proposed for %(action)s.", id=d.disposition_id,
                n=len(d.numbers), action=_(d.action)), "ok")
    return redirect(url_for("ui.archive.disposal", as_of=as_of_text or None), code=303)


@bp.route("/retention/dispositions/<disposition_id>/approve", methods=["POST"])
def approve(disposition_id: str) -> Response:
    """A manager — not the reviewer — approves; the reviewer's attempt is refused and shown here."""
    try:
        services().retention.approve(identity().name, disposition_id)
    except _ON_THE_PAGE as exc:
        _refused(exc)
    else:
        flash(_("Disposition %(id)s approved.", id=disposition_id), "ok")
    return redirect(url_for("ui.archive.disposal"), code=303)


@bp.route("/retention/dispositions/<disposition_id>/run", methods=["POST"])
def run(disposition_id: str) -> Response:
    """Execute an approved disposition (DISPOSE on each dossier, decided at run time)."""
    try:
        done = services().retention.run(identity(), disposition_id=disposition_id)
    except _ON_THE_PAGE as exc:
        _refused(exc)
    else:
        for d in done:
            flash(_("Disposition %(id)s: %(state)s.", id=d.disposition_id, state=_(str(d.state))), "ok")
    return redirect(url_for("ui.archive.disposal"), code=303)


def _certified(disposition_id: str, what: str) -> Any:
    """The disposition whose certificate is asked for, after the one logged decision (VIEW_RETENTION)."""
    gate(Action.VIEW_RETENTION, object_ref=disposition_id, details={"certificate": what})
    d = services().retention.disposition(disposition_id)
    if d.certificate is None:
        raise InvalidDispositionError(disposition_id, "has no certificate yet (it has not run)")
    return d


@bp.route("/retention/dispositions/<disposition_id>/certificate.<fmt>")
def certificate(disposition_id: str, fmt: str) -> Response:
    """The certificate as a download: the PDF people read, or the signed JSON it renders."""
    if fmt not in ("pdf", "json"):
        raise InvalidParameterError("format", fmt, "pdf or json")
    cert = _certified(disposition_id, f"download {fmt}").certificate
    path = cert.pdf_path if fmt == "pdf" else cert.json_path
    # Read whole (a certificate holds numbers and hashes: kilobytes), so no file stays open on the response.
    return send_file(io.BytesIO(path.read_bytes()), mimetype="application/pdf" if fmt == "pdf" else "application/json",
                     as_attachment=True, download_name=path.name)


@bp.route("/retention/dispositions/<disposition_id>/verify", methods=["GET", "POST"])
def verify(disposition_id: str) -> tuple[str, int]:
    """Check the certificate against the archive's signing key (``retention.certificate.verify_certificate``).

    GET checks the stored PDF (and so the signed JSON it names). POST checks a copy someone
    holds: a JSON certificate on its own, or a PDF against this disposition's signed JSON.
    """
    from retention.certificate import CertificateInvalidError, verify_certificate

    upload = request.files.get("file") if request.method == "POST" else None
    d = _certified(disposition_id, "verify upload" if upload else "verify")
    cert_ref = d.certificate
    key = services().access.signing_public_key()
    content: dict[str, Any] | None = None
    problem: str | None = None
    with tempfile.TemporaryDirectory(prefix="dossier-verify-") as tmp:
        path = cert_ref.pdf_path
        if upload is not None and upload.filename:
            data = upload.read()
            json_copy, pdf_copy = Path(tmp) / cert_ref.json_path.name, Path(tmp) / cert_ref.pdf_path.name
            if data.startswith(b"%PDF"):
                # A PDF names the SHA-256 of its JSON: check it against this disposition's signed JSON.
                pdf_copy.write_bytes(data)
                shutil.copyfile(cert_ref.json_path, json_copy)
                path = pdf_copy
            else:
                json_copy.write_bytes(data)
                path = json_copy
        try:
            if key is None:
                raise CertificateInvalidError(path.name, "this archive has no signing key")
            content = verify_certificate(path, key)
            if content.get("disposition_id") != disposition_id:
                raise CertificateInvalidError(path.name, f"a valid certificate, but of disposition "
                                                         f"{content.get('disposition_id')}")
        except CertificateInvalidError as exc:
            content, problem = None, exc.problem
    return render_template("archive_verify.html", d=d, content=content, problem=problem,
                           uploaded=upload.filename if upload is not None else None), (200 if problem is None else 422)


ui_bp.register_blueprint(bp)
