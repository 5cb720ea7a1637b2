"""The one place that decides who may do what (ACS-01..05, ROL). Pure functions, no I/O.

Every read and write of the archive is decided here from four things: the caller's **role**, their
**departments**, the dossier's **state**, and a regulator's **grants**. Services call
:func:`decide` for one object and :func:`scope_for` for a search or a listing; nothing else in the
code base grants or refuses access.

The matrix (``D`` = the caller's departments, ``G`` = what an active grant covers, ``*`` = any
dossier, ``#`` = an act on the archive as a whole)::

    action            admin archivist handler manager regulator auditor
    view_dossier        -       *        D       D        G        *     metadata, timeline, document list
    list_dossiers       -       *        D       D        G        *
    search              -       *        D       D        G        -     hits show text snippets
    view_document       -       *        D       D        G        -
    view_text           -       *        D       D        G        -
    download_document   -       *        D       D        G        -
    export              -       *        -       D        -        -     ACS-12: taking files out needs rank
    register            -       *        D       D        -        -
    file_document       -       *        D       D        -        -
    advance             -       -        D       D        -        -     handling is the departments' work
    seal, dispose       -       *        -       -        -        -     the archive department (ROL-02)
    amend_sealed        -       *        -       -        -        -     only archivists add to a sealed dossier
    dispose_review      -       #        -       -        -        -     four eyes: an archivist proposes …
    dispose_approve     -       -        -       #        -        -     … a manager, another person, approves
    hold, hold_lift     -       #        -       #        -        -     legal holds (filters reach any dossier)
    view_retention      -       #        -       #        -        #     due queue, plans, holds, dispositions
    retention_plan      -       #        -       -        -        -     re-plan under the schedule in effect
    inventory           -       #        -       -        -        #     ARC-6 stock-taking; findings, no content
    verify_vault        #       #        -       -        -        #     checks every object; reports no content
    manage_keys         #       -        -       -        -        -     master key rotation
    reindex             #       #        -       -        -        -     rebuilds from every document's text
    import              -       #        -       -        -        -     file another archive's transfer package
    manage_users        *       -        -       -        -        -
    manage_grants       *       *        -       -        -        -     the archive gives consultation (ACS-02)
    read_audit_log      -       -        -       -       own       *     a regulator sees its own entries
    verify_audit_log    *       *        -       -        -        *
    manage_intake       *       *        -       -        -        -     see and re-queue stuck uploads
    reopen              -       *        -       D        -        -     a closed, unsealed dossier back to handling
    close_override      -       *        -       -        -        -     close with materials missing, reason recorded
    reclassify          -       *        D       D        -        -     correct a document's kind
    manage_calendar     #       #        -       -        -        -     the office's official working-day calendar
    send_reminders      #       #        -       -        -        -     the daily deadline digest (cron)
    sign_in             *       *        *       *        *        *

Why these choices:
- Administrators run the system but read no dossier content (ACS-08: confidentiality by
  default); they can still create an account with any role, which is logged like everything else.
- Auditors see dossier metadata so that log entries can be checked against what they name, but
  no content and no search (snippets are content).
- A manager's departments come from their account: none recorded means every department (a
  general manager), otherwise those departments (a department head) — 分权限查阅 (ACS-03).
- Sealed, disposed and void dossiers take no further filing or lifecycle steps, whoever asks
  (ARC-1-05); disposed ones have no content left to show. Sealing does not narrow who may read:
  a handler's search covers their department's past complaints, sealed or not, and reading must
  not be narrower than the snippets search already shows.
- The console (``dossier`` run by the operator who holds the data directory and its keys) is
  allowed everything the dossier state permits: it could read the catalogue and decrypt the vault
  directly, so pretending otherwise would only hide that trust. It is logged like any caller.
- Disabled accounts and the anonymous caller are refused everything.
- Retention is the archive department's: it re-plans, reviews disposals, runs inventories and
  imports packages. Disposal needs a second person of another role (a manager approves what an
  archivist reviewed; the service also refuses the reviewer as approver). Managers and
  archivists place legal holds — a department head must be able to stop a disposal — and
  auditors may look at the retention queues and run inventories, which report findings by
  number, never content. Administrators verify the vault, rotate keys and rebuild the
  index: they run the services, and none of these acts shows them a document (a rebuild reads
  every text into the index, which is why it is decided and logged).
- Statistics reports are listings (``list_dossiers``), limited to the caller's scope; exporting a
  report's rows is ``export``.
- The intake queue (uploads accepted but not yet filed) is looked after by the archive department,
  whose work filing is, and by administrators, who run the services whose outages strand jobs.
  A job names only its dossier, file name and size, so an administrator learns no content; a
  re-queued job is filed under its uploader's name, as it would have been.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from enum import StrEnum

from records.access.errors import GrantRequiredError
from records.access.identity import Action, Decision, DossierTarget, Grant, GrantStatus, Identity, Role, Rule
from records.access.model import AccessScope
from records.model import DossierInfo, DossierState

__all__ = ["MATRIX", "Reach", "covers", "decide", "decide_own_account", "fold_keyword", "matches", "scope_for", "target_of"]


class Reach(StrEnum):
    """How far one role's permission for one action extends."""

    EVERYTHING = "everything"      # any dossier
    DEPARTMENT = "department"      # dossiers of the caller's departments
    GRANT = "grant"                # what one of the caller's active grants covers
    OWN_ENTRIES = "own_entries"    # only the caller's own access-log entries
    GLOBAL = "global"              # an action on the archive itself, not on a dossier


