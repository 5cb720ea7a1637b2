"""Sealing completeness (ARC-1-05, ARC-2), pure: which required materials a dossier still lacks.

Each material is recognised by the document kinds filed for it and, where the lifecycle has a
step for it, by that step on the dossier's timeline: a decision needs both a ``decision``
document and the ``decided`` step. Which materials are required is configured per SLA profile
(``retention.required_materials``); investigation, decision and reply are only asked of dossiers
that were accepted — a non-accepted complaint ends with its non-acceptance notice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from records.model import DocumentKind as K, DossierInfo, DossierState as S
from retention.errors import InvalidScheduleError

__all__ = ["MATERIALS", "Material", "materials_from_settings", "missing_materials", "required_for"]


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    kinds: frozenset[str]                  # any one of these document kinds counts
    steps: frozenset[str] = frozenset()    # and, if given, one of these timeline steps
    accepted_only: bool = False            # only asked of accepted dossiers


MATERIALS: Mapping[str, Material] = {m.name: m for m in (
    Material("registration", frozenset({K.COMPLAINT_LETTER, K.FAX, K.EMAIL, K.ORAL_COMPLAINT_RECORD})),
    Material("acceptance_decision", frozenset({K.ACCEPTANCE_NOTICE, K.NON_ACCEPTANCE_NOTICE}),
             frozenset({S.ACCEPTED, S.NOT_ACCEPTED})),
    Material("investigation", frozenset({K.INVESTIGATION_MINUTES, K.EVIDENCE}), accepted_only=True),
    Material("decision", frozenset({K.DECISION}), frozenset({S.DECIDED}), accepted_only=True),
    Material("reply", frozenset({K.REPLY_LETTER}), frozenset({S.REPLIED}), accepted_only=True),
)}


def materials_from_settings(required: Mapping[str, Sequence[str]],
                            kind_overrides: Mapping[str, Sequence[str]]) -> dict[str, tuple[Material, ...]]:
    """Profile → the materials it requires, with configured kind overrides applied.

    Raises:
        InvalidScheduleError: an unknown material or document kind is named.
    """
    known_kinds = {k.value for k in K}
    catalogue = dict(MATERIALS)
    for name, kinds in kind_overrides.items():
        if name not in catalogue:
            raise InvalidScheduleError("retention.material_kinds", f"unknown material {name!r}")
        bad = set(kinds) - known_kinds
        if bad or not kinds:
            raise InvalidScheduleError("retention.material_kinds", f"{name}: unknown or no document kinds {sorted(bad)}")
        m = catalogue[name]
        catalogue[name] = Material(m.name, frozenset(kinds), m.steps, m.accepted_only)
    out: dict[str, tuple[Material, ...]] = {}
    for profile, names in required.items():
        unknown = [n for n in names if n not in catalogue]
        if unknown:
            raise InvalidScheduleError("retention.required_materials", f"{profile}: unknown material(s) {unknown} "
                                       f"(known: {', '.join(MATERIALS)})")
        out[profile] = tuple(catalogue[n] for n in names)
    return out


def required_for(profiles: Mapping[str, tuple[Material, ...]], profile: str | None) -> tuple[Material, ...]:
    return profiles.get(profile or "*", profiles.get("*", ()))


def missing_materials(info: DossierInfo, required: Sequence[Material]) -> list[str]:
    """What keeps ``info`` from being sealed, one line per missing material (empty: complete)."""
    # A withdrawn document (junk, #11) is no material: it cannot make a dossier complete.
    kinds = {d.kind.value for d in info.documents if d.withdrawn_at is None}
    steps = set(info.state_dates)
    accepted = S.ACCEPTED in steps
    missing: list[str] = []
    for m in required:
        if m.accepted_only and not accepted:
            continue
        lacks = []
        if not kinds & m.kinds:
            lacks.append("a document of kind " + " or ".join(sorted(m.kinds)))
        if m.steps and not steps & m.steps:
            lacks.append("the timeline step " + " or ".join(sorted(m.steps)))
        if lacks:
            missing.append(f"{m.name} ({' and '.join(lacks)})")
    return missing
