"""`dossier init`, `dossier config show`, `dossier keys rotate`, `dossier verify`."""

from __future__ import annotations

import json

import click

from web.cli._output import Progress, echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli
from web.cli.index import backlog_fields, backlog_line


@main.command()
@pass_cli
@command_errors
def init(cli: CliContext) -> None:
    """Create the archive (data directory, master key file, catalogue), or upgrade its schema."""
    from web.bootstrap import init_archive  # the services' modules load when a command runs, not for --help

    for what, where in init_archive(cli.settings).items():
        click.echo(f"{what:10} {where}")
    click.echo("archive ready — next: dossier new --complainant NAME --matter TEXT")


@main.group()
def config() -> None:
    """Inspect the settings in effect."""


@config.command("show")
@pass_cli
@command_errors
def config_show(cli: CliContext) -> None:
    """Print the settings in effect (secrets masked) as JSON."""
    click.echo(json.dumps(json.loads(cli.settings.model_dump_json()), indent=2, ensure_ascii=False))


@main.group()
def keys() -> None:
    """Master key management."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
@command_errors
def keys_rotate(cli: CliContext, as_json: bool) -> None:
    """Make a new master key current and re-wrap every data key under it (blobs are not touched)."""
    from web.bootstrap import rewrap_search_key

    report = cli.services.records.rotate_master_key(cli.actor)
    rewrap_search_key(cli.settings, cli.services.vault)
    if as_json:
        echo_json(report)
    else:
        click.echo(f"new master key {report.new_key_id}: {report.rewrapped} data keys re-wrapped")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
@command_errors
def verify(cli: CliContext, as_json: bool) -> None:
    """Decrypt every stored object and check it against its recorded SHA-256, and compare the search
    index with the catalogue; exit 1 on any failure. Also reports the index's backlog: catalogue
    changes still waiting in the outbox (`dossier index drain` applies them)."""
    with Progress("verifying") as progress:
        report = cli.services.records.verify_vault(cli.actor, progress=progress)
    index = cli.services.search.check(cli.services.records.live_document_ids(cli.actor))
    backlog, now = cli.services.outbox.backlog(), cli.services.clock()
    if as_json:
        echo_json({"ok": report.ok and index.ok, "checked": report.checked, "problems": report.problems,
                   "index": {"indexed": index.indexed, "missing": index.missing, "extra": index.extra},
                   "index_backlog": backlog_fields(backlog, now)})
    else:
        for p in report.problems:
            click.echo(f"FAIL {p.item_number} [{p.object_kind}]: {p.problem}")
        for doc in index.missing:
            click.echo(f"INDEX missing document {doc} (run `dossier reindex`)")
        for doc in index.extra:
            click.echo(f"INDEX extra entry {doc} not in the catalogue (run `dossier reindex`)")
        click.echo(f"{report.checked} objects checked, {len(report.problems)} problems; "
                   f"index holds {index.indexed}, {len(index.missing)} missing, {len(index.extra)} extra")
        click.echo(backlog_line(backlog, now) + (" (run `dossier index drain`)" if backlog.count else ""))
    if not (report.ok and index.ok):
        raise SystemExit(1)
