"""`dossier add` and `dossier get`: filing originals into a dossier and reading them back."""

from __future__ import annotations

import mimetypes
import os
import sys
from pathlib import Path

import click

from records.errors import DuplicateDocumentError, InvalidRegistrationError
from records.model import DocumentKind, DocumentSource
from web.cli._output import echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command()
@click.argument("number")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice([k.value for k in DocumentKind]), default=DocumentKind.OTHER.value,
              show_default=True, help="What the document is.")
@click.option("--source", type=click.Choice([s.value for s in DocumentSource]), default="upload", show_default=True)
@click.option("--supersedes", default=None, metavar="ITEM", help="File as a corrected new version of ITEM.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def add(cli: CliContext, number: str, files: tuple[Path, ...], kind: str, source: str,
        supersedes: str | None, as_json: bool) -> None:
    """File FILES into dossier NUMBER, encrypted; print each item number.

    A file already filed in the dossier (same SHA-256) is reported and skipped, so re-running
    the same command files nothing twice.
    """
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise InvalidRegistrationError("file", f"{missing[0]}: no such file")
    if supersedes and len(files) != 1:
        raise InvalidRegistrationError("--supersedes", "give exactly one file for a new version")
    gate = cli.services.gate
    results = []
    for path in files:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        try:
            doc = gate.file_document(cli.identity, number, path, context=cli.context, details=cli.auth,
                                     kind=DocumentKind(kind), media_type=media_type, source=DocumentSource(source),
                                     supersedes_item=supersedes)
        except DuplicateDocumentError as exc:
            results.append({"path": str(path), "outcome": "duplicate", "item_number": exc.existing_item, "sha256": exc.sha256})
            if not as_json:
                click.echo(f"{exc.existing_item}  {path}  (already filed, skipped)")
            continue
        results.append({"path": str(path), "outcome": "filed", "item_number": doc.item_number, "sha256": doc.sha256,
                        "size": doc.size, "kind": doc.kind.value})
        if not as_json:
            click.echo(f"{doc.item_number}  {path}")
    if as_json:
        echo_json(results)


@main.command()
@click.argument("item")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the original bytes ('-' for standard output).")
@pass_cli
@command_errors
def get(cli: CliContext, item: str, output: Path) -> None:
    """Write the original bytes of document ITEM (e.g. 2611-007-03) to a file.

    A regulator (--as with credentials) receives a PDF stamped with its name, grant and purpose
    instead, like every other way out of the archive.

    The bytes are authenticated while they are decrypted; the file appears only once all of
    them matched the recorded SHA-256, so a tampered blob never leaves a partial plaintext, and
    a document store failing mid-read (exit 14) never leaves a truncated file.
    """
    import tempfile

    from records.durable import fsync_dir

    copy = cli.services.gate.copy(cli.identity, item, context=cli.context, details=cli.auth)
    info, stream = copy.document, iter(copy.stream)
    if str(output) == "-":
        # Buffered so nothing reaches the pipe before the whole object authenticated.
        data = b"".join(stream)
        sys.stdout.buffer.write(data)
        return
    directory = output.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in stream:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(directory)  # the new name survives a crash, like every file the archive writes
    if copy.watermarked:
        click.echo(f"{info.item_number} → {output} (a stamped copy for {cli.actor}, {copy.media_type})", err=True)
    else:
        click.echo(f"{info.item_number} → {output} ({info.size} bytes, sha256 {info.sha256[:12]}…)", err=True)


@main.command("withdraw-item")
@click.argument("item")
@click.option("--reason", required=True, help="Why it is withdrawn (kept with the document).")
@pass_cli
@command_errors
def withdraw_item(cli: CliContext, item: str, reason: str) -> None:
    """Withdraw junk filing ITEM (a blank scan, the wrong file): it keeps its number and bytes, leaves
    search and no longer counts as a material of the dossier. Refused in sealed, void and disposed dossiers."""
    doc = cli.services.gate.withdraw_document(cli.identity, item, reason, context=cli.context, details=cli.auth)
    click.echo(f"{doc.item_number} withdrawn by {doc.withdrawn_by}: {doc.withdrawn_reason}")
