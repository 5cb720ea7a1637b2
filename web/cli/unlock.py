"""`dossier unlock ITEM --password-file F [--json]`: open a document filed as ``encrypted`` (issue #13).

Scripting interface (kept stable): ``dossier unlock ITEM --password-file F [--json]``. The password
is the file's first line, as for ``dossier ingest --password-file`` (never on the command line,
where every user of the machine could read it). The item's text is extracted and indexed in place:
no second copy is filed. ``--json`` prints one object ``{item_number, outcome, message, chars,
languages, warnings, kind}``. A wrong password exits 4 and leaves the item ``encrypted``; an item
whose outcome is not ``encrypted`` exits 5. Each attempt leaves one access-log entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from web.cli._output import echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only; the ingest pipeline loads with the services
    from ingest.service import IngestResult


@main.command()
@click.argument("item")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="File whose first line is the document's password.")
@click.option("--json", "as_json", is_flag=True, help="The new outcome as one JSON object.")
@pass_cli
@command_errors
def unlock(cli: CliContext, item: str, password_file: Path, as_json: bool) -> None:
    """Open encrypted document ITEM with a password: its text is extracted and indexed, no copy is filed."""
    password = (password_file.read_text(encoding="utf-8").splitlines() or [""])[0]
    services = cli.services
    original = services.gate.unlock(cli.identity, item, context=cli.context, details=cli.auth)
    result = services.ingest.unlock(cli.actor, original.dossier.archive_number, original.document, original.stream, password)
    if as_json:
        echo_json(unlock_json(result))
        return
    click.echo(f"{result.item_number}  {result.outcome.value}  {result.chars} characters"
               + (f"  ({result.message})" if result.message else ""))
    for child in result.children:
        click.echo(f"  {child.item_number or ''}  {child.outcome.value}  {child.path}")


def unlock_json(result: IngestResult) -> dict[str, object]:
    """The stable JSON of one unlock: the item's new outcome and what its text holds."""
    return {
        "item_number": result.item_number, "outcome": result.outcome.value, "message": result.message,
        "chars": result.chars, "languages": list(result.languages), "warnings": list(warnings_of(result)),
        "kind": result.kind.value if result.kind else None,
    }


def warnings_of(result: IngestResult) -> tuple[str, ...]:
    """The extractor's warnings (the outcome message of an ``ok_with_warnings`` item, one per sentence)."""
    listed = getattr(result, "warnings", None)   # ingest results may carry them as a list
    if listed is not None:
        return tuple(listed)
    if result.outcome.value == "ok_with_warnings" and result.message:
        return tuple(w for w in result.message.split("; ") if w)
    return ()
