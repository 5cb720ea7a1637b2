"""Case handling on the dossier page (issue #10 item 1): accept or refuse, investigate, decide, reply,
close, extend, withdraw, reopen — and correct a document's kind.

A blueprint nested in the pages blueprint (endpoints ``ui.casework.*``), so the pages' sign-in check
runs first. Each form posts to one door of the gate (``Gate.advance``, ``extend``, ``reopen``,
``reclassify``), which decides and logs it once; this module only says who is calling and what
they typed. What the panel offers comes from the same places: the lifecycle's ``TRANSITIONS``
for the state, the policy (:func:`web.ui.permissions.may`) for the caller, and the records
service for what each step does to the deadlines (``deadlines_if``), so the page shows the
effect of a step before it is taken and the new due dates at once after.

A refusal the user can act on (materials missing at closing, a date before the previous step, a
missing reason) is shown on the dossier page beside the forms, with the status that says why
(409 for the state, 422 for input), not as an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records.access.identity import Action
from records.deadlines import ClockName, ClockStatus
from records.errors import IncompleteDossierError, InvalidInputError, NotAllowedInStateError
from records.mapping import parse_day
from records.model import TRANSITIONS, DocumentKind, DossierInfo, DossierState
from web.auth import auth_details, identity, request_context, services, zone
from web.ui import bp as ui_bp
from web.ui.permissions import may

__all__ = ["REFUSAL_GROUNDS", "bp", "render_dossier"]

bp = Blueprint("casework", __name__)

# The grounds on which a legal-aid complaint is not accepted (ACC-NO-01..04, 法律援助投诉处理办法), and
# "other" with the ground written out. The code and the words are kept on the timeline, where the
# non-acceptance notice takes them from (ACC-OK-09: the reasons, and the route to seek review).
REFUSAL_GROUNDS: dict[str, str] = {
    "ACC-NO-01": "投诉事项已经依法处理，且没有新的事实和证据",
    "ACC-NO-02": "投诉事项正在通过诉讼、行政复议等法定程序解决，或者已被信访、纪检监察等部门受理",
    "ACC-NO-03": "投诉人仅对法律援助案件办理结果有异议",
    "ACC-NO-04": "投诉事项不属于违反法律援助管理规定的情形",
    "other": "",
}

# The handling steps offered here; sealing and disposal have their own pages (the archive department's).
_STEPS = (DossierState.ACCEPTED, DossierState.NOT_ACCEPTED, DossierState.INVESTIGATING, DossierState.DECIDED,
          DossierState.REPLIED, DossierState.CLOSED, DossierState.VOID)
# Which deadline a step starts or stops, for the preview beside its button.
_EFFECT: dict[DossierState, ClockName] = {
    DossierState.ACCEPTED: ClockName.CONCLUSION, DossierState.DECIDED: ClockName.REPLY,
}


@dataclass(frozen=True, slots=True)
class Step:
    """One lifecycle step the caller may take now, with what it asks for and what it does to the clocks."""

    to: DossierState
    starts: ClockStatus | None = None          # the clock this step starts, as if taken today
    needs_ground: bool = False                 # not accepted: the refusal ground (ACC-NO)
    needs_reason: bool = False                 # withdrawal: why (kept as the void reason)


@dataclass(frozen=True, slots=True)
class Panel:
    """What the case-handling card of a dossier offers this caller."""

    steps: tuple[Step, ...] = ()
    missing: tuple[str, ...] = ()              # what closing would lack (ARC-2); shown before closing
    may_override: bool = False                 # an archivist may close anyway, with a recorded reason
    may_extend: bool = False
    extended_due: date | None = None           # the conclusion due date today, before any new extension
    may_reopen: bool = False
    may_reclassify: bool = False
    today: date | None = None
    notices: tuple[str, ...] = ()              # the notices this state calls for (issue them on their page)
    grounds: dict[str, str] = field(default_factory=dict)


def panel(info: DossierInfo) -> Panel:
    """The case-handling card for ``info`` and this request's caller (pure: nothing is logged)."""
    records = services().records
    today = services().today(zone())
    allowed = TRANSITIONS[info.state]
    may_advance = may(Action.ADVANCE, info)
    steps = []
    for to in _STEPS:
        if to not in allowed:
            continue
        if to is DossierState.CLOSED:
            if not (may_advance or may(Action.CLOSE_OVERRIDE, info)):
                continue
        elif not may_advance:
            continue
        starts = None
        if to in _EFFECT:
            starts = next(c for c in records.deadlines_if(info, to, today) if c.clock is _EFFECT[to])
        steps.append(Step(to, starts, needs_ground=to is DossierState.NOT_ACCEPTED, needs_reason=to is DossierState.VOID))
    closing = DossierState.CLOSED in allowed
    conclusion = next((c for c in records.deadlines(info) if c.clock is ClockName.CONCLUSION), None)
    return Panel(
        steps=tuple(steps),
        missing=tuple(records.missing_for_close(info)) if closing else (),
        may_override=closing and may(Action.CLOSE_OVERRIDE, info),
        may_extend=info.state in (DossierState.ACCEPTED, DossierState.INVESTIGATING) and may_advance,
        extended_due=conclusion.due_on if conclusion else None,
        may_reopen=info.state is DossierState.CLOSED and may(Action.REOPEN, info),
        may_reclassify=may(Action.RECLASSIFY, info),
        today=today,
        notices=_notices_for(info) if may(Action.FILE_DOCUMENT, info) else (),
        grounds=REFUSAL_GROUNDS,
    )


