"""`dossier serve`: the web app under gunicorn (several workers) on the configured archive.

On first run, when the archive has no account yet, an administrator ``admin`` is created: its
password comes from ``DOSSIER_ADMIN_PASSWORD`` or is generated. A generated one is shown once on
the terminal, and only on a terminal: under systemd, docker or a redirect, standard output is a
log that others read and keep, so there the password goes to ``<data_dir>/initial-admin-password``
(mode 0600, created exclusively) and the output names that file (:func:`announce_first_admin`).

Uploads are filed in the background: next to gunicorn, ``serve`` starts ``--intake-workers``
`dossier worker` processes and restarts any that dies (a killed worker's job is retried once its
lease runs out). They stop with the server, and exit on their own if the server is killed.

The search index's outbox (``search.outbox``) is drained by those workers between jobs; with
``--intake-workers 0`` a supervised `dossier index drain --watch` process does it instead, so a
change whose index write was lost (a killed request, an index outage) is applied within seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from records.access.identity import Identity, RequestContext, Role
from web.cli._lazy import LazyDefault
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only: the access service and settings load when a command runs
    from records.access.service import AccessService

ADMIN_PASSWORD_ENV = "DOSSIER_ADMIN_PASSWORD"
INITIAL_PASSWORD_FILE = "initial-admin-password"
_CONTEXT = RequestContext(user_agent="dossier-serve")


def ensure_first_admin(access: AccessService, actor: str, password: str | None = None, *,
                       keep: Callable[[str], None] | None = None) -> str | None:
    """Create account ``admin`` if the archive has no account; return the generated password (or None).

    ``keep`` receives a generated password *before* the account exists: if it cannot be kept
    (the file cannot be written), no account is created whose password nobody could know.
    """
    import secrets

    operator = Identity.operator(actor)
    if access.list_users(operator, context=_CONTEXT):
        return None
    generated = password is None
    password = password or secrets.token_urlsafe(15)
    if generated and keep is not None:
        keep(password)
    access.add_user(operator, "admin", Role.ADMIN, password=password, context=_CONTEXT)
    return password if generated else None


def keep_initial_password(data_dir: Path, password: str) -> Path:
    """Write ``password`` to ``<data_dir>/initial-admin-password``, readable by this user only.

    Created with ``O_EXCL`` and mode 0600 from the start (never readable by others, not even for
    a moment), fsynced with its directory entry: the account exists only once this returned, so
    its password must survive a crash that follows. An existing file is never overwritten: it
    may hold the password of an account that still uses it.

    Raises:
        ConfigurationError: the file exists already (from an earlier first run).
    """
    from records.durable import fsync_dir
    from records.errors import ConfigurationError

    path = Path(data_dir) / INITIAL_PASSWORD_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists from an earlier first run; sign in with it and delete it, "
                                 f"or set {ADMIN_PASSWORD_ENV}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(password + "\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def announce_first_admin(access: AccessService, actor: str, data_dir: Path, password: str | None,
                         out: TextIO) -> None:
    """Create the first administrator (:func:`ensure_first_admin`) and tell ``out`` how to sign in.

    A generated password is written to ``out`` only when ``out`` is a terminal; otherwise it goes
    to :func:`keep_initial_password`'s file and ``out`` gets the file's name (module docstring).
    """
    to_terminal = out.isatty()
    kept: list[Path] = []

    def keep(generated: str) -> None:
        if not to_terminal:
            kept.append(keep_initial_password(data_dir, generated))

    generated = ensure_first_admin(access, actor, password, keep=keep)
    if generated is None:
        return
    if kept:
        click.echo(f"created administrator 'admin'; its password is in {kept[0]} (readable by this user only): "
                   "sign in, change it, then delete the file", file=out)
    else:
        click.echo(f"created administrator 'admin' with password: {generated}", file=out)
        click.echo(f"it is shown only now; change it or set {ADMIN_PASSWORD_ENV} next time", file=out)


def default_workers() -> int:
    import multiprocessing

    return min(2 * multiprocessing.cpu_count() + 1, 8)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Worker processes (default: 2×CPUs+1, at most 8).")
@click.option("--timeout", default=300, show_default=True, type=int, help="Seconds a request may take.")
@click.option("--intake-workers", default=1, show_default=True, type=click.IntRange(0, 32),
              help="Background `dossier worker` processes filing uploads (0: run them yourself).")
@click.option("--max-attempts", default=LazyDefault("ingest.jobs", "DEFAULT_MAX_ATTEMPTS"), show_default=True,
              type=click.IntRange(1, 100),
              help="Attempts per upload before its job is recorded as failed (kept for `dossier intake retry`).")
@pass_cli
@command_errors
def serve(cli: CliContext, host: str, port: int, workers: int | None, timeout: int, intake_workers: int,
          max_attempts: int) -> None:
    """Run the web app and JSON API with gunicorn on the configured archive."""
    from web.cli._gunicorn import Server as _Server  # gunicorn (its own module) loads only for `serve`

    announce_first_admin(cli.services.access, cli.actor, cli.settings.data_dir,
                         os.environ.get(ADMIN_PASSWORD_ENV) or None, sys.stdout)
    _say_if_degraded(cli)
    settings = cli.settings
    cli.close()  # each worker opens its own services after the fork
    intake = IntakeSupervisor(_worker_command(cli, max_attempts), intake_workers)
    # Intake workers drain the index outbox in their loop; without them a drainer of its own does.
    drainer = IntakeSupervisor(_drainer_command(cli), 0 if intake_workers else 1, label="index drainer")
    intake.start()
    drainer.start()
    try:
        _Server(settings, {"bind": f"{host}:{port}", "workers": workers or default_workers(), "timeout": timeout,
                           "accesslog": "-", "access_log_format": ACCESS_LOG_FORMAT, "worker_class": "sync",
                           "proc_name": "dossier"}).run()
    finally:
        drainer.stop()
        intake.stop()


# gunicorn's default access-log line holds the request line with its query string — a search for a
# complainant's name (``/search?q=…``) or a list filter. The path without the query (``%(U)s``) is
# enough to operate the server; the access log proper (records.access.log) keeps the query, sealed.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


def _say_if_degraded(cli: CliContext) -> None:
    """Start anyway when an optional back end (search, store, keys) is down, and say so (issue #17 item 3).

    The dashboard's banner and ``GET /healthz`` say the same while it lasts; filed documents wait
    in the index outbox and the intake workers (or the drainer) apply them once search is back.
    """
    report = cli.services.health.check(fresh=True)
    for name in report.unavailable():
        click.echo(f"{name} unavailable ({report.backends[name].error}); serving {report.status.value}", err=True)


def _worker_command(cli: CliContext, max_attempts: int) -> list[str]:
    """`dossier worker` on the same archive (the child inherits the environment, so DOSSIER_* too)."""
    return [*_dossier_command(cli), "worker", "--parent-pid", str(os.getpid()), "--max-attempts", str(max_attempts)]


def _drainer_command(cli: CliContext) -> list[str]:
    """`dossier index drain --watch` on the same archive, stopping with this process."""
    return [*_dossier_command(cli), "index", "drain", "--watch", "--parent-pid", str(os.getpid())]


def _dossier_command(cli: CliContext) -> list[str]:
    command = [sys.executable, "-m", "web.cli"]
    if cli.data_dir is not None:
        command += ["--data-dir", str(cli.data_dir)]
    if cli.config is not None:
        command += ["--config", str(cli.config)]
    return command


class IntakeSupervisor:
    """Keeps ``count`` intake worker processes running beside gunicorn; restarts one that exits.

    A thread in the gunicorn arbiter process. gunicorn reaps unknown children itself, so an exit
    is seen through ``poll()`` (which then reports 0) and the worker is restarted after a backoff
    that grows while workers keep dying quickly (a broken set-up must not spin).
    """

    STOP_GRACE_SECONDS = 30.0

    def __init__(self, command: list[str], count: int, *, label: str = "intake worker") -> None:
        self._command, self._count, self._label = command, count, label
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
                        click.echo(f"{self._label} {proc.pid} exited ({proc.returncode}); restarting in "
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
