"""`dossier notice NUMBER KIND`: generate a notice the complaint rules require and file it (issue #10 item 3).

Acceptance and non-acceptance notices (ACC-DOC-02/03, ACC-NO), the extension notice (TL-03), the
reply letter (TL-04) and the chaser of an overdue case (TL-36) are composed from the dossier by
``records.notices.NoticeService`` and filed into it with their kind, decided and logged once by
the gate like ``dossier add``. The command prints the new item number; ``-o FILE`` also writes a
copy, DOCX or PDF by the file's suffix.
"""

from __future__ import annotations

from pathlib import Path

import click

from records.errors import InvalidRegistrationError
from web.cli._lazy import LazyChoice
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command()
@click.argument("number")
@click.argument("kind", metavar="KIND", type=LazyChoice("records.notices", "KIND_NAMES"))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a copy of the notice here: .docx or .pdf.")
@click.option("--body-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The reply letter's text (UTF-8), used as is; default: the prefilled draft.")
@click.option("--ground", default=None, help="The ground of refusal (ACC-NO); default: the note on the not-accepted step.")
@pass_cli
@command_errors
def notice(cli: CliContext, number: str, kind: str, output: Path | None, body_file: Path | None,
           ground: str | None) -> None:
    """Generate the KIND notice of dossier NUMBER, file it and print its item number.

    KIND is acceptance (受理通知书), non_acceptance (不予受理通知书), extension (延期通知书),
    reply (答复书) or chaser (催办单).
    """
    from records.notices import NoticeKind

    fmt = None
    if output is not None:
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in ("docx", "pdf"):
            raise InvalidRegistrationError("-o", f"{output.name}: the copy is written as .docx or .pdf")
    body = None
    if body_file is not None:
        if NoticeKind(kind) is not NoticeKind.REPLY:
            raise InvalidRegistrationError("--body-file", "only a reply letter takes a text of its own")
        try:
            body = body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRegistrationError("--body-file", f"cannot read {body_file} as UTF-8 text: {exc}") from exc
    issued = cli.services.notices.issue_notice(cli.identity, number, NoticeKind(kind), context=cli.context,
                                               details=cli.auth, body=body, ground=ground)
    if output is not None and fmt is not None:
        try:
            output.write_bytes(issued.copy("pdf" if fmt == "pdf" else "docx"))
        except OSError as exc:
            raise click.ClickException(f"{issued.document.item_number} filed, but the copy could not be written: "
                                       f"{exc.strerror}") from exc
    click.echo(issued.document.item_number)
