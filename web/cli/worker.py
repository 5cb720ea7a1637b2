"""`dossier worker`: file uploaded documents in the background (the intake-job queue).

`dossier serve` starts one next to gunicorn and restarts it if it dies; run more (on this or
other hosts sharing the catalogue and vault) to file faster. Workers claim jobs atomically, so
any number can run at once.
"""

from __future__ import annotations

import json
import os
import signal
from typing import TYPE_CHECKING, Any

import click

from web.cli._lazy import LazyDefault
from web.cli._output import to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # the intake queue (sqlalchemy, the ingest pipeline) loads when the worker runs
    from ingest.jobs import IntakeJob


@main.command()
@click.option("--once", is_flag=True, help="File what is runnable now, then exit (for cron or a batch).")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds between looks at the queue when idle.")
@click.option("--lease", default=LazyDefault("ingest.jobs", "DEFAULT_LEASE_SECONDS"), show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds a claim holds without renewal; a dead worker's job is retried after this.")
@click.option("--max-attempts", default=LazyDefault("ingest.jobs", "DEFAULT_MAX_ATTEMPTS"), show_default=True, type=click.IntRange(1, 100),
              help="Attempts per job before it is recorded as failed.")
@click.option("--parent-pid", type=int, default=None, hidden=True)  # under `dossier serve`: stop with it
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finished job on stdout.")
@pass_cli
@command_errors
def worker(cli: CliContext, once: bool, poll: float, lease: float, max_attempts: int, parent_pid: int | None,
           as_json: bool) -> None:
    """Run the intake queue: claim uploaded files, run the ingest pipeline (OCR…), record each outcome.

    Stops on SIGTERM or Ctrl-C after the file in hand (a file cut off by a kill is retried once
    its lease has run out, and never filed twice).
    """
    from ingest.jobs import IntakeWorker

    queue = cli.services.intake
    queue.lease_seconds, queue.max_attempts = lease, max_attempts
    # The loop also drains the search index's outbox (changes a dead process or a down index left).
    loop = IntakeWorker(queue, poll_seconds=poll, outbox=cli.services.outbox)

    def stop(_signum: int, _frame: Any) -> None:
        loop.stop.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def report(job: IntakeJob) -> None:
        if as_json:
            click.echo(json.dumps(to_jsonable(job), ensure_ascii=False))
        else:
            click.echo(f"{job.state}\t{job.item_number or '-'}\t{job.outcome or '-'}\t{job.archive_number}\t"
                       f"{job.filename}\t{job.message or ''}")

    try:
        done = loop.run(until_idle=once, on_job=report,
                        alive=(lambda: os.getppid() == parent_pid) if parent_pid else (lambda: True))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    click.echo(f"{done} job(s) processed", err=True)
