"""Possibly related complaints in the browser (ACC-NO-01, STA-14): the panel on the dossier page.

A blueprint nested in the pages blueprint (endpoints ``ui.related.*``), so the pages' sign-in
check runs first:

- ``GET /dossiers/<number>/related`` (``ui.related.page``): earlier dossiers that look like the
  same matter — number, received date, state, matter and the reasons they were matched (same
  complainant, same respondent, similar text with its score) — as a page; with ``?fragment=1``
  only the panel, which ``related.js`` puts into the dossier page (the page a registration
  lands on, so a handler sees possible repeats right after registering one). When more were
  found than are listed (``search.related.SHOWN``), the panel says so. The dossier page's panel
  section is ``aria-live="polite"`` and ``related.js`` keeps it ``aria-busy`` while it loads.

The panel is loaded by its own request rather than inside the dossier view: the lookup is a
search, decided and logged once (``search.related.RelatedComplaints`` through the gate, SEARCH on
the dossier), and viewing the dossier stays one entry; without script the panel's link opens
the page. A search index that cannot answer shows a note in the panel, never an error page.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from search.errors import SearchUnavailableError
from search.related import RelatedRows
from web.auth import auth_details, identity, request_context, services
from web.ui import bp as ui_bp

__all__ = ["bp"]

bp = Blueprint("related", __name__)


@bp.route("/dossiers/<number>/related")
def page(number: str) -> tuple[str, int]:
    """The related complaints of dossier ``number`` inside the caller's scope (one SEARCH entry)."""
    fragment = request.args.get("fragment") == "1"
    try:
        rows = services().related.lookup(identity(), number, context=request_context(), details=auth_details())
        unavailable = False
    except SearchUnavailableError:
        rows, unavailable = RelatedRows(), True
    template = "_related_panel.html" if fragment else "related.html"
    return render_template(template, number=number, rows=rows, unavailable=unavailable), 200


ui_bp.register_blueprint(bp)