A = Action
_READS = (A.VIEW_DOSSIER, A.LIST_DOSSIERS, A.SEARCH, A.VIEW_DOCUMENT, A.VIEW_TEXT, A.DOWNLOAD_DOCUMENT)
_DEPARTMENT_WORK = {
    **{a: Reach.DEPARTMENT for a in _READS},
    A.REGISTER: Reach.DEPARTMENT, A.FILE_DOCUMENT: Reach.DEPARTMENT, A.ADVANCE: Reach.DEPARTMENT,
    A.RECLASSIFY: Reach.DEPARTMENT, A.SIGN_IN: Reach.GLOBAL,
}

MATRIX: Mapping[Role, Mapping[Action, Reach]] = {
    Role.ADMIN: {A.MANAGE_USERS: Reach.GLOBAL, A.MANAGE_GRANTS: Reach.GLOBAL, A.VERIFY_AUDIT_LOG: Reach.GLOBAL,
                 A.MANAGE_INTAKE: Reach.GLOBAL, A.VERIFY_VAULT: Reach.GLOBAL, A.MANAGE_KEYS: Reach.GLOBAL,
                 A.REINDEX: Reach.GLOBAL, A.MANAGE_CALENDAR: Reach.GLOBAL, A.SEND_REMINDERS: Reach.GLOBAL,
                 A.SIGN_IN: Reach.GLOBAL},
    Role.ARCHIVIST: {**{a: Reach.EVERYTHING for a in _READS},
                     A.EXPORT: Reach.EVERYTHING, A.REGISTER: Reach.EVERYTHING, A.FILE_DOCUMENT: Reach.EVERYTHING,
                     A.SEAL: Reach.EVERYTHING, A.DISPOSE: Reach.EVERYTHING, A.AMEND: Reach.EVERYTHING,
                     A.DISPOSE_REVIEW: Reach.GLOBAL, A.PLACE_HOLD: Reach.GLOBAL, A.LIFT_HOLD: Reach.GLOBAL,
                     A.VIEW_RETENTION: Reach.GLOBAL, A.PLAN_RETENTION: Reach.GLOBAL, A.RUN_INVENTORY: Reach.GLOBAL,
                     A.VERIFY_VAULT: Reach.GLOBAL, A.IMPORT: Reach.GLOBAL, A.REINDEX: Reach.GLOBAL,
                     A.MANAGE_GRANTS: Reach.GLOBAL, A.VERIFY_AUDIT_LOG: Reach.GLOBAL, A.MANAGE_INTAKE: Reach.GLOBAL,
                     A.REOPEN: Reach.EVERYTHING, A.CLOSE_OVERRIDE: Reach.EVERYTHING, A.RECLASSIFY: Reach.EVERYTHING,
                     A.MANAGE_CALENDAR: Reach.GLOBAL, A.SEND_REMINDERS: Reach.GLOBAL, A.SIGN_IN: Reach.GLOBAL},
    Role.HANDLER: _DEPARTMENT_WORK,
    Role.MANAGER: {**_DEPARTMENT_WORK, A.EXPORT: Reach.DEPARTMENT, A.REOPEN: Reach.DEPARTMENT, A.DISPOSE_APPROVE: Reach.GLOBAL,
                   A.PLACE_HOLD: Reach.GLOBAL, A.LIFT_HOLD: Reach.GLOBAL, A.VIEW_RETENTION: Reach.GLOBAL},
    Role.REGULATOR: {**{a: Reach.GRANT for a in _READS}, A.READ_AUDIT_LOG: Reach.OWN_ENTRIES, A.SIGN_IN: Reach.GLOBAL},
    Role.AUDITOR: {A.VIEW_DOSSIER: Reach.EVERYTHING, A.LIST_DOSSIERS: Reach.EVERYTHING,
                   A.VIEW_RETENTION: Reach.GLOBAL, A.RUN_INVENTORY: Reach.GLOBAL, A.VERIFY_VAULT: Reach.GLOBAL,
                   A.READ_AUDIT_LOG: Reach.GLOBAL, A.VERIFY_AUDIT_LOG: Reach.GLOBAL, A.SIGN_IN: Reach.GLOBAL},
}

