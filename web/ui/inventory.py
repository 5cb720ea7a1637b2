"""The inventory page under /inventory: start a run in the background, watch it, download its reports (ARC-6).

A blueprint nested in the pages blueprint (endpoints ``ui.inventory.*``), so the pages' sign-in
check runs first. Each view calls one :class:`~retention.inventory_desk.InventoryDesk` use case,
which asks the policy (RUN_INVENTORY: archivists and auditors) and logs the act once; refusals
answer 403. The run itself is :meth:`retention.inventory.InventoryService.run`, exactly as
``dossier inventory`` calls it, in a thread of this process — one at a time: a second start while
one runs is turned away with a message, not queued.

The page polls ``/inventory/status`` (a small script, ``static/inventory.js``); without script it
reloads itself every few seconds while a run is under way.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response as BaseResponse

from retention.inventory_desk import REPORT_FORMATS, InventoryBusyError
from web.auth import auth_details, identity, request_context, services, zone
from web.ui import bp as ui_bp

__all__ = ["bp"]

bp = Blueprint("inventory", __name__, url_prefix="/inventory")


@bp.route("", methods=["GET"])
def page() -> str:
    """The run under way (if any), the runs kept in the archive with their reports, a start button."""
    desk = services().inventory_desk
    runs = desk.runs(identity(), context=request_context(), details=auth_details())
    return render_template("inventory.html", runs=runs, job=desk.status(identity()), tz=zone(),
                           busy=request.args.get("busy") == "1", formats=list(REPORT_FORMATS))


@bp.route("", methods=["POST"])
def start() -> BaseResponse:
    """Start an inventory in the background (RUN_INVENTORY, logged by the run); back to the page."""
    try:
        services().inventory_desk.start(identity(), context=request_context(), details=auth_details())
    except InventoryBusyError:
        return redirect(url_for("ui.inventory.page", busy=1), code=303)
    return redirect(url_for("ui.inventory.page"), code=303)


@bp.route("/status")
def status() -> Response:
    """The background run's progress as JSON, for the page's script (asked of the policy, not logged)."""
    job = services().inventory_desk.status(identity(), context=request_context())
    if job is None:
        return jsonify(state="idle", running=False)
    body = job.as_dict()
    body["percent"] = int(100 * job.done / job.total) if job.total else (100 if not job.running else 0)
    return jsonify(body)


@bp.route("/<run_id>/report.<fmt>")
def report(run_id: str, fmt: str) -> Response:
    """A run's report (html, csv, pdf) as a download (RUN_INVENTORY, logged once); unknown: 404."""
    path = services().inventory_desk.report_file(identity(), run_id, fmt, context=request_context(),
                                                 details=auth_details())
    return send_file(path, mimetype=REPORT_FORMATS[fmt], as_attachment=True, download_name=path.name)


ui_bp.register_blueprint(bp)
