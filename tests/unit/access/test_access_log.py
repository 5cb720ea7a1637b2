"""The access log on both catalogue databases: append-only, hash-chained, with signed checkpoints.

The tamper tests act as an attacker with write access to the database: they drop the
append-only triggers and then edit, delete, reorder and truncate rows with plain SQL. `verify`
must name the first broken entry every time — except in the one case the module documents as
undetectable (truncation after the last checkpoint with the head rewritten too).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from records.access.errors import AuditChainBrokenError, AuditKeyError
from records.access.log import AccessEvent, AccessLog, Outcome, VerifyResult, entry_hash
from web.bootstrap import Services

_TRIGGERS = {
    "sqlite": ["DROP TRIGGER access_log_no_update", "DROP TRIGGER access_log_no_delete",
               "DROP TRIGGER access_log_checkpoints_no_update", "DROP TRIGGER access_log_checkpoints_no_delete"],
    "postgresql": ["DROP TRIGGER access_log_append_only ON access_log",
                   "DROP TRIGGER access_log_checkpoints_append_only ON access_log_checkpoints"],
}


def _event(clock, n: int) -> AccessEvent:  # type: ignore[no-untyped-def]
    clock.now += timedelta(seconds=1)
    return AccessEvent(at=clock.now, actor=f"user{n % 3}", role="handler", action="view_text", object_type="dossier",
                       object_ref=f"2611-{n:03d}", outcome=Outcome.ALLOWED if n % 2 else Outcome.REFUSED,
                       reason="department 一部", ip="10.0.0.1", user_agent="ua", details={"n": str(n)})


def _fill(services: Services, log: AccessLog, clock, count: int) -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        with services.uow.write() as s:
            log.append(s, _event(clock, n))


def _verify(services: Services, log: AccessLog) -> VerifyResult:
    with services.uow.read() as s:
        return log.verify(s)


def _attack(services: Services, *statements: str) -> None:
    """Run SQL as someone who owns the database: the append-only triggers go first."""
    with services.uow.write() as s:
        for stmt in (*_TRIGGERS[s.get_bind().dialect.name], *statements):
            s.execute(text(stmt))


@pytest.fixture
def filled(services: Services, access_log: AccessLog, clock) -> AccessLog:  # type: ignore[no-untyped-def]
    """Ten entries; checkpoints (every 4) at entries 4 and 8."""
    _fill(services, access_log, clock, 10)
    return access_log


def test_untouched_log_verifies(services: Services, filled: AccessLog) -> None:
    result = _verify(services, filled)
    assert result == VerifyResult(ok=True, checked=10, head_seq=10, checkpoints=2)


def test_entries_chain_and_number_without_gaps(services: Services, filled: AccessLog) -> None:
    """Each entry's hash covers its fields, its number and its predecessor's hash."""
    with services.uow.read() as s:
        entries = filled.entries(s)
    assert [e.seq for e in entries] == list(range(1, 11))
    assert entries[0].prev_hash == "0" * 64
    for a, b in zip(entries, entries[1:]):
        assert b.prev_hash == a.entry_hash
    assert all(entry_hash(e.seq, e.prev_hash, e.event) == e.entry_hash for e in entries)


def test_database_refuses_update_and_delete_of_entries(services: Services, filled: AccessLog) -> None:
    """Append-only is enforced by the database too, short of dropping its triggers."""
    for stmt in ("UPDATE access_log SET reason = 'x' WHERE seq = 2", "DELETE FROM access_log WHERE seq = 10",
                 "DELETE FROM access_log_checkpoints"):
        with pytest.raises(DBAPIError), services.uow.write() as s:
            s.execute(text(stmt))
    assert _verify(services, filled).ok


def test_edited_entry_is_named(services: Services, filled: AccessLog) -> None:
    _attack(services, "UPDATE access_log SET outcome = 'allowed', reason = 'role archivist' WHERE seq = 6")
    result = _verify(services, filled)
    assert not result.ok and result.first_broken_seq == 6 and "altered" in (result.reason or "")


def test_deleted_entry_is_named(services: Services, filled: AccessLog) -> None:
    _attack(services, "DELETE FROM access_log WHERE seq = 3")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 3) and "missing" in (result.reason or "")


def test_reordered_entries_are_named(services: Services, filled: AccessLog) -> None:
    """Swapping two entries' sequence numbers breaks the chain at the first of them."""
    _attack(services, "UPDATE access_log SET seq = -5 WHERE seq = 5", "UPDATE access_log SET seq = 5 WHERE seq = 6",
            "UPDATE access_log SET seq = 6 WHERE seq = -5")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 5)


