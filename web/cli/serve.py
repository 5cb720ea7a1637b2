"""`dossier serve`: the web app under gunicorn (several workers) on the configured archive.

On first run, when the archive has no account yet, an administrator ``admin`` is created: its
password comes from ``DOSSIER_ADMIN_PASSWORD`` or is generated and printed once.

Uploads are filed in the background: next to gunicorn, ``serve`` starts ``--intake-workers``
`dossier worker` processes and restarts any that dies (a killed worker's job is retried once its
lease runs out). They stop with the server, and exit on their own if the server is killed.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
import threading
import time
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
@click.option("--timeout", default=300, show_default=True, type=int, help="Seconds a request may take.")
@click.option("--intake-workers", default=1, show_default=True, type=click.IntRange(0, 32),
              help="Background `dossier worker` processes filing uploads (0: run them yourself).")
@pass_cli
@command_errors
def serve(cli: CliContext, host: str, port: int, workers: int | None, timeout: int, intake_workers: int) -> None:
    """Run the web app and JSON API with gunicorn on the configured archive."""
    generated = ensure_first_admin(cli.services.access, cli.actor, os.environ.get(ADMIN_PASSWORD_ENV) or None)
    if generated:
        click.echo(f"created administrator 'admin' with password: {generated}")
        click.echo("it is shown only now; change it or set DOSSIER_ADMIN_PASSWORD next time", err=True)
    settings = cli.settings
    cli.close()  # each worker opens its own services after the fork
    intake = IntakeSupervisor(_worker_command(cli), intake_workers)
    intake.start()
    try:
        _Server(settings, {"bind": f"{host}:{port}", "workers": workers or default_workers(), "timeout": timeout,
                           "accesslog": "-", "worker_class": "sync", "proc_name": "dossier"}).run()
    finally:
        intake.stop()


def _worker_command(cli: CliContext) -> list[str]:
    """`dossier worker` on the same archive (the child inherits the environment, so DOSSIER_* too)."""
    command = [sys.executable, "-m", "web.cli"]
    if cli.data_dir is not None:
        command += ["--data-dir", str(cli.data_dir)]
    if cli.config is not None:
        command += ["--config", str(cli.config)]
    return [*command, "worker", "--parent-pid", str(os.getpid())]


class IntakeSupervisor:
    """Keeps ``count`` intake worker processes running beside gunicorn; restarts one that exits.

    A thread in the gunicorn arbiter process. gunicorn reaps unknown children itself, so an exit
    is seen through ``poll()`` (which then reports 0) and the worker is restarted after a backoff
    that grows while workers keep dying quickly (a broken set-up must not spin).
    """

    STOP_GRACE_SECONDS = 30.0

    def __init__(self, command: list[str], count: int) -> None:
        self._command, self._count = command, count
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="intake-supervisor", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._count:
            self._thread.start()

    def _supervise(self) -> None:
        backoff = [1.0] * self._count
        started = [0.0] * self._count
        while not self._stopping.is_set():
            for i in range(self._count):
                with self._lock:
                    proc = self._procs[i]
                    if self._stopping.is_set() or (proc is not None and proc.poll() is None):
                        continue
                    if proc is not None:
                        lived = time.monotonic() - started[i]
                        backoff[i] = 1.0 if lived > 60 else min(backoff[i] * 2, 60.0)
                        click.echo(f"intake worker {proc.pid} exited ({proc.returncode}); restarting in "
                                   f"{backoff[i]:g} s", err=True)
                        self._procs[i] = None
                        started[i] = time.monotonic() + backoff[i]
                        continue
                    if time.monotonic() < started[i]:
                        continue
                    self._procs[i] = subprocess.Popen(self._command)
                    started[i] = time.monotonic()
            self._stopping.wait(0.5)

    def stop(self) -> None:
        """SIGTERM every worker (it finishes the file in hand), then SIGKILL what is left after the grace time."""
        self._stopping.set()
        with self._lock:
            procs = [p for p in self._procs if p is not None and p.poll() is None]
            for p in procs:
                p.terminate()
            deadline = time.monotonic() + self.STOP_GRACE_SECONDS
            for p in procs:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)


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
