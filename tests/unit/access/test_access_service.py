"""AccessService on both catalogue databases: accounts, passwords, tokens, grants, and the rule
that every decision — allowed or refused — leaves exactly one access-log entry (ACS-02, ACS-08, ACS-14)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from records.access.errors import (
    AccessDeniedError, AuditChainBrokenError, AuthenticationError, GrantExpiredError, InvalidGrantError,
    InvalidUserError, UserExistsError,
)
from records.access.identity import Action, DossierTarget, GrantFilter, Identity, RequestContext, Role, Rule
from records.access.log import AccessLog, LogEntry, Outcome
from records.access.policy import target_of
from records.access.service import AccessService
from records.access.tables import dossier_row, dossier_target
from records.errors import DocumentNotFoundError, DossierNotFoundError
from records.model import Channel, Registration
from web.bootstrap import Services

BEIJING = ZoneInfo("Asia/Shanghai")
WEB = RequestContext(ip="10.0.0.7", user_agent="Mozilla/5.0 test", purpose="核查投诉处理情况")


def _dossier(services: Services, department: str, respondent: str = "某律师事务所") -> DossierTarget:
    info = services.records.register_complaint("clerk", Registration(
        matter="拖延办理", complainant="张三", respondent=respondent, department=department, category="收费",
        received_at=datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING), channel=Channel.LETTER))
    return target_of(info, BEIJING)


def _entries(services: Services, log: AccessLog) -> list[LogEntry]:
    with services.uow.read() as s:
        return log.entries(s)


def test_refused_view_leaves_exactly_one_refusal_entry(services: Services, access: AccessService,
                                                        access_log: AccessLog, console: Identity) -> None:
    """GIVEN a handler of 一部 WHEN they open a 二部 dossier THEN it is refused, raised, and logged once."""
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    handler = access.identity("li")
    other = _dossier(services, "二部")
    before = len(_entries(services, access_log))
    with pytest.raises(AccessDeniedError) as err:
        access.enforce(handler, Action.VIEW_TEXT, other, context=WEB)
    after = _entries(services, access_log)
    assert len(after) == before + 1
    e = after[-1].event
    assert (e.outcome, e.actor, e.role, e.action, e.object_ref) == (Outcome.REFUSED, "li", "handler", "view_text", other.ref)
    # The caller's stated purpose is a note; an entry's purpose is only ever a grant's (ACS-04).
    assert (e.ip, e.user_agent, e.purpose, e.details.get("note")) == ("10.0.0.7", "Mozilla/5.0 test", None, WEB.purpose)
    assert err.value.reason == e.reason and "二部" in e.reason


def test_allowed_view_leaves_exactly_one_entry(services: Services, access: AccessService, access_log: AccessLog,
                                               console: Identity) -> None:
    """An allowed read is logged once, with who, role, what, where from and why."""
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    own = _dossier(services, "一部")
    before = len(_entries(services, access_log))
    decision = access.enforce(access.identity("li"), Action.DOWNLOAD_DOCUMENT, own, context=WEB)
    after = _entries(services, access_log)
    assert decision.allowed and len(after) == before + 1
    assert after[-1].event.outcome is Outcome.ALLOWED and after[-1].event.object_type == "dossier"


PAIRS = [  # action, an account allowed it, an account refused it, whether it targets the 一部 dossier
    (Action.VIEW_DOSSIER, "hand1", "hand2", True),
    (Action.VIEW_TEXT, "hand1", "admin", True),
    (Action.DOWNLOAD_DOCUMENT, "gm", "aud", True),
    (Action.EXPORT, "gm", "hand1", True),
    (Action.FILE_DOCUMENT, "arch", "aud", True),
    (Action.SEARCH, "hand2", "aud", False),
    (Action.MANAGE_GRANTS, "arch", "gm", False),
    (Action.READ_AUDIT_LOG, "aud", "arch", False),
]


@pytest.mark.parametrize(("action", "allowed", "refused", "on_dossier"), PAIRS, ids=[str(p[0]) for p in PAIRS])
def test_allowed_and_refused_pairs_each_leave_one_entry(services: Services, access: AccessService,
                                                        access_log: AccessLog, console: Identity, action: Action,
                                                        allowed: str, refused: str, on_dossier: bool) -> None:
    """Mayan-style pairs: allowed gives one 'allowed' entry; refused raises and gives one 'refused' entry."""
    for name, role, dept in [("hand1", Role.HANDLER, ["一部"]), ("hand2", Role.HANDLER, ["二部"]),
                             ("gm", Role.MANAGER, []), ("arch", Role.ARCHIVIST, []), ("aud", Role.AUDITOR, []),
                             ("admin", Role.ADMIN, [])]:
        access.add_user(console, name, role, departments=dept)
    target = _dossier(services, "一部") if on_dossier else None
    n = len(_entries(services, access_log))
    assert access.enforce(access.identity(allowed), action, target, context=WEB).allowed
    with pytest.raises(AccessDeniedError):
        access.enforce(access.identity(refused), action, target, context=WEB)
    entries = _entries(services, access_log)[n:]
    assert [(e.event.actor, e.event.action, e.event.outcome) for e in entries] == [
        (allowed, action, Outcome.ALLOWED), (refused, action, Outcome.REFUSED)]


def test_retrieval_shape_logs_inside_the_read(services: Services, access: AccessService, access_log: AccessLog,
                                              console: Identity) -> None:
    """How RecordsService calls it: decide and log in the retrieval's transaction, raise after the commit."""
    target = _dossier(services, "一部")
    access.add_user(console, "hand2", Role.HANDLER, departments=["二部"])
    who = access.identity("hand2")
    with services.uow.write() as s:
        row = dossier_row(s, target.archive_number or "")
        assert dossier_target(row, BEIJING) == target
        decision = access.authorize(who, Action.VIEW_TEXT, dossier_target(row, BEIJING, item_number="2611-001-01"),
                                    session=s, context=WEB)
    error = access.error_for(who, Action.VIEW_TEXT, "2611-001-01", decision)
    assert not decision.allowed and isinstance(error, AccessDeniedError) and error.target == "2611-001-01"
    last = _entries(services, access_log)[-1].event
    assert (last.object_type, last.object_ref, last.outcome) == ("document", "2611-001-01", Outcome.REFUSED)


