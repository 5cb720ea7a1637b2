"""Who is asking: sessions and API tokens, sign-in with throttling, and the request's context.

This module says who calls and from where; it decides nothing. Reads and changes of dossiers go
through the one gate every door shares (:class:`records.access.gate.Gate`): the helpers here
(:func:`dossier_for`, :func:`document_for`, :func:`copy_for`, :func:`visible_dossiers`,
:func:`search_as_caller`) only hand it this request's identity and :class:`RequestContext` (ip,
user agent). :func:`gate` authorises and logs actions that are not reads of one dossier (sign-in
pages, reports). Every allowed and refused request leaves exactly one access-log entry; an API
call's token is recorded in that entry (``details.auth = token``), not in a second one.

A session cookie is signed, so it cannot be forged, but it cannot be taken back either: it also
names the account's session generation, checked on every request, which sign-out, a password
change and disabling the account move on. A cookie from an ended session is refused, replaced,
and never refreshed.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from records.access.errors import AccessDeniedError, AuthenticationError
from records.access.gate import Copy
from records.access.identity import Action, Decision, DossierTarget, Identity, RequestContext
from records.clock import system_clock
from records.model import DocumentInfo, DossierInfo, Registration
from records.settings import Settings
from web.bootstrap import Services
from web.errors import NotSignedInError, ThrottledError

__all__ = ["bp", "services", "settings", "identity", "request_context", "gate", "dossier_for", "document_for",
           "copy_for", "auth_details", "visible_dossiers", "register_as_caller", "search_as_caller", "SessionInterface", "LoginThrottle", "safe_next"]

bp = Blueprint("auth", __name__)
T = TypeVar("T")

THROTTLE_FAILURES = 5          # failures from one address for one name before any wait
THROTTLE_FIRST_WAIT = 30       # seconds of the first wait; doubled by every further failure
THROTTLE_LONGEST_WAIT = 15 * 60
THROTTLE_FORGET = 24 * 3600    # a pair is forgotten this long after its last failure
THROTTLE_PAIRS = 10_000        # at most this many (address, name) pairs are remembered
_GENERATION = "gen"            # the session key holding the account's session generation


# ---------------------------------------------------------------------- reaching the services
def services() -> Services:
    return current_app.extensions["dossier"]  # type: ignore[no-any-return]


def settings() -> Settings:
    return current_app.config["DOSSIER_SETTINGS"]  # type: ignore[no-any-return]


def zone() -> ZoneInfo:
    return ZoneInfo(settings().timezone)


def request_context(purpose: str | None = None) -> RequestContext:
    """Where this request came from; ``purpose`` (or ``?purpose=``) is only the caller's note.

    The note is logged as ``details.note``; an entry's ``purpose`` is always the grant's
    (``AccessService._append``), so a regulator cannot restate why it looked.
    """
    ua = request.user_agent.string or None
    note = purpose or request.values.get("purpose") or None
    return RequestContext(ip=request.remote_addr, user_agent=ua[:256] if ua else None,
                          purpose=note[:500] if note else None)


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
    elif not request.path.startswith("/api/") and (name := session.get("user")):
        # Re-read on every request: a disabled account stops at once, an ended session too.
        current = services().access.session_identity(name, session.get(_GENERATION))
        if current is None:
            _end_session()
        else:
            who = current
            g.session_checked = True
    g.identity = who
    return who


def _end_session() -> None:
    """Forget who this browser was (its cookie is replaced); only the language choice stays."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


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


def _as_caller(call: Callable[[], T]) -> T:
    """Run a gate call for this request; an anonymous caller's refusal becomes "please sign in"."""
    try:
        return call()
    except AccessDeniedError:
        who = identity()
        if who.role is None and not who.console:
            raise NotSignedInError() from None
        raise


def dossier_for(action: Action, number: str) -> DossierInfo:
    """The dossier, once ``action`` on it is allowed (:meth:`Gate.dossier`: one entry, allowed or refused)."""
    return _as_caller(lambda: services().gate.dossier(identity(), number, action=action, context=request_context(),
                                                      details=auth_details()))


