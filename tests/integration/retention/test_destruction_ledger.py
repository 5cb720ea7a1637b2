"""The destruction ledger: signed, chained, append-only, written before anything is destroyed (RET; issue #12)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from records.access.errors import AuditKeyError
from records.model import DossierState
from records.settings import Settings
from retention.disposal import execute_disposition
from retention.errors import LedgerInvalidError
from retention.ledger import DestructionLedger
from tests.integration.retention.test_shredding import sealed_dossier
from tests.integration.retention.test_shredding_crash import objects
from web.bootstrap import Services, build_services, init_archive

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


def _ledger(svc: Services) -> DestructionLedger:
    ledger = svc.retention.disposition_desk.tools.ledger
    assert ledger is not None
    return ledger


@pytest.fixture
def svc(make_settings: Callable[..., Settings], clock: FrozenClock) -> Services:  # type: ignore[misc]
    settings = make_settings()
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services  # type: ignore[misc]
    services.close()


def test_each_destroyed_dossier_gets_one_signed_line_stamped_by_the_archive_clock(svc: Services, tmp_path: Path,
                                                                                  clock: FrozenClock) -> None:
    """GIVEN two sealed dossiers destroyed, and the first destroyed again, THEN the ledger holds one
    line each, in order, chained and signed, at the archive clock's time, and the dossier keys are gone."""
    a, _ = sealed_dossier(svc, "甲词")
    b, _ = sealed_dossier(svc, "乙词")
    tools = svc.retention.disposition_desk.tools
    for n, disposition in ((a, "l-1"), (b, "l-2"), (a, "l-3")):
        execute_disposition(tools, disposition_id=disposition, numbers=[n], action="destroy", actor="archivist",
                            approvals=[], rules={n: "R-1Y"}, out_dir=tmp_path / "certs")
    entries = _ledger(svc).entries()
    assert [(e.seq, e.archive_number) for e in entries] == [(1, a), (2, b)]
    assert entries[1].prev_hash == entries[0].hash and entries[0].at == clock.now
    assert "l-1" in entries[0].note
    keyring = svc.vault.dossier_keys
    assert keyring is not None
    assert all(keyring.destroyed(e.dossier_id) and not keyring.has(e.dossier_id) for e in entries)


@pytest.mark.parametrize("tamper", ["edit", "drop_first", "swap"])
def test_any_change_to_the_ledger_is_detected(svc: Services, tmp_path: Path, tamper: str) -> None:
    """GIVEN a ledger of two lines, WHEN a line is edited, removed or the lines swapped, THEN reading
    it fails with LedgerInvalidError naming the line, and nothing further is appended to it."""
    numbers = [sealed_dossier(svc, w)[0] for w in ("丙词", "丁词")]
    execute_disposition(svc.retention.disposition_desk.tools, disposition_id="t-1", numbers=numbers,
                        action="destroy", actor="archivist", approvals=[], rules={}, out_dir=tmp_path / "certs")
    path = _ledger(svc).path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if tamper == "edit":
        lines[1] = lines[1].replace("R-", "X-").replace("disposition", "dispositiom")
    elif tamper == "drop_first":
        lines = lines[1:]
    else:
        lines = [lines[1], lines[0]]
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(LedgerInvalidError):
        _ledger(svc).entries()
    with pytest.raises(LedgerInvalidError):
        _ledger(svc).append(dossier_id="x", archive_number="x", note="x")


def test_a_line_torn_by_a_crash_is_cut_off_by_the_next_append(svc: Services, tmp_path: Path) -> None:
    """GIVEN a ledger whose last line was torn by a crash mid-write (never acknowledged), WHEN the
    next destruction appends, THEN the torn bytes are dropped and the ledger verifies."""
    a, _ = sealed_dossier(svc, "戊词")
    b, _ = sealed_dossier(svc, "己词")
    tools = svc.retention.disposition_desk.tools
    execute_disposition(tools, disposition_id="c-1", numbers=[a], action="destroy", actor="archivist",
                        approvals=[], rules={}, out_dir=tmp_path / "certs")
    with _ledger(svc).path.open("ab") as f:
        f.write(b'{"archive_number":"torn')
    assert [e.archive_number for e in _ledger(svc).entries()] == [a]
    execute_disposition(tools, disposition_id="c-2", numbers=[b], action="destroy", actor="archivist",
                        approvals=[], rules={}, out_dir=tmp_path / "certs")
    assert [e.archive_number for e in _ledger(svc).entries()] == [a, b]


def test_without_the_signing_key_nothing_is_destroyed(make_settings: Callable[..., Settings], clock: FrozenClock,
                                                      tmp_path: Path) -> None:
    """GIVEN the archive's signing key is missing, WHEN a destruction runs, THEN it stops before any
    key is destroyed (the ledger line comes first and cannot be signed): the dossier is intact."""
    settings = make_settings()
    init_archive(settings)
    svc = build_services(settings, clock=clock)
    number, _ = sealed_dossier(svc, "庚词")
    svc.close()
    settings.audit_signing_key.rename(tmp_path / "away.key")
    svc = build_services(settings, clock=clock)
    try:
        with pytest.raises(AuditKeyError):
            execute_disposition(svc.retention.disposition_desk.tools, disposition_id="k-1", numbers=[number],
                                action="destroy", actor="archivist", approvals=[], rules={},
                                out_dir=tmp_path / "certs")
        assert svc.records.get_dossier("t", number).state is DossierState.SEALED
        assert all(o.wrapped_key is not None for o in objects(svc, number))
        info = svc.records.get_dossier("t", number)
        assert svc.vault.dossier_keys is not None and svc.vault.dossier_keys.has(info.dossier_id)
    finally:
        svc.close()


def test_an_append_verifies_only_new_lines_but_still_sees_an_altered_prefix(svc: Services) -> None:
    """GIVEN a ledger this process verified WHEN more lines are appended THEN only the new ones are verified
    (the cost of a destruction does not grow with the ledger) — AND an earlier line altered since is still
    caught by the next append, which then refuses."""
    ledger = _ledger(svc)
    for k in range(3):
        ledger.append(dossier_id=f"d{k}", archive_number=f"2601-00{k}", note="test")
    calls = 0
    real = ledger._parse

    def counting(raw: bytes, **kw):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += raw.count(b"\n")
        return real(raw, **kw)

    ledger._parse = counting  # type: ignore[method-assign]
    ledger.append(dossier_id="d3", archive_number="2601-003", note="test")
    assert calls == 0  # the three verified lines were not verified again (nothing new was there to verify)
    lines = ledger.path.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b"2601-000", b"2601-009")
    ledger.path.write_bytes(b"\n".join(lines))
    with pytest.raises(LedgerInvalidError):
        ledger.append(dossier_id="d4", archive_number="2601-004", note="test")
    assert calls >= 4
