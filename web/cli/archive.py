"""`dossier init`, `dossier config show`, `dossier keys rotate`/`create`, `dossier verify`."""

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
    """Print the settings in effect as JSON, every credential masked: secret fields and any password,
    token or key inside a URL (the catalogue's, the search server's, the S3 endpoint, OpenBao)."""
    from records.redact import masked_setting

    shown = masked_setting(json.loads(cli.settings.model_dump_json()))  # SecretStr fields are "**********" already
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))


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

    report = cli.services.gate.rotate_master_key(cli.identity, context=cli.context, details=cli.auth)
    rewrap_search_key(cli.settings, cli.services.vault)
    if as_json:
        echo_json(report)
    else:
        click.echo(f"new master key {report.new_key_id}: {report.rewrapped} data keys re-wrapped, "
                   f"{report.moved_under_dossier_keys} moved under their dossier's key, "
                   f"{report.dossier_keys_rewrapped} dossier keys and {report.staging_keys_rewrapped} staging keys re-wrapped")


@keys.command("create")
@pass_cli
@command_errors
def keys_create(cli: CliContext) -> None:
    """Create the master key keys.* names (key file, OpenBao transit engine and key, KMS key and alias)
    for a new archive, and pin the archive to it. Refused for an archive that has its key already:
    nothing else ever creates a key in a key service the archive has used."""
    from web.bootstrap import create_archive_key

    for what, where in create_archive_key(cli.settings).items():
        click.echo(f"{what:10} {where}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
@command_errors
def verify(cli: CliContext, as_json: bool) -> None:
    """Decrypt every stored object and check it against its recorded SHA-256, and compare the search
    index with the catalogue; exit 1 on any failure. Also reports the index's backlog: catalogue
    changes still waiting in the outbox (`dossier index drain` applies them).

    The vault check needs no search server: with the index unreachable it still runs in full,
    the index is reported unreachable, and the exit code is 13 (search unavailable) — unless the
    vault check found problems, which exit 1 as always."""
    from records.health import public_error
    from search.errors import SearchUnavailableError

    with Progress("verifying") as progress:
        report = cli.services.gate.verify_vault(cli.identity, context=cli.context, details=cli.auth,
                                                progress=progress)
    try:
        index = cli.services.search.check(cli.services.records.live_document_ids(cli.actor))
        unreachable = None
    except SearchUnavailableError as exc:
        index, unreachable = None, public_error(exc)
    backlog, now = cli.services.outbox.backlog(), cli.services.clock()
    if as_json:
        echo_json({"ok": report.ok and index is not None and index.ok, "checked": report.checked,
                   "problems": report.problems,
                   "index": ({"indexed": index.indexed, "missing": index.missing, "extra": index.extra}
                             if index is not None else {"state": "unavailable", "error": unreachable}),
                   "index_backlog": backlog_fields(backlog, now)})
    else:
        for p in report.problems:
            click.echo(f"FAIL {p.item_number} [{p.object_kind}]: {p.problem}")
        for doc in index.missing if index is not None else ():
            click.echo(f"INDEX missing document {doc} (run `dossier reindex`)")
        for doc in index.extra if index is not None else ():
            click.echo(f"INDEX extra entry {doc} not in the catalogue (run `dossier reindex`)")
        index_line = (f"index holds {index.indexed}, {len(index.missing)} missing, {len(index.extra)} extra"
                      if index is not None else f"index unreachable, not compared ({unreachable})")
        click.echo(f"{report.checked} objects checked, {len(report.problems)} problems; {index_line}")
        click.echo(backlog_line(backlog, now) + (" (run `dossier index drain`)" if backlog.count else ""))
    if not report.ok or (index is not None and not index.ok):
        raise SystemExit(1)
    if index is None:
        from web.cli._errors import exit_code_for

        raise SystemExit(exit_code_for(SearchUnavailableError))  # 13: the vault is fine, the index unchecked
