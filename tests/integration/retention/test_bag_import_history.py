"""Imported bags keep where they came from: source number, timeline, extensions, sealed state (issue #10 item 2).

Before: `import-bag` opened new dossiers in state `registered`, with no timeline and no link to
the source number, so a dossier sealed years ago came in "acceptance overdue".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import bagit
import pytest

from records.deadlines import ClockState
from records.model import DocumentAnalysis, DocumentKind, DossierInfo, DossierState, Registration
from records.settings import Settings
from retention.transfer import BagInvalidError
from tests.integration.retention.retention_world import ROOT
from web.bootstrap import Services, build_services, init_archive

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def _tz(svc: Services) -> ZoneInfo:
    return ZoneInfo("Asia/Shanghai")


def _file(svc: Services, number: str, kind: DocumentKind) -> None:
    body = f"{kind.value} {uuid.uuid4().hex}".encode() * 20
    svc.records.file_document("clerk", number, body, kind=kind, filename=f"{kind.value}.txt", media_type="text/plain",
                              analysis=DocumentAnalysis(outcome="ok", text=body.decode()))


def sealed_with_extension(svc: Services) -> str:
    """A dossier walked through its whole life with an extension (TL-03), then sealed with its plan."""
    number = svc.records.register_complaint("clerk", Registration(
        matter="律师拖延办理", received_at=datetime(2026, 10, 20, 1, tzinfo=timezone.utc), complainant="张三",
        respondent="某律师事务所", category="拖延", department="法援科")).archive_number
    _file(svc, number, DocumentKind.COMPLAINT_LETTER)
    steps = [(DossierState.ACCEPTED, date(2026, 10, 22), DocumentKind.ACCEPTANCE_NOTICE),
             (DossierState.INVESTIGATING, date(2026, 10, 26), DocumentKind.INVESTIGATION_MINUTES),
             (DossierState.DECIDED, date(2026, 10, 30), DocumentKind.DECISION),
             (DossierState.REPLIED, date(2026, 11, 2), DocumentKind.REPLY_LETTER),
             (DossierState.CLOSED, date(2026, 11, 3), None)]
    for state, on, kind in steps:
        svc.records.advance("handler", number, state, on=on, note=f"step {state.value}")
        if kind is not None:
            _file(svc, number, kind)
        if state is DossierState.ACCEPTED:
            svc.records.extend_conclusion("handler", number, days=15, reason="案情复杂", approved_by="李主任")
    svc.retention.seal(ROOT, number)
    return number


def timeline(info: DossierInfo) -> list[tuple[object, ...]]:
    return [(t.state, t.on, t.at, t.actor, t.note) for t in info.transitions]


def test_an_exported_sealed_dossier_comes_back_sealed_with_its_history(svc: Services, tmp_path: Path) -> None:
    """GIVEN a sealed dossier with an extension, exported as a bag
    WHEN the bag is imported
    THEN the new dossier is sealed, has the same timeline and extension, names the source number,
    runs no overdue clock, and is planned under the schedule exactly like the source."""
    source = sealed_with_extension(svc)
    bag = tmp_path / "pkg"
    svc.bags.export(ROOT, [source], bag, tz=_tz(svc))
    report = svc.bags.import_bag(ROOT, bag, tz=_tz(svc))

    (imported,) = report.dossiers
    assert imported.source_number == source and imported.archive_number != source
    assert imported.state == "sealed" and not imported.closed_transfer and not imported.already
    old, new = svc.records.get_dossier("t", source), svc.records.get_dossier("t", imported.archive_number)
    assert new.state is DossierState.SEALED and new.source_reference == source
    assert timeline(new) == timeline(old)
    assert new.extensions == old.extensions
    assert [(d.sha256, d.kind) for d in new.documents] == [(d.sha256, d.kind) for d in old.documents]
    assert not any(c.state is ClockState.OVERDUE for c in svc.records.deadlines(new))
    assert [c.state for c in svc.records.deadlines(new)] == [c.state for c in svc.records.deadlines(old)]
    plan_old, plan_new = svc.retention.show(source).plan, svc.retention.show(imported.archive_number).plan
    assert plan_new is not None and plan_old is not None
    assert (plan_new.rule_id, plan_new.disposal_date) == (plan_old.rule_id, plan_old.disposal_date)
    assert json.loads((bag / "data" / source / "metadata.json").read_text("utf-8"))["timeline"]


def test_a_bag_without_a_timeline_is_filed_as_a_closed_transfer(svc: Services, tmp_path: Path,
                                                                clock: FrozenClock) -> None:
    """GIVEN a package of an older format: metadata.json without timeline, state or extensions
    WHEN it is imported (weeks after the complaint was received)
    THEN the dossier is closed, its timeline is the receipt and one `closed` step noting the source,
    and no clock runs on: it is neither overdue on its page nor in the listing."""
    number = svc.records.register_complaint("clerk", Registration(
        matter="法律援助人员态度", received_at=datetime(2026, 9, 1, 1, tzinfo=timezone.utc),
        complainant="李四")).archive_number
    _file(svc, number, DocumentKind.COMPLAINT_LETTER)
    bag = tmp_path / "old-format"
    svc.bags.export(ROOT, [number], bag, tz=_tz(svc))
    meta_path = bag / "data" / number / "metadata.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    for key in ("timeline", "state", "extensions", "void_reason", "source_reference"):
        meta.pop(key)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    bagit.Bag(str(bag)).save(manifests=True)

    (imported,) = svc.bags.import_bag(ROOT, bag, tz=_tz(svc)).dossiers
    assert imported.closed_transfer and imported.state == "closed"
    new = svc.records.get_dossier("t", imported.archive_number)
    assert new.state is DossierState.CLOSED and new.source_reference == number
    today = clock.now.astimezone(_tz(svc)).date()
    assert [(t.state, t.on) for t in new.transitions] == [(DossierState.REGISTERED, date(2026, 9, 1)),
                                                         (DossierState.CLOSED, today)]
    assert new.transitions[-1].note == f"transferred from Dossier complaint archive ({number}) on {today}"
    clocks = svc.records.deadlines(new)
    assert not any(c.state is ClockState.OVERDUE or c.overdue for c in clocks), clocks
    listed = {r.archive_number: r for r in svc.records.list_dossiers("t")}
    assert not listed[imported.archive_number].overdue and listed[number].overdue  # the source, still open, is


def test_importing_the_same_bag_again_changes_nothing(svc: Services, tmp_path: Path) -> None:
    """GIVEN a bag imported once
    WHEN it is imported again
    THEN the dossier already filed from it is reported as such and no second dossier is opened."""
    source = sealed_with_extension(svc)
    bag = tmp_path / "pkg"
    svc.bags.export(ROOT, [source], bag, tz=_tz(svc))
    (first,) = svc.bags.import_bag(ROOT, bag, tz=_tz(svc)).dossiers
    count = len(svc.records.list_dossiers("t"))
    (again,) = svc.bags.import_bag(ROOT, bag, tz=_tz(svc)).dossiers
    assert again.already and again.archive_number == first.archive_number and again.documents == ()
    assert len(svc.records.list_dossiers("t")) == count
    assert svc.records.get_dossier("t", first.archive_number).state is DossierState.SEALED


def test_a_timeline_that_contradicts_its_state_refuses_the_package(svc: Services, tmp_path: Path) -> None:
    """GIVEN a package whose metadata says `sealed` while its timeline ends at `registered`
    WHEN it is imported
    THEN the whole package is refused as invalid and nothing is filed."""
    number = svc.records.register_complaint("clerk", Registration(
        matter="拖延", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="王五")).archive_number
    bag = tmp_path / "pkg"
    svc.bags.export(ROOT, [number], bag, tz=_tz(svc))
    meta_path = bag / "data" / number / "metadata.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["state"] = "sealed"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    bagit.Bag(str(bag)).save(manifests=True)
    count = len(svc.records.list_dossiers("t"))
    with pytest.raises(BagInvalidError, match="timeline"):
        svc.bags.import_bag(ROOT, bag, tz=_tz(svc))
    assert len(svc.records.list_dossiers("t")) == count
