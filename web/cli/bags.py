"""`dossier export-bag | import-bag | certificate verify`: BagIt packages and disposition certificates."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from web.cli._output import echo_json, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli


@main.command("export-bag")
@click.argument("numbers", nargs=-1, required=True)
@click.option("-o", "--output", "out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The package directory to create (must not exist).")
@click.option("--for", "recipient", default=None, metavar="USER",
              help="The account receiving the package; a regulator gets watermarked PDF copies only.")
@click.option("--purpose", default=None, help="Why the package is made (bag-info and the access log).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def export_bag_command(cli: CliContext, numbers: tuple[str, ...], out: Path, recipient: str | None,
                       purpose: str | None, as_json: bool) -> None:
    """Export dossiers NUMBER... as a BagIt package (ACS-12); every document is access-logged."""
    report = cli.services.bags.export(cli.identity, list(numbers), out, tz=ZoneInfo(cli.settings.timezone),
                                      recipient=recipient, purpose=purpose, context=cli.context)
    if as_json:
        echo_json({**to_jsonable(report), "path": str(report.path)})
    else:
        click.echo(f"{report.path}: {report.dossiers} dossier(s), {report.documents} document(s), "
                   f"Payload-Oxum {report.payload_oxum}")


@main.command("import-bag")
@click.argument("bag", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def import_bag_command(cli: CliContext, bag: Path, as_json: bool) -> None:
    """Validate the BagIt package BAG and file each dossier in it through the ingest pipeline.

    Each dossier keeps the source archive's number as its reference, and its timeline, extensions
    and state (a sealed dossier stays sealed); a package without a timeline is filed as a closed
    transfer. Importing the same package again changes nothing."""
    report = cli.services.bags.import_bag(cli.identity, bag, tz=ZoneInfo(cli.settings.timezone), context=cli.context,
                                          details=cli.auth)
    if as_json:
        echo_json({**to_jsonable(report), "path": str(report.path)})
        return
    for d in report.dossiers:
        how = "already imported, unchanged" if d.already else ("closed transfer" if d.closed_transfer else d.state)
        click.echo(f"{d.source_number} → {d.archive_number}  ({how})")
        for doc in d.documents:
            click.echo(f"  {doc.source_item} → {doc.item_number or '-'}  {doc.outcome}"
                       + (f"  ({doc.message})" if doc.message else ""))


@main.group()
def certificate() -> None:
    """Disposition certificates."""


@certificate.command("verify")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The archive's public signing key (PEM); default: this archive's own key.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
@command_errors
def verify_command(cli: CliContext, path: Path, public_key: Path | None, as_json: bool) -> None:
    """Check a disposition certificate (its JSON, or its PDF with the JSON beside it) against the archive's key."""
    from retention.certificate import CertificateInvalidError, load_public_key, verify_certificate

    if public_key is not None:
        key = load_public_key(public_key)
    else:
        own = cli.services.access.signing_public_key()
        if own is None:
            raise CertificateInvalidError(path, "this archive has no signing key; give --public-key")
        key = own
    cert = verify_certificate(path, key)
    totals = cert.get("totals", {})
    if as_json:
        echo_json({"ok": True, "disposition_id": cert.get("disposition_id"), "action": cert.get("action"),
                   "totals": totals, "key_id": cert["signature"].get("key_id")})
    else:
        click.echo(f"ok: disposition {cert.get('disposition_id')} ({cert.get('action')}), "
                   f"{totals.get('dossiers')} dossier(s), {totals.get('items')} item(s), "
                   f"signed by {cert['signature'].get('key_id')}")
