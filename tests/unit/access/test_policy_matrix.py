"""The authorisation matrix: every role (and the anonymous caller, a disabled account, an expired
grant, the console) × every action × dossiers of each kind (ACS-01..05, ROL).

The expected table below is written out independently of records.access.policy.MATRIX, so that a
change to the policy shows up here as a deliberate edit of the expectation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from records.access.errors import GrantRequiredError
from records.access.identity import Action, DossierTarget, Grant, GrantFilter, Identity, Role, Rule
from records.access.model import AccessScope
from records.access.policy import decide, scope_for
from records.model import DossierState

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)
A = Action

TARGETS = {
    # a dossier of department 一部, under investigation, against 某律所 about fees
    "own": DossierTarget("d-own", DossierState.INVESTIGATING, "一部", "2611-001", "某律所", "收费", date(2026, 10, 1)),
    # a dossier of another department
    "other": DossierTarget("d-other", DossierState.INVESTIGATING, "二部", "2611-002", "另一所", "态度", date(2026, 10, 2)),
    # a closed dossier of a third department that the regulator's dossier grant names
    "granted": DossierTarget("d-granted", DossierState.CLOSED, "三部", "2611-003", "第三所", "拖延", date(2026, 9, 1)),
    # a sealed dossier of 一部 (read-only for everyone), also named by the dossier grant
    "sealed": DossierTarget("d-sealed", DossierState.SEALED, "一部", "2610-001", "某律所", "收费", date(2026, 8, 1)),
    # a disposed dossier of 一部: no documents left
    "disposed": DossierTarget("d-disposed", DossierState.DISPOSED, "一部", "2501-001", "某律所", "收费", date(2025, 1, 5)),
}
ALL = frozenset(TARGETS)
READABLE = ALL - {"disposed"}
WRITABLE = ALL - {"sealed", "disposed"}


def _grant(grant_id: str, *, dossiers: set[str] | None = None, flt: GrantFilter | None = None,
           expires: datetime = NOW + timedelta(days=30)) -> Grant:
    return Grant(grant_id=grant_id, grantee="reg", grantee_id="u-reg", purpose="调查投诉", granted_by="archivist",
                 granted_at=NOW - timedelta(days=1), expires_at=expires,
                 dossier_ids=frozenset(dossiers) if dossiers is not None else None, filter=flt)


SET_GRANT = _grant("g-set", dossiers={"d-granted", "d-sealed"})
FILTER_GRANT = _grant("g-filter", flt=GrantFilter(respondents=frozenset({"某律所"}), categories=frozenset({"收费"})))
EXPIRED_GRANT = _grant("g-old", dossiers={"d-granted"}, expires=NOW - timedelta(seconds=1))

IDENTITIES = {
    "admin": Identity("admin", Role.ADMIN, "u1"),
    "archivist": Identity("arch", Role.ARCHIVIST, "u2"),
    "handler": Identity("hand", Role.HANDLER, "u3", departments=frozenset({"一部"})),
    "manager_all": Identity("gm", Role.MANAGER, "u4", departments=None),
    "manager_dept": Identity("head2", Role.MANAGER, "u5", departments=frozenset({"二部"})),
    "regulator_set": Identity("reg", Role.REGULATOR, "u6", grants=(SET_GRANT,)),
    "regulator_filter": Identity("reg", Role.REGULATOR, "u6", grants=(FILTER_GRANT,)),
    "regulator_expired": Identity("reg", Role.REGULATOR, "u6", grants=(EXPIRED_GRANT,)),
    "auditor": Identity("aud", Role.AUDITOR, "u7"),
    "anonymous": Identity.anonymous(),
    "disabled": Identity("gone", Role.HANDLER, "u8", departments=frozenset({"一部"}), active=False),
    "console": Identity.operator("cli:root"),
}

CONTENT = (A.VIEW_DOCUMENT, A.VIEW_TEXT, A.DOWNLOAD_DOCUMENT)
NONE: frozenset[str] = frozenset()

# Which targets each caller may act on, per dossier action; an action not listed: none.
EXPECTED: dict[str, dict[Action, frozenset[str]]] = {
    "admin": {},
    "archivist": {A.VIEW_DOSSIER: ALL, **{a: READABLE for a in CONTENT}, A.EXPORT: READABLE,
                  A.FILE_DOCUMENT: WRITABLE, A.SEAL: ALL, A.DISPOSE: ALL, A.AMEND: READABLE,
                  A.REOPEN: WRITABLE, A.CLOSE_OVERRIDE: WRITABLE, A.RECLASSIFY: WRITABLE},
    "handler": {A.VIEW_DOSSIER: frozenset({"own", "sealed", "disposed"}),
                **{a: frozenset({"own", "sealed"}) for a in CONTENT},
                A.FILE_DOCUMENT: frozenset({"own"}), A.ADVANCE: frozenset({"own"}), A.RECLASSIFY: frozenset({"own"})},
    "manager_all": {A.VIEW_DOSSIER: ALL, **{a: READABLE for a in CONTENT}, A.EXPORT: READABLE,
                    A.FILE_DOCUMENT: WRITABLE, A.ADVANCE: WRITABLE, A.REOPEN: WRITABLE, A.RECLASSIFY: WRITABLE},
    "manager_dept": {A.VIEW_DOSSIER: frozenset({"other"}), **{a: frozenset({"other"}) for a in CONTENT},
                     A.EXPORT: frozenset({"other"}), A.FILE_DOCUMENT: frozenset({"other"}),
                     A.ADVANCE: frozenset({"other"}), A.REOPEN: frozenset({"other"}), A.RECLASSIFY: frozenset({"other"})},
    "regulator_set": {A.VIEW_DOSSIER: frozenset({"granted", "sealed"}),
                      **{a: frozenset({"granted", "sealed"}) for a in CONTENT}},
    "regulator_filter": {A.VIEW_DOSSIER: frozenset({"own", "sealed", "disposed"}),
                         **{a: frozenset({"own", "sealed"}) for a in CONTENT}},
    "regulator_expired": {},
    "auditor": {A.VIEW_DOSSIER: ALL},
    "anonymous": {},
    "disabled": {},
    "console": {A.VIEW_DOSSIER: ALL, **{a: READABLE for a in CONTENT}, A.EXPORT: READABLE,
                A.FILE_DOCUMENT: WRITABLE, A.ADVANCE: WRITABLE, A.SEAL: ALL, A.DISPOSE: ALL, A.AMEND: READABLE,
                A.REOPEN: WRITABLE, A.CLOSE_OVERRIDE: WRITABLE, A.RECLASSIFY: WRITABLE},
}
DOSSIER_ACTIONS = (A.VIEW_DOSSIER, *CONTENT, A.EXPORT, A.FILE_DOCUMENT, A.ADVANCE, A.SEAL, A.DISPOSE, A.AMEND,
                   A.REOPEN, A.CLOSE_OVERRIDE, A.RECLASSIFY)

# Actions without a dossier: who may.
GLOBAL_EXPECTED: dict[Action, frozenset[str]] = {
    A.LIST_DOSSIERS: frozenset({"archivist", "handler", "manager_all", "manager_dept", "regulator_set",
                                "regulator_filter", "auditor", "console"}),
    A.SEARCH: frozenset({"archivist", "handler", "manager_all", "manager_dept", "regulator_set", "regulator_filter",
                         "console"}),
    A.MANAGE_USERS: frozenset({"admin", "console"}),
    A.MANAGE_GRANTS: frozenset({"admin", "archivist", "console"}),
    A.READ_AUDIT_LOG: frozenset({"auditor", "regulator_set", "regulator_filter", "regulator_expired", "console"}),
    A.VERIFY_AUDIT_LOG: frozenset({"admin", "archivist", "auditor", "console"}),
    A.MANAGE_INTAKE: frozenset({"admin", "archivist", "console"}),
    # retention and the archive as a whole (issue #9: every action the archive has is in the matrix)
    A.DISPOSE_REVIEW: frozenset({"archivist", "console"}),
    A.DISPOSE_APPROVE: frozenset({"manager_all", "manager_dept", "console"}),
    A.PLACE_HOLD: frozenset({"archivist", "manager_all", "manager_dept", "console"}),
    A.LIFT_HOLD: frozenset({"archivist", "manager_all", "manager_dept", "console"}),
    A.VIEW_RETENTION: frozenset({"archivist", "manager_all", "manager_dept", "auditor", "console"}),
    A.PLAN_RETENTION: frozenset({"archivist", "console"}),
    A.RUN_INVENTORY: frozenset({"archivist", "auditor", "console"}),
    A.VERIFY_VAULT: frozenset({"admin", "archivist", "auditor", "console"}),
    A.MANAGE_KEYS: frozenset({"admin", "console"}),
    A.REINDEX: frozenset({"admin", "archivist", "console"}),
    A.IMPORT: frozenset({"archivist", "console"}),
    A.MANAGE_CALENDAR: frozenset({"admin", "archivist", "console"}),
    A.SEND_REMINDERS: frozenset({"admin", "archivist", "console"}),
    A.SIGN_IN: frozenset(IDENTITIES) - {"anonymous", "disabled"},
}


def test_every_action_is_covered_by_the_expectations() -> None:
    """The matrix test leaves no action out: a new Action must get an expected row here."""
    assert set(DOSSIER_ACTIONS) | set(GLOBAL_EXPECTED) | {A.REGISTER} == set(Action)


@pytest.mark.parametrize("who", sorted(IDENTITIES))
@pytest.mark.parametrize("action", DOSSIER_ACTIONS, ids=str)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_dossier_action_matrix(who: str, action: Action, target: str) -> None:
    """Role × department × dossier state × grant decides every dossier action (ACS-02, ACS-03, ACS-04)."""
    decision = decide(IDENTITIES[who], action, TARGETS[target], now=NOW)
    expected = target in EXPECTED[who].get(action, NONE)
    assert decision.allowed is expected, decision.reason
    assert decision.reason


@pytest.mark.parametrize("who", sorted(IDENTITIES))
@pytest.mark.parametrize("action", sorted(GLOBAL_EXPECTED), ids=str)
def test_archive_action_matrix(who: str, action: Action) -> None:
    """Listing, search, user and grant management, the access log, sign-in: who may."""
    decision = decide(IDENTITIES[who], action, None, now=NOW)
    assert decision.allowed is (who in GLOBAL_EXPECTED[action]), decision.reason


@pytest.mark.parametrize(("who", "department", "allowed"), [
    ("handler", "一部", True), ("handler", "二部", False), ("handler", None, False),
    ("manager_all", None, True), ("manager_dept", "二部", True), ("manager_dept", "一部", False),
    ("archivist", None, True), ("console", "二部", True),
    ("regulator_set", "一部", False), ("auditor", "一部", False), ("admin", "一部", False), ("disabled", "一部", False),
])
def test_register_needs_the_department(who: str, department: str | None, allowed: bool) -> None:
    """A handler registers complaints only for their own department; the archive for any."""
    target = DossierTarget(None, DossierState.REGISTERED, department)
    assert decide(IDENTITIES[who], A.REGISTER, target, now=NOW).allowed is allowed


def test_refusals_name_their_rule() -> None:
    """Each refusal carries a stable code, for the log and for the web layer's 403/404 choice."""
    def rule(who: str, action: Action, target: str | None) -> Rule:
        return decide(IDENTITIES[who], action, TARGETS[target] if target else None, now=NOW).rule

    assert rule("anonymous", A.VIEW_DOSSIER, "own") is Rule.ANONYMOUS
    assert rule("disabled", A.VIEW_DOSSIER, "own") is Rule.DISABLED
    assert rule("admin", A.VIEW_TEXT, "own") is Rule.NOT_IN_ROLE
    assert rule("handler", A.VIEW_TEXT, "other") is Rule.OTHER_DEPARTMENT
    assert rule("handler", A.FILE_DOCUMENT, "sealed") is Rule.STATE
    assert rule("regulator_set", A.VIEW_TEXT, "own") is Rule.NO_GRANT
    assert rule("regulator_expired", A.VIEW_TEXT, "granted") is Rule.GRANT_EXPIRED
    assert rule("handler", A.VIEW_DOSSIER, None) is Rule.NO_TARGET


