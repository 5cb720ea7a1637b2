"""IntakeDesk: the operator's view of the intake queue — list stuck jobs, re-queue failed ones (issue #17).

Every door (`dossier intake list|retry`, the intake page) comes here, never to the queue's
operator methods directly: each call is decided by the policy (``MANAGE_INTAKE``: archivists,
administrators, the console) and leaves exactly one access-log entry, allowed or refused, before
anything is read or changed — the same order as the gate's changes. A refused caller learns
nothing about the queue, not even whether a job id exists.

The dashboard's counts (:meth:`may_manage`, :meth:`backlog`) are not logged: they name no job,
dossier or file, and a page that is logged for its listing would otherwise log twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from ingest.jobs import DEFAULT_STALE_SECONDS, IntakeBacklog, IntakeJob, IntakeQueue, JobState
from records.access.identity import Action, Decision, DossierTarget, Identity, RequestContext
from records.access.policy import decide
from records.clock import Clock

__all__ = ["Enforcer", "IntakeDesk"]

_NO_CONTEXT = RequestContext()


class Enforcer(Protocol):
    """Decides and logs one call (``records.access.service.AccessService.enforce``); raises after a logged refusal."""

    def enforce(self, identity: Identity, action: Action, target: DossierTarget | None, *,
                context: RequestContext = ..., grant_id: str | None = ..., object_ref: str | None = ...,
                details: Mapping[str, str] | None = ...) -> Decision: ...


class IntakeDesk:
    """Authorised, logged operator actions on the intake queue.

    Args:
        queue: the intake queue (its operator methods assume an authorised caller).
        access: decides MANAGE_INTAKE through the policy and writes the one log entry.
        clock: the archive's clock (the policy's "now" for :meth:`may_manage`).
    """

    def __init__(self, queue: IntakeQueue, access: Enforcer, *, clock: Clock) -> None:
        self._queue, self._access, self._clock = queue, access, clock

    def may_manage(self, who: Identity) -> bool:
        """Whether the policy lets ``who`` look after the queue (to offer the link; not logged)."""
        return decide(who, Action.MANAGE_INTAKE, None, now=self._clock()).allowed

    def backlog(self, who: Identity, *, stale_after: float = DEFAULT_STALE_SECONDS) -> IntakeBacklog | None:
        """Counts of failed and long-queued jobs for the dashboard; None for a caller who may not manage intake."""
        return self._queue.backlog(stale_after=stale_after) if self.may_manage(who) else None

    def jobs(self, who: Identity, *, states: Sequence[JobState] = (), stale_after: float | None = None,
             context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> list[IntakeJob]:
        """Jobs in ``states`` (all when no filter), plus with ``stale_after`` the long-queued ones; one entry.

        Raises:
            AccessDeniedError: ``who`` may not manage intake (logged).
        """
        shown = {"change": "list_intake", "states": ",".join(states) or "all"}
        if stale_after is not None:
            shown["stale_after"] = f"{stale_after:g}"
        self._access.enforce(who, Action.MANAGE_INTAKE, None, context=context, details={**(details or {}), **shown})
        return self._queue.list_jobs(states=states, stale_after=stale_after)

    def retry(self, who: Identity, job_id: str, *, context: RequestContext = _NO_CONTEXT,
              details: Mapping[str, str] | None = None) -> IntakeJob:
        """Re-queue failed job ``job_id`` (attempts reset, runnable now); one entry.

        Raises:
            AccessDeniedError: ``who`` may not manage intake (logged).
            IntakeJobNotFoundError: no such job.
            JobNotRetryableError: the job is not failed (or its copy was shredded before issue #17).
        """
        self._access.enforce(who, Action.MANAGE_INTAKE, None, context=context, object_ref=job_id[:64],
                             details={**(details or {}), "change": "retry_intake"})
        return self._queue.retry(who.name, job_id)

    def retry_failed(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                     details: Mapping[str, str] | None = None) -> list[IntakeJob]:
        """Re-queue every failed job that still holds its staging copy; one entry for the lot."""
        self._access.enforce(who, Action.MANAGE_INTAKE, None, context=context,
                             details={**(details or {}), "change": "retry_all_failed"})
        return self._queue.retry_failed(who.name)
