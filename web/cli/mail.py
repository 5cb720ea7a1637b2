"""`dossier mail fetch`: file the new messages of an IMAP mailbox, each exactly once.

Connection options fall back to the ``mail`` settings section when the archive has one
(``DOSSIER_MAIL__HOST`` …), else to the defaults shown. The password never appears on the
command line: ``--password-env VAR`` or ``--password-file FILE``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from records.errors import ConfigurationError
from web.cli._output import to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # the IMAP client (imaplib, ssl, email) loads when `mail fetch` runs, not for --help
    from ingest.channels.imap import ImapMailbox, MailIntake, MailResult, Security


@main.group()
def mail() -> None:
    """Intake by e-mail (INT-CH-03): poll an IMAP mailbox and file each message into a dossier."""


def _setting(cli: CliContext, name: str) -> Any:
    section = cli.settings.mail
    return getattr(section, name, None) if section is not None else None


@mail.command()
@click.option("--host", default=None, help="IMAP server (default: mail.host, else 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default 143, or 993 with --ssl.")
@click.option("--user", default=None, help="Login name (default: mail.user).")
@click.option("--password-env", metavar="VAR", default=None, help="Read the password from this environment variable.")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Read the password from the first line of this file.")
@click.option("--folder", default=None, help="Folder to poll (default: mail.folder, else INBOX).")
@click.option("--ssl", "use_ssl", is_flag=True, help="Implicit TLS (IMAPS).")
@click.option("--starttls", is_flag=True, help="Upgrade the connection with STARTTLS.")
@click.option("--plain", is_flag=True, help="No TLS. Default: STARTTLS, or plain for a loopback host.")
@click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Trust this CA bundle for TLS (a private mail server).")
@click.option("--move-to", metavar="FOLDER", default=None, help="Move each filed message to this folder.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="File at most N messages per poll.")
@click.option("--watch", metavar="SECONDS", type=click.FloatRange(min=0.1), default=None,
              help="Keep polling every SECONDS until interrupted.")
@click.option("--polls", type=click.IntRange(min=1), default=None, help="With --watch: stop after N polls.")
@click.option("--timeout", type=click.FloatRange(min=1), default=None, help="Network timeout in seconds (default 60).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message on stdout.")
@pass_cli
@command_errors
def fetch(cli: CliContext, host: str | None, port: int | None, user: str | None, password_env: str | None,
          password_file: Path | None, folder: str | None, use_ssl: bool, starttls: bool, plain: bool,
          ca_file: Path | None, move_to: str | None, limit: int | None, watch: float | None, polls: int | None,
          timeout: float | None, as_json: bool) -> None:
    """Fetch new messages and file each one: into the dossier whose number the Subject names,
    otherwise into a new dossier (channel email). A message is marked done ($DossierFiled) only
    after it is filed, so a crash loses nothing and a re-run files nothing twice.
    """
    import ssl

    from ingest.channels.imap import DONE_KEYWORD, ImapMailbox, MailboxError, MailIntake, number_pattern
    from records.smtp import is_loopback

    if use_ssl + starttls + plain > 1:
        raise ConfigurationError("give one of --ssl, --starttls and --plain")
    host = host or _setting(cli, "host") or "127.0.0.1"
    configured: Security = _setting(cli, "security") or ("none" if is_loopback(host) else "starttls")
    security: Security = "ssl" if use_ssl else "starttls" if starttls else "none" if plain else configured
    user = user or _setting(cli, "user")
    if not user:
        raise ConfigurationError("no IMAP user: give --user (or set mail.user)")
    password = _password(cli, password_env, password_file)
    if security == "none" and not is_loopback(host):
        click.echo(f"warning: the password goes to {host} unencrypted; use --ssl or --starttls", err=True)
    ca_file = ca_file or _setting(cli, "ca_file")
    timeout = timeout or _setting(cli, "timeout_seconds") or 60.0
    context = None
    if ca_file is not None or security != "none":
        try:
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(f"cannot use {ca_file} as CA bundle: {exc}") from exc
    folder = folder or _setting(cli, "folder") or "INBOX"
    move_to = move_to or _setting(cli, "move_to")
    settings = cli.settings
    try:
        tz = ZoneInfo(settings.timezone)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"unknown time zone {settings.timezone!r}") from exc
    services = cli.services
    intake = MailIntake(
        services.ingest, services.records, services.gate, who=cli.identity, context=cli.context, details=cli.auth,
        tz=tz, move_to=move_to,
        numbers=number_pattern(settings.numbering.template, settings.numbering.serial_width),
        done_keyword=_setting(cli, "done_keyword") or DONE_KEYWORD,
    )

    def mailbox() -> ImapMailbox:
        return ImapMailbox(host, port or _setting(cli, "port"), user=user, password=password, folder=folder,
                           security=security, ssl_context=context, timeout=timeout)

    totals: Counter[str] = Counter()
    if watch is None:
        _poll_once(intake, mailbox(), limit, as_json, totals)
        _summary(totals)
        if totals["error"]:
            raise click.ClickException(f"{totals['error']} message(s) not filed; they stay in the mailbox for the next run")
        return
    done = 0
    try:
        while polls is None or done < polls:
            started = time.monotonic()
            try:
                _poll_once(intake, mailbox(), limit, as_json, totals)
            except MailboxError as exc:  # the server may come back: keep watching
                click.echo(f"dossier: mail: {exc}", err=True)
            done += 1
            if polls is not None and done >= polls:
                break
            time.sleep(max(0.0, watch - (time.monotonic() - started)))
    except KeyboardInterrupt:
        click.echo("", err=True)
    _summary(totals)


def _poll_once(intake: MailIntake, box: ImapMailbox, limit: int | None, as_json: bool, totals: Counter[str]) -> None:
    with box:
        for result in intake.poll(box, limit=limit):
            _count(result, totals)
            click.echo(json.dumps(to_jsonable(result), ensure_ascii=False) if as_json else _line(result))


def _count(r: MailResult, totals: Counter[str]) -> None:
    totals["messages"] += 1
    totals[r.outcome] += 1
    if r.created_new:
        totals["new dossiers"] += 1
    totals["attachments"] += r.attachments


def _line(r: MailResult) -> str:
    where = f"{r.dossier or '-'}{' (new)' if r.created_new else ''}"
    extra = f" +{r.attachments} attachment{'s' if r.attachments != 1 else ''}" if r.attachments else ""
    note = f"  [{r.note}]" if r.note and r.outcome in ("error", "duplicate") else ""
    return f"uid {r.uid:<6} {where:<16} {r.outcome:<17} {r.item_number or '-':<14}{extra}  {r.subject}{note}"


def _summary(totals: Counter[str]) -> None:
    if not totals["messages"]:
        click.echo("no new messages", err=True)
        return
    rest = ", ".join(f"{v} {k}" for k, v in sorted(totals.items())
                     if k not in ("messages", "new dossiers", "attachments") and v)
    click.echo(f"{totals['messages']} message(s), {totals['new dossiers']} new dossier(s), "
               f"{totals['attachments']} attachment(s): {rest}", err=True)


def _password(cli: CliContext, env: str | None, file: Path | None) -> str:
    if env and file:
        raise ConfigurationError("give --password-env or --password-file, not both")
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigurationError(f"the environment variable {env} is not set")
        return value
    file = file or _setting(cli, "password_file")
    if file:
        try:
            return (Path(file).read_text(encoding="utf-8").splitlines() or [""])[0]
        except OSError as exc:
            raise ConfigurationError(f"cannot read the IMAP password file {file}: {exc.strerror}") from exc
    secret = _setting(cli, "password")
    if secret is not None:
        return str(secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret)
    raise ConfigurationError("no IMAP password: give --password-env VAR or --password-file FILE (or set mail.password)")
