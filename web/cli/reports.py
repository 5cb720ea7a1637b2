"""`dossier report monthly YYYY-MM`: the monthly statistics report (STA-01, STA-04) as a file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from records.access.identity import Action
from records.errors import InvalidRegistrationError
from web.cli._lazy import LazyChoice
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.group()
def report() -> None:
    """Statistics reports."""


@report.command("monthly")
@click.argument("month")
@click.option("--format", "fmt", type=LazyChoice("retention.reports", "FORMATS", sort=True), default="html", show_default=True,
              help="html (self-contained, with charts), pdf, csv (long table) or xlsx (sheet per section).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write it ('-' for standard output; default: monthly-YYYY-MM.FORMAT here).")
@click.option("--lang", type=LazyChoice("retention.reports", "LANGS"), default="zh", show_default=True, help="Labels in Chinese or English.")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Respondents listed by name; the rest are summed as 'other'.")
@pass_cli
@command_errors
def monthly(cli: CliContext, month: str, fmt: str, output: Path | None, lang: str, top: int) -> None:
    """Statistics of MONTH (YYYY-MM, archive time zone) over the whole archive: counts by category,
    channel, respondent, department and outcome, handling times, deadline compliance (TL), and
    the previous month for comparison. A running month is reported as of today.
    """
    from retention.reports import render  # loaded when the command runs, not for `dossier --help`
    from retention.statistics import monthly_report, parse_month

    tz = ZoneInfo(cli.settings.timezone)
    now = cli.services.clock()
    month = parse_month(month, today=now.astimezone(tz).date())  # a bad month fails before any work
    services = cli.services
    # The console reads the whole catalogue; the read is logged like any listing.
    services.access.enforce(cli.identity, Action.LIST_DOSSIERS, None, context=cli.context,
                            object_ref=f"report/monthly/{month}", details={**cli.auth, "report": "monthly", "format": fmt})
    data = render(monthly_report(services.records, month, actor=cli.actor, tz=tz, now=now, top=top), fmt, lang)
    if output is not None and str(output) == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
        return
    target = output or Path(f"monthly-{month}.{fmt}")
    _write_atomically(target, data)
    click.echo(str(target))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write so a reader never sees half a report (``records.durable.write_atomic``)."""
    from records.durable import write_atomic

    path = path.expanduser()
    try:
        write_atomic(path, data, mode=0o600)
    except OSError as exc:
        raise InvalidRegistrationError("--output", f"cannot write {path}: {exc.strerror}") from exc
