"""`dossier user | token | grant | audit`: accounts, API tokens, regulator grants, the access log.

These commands act as the console operator (``--as``, default ``cli:<login>``): whoever runs
``dossier`` holds the data directory and its keys, and every command is logged under that name.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from records.access.errors import InvalidGrantError
from records.access.identity import Grant, GrantFilter, Identity, RequestContext, Role
from records.errors import ConfigurationError
from web.cli._output import echo_json, table, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only; the access service (sqlalchemy) loads when a command runs
    from records.access.log import LogEntry
    from records.access.service import AccessService

_CONTEXT = RequestContext(user_agent="dossier-cli")


def _access(cli: CliContext) -> AccessService:
    return cli.services.access


def _operator(cli: CliContext) -> Identity:
    """The authenticated caller (``--as`` with credentials, else the console operator)."""
    return cli.identity


def _zone(cli: CliContext) -> ZoneInfo:
    try:
        return ZoneInfo(cli.settings.timezone)
    except (KeyError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {cli.settings.timezone!r}") from exc


def _moment(text: str, tz: ZoneInfo, *, end_of_day: bool, option: str) -> datetime:
    """A date (its start, or the start of the next day with ``end_of_day``) or a date-time, in archive time."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(0), tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidGrantError(option, f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+08:00]") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


# ---------------------------------------------------------------------- users
@main.group()
def user() -> None:
    """Accounts: add, disable, enable, password, list (roles: admin archivist handler manager regulator auditor)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--department", "departments", multiple=True, metavar="D",
              help="A department the account acts for (repeat for several). A manager without one sees all.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def user_add(cli: CliContext, name: str, role: str, departments: tuple[str, ...], password_stdin: bool,
             as_json: bool) -> None:
    """Create account NAME; its password is hashed with argon2id."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    info = _access(cli).add_user(_operator(cli), name, Role(role), departments=departments, password=password,
                                 context=_CONTEXT)
    if as_json:
        echo_json(info)
    else:
        click.echo(f"{info.name}  {info.role}  {_departments(info.departments, info.role)}")


@user.command("disable")
@click.argument("name")
@pass_cli
@command_errors
def user_disable(cli: CliContext, name: str) -> None:
    """Disable account NAME: its passwords and tokens stop working at once."""
    info = _access(cli).disable_user(_operator(cli), name, context=_CONTEXT)
    click.echo(f"{info.name} disabled")


@user.command("enable")
@click.argument("name")
@pass_cli
@command_errors
def user_enable(cli: CliContext, name: str) -> None:
    """Enable account NAME again; sessions open when it was disabled stay ended."""
    info = _access(cli).enable_user(_operator(cli), name, context=_CONTEXT)
    click.echo(f"{info.name} enabled")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from the next line of standard input (after --as's, if any).")
@pass_cli
@command_errors
def user_password(cli: CliContext, name: str, password_stdin: bool) -> None:
    """Set a new password for account NAME (administrators, or the account itself); its sessions end.

    The password meets the same policy as on the web (records/access/passwords.py): a weak one
    is refused with exit 4 and the reason.
    """
    operator = _operator(cli)  # first: with --as … --password-stdin the sign-in password is the first line
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)
    info = _access(cli).set_password(operator, name, password, context=_CONTEXT)
    click.echo(f"{info.name}: password set; its sessions have ended")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def user_list(cli: CliContext, as_json: bool) -> None:
    """Every account with its role, departments and state."""
    users = _access(cli).list_users(_operator(cli), context=_CONTEXT)
    if as_json:
        echo_json(users)
        return
    rows = [[u.name, u.role.value, _departments(u.departments, u.role), "active" if u.active else "disabled",
             "yes" if u.has_password else "no", str(u.tokens)] for u in users]
    click.echo(table(rows, ["name", "role", "departments", "state", "password", "tokens"]))


def _departments(departments: frozenset[str] | None, role: Role) -> str:
    if departments is None:
        return "(all)" if role is Role.MANAGER else "-"
    return ",".join(sorted(departments))


# ---------------------------------------------------------------------- tokens
@main.group()
def token() -> None:
    """API tokens: create, list, revoke (stored as their SHA-256; shown once)."""


