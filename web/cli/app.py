"""The root `dossier` group: global options, settings, services, and error mapping."""

from __future__ import annotations

import functools
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from records.access.identity import Identity, RequestContext, account_name
from records.errors import DossierError
from web.cli import _startup
from web.cli._errors import DossierCommandError

if TYPE_CHECKING:  # settings (pydantic) and services (sqlalchemy, …) load on first use: `dossier --help` stays fast
    from records.settings import Settings
    from web.bootstrap import Services

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliContext:
    """What every command shares: settings, services, and who is calling.

    Who is calling (:attr:`identity`) is settled once, on first use:

    - no ``--as`` and no ``DOSSIER_TOKEN``: the console operator ``console:<OS user>``, who holds
      the data directory and its keys and so is trusted with what the policy gives the console;
    - ``--as NAME``: that account, only after it authenticates — its password (prompted on a
      terminal, or one line on standard input with ``--password-stdin``) or an API token of that
      account in ``DOSSIER_TOKEN``. Then the account's role, departments and grants apply in full;
    - ``DOSSIER_TOKEN`` alone: the token's account.

    Every sign-in attempt is logged by the access service; a failed one exits 10.
    """

    data_dir: Path | None
    config: Path | None
    as_name: str | None = None
    password_stdin: bool = False
    token: str | None = field(default=None, repr=False)
    restoring: bool = False  # set by `dossier restore` only: it may open a half-restored archive
    _settings: Settings | None = None
    _services: Services | None = field(default=None, repr=False)
    _identity: Identity | None = field(default=None, repr=False)
    _auth: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from records.settings import load_settings

            overrides: dict[str, Any] = {}
            if self.data_dir is not None:
                overrides["data_dir"] = self.data_dir
            if self.config is not None:
                overrides["config"] = self.config
            self._settings = load_settings(**overrides)
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            try:
                from web.bootstrap import build_services

                self._services = build_services(self.settings, restoring=self.restoring)
            finally:
                _startup.resume()  # the archive is open (or failed to): collect cycles again, see _startup
        return self._services

    @property
    def identity(self) -> Identity:
        """The authenticated caller (see the class docstring). Raises AuthenticationError (exit 10)."""
        if self._identity is None:
            self._identity = self._authenticate()
        return self._identity

    @property
    def actor(self) -> str:
        """The caller's name as recorded on timelines and in the access log."""
        return self.identity.name

    @property
    def context(self) -> RequestContext:
        """Where a console call comes from, for its access-log entry."""
        return RequestContext(ip=None, user_agent=f"dossier-cli ({_login()})")

    @property
    def auth(self) -> dict[str, str]:
        """How the caller authenticated, recorded in the entry of the act (one entry per call)."""
        self.identity  # settle who calls first
        return dict(self._auth)

    def _authenticate(self) -> Identity:
        if self.as_name is None and not self.token:
            self._auth = {"auth": "console"}
            return Identity.operator(f"console:{_login()}")
        from records.access.errors import AuthenticationError

        access = self.services.access
        if self.token:
            who, token_id = access.check_token(self.token, context=self.context)
            if self.as_name is not None and account_name(self.as_name) != who.name:
                raise AuthenticationError(self.as_name)
            self._auth = {"auth": "token", "token": token_id}
            return who
        assert self.as_name is not None
        if self.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = getpass.getpass(f"password for {self.as_name}: ")
        else:
            # No terminal to ask and no credentials given: refuse (and log) rather than trust the name.
            password = ""
        who = access.check_password(account_name(self.as_name), password, context=self.context)
        self._auth = {"auth": "password"}
        return who

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


INTERNAL_ERROR_EXIT = 70  # sysexits' EX_SOFTWARE: an error in dossier itself


def command_errors(fn: F) -> F:
    """Turn domain errors raised inside a command into one-line messages and exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DossierError as exc:
            raise DossierCommandError(exc) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            from records.db import catalogue_unavailable  # only on the failure path: sqlalchemy stays unloaded

            if (down := catalogue_unavailable(exc)) is not None:
                raise DossierCommandError(down) from exc  # the database, not a bug: exit 14
            # A bug, not the user's input: no traceback for them (unless asked), a code of its own.
            if os.environ.get("DOSSIER_DEBUG"):
                raise
            click.echo(f"Error: internal error ({type(exc).__name__}); DOSSIER_DEBUG=1 shows the details", err=True)
            raise SystemExit(INTERNAL_ERROR_EXIT) from exc

    return wrapper  # type: ignore[return-value]


class _Program(click.Group):
    """The root group: run as the program, it opens the archive with the cyclic GC paused (``_startup``)."""

    def main(self, args: Sequence[str] | None = None, *more: Any, **extra: Any) -> Any:
        if args is None:  # arguments from sys.argv: the `dossier` process itself, not an in-process call
            _startup.pause()
        try:
            return super().main(args, *more, **extra)
        finally:
            _startup.resume()  # a command that never opened the archive


@click.group(cls=_Program, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), envvar="DOSSIER_DATA_DIR",
              help="The archive's data directory (env DOSSIER_DATA_DIR).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="DOSSIER_CONFIG",
              help="A TOML settings file (env DOSSIER_CONFIG).")
@click.option("--as", "as_name", default=None, metavar="NAME",
              help="Act as account NAME, after it authenticates: its password (prompted, or --password-stdin) "
                   "or its API token in DOSSIER_TOKEN. Default: the console operator console:<login name>.")
@click.option("--password-stdin", is_flag=True, help="Read --as NAME's password from the first line of standard input.")
@click.version_option(package_name="dossier-archive")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, config: Path | None, as_name: str | None,
         password_stdin: bool) -> None:
    """Dossier — the complaint-dossier archive (投诉档案), one matter one dossier."""
    if password_stdin and as_name is None:
        raise click.UsageError("--password-stdin needs --as NAME")
    cli = CliContext(data_dir=data_dir, config=config, as_name=as_name, password_stdin=password_stdin,
                     token=os.environ.get("DOSSIER_TOKEN") or None)
    ctx.obj = cli
    ctx.call_on_close(cli.close)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


pass_cli = click.make_pass_decorator(CliContext)

# Register the command modules (they import `main` and attach themselves).
from web.cli import access, archive, backup, bags, calendar, compile, documents, dossiers, index, intake, inventory, jobs, mail, notices, related, remind, reports, retention, searching, serve, unlock, worker  # noqa: E402,F401
