"""Opening an encrypted document from its page with a password (issue #13 (3)): the browser's door to
``dossier unlock ITEM --password-file F``.

A blueprint nested in the pages blueprint (endpoints ``ui.unlock.*``), so the sign-in check runs
first. ``POST /documents/<item>/unlock`` (form field ``password``, CSRF-protected like every form)
passes the gate once (``Gate.unlock``: FILE_DOCUMENT on the item's dossier, one access-log entry,
never the password), then ``IngestService.unlock`` extracts the original with the password and
replaces the item's text. Success: a message and back to the document page (303), which now
shows the text. A wrong password, an item that is not encrypted or a dossier that takes no
changes: the document's unlock page again with the translated reason (422 / 409), never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ingest.errors import EncryptedDocumentError, IngestError
from records.errors import NotAllowedInStateError, NotEncryptedError
from web.auth import auth_details, identity, request_context, services
from web.ui import bp as ui_bp

__all__ = ["bp"]

bp = Blueprint("unlock", __name__)
_PARSE_SECONDS = 120.0


@bp.route("/documents/<item>/unlock", methods=["POST"])
def document(item: str) -> Any:
    """Open encrypted document ``item`` with the password typed on its page."""
    password = request.form.get("password", "")
    original = services().gate.unlock(identity(), item, context=request_context(), details=auth_details())
    d, doc = original.dossier, original.document
    if not password:
        return _again(d, doc, _("Type the document's password."), 422)
    try:
        # Parsed inside the request (the password is never queued or stored), in a bounded time:
        # well inside `dossier serve`'s worker timeout. The parser pool is closed afterwards, so a
        # web worker does not keep parser processes for the rare unlock.
        result = services().ingest.unlock(identity().name, d.archive_number, doc, original.stream, password,
                                          timeout_seconds=_PARSE_SECONDS)
    except EncryptedDocumentError as exc:
        wrong = "wrong password" in exc.reason
        return _again(d, doc, _("Wrong password: the document stays encrypted.") if wrong
                      else _("The document could not be decrypted: %(why)s", why=exc.reason), 422)
    except NotEncryptedError:
        return _again(d, doc, _("This document is not encrypted."), 409)
    except NotAllowedInStateError:
        return _again(d, doc, _("The dossier takes no more changes."), 409)
    except IngestError as exc:   # it opened but cannot be read (corrupt, unsupported, too large)
        return _again(d, doc, _("Opened, but its content cannot be read: %(why)s", why=exc.reason), 422)
    finally:
        services().ingest.close()
    flash(_("%(item)s opened: %(chars)s characters of text.", item=result.item_number, chars=result.chars), "ok")
    return redirect(url_for("ui.document", item=result.item_number), code=303)


def _again(d: Any, doc: Any, error: str, status: int) -> tuple[str, int]:
    """The unlock page with the reason and the form again (no second read: the gate's answer is reused)."""
    return render_template("document_unlock.html", d=d, doc=doc, error=error), status


ui_bp.register_blueprint(bp)
