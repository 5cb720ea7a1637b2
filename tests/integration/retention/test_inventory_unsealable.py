"""The inventory reports closed dossiers that cannot be sealed (issue #10: they must not drop out of sight)."""

from __future__ import annotations

from datetime import datetime, timezone

from records.access.identity import Identity
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from retention.inventory import FindingKind
from web.bootstrap import Services

CONSOLE = Identity.operator("cli:test")


def test_a_dossier_closed_under_an_override_is_reported_until_it_can_be_sealed(services: Services) -> None:
    """GIVEN a refused complaint closed without its non-acceptance notice (archivist's override) WHEN the
    inventory runs THEN it reports that dossier as unsealable, naming the missing material; a complete
    closed dossier is not reported."""
    numbers = []
    for name in ("甲", "乙"):
        info = services.records.register_complaint("clerk", Registration(
            matter=f"拖延 {name}", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant=name))
        for kind in (DocumentKind.COMPLAINT_LETTER, DocumentKind.NON_ACCEPTANCE_NOTICE)[: 2 if name == "乙" else 1]:
            body = f"{kind.value} {name}".encode()
            services.records.file_document("clerk", info.archive_number, body, kind=kind, filename=f"{kind.value}.txt",
                                           media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
        services.records.advance("clerk", info.archive_number, DossierState.NOT_ACCEPTED)
        services.gate.advance(CONSOLE, info.archive_number, DossierState.CLOSED,
                              override_reason="通知书另卷保存" if name == "甲" else None)
        numbers.append(info.archive_number)
    services.outbox.drain()
    report = services.inventory.run(CONSOLE)
    unsealable = [f for f in report.findings if f.kind is FindingKind.UNSEALABLE]
    assert [f.number for f in unsealable] == [numbers[0]]
    assert "acceptance_decision" in unsealable[0].detail