def test_log_entry_shares_the_callers_transaction(services: Services, access: AccessService,
                                                  access_log: AccessLog, console: Identity) -> None:
    """No log entry, no document: an entry appended in the retrieval's transaction rolls back with it."""
    own = _dossier(services, "一部")
    before = len(_entries(services, access_log))
    with pytest.raises(RuntimeError), services.uow.write() as s:
        assert access.authorize(console, Action.VIEW_TEXT, own, session=s).allowed
        raise RuntimeError("the read failed after the decision")
    assert len(_entries(services, access_log)) == before
    with services.uow.write() as s:
        access.authorize(console, Action.VIEW_TEXT, own, session=s)
    assert len(_entries(services, access_log)) == before + 1


def test_retrieve_reads_and_logs_in_one_transaction(services: Services, access: AccessService,
                                                   access_log: AccessLog, console: Identity) -> None:
    """retrieve(): the catalogue read and its entry commit together; a missing dossier is logged, then refused."""
    own = _dossier(services, "一部")
    access.add_user(console, "hand3", Role.HANDLER, departments=["一部"])
    who = access.identity("hand3")
    before = len(_entries(services, access_log))

    def load() -> tuple[str, DossierTarget]:
        info = services.records.get_dossier("hand3", own.archive_number or "")  # joins the transaction
        return info.archive_number, target_of(info, BEIJING)

    value, decision = access.retrieve(who, Action.VIEW_DOSSIER, load, context=WEB)
    assert value == own.archive_number and decision.allowed
    opened, _ = access.retrieve(who, Action.VIEW_DOSSIER, load, then=lambda number: f"opened {number}")
    assert opened == f"opened {own.archive_number}"

    def missing() -> tuple[str, DossierTarget]:
        raise DossierNotFoundError("2611-999")

    with pytest.raises(AccessDeniedError):
        access.retrieve(who, Action.VIEW_DOSSIER, missing, context=WEB, object_ref="2611-999")
    entries = [e.event for e in _entries(services, access_log)[before:]]
    assert [(e.outcome, e.object_ref) for e in entries] == [
        (Outcome.ALLOWED, own.ref), (Outcome.ALLOWED, own.ref), (Outcome.REFUSED, "2611-999")]
    assert entries[-1].details["problem"] == "not found"


