"""`dossier serve`: the web app under gunicorn (several workers) on the configured archive.

On first run, when the archive has no account yet, an administrator ``admin`` is created: its
password comes from ``DOSSIER_ADMIN_PASSWORD`` or is generated and printed once.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from typing import Any

import click

from records.access.identity import Identity, RequestContext, Role
from records.access.service import AccessService
from records.settings import Settings
from web.cli.app import CliContext, command_errors, main, pass_cli

ADMIN_PASSWORD_ENV = "DOSSIER_ADMIN_PASSWORD"
_CONTEXT = RequestContext(user_agent="dossier-serve")


def ensure_first_admin(access: AccessService, actor: str, password: str | None = None) -> str | None:
    """Create account ``admin`` if the archive has no account; return the generated password (or None)."""
    operator = Identity.operator(actor)
    if access.list_users(operator, context=_CONTEXT):
        return None
    generated = password is None
    password = password or secrets.token_urlsafe(15)
    access.add_user(operator, "admin", Role.ADMIN, password=password, context=_CONTEXT)
    return password if generated else None


def default_workers() -> int:
    return min(2 * multiprocessing.cpu_count() + 1, 8)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Worker processes (default: 2×CPUs+1, at most 8).")
@click.option("--timeout", default=300, show_default=True, type=int, help="Seconds a request may take (uploads are OCR'd).")
@pass_cli
@command_errors
def serve(cli: CliContext, host: str, port: int, workers: int | None, timeout: int) -> None:
    """Run the web app and JSON API with gunicorn on the configured archive."""
    generated = ensure_first_admin(cli.services.access, cli.actor, os.environ.get(ADMIN_PASSWORD_ENV) or None)
    if generated:
        click.echo(f"created administrator 'admin' with password: {generated}")
        click.echo("it is shown only now; change it or set DOSSIER_ADMIN_PASSWORD next time", err=True)
    settings = cli.settings
    cli.close()  # each worker opens its own services after the fork
    _Server(settings, {"bind": f"{host}:{port}", "workers": workers or default_workers(), "timeout": timeout,
                       "accesslog": "-", "worker_class": "sync", "proc_name": "dossier"}).run()


def _gunicorn_base() -> Any:
    from gunicorn.app.base import BaseApplication

    return BaseApplication


class _Server(_gunicorn_base()):  # type: ignore[misc]
    """gunicorn running ``create_app(settings)`` in each worker (no preload: no shared connections)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings, self._options = settings, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web import create_app

        return create_app(self._settings)
