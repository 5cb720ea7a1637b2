"""What every retention use case shares: the schedule and its facts, and who may act and the log.

Two small helpers, each built in ``web/bootstrap.py`` with only what it uses and handed to the
use cases that need it: :class:`ScheduleFacts` (the rules in effect, the facts a rule is applied
to, the archive's today) and :class:`RetentionDecisions` (who acts, what the policy says, the
access-log entries the policy matrix has no action for). The use cases themselves are
``retention.holds.HoldDesk``, ``retention.dispositions.DispositionDesk`` and
``retention.service.RetentionService``; none of them inherits from another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.access.errors import AccessDeniedError, UserNotFoundError
from records.access.identity import AccessEvent, Action, Identity, Outcome
from records.access.log import AccessLog
from records.access.policy import decide, fold_keyword
from records.access.service import AccessService
from records.clock import system_clock
from records.db import UnitOfWork
from records.settings import RetentionSettings
from records.tables import DocumentRow, DossierRow, TransitionRow
from retention.model import DossierFacts, RetentionRule
from retention.schedule import facts_from, load_rules

__all__ = ["RetentionDecisions", "ScheduleFacts"]


class ScheduleFacts:
    """The retention schedule in effect and the facts of dossiers it is applied to.

    Shared by plans, the due queue and disposition, so all three read the same rules file and
    count "important" and "today" the same way.

    Args:
        settings: which categories (and whether collective complaints) count as important material.
        rules_file: the schedule (TOML); the built-in seed schedule while it does not exist.
        tz: the archive's time zone: "today" is a date there.
    """

    def __init__(self, settings: RetentionSettings, rules_file: Path, *, tz: ZoneInfo,
                 clock: Callable[[], datetime] = system_clock) -> None:
        self._settings = settings
        #: Where the schedule is read from (absent: the seed schedule applies).
        self.rules_file = rules_file
        self._tz = tz
        self._clock = clock

    def rules(self) -> tuple[RetentionRule, ...]:
        """The schedule in effect, read afresh (an edited file counts at the next plan)."""
        text = self.rules_file.read_text(encoding="utf-8") if self.rules_file.is_file() else None
        return load_rules(text, source=str(self.rules_file))

    def today(self) -> date:
        """The archive's current date, in its time zone."""
        return self._clock().astimezone(self._tz).date()

    def dossier_facts(self, s: Session, numbers: Iterable[str] | None = None) -> dict[str, DossierFacts]:
        """Archive number → schedule facts of every dossier (or of ``numbers``): three queries, no content."""
        q = select(DossierRow.id, DossierRow.archive_number, DossierRow.state, DossierRow.category,
                   DossierRow.collective_count)
        if numbers is not None:
            q = q.where(DossierRow.archive_number.in_(list(numbers)))
        rows = s.execute(q).all()
        ids = [r.id for r in rows]
        kinds: dict[str, set[str]] = {}
        dates: dict[str, dict[str, date]] = {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for dossier_id, kind in s.execute(select(DocumentRow.dossier_id, DocumentRow.kind)
                                              .where(DocumentRow.dossier_id.in_(chunk))).all():
                kinds.setdefault(dossier_id, set()).add(kind)
            for dossier_id, state, on in s.execute(select(TransitionRow.dossier_id, TransitionRow.state, TransitionRow.on)
                                                   .where(TransitionRow.dossier_id.in_(chunk)).order_by(TransitionRow.id)).all():
                dates.setdefault(dossier_id, {}).setdefault(state, on)
        return {r.archive_number: facts_from(
            r.id, r.archive_number, r.state, dates.get(r.id, {}), category=r.category,
            collective=r.collective_count is not None, kinds=frozenset(kinds.get(r.id, ())),
            important_categories=self._settings.important_categories,
            collective_is_important=self._settings.collective_is_important) for r in rows}


class RetentionDecisions:
    """Who acts, what the policy says, and the access-log entries of retention's own steps.

    Holds, reviews, approvals and amendments have no action in the policy matrix's dossier
    checks; their entries are written here, in the same transaction as the work, refusals
    included, so every desk logs them the same way.

    Args:
        access: reads accounts as they stand now.
        access_log: where the entries go.
        fold: how names are compared when the policy looks at them (pass the index's normaliser).
    """

    def __init__(self, uow: UnitOfWork, access: AccessService, access_log: AccessLog, *,
                 clock: Callable[[], datetime] = system_clock,
                 fold: Callable[[str], str] = fold_keyword) -> None:
        self._uow = uow
        self._access = access
        self._log = access_log
        self._clock = clock
        self._fold = fold

    def person(self, name: str) -> Identity:
        """The named account as it stands now; an unknown name acts as nobody (refused by every check)."""
        try:
            return self._access.identity(name)
        except UserNotFoundError:
            return Identity(name=name, role=None, active=False)

    def decide(self, who: Identity, action: Action, ref: str | None, *, object_type: str) -> Identity:
        """Ask the policy (``records.access.policy``) whether ``who`` may do ``action`` on the archive.

        Decided on the account as it stands now (a disabled account or changed role counts at
        once). A refusal is committed to the access log and raised; an allowed act is logged by
        the caller, in the same transaction as the change it makes, with what it changed.

        Returns:
            The caller as re-read, to act and be logged as.
        Raises:
            AccessDeniedError: the policy refuses (logged).
        """
        fresh = who if who.console else self.person(who.name)
        decision = decide(fresh, action, None, now=self._clock(), fold=self._fold)
        if not decision.allowed:
            self.refuse(fresh, action.value, ref, decision.reason, object_type=object_type)
        return fresh

    def record(self, s: Session, who: Identity, action: str, ref: str | None, *, allowed: bool, reason: str,
               details: Mapping[str, str] | None = None, object_type: str = "dossier") -> None:
        """Append one entry to the access log in the caller's transaction ``s``."""
        self._log.append(s, AccessEvent(
            at=self._clock(), actor=who.name, actor_id=who.user_id, role=who.role_label, action=action,
            object_type=object_type, object_ref=ref, outcome=Outcome.ALLOWED if allowed else Outcome.REFUSED,
            reason=reason, details=dict(details or {})))

    def refuse(self, who: Identity, action: str, ref: str | None, reason: str, *, object_type: str = "dossier",
               error: Exception | None = None) -> NoReturn:
        """Commit a refusal to the access log, then raise (the error must not roll back its own record)."""
        with self._uow.write() as s:
            self.record(s, who, action, ref, allowed=False, reason=reason, object_type=object_type)
        raise error or AccessDeniedError(who.name, action, ref, reason)
