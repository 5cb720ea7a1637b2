"""Who is asking: sessions and API tokens, sign-in with throttling, and the one gate views call.

Views never decide access themselves: they call :func:`gate` (or a service that logs its own
decision, such as ``read_audit_log``), which sends the caller's identity, the action and the
dossier to :meth:`AccessService.enforce` together with a :class:`RequestContext` (ip, user
agent, purpose). Every allowed and refused request therefore leaves exactly one access-log entry;
an API call's token is recorded in that entry (``details.auth = token``), not in a second one.

Retrievals (:func:`dossier_for`, :func:`document_for`, :func:`retrieve_original`) read the
catalogue rows they need and append their entry in one transaction
(:meth:`AccessService.retrieve`): no log entry, no document.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from records.access.errors import AccessDeniedError, AuthenticationError
from records.access.identity import Action, Decision, DossierTarget, Identity, RequestContext
from records.access.model import AccessScope
from records.access.policy import target_of
from records.errors import DocumentNotFoundError, DossierNotFoundError
from records.model import DocumentInfo, DossierInfo
from records.settings import Settings
from web.bootstrap import Services
from web.errors import NotSignedInError, ThrottledError

__all__ = ["bp", "services", "settings", "identity", "request_context", "gate", "dossier_for", "document_for",
           "retrieve_original", "Original", "auth_details", "visible_dossiers", "SessionInterface", "LoginThrottle"]

bp = Blueprint("auth", __name__)
T = TypeVar("T")
U = TypeVar("U")

THROTTLE_FAILURES = 5
THROTTLE_WINDOW = 15 * 60


# ---------------------------------------------------------------------- reaching the services
def services() -> Services:
    return current_app.extensions["dossier"]  # type: ignore[no-any-return]


def settings() -> Settings:
    return current_app.config["DOSSIER_SETTINGS"]  # type: ignore[no-any-return]


def zone() -> ZoneInfo:
    return ZoneInfo(settings().timezone)


def request_context(purpose: str | None = None) -> RequestContext:
    ua = request.user_agent.string or None
    return RequestContext(ip=request.remote_addr, user_agent=ua[:256] if ua else None,
                          purpose=purpose or request.values.get("purpose") or None)


def identity() -> Identity:
    """The caller of this request: from the Bearer token (API) or the signed session (UI)."""
    if "identity" in g:
        return g.identity  # type: ignore[no-any-return]
    who = Identity.anonymous()
    header = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and header.startswith("Bearer "):
        # A refused token is logged (sign_in) by check_token; a valid one goes into the act's entry.
        who, token_id = services().access.check_token(header[7:].strip(), context=request_context())
        g.auth_details = {"auth": "token", "token": token_id}
    elif name := session.get("user"):
        who = services().access.identity(name)  # re-read: a disabled account stops at once
    g.identity = who
    return who


# ---------------------------------------------------------------------- the gate
def auth_details() -> dict[str, str]:
    """How an API caller authenticated (``auth``, ``token`` id), for the one entry its act leaves."""
    return dict(g.get("auth_details") or {})


def gate(action: Action, target: DossierTarget | None = None, *, object_ref: str | None = None,
         details: Mapping[str, str] | None = None) -> Decision:
    """Authorise and log one request (raises after a logged refusal); anonymous callers must sign in."""
    who = identity()
    try:
        return services().access.enforce(who, action, target, context=request_context(), object_ref=object_ref,
                                         details={**auth_details(), **(details or {})})
    except AccessDeniedError:
        if who.role is None and not who.console:
            raise NotSignedInError() from None
        raise


def _retrieve(action: Action, load: Callable[[], tuple[T, DossierTarget]], object_ref: str,
              then: Callable[[T], U] | None = None) -> tuple[T | U, Decision]:
    """:meth:`AccessService.retrieve` for this request: catalogue reads and their entry in one commit."""
    who = identity()
    try:
        return services().access.retrieve(who, action, load, then=then, context=request_context(),
                                          object_ref=object_ref, details=auth_details())
    except AccessDeniedError:
        if who.role is None and not who.console:
            raise NotSignedInError() from None
        raise


def dossier_for(action: Action, number: str) -> DossierInfo:
    """The dossier, once ``action`` on it is allowed; an unknown number is logged and answered like a hidden one."""
    records = services().records

    def load() -> tuple[DossierInfo, DossierTarget]:
        info = records.get_dossier(identity().name, number)
        return info, target_of(info, zone())

    return _retrieve(action, load, number)[0]


def _document_load(item: str) -> Callable[[], tuple[tuple[DossierInfo, DocumentInfo], DossierTarget]]:
    records = services().records

    def load() -> tuple[tuple[DossierInfo, DocumentInfo], DossierTarget]:
        try:
            doc = records.get_document(identity().name, item)
            info = records.get_dossier(identity().name, _archive_number(doc.item_number))
        except DossierNotFoundError:
            raise DocumentNotFoundError(item) from None
        return (info, doc), target_of(info, zone(), item_number=doc.item_number)

    return load


def document_for(action: Action, item: str) -> tuple[DossierInfo, DocumentInfo]:
    """The dossier holding document ``item`` and the document, once ``action`` on the document is allowed."""
    return _retrieve(action, _document_load(item), item)[0]


@dataclass(frozen=True, slots=True)
class Original:
    """A document's original as a request may send it: the bytes stream after the entry committed."""

    dossier: DossierInfo
    document: DocumentInfo
    stream: Iterator[bytes]
    decision: Decision


