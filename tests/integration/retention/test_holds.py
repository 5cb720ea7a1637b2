"""Legal holds (RET): on a dossier or a saved filter, placed and lifted with a reason; held means never due."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

import pytest

from retention.errors import HoldNotFoundError, InvalidHoldError
from retention.model import HoldFilter
from tests.integration.retention.retention_world import ARCHIVIST, MANAGER, ROOT, closed_dossier, people
from web.bootstrap import Services

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


def test_a_filter_hold_covers_dossiers_that_come_to_match_later(services: Services, clock: FrozenClock) -> None:
    """A saved filter (category + receipt range) is evaluated at check time, not frozen at placement."""
    people(services)
    hold = services.retention.place_hold(
        services.access.identity(MANAGER), reason="信访复查",
        filter=HoldFilter(categories=frozenset({"收费"}), received_from=date(2026, 11, 1), received_until=date(2026, 11, 30)))
    covered, _ = closed_dossier(services, "甲", category="收费")
    other_category, _ = closed_dossier(services, "乙", category="拖延")
    too_early, _ = closed_dossier(services, "丙", category="收费", received_at=datetime(2026, 10, 30, 1, tzinfo=timezone.utc))
    for n in (covered, other_category, too_early):
        services.retention.seal(ROOT, n)
    assert [h.hold_id for h in services.retention.holds_on(covered)] == [hold.hold_id]
    assert services.retention.holds_on(other_category) == [] and services.retention.holds_on(too_early) == []
    clock.now = datetime(2028, 1, 1, 2, tzinfo=timezone.utc)
    assert {d.archive_number for d in services.retention.due()} == {other_category, too_early}
    assert services.retention.show(covered).holds[0].reason == "信访复查"


def test_holds_need_a_reason_and_lifting_is_recorded_not_deleted(services: Services) -> None:
    people(services)
    number, _ = closed_dossier(services, "丁")
    archivist = services.access.identity(ARCHIVIST)
    with pytest.raises(InvalidHoldError):
        services.retention.place_hold(archivist, reason="  ", number=number)
    with pytest.raises(InvalidHoldError):
        services.retention.place_hold(archivist, reason="x")
    first = services.retention.place_hold(archivist, reason="诉讼保全", number=number)
    second = services.retention.place_hold(ROOT, reason="审计", number=number)
    lifted = services.retention.lift_hold(archivist, first.hold_id, reason="保全解除")
    assert [h.hold_id for h in lifted] == [first.hold_id] and lifted[0].lift_reason == "保全解除"
    assert [h.hold_id for h in services.retention.holds()] == [second.hold_id]
    assert {h.hold_id for h in services.retention.holds(include_lifted=True)} == {first.hold_id, second.hold_id}
    with pytest.raises(HoldNotFoundError):
        services.retention.lift_hold(archivist, first.hold_id, reason="again")
    log = [e.event for e in services.access.read_audit_log(ROOT) if e.event.action in ("hold", "hold_lift")]
    assert [(e.action, e.actor, e.outcome) for e in log] == [
        ("hold", ARCHIVIST, "allowed"), ("hold", "cli:root", "allowed"), ("hold_lift", ARCHIVIST, "allowed")]


def test_two_archivists_reviewing_at_once_put_a_dossier_in_one_disposition_only(services: Services,
                                                                               clock: FrozenClock) -> None:
    """Reviews racing on the same due dossiers: exactly one disposition takes them, the other is refused."""
    import threading

    from retention.errors import InvalidDispositionError as Refused

    people(services)
    numbers = [closed_dossier(services, w)[0] for w in ("戊", "己")]
    for n in numbers:
        services.retention.seal(ROOT, n)
    clock.now = datetime(2028, 1, 1, 2, tzinfo=timezone.utc)
    barrier = threading.Barrier(2)
    made: list[str] = []
    refused: list[Exception] = []

    def review(name: str) -> None:
        barrier.wait()
        try:
            made.append(services.retention.review(name, numbers=numbers).disposition_id)
        except Refused as exc:
            refused.append(exc)

    threads = [threading.Thread(target=review, args=(n,)) for n in ("王档案", "赵档案")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(made) == 1 and len(refused) == 1