def document_for(action: Action, item: str) -> tuple[DossierInfo, DocumentInfo]:
    """The dossier holding document ``item`` and the document, once ``action`` on the document is allowed."""
    return _as_caller(lambda: services().gate.document(identity(), item, action=action, context=request_context(),
                                                       details=auth_details()))


def copy_for(action: Action, item: str) -> Copy:
    """What this caller may receive of document ``item`` (:meth:`Gate.copy`: a regulator's copy is stamped)."""
    return _as_caller(lambda: services().gate.copy(identity(), item, action=action, context=request_context(),
                                                   details=auth_details()))


def visible_dossiers(**filters: object) -> list[object]:
    """Dossier summaries the caller may list (:meth:`Gate.list_dossiers`, logged once)."""
    return _as_caller(lambda: services().gate.list_dossiers(identity(), context=request_context(),
                                                            details=auth_details(), **filters))


def register_as_caller(registration: Registration) -> DossierInfo:
    """Open a dossier for this caller (:meth:`Gate.register`: REGISTER for its department, logged once)."""
    return _as_caller(lambda: services().gate.register(identity(), registration, context=request_context(),
                                                       details=auth_details()))


def search_as_caller(q: str, **options: object) -> object:
    """One page of hits in the caller's scope (:meth:`Gate.search`, logged once with the query)."""
    return _as_caller(lambda: services().gate.search(identity(), q, context=request_context(),
                                                     details=auth_details(), **options))


# ---------------------------------------------------------------------- sessions
class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over TLS."""

    def get_cookie_secure(self, app: object) -> bool:  # type: ignore[override]
        return bool(request and request.is_secure) or bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    def should_set_cookie(self, app: object, session: object) -> bool:  # type: ignore[override]
        """A changed session is always sent; an unchanged one is refreshed only once it was checked.

        Flask renews a permanent session's cookie on every response. Here that happens only on a
        request whose session :func:`identity` found current (its account's generation unchanged):
        otherwise any request that never looked at the session (the API, the sign-in page) would
        hand a cookie saved before a sign-out back with a fresh expiry.
        """
        if getattr(session, "modified", False):
            return True
        return bool(getattr(session, "permanent", False) and current_app.config["SESSION_REFRESH_EACH_REQUEST"]
                    and g.get("session_checked"))


class LoginThrottle:
    """Failed sign-ins per (client address, name) in a shared file, so every WSGI worker sees them.

    Why the pair and never the name alone: counting by name let anyone lock any account out, the
    administrator's included, by typing wrong passwords for it. Here failures slow down only the
    address they came from, for that name: after ``free`` failures each further attempt must wait
    ``first_wait`` seconds, doubled by every further failure up to ``longest_wait``. The right
    password from another address is never held back, and no account is ever locked. A guesser
    spread over many addresses still gets only ``free`` guesses per address before waiting;
    argon2id and the access log (every refusal is an entry) do the rest.

    Times come from ``clock`` (the archive's), so tests walk through the back-off without sleeping.
    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = system_clock, free: int = THROTTLE_FAILURES,
                 first_wait: float = THROTTLE_FIRST_WAIT, longest_wait: float = THROTTLE_LONGEST_WAIT) -> None:
        self._path, self._clock = path, clock
        self._free, self._first, self._longest = free, first_wait, longest_wait

    @staticmethod
    def _key(address: str | None, name: str) -> str:
        return f"{address or '-'} {name}"  # an address holds no space: the first one separates

    def _update(self, key: str, change: Callable[[dict[str, list[float]], float], object] | None) -> list[float] | None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            raw = f.read()
            try:
                loaded = json.loads(raw) if raw.strip() else {}
            except ValueError:
                loaded = {}  # a torn or foreign file: start over rather than refuse every sign-in
            now = self._clock().timestamp()
            data: dict[str, list[float]] = {
                k: v for k, v in (loaded.items() if isinstance(loaded, dict) else ())
                if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)
                and now - v[1] < THROTTLE_FORGET}
            if change is not None:
                change(data, now)
                if len(data) > THROTTLE_PAIRS:  # keep the latest: a flood of names must not grow the file
                    data = dict(sorted(data.items(), key=lambda kv: kv[1][1])[-THROTTLE_PAIRS:])
            f.seek(0)
            f.truncate()
            json.dump(data, f)
            return data.get(key)

    def wait(self, address: str | None, name: str) -> float:
        """Seconds before ``address`` may try ``name`` again (0: go ahead)."""
        found = self._update(self._key(address, name), None)
        if found is None or found[0] < self._free:
            return 0.0
        failures, last = found
        delay = min(self._first * 2 ** min(failures - self._free, 32), self._longest)
        return max(0.0, last + delay - self._clock().timestamp())

    def failed(self, address: str | None, name: str) -> None:
        key = self._key(address, name)

        def add(data: dict[str, list[float]], now: float) -> None:
            data[key] = [(data[key][0] if key in data else 0) + 1, now]

        self._update(key, add)

    def succeeded(self, address: str | None, name: str) -> None:
        key = self._key(address, name)
        self._update(key, lambda data, _now: data.pop(key, None))


