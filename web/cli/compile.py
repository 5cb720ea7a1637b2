"""`dossier compile NUMBER -o FILE.pdf`: the dossier as one paginated volume with its contents 卷内目录.

Scripting interface (kept stable): ``dossier compile NUMBER -o FILE.pdf [--json]``. The volume is
the contents page(s), then every item's current version, every page numbered (ARC-1-02,
ARC-2-14; see ``records.compile``). Compiling is taking the dossier's files out (ACS-12): it is
decided once as ``export`` and leaves one access-log entry; a refused caller gets exit 11 and no
file. The file appears whole or not at all (written to a temporary name, fsynced, renamed).
"""

from __future__ import annotations

from pathlib import Path

import click

from web.cli._output import echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command("compile")
@click.argument("number")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The PDF file to write (replaced if it exists).")
@click.option("--json", "as_json", is_flag=True, help="Print the contents and page counts as JSON.")
@pass_cli
@command_errors
def compile_command(cli: CliContext, number: str, out: Path, as_json: bool) -> None:
    """Compile dossier NUMBER into one paginated PDF: contents page, then every document."""
    from records.durable import write_atomic  # loaded when the command runs, not for --help

    if not out.resolve().parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="'-o'")
    volume = cli.services.compiler.volume(cli.identity, number, context=cli.context, details=cli.auth)
    write_atomic(out, volume.pdf, mode=0o600)  # the dossier's content: readable by its owner only
    if as_json:
        echo_json({"number": volume.dossier.archive_number, "file": str(out), "pages": volume.total_pages,
                   "contents_pages": volume.contents_pages,
                   "contents": [{"seq": e.seq, "item_number": e.item_number, "kind": e.kind.value,
                                 "kind_zh": e.kind_label, "title": e.title, "date": e.date.isoformat(),
                                 "pages": e.pages, "first_page": e.first_page, "rendering": e.rendering.value,
                                 "note": e.note} for e in volume.entries]})
        return
    click.echo(f"{out}: {volume.dossier.archive_number}, {len(volume.entries)} document(s), "
               f"{volume.total_pages} page(s) ({volume.contents_pages} contents)")
    for e in volume.entries:
        pages = f"p. {e.first_page}" + (f"-{e.last_page}" if e.pages > 1 else "")
        click.echo(f"  {e.seq:>3}  {e.item_number}  {e.kind_label}  {pages}  {e.title}"
                   + (f"  ({e.note})" if e.note else ""))