def test_regulator_decision_names_the_grant() -> None:
    """An allowed regulator access records which grant allowed it (and so its purpose)."""
    d = decide(IDENTITIES["regulator_set"], A.DOWNLOAD_DOCUMENT, TARGETS["granted"], now=NOW)
    assert d.allowed and d.grant_id == "g-set" and d.rule is Rule.GRANT
    refused = decide(IDENTITIES["regulator_expired"], A.VIEW_DOSSIER, TARGETS["granted"], now=NOW)
    assert not refused.allowed and refused.grant_id == "g-old"


def test_grant_ends_at_its_expiry_to_the_second() -> None:
    """A regulator's grant ends at its expiry, to the second (ACS-04)."""
    expires = NOW + timedelta(hours=1)
    reg = Identity("reg", Role.REGULATOR, "u6", grants=(_grant("g", dossiers={"d-granted"}, expires=expires),))
    before = decide(reg, A.VIEW_TEXT, TARGETS["granted"], now=expires - timedelta(seconds=1))
    at = decide(reg, A.VIEW_TEXT, TARGETS["granted"], now=expires)
    assert before.allowed and not at.allowed and at.rule is Rule.GRANT_EXPIRED


def test_revoked_grant_refuses_from_its_revocation() -> None:
    g = _grant("g", dossiers={"d-granted"})
    reg = Identity("reg", Role.REGULATOR, "u6", grants=(Grant(**{**_fields(g), "revoked_at": NOW}),))
    assert decide(reg, A.VIEW_DOSSIER, TARGETS["granted"], now=NOW - timedelta(seconds=1)).allowed
    assert decide(reg, A.VIEW_DOSSIER, TARGETS["granted"], now=NOW).rule is Rule.GRANT_REVOKED


