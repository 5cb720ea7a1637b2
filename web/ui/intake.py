"""The intake page under /intake: failed and long-queued uploads, with a retry button each (issue #17).

A blueprint nested in the pages blueprint (endpoints ``ui.intake.*``), so the pages' sign-in check
runs first. Each view calls one :class:`~ingest.desk.IntakeDesk` use case, which the policy decides
(MANAGE_INTAKE: archivists and administrators) and logs exactly once; refusals answer 403. The
dashboard's counts come from the same desk (not logged: they name no job). Forms carry the CSRF token.

A job's file name and message are stored sealed under its dossier's key (issue #12) and opened by
the queue; once that key is destroyed they read as a translated "(sealed: dossier destroyed)".
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ingest.jobs import DEFAULT_STALE_SECONDS, SEALED_GONE, SEALED_UNAVAILABLE, IntakeJob, JobState
from web.auth import auth_details, identity, request_context, services, zone
from web.ui import bp as ui_bp

__all__ = ["bp"]

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.route("")
def jobs() -> str:
    """Failed jobs and jobs queued or processing for longer than the stale limit, newest first."""
    rows = services().intake_desk.jobs(identity(), states=[JobState.FAILED], stale_after=DEFAULT_STALE_SECONDS,
                                       context=request_context(), details=auth_details())
    rows = [_shown(j) for j in rows]
    return render_template("intake.html", jobs=rows, tz=zone(), stale_minutes=int(DEFAULT_STALE_SECONDS // 60),
                           failed=sum(1 for j in rows if j.state is JobState.FAILED))


@bp.route("/<job_id>/retry", methods=["POST"])
def retry(job_id: str) -> Response:
    services().intake_desk.retry(identity(), job_id, context=request_context(), details=auth_details())
    return redirect(url_for("ui.intake.jobs"), code=303)


@bp.route("/retry-failed", methods=["POST"])
def retry_failed() -> Response:
    services().intake_desk.retry_failed(identity(), context=request_context(), details=auth_details())
    return redirect(url_for("ui.intake.jobs"), code=303)


def _shown(job: IntakeJob) -> IntakeJob:
    """``job`` with the sealed-field markers (destroyed dossier, key service down) in the reader's language."""
    markers = {SEALED_GONE: _("(sealed: dossier destroyed)"), SEALED_UNAVAILABLE: _("(sealed: key service unavailable)")}
    if job.filename not in markers and job.message not in markers:
        return job
    return replace(job, filename=markers.get(job.filename, job.filename),
                   message=markers.get(job.message or "", job.message))


ui_bp.register_blueprint(bp)