def test_truncated_tail_is_caught_by_the_head(services: Services, filled: AccessLog) -> None:
    _attack(services, "DELETE FROM access_log WHERE seq > 9")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 10) and "chain head" in (result.reason or "")


def test_truncation_with_the_head_rewritten_is_caught_by_a_checkpoint(services: Services, filled: AccessLog) -> None:
    _attack(services, "DELETE FROM access_log WHERE seq > 6",
            "UPDATE access_log_head SET seq = 6, entry_hash = (SELECT entry_hash FROM access_log WHERE seq = 6)")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 7) and "checkpoint" in (result.reason or "")


def test_truncation_hiding_the_checkpoints_is_caught_by_the_checkpoint_file(services: Services,
                                                                           filled: AccessLog) -> None:
    """Deleting the catalogue's checkpoints too leaves the copy in <data_dir>/audit-checkpoints.jsonl."""
    _attack(services, "DELETE FROM access_log WHERE seq > 6", "DELETE FROM access_log_checkpoints WHERE seq > 6",
            "UPDATE access_log_head SET seq = 6, entry_hash = (SELECT entry_hash FROM access_log WHERE seq = 6)")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 7) and "audit-checkpoints.jsonl" in (result.reason or "")
    assert any("missing from the catalogue" in w for w in result.warnings)


def test_truncation_after_the_last_checkpoint_is_not_detectable(services: Services, filled: AccessLog) -> None:
    """The documented limit: entries after the last checkpoint can be cut by whoever also fixes the head.

    Entries 9 and 10 go, the head is set to 8: nothing signed vouches for 9 or 10. Checkpointing
    more often (checkpoint_every=1) or off-machine copies of the checkpoint file close the gap.
    """
    _attack(services, "DELETE FROM access_log WHERE seq > 8",
            "UPDATE access_log_head SET seq = 8, entry_hash = (SELECT entry_hash FROM access_log WHERE seq = 8)")
    assert _verify(services, filled).ok


def test_rewritten_chain_is_caught_at_the_next_checkpoint(services: Services, filled: AccessLog) -> None:
    """Editing an entry and recomputing every later hash defeats the chain but not the signatures."""
    with services.uow.read() as s:
        entries = filled.entries(s)
    statements, prev = [], "0" * 64
    for e in entries:
        ev = e.event
        if e.seq == 6:
            ev = AccessEvent(**{**{f: getattr(ev, f) for f in AccessEvent.__dataclass_fields__}, "reason": "forged"})
            statements.append("UPDATE access_log SET reason = 'forged' WHERE seq = 6")
        digest = entry_hash(e.seq, prev, ev)
        statements.append(f"UPDATE access_log SET prev_hash = '{prev}', entry_hash = '{digest}' WHERE seq = {e.seq}")
        prev = digest
    statements.append(f"UPDATE access_log_head SET entry_hash = '{prev}'")
    _attack(services, *statements)
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 5) and "entries 5..8 were rewritten" in (result.reason or "")


def test_forged_checkpoint_is_refused(services: Services, filled: AccessLog, tmp_path: Path) -> None:
    file = tmp_path / "audit" / "audit-checkpoints.jsonl"
    lines = file.read_text().splitlines()
    forged = json.loads(lines[0]) | {"entry_hash": hashlib.sha256(b"x").hexdigest()}
    file.write_text("\n".join([json.dumps(forged), *lines[1:]]) + "\n")
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 4) and "invalid signature" in (result.reason or "")


