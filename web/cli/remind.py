"""`dossier remind [--as-of DATE] [--dry-run] [--json]`: the daily deadline digest, for cron (TL-36).

Scripting interface (kept stable): ``dossier remind`` mails each handler and manager what falls
due today, within ``reminders.days_ahead`` days, and what is overdue, and prints a summary;
``--dry-run`` sends nothing and prints the digests (``--json``: a list of recipients, each with
``person``, ``address``, ``as_of``, ``days_ahead`` and the lists ``overdue``, ``due_today``,
``due_soon`` of items ``archive_number``, ``matter``, ``department``, ``state``, ``clock``,
``due_on``, ``days_overdue``, ``urgency``). The run is decided (SEND_REMINDERS: administrators,
archivists, the console) and logged once, dry or not. Exit 0 when every digest went out; 14 when
some could not be sent (the others were, and the summary names who missed theirs).

A typical crontab line: ``30 7 * * 1-5  dossier remind``.
"""

from __future__ import annotations

from typing import Any

import click

from web.cli._output import echo_json, table
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command()
@click.option("--as-of", "as_of", default=None, metavar="DATE", help="Compute as of YYYY-MM-DD (default today).")
@click.option("--dry-run", is_flag=True, help="Send nothing; print what would be sent.")
@click.option("--json", "as_json", is_flag=True, help="Print the digests (with --dry-run) or the summary as JSON.")
@pass_cli
@command_errors
def remind(cli: CliContext, as_of: str | None, dry_run: bool, as_json: bool) -> None:
    """Mail each handler and manager the deadlines due today, soon, and overdue (TL-01..04, TL-36)."""
    from records.mapping import parse_day  # sqlalchemy: loaded when the command runs, not for --help

    day = parse_day(as_of, "--as-of") if as_of else None
    svc = cli.services.reminders
    details = {**cli.auth, **({"dry_run": "true"} if dry_run else {})}
    digest = svc.digest(cli.identity, as_of=day, context=cli.context, details=details)
    if dry_run:
        if as_json:
            echo_json(digest)
        else:
            _print_digest(digest)
        return
    report = svc.send(digest)
    if as_json:
        echo_json({"sent": list(report.sent), "failed": [{"person": p, "reason": r} for p, r in report.failed]})
    else:
        click.echo(f"{len(report.sent)} digest(s) sent, {len(report.failed)} failed"
                   + (f": {', '.join(report.sent)}" if report.sent else ""))
        for person, why in report.failed:
            click.echo(f"not sent to {person}: {why}", err=True)
    if (failure := report.error()) is not None:
        raise failure  # after the others went out: exit 14, naming who missed their digest


def _print_digest(digest: list[Any]) -> None:
    if not digest:
        click.echo("nothing due: no digest would be sent")
        return
    for r in digest:
        click.echo(f"{r.person} <{r.address or 'no address'}>: {len(r.overdue)} overdue, "
                   f"{len(r.due_today)} due today, {len(r.due_soon)} due within {r.days_ahead} days")
        rows = [[i.archive_number, i.matter, str(i.clock), i.urgency.value, i.due_on.isoformat(), str(i.days_overdue)]
                for i in (*r.overdue, *r.due_today, *r.due_soon)]
        click.echo(table(rows, ["number", "matter", "deadline", "when", "due", "days overdue"]))
        click.echo("")