def test_retrieve_returns_nothing_when_the_entry_cannot_be_appended(services: Services, access: AccessService,
                                                                    access_log: AccessLog, console: Identity) -> None:
    """No log entry, no document: with the chain head gone, the read's result never reaches the caller."""
    own = _dossier(services, "一部")
    loaded: list[str] = []

    def load() -> tuple[str, DossierTarget]:
        loaded.append("read")
        return "the document", own

    with services.uow.write() as s:
        s.execute(text("DELETE FROM access_log_head"))
    with pytest.raises(AuditChainBrokenError):
        access.retrieve(console, Action.VIEW_TEXT, load)
    assert loaded == ["read"]


def test_a_failed_open_is_recorded_in_the_entry(services: Services, access: AccessService, access_log: AccessLog,
                                                console: Identity) -> None:
    """The policy allowed, opening failed: the entry says so (refused, with the problem) and the error is raised."""
    own = _dossier(services, "一部")

    def broken(_: str) -> str:
        raise DocumentNotFoundError("2611-001-01 (destroyed)")

    with pytest.raises(DocumentNotFoundError):
        access.retrieve(console, Action.DOWNLOAD_DOCUMENT, lambda: ("row", own), then=broken)
    last = _entries(services, access_log)[-1].event
    assert last.outcome == Outcome.REFUSED and last.details["problem"] == "not found"
    assert last.reason == "retrieval failed: DocumentNotFoundError"


def test_a_valid_token_is_checked_without_an_entry_of_its_own(services: Services, access: AccessService,
                                                              access_log: AccessLog, console: Identity) -> None:
    """check_token(): one entry per API call — a valid token adds none (the act records it), a bad one is logged."""
    access.add_user(console, "api2", Role.ARCHIVIST)
    issued = access.create_token(console, "api2")
    before = len(_entries(services, access_log))
    who, token_id = access.check_token(issued.token, context=WEB)
    assert (who.name, token_id) == ("api2", issued.token_id)
    assert len(_entries(services, access_log)) == before
    with pytest.raises(AuthenticationError):
        access.check_token(issued.token + "x", context=WEB)
    refused = _entries(services, access_log)[before:]
    assert [(e.event.action, e.event.outcome) for e in refused] == [("sign_in", Outcome.REFUSED)]


def test_regulator_reads_under_a_grant_with_its_purpose(services: Services, access: AccessService,
                                                        access_log: AccessLog, console: Identity) -> None:
    """A regulator's access names the grant, and the grant's purpose when the request states none (ACS-04)."""
    inside, outside = _dossier(services, "一部"), _dossier(services, "二部")
    access.add_user(console, "监管员", Role.REGULATOR)
    g = access.grant_regulator_access(console, "监管员", dossiers=[inside.archive_number or ""], purpose="专项检查",
                                      expires_at=datetime(2026, 12, 1, tzinfo=BEIJING))
    reg = access.identity("监管员")
    assert access.enforce(reg, Action.VIEW_TEXT, inside).grant_id == g.grant_id
    assert _entries(services, access_log)[-1].event.purpose == "专项检查"
    with pytest.raises(AccessDeniedError):
        access.enforce(reg, Action.VIEW_TEXT, outside)
    assert _entries(services, access_log)[-1].event.outcome is Outcome.REFUSED


def test_grant_expires_to_the_second(services: Services, access: AccessService, access_log: AccessLog,
                                     console: Identity, clock) -> None:  # type: ignore[no-untyped-def]
    """A regulator's grant ends at its expiry, to the second (ACS-04)."""
    target = _dossier(services, "一部", respondent="某律所")
    access.add_user(console, "reg", Role.REGULATOR)
    expires = clock.now + timedelta(hours=2)
    g = access.grant_regulator_access(console, "reg", filter=GrantFilter.parse("respondent:某律所"),
                                      purpose="调阅案卷", expires_at=expires)
    reg = access.identity("reg")
    clock.now = expires - timedelta(seconds=1)
    assert access.enforce(reg, Action.VIEW_DOSSIER, target).allowed
    clock.now = expires
    with pytest.raises(GrantExpiredError) as err:
        access.enforce(reg, Action.VIEW_DOSSIER, target)
    assert err.value.grant_id == g.grant_id and err.value.expired_at == expires
    last = _entries(services, access_log)[-1].event
    assert last.outcome is Outcome.REFUSED and last.grant_id == g.grant_id