# Actions on one dossier: they need a target. LIST_DOSSIERS and SEARCH take none (scope_for limits them).
DOSSIER_ACTIONS = frozenset({A.VIEW_DOSSIER, A.REGISTER, A.FILE_DOCUMENT, A.VIEW_DOCUMENT, A.DOWNLOAD_DOCUMENT,
                             A.VIEW_TEXT, A.EXPORT, A.ADVANCE, A.SEAL, A.DISPOSE, A.AMEND, A.REOPEN,
                             A.CLOSE_OVERRIDE, A.RECLASSIFY})
# Sealed means read-only for everyone (ARC-1-05); void and disposed dossiers are finished too.
_NO_WRITES = frozenset({DossierState.SEALED, DossierState.DISPOSED, DossierState.VOID})
_WRITES = frozenset({A.FILE_DOCUMENT, A.ADVANCE, A.REOPEN, A.CLOSE_OVERRIDE, A.RECLASSIFY})
# A disposed dossier's documents are destroyed: nothing is left to view, download or export.
_CONTENT = frozenset({A.VIEW_DOCUMENT, A.VIEW_TEXT, A.DOWNLOAD_DOCUMENT, A.EXPORT})


def fold_keyword(value: str) -> str:
    """Compare names as the index does, approximately: NFKC (full/half width), case, spaces.

    The search index also folds Traditional to Simplified script; pass its ``normalize_keyword``
    as ``fold`` (the access service takes it from the composition root) for the exact same rule.
    """
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def decide(identity: Identity, action: Action, target: DossierTarget | None, *, now: datetime,
           grant_id: str | None = None, fold: Callable[[str], str] = fold_keyword) -> Decision:
    """Whether ``identity`` may perform ``action`` on ``target`` at ``now``.

    Args:
        identity: the caller, with their current grants.
        action: what they ask to do.
        target: the dossier (or document) concerned; ``None`` for actions on the archive itself
            and for listing and search (whose extent :func:`scope_for` gives).
        now: aware time of the request; grants end at their expiry, to the second (ACS-04).
        grant_id: for regulators, the grant they say they act under; ``None`` lets the policy
            pick an active grant that covers the target.
        fold: how respondent and category names are compared with a grant's filter.
    """
    if identity.console:
        blocked = _state_refusal(action, target)
        return blocked or Decision(True, "console operator (holds the data directory and keys)", rule=Rule.CONSOLE)
    if identity.role is None:
        return Decision(False, "not signed in", rule=Rule.ANONYMOUS)
    if not identity.active:
        return Decision(False, f"account {identity.name} is disabled", rule=Rule.DISABLED)
    reach = MATRIX[identity.role].get(action)
    if reach is None:
        return Decision(False, f"role {identity.role} may not {action}", rule=Rule.NOT_IN_ROLE)
    if action in DOSSIER_ACTIONS and target is None:
        return Decision(False, f"{action} needs a dossier", rule=Rule.NO_TARGET)
    blocked = _state_refusal(action, target)
    if blocked is not None:
        return blocked
    if reach is Reach.EVERYTHING or reach is Reach.GLOBAL:
        return Decision(True, f"role {identity.role}", rule=Rule.ROLE)
    if reach is Reach.OWN_ENTRIES:
        return Decision(True, "own access-log entries only", rule=Rule.OWN_ENTRIES)
    if reach is Reach.DEPARTMENT:
        return _department_decision(identity, target, fold)
    return _grant_decision(identity, target, now, grant_id, fold)


