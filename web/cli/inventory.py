"""`dossier inventory`: the archive's stock-taking (清查盘点, ARC-6)."""

from __future__ import annotations

import click

from web.cli._lazy import LazyDefault
from web.cli._output import Progress, echo_json
from web.cli.app import CliContext, command_errors, main, pass_cli

# Findings exist: the same code `dossier verify` uses for "verification found problems".
EXIT_FINDINGS = 1


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--resume/--restart", default=True, show_default=True,
              help="Continue the last unfinished run, or start a new one from the first object.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=LazyDefault("retention.inventory", "DEFAULT_BATCH"), show_default=True,
              metavar="N", help="Objects checked between two durable checkpoints.")
@pass_cli
@command_errors
def inventory(cli: CliContext, as_json: bool, resume: bool, no_progress: bool, checkpoint_every: int) -> None:
    """Check every stored object (present, authentic, matching its SHA-256, indexed), find orphans
    in the store and gaps in the numbering, and write a dated report (HTML, CSV, PDF) under
    <data_dir>/reports/inventory/. Exit 1 when anything is found, listing each by number."""
    service = cli.services.inventory  # wired in web/bootstrap.py, built on first use
    if no_progress:
        report = service.run(cli.identity, resume=resume, batch=checkpoint_every, context=cli.context,
                             details=cli.auth)
    else:
        with Progress("inventory") as progress:
            report = service.run(cli.identity, resume=resume, batch=checkpoint_every, progress=progress,
                                     context=cli.context, details=cli.auth)
    if as_json:
        echo_json({"ok": report.ok, **report.summary(),
                   "reports": {fmt: str(path) for fmt, path in report.files.items()},
                   "findings": [f.as_dict() for f in report.findings]})
    else:
        for f in report.findings:
            what = f"{f.number or f.ref}" + (f" [{f.object_kind}]" if f.object_kind else "")
            click.echo(f"{f.kind.value.upper():14} {what}: {f.detail}" + (f" ({f.ref})" if f.number else ""))
        resumed = f", resumed from {report.resumed_from}" if report.resumed_from else ""
        click.echo(f"inventory {report.run_id}: {report.objects_checked} catalogued objects{resumed} "
                   f"({report.shredded_skipped} shredded, not read), {report.store_keys} blobs in the store, "
                   f"{len(report.findings)} findings")
        if "html" in report.files:
            click.echo(f"report: {report.files['html'].parent}")
    if not report.ok:
        raise SystemExit(EXIT_FINDINGS)