def test_revocation_and_disabling_take_effect_at_once(services: Services, access: AccessService,
                                                      console: Identity) -> None:
    """An identity obtained before a revocation or a disabling is re-read on every decision."""
    target = _dossier(services, "一部")
    access.add_user(console, "reg", Role.REGULATOR)
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    g = access.grant_regulator_access(console, "reg", dossiers=[target.dossier_id or ""], purpose="检查",
                                      expires_at=datetime(2027, 1, 1, tzinfo=timezone.utc))
    reg, handler = access.identity("reg"), access.identity("li")
    assert access.authorize(reg, Action.VIEW_DOSSIER, target).allowed
    access.revoke_grant(console, g.grant_id)
    assert access.authorize(reg, Action.VIEW_DOSSIER, target).rule is Rule.GRANT_REVOKED
    access.disable_user(console, "li")
    assert access.authorize(handler, Action.VIEW_DOSSIER, target).rule is Rule.DISABLED


def test_passwords_are_argon2id_and_checked(services: Services, access: AccessService, access_log: AccessLog,
                                            console: Identity) -> None:
    """Only an argon2id hash is stored; a wrong password fails and every attempt is logged."""
    access.add_user(console, "wang", Role.ARCHIVIST, password="correct horse battery")
    with services.uow.read() as s:
        stored = s.execute(text("SELECT password_hash FROM access_users WHERE name = 'wang'")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    who = access.authenticate("wang", "correct horse battery", context=WEB)
    assert who.role is Role.ARCHIVIST and who.user_id
    for name, password in [("wang", "wrong password"), ("nobody", "whatever1")]:
        with pytest.raises(AuthenticationError):
            access.authenticate(name, password, context=WEB)
    tail = [e.event for e in _entries(services, access_log)[-3:]]
    assert [(e.action, e.outcome, e.actor) for e in tail] == [
        ("sign_in", Outcome.ALLOWED, "wang"), ("sign_in", Outcome.REFUSED, "wang"),
        ("sign_in", Outcome.REFUSED, "nobody")]
    assert tail[1].reason == "wrong password" and tail[2].reason == "unknown user"


def test_weak_password_hashes_are_upgraded_at_sign_in(services: Services, access_log: AccessLog,
                                                      console: Identity, clock) -> None:  # type: ignore[no-untyped-def]
    """Raising the argon2 parameters re-hashes each password at its owner's next sign-in."""
    weak = AccessService(services.uow, access_log, clock=clock,
                         hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    weak.add_user(console, "zhao", Role.AUDITOR, password="long enough pw")
    strong_hasher = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
    AccessService(services.uow, access_log, clock=clock, hasher=strong_hasher).authenticate("zhao", "long enough pw")
    with services.uow.read() as s:
        stored = s.execute(text("SELECT password_hash FROM access_users WHERE name = 'zhao'")).scalar_one()
    assert not strong_hasher.check_needs_rehash(stored)


def test_disabled_account_cannot_sign_in(access: AccessService, console: Identity) -> None:
    access.add_user(console, "li", Role.HANDLER, departments=["一部"], password="pass word 1 li")
    issued = access.create_token(console, "li")
    access.disable_user(console, "li")
    with pytest.raises(AuthenticationError):
        access.authenticate("li", "pass word 1 li")
    with pytest.raises(AuthenticationError):
        access.authenticate_token(issued.token)


def test_tokens_are_stored_only_as_hashes(services: Services, access: AccessService, console: Identity,
                                          clock) -> None:  # type: ignore[no-untyped-def]
    """The token is shown once; the catalogue holds its SHA-256 and nothing else of it."""
    access.add_user(console, "api", Role.ARCHIVIST)
    issued = access.create_token(console, "api", expires_at=clock.now + timedelta(days=1))
    assert issued.token.startswith("dos_") and len(issued.token) > 40
    with services.uow.read() as s:
        rows = [tuple(r) for table in ("access_tokens", "access_log", "access_users")
                for r in s.execute(text(f"SELECT * FROM {table}"))]
    assert rows and not any(issued.token in str(v) for r in rows for v in r)
    assert access.authenticate_token(issued.token, context=WEB).name == "api"
    with pytest.raises(AuthenticationError):
        access.authenticate_token(issued.token + "x")
    clock.now += timedelta(days=1)
    with pytest.raises(AuthenticationError):
        access.authenticate_token(issued.token)


def test_managing_users_is_refused_and_logged_for_non_admins(services: Services, access: AccessService,
                                                             access_log: AccessLog, console: Identity) -> None:
    """Refused means: nothing changed, and exactly one refusal entry."""
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    before = len(_entries(services, access_log))
    with pytest.raises(AccessDeniedError):
        access.add_user(access.identity("li"), "mallory", Role.ADMIN)
    entries = _entries(services, access_log)
    assert len(entries) == before + 1 and entries[-1].event.outcome is Outcome.REFUSED
    assert "mallory" not in {u.name for u in access.list_users(console)}


def test_account_rules(access: AccessService, console: Identity) -> None:
    with pytest.raises(InvalidUserError):
        access.add_user(console, "h", Role.HANDLER)          # a handler needs a department
    with pytest.raises(InvalidUserError):
        access.add_user(console, "a", Role.ARCHIVIST, password="short")
    with pytest.raises(InvalidUserError):
        access.add_user(console, "bad\nname", Role.AUDITOR)
    gm = access.add_user(console, "gm", Role.MANAGER)
    assert gm.departments is None                            # a manager without departments sees all (ACS-03)
    with pytest.raises(UserExistsError):
        access.add_user(console, "gm", Role.MANAGER)


def test_grant_rules(services: Services, access: AccessService, console: Identity, clock) -> None:  # type: ignore[no-untyped-def]
    """Grants go to active regulator accounts, name existing dossiers or a real filter, and expire later."""
    access.add_user(console, "reg", Role.REGULATOR)
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    later = clock.now + timedelta(days=7)
    with pytest.raises(InvalidGrantError):
        access.grant_regulator_access(console, "li", dossiers=["x"], purpose="p", expires_at=later)
    with pytest.raises(DossierNotFoundError):
        access.grant_regulator_access(console, "reg", dossiers=["9999-999"], purpose="p", expires_at=later)
    with pytest.raises(InvalidGrantError):
        access.grant_regulator_access(console, "reg", dossiers=["x"], purpose="p", expires_at=clock.now)
    with pytest.raises(InvalidGrantError):
        access.grant_regulator_access(console, "reg", dossiers=["x"], purpose=" ", expires_at=later)
    with pytest.raises(InvalidGrantError):
        access.grant_regulator_access(console, "reg", purpose="p", expires_at=later)
    with pytest.raises(AccessDeniedError):
        access.grant_regulator_access(access.identity("li"), "reg", dossiers=["x"], purpose="p", expires_at=later)
    n = _dossier(services, "一部").archive_number or ""
    g = access.grant_regulator_access(console, "reg", dossiers=[n, n], purpose="p", expires_at=later)
    assert g.archive_numbers == (n,) and g.granted_by == "cli:test"
    assert [x.grant_id for x in access.list_grants(console, grantee="reg")] == [g.grant_id]


def test_auditor_reads_all_and_a_regulator_only_its_own_entries(services: Services, access: AccessService,
                                                               console: Identity) -> None:
    """Auditors read the whole log; a regulator sees its own access record; a handler none of it."""
    access.add_user(console, "aud", Role.AUDITOR)
    access.add_user(console, "reg", Role.REGULATOR)
    access.add_user(console, "li", Role.HANDLER, departments=["一部"])
    reg = access.identity("reg")
    access.authorize(reg, Action.VIEW_DOSSIER, _dossier(services, "一部"))
    own = access.read_audit_log(reg)
    assert own and {e.event.actor for e in own} == {"reg"}
    everything = access.read_audit_log(access.identity("aud"))
    assert {"cli:test", "reg", "aud"} <= {e.event.actor for e in everything}
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))
    with pytest.raises(AccessDeniedError):
        access.read_audit_log(access.identity("li"))


def test_search_scope_comes_from_the_current_account(access: AccessService, console: Identity) -> None:
    access.add_user(console, "head", Role.MANAGER, departments=["一部", "三部"])
    assert access.scope(access.identity("head")).departments == frozenset({"一部", "三部"})