def decide_own_account(identity: Identity, account_id: str, *, now: datetime) -> Decision:
    """Whether ``identity`` may change the credentials of account ``account_id`` (its password).

    Managing accounts is the administrator's (MANAGE_USERS); besides that, every active account
    may change its own password, or a user could never replace one an administrator chose.
    Logged as MANAGE_USERS, the action it stands beside; the rule says which case allowed it.
    """
    if (not identity.console and identity.role is not None and identity.active
            and identity.user_id is not None and identity.user_id == account_id):
        return Decision(True, f"{identity.name} changes their own account", rule=Rule.OWN_ACCOUNT)
    return decide(identity, Action.MANAGE_USERS, None, now=now)


def _state_refusal(action: Action, target: DossierTarget | None) -> Decision | None:
    if target is None:
        return None
    if action in _WRITES and target.state in _NO_WRITES:
        return Decision(False, f"dossier {target.ref} is {target.state}: read-only", rule=Rule.STATE)
    if action is A.AMEND and target.state in (DossierState.DISPOSED, DossierState.VOID):
        return Decision(False, f"dossier {target.ref} is {target.state}: nothing can be added to it", rule=Rule.STATE)
    if action in _CONTENT and target.state == DossierState.DISPOSED:
        return Decision(False, f"dossier {target.ref} is disposed: its documents are destroyed", rule=Rule.STATE)
    return None


def _department_decision(identity: Identity, target: DossierTarget | None, fold: Callable[[str], str]) -> Decision:
    mine = identity.departments
    if mine is None:
        return Decision(True, "every department", rule=Rule.DEPARTMENT)
    if target is None:  # listing or search: allowed when there is anything to see
        if mine:
            return Decision(True, f"departments {', '.join(sorted(mine))}", rule=Rule.DEPARTMENT)
        return Decision(False, f"{identity.name} belongs to no department", rule=Rule.OTHER_DEPARTMENT)
    if target.department is not None and fold(target.department) in {fold(d) for d in mine}:
        return Decision(True, f"department {target.department}", rule=Rule.DEPARTMENT)
    return Decision(False, f"{target.ref} belongs to department {target.department or '(none)'}",
                    rule=Rule.OTHER_DEPARTMENT)


def matches(scope: AccessScope, target: DossierTarget, fold: Callable[[str], str] = fold_keyword) -> bool:
    """Whether ``target`` passes every dimension of ``scope`` — the one rule for saved filters.

    Grants (a regulator's filter or dossier list), legal holds on a filter, and the scope a
    listing is limited to all ask this, so "what a filter covers" is decided in one place and
    agrees with what the search index applies inside its queries.
    """
    def passes(allowed: frozenset[str] | None, value: str | None) -> bool:
        return allowed is None or (value is not None and fold(value) in {fold(a) for a in allowed})

    day = target.received_on
    return (passes(scope.departments, target.department)
            and (scope.dossier_ids is None or (target.dossier_id is not None and target.dossier_id in scope.dossier_ids))
            and passes(scope.respondents, target.respondent) and passes(scope.categories, target.category)
            and (scope.received_from is None or (day is not None and day >= scope.received_from))
            and (scope.received_until is None or (day is not None and day <= scope.received_until)))


