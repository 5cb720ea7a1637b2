"""WSGI entry for running under any server: ``gunicorn 'web.wsgi:app'`` (settings from DOSSIER_* / DOSSIER_CONFIG)."""

from __future__ import annotations

from web import create_app

app = create_app()
