"""`dossier intake list|retry`: look after uploads accepted but not yet filed (issue #17).

Scripting interface (kept stable): ``dossier intake list [--state S] [--json]`` prints the jobs
(``--json``: one JSON array); ``dossier intake retry JOB`` or ``--all-failed`` re-queues failed
jobs, whose staging copies are kept until they are filed. Both are MANAGE_INTAKE (archivists,
administrators; the console as ``console:<user>``) and leave one access-log entry per call.
A job that is not failed is refused with exit code 5.

(`web/cli/intake.py` holds `dossier ingest` and `dossier text`; this module is the queue's.)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from web.cli._lazy import LazyChoice
from web.cli._output import table, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # the intake queue (sqlalchemy, the ingest pipeline) loads when a command runs
    from ingest.jobs import IntakeJob

_FIELDS = ("job_id", "archive_number", "filename", "size", "state", "attempts", "message", "created_at",
           "finished_at", "item_number", "outcome", "available_at")


@main.group()
def intake() -> None:
    """The intake queue: uploads accepted and waiting, failed, or filed (`dossier worker` files them)."""


@intake.command("list")
@click.option("--state", "states", multiple=True, type=LazyChoice("ingest.jobs", "STATE_NAMES"),
              help="Only jobs in this state (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of jobs on stdout.")
@pass_cli
@command_errors
def list_jobs(cli: CliContext, states: tuple[str, ...], as_json: bool) -> None:
    """List intake jobs, newest first (at most 1000)."""
    from ingest.jobs import JobState

    jobs = cli.services.intake_desk.jobs(cli.identity, states=[JobState(s) for s in states], context=cli.context,
                                         details=cli.auth)
    if as_json:
        click.echo(json.dumps([_flat(j) for j in jobs], ensure_ascii=False, indent=2))
        return
    click.echo(table([[j.job_id, j.state.value, str(j.attempts), j.archive_number, j.filename, j.item_number or "",
                       j.message or ""] for j in jobs],
                     ["job", "state", "attempts", "dossier", "file", "item", "message"]))
    click.echo(f"{len(jobs)} job(s)", err=True)


@intake.command()
@click.argument("job", required=False)
@click.option("--all-failed", is_flag=True, help="Re-queue every failed job instead of one.")
@click.option("--json", "as_json", is_flag=True, help="The re-queued jobs as one JSON array.")
@pass_cli
@command_errors
def retry(cli: CliContext, job: str | None, all_failed: bool, as_json: bool) -> None:
    """Re-queue failed job JOB (or --all-failed): attempts start again and a worker files it.

    Only a failed job can be retried; its upload was kept when it failed.
    """
    if bool(job) == all_failed:
        raise click.UsageError("give either JOB or --all-failed")
    desk = cli.services.intake_desk
    if job:
        jobs = [desk.retry(cli.identity, job, context=cli.context, details=cli.auth)]
    else:
        jobs = desk.retry_failed(cli.identity, context=cli.context, details=cli.auth)
    if as_json:
        click.echo(json.dumps([_flat(j) for j in jobs], ensure_ascii=False, indent=2))
    else:
        for j in jobs:
            click.echo(f"{j.job_id}\tqueued\t{j.archive_number}\t{j.filename}")
    click.echo(f"{len(jobs)} job(s) re-queued", err=True)


def _flat(job: IntakeJob) -> dict[str, Any]:
    data = to_jsonable(job)
    return {k: data[k] for k in _FIELDS}
