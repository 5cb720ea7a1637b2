"""The one table from domain error to HTTP status and stable ``error.code`` (Invenio ``error_handlers``).

A refusal for a dossier or document answers 404, exactly like a number that does not exist, so
a caller cannot learn that a hidden dossier exists (Mayan answers 404 too). A refusal of an
action on the archive itself (the access log, user management) answers 403. An anonymous caller
is sent to the sign-in page (UI) or gets 401 (API). API paths answer ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ingest.errors import IngestError
from records.access.errors import (
    AccessDeniedError, AccessError, AuditChainBrokenError, AuthenticationError, GrantExpiredError, GrantNotFoundError,
    GrantRequiredError, InvalidGrantError, InvalidUserError, UserExistsError, UserNotFoundError,
)
from records.errors import (
    ConfigurationError, DocumentNotFoundError, DossierClosedError, DossierError, DossierNotFoundError,
    DuplicateDocumentError, InvalidRegistrationError, InvalidTransitionError, NumberingError,
)
from records.vault import VaultError
from search.errors import IndexOutdatedError, InvalidQueryError, SearchError, SearchUnavailableError

__all__ = ["ERRORS", "ErrorInfo", "error_info", "register_error_handlers", "ThrottledError", "NotSignedInError"]


class NotSignedInError(AccessError):
    """The request carries no valid session or token (the refusal is already logged)."""

    def __init__(self) -> None:
        super().__init__("sign in first")


class ThrottledError(AccessError):
    """Too many failed sign-ins for one name recently; the refusal is already logged."""

    def __init__(self, name: str, minutes: int) -> None:
        super().__init__(f"too many failed sign-ins for {name!r}; try again in {minutes} minutes")
        self.name = name
        self.minutes = minutes


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: int
    code: str


# Most specific first: the first class the error is an instance of wins.
ERRORS: tuple[tuple[type[Exception], ErrorInfo], ...] = (
    (NotSignedInError, ErrorInfo(401, "unauthenticated")),
    (AuthenticationError, ErrorInfo(401, "authentication_failed")),
    (ThrottledError, ErrorInfo(429, "too_many_sign_ins")),
    (GrantExpiredError, ErrorInfo(403, "grant_expired")),
    (AccessDeniedError, ErrorInfo(403, "forbidden")),   # 404 "not_found" when it names an object: see error_info
    (GrantRequiredError, ErrorInfo(409, "grant_required")),
    (UserNotFoundError, ErrorInfo(404, "user_not_found")),
    (GrantNotFoundError, ErrorInfo(404, "grant_not_found")),
    (UserExistsError, ErrorInfo(409, "user_exists")),
    (InvalidUserError, ErrorInfo(422, "invalid_user")),
    (InvalidGrantError, ErrorInfo(422, "invalid_grant")),
    (AuditChainBrokenError, ErrorInfo(503, "access_log_broken")),
    (DossierNotFoundError, ErrorInfo(404, "not_found")),
    (DocumentNotFoundError, ErrorInfo(404, "not_found")),
    (InvalidRegistrationError, ErrorInfo(422, "invalid_registration")),
    (InvalidTransitionError, ErrorInfo(409, "invalid_transition")),
    (DossierClosedError, ErrorInfo(409, "dossier_closed")),
    (DuplicateDocumentError, ErrorInfo(409, "duplicate_document")),
    (NumberingError, ErrorInfo(500, "numbering_error")),
    (InvalidQueryError, ErrorInfo(400, "invalid_query")),
    (IndexOutdatedError, ErrorInfo(503, "index_outdated")),
    (SearchUnavailableError, ErrorInfo(503, "search_unavailable")),
    (SearchError, ErrorInfo(500, "search_error")),
    (IngestError, ErrorInfo(422, "ingest_error")),
    (VaultError, ErrorInfo(500, "vault_error")),
    (ConfigurationError, ErrorInfo(500, "configuration_error")),
    (AccessError, ErrorInfo(403, "access_error")),
    (DossierError, ErrorInfo(500, "internal_error")),
)


def error_info(exc: Exception) -> ErrorInfo:
    """Status and code for a domain error (``internal_error`` for anything unlisted)."""
    for cls, info in ERRORS:
        if isinstance(exc, cls):
            if type(exc) is AccessDeniedError and exc.target:
                return ErrorInfo(404, "not_found")  # may not learn that the object exists
            return info
    return ErrorInfo(500, "internal_error")


def _message(exc: Exception, info: ErrorInfo) -> str:
    if info.code == "not_found":
        return _("Not found")  # the same words whether hidden or absent
    if info.status >= 500 and not isinstance(exc, (SearchUnavailableError, AuditChainBrokenError)):
        return _("Internal error")
    return str(exc)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, code: str, message: str) -> Response | tuple[object, int]:
    if _wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, code=code, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DossierError)
    def _domain(exc: DossierError) -> object:
        info = error_info(exc)
        who = g.get("identity")
        if isinstance(exc, AccessDeniedError) and (who is None or (who.role is None and not who.console)):
            info = ErrorInfo(401, "unauthenticated")  # nobody signed in: ask for that, reveal nothing
        if info.code == "unauthenticated" and not _wants_json():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if info.status >= 500:
            app.logger.exception("request failed: %s", exc)
        return _render(info.status, info.code, _message(exc, info))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> object:
        return _render(400, "csrf_failed", _("The form expired or was not sent from this site; reload and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> object:
        code = (exc.name or "error").lower().replace(" ", "_")
        return _render(exc.code or 500, code, exc.description or exc.name)
