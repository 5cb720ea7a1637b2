"""Disposition (RET): an archivist reviews what is due, a different person — a manager — approves,
then the batch is destroyed or transferred by ``retention.disposal`` and proven by a certificate.

States: reviewed → approved → executing → done. ``run`` marks a batch executing before it calls
the executor and done (with the certificate) after, so a crash leaves it executing and the next
``run`` completes it (the executor is idempotent per disposition id). Holds and due dates are
re-checked at run time: a dossier held or re-planned since approval is taken out of the batch,
with the reason kept, and never disposed of under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.access.identity import Action, Identity, Role
from records.access.service import AccessService
from records.access.tables import dossier_target
from records.clock import Clock, system_clock
from records.db import UnitOfWork
from records.model import DossierState, FiledDocument
from records.service import RecordsService
from records.tables import DossierRow
from records.vault import Vault
from retention.base import RetentionDecisions, ScheduleFacts
from retention.errors import (
    DispositionNotFoundError, InvalidDispositionError, SameApproverError,
)
from retention.holds import HoldDesk
from retention.model import Approval, CertificateRef, Disposition, DispositionState
from retention.shredding import ShreddingSearch
from retention.ledger import DestructionLedger
from retention.tables import ApprovalRow, DispositionRow, PlanRow

__all__ = ["DisposalIndex", "DisposalTools", "DispositionDesk", "DueItem", "disposition_of"]

_OPEN = (DispositionState.REVIEWED, DispositionState.APPROVED, DispositionState.EXECUTING)


@dataclass(frozen=True, slots=True)
class DueItem:
    """One line of the due queue (``dossier retention due --json``)."""

    archive_number: str
    rule: str
    trigger: str
    trigger_date: date | None
    disposal_date: date
    held: bool
    disposition_state: str | None
    action: str


class DisposalIndex(ShreddingSearch, Protocol):
    """The search index as a disposition uses it (``search.service.SearchService`` is one): entries
    removed per dossier, then one rebuild so no segment keeps the destroyed texts' terms."""

    def rebuild(self, documents: Iterable[FiledDocument]) -> int: ...


@dataclass(frozen=True, slots=True)
class DisposalTools:
    """What executing a disposition (``retention.disposal.execute_disposition``) works with.

    Handed to :class:`DispositionDesk` in ``web/bootstrap.py``, so ``run`` needs no bundle from
    its caller: the records core (reading for transfer, key destruction, tombstones), the vault
    (blobs deleted), the index (entries removed, then rebuilt) and access (the certificate is
    signed with the archive's key).
    """

    records: RecordsService
    vault: Vault
    search: DisposalIndex
    access: AccessService
    # The signed destruction ledger (issue #12): each destroyed dossier is written to it first,
    # so a restore of an older backup destroys it again. None: not recorded (tests of the steps only).
    ledger: DestructionLedger | None = None
    clock: Clock | None = None  # the archive clock, stamped on destroyed dossier keys
    # Called with each destroyed dossier's number once its keys are gone: by-products kept by
    # other packages (intake job rows) are blanked in the same destruction (issue #12 item 3).
    scrubbers: tuple[Callable[[str], object], ...] = ()


def disposition_of(row: DispositionRow, approvals: Sequence[ApprovalRow]) -> Disposition:
    cert = None
    if row.certificate_json and row.certificate_pdf and row.certificate_sha256:
        cert = CertificateRef(Path(row.certificate_json), Path(row.certificate_pdf), row.certificate_sha256)
    return Disposition(
        disposition_id=row.id, action=row.action, numbers=tuple(row.numbers), state=DispositionState(row.state),  # type: ignore[arg-type]
        approvals=tuple(Approval(a.actor, a.role, a.at, a.step) for a in approvals),  # type: ignore[arg-type]
        rules=dict(row.rules), created_at=row.created_at, certificate=cert, excluded=dict(row.excluded or {}),
    )


