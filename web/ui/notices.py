"""The notices the complaint rules require, previewed, issued and filed from the browser (issue #10 item 3).

A blueprint nested in the pages blueprint (endpoints ``ui.notices.*``), so the pages' sign-in check
runs first. The browser's door to what ``dossier notice NUMBER KIND`` does on the console, over the
same use case (``records.notices.NoticeService``):

- ``GET /dossiers/<number>/notices/<kind>``: the notice as it will be filed; for a reply letter
  (TL-04) a text box prefilled with the draft the handler edits, for a non-acceptance notice
  (ACC-NO) the ground of refusal (prefilled with the one recorded on the not-accepted step);
- ``POST`` the same address: generate the PDF, file it with its kind, back to the dossier (303);
- ``GET|POST …/docx``: the notice as a Word file to print or edit, not filed.

Preparing a notice is part of filing it, so each request is decided as ``file_document`` on the
dossier (as the upload form is) and logged once; a regulator or a handler of another department
is refused. A notice that does not fit the dossier's state (an acceptance notice of a dossier not
accepted, a reply before the decision, a chaser with nothing overdue) is shown as a message on
this page (409), not as an error page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records.access.identity import Action
from records.errors import InvalidInputError, NotAllowedInStateError
from records.model import DossierInfo
from records.notices import DOCX, Notice, NoticeKind, refusal_ground, short_name
from web.auth import auth_details, identity, request_context, services
from web.ui import bp as ui_bp
from web.ui.downloads import content_response

__all__ = ["bp"]

bp = Blueprint("notices", __name__)

_KIND = "<any(acceptance, non_acceptance, extension, reply, chaser):kind>"
# Refusals that belong on the notice's page: the dossier's state, and what the form left out.
_ON_THE_PAGE = (NotAllowedInStateError, InvalidInputError)


def _dossier(number: str, kind: NoticeKind, **details: str) -> DossierInfo:
    """The dossier, once the caller may file into it (the gate's one entry, allowed or refused)."""
    return services().gate.dossier(identity(), number, action=Action.FILE_DOCUMENT, context=request_context(),
                                   details={**auth_details(), "notice": str(kind), **details})


def _form_text(name: str) -> str | None:
    """A text field of this request (form or query); absent or blank is None."""
    value = request.values.get(name)
    return value if value is not None and value.strip() else None


def _page(info: DossierInfo, kind: NoticeKind, *, body: str | None, ground: str | None,
          problem: str | None = None, status: int = 200) -> tuple[str, int]:
    """The notice's page: the text as it will be filed, the fields the handler may change, the buttons.

    ``fits`` is False when the notice does not fit the dossier's state: then only the reason is shown.
    """
    notices = services().notices
    if kind is NoticeKind.REPLY and body is None:
        try:
            body = notices.draft(info)
        except NotAllowedInStateError:
            pass  # no decision yet: compose() below says so
    if kind is NoticeKind.NON_ACCEPTANCE and ground is None:
        ground = refusal_ground(info)
    notice: Notice | None = None
    fits = True
    try:
        notice = notices.compose(info, kind, body=body, ground=ground)
    except NotAllowedInStateError as exc:
        fits, problem, status = False, problem or str(exc), 409
    except InvalidInputError as exc:
        problem = problem or str(exc)  # e.g. no ground of refusal yet: the form asks for it
    return render_template("notice.html", d=info, kind=kind.value, name=short_name(kind), notice=notice,
                           body=body or "", ground=ground or "", problem=problem, fits=fits), status


@bp.route(f"/dossiers/<number>/notices/{_KIND}")
def preview(number: str, kind: str) -> tuple[str, int]:
    """The notice as it will be filed (FILE_DOCUMENT on the dossier, like the upload form)."""
    k = NoticeKind(kind)
    info = _dossier(number, k, view="preview")
    return _page(info, k, body=_form_text("body"), ground=_form_text("ground"))


@bp.route(f"/dossiers/<number>/notices/{_KIND}", methods=["POST"])
def issue(number: str, kind: str) -> Any:
    """Generate the notice as a PDF and file it with its kind (``NoticeService.issue``), then back to the dossier."""
    k = NoticeKind(kind)
    body, ground = _form_text("body"), _form_text("ground")
    try:
        doc = services().notices.issue(identity(), number, k, context=request_context(), details=auth_details(),
                                       body=body if k is NoticeKind.REPLY else None,
                                       ground=ground if k is NoticeKind.NON_ACCEPTANCE else None)
    except _ON_THE_PAGE as exc:
        # Refused after the gate allowed and logged the filing: the page is shown from the plain
        # read that follows a decided door in the same request (no second entry).
        info = services().records.get_dossier(identity().name, number)
        return _page(info, k, body=body, ground=ground, problem=str(exc), status=409)
    flash(_("%(name)s filed as item %(item)s.", name=short_name(k), item=doc.item_number), "ok")
    return redirect(url_for("ui.dossier", number=number), code=303)


@bp.route(f"/dossiers/<number>/notices/{_KIND}/docx", methods=["GET", "POST"])
def docx(number: str, kind: str) -> Response:
    """The notice as a Word file (not filed); a POST carries the edited reply or the ground from the page."""
    k = NoticeKind(kind)
    name, data = services().notices.draft_copy(
        identity(), number, k, "docx", context=request_context(), details=auth_details(),
        body=_form_text("body") if k is NoticeKind.REPLY else None,
        ground=_form_text("ground") if k is NoticeKind.NON_ACCEPTANCE else None)
    return content_response(DOCX, name, [data], inline=False, size=len(data))


ui_bp.register_blueprint(bp)
