"""`dossier ingest` and `dossier text`: intake of files and folders, and reading extracted text."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from records.errors import InvalidRegistrationError
from records.model import Channel, DocumentKind, DocumentSource, Registration
from web.cli._output import table, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only; the ingest pipeline loads with the services
    from ingest.service import IngestResult


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dossier", "number", default=None, help="File into this dossier.")
@click.option("--new-dossier", is_flag=True, help="Register a new dossier for this material.")
@click.option("--complainant", default=None, help="With --new-dossier: the complainant (default: unknown, to be completed).")
@click.option("--matter", default=None, help="With --new-dossier: the matter (default: names the files).")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), default=None)
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="File whose first line is the password for encrypted PDFs.")
@click.option("--kind", type=click.Choice([k.value for k in DocumentKind]), default=None,
              help="Override classification for every file.")
@click.option("--source", type=click.Choice([s.value for s in DocumentSource]), default="upload", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file on stdout.")
@pass_cli
@command_errors
def ingest(cli: CliContext, paths: tuple[Path, ...], number: str | None, new_dossier: bool, complainant: str | None,
           matter: str | None, channel: str | None, password_file: Path | None, kind: str | None, source: str,
           as_json: bool) -> None:
    """Ingest files and folders (recursively): detect, extract or OCR, classify, encrypt, file.

    Every file gets an outcome (ok, ok_with_warnings, encrypted, corrupt, unsupported, too_large,
    duplicate) and its original is kept. Re-running on the same folder files nothing twice.
    """
    if bool(number) == new_dossier:
        raise InvalidRegistrationError("--dossier", "give either --dossier NUMBER or --new-dossier")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise InvalidRegistrationError("path", f"{missing[0]}: no such file or directory")
    password = None
    if password_file is not None:
        password = (password_file.read_text(encoding="utf-8").splitlines() or [""])[0]
    services = cli.services
    if new_dossier:
        names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        number = services.gate.register(cli.identity, Registration(
            matter=matter or f"未登记材料 / material to register: {names}",
            complainant=complainant or "未知 (to be completed)",
            received_at=cli.services.clock(), channel=Channel(channel) if channel else Channel.OTHER,
        ), context=cli.context, details=cli.auth).archive_number
        click.echo(f"new dossier {number}", err=True)
    else:
        assert number is not None
        # One entry for the batch: the caller may file into this dossier (its state and department).
        services.gate.authorize_filing(cli.identity, number, context=cli.context,
                                       details={**cli.auth, "files": str(len(paths))})
    stderr_tty = sys.stderr.isatty()
    done = [0]

    def progress(result: IngestResult) -> None:
        done[0] += 1
        if as_json:
            click.echo(json.dumps(_flat(result), ensure_ascii=False))
            for child in _children(result):
                click.echo(json.dumps(_flat(child), ensure_ascii=False))
        if stderr_tty:
            click.echo(f"\r[{done[0]}] {result.outcome.value:17} {result.path[-60:]}", err=True, nl=False)

    results = services.ingest.ingest_paths(
        cli.actor, list(paths), dossier=number, password=password, kind=DocumentKind(kind) if kind else None,
        channel=Channel(channel) if channel else None, source=DocumentSource(source), progress=progress)
    if stderr_tty:
        click.echo("", err=True)
    everything = [r for top in results for r in (top, *_children(top))]
    if not as_json:
        click.echo(table([[r.item_number or "", r.outcome.value, r.kind.value if r.kind else "", str(r.pages or ""),
                           str(r.chars), r.path, r.message or ""] for r in everything],
                         ["item", "outcome", "kind", "pages", "chars", "file", "message"]))
    counts: dict[str, int] = {}
    for r in everything:
        counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
    click.echo(f"{len(everything)} files into {number}: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), err=True)


def _children(result: IngestResult) -> list[IngestResult]:
    out: list[IngestResult] = []
    for c in result.children:
        out.append(c)
        out.extend(_children(c))
    return out


def _flat(r: IngestResult) -> dict[str, object]:
    return {
        "path": r.path, "sha256": r.sha256, "outcome": r.outcome.value, "message": r.message,
        "kind": r.kind.value if r.kind else None, "media_type": r.media_type, "pages": r.pages, "chars": r.chars,
        "item_number": r.item_number, "parent_item": r.parent_item, "languages": list(r.languages),
        "warnings": list(r.warnings),   # every file, [] when nothing was noted (duplicates: always [])
    }


@main.command()
@click.argument("item")
@click.option("--json", "as_json", is_flag=True, help="Text with the document's metadata as JSON.")
@pass_cli
@command_errors
def text(cli: CliContext, item: str, as_json: bool) -> None:
    """Print the extracted (or OCR'd) text of document ITEM."""
    info, body, metadata = cli.services.gate.text(cli.identity, item, context=cli.context, details=cli.auth)
    if as_json:
        click.echo(json.dumps({"document": to_jsonable(info), "text": body, "metadata": metadata}, ensure_ascii=False, indent=2))
    else:
        click.echo(body)