class DispositionDesk:
    """Review, approval and execution of dispositions, and the due queue they draw from; see the module docstring.

    Args:
        schedule: "today" for the due queue and the re-check at run time.
        decisions: the policy check and the access-log entries of review and approval.
        holds: what is held now; a held dossier is never proposed nor disposed of.
        access: decides and logs each dossier's DISPOSE at run time.
        tools: what the executor destroys, transfers and signs with.
        disposition_dir: where certificates and transfer packages go.
        tz: the archive's time zone (the dossiers' policy targets).
    """

    def __init__(self, uow: UnitOfWork, schedule: ScheduleFacts, decisions: RetentionDecisions, holds: HoldDesk,
                 access: AccessService, tools: DisposalTools, *, disposition_dir: Path, tz: ZoneInfo,
                 clock: Callable[[], datetime] = system_clock) -> None:
        self._uow = uow
        self._schedule = schedule
        self._decisions = decisions
        self._holds = holds
        self._access = access
        #: The executor's collaborators (``retention.disposal``), as wired in ``web/bootstrap.py``.
        self.tools = tools
        self._disposition_dir = disposition_dir
        self._tz = tz
        self._clock = clock

    # ------------------------------------------------------------------ the due queue
    def due(self, as_of: date | None = None, *, include_held: bool = False) -> list[DueItem]:
        """Sealed dossiers whose disposal date has come by ``as_of`` (default today), oldest first.

        Held dossiers are left out (``include_held`` lists them, marked held); permanent ones never appear.
        """
        day = as_of or self._schedule.today()
        with self._uow.read() as s:
            rows = s.execute(select(PlanRow).join(DossierRow, DossierRow.archive_number == PlanRow.archive_number).where(
                DossierRow.state == DossierState.SEALED, PlanRow.permanent.is_(False), PlanRow.disposal_date.is_not(None),
                PlanRow.disposal_date <= day).order_by(PlanRow.disposal_date, PlanRow.archive_number)).scalars().all()
            return self._due_items(s, rows, include_held)

    def _due_items(self, s: Session, rows: Iterable[PlanRow], include_held: bool) -> list[DueItem]:
        rows = list(rows)
        held = self._holds.holding(s, [r.archive_number for r in rows])
        open_ = self.open_dispositions(s)
        out = []
        for r in rows:
            if r.archive_number in held and not include_held:
                continue
            state: DispositionState | None = open_.get(r.archive_number)
            assert r.disposal_date is not None
            out.append(DueItem(r.archive_number, r.rule_id, r.trigger, r.trigger_date, r.disposal_date,
                               r.archive_number in held, str(state) if state else None, r.action))
        return out

    # ------------------------------------------------------------------ review (archivist)
    def review(self, name: str, *, as_of: date | None = None, numbers: Sequence[str] | None = None,
               action: Literal["destroy", "transfer"] = "destroy") -> Disposition:
        """An archivist proposes the due dossiers (all, or ``numbers``) whose rule says ``action``.

        Raises:
            AccessDeniedError: ``name`` is not an enabled archivist account (logged).
            InvalidDispositionError: nothing due, or a named dossier is not due (or held, or in
                another open disposition).
        """
        who = self._decisions.decide(self._decisions.person(name), Action.DISPOSE_REVIEW, None, object_type="disposition")
        candidates = {d.archive_number: d for d in self.due(as_of)
                      if d.action == action and d.disposition_state is None}
        if numbers:
            unknown = sorted(set(numbers) - set(candidates))
            if unknown:
                raise InvalidDispositionError("(new)", f"not due for {action}, held or already in a disposition: "
                                              + ", ".join(unknown))
            candidates = {n: candidates[n] for n in numbers}
        if not candidates:
            raise InvalidDispositionError("(new)", f"nothing is due for {action}")
        now = self._clock()
        with self._uow.write() as s:
            # Lock the candidates' rows first: on PostgreSQL a concurrent review waits here and then
            # sees the other's disposition (READ COMMITTED); SQLite's BEGIN IMMEDIATE already serialises.
            s.execute(select(DossierRow.id).where(DossierRow.archive_number.in_(sorted(candidates))).with_for_update())
            taken = sorted(set(self.open_dispositions(s)) & set(candidates))  # a review that raced this one
            if taken:
                raise InvalidDispositionError("(new)", "already in another open disposition: " + ", ".join(taken))
            row = DispositionRow(id=uuid.uuid4().hex[:12], action=action, numbers=sorted(candidates),
                                 rules={n: d.rule for n, d in sorted(candidates.items())}, state=DispositionState.REVIEWED,
                                 created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            s.add(ApprovalRow(disposition_id=row.id, step="review", actor=who.name, role=Role.ARCHIVIST, at=now))
            self._decisions.record(s, who, "dispose_review", row.id, allowed=True,
                                   reason=f"reviewed {len(candidates)} dossier(s) for {action}",
                                   object_type="disposition", details={"numbers": ",".join(row.numbers)})
            return self._disposition(s, row.id)

    # ------------------------------------------------------------------ approval (manager)
    def approve(self, name: str, disposition_id: str) -> Disposition:
        """A manager — not the reviewer — approves a reviewed disposition.

        Raises:
            SameApproverError: ``name`` reviewed it (logged).
            AccessDeniedError: ``name`` is not an enabled manager account, or a dossier lies
                outside the manager's departments (logged).
            InvalidDispositionError: it is not awaiting approval.
        """
        who = self._decisions.person(name)
        with self._uow.read() as s:
            row = self._row(s, disposition_id)
            reviewers = [a.actor for a in s.scalars(select(ApprovalRow).where(
                ApprovalRow.disposition_id == row.id, ApprovalRow.step == "review"))]
            departments = set(s.scalars(select(DossierRow.department).where(DossierRow.archive_number.in_(row.numbers))))
            state = row.state
        if who.name in reviewers:  # checked first: the reason that always applies to the reviewer
            self._decisions.refuse(who, "dispose_approve", disposition_id,
                                   "the reviewer may not approve the same disposition",
                                   object_type="disposition", error=SameApproverError(who.name, disposition_id))
        who = self._decisions.decide(who, Action.DISPOSE_APPROVE, disposition_id, object_type="disposition")
        if who.departments is not None and not departments <= who.departments:
            outside = ", ".join(sorted(str(d) for d in departments - who.departments))
            self._decisions.refuse(who, "dispose_approve", disposition_id,
                                   f"dossiers of other departments ({outside})", object_type="disposition")
        if state != DispositionState.REVIEWED:
            raise InvalidDispositionError(disposition_id, f"is {state}; only a reviewed disposition can be approved")
        with self._uow.write() as s:
            row = self._row(s, disposition_id)
            row.state, row.updated_at = DispositionState.APPROVED, self._clock()
            s.add(ApprovalRow(disposition_id=row.id, step="approve", actor=who.name, role=Role.MANAGER, at=self._clock()))
            self._decisions.record(s, who, "dispose_approve", row.id, allowed=True,
                                   reason=f"approved {row.action} of {len(row.numbers)} dossier(s)",
                                   object_type="disposition")
            s.flush()
            return self._disposition(s, row.id)

    # ------------------------------------------------------------------ execution
    def run(self, who: Identity, *, disposition_id: str | None = None) -> list[Disposition]:
        """Execute one approved disposition, or every approved or interrupted (executing) one.

        The executor works with the :class:`DisposalTools` this desk was built with.

        Raises:
            InvalidDispositionError: the named disposition is not approved yet.
        """
        with self._uow.read() as s:
            if disposition_id is not None:
                ids = [self._row(s, disposition_id).id]
            else:
                ids = list(s.scalars(select(DispositionRow.id).where(DispositionRow.state.in_(
                    [DispositionState.APPROVED, DispositionState.EXECUTING])).order_by(DispositionRow.created_at)))
        # Imported here, not at the top: the executor brings the certificate and bag code
        # (bagit …), which every command that opens the archive (`dossier show` …) would load for
        # nothing (issue #9 item 7).
        from retention.disposal import execute_disposition

        done: list[Disposition] = []
        for did in ids:
            started = self._start(who, did)
            if started.state is DispositionState.EXECUTING:
                cert: CertificateRef = execute_disposition(
                    self.tools, disposition_id=did, numbers=list(started.numbers), action=started.action,
                    actor=who.name, approvals=list(started.approvals), rules=dict(started.rules),
                    out_dir=self._disposition_dir, clock=self._clock)
                started = self._finish(did, cert)
            done.append(started)
        return done

    def _start(self, who: Identity, disposition_id: str) -> Disposition:
        """Re-check holds and due dates, take out what no longer qualifies, mark it executing."""
        today = self._schedule.today()
        with self._uow.write() as s:
            row = self._row(s, disposition_id)
            if row.state == DispositionState.DONE:
                return self._disposition(s, row.id)
            if row.state == DispositionState.REVIEWED:
                raise InvalidDispositionError(row.id, "is awaiting a manager's approval")
            excluded = dict(row.excluded or {})
            for number, holds in self._holds.holding(s, row.numbers).items():
                excluded[number] = "legal hold " + ", ".join(h.hold_id for h in holds)
            if row.state == DispositionState.APPROVED:  # nothing is destroyed yet: re-check the plan as well
                plans = {p.archive_number: p for p in s.scalars(select(PlanRow).where(PlanRow.archive_number.in_(row.numbers)))}
                for number in row.numbers:
                    p = plans.get(number)
                    if p is None or p.permanent or p.disposal_date is None or p.disposal_date > today:
                        excluded.setdefault(number, f"no longer due on {today} (re-planned)")
            keep = [n for n in row.numbers if n not in excluded]
            dossiers = {d.archive_number: d for d in s.scalars(select(DossierRow).where(DossierRow.archive_number.in_(keep)))}
            refused = []
            for number in keep:
                d = dossiers[number]
                if d.state == DossierState.DISPOSED:  # finished before an interruption
                    continue
                decision = self._access.authorize(who, Action.DISPOSE, dossier_target(d, self._tz), session=s,
                                                  details={"disposition": row.id, "action": row.action})
                if not decision.allowed:
                    refused.append(f"{number}: {decision.reason}")
            if refused:
                row.updated_at = self._clock()  # commit the logged refusals; raise below
            else:
                row.numbers, row.excluded = keep, excluded or None
                row.state = DispositionState.EXECUTING if keep else DispositionState.DONE
                row.updated_at = self._clock()
            result = self._disposition(s, row.id)
        if refused:
            raise InvalidDispositionError(disposition_id, "refused: " + "; ".join(refused))
        return result

    def _finish(self, disposition_id: str, cert: CertificateRef) -> Disposition:
        with self._uow.write() as s:
            row = self._row(s, disposition_id)
            row.state, row.updated_at = DispositionState.DONE, self._clock()
            row.certificate_json, row.certificate_pdf, row.certificate_sha256 = str(cert.json_path), str(cert.pdf_path), cert.sha256
            s.flush()
            return self._disposition(s, row.id)

    # ------------------------------------------------------------------ queries
    def dispositions(self, *, state: DispositionState | None = None) -> list[Disposition]:
        with self._uow.read() as s:
            q = select(DispositionRow.id).order_by(DispositionRow.created_at, DispositionRow.id)
            if state is not None:
                q = q.where(DispositionRow.state == state)
            return [self._disposition(s, i) for i in s.scalars(q)]

    def disposition(self, disposition_id: str) -> Disposition:
        with self._uow.read() as s:
            return self._disposition(s, self._row(s, disposition_id).id)

    def open_dispositions(self, s: Session) -> dict[str, DispositionState]:
        """Archive number → state of the open disposition it is in, read in the caller's transaction ``s``."""
        out: dict[str, DispositionState] = {}
        for numbers, state in s.execute(select(DispositionRow.numbers, DispositionRow.state).where(
                DispositionRow.state.in_(list(_OPEN)))).all():
            out.update({n: DispositionState(state) for n in numbers})
        return out

    @staticmethod
    def _row(s: Session, disposition_id: str) -> DispositionRow:
        row = s.get(DispositionRow, disposition_id)
        if row is None:
            raise DispositionNotFoundError(disposition_id)
        return row

    def _disposition(self, s: Session, disposition_id: str) -> Disposition:
        row = self._row(s, disposition_id)
        approvals = list(s.scalars(select(ApprovalRow).where(ApprovalRow.disposition_id == row.id).order_by(ApprovalRow.id)))
        return disposition_of(row, approvals)