def _throttle() -> LoginThrottle:
    return current_app.extensions["dossier_throttle"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- sign-in views
@bp.route("/login", methods=["GET", "POST"])
def login() -> object:
    error = None
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        address = request.remote_addr
        if (wait := _throttle().wait(address, name)) > 0:
            # Logged as a refused sign-in (TODO(access): a service method for throttled attempts).
            services().access.authorize(Identity(name=name or "-", role=None, active=False), Action.SIGN_IN, None,
                                        context=request_context(), object_ref=name,
                                        details={"method": "password", "problem": "throttled"})
            raise ThrottledError(name, max(1, math.ceil(wait / 60)))
        try:
            who, generation = services().access.start_session(name, request.form.get("password", ""),
                                                              context=request_context())
        except AuthenticationError:
            _throttle().failed(address, name)
            error = "failed"
        else:
            _throttle().succeeded(address, name)
            _end_session()  # a fresh session on sign-in (no fixation); the language choice stays
            session.permanent = True
            session["user"] = who.name
            session[_GENERATION] = generation
            return redirect(safe_next(request.args.get("next")) or url_for("ui.dashboard"))
    return render_template("login.html", error=error), (401 if error else 200)


def safe_next(target: str | None) -> str | None:
    """``target`` if a browser can only read it as a path on this site, else ``None``.

    Browsers are more lenient than a prefix check: they drop tabs and newlines anywhere in a URL
    (``/<TAB>/evil.example`` becomes ``//evil.example``, another host), read ``\\`` as ``/``, and
    may see the value once more percent-decoded than it was checked. So every form of the target,
    unquoted again and again until it stops changing, must parse with no scheme and no host, start
    with exactly one ``/``, and hold no backslash, control character or whitespace (a plain space
    only in the query, where it cannot move the host).
    """
    if not target or len(target) > 2048:
        return None
    seen: set[str] = set()
    form = target
    while form not in seen:
        seen.add(form)
        path, _, query = form.partition("?")
        if any(c == "\\" or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in form):
            return None
        if any(c.isspace() or unicodedata.category(c) == "Zs" for c in path):
            return None
        if any(c != " " and (c.isspace() or unicodedata.category(c) == "Zs") for c in query):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc or not form.startswith("/") or form.startswith("//"):
            return None
        form = unquote(form)
    return target


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the account's sessions on every browser: a saved copy of the cookie stops working too.

    Only a current session can sign out; a stale cookie's holder cannot end the others' sessions.
    """
    who = identity()
    if who.role is not None and who.user_id is not None:
        services().access.sign_out(who, context=request_context())
    _end_session()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> Response:
    if code in ("zh_CN", "en"):
        session["lang"] = code
    back = request.referrer or ""
    return redirect(back if back.startswith(request.host_url) else url_for("ui.dashboard"))
