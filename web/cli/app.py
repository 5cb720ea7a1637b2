"""The root `dossier` group: global options, settings, services, and error mapping."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from records.errors import DossierError
from records.settings import Settings, load_settings
from web.bootstrap import Services, build_services
from web.cli._errors import DossierCommandError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliContext:
    data_dir: Path | None
    config: Path | None
    actor: str
    _settings: Settings | None = None
    _services: Services | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
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
            self._services = build_services(self.settings)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


def command_errors(fn: F) -> F:
    """Turn domain errors raised inside a command into one-line messages and exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DossierError as exc:
            raise DossierCommandError(exc) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), envvar="DOSSIER_DATA_DIR",
              help="The archive's data directory (env DOSSIER_DATA_DIR).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="DOSSIER_CONFIG",
              help="A TOML settings file (env DOSSIER_CONFIG).")
@click.option("--as", "actor", default=None, metavar="OPERATOR",
              help="Who is acting; recorded with every change (default: cli:<login name>).")
@click.version_option(package_name="dossier-archive")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, config: Path | None, actor: str | None) -> None:
    """Dossier — the complaint-dossier archive (投诉档案), one matter one dossier."""
    cli = CliContext(data_dir=data_dir, config=config, actor=actor or f"cli:{_login()}")
    ctx.obj = cli
    ctx.call_on_close(cli.close)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


pass_cli = click.make_pass_decorator(CliContext)

# Register the command modules (they import `main` and attach themselves).
from web.cli import access, archive, bags, documents, dossiers, intake, inventory, mail, reports, retention, searching, serve, worker  # noqa: E402,F401