def test_missing_chain_head_fails_closed(services: Services, filled: AccessLog, clock) -> None:  # type: ignore[no-untyped-def]
    """Without its head the log takes no entry, so a retrieval that needs one fails too."""
    _attack(services, "DELETE FROM access_log_head")
    with pytest.raises(AuditChainBrokenError), services.uow.write() as s:
        filled.append(s, _event(clock, 99))
    assert "chain head" in (_verify(services, filled).reason or "")


def test_chain_head_moved_back_fails_closed_and_is_reported(services: Services, filled: AccessLog,
                                                            clock) -> None:  # type: ignore[no-untyped-def]
    _attack(services, "UPDATE access_log_head SET seq = 7")
    with pytest.raises(AuditChainBrokenError) as err, services.uow.write() as s:
        filled.append(s, _event(clock, 99))
    assert err.value.seq == 8
    result = _verify(services, filled)
    assert (result.ok, result.first_broken_seq) == (False, 8) and "behind the chain head" in (result.reason or "")


def test_client_supplied_text_is_stored_as_hashed(services: Services, access_log: AccessLog, clock) -> None:  # type: ignore[no-untyped-def]
    """NUL bytes and over-long values from clients are cut to fit before hashing, on every database."""
    ev = AccessEvent(at=clock.now, actor="x" * 300, role="anonymous", action="sign_in", object_type="user",
                     outcome=Outcome.REFUSED, reason="unknown user", user_agent="evil\x00agent\n" + "u" * 5000,
                     ip="::1\x00", details={"k\x00": "v" * 5000})
    with services.uow.write() as s:
        stored = access_log.append(s, ev).event
    assert stored.actor == "x" * 128 and stored.user_agent == "evilagent" + "u" * 1991 and stored.ip == "::1"
    assert _verify(services, access_log).ok


def test_rolled_back_entry_leaves_no_checkpoint_behind(services: Services, access_log: AccessLog, clock,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    """A checkpoint reaches the file only after its entry committed; otherwise it would read as truncation."""
    _fill(services, access_log, clock, 3)
    with pytest.raises(RuntimeError), services.uow.write() as s:
        access_log.append(s, _event(clock, 3))  # the 4th entry: a checkpoint is due
        raise RuntimeError("retrieval failed")
    assert not (tmp_path / "audit" / "audit-checkpoints.jsonl").exists()
    _fill(services, access_log, clock, 1)
    assert _verify(services, access_log).ok


def test_lost_signing_key_is_never_silently_replaced(services: Services, filled: AccessLog, clock,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    """Once checkpoints exist, a missing key stops checkpointing; verification still uses the public key."""
    (tmp_path / "audit" / "audit-signing.key").unlink()
    fresh = AccessLog(signing_key=tmp_path / "audit" / "audit-signing.key",
                      checkpoint_file=tmp_path / "audit" / "audit-checkpoints.jsonl", checkpoint_every=4, clock=clock)
    assert _verify(services, fresh).ok
    _fill(services, fresh, clock, 1)
    with pytest.raises(AuditKeyError), services.uow.write() as s:
        fresh.append(s, _event(clock, 12))  # the 12th entry needs a signature
    assert not (tmp_path / "audit" / "audit-signing.key").exists()


def test_signing_key_is_private(filled: AccessLog, tmp_path: Path) -> None:
    assert (tmp_path / "audit" / "audit-signing.key").stat().st_mode & 0o077 == 0


def test_checkpoint_on_demand_signs_the_head(services: Services, filled: AccessLog) -> None:
    with services.uow.write() as s:
        cp = filled.checkpoint(s)
    assert cp is not None and cp.seq == 10
    assert _verify(services, filled).checkpoints == 3


def test_empty_log_verifies(services: Services, access_log: AccessLog) -> None:
    with services.uow.write() as s:
        assert access_log.checkpoint(s) is None
    assert _verify(services, access_log) == VerifyResult(ok=True, checked=0)
