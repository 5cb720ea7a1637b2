"""Retention vocabulary (pure; stdlib only): rules, plans, holds, dispositions (RET, ARC-2).

A *rule* says which dossiers it covers and how long they are kept after a *trigger* event; a
*plan* is one dossier's rule applied (trigger date + period = disposal date, or permanent); a
*hold* stops disposal whatever the plan says; a *disposition* is one reviewed, approved batch of
destruction or transfer, executed by ``retention.disposal`` and proven by a certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal


class Trigger(StrEnum):
    """The event a retention period runs from (RET)."""

    CLOSURE = "closure"
    SEAL = "seal"
    DECISION = "decision"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """What a rule covers. Every given criterion must hold; ``None`` matches anything.

    ``important``: True matches only important dossiers (collective, or a category/flag the
    settings name important), False only ordinary ones. ``document_kinds`` matches a dossier that
    holds at least one document of any of the kinds.
    """

    categories: frozenset[str] | None = None
    important: bool | None = None
    outcomes: frozenset[str] | None = None        # final lifecycle outcome, e.g. "replied", "not_accepted"
    document_kinds: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """One schedule line (RET): first matching rule wins, in file order.

    ``years``/``months`` is the period; ``permanent`` means never disposed of.
    """

    rule_id: str
    trigger: Trigger
    years: int = 0
    months: int = 0
    permanent: bool = False
    match: RuleMatch = field(default_factory=RuleMatch)
    action: Literal["destroy", "transfer"] = "destroy"
    description: str = ""


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What rule matching and planning need to know about one dossier."""

    dossier_id: str
    archive_number: str
    state: str
    category: str | None
    important: bool
    outcome: str | None
    document_kinds: frozenset[str]
    closed_on: date | None
    sealed_on: date | None
    decided_on: date | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A dossier's planned disposal: its rule, trigger and date (``None``: permanent or not yet
    triggered — e.g. a closure rule on an open dossier)."""

    archive_number: str
    rule_id: str
    trigger: Trigger
    trigger_date: date | None
    disposal_date: date | None
    permanent: bool
    action: Literal["destroy", "transfer"] = "destroy"


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One recorded re-plan (RET): old and new rule and date, why, who, when."""

    archive_number: str
    old_rule: str | None
    new_rule: str
    old_date: date | None
    new_date: date | None
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HoldFilter:
    """A saved filter a hold covers: every given field must match (same fields as a regulator's
    grant filter, ACS-04). Evaluated at check time, so later dossiers that match are held too."""

    respondents: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    received_from: date | None = None
    received_until: date | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold on one dossier (``archive_number``) or on a saved filter."""

    hold_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    archive_number: str | None = None
    filter: HoldFilter | None = None
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class DispositionState(StrEnum):
    """reviewed (archivist) → approved (a different manager) → executing → done."""

    REVIEWED = "reviewed"
    APPROVED = "approved"
    EXECUTING = "executing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Approval:
    """One signature on a disposition: the archivist's review or the manager's approval."""

    actor: str
    role: str
    at: datetime
    step: Literal["review", "approve"]


@dataclass(frozen=True, slots=True)
class CertificateRef:
    """Where a disposition certificate was written and the SHA-256 of its JSON."""

    json_path: Path
    pdf_path: Path
    sha256: str


@dataclass(frozen=True, slots=True)
class Disposition:
    disposition_id: str
    action: Literal["destroy", "transfer"]
    numbers: tuple[str, ...]
    state: DispositionState
    approvals: tuple[Approval, ...]
    rules: dict[str, str]                  # archive number → rule id it was disposed under
    created_at: datetime
    certificate: CertificateRef | None = None
    excluded: dict[str, str] = field(default_factory=dict)   # taken out before execution → why


__all__ = [
    "Approval", "CertificateRef", "Disposition", "DispositionState", "DossierFacts", "Hold", "HoldFilter",
    "Plan", "PlanChange", "RetentionRule", "RuleMatch", "Trigger",
]