def _fields(g: Grant) -> dict[str, object]:
    return {name: getattr(g, name) for name in Grant.__dataclass_fields__}


def test_grant_filter_by_receipt_dates_is_inclusive() -> None:
    """received:FROM..TO includes both days; a dossier without the filtered field is outside."""
    g = _grant("g", flt=GrantFilter(received_from=date(2026, 9, 1), received_until=date(2026, 10, 1)))
    reg = Identity("reg", Role.REGULATOR, "u6", grants=(g,))
    seen = {name for name, t in TARGETS.items() if decide(reg, A.VIEW_DOSSIER, t, now=NOW).allowed}
    assert seen == {"own", "granted"}
    no_date = DossierTarget("d-x", DossierState.CLOSED, "一部")
    assert not decide(reg, A.VIEW_DOSSIER, no_date, now=NOW).allowed


def test_filter_names_compare_folded() -> None:
    """Full-width, case and spacing differences do not escape or defeat a respondent filter."""
    g = _grant("g", flt=GrantFilter(respondents=frozenset({"ＡＢＣ 律师事务所"})))
    reg = Identity("reg", Role.REGULATOR, "u6", grants=(g,))
    target = DossierTarget("d", DossierState.CLOSED, "一部", respondent="abc  律师事务所")
    assert decide(reg, A.VIEW_DOSSIER, target, now=NOW).allowed


