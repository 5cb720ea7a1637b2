"""The inventory as a background job, for the browser (清查盘点, ARC-6; issue #10 item 5).

``dossier inventory`` runs in the caller's console and shows a progress bar; a page cannot wait
minutes for an answer. :class:`InventoryDesk` starts :meth:`InventoryService.run` in a thread of
this process, one at a time, keeps its progress (objects done of objects catalogued) for the page
to poll, and lists the runs kept under ``<data_dir>/reports/inventory`` with their reports.

Access is the inventory's own rule (RUN_INVENTORY: archivists and auditors). Starting is decided
and logged once: the run itself logs it, as from the console; a refused start is logged by the
same ``enforce`` before any thread exists, so the caller hears of it at once. Listing the runs and
downloading a report are decided and logged once each. The progress poll (every second or two
while a run is under way) is only asked of the policy, not logged: it shows counts, never dossier
data, and logging every poll would bury the log entries that matter.

A run cut short (the process stopped) is continued by the next start: the inventory resumes its
newest unfinished run from the last checkpoint.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from records.access.identity import Action, Identity, RequestContext
from records.access.policy import decide
from records.access.service import AccessService
from records.clock import system_clock
from records.errors import NotAllowedInStateError, NotFoundError
from retention.errors import RetentionError
from retention.inventory import PROGRESS_FILE, InventoryReport, InventoryService, Progress

__all__ = ["InventoryBusyError", "InventoryDesk", "InventoryJob", "InventoryRun", "ReportNotFoundError", "REPORT_FORMATS"]

log = logging.getLogger(__name__)
_NO_CONTEXT = RequestContext()

REPORT_FORMATS = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


class InventoryBusyError(RetentionError, NotAllowedInStateError):
    """An inventory is already running in this process; a second one would only compete with it."""

    code = "inventory_running"

    def __init__(self, started_by: str) -> None:
        super().__init__(f"an inventory started by {started_by} is still running; wait for it to finish")
        self.started_by = started_by


class ReportNotFoundError(RetentionError, NotFoundError):
    """No such inventory run, or it has no report in that format (yet)."""

    code = "report_not_found"

    def __init__(self, run_id: str, fmt: str) -> None:
        super().__init__(f"inventory {run_id} has no {fmt} report")
        self.run_id = run_id
        self.fmt = fmt


@dataclass(frozen=True, slots=True)
class InventoryJob:
    """The run this process started last, as the page shows it. ``state``: running, finished, failed."""

    state: str
    started_by: str
    started_at: datetime
    done: int = 0
    total: int = 0
    run_id: str | None = None
    findings: int | None = None
    finished_at: datetime | None = None
    problem: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "running": self.running, "started_by": self.started_by,
                "started_at": self.started_at.isoformat(), "done": self.done, "total": self.total,
                "run_id": self.run_id, "findings": self.findings,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class InventoryRun:
    """One run kept in the archive: who, when, whether it completed, its findings and report files."""

    run_id: str
    actor: str | None
    started_at: str | None
    finished_at: str | None
    complete: bool
    findings: int | None
    objects_checked: int | None
    formats: tuple[str, ...] = field(default=())


class InventoryDesk:
    """Start the inventory in the background, watch it, and read its reports (ARC-6).

    Args:
        inventory: builds the inventory service on first use (``Services.inventory``: it loads the
            report renderers).
        access: decides and logs every door below.
        reports_dir: where runs live (``Services.inventory_dir``).
        clock: the archive's now.
    """

    def __init__(self, inventory: Callable[[], InventoryService], access: AccessService, *, reports_dir: Path,
                 clock: Callable[[], datetime] = system_clock) -> None:
        self._inventory = inventory
        self._access = access
        self._reports_dir = Path(reports_dir)
        self._clock = clock
        self._lock = threading.Lock()
        self._job: InventoryJob | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the background run
    def start(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
              details: Mapping[str, str] | None = None, progress: Progress | None = None) -> InventoryJob:
        """Start an inventory in a thread of this process (continuing an unfinished run).

        ``progress`` is also told of each checkpoint (done, total), after the job's own counters.

        Raises:
            AccessDeniedError: the policy refuses ``who`` the inventory (logged once).
            InventoryBusyError: one is running already (nothing logged: nothing was started).
        """
        if not decide(who, Action.RUN_INVENTORY, None, now=self._clock()).allowed:
            # The same call the run makes: it logs the refusal (one entry) and raises.
            self._access.enforce(who, Action.RUN_INVENTORY, None, context=context, details=details)
        with self._lock:
            if self._job is not None and self._job.running:
                raise InventoryBusyError(self._job.started_by)
            job = InventoryJob("running", who.name, self._clock())
            self._job = job
            thread = threading.Thread(target=self._run, args=(who, context, dict(details or {}), progress),
                                      name="inventory", daemon=True)
            self._thread = thread
        thread.start()
        return job

    def _run(self, who: Identity, context: RequestContext, details: dict[str, str], extra: Progress | None) -> None:
        def progress(done: int, total: int) -> None:
            self._update(done=done, total=total)
            if extra is not None:
                extra(done, total)

        try:
            report: InventoryReport = self._inventory().run(who, resume=True, progress=progress, context=context,
                                                            details={**details, "via": "background"})
        except Exception as exc:  # the page shows that it failed; the log keeps the traceback
            log.exception("inventory started by %s failed", who.name)
            self._update(state="failed", finished_at=self._clock(), problem=str(exc) or type(exc).__name__)
            return
        self._update(state="finished", run_id=report.run_id, findings=len(report.findings),
                     done=report.objects_checked, total=max(report.objects_checked, self._job_total()),
                     finished_at=self._clock())

    def _job_total(self) -> int:
        with self._lock:
            return self._job.total if self._job else 0

    def _update(self, **changes: Any) -> None:
        with self._lock:
            if self._job is not None:
                self._job = replace(self._job, **changes)

    def wait(self, timeout: float | None = None) -> InventoryJob | None:
        """Wait for the background run to end (for the console and tests); the job as it stands then."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._job

    def status(self, who: Identity, *, context: RequestContext = _NO_CONTEXT) -> InventoryJob | None:
        """The run this process started last, or None. Asked of the policy, not logged (see the module).

        Raises:
            AccessDeniedError: the policy refuses ``who`` the inventory (logged once).
        """
        if not decide(who, Action.RUN_INVENTORY, None, now=self._clock()).allowed:
            self._access.enforce(who, Action.RUN_INVENTORY, None, context=context, details={"view": "status"})
        with self._lock:
            return self._job

    # ------------------------------------------------------------------ runs and reports
    def runs(self, who: Identity, *, limit: int = 20, context: RequestContext = _NO_CONTEXT,
             details: Mapping[str, str] | None = None) -> list[InventoryRun]:
        """The runs kept in the archive, newest first (RUN_INVENTORY, logged once)."""
        self._access.enforce(who, Action.RUN_INVENTORY, None, context=context,
                             details={**(details or {}), "view": "runs"})
        return [self._describe(p) for p in reversed(self._run_dirs())][:limit]

    def report_file(self, who: Identity, run_id: str, fmt: str, *, context: RequestContext = _NO_CONTEXT,
                    details: Mapping[str, str] | None = None) -> Path:
        """The report of run ``run_id`` in ``fmt`` (html, csv, pdf) (RUN_INVENTORY, logged once).

        Raises:
            ReportNotFoundError: no such run or format (after the decision is logged).
        """
        self._access.enforce(who, Action.RUN_INVENTORY, None, context=context,
                             details={**(details or {}), "view": "report", "run": run_id[:64], "format": fmt[:8]})
        runs = {p.name: p for p in self._run_dirs()}  # only names the archive made: no path from the caller
        path = runs[run_id] / f"inventory-{run_id}.{fmt}" if run_id in runs and fmt in REPORT_FORMATS else None
        if path is None or not path.is_file():
            raise ReportNotFoundError(run_id, fmt)
        return path

    def _run_dirs(self) -> list[Path]:
        if not self._reports_dir.is_dir():
            return []
        return sorted(p for p in self._reports_dir.iterdir() if (p / PROGRESS_FILE).is_file())

    @staticmethod
    def _describe(run_dir: Path) -> InventoryRun:
        """What the run's progress file says of it (its first and last records)."""
        start: dict[str, Any] = {}
        summary: dict[str, Any] | None = None
        with open(run_dir / PROGRESS_FILE, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:  # a torn last line: the run was cut short there
                    break
                if rec.get("type") == "start":
                    start = rec
                elif rec.get("type") == "complete":
                    summary = rec.get("summary") or {}
        formats = tuple(fmt for fmt in REPORT_FORMATS if (run_dir / f"inventory-{run_dir.name}.{fmt}").is_file())
        return InventoryRun(
            run_id=run_dir.name, actor=start.get("actor"), started_at=start.get("started_at"),
            finished_at=summary.get("finished_at") if summary else None, complete=summary is not None,
            findings=summary.get("finding_count") if summary else None,
            objects_checked=summary.get("objects_checked") if summary else None, formats=formats)
