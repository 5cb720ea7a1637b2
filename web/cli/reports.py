"""`dossier report …`: the statistics reports and the register as files (STA-01..04, STA-10, STA-14).

- ``report monthly YYYY-MM`` — the monthly statistics (STA-01, STA-04);
- ``report weekly YYYY-Www`` — the same over an ISO week, the Monday report (STA-03, TL-26);
- ``report persons YYYY-MM`` — complaints per respondent and per complainant with the rules'
  threshold flags (STA-10), repeated identical and collective complaints (STA-14, TL-29);
- ``report register --from DATE --to DATE -o FILE.xlsx`` — the register 登记簿 of a period.

A file leaves the archive, so every command is a download: decided and logged once by
:class:`retention.report_desk.ReportDesk` (LIST_DOSSIERS plus EXPORT rights), and limited to
what the caller may export — the whole archive for the console and archivists, a manager's
departments under ``--as``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from records.errors import InvalidRegistrationError
from web.cli._lazy import LazyChoice
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:
    from retention.report_desk import ReportDesk

F = TypeVar("F", bound=Callable[..., Any])

_CSV_LABELS = click.option("--csv-labels", is_flag=True, default=False,
                           help="CSV: column names and keys in the report language (Chinese by default) "
                                "instead of raw keys, for people opening it in Excel.")
_LANG = click.option("--lang", type=LazyChoice("retention.reports", "LANGS"), default="zh", show_default=True,
                     help="Labels in Chinese or English.")


@main.group()
def report() -> None:
    """Statistics reports and the complaint register."""


def _desk(cli: CliContext) -> ReportDesk:
    return cli.services.reports


def _output_option(default_hint: str) -> Callable[[F], F]:
    return click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help=f"Where to write it ('-' for standard output; default: {default_hint} here).")


# The options the monthly and weekly reports share (one definition, so their help and choices stay the same).
_PERIOD_FORMAT = click.option(
    "--format", "fmt", type=LazyChoice("retention.reports", "FORMATS", sort=True), default="html", show_default=True,
    help="html (self-contained, with charts), pdf, csv (long table) or xlsx (sheet per section).")
_TOP = click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
                    help="Respondents listed by name; the rest are summed as 'other'.")


@report.command("monthly")
@click.argument("month")
@_PERIOD_FORMAT
@_output_option("monthly-YYYY-MM.FORMAT")
@_LANG
@_CSV_LABELS
@_TOP
@pass_cli
@command_errors
def monthly(cli: CliContext, month: str, fmt: str, output: Path | None, lang: str, csv_labels: bool, top: int) -> None:
    """Statistics of MONTH (YYYY-MM, archive time zone): counts by category, channel, respondent,
    department and outcome, handling times, deadline compliance (TL), and the previous month for
    comparison. A running month is reported as of today.
    """
    from retention.reports import filename, render  # loaded when the command runs, not for `dossier --help`

    rep = _desk(cli).monthly(cli.identity, month, export=True, fmt=fmt, top=top, context=cli.context, details=cli.auth)
    _emit(render(rep, fmt, lang, labelled=csv_labels), output, Path(filename(rep, fmt)))


@report.command("weekly")
@click.argument("week")
@_PERIOD_FORMAT
@_output_option("weekly-YYYY-Www.FORMAT")
@_LANG
@_CSV_LABELS
@_TOP
@pass_cli
@command_errors
def weekly(cli: CliContext, week: str, fmt: str, output: Path | None, lang: str, csv_labels: bool, top: int) -> None:
    """Statistics of ISO WEEK (YYYY-Www, Monday to Sunday, e.g. 2026-W44): the Monday report
    (STA-03), the same figures as the monthly one, compared with the week before.
    """
    from retention.reports import filename, render

    rep = _desk(cli).weekly(cli.identity, week, export=True, fmt=fmt, top=top, context=cli.context, details=cli.auth)
    _emit(render(rep, fmt, lang, labelled=csv_labels), output, Path(filename(rep, fmt)))


@report.command("persons")
@click.argument("month")
@click.option("--format", "fmt", type=LazyChoice("retention.persons", "PERSON_FORMATS"), default="xlsx",
              show_default=True, help="xlsx (a sheet per table) or csv (one long table).")
@_output_option("persons-YYYY-MM.FORMAT")
@_LANG
@_CSV_LABELS
@pass_cli
@command_errors
def persons(cli: CliContext, month: str, fmt: str, output: Path | None, lang: str, csv_labels: bool) -> None:
    """Complaints of MONTH (YYYY-MM) per respondent, with the STA-10 flags (3+: criticism and
    fine 200, 4+: fine 300, more than 5: dismissal if serious), repeat complainants, identical
    complaints from 3+ different complainants (grade B, TL-29) and collective complaints.
    """
    from retention.persons import render_persons

    rep = _desk(cli).persons(cli.identity, month, export=True, fmt=fmt, context=cli.context, details=cli.auth)
    _emit(render_persons(rep, fmt, lang, labelled=csv_labels), output, Path(f"persons-{rep.month}.{fmt}"))


@report.command("register")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day of receipt (YYYY-MM-DD).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day of receipt (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="xlsx or csv (default: from the output's suffix, else xlsx).")
@_output_option("register-FROM-TO.xlsx")
@_CSV_LABELS
@pass_cli
@command_errors
def register(cli: CliContext, first: datetime, last: datetime, fmt: str | None, output: Path | None,
             csv_labels: bool) -> None:
    """The register 登记簿 of every complaint received from --from to --to: number, dates, parties,
    matter, category, department, state and whether a deadline ran late (XLSX with Chinese
    headers, or CSV). It names complainants: the caller needs export rights.
    """
    from retention.register import render_register_csv, render_register_xlsx

    fmt = fmt or ("csv" if output is not None and output.suffix.lower() == ".csv" else "xlsx")
    reg = _desk(cli).register(cli.identity, first.date(), last.date(), fmt=fmt, context=cli.context, details=cli.auth)
    data = render_register_csv(reg, labelled=csv_labels) if fmt == "csv" else render_register_xlsx(reg)
    _emit(data, output, Path(f"register-{reg.first}-{reg.last}.{fmt}"))


def _emit(data: bytes, output: Path | None, default: Path) -> None:
    if output is not None and str(output) == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
        return
    target = output or default
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