@token.command("create")
@click.argument("name")
@click.option("--label", default=None, help="What the token is for.")
@click.option("--expires", default=None, metavar="DATE", help="Last day of validity (archive time), or a date-time.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def token_create(cli: CliContext, name: str, label: str | None, expires: str | None, as_json: bool) -> None:
    """Create an API token for account NAME and print it; it cannot be shown again."""
    expires_at = _moment(expires, _zone(cli), end_of_day=True, option="--expires") if expires else None
    issued = _access(cli).create_token(_operator(cli), name, label=label, expires_at=expires_at, context=_CONTEXT)
    if as_json:
        echo_json({"token": issued.token, "token_id": issued.token_id, "user": issued.user,
                   "expires_at": issued.expires_at})
    else:
        click.echo(issued.token)
        click.echo("store it now: only its hash is kept, it cannot be shown again", err=True)


@token.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def token_list(cli: CliContext, name: str | None, as_json: bool) -> None:
    """Every API token (or account NAME's) with its status now; never the tokens themselves."""
    tokens = _access(cli).list_tokens(_operator(cli), name, context=_CONTEXT)
    now, tz = cli.services.clock(), _zone(cli)
    if as_json:
        echo_json([{**to_jsonable(t), "status": t.status(now).value} for t in tokens])
        return

    def local(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else "-"

    rows = [[t.token_id, t.user, t.status(now).value, t.label or "", local(t.created_at), local(t.expires_at),
             t.created_by] for t in tokens]
    click.echo(table(rows, ["token", "user", "status", "label", "created", "expires", "by"]))


@token.command("revoke")
@click.argument("token_id")
@pass_cli
@command_errors
def token_revoke(cli: CliContext, token_id: str) -> None:
    """Revoke API token TOKEN_ID (from `dossier token list`) now; its next use is refused."""
    t = _access(cli).revoke_token(_operator(cli), token_id, context=_CONTEXT)
    click.echo(f"{t.token_id} revoked ({t.user})")


# ---------------------------------------------------------------------- grants (ACS-04)
@main.group()
def grant() -> None:
    """Regulator grants: read-only, scoped, with a purpose and an expiry (ACS-04)."""


@grant.command("add")
@click.option("--to", "grantee", required=True, metavar="USER", help="The regulator account.")
@click.option("--dossiers", default=None, metavar="N1,N2", help="Archive numbers the grant covers.")
@click.option("--filter", "filter_text", default=None, metavar="QUERY",
              help="A saved filter, e.g. 'respondent:某律所 category:收费 received:2026-01-01..2026-06-30'.")
@click.option("--purpose", required=True, help="Why the regulator consults the archive (recorded with every access).")
@click.option("--expires", required=True, metavar="DATE",
              help="Last day of access (archive time; ends at midnight), or an exact date-time.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def grant_add(cli: CliContext, grantee: str, dossiers: str | None, filter_text: str | None, purpose: str,
              expires: str, as_json: bool) -> None:
    """Grant a regulator read access to some dossiers or to a saved filter; print the grant id."""
    if (dossiers is None) == (filter_text is None):
        raise InvalidGrantError("--dossiers/--filter", "give exactly one of them")
    numbers = [n.strip() for n in dossiers.split(",") if n.strip()] if dossiers is not None else None
    saved = GrantFilter.parse(filter_text) if filter_text is not None else None
    g = _access(cli).grant_regulator_access(
        _operator(cli), grantee, purpose=purpose, dossiers=numbers, filter=saved, context=_CONTEXT,
        expires_at=_moment(expires, _zone(cli), end_of_day=True, option="--expires"))
    if as_json:
        echo_json(_grant_json(g, cli.services.clock()))
    else:
        click.echo(g.grant_id)


@grant.command("list")
@click.option("--to", "grantee", default=None, metavar="USER", help="Only this regulator's grants.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def grant_list(cli: CliContext, grantee: str | None, as_json: bool) -> None:
    """Every grant with its scope, purpose, expiry and status now."""
    grants = _access(cli).list_grants(_operator(cli), grantee=grantee, context=_CONTEXT)
    if as_json:
        echo_json([_grant_json(g, cli.services.clock()) for g in grants])
        return
    now, tz = cli.services.clock(), _zone(cli)
    rows = [[g.grant_id, g.grantee, g.status(now).value, g.describe(), g.purpose,
             g.expires_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), g.granted_by] for g in grants]
    click.echo(table(rows, ["grant", "to", "status", "scope", "purpose", "expires", "by"]))


@grant.command("revoke")
@click.argument("grant_id")
@pass_cli
@command_errors
def grant_revoke(cli: CliContext, grant_id: str) -> None:
    """End grant GRANT_ID now."""
    g = _access(cli).revoke_grant(_operator(cli), grant_id, context=_CONTEXT)
    click.echo(f"{g.grant_id} revoked ({g.grantee})")


def _grant_json(g: Grant, now: datetime) -> dict[str, object]:
    out: dict[str, object] = to_jsonable(g)
    out["filter"] = g.filter.render() if g.filter else None
    out["status"] = g.status(now).value
    return out


# ---------------------------------------------------------------------- the access log
@main.group()
def audit() -> None:
    """The hash-chained access log: verify, export, checkpoint."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def audit_verify(cli: CliContext, as_json: bool) -> None:
    """Check every entry, the chain head and every signed checkpoint; exit 1 naming the first broken entry."""
    result = _access(cli).verify_access_log(_operator(cli), context=_CONTEXT)
    if as_json:
        echo_json(result)
    else:
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
        if result.ok:
            click.echo(f"ok: {result.checked} entries, {result.checkpoints} signed checkpoints")
        else:
            where = f"entry {result.first_broken_seq}" if result.first_broken_seq is not None else "the log"
            click.echo(f"BROKEN at {where}: {result.reason} ({result.checked} entries checked)")
    if not result.ok:
        sys.exit(1)


@audit.command("export")
@click.option("--from", "since", default=None, metavar="DATE", help="From this day (archive time) or date-time.")
@click.option("--to", "until", default=None, metavar="DATE", help="Up to and including this day, or before a date-time.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (default: one JSON object per line).")
@pass_cli
@command_errors
def audit_export(cli: CliContext, since: str | None, until: str | None, as_json: bool) -> None:
    """Write access-log entries, with their hashes, for an auditor to take away."""
    tz = _zone(cli)
    entries = _access(cli).export_audit_log(
        _operator(cli), context=_CONTEXT,
        since=_moment(since, tz, end_of_day=False, option="--from") if since else None,
        until=_moment(until, tz, end_of_day=True, option="--to") if until else None)
    records = [_entry_json(e) for e in entries]
    if as_json:
        echo_json(records)
    else:
        for r in records:
            click.echo(_compact(r))


@audit.command("checkpoint")
@pass_cli
@command_errors
def audit_checkpoint(cli: CliContext) -> None:
    """Sign the log's current head now (also appended to <data_dir>/audit-checkpoints.jsonl)."""
    cp = _access(cli).checkpoint_access_log(_operator(cli), context=_CONTEXT)
    click.echo("the access log is empty" if cp is None else f"checkpoint at entry {cp.seq}: {cp.entry_hash}")


@audit.command("expire-details")
@click.option("--keep-months", type=click.IntRange(min=0), default=None,
              help="Months of search details to keep (default: [access] details_keep_months; 0 = forever).")
@click.option("--dry-run", is_flag=True, help="Only name the periods whose keys would be destroyed.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def audit_expire_details(cli: CliContext, keep_months: int | None, dry_run: bool, as_json: bool) -> None:
    """Destroy the log-period keys older than the kept months: the details of those months' entries
    that name no dossier (search queries, filters) become unreadable; every entry still verifies."""
    months = cli.settings.access.details_keep_months if keep_months is None else keep_months
    periods = _access(cli).expire_log_details(cli.identity, keep_months=months, dry_run=dry_run, context=cli.context,
                                              details=cli.auth)
    if as_json:
        echo_json({"keep_months": months, "dry_run": dry_run, "destroyed": [] if dry_run else periods,
                   "would_destroy": periods if dry_run else []})
        return
    if months == 0:
        click.echo("details_keep_months is 0: log-period keys are kept forever; nothing destroyed")
        return
    verb = "would destroy" if dry_run else "destroyed"
    for p in periods:
        click.echo(f"{verb} {p}")
    click.echo(f"{len(periods)} log period key(s) {verb}; months kept: {months}")


def _entry_json(e: LogEntry) -> dict[str, object]:
    body: dict[str, object] = {"seq": e.seq, **to_jsonable(e.event)}
    body.update(prev_hash=e.prev_hash, entry_hash=e.entry_hash)
    return body


def _compact(record: dict[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
