"""Dossiers with complete (or deliberately incomplete) sealing materials, and the people who act."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from records.access.identity import Identity, Role
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from web.bootstrap import Services

ROOT = Identity.operator("cli:root")
ARCHIVIST, OTHER_ARCHIVIST, MANAGER, HANDLER = "王档案", "赵档案", "李主任", "张经办"
PASSWORD = "correct horse 1"  # every person's; the console's --as needs it (--password-stdin)

# Lifecycle step → the document filed for it (ARC-2 materials).
MATERIALS = ((None, DocumentKind.COMPLAINT_LETTER), (DossierState.ACCEPTED, DocumentKind.ACCEPTANCE_NOTICE),
             (DossierState.INVESTIGATING, DocumentKind.INVESTIGATION_MINUTES), (DossierState.DECIDED, DocumentKind.DECISION),
             (DossierState.REPLIED, DocumentKind.REPLY_LETTER), (DossierState.CLOSED, None))


def people(svc: Services) -> None:
    svc.access.add_user(ROOT, ARCHIVIST, Role.ARCHIVIST, password=PASSWORD)
    svc.access.add_user(ROOT, OTHER_ARCHIVIST, Role.ARCHIVIST, password=PASSWORD)
    svc.access.add_user(ROOT, MANAGER, Role.MANAGER, password=PASSWORD)
    svc.access.add_user(ROOT, HANDLER, Role.HANDLER, departments=["法援科"], password=PASSWORD)


def closed_dossier(svc: Services, word: str, *, skip: DocumentKind | None = None, **reg: object) -> tuple[str, list[str]]:
    """A closed dossier with one document per material (except ``skip``); their text holds ``word``."""
    fields: dict[str, object] = dict(matter=f"{word} 投诉律师拖延", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc),
                                     complainant="张三", respondent="某律师事务所", category="拖延", department="法援科")
    fields.update(reg)
    number = svc.records.register_complaint("clerk", Registration(**fields)).archive_number  # type: ignore[arg-type]
    items = []
    for step, kind in MATERIALS:
        if step is not None:
            # ``skip`` leaves a material out: closing then records why (the ARC-2 override).
            svc.records.advance("clerk", number, step, override_reason="test fixture: a material is left out"
                                if step is DossierState.CLOSED and skip is not None else None)
        if kind is not None and kind is not skip:
            body = f"{word} {kind.value} {uuid.uuid4().hex}".encode() * 20
            items.append(svc.records.file_document(
                "clerk", number, body, kind=kind, filename=f"{kind.value}.txt", media_type="text/plain",
                analysis=DocumentAnalysis(outcome="ok", text=body.decode())).item_number)
    return number, items
