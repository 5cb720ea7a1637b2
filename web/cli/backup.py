"""`dossier backup DEST` and `dossier restore SRC`: the whole archive, online, and back (issue #12 item 4).

Scripting interface (kept stable): ``dossier backup DEST [--json]``; ``DOSSIER_DATA_DIR=<empty>
dossier restore SRC [--json]``. Exit 0 when done; a restore whose closing inventory or ``audit
verify`` finds problems exits 1 (as those commands do) after restoring. What is in a backup, what
is not (key material) and how a restore keeps destroyed dossiers destroyed: ``retention.backup``
and docs/backup.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from web.cli._output import echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli

# Findings after a restore: the same code `dossier inventory` and `dossier audit verify` use.
EXIT_FINDINGS = 1


@main.command()
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
@command_errors
def backup(cli: CliContext, dest: Path, as_json: bool) -> None:
    """Take a consistent backup of the running archive into DEST: the catalogue (SQLite online
    backup or pg_dump), the vault's objects, the checkpoint file and the schedule, then
    DEST/manifest.json. Key material is NOT included (docs/backup.md). Interrupted, run it again."""
    from retention.backup import take_backup

    svc = cli.services
    report = take_backup(cli.settings, svc.vault.store, dest, access=svc.access, who=cli.identity, clock=svc.clock,
                         context=cli.context, details=cli.auth)
    if as_json:
        echo_json(report.as_dict())
        return
    for key in report.objects_missing:
        click.echo(f"warning: object {key} is catalogued but not in the store (see `dossier inventory`)", err=True)
    click.echo(f"backup {report.dest}: {report.catalogue} catalogue at revision {report.schema_revision}, "
               f"{report.objects} objects ({report.objects_copied} copied now), {report.files} files, "
               f"{report.bytes} bytes")
    click.echo("key material is not in it: back it up by its own path (docs/backup.md)")


@main.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
@command_errors
def restore(cli: CliContext, src: Path, as_json: bool) -> None:
    """Restore backup SRC into the (empty) data directory, replay the destruction ledger so that
    no destroyed dossier comes back, rebuild the search index, then run the inventory and
    `audit verify`. Interrupted, run it again: it goes on from the last finished step."""
    from zoneinfo import ZoneInfo

    from records.clock import system_clock
    from retention.backup import Restore

    job = Restore(cli.settings, src, clock=system_clock)  # the CLI's archive clock (build_services uses it too)
    job.prepare()
    cli.restoring = True  # the archive may be opened half-restored by this command only
    svc = cli.services  # the archive opens only now: its catalogue, keys and objects are in place
    report = job.finish(who=cli.identity, context=cli.context, records=svc.records, vault=svc.vault,
                        search=svc.search, gate=svc.gate, access=svc.access, uow=svc.uow,
                        inventory=svc.inventory, tz=ZoneInfo(cli.settings.timezone), details=cli.auth,
                        scrubbers=svc.retention.disposition_desk.tools.scrubbers)
    if as_json:
        echo_json(report.as_dict())
    else:
        _print(report.as_dict())
    if not report.ok:
        raise SystemExit(EXIT_FINDINGS)


def _print(r: dict[str, Any]) -> None:
    click.echo(f"restored {r['source']} (backup of {r['backup_created_at']}, {r['catalogue']} catalogue, "
               f"schema {r['schema_from']} -> {r['schema_to']})")
    for name, how in sorted(r["key_material"].items()):
        click.echo(f"  key material {name}: {how}")
    click.echo(f"  objects: {r['objects_copied']} copied, {r['objects_skipped']} already there")
    click.echo(f"  destroyed again (destruction ledger): {', '.join(r['replayed']) or 'none'}")
    click.echo(f"  search index rebuilt: {r['indexed']} documents")
    for note in r["notes"]:
        click.echo(f"  note: {note}")
    inv, audit = r["inventory"], r["audit"]
    click.echo(f"inventory: {'clean' if inv.get('ok') else 'FINDINGS'} ({len(inv.get('findings', []))} findings)")
    for f in inv.get("findings", []):
        click.echo(f"  {f}")
    click.echo(f"audit verify: {'ok' if audit.get('ok') else 'BROKEN'} ({audit.get('checked')} entries, "
               f"{audit.get('checkpoints')} signed checkpoints)" + ("" if audit.get("ok") else f": {audit.get('reason')}"))