# ---------------------------------------------------------------------- scope_for (search)
@pytest.mark.parametrize(("who", "scope"), [
    ("archivist", AccessScope.everything()),
    ("manager_all", AccessScope.everything()),
    ("console", AccessScope.everything()),
    ("handler", AccessScope(departments=frozenset({"一部"}))),
    ("manager_dept", AccessScope(departments=frozenset({"二部"}))),
    ("regulator_set", AccessScope(dossier_ids=frozenset({"d-granted", "d-sealed"}))),
    ("regulator_filter", AccessScope(respondents=frozenset({"某律所"}), categories=frozenset({"收费"}))),
    ("regulator_expired", AccessScope.nothing()),
    ("auditor", AccessScope.nothing()),
    ("admin", AccessScope.nothing()),
    ("anonymous", AccessScope.nothing()),
    ("disabled", AccessScope.nothing()),
])
def test_search_scope_per_caller(who: str, scope: AccessScope) -> None:
    """Search is limited in the query by the same rules that decide single reads (ACS-03, ACS-04)."""
    assert scope_for(IDENTITIES[who], A.SEARCH, NOW) == scope


def test_auditor_lists_dossiers_but_cannot_search() -> None:
    """Auditors see metadata listings; search shows snippets of content, so it is not theirs."""
    auditor = IDENTITIES["auditor"]
    assert scope_for(auditor, A.LIST_DOSSIERS, NOW) == AccessScope.everything()
    assert scope_for(auditor, A.SEARCH, NOW).is_empty


def test_several_grants_merge_or_must_be_named() -> None:
    """Dossier grants merge into one set; a filter grant beside another must be chosen explicitly."""
    two_sets = Identity("reg", Role.REGULATOR, "u6", grants=(SET_GRANT, _grant("g2", dossiers={"d-other"})))
    assert scope_for(two_sets, A.SEARCH, NOW) == AccessScope(dossier_ids=frozenset({"d-granted", "d-sealed", "d-other"}))
    mixed = Identity("reg", Role.REGULATOR, "u6", grants=(SET_GRANT, FILTER_GRANT, EXPIRED_GRANT))
    with pytest.raises(GrantRequiredError) as err:
        scope_for(mixed, A.SEARCH, NOW)
    assert err.value.grant_ids == ("g-filter", "g-set")
    assert scope_for(mixed, A.SEARCH, NOW, grant_id="g-filter") == FILTER_GRANT.scope()
    assert scope_for(mixed, A.SEARCH, NOW, grant_id="g-old").is_empty


def test_acting_under_a_named_grant_limits_to_it() -> None:
    """A regulator who names a grant is decided by that grant alone."""
    both = Identity("reg", Role.REGULATOR, "u6", grants=(SET_GRANT, FILTER_GRANT))
    assert decide(both, A.VIEW_TEXT, TARGETS["own"], now=NOW).grant_id == "g-filter"
    assert not decide(both, A.VIEW_TEXT, TARGETS["own"], now=NOW, grant_id="g-set").allowed
    assert decide(both, A.VIEW_TEXT, TARGETS["own"], now=NOW, grant_id="nope").rule is Rule.NO_GRANT