def _notices_for(info: DossierInfo) -> tuple[str, ...]:
    """The notices the rules call for at this point of the lifecycle (ACC-DOC, TL-03, TL-04, TL-36)."""
    kinds = {d.kind for d in info.documents}
    out = []
    if DossierState.ACCEPTED in info.state_dates and DocumentKind.ACCEPTANCE_NOTICE not in kinds:
        out.append("acceptance")
    if DossierState.NOT_ACCEPTED in info.state_dates and DocumentKind.NON_ACCEPTANCE_NOTICE not in kinds:
        out.append("non_acceptance")
    if info.extensions and sum(1 for d in info.documents if d.kind is DocumentKind.EXTENSION_NOTICE) < len(info.extensions):
        out.append("extension")
    if DossierState.DECIDED in info.state_dates and DocumentKind.REPLY_LETTER not in kinds:
        out.append("reply")
    if any(c.overdue and c.completed_on is None for c in services().records.deadlines(info)):
        out.append("chaser")
    return tuple(out)


def render_dossier(info: DossierInfo, *, problem: str | None = None, missing: tuple[str, ...] = (),
                   status: int = 200) -> tuple[str, int]:
    """The dossier page with its case-handling card; ``problem`` is shown above the forms."""
    return render_template("dossier.html", d=info, reg=info.registration,
                           clocks=services().records.deadlines(info), tz=zone(),
                           retention=services().retention.show(info.archive_number),
                           case=panel(info), problem=problem, problem_missing=missing,
                           kinds=list(DocumentKind), form=request.form,
                           # Uploads not filed yet (#11): file names are shown to whoever sees the documents list.
                           pending=services().intake.pending_for(info.archive_number)), status


def _again(number: str, exc: Exception) -> tuple[str, int]:
    """The page again with the refusal beside the forms (the attempt itself was already logged)."""
    info = services().records.get_dossier(identity().name, number)
    if isinstance(exc, IncompleteDossierError):
        return render_dossier(info, problem=_("The dossier cannot be closed: required materials are missing."),
                              missing=tuple(exc.missing), status=409)
    return render_dossier(info, problem=str(exc), status=409 if isinstance(exc, NotAllowedInStateError) else 422)


