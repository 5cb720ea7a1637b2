"""Sealing (ARC-1-05, ARC-2) and retention plans (RET) on a real catalogue."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

import pytest

from records.access.errors import AccessDeniedError
from records.errors import DossierClosedError, InvalidTransitionError, SealedDossierError
from records.model import DocumentKind, DossierState, Registration
from retention.errors import SealIncompleteError
from tests.integration.retention.retention_world import ARCHIVIST, HANDLER, ROOT, closed_dossier, people
from web.bootstrap import Services

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


def test_sealing_names_each_missing_material_and_seals_nothing(services: Services) -> None:
    number, _ = closed_dossier(services, "甲", skip=DocumentKind.REPLY_LETTER)
    with pytest.raises(SealIncompleteError) as err:
        services.retention.seal(ROOT, number)
    assert [m.split(" ")[0] for m in err.value.missing] == ["reply"]
    assert "reply_letter" in str(err.value)
    assert services.records.get_dossier("t", number).state is DossierState.CLOSED


def test_only_a_closed_dossier_is_sealed(services: Services) -> None:
    number = services.records.register_complaint("clerk", Registration(
        matter="m", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc), complainant="张三")).archive_number
    with pytest.raises(InvalidTransitionError):
        services.retention.seal(ROOT, number)


def test_a_sealed_dossier_is_read_only_except_an_archivists_recorded_amendment(services: Services) -> None:
    """ARC-1-05: filing is refused; an archivist adds with a reason that stays on the timeline; others are refused and logged."""
    people(services)
    number, _ = closed_dossier(services, "乙")
    info, plan = services.retention.seal(ROOT, number)
    assert info.state is DossierState.SEALED and plan.rule_id == "default-1y"
    with pytest.raises(SealedDossierError):
        services.records.file_document("clerk", number, b"late letter", kind=DocumentKind.OTHER, filename="x.txt")
    assert isinstance(SealedDossierError(number), DossierClosedError)
    handler = services.access.identity(HANDLER)
    with pytest.raises(AccessDeniedError):
        services.retention.amend(handler, number, b"late", kind=DocumentKind.OTHER, reason="补充", filename="h.txt")
    doc = services.retention.amend(services.access.identity(ARCHIVIST), number, b"court ruling copy",
                                   kind=DocumentKind.EVIDENCE, reason="法院判决书补充归档", filename="ruling.pdf")
    after = services.records.get_dossier("t", number)
    assert after.state is DossierState.SEALED and doc.item_number in [d.item_number for d in after.documents]
    assert "法院判决书补充归档" in (after.transitions[-1].note or "") and after.transitions[-1].actor == ARCHIVIST
    log = services.access.read_audit_log(ROOT)
    assert any(e.event.action == "amend_sealed" and e.event.outcome == "refused" and e.event.actor == HANDLER for e in log)


def test_every_dossier_shows_rule_and_date_and_important_material_is_kept_longer(services: Services) -> None:
    ordinary, _ = closed_dossier(services, "丙")
    collective, _ = closed_dossier(services, "丁", collective_count=12)
    open_one = services.records.register_complaint("clerk", Registration(
        matter="m", received_at=datetime(2026, 11, 2, tzinfo=timezone.utc), complainant="张三")).archive_number
    services.retention.seal(ROOT, ordinary)
    services.retention.seal(ROOT, collective)
    a, b = services.retention.show(ordinary), services.retention.show(collective)
    assert a.plan is not None and (a.plan.rule_id, a.plan.disposal_date) == ("default-1y", date(2027, 11, 3))
    assert b.plan is not None and (b.plan.rule_id, b.plan.disposal_date) == ("important-10y", date(2036, 11, 3))
    assert a.changes[0].reason == "sealed" and a.changes[0].old_rule is None
    pending = services.retention.show(open_one)
    assert pending.plan is None and pending.current.rule_id == "default-1y" and pending.current.disposal_date is None


def test_changing_a_rule_replans_affected_dossiers_and_records_why(services: Services, clock: FrozenClock) -> None:
    number, _ = closed_dossier(services, "戊", category="收费")
    other, _ = closed_dossier(services, "己")
    services.retention.seal(ROOT, number)
    services.retention.seal(ROOT, other)
    rules_file = services.retention.facts.rules_file  # the settings' default <data_dir>/retention.toml
    rules_file.write_text('[[rule]]\nid = "fees-5y"\ncategories = ["收费"]\ntrigger = "seal"\nyears = 5\n\n'
                          '[[rule]]\nid = "rest-2y"\nyears = 2\n', encoding="utf-8")
    view = services.retention.show(number)
    assert view.plan is not None and view.plan.rule_id == "default-1y" and view.current.rule_id == "fees-5y"
    clock.now = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
    changes = services.retention.plan("档案科", reason="2026年第12号文件修订保管期限")
    by_number = {c.archive_number: c for c in changes}
    assert (by_number[number].old_rule, by_number[number].new_rule) == ("default-1y", "fees-5y")
    assert (by_number[number].old_date, by_number[number].new_date) == (date(2027, 11, 3), date(2031, 11, 3))
    assert by_number[other].new_date == date(2028, 11, 3)
    assert services.retention.plan("档案科", reason="again") == []  # nothing changed: nothing recorded
    history = services.retention.show(number).changes
    assert [c.reason for c in history] == ["sealed", "2026年第12号文件修订保管期限"]
    assert history[-1].actor == "档案科" and history[-1].at == clock.now
