"""BagIt transfer pages under /transfer: export dossiers as a zipped package, import one by upload (ACS-12, #10).

A blueprint nested in the pages blueprint (endpoints ``ui.bags.*``), so the pages' sign-in check
runs first. Both directions are :class:`retention.transfer.BagDesk` use cases, the same ones
``dossier export-bag`` and ``dossier import-bag`` call: an export decides and logs EXPORT for
every document before its bytes are read (a regulator recipient also needs a grant covering each
dossier and gets watermarked PDF copies only); an import decides and logs IMPORT (archivists)
before a byte of the upload is unpacked, then validates the whole package before anything is
filed. The package is built in a private temporary directory and removed once it is sent.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, g, render_template, request, send_file

from records.access.identity import Action, Identity
from records.access.policy import scope_for
from records.errors import InvalidInputError
from retention.transfer import BagInvalidError
from web.auth import auth_details, identity, request_context, services, zone
from web.ui import bp as ui_bp
from web.ui.permissions import may

__all__ = ["bp"]

bp = Blueprint("bags", __name__, url_prefix="/transfer")
_NUMBERS = re.compile(r"[\s,，;；]+")
_MAX_NUMBERS = 500


class NoDossiersNamedError(InvalidInputError):
    """The export form named no dossier."""

    code = "no_dossiers"

    def __init__(self) -> None:
        super().__init__("name at least one dossier number to export")


class NoPackageError(InvalidInputError):
    """The import form carried no file."""

    code = "no_package"

    def __init__(self) -> None:
        super().__init__("choose the zipped BagIt package to import")


@ui_bp.app_context_processor
def _transfer_link() -> dict[str, Any]:
    """Whether to offer the transfer page: the policy lets the caller import, or export some dossiers.

    A preview for the navigation only (pure, not logged); each act decides and logs again.
    """
    me: Identity = g.get("identity") or Identity.anonymous()
    if me.role is None:
        return {"may_transfer": False}
    now = services().clock()
    return {"may_transfer": may(Action.IMPORT) or not scope_for(me, Action.EXPORT, now).is_empty}


@bp.route("")
def page() -> str:
    """The export form (numbers, recipient, purpose) and the import form (a zip upload)."""
    return render_template("transfer.html", numbers=request.args.get("numbers", ""))


@bp.route("/export", methods=["POST"])
def export() -> Response:
    """Build the package of the named dossiers and send it as a zip (EXPORT per document, logged)."""
    numbers = [n for n in _NUMBERS.split(request.form.get("numbers", "")) if n][:_MAX_NUMBERS]
    if not numbers:
        raise NoDossiersNamedError()
    recipient = request.form.get("recipient", "").strip() or None
    purpose = request.form.get("purpose", "").strip()[:500] or None
    stamp = services().clock().astimezone(zone()).strftime("%Y%m%d-%H%M%S")
    name = f"dossiers-{stamp}"
    workdir = Path(tempfile.mkdtemp(prefix="dossier-export-"))
    try:
        path, _report = services().bags.export_zip(identity(), numbers, workdir, name, tz=zone(), recipient=recipient,
                                                   purpose=purpose, context=request_context())
        response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    # The package holds plaintext: it lives only until the response is sent.
    response.call_on_close(lambda: shutil.rmtree(workdir, ignore_errors=True))
    return response


@bp.route("/import", methods=["POST"])
def import_() -> tuple[str, int]:
    """Import an uploaded zipped package (IMPORT, logged) and show what was filed."""
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        raise NoPackageError()
    name = Path(upload.filename).name
    workdir = Path(tempfile.mkdtemp(prefix="dossier-import-"))
    try:
        report = services().bags.import_zip(identity(), upload.stream, name, tz=zone(), workdir=workdir,
                                            context=request_context(), details=auth_details())
    except BagInvalidError as exc:
        # The upload is what is wrong, not the archive: say what, on the page (422), nothing was filed.
        return render_template("transfer.html", numbers="", problem=exc.problem, package=name), 422
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return render_template("transfer.html", numbers="", imported=report.dossiers, package=name), 200


ui_bp.register_blueprint(bp)