@bp.route("/dossiers/<number>/step", methods=["POST"])
def step(number: str) -> Response | tuple[str, int]:
    """One lifecycle step (ADVANCE; CLOSE_OVERRIDE when an archivist closes with materials missing)."""
    form = request.form
    try:
        to = DossierState(form.get("to", ""))
    except ValueError:
        return _again(number, InvalidInputError(_("Choose a step.")))
    note = form.get("note", "").strip() or None
    if to is DossierState.NOT_ACCEPTED:
        code = form.get("ground", "")
        if code not in REFUSAL_GROUNDS or (code == "other" and not note):
            return _again(number, InvalidInputError(_("Give the ground on which the complaint is not accepted.")))
        note = " ".join(x for x in (code if code != "other" else None, REFUSAL_GROUNDS[code] or None, note) if x)
    override = form.get("override_reason", "").strip() or None
    try:
        on = parse_day(form["on"], "on") if form.get("on") else None
        info = services().gate.advance(identity(), number, to, on=on, note=note, override_reason=override,
                                       context=request_context(), details=auth_details())
    except (InvalidInputError, NotAllowedInStateError) as exc:
        return _again(number, exc)
    flash(_("%(number)s: %(state)s.", number=info.archive_number, state=_(info.state.value)), "ok")
    return redirect(url_for("ui.dossier", number=info.archive_number), code=303)


@bp.route("/dossiers/<number>/extend", methods=["POST"])
def extend(number: str) -> Response | tuple[str, int]:
    """Extend the conclusion deadline with the approver and the reason (TL-03); the notice follows."""
    form = request.form
    try:
        days = int(form.get("days", ""))
    except ValueError:
        return _again(number, InvalidInputError(_("Give the number of days.")))
    try:
        info = services().gate.extend(identity(), number, days=days, reason=form.get("reason", ""),
                                      approved_by=form.get("approved_by", "").strip(), context=request_context(),
                                      details=auth_details())
    except (InvalidInputError, NotAllowedInStateError) as exc:
        return _again(number, exc)
    due = next(c.due_on for c in services().records.deadlines(info) if c.clock is ClockName.CONCLUSION)
    flash(_("Conclusion now due %(day)s. Issue the extension notice to the complainant (TL-03).", day=due), "ok")
    if form.get("notice") == "1":  # TL-03 requires the written notice: go straight to it
        return redirect(url_for("ui.notices.preview", number=info.archive_number, kind="extension"), code=303)
    return redirect(url_for("ui.dossier", number=info.archive_number), code=303)


@bp.route("/dossiers/<number>/reopen", methods=["POST"])
def reopen(number: str) -> Response | tuple[str, int]:
    """A closed, unsealed dossier back to handling, with a reason (REOPEN)."""
    try:
        info = services().gate.reopen(identity(), number, reason=request.form.get("reason", ""),
                                      context=request_context(), details=auth_details())
    except (InvalidInputError, NotAllowedInStateError) as exc:
        return _again(number, exc)
    flash(_("%(number)s reopened.", number=info.archive_number), "ok")
    return redirect(url_for("ui.dossier", number=info.archive_number), code=303)


@bp.route("/documents/<item>/kind", methods=["POST"])
def reclassify(item: str) -> Response | tuple[str, int]:
    """Correct a document's kind (RECLASSIFY); the rule that fired stays recorded beside the correction."""
    number = item.partition(".v")[0].rpartition("-")[0]
    try:
        kind = DocumentKind(request.form.get("kind", ""))
        doc = services().gate.reclassify(identity(), item, kind, reason=request.form.get("reason", ""),
                                         context=request_context(), details=auth_details())
    except ValueError as exc:
        if not isinstance(exc, InvalidInputError):
            exc = InvalidInputError(_("Choose a document kind."))
        return _again(number, exc)
    except NotAllowedInStateError as exc:
        return _again(number, exc)
    flash(_("%(item)s is now: %(kind)s.", item=doc.item_number, kind=_(doc.kind.value)), "ok")
    return redirect(url_for("ui.dossier", number=number), code=303)


ui_bp.register_blueprint(bp)
