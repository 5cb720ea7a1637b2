"""Sealing completeness (ARC-2): the check names each missing material."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from records.model import (
    DocumentInfo, DocumentKind, DocumentSource, DossierInfo, DossierState, Registration,
)
from retention.errors import InvalidScheduleError
from retention.sealing import materials_from_settings, missing_materials, required_for

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)
ALL = ["registration", "acceptance_decision", "investigation", "decision", "reply"]


def _doc(kind: DocumentKind) -> DocumentInfo:
    return DocumentInfo(document_id=kind.value, item_number="2611-001-01", version=1, kind=kind, filename="x",
                        media_type="application/pdf", size=1, sha256="0" * 64, received_at=NOW, channel=None,
                        source=DocumentSource.UPLOAD, parent_item=None, supersedes_item=None, filed_at=NOW, filed_by="t")


def _info(steps: list[DossierState], kinds: list[DocumentKind], profile: str = "legal-aid") -> DossierInfo:
    return DossierInfo(dossier_id="d", archive_number="2611-001", state=DossierState.CLOSED,
                       registration=Registration(matter="m", received_at=NOW, sla_profile=profile), registered_at=NOW,
                       registered_by="t", state_dates={str(s): date(2026, 11, 3) for s in steps},
                       documents=tuple(_doc(k) for k in kinds))


FULL_STEPS = [DossierState.REGISTERED, DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED]
FULL_KINDS = [DocumentKind.COMPLAINT_LETTER, DocumentKind.ACCEPTANCE_NOTICE, DocumentKind.INVESTIGATION_MINUTES,
              DocumentKind.DECISION, DocumentKind.REPLY_LETTER]
PROFILES = materials_from_settings({"*": ALL, "light": ["registration"]}, {})


def test_a_complete_dossier_lacks_nothing() -> None:
    assert missing_materials(_info(FULL_STEPS, FULL_KINDS), required_for(PROFILES, "legal-aid")) == []


def test_each_missing_material_is_named_with_what_would_satisfy_it() -> None:
    info = _info([DossierState.REGISTERED, DossierState.ACCEPTED, DossierState.DECIDED, DossierState.CLOSED],
                 [DocumentKind.COMPLAINT_LETTER, DocumentKind.DECISION])
    missing = missing_materials(info, required_for(PROFILES, None))
    assert [m.split(" ")[0] for m in missing] == ["acceptance_decision", "investigation", "reply"]
    assert "reply_letter" in missing[2] and "replied" in missing[2]


def test_a_non_accepted_complaint_needs_only_registration_and_the_notice() -> None:
    steps = [DossierState.REGISTERED, DossierState.NOT_ACCEPTED, DossierState.CLOSED]
    assert missing_materials(_info(steps, [DocumentKind.EMAIL, DocumentKind.NON_ACCEPTANCE_NOTICE]),
                             required_for(PROFILES, None)) == []
    assert missing_materials(_info(steps, [DocumentKind.EMAIL]), required_for(PROFILES, None))[0].startswith("acceptance_decision")


def test_requirements_are_configured_per_profile() -> None:
    info = _info([DossierState.REGISTERED, DossierState.ACCEPTED, DossierState.CLOSED], [DocumentKind.FAX])
    assert missing_materials(info, required_for(PROFILES, "light")) == []
    assert len(missing_materials(info, required_for(PROFILES, "legal-aid"))) == 4


def test_kind_overrides_change_what_counts() -> None:
    profiles = materials_from_settings({"*": ["investigation"]}, {"investigation": ["investigation_minutes"]})
    info = _info([DossierState.ACCEPTED], [DocumentKind.EVIDENCE])
    assert missing_materials(info, required_for(profiles, None)) == ["investigation (a document of kind investigation_minutes)"]


@pytest.mark.parametrize("required, kinds", [({"*": ["signature"]}, {}), ({"*": ALL}, {"reply": ["postcard"]})])
def test_unknown_materials_or_kinds_are_configuration_errors(required: dict[str, list[str]], kinds: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidScheduleError):
        materials_from_settings(required, kinds)
