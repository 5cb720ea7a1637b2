"""A dossier as an archival unit in the browser: its contents 卷内目录 and the compiled volume (ARC-1-02, ARC-2-14).

A blueprint nested in the pages blueprint (endpoints ``ui.compile.*``), so the pages' sign-in
check runs first:

- ``GET /dossiers/<number>/contents`` (``ui.compile.contents``): the contents as a page — item,
  kind, title, date, pages, first page — with the link to the volume;
- ``GET /dossiers/<number>/compiled.pdf`` (``ui.compile.volume``): the contents page(s) and every
  document in one paginated PDF, as a download.

Both read every original of the dossier (the page counts come from rendering them), so both are
what ``dossier compile`` is: an export (ACS-12), decided once by ``records.compile.DossierCompiler``
through the gate and logged once — archivists any dossier, managers their departments; anyone
else gets 404, like every refusal on a dossier (``web.errors``), and one refused entry.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from web.auth import auth_details, identity, request_context, services, zone
from web.ui import bp as ui_bp
from web.ui.downloads import content_response

__all__ = ["bp"]

bp = Blueprint("compile", __name__)


@bp.route("/dossiers/<number>/contents")
def contents(number: str) -> str:
    """The contents of dossier ``number``'s volume, with the page numbers of the compiled PDF."""
    table = services().compiler.table_of_contents(identity(), number, context=request_context(),
                                                  details=auth_details())
    return render_template("contents.html", d=table.dossier, contents=table, tz=zone())


@bp.route("/dossiers/<number>/compiled.pdf")
def volume(number: str) -> Response:
    """The whole dossier as one paginated PDF (contents first), as a download."""
    compiled = services().compiler.volume(identity(), number, context=request_context(), details=auth_details())
    pdf = compiled.pdf
    resp = content_response("application/pdf", f"{compiled.dossier.archive_number}-卷内文件.pdf", [pdf],
                            inline=False, size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest())
    resp.headers["Content-Type"] = "application/pdf"  # still an attachment: saved, not shown in the page
    return resp


ui_bp.register_blueprint(bp)
