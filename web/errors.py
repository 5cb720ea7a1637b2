"""Domain error → HTTP status, by category (Invenio ``error_handlers``); and the catch-all.

:data:`HTTP_STATUS` gives each category of ``records.errors`` its status, once; an error's
``error.code`` is its own ``code`` (records.errors). ``web/cli/_errors.py`` gives the same
categories their exit codes; README's "Exit codes and HTTP statuses" shows both.

A refusal for a dossier or document answers 404, exactly like a number that does not exist, so
a caller cannot learn that a hidden dossier exists (Mayan answers 404 too). A refusal of an
action on the archive itself (the access log, user management) answers 403. An anonymous caller
is sent to the sign-in page (UI) or gets 401 (API). API paths answer ``{"error": {"code", "message"}}``.

A back end that cannot be used right now (category ``UnavailableError``: the document store,
the key service, the search server, the catalogue database) answers 503 with ``Retry-After``
and a translated sentence naming that back end (:func:`_unavailable_message`), never the
exception's text: it names endpoints, and an endpoint URL may carry a password. A database
driver's connection error is such an outage too (``records.db.catalogue_unavailable``).

A page (not the API) never shows an exception's text (issue #11): it shows a translated heading
and sentence for its status (:func:`_page_texts`) and, where safe, a translated detail built from
the error's attributes (:func:`_page_detail`: the action a role lacks, a form field's problem).

Anything else a view raises is a bug or a failure nobody foresaw: it is logged with its
traceback and answered with a plain, translated 500 (page or JSON) that shows neither the
traceback nor the exception's text, which may name paths, SQL or settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flask import Flask, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from records.access.errors import AccessDeniedError, AccessError, AuditChainBrokenError
from records.errors import (
    ConfigurationError, DataIntegrityError, DossierError, ForbiddenError, InvalidContentError, InvalidInputError,
    KeyProblemError, NotAllowedInStateError, NotFoundError, TooManyAttemptsError, UnauthenticatedError,
    CatalogueUnavailableError, UnavailableError, VerificationFailedError, category_of,
)
from records.db import catalogue_unavailable
from records.redact import masked_urls
from records.vault.errors import StorageUnavailableError, VaultError
from search.errors import SearchUnavailableError

__all__ = ["HTTP_STATUS", "RETRY_AFTER_SECONDS", "ErrorInfo", "error_info", "register_error_handlers", "ThrottledError",
           "NotSignedInError"]


class NotSignedInError(AccessError, UnauthenticatedError):
    """The request carries no valid session or token (the refusal is already logged)."""

    def __init__(self) -> None:
        super().__init__("sign in first")


class ThrottledError(AccessError, TooManyAttemptsError):
    """Too many failed sign-ins for one name recently; the refusal is already logged."""

    code = "too_many_sign_ins"

    def __init__(self, name: str, minutes: int) -> None:
        super().__init__(f"too many failed sign-ins for {name!r}; try again in {minutes} minutes")
        self.name = name
        self.minutes = minutes


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: int
    code: str


HTTP_STATUS: Mapping[type[DossierError], int] = MappingProxyType({
    NotFoundError: 404,
    InvalidInputError: 400,           # a parameter or query cannot be read
    InvalidContentError: 422,         # understood, but what was sent to be kept is refused
    NotAllowedInStateError: 409,
    DataIntegrityError: 500,
    KeyProblemError: 500,
    ConfigurationError: 500,
    UnavailableError: 503,
    UnauthenticatedError: 401,
    TooManyAttemptsError: 429,
    ForbiddenError: 403,              # 404 "not_found" when it names a dossier or document: see error_info
    VerificationFailedError: 422,
})
"""Every category's HTTP status; an error answers its most specific category's (``category_of``)."""

INTERNAL = ErrorInfo(500, "internal_error")

RETRY_AFTER_SECONDS = 30
"""``Retry-After`` of every 503: long enough not to hammer a back end that is restarting, short
enough that a script retrying on it gets through soon after the back end is back."""


def error_info(exc: BaseException) -> ErrorInfo:
    """Status and code for an error: its category's status and its own ``code``.

    Anything that is not a categorised DossierError is ``internal_error`` (500); the error-tree
    test makes sure no DossierError Dossier defines ends up there.
    """
    if not isinstance(exc, DossierError):
        return INTERNAL
    status = HTTP_STATUS.get(category_of(exc))  # type: ignore[arg-type]
    if status is None:
        return INTERNAL
    if type(exc) is AccessDeniedError and exc.target:
        return ErrorInfo(404, "not_found")  # may not learn that the object exists
    return ErrorInfo(status, exc.code)


def _message(exc: Exception, info: ErrorInfo) -> str:
    if info.code == "not_found":
        return _("Not found")  # the same words whether hidden or absent
    if isinstance(exc, UnavailableError):
        return _unavailable_message(exc)
    if info.status >= 500:
        return _("Internal error")
    return str(exc)


def _unavailable_message(exc: UnavailableError) -> str:
    """Which back end is down, in the caller's language; what failed and where is in the log.

    The vault raises "unavailable" for two back ends: its blob store (StorageUnavailableError)
    and its key provider (whatever the provider's class is called, it is the vault's other one).
    """
    if isinstance(exc, AuditChainBrokenError):
        return str(exc)  # names the entry to repair; no endpoint in it
    if isinstance(exc, StorageUnavailableError):
        return _("The document store is temporarily unavailable; try again later.")
    if isinstance(exc, VaultError):
        return _("The key service is temporarily unavailable; try again later.")
    if isinstance(exc, SearchUnavailableError):
        return _("The search service is temporarily unavailable; try again later.")
    if isinstance(exc, CatalogueUnavailableError):
        return _("The catalogue database is temporarily unavailable; try again later.")
    return _("A service the archive needs is temporarily unavailable; try again later.")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page_texts(status: int) -> tuple[str, str]:
    """An error page's heading and sentence for ``status``, in the caller's language (issue #11 item 1).

    A page never shows the exception's own text, which is written for developers and the CLI
    ("department: … give --department", "市司法局监管 may not manage_users …") and is English.
    The API keeps that text: it is for developers (``{"error": {"code", "message"}}``).
    """
    texts = {
        400: (_("The request could not be read"),
              _("Something in the request could not be read; check what you typed and try again.")),
        403: (_("Not allowed"), _("Your role does not allow this. If you need it, ask the archive's administrator.")),
        404: (_("Not found"), _("There is no such page or record, or it is not open to you.")),
        405: (_("Not allowed"), _("This page cannot be used this way.")),
        409: (_("Not possible now"), _("This cannot be done in the dossier's current state.")),
        413: (_("Too large"), _("What was sent is too large.")),
        422: (_("Cannot be accepted"), _("What was sent cannot be accepted; check it and try again.")),
        429: (_("Too many attempts"), _("Too many attempts; wait a few minutes and try again.")),
        500: (_("Internal error"), _("Something went wrong on the archive's side. It has been logged; try again later.")),
        503: (_("Temporarily unavailable"), _("A service the archive needs is temporarily unavailable; try again later.")),
    }
    if status in texts:
        return texts[status]
    return (_("Internal error"), texts[500][1]) if status >= 500 else (_("Error"), _("The request could not be completed."))


def _page_detail(exc: BaseException | None, status: int) -> str | None:
    """A translated detail where it is safe and useful: what the role lacks, which field, how long to wait.

    Built from the error's attributes (an action, a field), never from its text — except a 400's
    description of unreadable input (a search query nested too deep) on an English page, where
    the developer's wording is the user's language and names only what they typed.
    """
    from flask_babel import get_locale  # noqa: PLC0415 - request-time only
    from web.ui.form_errors import grant_error, registration_error  # noqa: PLC0415 - web.ui imports this module's app
    from web.ui.labels import label  # noqa: PLC0415

    if isinstance(exc, ThrottledError):
        return _("Too many failed sign-ins; try again in %(minutes)s minutes.", minutes=exc.minutes)
    if isinstance(exc, AccessDeniedError) and status == 403:
        who = g.get("identity")
        role = _(who.role.value) if who is not None and who.role is not None else ""
        return _("The role %(role)s does not include: %(action)s.", role=role, action=label(exc.action))
    if isinstance(exc, DossierError) and status == 422:
        problem = registration_error(exc) or grant_error(exc)
        return problem.message if problem is not None else None
    if isinstance(exc, InvalidInputError) and status == 400 and str(get_locale()) == "en":
        return str(exc)
    return None


def _render(status: int, code: str, message: str, exc: BaseException | None = None,
            sentence: str | None = None) -> Response:
    """JSON for the API (``message`` as is); a translated page otherwise (``sentence``: an already translated one)."""
    if _wants_json():
        resp = jsonify(error={"code": code, "message": message})
    else:
        back = request.referrer or ""  # a link, not javascript: the pages' CSP runs no inline script
        title, default = _page_texts(status)
        resp = make_response(render_template("error.html", status=status, code=code, title=title,
                                             message=sentence or default, detail=_page_detail(exc, status),
                                             back=back if back.startswith(request.host_url) else None))
    resp.status_code = status
    if status == 503:
        # Every 503 here is a back end that may come back: say when to try again (RFC 9110 §10.2.3).
        resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


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
            app.logger.exception("request failed: %s", masked_urls(str(exc)))
        # A page says which back end is down (already translated); otherwise its status's sentence.
        down = isinstance(exc, UnavailableError) and not isinstance(exc, AuditChainBrokenError)
        return _render(info.status, info.code, _message(exc, info), exc,
                       sentence=_unavailable_message(exc) if down else None)  # type: ignore[arg-type]

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def _database(exc: Exception) -> object:
        """The catalogue database cannot be reached: "unavailable" (503), like any other back end."""
        down = catalogue_unavailable(exc)
        if down is None:  # not one it recognises: a bug after all
            return _unexpected(exc)
        return _domain(down)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> object:
        expired = _("The form expired or was not sent from this site; reload and try again.")
        return _render(400, "csrf_failed", expired, sentence=expired)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> object:
        """Werkzeug's own errors (an unknown URL, a wrong method): its English text for the API only."""
        code = (exc.name or "error").lower().replace(" ", "_")
        return _render(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> object:
        """A bug or an unforeseen failure: the log gets the traceback, the caller a plain 500.

        Neither the traceback nor ``str(exc)`` is shown: either may name files, SQL or settings.
        Rendering the error page can itself fail (a broken template, the very failure that got
        us here), so that falls back to one line of text rather than to Werkzeug's own page.
        """
        app.logger.exception("unexpected error in %s %s", request.method, request.path)
        try:
            return _render(INTERNAL.status, INTERNAL.code, _("Internal error"))
        except Exception:  # noqa: BLE001 - last resort: answer something plain, never the traceback
            app.logger.exception("the error page itself failed")
            return Response("500 Internal error\n", status=500, mimetype="text/plain")
