"""`dossier related NUMBER`: earlier dossiers that look like the same matter (ACC-NO-01, STA-14).

The console door to ``search.related.RelatedComplaints``: the same lookup as the dossier page's
panel, within the caller's scope, decided and logged once (SEARCH on the dossier).
"""

from __future__ import annotations

import json

import click

from web.cli._output import table
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="The related dossiers (number, received, state, reasons, similarity) as JSON.")
@pass_cli
@command_errors
def related(cli: CliContext, number: str, as_json: bool) -> None:
    """Earlier complaints like dossier NUMBER: same complainant, same respondent or similar text.

    \b
    A repeat without new facts may be refused (ACC-NO-01); repeats are counted (STA-14).
    """
    rows = cli.services.related.lookup(cli.identity, number, context=cli.context, details=cli.auth)
    if as_json:
        click.echo(json.dumps({"number": number, "related": [r.as_dict() for r in rows], "more": rows.more}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no earlier related complaint found")
        return
    click.echo(table([[r.archive_number, str(r.received_on), r.state,
                       ", ".join(str(x) for x in r.reasons),
                       "" if r.similarity is None else f"{r.similarity:.2f}", r.matter] for r in rows],
                     ["number", "received", "state", "reasons", "similarity", "matter"]))
    if rows.more:
        click.echo(f"more than {len(rows)} earlier complaints match; the closest are listed")
