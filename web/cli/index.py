"""`dossier index drain`: apply the search index's outbox now (or keep applying it, with --watch).

Every change the index must follow is an outbox row committed with the change itself (see
``records.outbox``, ``search.outbox``). Rows are applied right after their commit, by intake
workers, by `dossier serve` and when the archive is opened; this command is for operators (after
an index outage, from cron) and is what `serve` runs when it has no intake workers.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from web.cli._output import echo_json, to_jsonable
from web.cli.app import CliContext, command_errors, main, pass_cli

if TYPE_CHECKING:  # annotations only (both modules import sqlalchemy)
    from records.outbox import Backlog
    from search.outbox import DrainReport


def backlog_fields(backlog: Backlog, now: datetime) -> dict[str, Any]:
    """The backlog as `verify --json` (``index_backlog``) and `index drain --json` show it."""
    return {"count": backlog.count, "failing": backlog.failing,
            "oldest_at": backlog.oldest_at.isoformat() if backlog.oldest_at else None,
            "oldest_age_seconds": backlog.age_seconds(now), "last_error": backlog.last_error}


def backlog_line(backlog: Backlog, now: datetime) -> str:
    if not backlog.count:
        return "index backlog: none"
    age = backlog.age_seconds(now) or 0.0
    line = f"index backlog: {backlog.count} change(s), oldest {_age(age)} old"
    if backlog.failing:
        line += f", {backlog.failing} failing (last error: {backlog.last_error})"
    return line


@main.group("index")
def index() -> None:
    """The search index's outbox: catalogue changes the index has yet to follow."""


@index.command("drain")
@click.option("--limit", type=click.IntRange(1), default=None, help="Apply at most this many changes (default: all due).")
@click.option("--watch", is_flag=True, help="Keep draining until stopped (SIGTERM, Ctrl-C).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="With --watch: seconds between drains.")
@click.option("--parent-pid", type=int, default=None, hidden=True)  # under `dossier serve`: stop with it
@click.option("--json", "as_json", is_flag=True, help="What was applied and the backlog left, as JSON.")
@pass_cli
@command_errors
def drain(cli: CliContext, limit: int | None, watch: bool, poll: float, parent_pid: int | None, as_json: bool) -> None:
    """Apply the changes the search index has yet to follow (documents filed, dossiers changed,
    documents destroyed); exit 1 if some could not be applied (they are retried later)."""
    services = cli.services
    if not watch:
        report = services.outbox.drain(limit)
        _show(report, services.clock(), as_json)
        if not report.ok:
            raise SystemExit(1)
        return
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set() and (parent_pid is None or os.getppid() == parent_pid):
            try:
                report = services.outbox.drain(limit)
            except Exception as exc:  # noqa: BLE001 - the catalogue hiccuped: try again next round
                click.echo(f"index drain failed: {exc}", err=True)
            else:
                if report.applied or report.failed:
                    _show(report, services.clock(), as_json, one_line=True)
            stop.wait(poll)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _show(report: DrainReport, now: datetime, as_json: bool, *, one_line: bool = False) -> None:
    if as_json:
        data = {"ok": report.ok, "applied": report.applied, "held": report.held, "failed": report.failed,
                "errors": list(report.errors), "backlog": backlog_fields(report.backlog, now)}
        if one_line:  # --watch: one object per line
            click.echo(json.dumps(to_jsonable(data), ensure_ascii=False))
        else:
            echo_json(data)
        return
    held = f", {report.held} kept for a running rebuild" if report.held else ""
    click.echo(f"{report.applied} change(s) applied{held}, {report.failed} failed")
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    click.echo(backlog_line(report.backlog, now))


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
