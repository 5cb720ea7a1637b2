"""`dossier calendar import FILE` and `dossier calendar show YEAR`: the office's official working-day calendars.

TL-01 and TL-04 count working days; ``chinesecalendar`` knows the State Council's holiday notices
only up to its release (2026 in 1.11). For a later year the office loads the notice as a file
(format: docs/calendars/README.md; an example: docs/calendars/2027.example.json). Both commands
are decided by the policy (MANAGE_CALENDAR: administrators, archivists, the console) and leave one
access-log entry each. A file that is not valid exits 4 with the line or field to fix, and
changes nothing.

Scripting interface: ``calendar show YEAR --json`` prints ``year``, ``source``
(office|package|fallback), ``holidays`` and ``workdays`` (lists of ``{day, working, name}``),
``imported_at``, ``imported_by``; ``calendar import FILE --json`` prints ``year``, ``holidays``,
``workdays``, ``replaced`` (rows of an earlier import of that year).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from web.cli._output import echo_json, table
from web.cli.app import CliContext, command_errors, main, pass_cli

_SOURCES = {
    "office": "office (loaded with `dossier calendar import`)",
    "package": "package (chinesecalendar)",
    "fallback": "fallback: weekends and public holidays only, NO make-up working days (调休) — "
                "load the official calendar with `dossier calendar import FILE`",
}


@main.group("calendar")
def calendar_group() -> None:
    """The official working-day calendar of a year (holidays and 调休 make-up days; TL-01, TL-04)."""


@calendar_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
@pass_cli
@command_errors
def import_calendar(cli: CliContext, file: Path, as_json: bool) -> None:
    """Load FILE (.json or .csv, one year) as that year's official calendar, replacing an earlier import."""
    from records.office_calendar import read_calendar_file  # sqlalchemy: loaded when the command runs

    year = read_calendar_file(file)  # validated before the archive is touched
    done = cli.services.calendar.import_year(cli.identity, year, context=cli.context,
                                             details={**cli.auth, "file": file.name[:200]})
    if as_json:
        echo_json(done)
        return
    click.echo(f"calendar {done.year} imported: {done.holidays} holiday(s), {done.workdays} make-up working day(s)"
               + (f"; replaced {done.replaced} day(s) of the earlier import" if done.replaced else ""))


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
@click.option("--json", "as_json", is_flag=True, help="Print the year as JSON.")
@pass_cli
@command_errors
def show_calendar(cli: CliContext, year: int, as_json: bool) -> None:
    """Show YEAR as deadlines count it: its source, its holidays and its make-up working days."""
    view = cli.services.calendar.show(cli.identity, year, context=cli.context, details=cli.auth)
    if as_json:
        echo_json(view)
        return
    click.echo(f"{view.year}: source {_SOURCES[view.source.value]}")
    if view.imported_at is not None:
        click.echo(f"imported {view.imported_at.isoformat(timespec='seconds')} by {view.imported_by}")
    click.echo("")
    click.echo(f"holidays ({len(view.holidays)}):")
    click.echo(table(_rows(view.holidays), ["date", "weekday", "name"]) if view.holidays else "  none")
    click.echo("")
    click.echo(f"make-up working days ({len(view.workdays)}):")
    click.echo(table(_rows(view.workdays), ["date", "weekday", "name"]) if view.workdays else "  none")


def _rows(days: list[Any]) -> list[list[str]]:
    return [[d.day.isoformat(), d.day.strftime("%a"), d.name or ""] for d in days]