def retrieve_original(action: Action, item: str) -> Original:
    """Authorise, log and open document ``item``'s original; its catalogue rows and the entry share one commit.

    The data key is unwrapped and the blob opened inside the transaction, once the policy allowed;
    the bytes are read (and authenticated) only as the response streams, after the commit.
    """
    records = services().records

    def then(found: tuple[DossierInfo, DocumentInfo]) -> tuple[DossierInfo, DocumentInfo, Iterator[bytes]]:
        doc, stream = records.retrieve_document(identity().name, item)
        return found[0], doc, stream

    (info, doc, stream), decision = _retrieve(action, _document_load(item), item, then)  # type: ignore[misc]
    return Original(info, doc, stream, decision)


def _archive_number(item_number: str) -> str:
    # TODO(records): replace with a service method naming the dossier of an item (numbering-aware).
    return item_number.partition(".v")[0].rpartition("-")[0]


def visible_dossiers(**filters: object) -> list[object]:
    """Dossier summaries the caller may list (LIST_DOSSIERS is gated and logged once).

    TODO(records): ``RecordsService.list_dossiers(..., scope=AccessScope)`` should apply the scope
    in its query; until then each summary is matched against the scope the policy computed.
    """
    gate(Action.LIST_DOSSIERS, details={k: str(v) for k, v in filters.items() if v is not None})
    scope = services().access.scope(identity(), Action.LIST_DOSSIERS)
    records = services().records
    rows = records.list_dossiers(identity().name, **filters)  # type: ignore[arg-type]
    if scope == AccessScope.everything():
        return list(rows)
    if scope.is_empty:
        return []
    return [r for r in rows if _in_scope(scope, target_of(records.get_dossier(identity().name, r.archive_number),
                                                          zone()))]


def _in_scope(scope: AccessScope, t: DossierTarget) -> bool:
    from search.analysis import normalize_keyword as fold

    def ok(allowed: frozenset[str] | None, value: str | None) -> bool:
        return allowed is None or (value is not None and fold(value) in {fold(a) for a in allowed})

    return (ok(scope.departments, t.department) and (scope.dossier_ids is None or t.dossier_id in scope.dossier_ids)
            and ok(scope.respondents, t.respondent) and ok(scope.categories, t.category)
            and (scope.received_from is None or (t.received_on is not None and t.received_on >= scope.received_from))
            and (scope.received_until is None or (t.received_on is not None and t.received_on <= scope.received_until)))


# ---------------------------------------------------------------------- sessions
class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over TLS."""

    def get_cookie_secure(self, app: object) -> bool:  # type: ignore[override]
        return bool(request and request.is_secure) or bool(current_app.config.get("SESSION_COOKIE_SECURE"))


class LoginThrottle:
    """Failed sign-ins per name in a shared file, so every WSGI worker sees the same count."""

    def __init__(self, path: Path, failures: int = THROTTLE_FAILURES, window: int = THROTTLE_WINDOW) -> None:
        self._path, self._failures, self._window = path, failures, window

    def _update(self, name: str, add: bool | None) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            raw = f.read()
            data: dict[str, list[float]] = json.loads(raw) if raw.strip() else {}
            now = time.time()
            data = {k: [t for t in v if now - t < self._window] for k, v in data.items()}
            data = {k: v for k, v in data.items() if v}
            if add is True:
                data.setdefault(name, []).append(now)
            elif add is False:
                data.pop(name, None)
            f.seek(0)
            f.truncate()
            json.dump(data, f)
            return len(data.get(name, []))

    def blocked(self, name: str) -> bool:
        return self._update(name, None) >= self._failures

    def failed(self, name: str) -> None:
        self._update(name, True)

    def succeeded(self, name: str) -> None:
        self._update(name, False)


def _throttle() -> LoginThrottle:
    return current_app.extensions["dossier_throttle"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- sign-in views
@bp.route("/login", methods=["GET", "POST"])
def login() -> object:
    error = None
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        if _throttle().blocked(name):
            # Logged as a refused sign-in (TODO(access): a service method for throttled attempts).
            services().access.authorize(Identity(name=name or "-", role=None, active=False), Action.SIGN_IN, None,
                                        context=request_context(), object_ref=name,
                                        details={"method": "password", "problem": "throttled"})
            raise ThrottledError(name, THROTTLE_WINDOW // 60)
        try:
            who = services().access.authenticate(name, request.form.get("password", ""), context=request_context())
        except AuthenticationError:
            _throttle().failed(name)
            error = "failed"
        else:
            _throttle().succeeded(name)
            lang = session.get("lang")
            session.clear()  # a fresh session on sign-in (no fixation); the language choice stays
            if lang:
                session["lang"] = lang
            session.permanent = True
            session["user"] = who.name
            target = request.args.get("next") or ""
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("ui.dashboard"))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> Response:
    if code in ("zh_CN", "en"):
        session["lang"] = code
    back = request.referrer or ""
    return redirect(back if back.startswith(request.host_url) else url_for("ui.dashboard"))
