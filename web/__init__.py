"""Presentation: the Flask app and JSON API (``create_app``) and the `dossier` command line (web/cli).

Entrypoints parse input, call one service and render the result; they never touch tables,
storage clients or SQL. ``web.bootstrap`` is the one place that builds the services.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported when an app is made, so `dossier` (web.cli) starts without it
    from flask import Flask

__all__ = ["create_app"]

_HERE = Path(__file__).parent
SESSION_MINUTES = 60
# Pages load scripts, styles, frames and images from this site only; nothing inline runs.
# ``frame-ancestors`` keeps other sites from framing a page (X-Frame-Options for old browsers).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'self'")
HSTS = "max-age=31536000"


def create_app(settings: Any = None, *, services: Any = None) -> Flask:
    """The web application over ``settings`` (default: ``load_settings()``) and its services.

    ``services`` lets tests pass a bundle built with a frozen clock; otherwise it is built here
    and closed when the process ends. The bundle is ``app.extensions["dossier"]``.
    """
    from flask import Flask, request
    from flask_babel import Babel
    from flask_wtf.csrf import CSRFProtect

    from records.settings import load_settings
    from web.auth import LoginThrottle, SessionInterface
    from web.bootstrap import build_services
    from web.errors import register_error_handlers
    from web.spool import SpoolingRequest

    settings = settings or load_settings()
    app = Flask(__name__, static_folder=None)
    app.request_class = SpoolingRequest  # uploads wait in memory or encrypted, never in clear in /tmp
    app.config.update(
        SECRET_KEY=_secret_key(settings.data_dir),
        DOSSIER_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="dossier_session",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=SESSION_MINUTES),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.ingest.max_file_mb * 1024 * 1024 * 4,
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_TRANSLATION_DIRECTORIES=str(_HERE / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = SessionInterface()
    app.extensions["dossier"] = services or build_services(settings)
    app.extensions["dossier_throttle"] = LoginThrottle(settings.data_dir / "web-throttle.json",
                                                       clock=app.extensions["dossier"].clock)
    Babel(app, locale_selector=_locale)
    csrf = CSRFProtect(app)

    from web.api import bp as api_bp
    from web.auth import bp as auth_bp
    from web.healthz import bp as health_bp
    from web.ui import bp as ui_bp

    csrf.exempt(api_bp)  # token-authenticated; no cookies are read there
    app.register_blueprint(auth_bp)
    app.register_blueprint(ui_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(health_bp)  # /healthz: no sign-in, nothing sensitive
    register_error_handlers(app)

    @app.after_request
    def _headers(resp: Any) -> Any:
        """Headers every answer carries; see :data:`CONTENT_SECURITY_POLICY` and below for why."""
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if resp.mimetype == "text/html":
            # A view that serves its own HTML (the monthly report) may set a narrower policy.
            resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.endpoint != "ui.static":
            # Pages, API answers and downloads carry dossier data: no browser or proxy may keep a
            # copy (a shared computer's back button, a disk cache). Static files carry none.
            resp.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            # Only over TLS (RFC 6797: browsers ignore it over plain HTTP, and an archive reached
            # only over HTTP must not tell browsers to refuse it).
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp

    return app


def _locale() -> str:
    """zh-CN first; English when chosen with the language link (kept in the session) or ``?lang=en``."""
    from flask import request, session

    lang = request.args.get("lang") or session.get("lang")
    return lang if lang in ("zh_CN", "en") else "zh_CN"


def _secret_key(data_dir: Path) -> bytes:
    """The session-signing secret: ``<data_dir>/web-secret`` (0600), created on first use.

    TODO(settings): ``WebSettings.secret_key`` should take precedence when configured.
    """
    import secrets

    path = data_dir / "web-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker created it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