def covers(grant: Grant, target: DossierTarget, fold: Callable[[str], str] = fold_keyword) -> bool:
    """Whether ``target`` lies inside what ``grant`` names, whatever the grant's status."""
    if grant.dossier_ids is None and (grant.filter is None or grant.filter.is_unlimited):
        return False  # a grant that names nothing covers nothing
    return matches(grant.scope(), target, fold)


def _grant_decision(identity: Identity, target: DossierTarget | None, now: datetime, grant_id: str | None,
                    fold: Callable[[str], str]) -> Decision:
    grants = [g for g in identity.grants if grant_id is None or g.grant_id == grant_id]
    if not grants and grant_id is not None:
        return Decision(False, f"{identity.name} holds no grant {grant_id}", grant_id, rule=Rule.NO_GRANT)
    covering = sorted((g for g in grants if target is None or covers(g, target, fold)),
                      key=lambda g: (g.granted_at, g.grant_id))
    for g in covering:
        if g.status(now) is GrantStatus.ACTIVE:
            return Decision(True, f"grant {g.grant_id}: {g.purpose}", g.grant_id, rule=Rule.GRANT)
    what = target.ref if target is not None else "anything"
    ended = [g for g in covering if g.status(now) in (GrantStatus.EXPIRED, GrantStatus.REVOKED)]
    if ended:
        last = max(ended, key=lambda g: g.revoked_at or g.expires_at)
        if last.status(now) is GrantStatus.REVOKED:
            return Decision(False, f"grant {last.grant_id} was revoked", last.grant_id, rule=Rule.GRANT_REVOKED)
        return Decision(False, f"grant {last.grant_id} expired at {last.expires_at.isoformat()}", last.grant_id,
                        rule=Rule.GRANT_EXPIRED)
    return Decision(False, f"no active grant covers {what}", grant_id, rule=Rule.NO_GRANT)


def scope_for(identity: Identity, action: Action, now: datetime, *, grant_id: str | None = None) -> AccessScope:
    """What ``identity`` may see when listing or searching (``action``) at ``now``.

    A regulator's scope is that of their one active grant, or of ``grant_id``; several grants
    naming dossiers merge into one set, but grants with filters cannot be merged into one
    :class:`AccessScope` (its dimensions are AND-ed), so then the caller must name the grant.

    Raises:
        GrantRequiredError: several active grants, not mergeable, and no ``grant_id``.
    """
    if identity.console:
        return AccessScope.everything()
    if identity.role is None or not identity.active:
        return AccessScope.nothing()
    reach = MATRIX[identity.role].get(action)
    if reach is Reach.EVERYTHING:
        return AccessScope.everything()
    if reach is Reach.DEPARTMENT:
        return AccessScope(departments=identity.departments)
    if reach is not Reach.GRANT:
        return AccessScope.nothing()
    active = [g for g in identity.grants
              if g.status(now) is GrantStatus.ACTIVE and (grant_id is None or g.grant_id == grant_id)]
    if not active:
        return AccessScope.nothing()
    if len(active) == 1:
        return active[0].scope()
    if all(g.dossier_ids is not None for g in active):
        return AccessScope(dossier_ids=frozenset().union(*(g.dossier_ids or () for g in active)))
    raise GrantRequiredError(identity.name, tuple(sorted(g.grant_id for g in active)))


def target_of(info: DossierInfo, tz: tzinfo, *, item_number: str | None = None) -> DossierTarget:
    """The policy's view of a dossier (``tz``: the archive's zone, for the receipt date)."""
    reg = info.registration
    return DossierTarget(
        dossier_id=info.dossier_id, state=info.state, department=reg.department, archive_number=info.archive_number,
        respondent=reg.respondent, category=reg.category, received_on=reg.received_at.astimezone(tz).date(),
        item_number=item_number,
    )
